import MigconformDevice
import MigconformSpec

/// What a check found.
package enum CheckOutcome: Sendable {
    /// The device did what the rule asks.
    case pass(String)
    /// The device did not: what the rule expected, what happened.
    case violated(expected: String, actual: String, message: String)
    /// A precondition failed (an arc needed to set the case up did not work): the case says nothing.
    case blocked(String)
    /// The device could not be put in the situation the rule is about.
    case notApplicable(String)
}

/// Thrown inside a check when a precondition fails; becomes ``CheckOutcome/blocked(_:)``. `cause` names the
/// observation that made the case impossible, when one did: the runner reports it under its own rule.
struct Blocked: Error {
    var reason: String
    var cause: Finding.Subject?
    init(reason: String, cause: Finding.Subject? = nil) {
        self.reason = reason
        self.cause = cause
    }
}

/// A device answer that breaks a rule, seen by the run's oracle while any case was positioned, set up, checked or
/// cleaned up. The runner judges it under the rule it breaks (the case of that rule with the same binding), not
/// under the case that happened to see it.
struct Finding {
    /// What was observed, in terms of the spec's check kinds (so that the spec, not Swift code, names the rule).
    enum Subject: Equatable {
        /// A single-step request failed, or succeeded and left the device elsewhere (`arc` rules, `state`).
        case arcState(from: String, to: String)
        /// A reset from a known state did not reach the initial state (`reset` rules, `state`).
        case resetState(from: String)
        /// A reset in the error state did not leave it (`error-sticky` rules, `reset-recovers`).
        case errorReset
        /// ENOMSG or another error where the save stream must end permanently (`stream-end` rules).
        case streamEnd
        /// A resume write was refused, and leaving the resume state still succeeded (`resume-damaged`,
        /// damage `refused-write`).
        case refusedWrite
        /// The state changed with no request (`invariant`, `no-spontaneous-change`).
        case spontaneousChange
        /// After a failed exit from the resume state the device reports a state the uAPI does not allow
        /// (`resume-damaged`, `state-after-failure`).
        case failedResumeState
        /// The device does not load its own stream (`round-trip` rules); only ever a cause of a block.
        case roundTrip
        /// The device accepted a damaged stream (`resume-damaged` with that damage, `stop-fails`); only ever a cause.
        case resumeAccepted(damage: ResumeDamagedCheck.Damage)
        /// The case of a rule of this check kind and expectation (and binding, where given) that already judges what
        /// blocked this one; only ever a cause.
        case check(Expectation, from: String? = nil, to: String? = nil)
    }

    /// A check kind and its `expect`, as a finding names them.
    enum Expectation: Equatable {
        case migrationFlags(MigrationFlagsCheck.Expect)
        case arc(ArcCheck.Expect)
        case combination(CombinationCheck.Expect)
        case precopyInfo(PrecopyInfoCheck.Expect)
        case reservedBits(ReservedBitsCheck.Expect)
        case saveProtocol(SaveProtocolCheck.Expect)
        case deviceAccess(DeviceAccessCheck.Expect)
        case precopyInfoV2(PrecopyInfoV2Check.Expect)

        func matches(_ check: Check) -> Bool {
            switch (self, check) {
            case (.migrationFlags(let e), .migrationFlags(let p)): return p.expect == e
            case (.arc(let e), .arc(let p)): return p.expect == e
            case (.combination(let e), .combination(let p)): return p.expect == e
            case (.precopyInfo(let e), .precopyInfo(let p)): return p.expect == e
            case (.reservedBits(let e), .reservedBits(let p)): return p.expect == e
            case (.saveProtocol(let e), .saveProtocol(let p)): return p.expect == e
            case (.deviceAccess(let e), .deviceAccess(let p)): return p.expect == e
            case (.precopyInfoV2(let e), .precopyInfoV2(let p)): return p.expect == e
            default: return false
            }
        }
    }
    var subject: Subject
    var expected: String
    var actual: String
    var message: String
}
