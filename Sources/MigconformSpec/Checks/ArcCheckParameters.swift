// Requests of states and resets. Executors: `ArcChecks` in MigconformRun.

/// `arc`: every single-step arc of the device's profile.
public struct ArcCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case state, dataFD = "data-fd", getFD = "get-fd", fdDirection = "fd-direction"
    }
    public var expect: Expect
    /// Only arcs with one of these tags (all arcs when empty).
    public var tags: [String]
    /// No arc with one of these tags.
    public var excludeTags: [String]

    public static let kind = CheckKind.arc
    public static var schema: [ParameterSpec] {
        [.oneOf("expect", Expect.self, required: true), .list("tags"), .list("exclude-tags")]
    }
    public init(expect: Expect, tags: [String] = [], excludeTags: [String] = []) {
        self.expect = expect; self.tags = tags; self.excludeTags = excludeTags
    }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        tags = a.strings("tags") ?? []
        excludeTags = a.strings("exclude-tags") ?? []
    }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `combination`: ordered pairs of settable states more than one arc apart.
public struct CombinationCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable { case state, dataFD = "data-fd" }
    public var expect: Expect

    public static let kind = CheckKind.combination
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `same-state`: a request for the state the device is in.
public struct SameStateCheck: CheckParameters {
    public static let kind = CheckKind.sameState
    public static var schema: [ParameterSpec] { [] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {}
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `rejected-value`: requests for values that must be refused.
public struct RejectedValueCheck: CheckParameters {
    public var values: [StateOrValue]
    /// Also every valid state the device's profile does not advertise.
    public var unadvertised: Bool
    /// Accepted for compatibility; no executor reads it.
    public var rawWrite: Bool

    public static let kind = CheckKind.rejectedValue
    public static var schema: [ParameterSpec] { [.values("values"), .boolean("unadvertised"), .boolean("raw-write")] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        values = a.statesOrValues("values") ?? []
        unadvertised = a.bool("unadvertised") ?? false
        rawWrite = a.bool("raw-write") ?? false
    }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `forbidden-arc`: requests the path rules forbid.
public struct ForbiddenArcCheck: CheckParameters {
    public static let kind = CheckKind.forbiddenArc
    public static var schema: [ParameterSpec] { [] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {}
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `reset`: `VFIO_DEVICE_RESET` from every settable state.
public struct ResetCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable { case state, sessionEnded = "session-ended" }
    public var expect: Expect

    public static let kind = CheckKind.reset
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}
