// The v1 migration region. Executors: `V1Checks` in MigconformRun.

/// `reserved-bits`: reserved bits 3-31 of `device_state` are ignored and preserved.
public struct ReservedBitsCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case ignored, preserved, reservedField = "reserved-field"
    }
    public var expect: Expect

    public static let kind = CheckKind.reservedBits
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `save-protocol`: pending_bytes, data_offset and data_size of the v1 save sequence.
public struct SaveProtocolCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case pendingIdempotent = "pending-idempotent", dataOffsetNonzero = "data-offset-nonzero", drains
    }
    public var expect: Expect
    /// Reads of pending_bytes before the save is taken to never drain.
    public var maxIterations: Int

    public static let kind = CheckKind.saveProtocol
    public static var schema: [ParameterSpec] {
        [.oneOf("expect", Expect.self, required: true), .integer("max-iterations", in: Limits.maxIterations)]
    }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        maxIterations = a.int("max-iterations") ?? 1000
    }
    public var usesDataFD: Bool { true }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}
