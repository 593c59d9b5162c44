// Data sessions and streams. Executors: `StreamChecks` in MigconformRun.

/// `stream-end`: the STOP_COPY stream ends permanently.
package struct StreamEndCheck: CheckParameters {
    /// Reads after the end of stream.
    package var extraReads: Int

    package static let kind = CheckKind.streamEnd
    package static var schema: [ParameterSpec] { [.integer("extra-reads", in: Limits.extraReads)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { extraReads = a.int("extra-reads") ?? 3 }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `session-kept`: arcs that keep the session.
package struct SessionKeptCheck: CheckParameters {
    package static let kind = CheckKind.sessionKept
    package static var schema: [ParameterSpec] { [] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {}
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `session-ended`: arcs (and reset) that end the session.
package struct SessionEndedCheck: CheckParameters {
    package enum After: String, Sendable, CaseIterable { case arc, reset }
    package var after: After

    package static let kind = CheckKind.sessionEnded
    package static var schema: [ParameterSpec] { [.oneOf("after", After.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { after = try a.required("after") }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `precopy-info`: `VFIO_MIG_GET_PRECOPY_INFO` semantics.
package struct PrecopyInfoCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case supported
        case initialNonzero = "initial-nonzero"
        case initialDecreases = "initial-decreases"
        case enomsgAtEnd = "enomsg-at-end"
        case refusedOutsidePrecopy = "refused-outside-precopy"
        case dirtyZeroAtStart = "dirty-zero-at-start"
        case zeroAtTemporaryEnd = "zero-at-temporary-end"
        case supportedInP2P = "supported-in-p2p"
    }
    package var expect: Expect

    package static let kind = CheckKind.precopyInfo
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `round-trip`: save, then resume the same bytes in given write sizes.
package struct RoundTripCheck: CheckParameters {
    /// The states the stream is saved in.
    package enum Via: String, Sendable, CaseIterable {
        case stopCopy = "stop-copy"
        case preCopy = "pre-copy"
    }
    /// Write sizes; nil: the sizes the device read in.
    package var segments: [Int]?
    package var via: Via

    package static let kind = CheckKind.roundTrip
    package static var schema: [ParameterSpec] {
        [.list("segments", integers: Limits.segment), .oneOf("via", Via.self)]
    }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        segments = a.ints("segments")
        via = a.choice("via") ?? .stopCopy
    }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `resume-damaged`: resume a damaged stream and check the device's answer.
package struct ResumeDamagedCheck: CheckParameters {
    package enum Damage: String, Sendable, CaseIterable {
        case truncate
        case truncateOne = "truncate-one"
        case truncateHeader = "truncate-header"
        case corrupt, header, garbage
        case overlong
        case refusedWrite = "refused-write"
    }
    package enum Expect: String, Sendable, CaseIterable {
        case stopFails = "stop-fails"
        case stateAfterFailure = "state-after-failure"
        case resetRecovers = "reset-recovers"
    }
    /// The state the failing request asks for: the resume exit state's role, or the initial state.
    package enum Exit: String, Sendable, CaseIterable {
        case resumeExit = "resume-exit"
        case initial
    }
    package var damage: Damage
    package var expect: Expect
    package var exit: Exit
    /// States (beside the resume state, the error state and the exit path) a failed exit may leave.
    package var alsoError: [StateOrValue]

    package static let kind = CheckKind.resumeDamaged
    package static var schema: [ParameterSpec] {
        [
            .oneOf("damage", Damage.self, required: true), .oneOf("expect", Expect.self, required: true),
            .oneOf("exit", Exit.self), .values("also-error"),
        ]
    }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        damage = try a.required("damage")
        expect = try a.required("expect")
        exit = a.choice("exit") ?? .resumeExit
        alsoError = a.statesOrValues("also-error") ?? []
    }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { true }
    package var judgedAtEndOfRun: Bool { false }
}
