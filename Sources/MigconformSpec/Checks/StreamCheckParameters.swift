// Data sessions and streams. Executors: `StreamChecks` in MigconformRun.

/// `stream-end`: the STOP_COPY stream ends permanently.
public struct StreamEndCheck: CheckParameters {
    /// Reads after the end of stream.
    public var extraReads: Int

    public static let kind = CheckKind.streamEnd
    public static var schema: [ParameterSpec] { [.integer("extra-reads", in: Limits.extraReads)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { extraReads = a.int("extra-reads") ?? 3 }
    public var usesDataFD: Bool { true }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `session-kept`: arcs that keep the session.
public struct SessionKeptCheck: CheckParameters {
    public static let kind = CheckKind.sessionKept
    public static var schema: [ParameterSpec] { [] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {}
    public var usesDataFD: Bool { true }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `session-ended`: arcs (and reset) that end the session.
public struct SessionEndedCheck: CheckParameters {
    public enum After: String, Sendable, CaseIterable { case arc, reset }
    public var after: After

    public static let kind = CheckKind.sessionEnded
    public static var schema: [ParameterSpec] { [.oneOf("after", After.self, required: true)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { after = try a.required("after") }
    public var usesDataFD: Bool { true }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `precopy-info`: `VFIO_MIG_GET_PRECOPY_INFO` semantics.
public struct PrecopyInfoCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case supported, initialNonzero = "initial-nonzero", initialDecreases = "initial-decreases"
        case enomsgAtEnd = "enomsg-at-end", refusedOutsidePrecopy = "refused-outside-precopy"
        case dirtyZeroAtStart = "dirty-zero-at-start", zeroAtTemporaryEnd = "zero-at-temporary-end"
        case supportedInP2P = "supported-in-p2p"
    }
    public var expect: Expect

    public static let kind = CheckKind.precopyInfo
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    public var usesDataFD: Bool { true }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `round-trip`: save, then resume the same bytes in given write sizes.
public struct RoundTripCheck: CheckParameters {
    /// The states the stream is saved in.
    public enum Via: String, Sendable, CaseIterable { case stopCopy = "stop-copy", preCopy = "pre-copy" }
    /// Write sizes; nil: the sizes the device read in.
    public var segments: [Int]?
    public var via: Via

    public static let kind = CheckKind.roundTrip
    public static var schema: [ParameterSpec] {
        [.list("segments", integers: Limits.segment), .oneOf("via", Via.self)]
    }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        segments = a.ints("segments")
        via = a.choice("via") ?? .stopCopy
    }
    public var usesDataFD: Bool { true }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `resume-damaged`: resume a damaged stream and check the device's answer.
public struct ResumeDamagedCheck: CheckParameters {
    public enum Damage: String, Sendable, CaseIterable {
        case truncate, truncateOne = "truncate-one", truncateHeader = "truncate-header", corrupt, header, garbage
        case overlong, refusedWrite = "refused-write"
    }
    public enum Expect: String, Sendable, CaseIterable {
        case stopFails = "stop-fails", stateAfterFailure = "state-after-failure", resetRecovers = "reset-recovers"
    }
    /// The state the failing request asks for: the resume exit state's role, or the initial state.
    public enum Exit: String, Sendable, CaseIterable { case resumeExit = "resume-exit", initial }
    public var damage: Damage
    public var expect: Expect
    public var exit: Exit
    /// States (beside the resume state, the error state and the exit path) a failed exit may leave.
    public var alsoError: [StateOrValue]

    public static let kind = CheckKind.resumeDamaged
    public static var schema: [ParameterSpec] {
        [.oneOf("damage", Damage.self, required: true), .oneOf("expect", Expect.self, required: true),
         .oneOf("exit", Exit.self), .values("also-error")]
    }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        damage = try a.required("damage")
        expect = try a.required("expect")
        exit = a.choice("exit") ?? .resumeExit
        alsoError = a.statesOrValues("also-error") ?? []
    }
    public var usesDataFD: Bool { true }
    public var endsWithReset: Bool { true }
    public var judgedAtEndOfRun: Bool { false }
}
