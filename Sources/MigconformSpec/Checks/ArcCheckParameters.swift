// Requests of states and resets. Executors: `ArcChecks` in MigconformRun.

/// `arc`: every single-step arc of the device's profile.
package struct ArcCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case state
        case dataFD = "data-fd"
        case getFD = "get-fd"
        case fdDirection = "fd-direction"
    }
    package var expect: Expect
    /// Only arcs with one of these tags (all arcs when empty).
    package var tags: [String]
    /// No arc with one of these tags.
    package var excludeTags: [String]

    package static let kind = CheckKind.arc
    package static var schema: [ParameterSpec] {
        [.oneOf("expect", Expect.self, required: true), .list("tags"), .list("exclude-tags")]
    }
    package init(expect: Expect, tags: [String] = [], excludeTags: [String] = []) {
        self.expect = expect
        self.tags = tags
        self.excludeTags = excludeTags
    }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        tags = a.strings("tags") ?? []
        excludeTags = a.strings("exclude-tags") ?? []
    }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `combination`: ordered pairs of settable states more than one arc apart.
package struct CombinationCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case state
        case dataFD = "data-fd"
    }
    package var expect: Expect

    package static let kind = CheckKind.combination
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `same-state`: a request for the state the device is in.
package struct SameStateCheck: CheckParameters {
    package static let kind = CheckKind.sameState
    package static var schema: [ParameterSpec] { [] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {}
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `rejected-value`: requests for values that must be refused.
package struct RejectedValueCheck: CheckParameters {
    package var values: [StateOrValue]
    /// Also every valid state the device's profile does not advertise.
    package var unadvertised: Bool
    /// Accepted for compatibility; no executor reads it.
    package var rawWrite: Bool

    package static let kind = CheckKind.rejectedValue
    package static var schema: [ParameterSpec] { [.values("values"), .boolean("unadvertised"), .boolean("raw-write")] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        values = a.statesOrValues("values") ?? []
        unadvertised = a.bool("unadvertised") ?? false
        rawWrite = a.bool("raw-write") ?? false
    }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `forbidden-arc`: requests the path rules forbid.
package struct ForbiddenArcCheck: CheckParameters {
    package static let kind = CheckKind.forbiddenArc
    package static var schema: [ParameterSpec] { [] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {}
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `reset`: `VFIO_DEVICE_RESET` from every settable state.
package struct ResetCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case state
        case sessionEnded = "session-ended"
    }
    package var expect: Expect

    package static let kind = CheckKind.reset
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}
