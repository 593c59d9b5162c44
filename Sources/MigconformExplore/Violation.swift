import MigconformSpec

/// What kind of promise a device broke during exploration; each kind names the rule it breaks through the check
/// kind and parameters of that rule in the spec, so the mapping follows the spec rather than fixed ids.
public enum ViolationKind: Hashable, Sendable {
    case arcState, arcDataFD, getDataFD
    case combinationState, combinationDataFD
    case sameState
    case rejectedValue(label: String)
    case forbidden
    case errorSticky, errorReset
    case resetState, resetEndsSession, sessionEnded
    case streamEnd
    case roundTrip
    case resumeIncomplete, resumeCorrupt, resumeFailedState
    case noSpontaneousChange, errorOnlyAfterFailure

    /// The spec rule this violation breaks, when the spec has one.
    public func rule(in spec: Spec, unadvertised: Set<String>) -> Rule? {
        func find(_ kind: CheckKind, _ key: String? = nil, _ value: String? = nil) -> Rule? {
            spec.rules.first { $0.check.kind == kind && (key == nil || $0.check.string(key!) == value) && $0.variant == nil }
                ?? spec.rules.first { $0.check.kind == kind && (key == nil || $0.check.string(key!) == value) }
        }
        switch self {
        case .arcState: return find(.arc, "expect", "state")
        case .arcDataFD: return find(.arc, "expect", "data-fd")
        case .getDataFD: return find(.arc, "expect", "get-fd")
        case .combinationState: return find(.combination, "expect", "state") ?? find(.arc, "expect", "state")
        case .combinationDataFD: return find(.combination, "expect", "data-fd") ?? find(.arc, "expect", "data-fd")
        case .sameState: return find(.sameState)
        case .rejectedValue(let label):
            if unadvertised.contains(label) {
                return spec.rules.first { $0.check.kind == .rejectedValue && $0.check.params["unadvertised"]?.boolValue == true }
            }
            return spec.rules.first { r in
                r.check.kind == .rejectedValue && (r.check.params["values"]?.arrayValue ?? []).contains {
                    $0.stringValue == label || $0.uint64Value.map(String.init) == label
                }
            }
        case .forbidden: return find(.forbiddenArc)
        case .errorSticky: return find(.errorSticky, "expect", "requests-refused")
        case .errorReset: return find(.errorSticky, "expect", "reset-recovers")
        case .resetState: return find(.reset, "expect", "state")
        case .resetEndsSession: return find(.reset, "expect", "session-ended")
        case .sessionEnded: return find(.sessionEnded)
        case .streamEnd: return find(.streamEnd)
        case .roundTrip: return spec.rules.first { $0.check.kind == .roundTrip && $0.check.string("via") != "pre-copy" }
        case .resumeIncomplete:
            return spec.rules.first { $0.check.kind == .resumeDamaged && $0.check.string("damage") == "truncate" && $0.check.string("expect") == "stop-fails" }
        case .resumeCorrupt:
            return spec.rules.first { $0.check.kind == .resumeDamaged && $0.check.string("damage") == "corrupt" && $0.check.string("expect") == "stop-fails" }
        case .resumeFailedState:
            return spec.rules.first { $0.check.kind == .resumeDamaged && $0.check.string("expect") == "state-after-failure" && $0.variant == nil }
        case .noSpontaneousChange: return find(.invariant, "name", "no-spontaneous-change")
        case .errorOnlyAfterFailure: return find(.invariant, "name", "error-only-after-failure")
        }
    }
}

/// A mismatch between the device and the model at one step of a sequence.
public struct Violation: Sendable, CustomStringConvertible {
    public var kind: ViolationKind
    /// Index of the action (from 0) in the sequence.
    public var step: Int
    public var action: Action
    public var expected: String
    public var actual: String
    public var description: String { "step \(step + 1) (\(action)): expected \(expected), got \(actual)" }
}
