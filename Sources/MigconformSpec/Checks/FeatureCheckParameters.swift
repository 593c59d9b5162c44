// Feature discovery. Executors: `FeatureChecks` in MigconformRun.

/// `migration-flags`: GET of `VFIO_DEVICE_FEATURE_MIGRATION` and what its flags word holds.
public struct MigrationFlagsCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case getSucceeds = "get-succeeds", includesMandatory = "includes-mandatory"
        case definedCombination = "defined-combination"
    }
    public var expect: Expect

    public static let kind = CheckKind.migrationFlags
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    public init(expect: Expect) { self.expect = expect }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `feature`: one raw `VFIO_DEVICE_FEATURE` call.
public struct FeatureCheck: CheckParameters {
    public enum Op: String, Sendable, CaseIterable { case get, set, probe }
    public enum Expect: String, Sendable, CaseIterable { case success, failure }
    /// Where the call is made: in the initial state, in every settable state, or in the error state.
    public enum From: String, Sendable, CaseIterable {
        case initial, everySettableState = "every-settable-state", error
    }
    /// The feature index (low 16 bits of the flags word).
    public var feature: Int
    public var ops: [Op]
    /// Payload bytes after the 8-byte header.
    public var payload: Int
    /// Bits or-ed into the flags word.
    public var extraFlags: UInt32
    public var expect: Expect
    public var from: From

    public static let kind = CheckKind.feature
    public static var schema: [ParameterSpec] {
        [.integer("feature", in: Limits.featureIndex, required: true),
         .list("ops", of: Op.self, required: true),
         .integer("payload", in: Limits.featurePayload),
         .integer("extra-flags", in: Limits.flagsWord),
         .oneOf("expect", Expect.self, required: true),
         .oneOf("from", From.self)]
    }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        feature = try a.requiredInt("feature")
        ops = a.choices("ops") ?? []
        payload = a.int("payload") ?? 8
        extraFlags = UInt32(truncatingIfNeeded: a.int("extra-flags") ?? 0)
        expect = try a.required("expect")
        from = a.choice("from") ?? .initial
    }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}
