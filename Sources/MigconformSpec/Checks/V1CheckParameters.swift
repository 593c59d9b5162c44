// The v1 migration region. Executors: `V1Checks` in MigconformRun.

/// `reserved-bits`: reserved bits 3-31 of `device_state` are ignored and preserved.
package struct ReservedBitsCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case ignored, preserved
        case reservedField = "reserved-field"
    }
    package var expect: Expect

    package static let kind = CheckKind.reservedBits
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `save-protocol`: pending_bytes, data_offset and data_size of the v1 save sequence.
package struct SaveProtocolCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case pendingIdempotent = "pending-idempotent"
        case dataOffsetNonzero = "data-offset-nonzero"
        case drains
    }
    package var expect: Expect
    /// Reads of pending_bytes before the save is taken to never drain.
    package var maxIterations: Int

    package static let kind = CheckKind.saveProtocol
    package static var schema: [ParameterSpec] {
        [.oneOf("expect", Expect.self, required: true), .integer("max-iterations", in: Limits.maxIterations)]
    }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        maxIterations = a.int("max-iterations") ?? 1000
    }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}
