// Feature discovery. Executors: `FeatureChecks` in MigconformRun.

/// `migration-flags`: GET of `VFIO_DEVICE_FEATURE_MIGRATION` and what its flags word holds.
package struct MigrationFlagsCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case getSucceeds = "get-succeeds"
        case includesMandatory = "includes-mandatory"
        case definedCombination = "defined-combination"
    }
    package var expect: Expect

    package static let kind = CheckKind.migrationFlags
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(expect: Expect) { self.expect = expect }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `feature`: one raw `VFIO_DEVICE_FEATURE` call.
package struct FeatureCheck: CheckParameters {
    package enum Op: String, Sendable, CaseIterable { case get, set, probe }
    package enum Expect: String, Sendable, CaseIterable { case success, failure }
    /// Where the call is made: in the initial state, in every settable state, or in the error state.
    package enum From: String, Sendable, CaseIterable {
        case initial
        case everySettableState = "every-settable-state"
        case error
    }
    /// The feature index (low 16 bits of the flags word).
    package var feature: Int
    package var ops: [Op]
    /// Payload bytes after the 8-byte header.
    package var payload: Int
    /// Bits or-ed into the flags word.
    package var extraFlags: UInt32
    package var expect: Expect
    package var from: From

    package static let kind = CheckKind.feature
    package static var schema: [ParameterSpec] {
        [
            .integer("feature", in: Limits.featureIndex, required: true),
            .list("ops", of: Op.self, required: true),
            .integer("payload", in: Limits.featurePayload),
            .integer("extra-flags", in: Limits.flagsWord),
            .oneOf("expect", Expect.self, required: true),
            .oneOf("from", From.self),
        ]
    }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        feature = try a.requiredInt("feature")
        ops = a.choices("ops") ?? []
        payload = a.int("payload") ?? 8
        extraFlags = UInt32(truncatingIfNeeded: a.int("extra-flags") ?? 0)
        expect = try a.required("expect")
        from = a.choice("from") ?? .initial
    }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}
