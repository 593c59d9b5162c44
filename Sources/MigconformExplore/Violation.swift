import MigconformSpec

/// What kind of promise a device broke during exploration; each kind names the rule it breaks through the check
/// kind and parameters of that rule in the spec, so the mapping follows the spec rather than fixed ids.
package enum ViolationKind: Hashable, Sendable {
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

    /// The spec rule this violation breaks, when the spec has one: a rule of the main reading first.
    package func rule(in spec: Spec, unadvertised: Set<String>) -> Rule? {
        func find(_ matches: (Check) -> Bool) -> Rule? {
            spec.rules.first { matches($0.check) && $0.variant == nil } ?? spec.rules.first { matches($0.check) }
        }
        func arc(_ e: ArcCheck.Expect) -> Rule? { find { if case .arc(let p) = $0 { p.expect == e } else { false } } }
        func combination(_ e: CombinationCheck.Expect) -> Rule? {
            find { if case .combination(let p) = $0 { p.expect == e } else { false } }
        }
        func errorSticky(_ e: ErrorStickyCheck.Expect) -> Rule? {
            find { if case .errorSticky(let p) = $0 { p.expect == e } else { false } }
        }
        func reset(_ e: ResetCheck.Expect) -> Rule? {
            find { if case .reset(let p) = $0 { p.expect == e } else { false } }
        }
        func invariant(_ n: InvariantCheck.Name) -> Rule? {
            find { if case .invariant(let p) = $0 { p.name == n } else { false } }
        }
        func first(_ matches: (Check) -> Bool) -> Rule? { spec.rules.first { matches($0.check) } }
        func stopFails(_ d: ResumeDamagedCheck.Damage) -> Rule? {
            first { if case .resumeDamaged(let p) = $0 { p.damage == d && p.expect == .stopFails } else { false } }
        }
        switch self {
        case .arcState: return arc(.state)
        case .arcDataFD: return arc(.dataFD)
        case .getDataFD: return arc(.getFD)
        case .combinationState: return combination(.state) ?? arc(.state)
        case .combinationDataFD: return combination(.dataFD) ?? arc(.dataFD)
        case .sameState: return find { $0.kind == .sameState }
        case .rejectedValue(let label):
            if unadvertised.contains(label) {
                return first { if case .rejectedValue(let p) = $0 { p.unadvertised } else { false } }
            }
            return first {
                if case .rejectedValue(let p) = $0 { p.values.contains { $0.label == label } } else { false }
            }
        case .forbidden: return find { $0.kind == .forbiddenArc }
        case .errorSticky: return errorSticky(.requestsRefused)
        case .errorReset: return errorSticky(.resetRecovers)
        case .resetState: return reset(.state)
        case .resetEndsSession: return reset(.sessionEnded)
        case .sessionEnded: return find { $0.kind == .sessionEnded }
        case .streamEnd: return find { $0.kind == .streamEnd }
        case .roundTrip: return first { if case .roundTrip(let p) = $0 { p.via != .preCopy } else { false } }
        case .resumeIncomplete: return stopFails(.truncate)
        case .resumeCorrupt: return stopFails(.corrupt)
        case .resumeFailedState:
            return spec.rules.first {
                guard case .resumeDamaged(let p) = $0.check else { return false }
                return p.expect == .stateAfterFailure && $0.variant == nil
            }
        case .noSpontaneousChange: return invariant(.noSpontaneousChange)
        case .errorOnlyAfterFailure: return invariant(.errorOnlyAfterFailure)
        }
    }
}

/// A mismatch between the device and the model at one step of a sequence.
package struct Violation: Sendable, CustomStringConvertible {
    package var kind: ViolationKind
    /// Index of the action (from 0) in the sequence.
    package var step: Int
    package var action: Action
    package var expected: String
    package var actual: String
    package var description: String { "step \(step + 1) (\(action)): expected \(expected), got \(actual)" }
}
