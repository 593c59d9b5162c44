import MigconformCases
import MigconformDevice
import MigconformSpec

/// Puts what the oracle saw under the rules it breaks (DESIGN.md, "Verdicts": a device answer that breaks a rule is
/// judged under that rule wherever it is seen, also while another case is being set up).
///
/// A finding resolves to the case of the breaking rule with the same binding, found by the rule's check kind and
/// expectation in the plan (so the spec, not this code, names the rule). A case that already ran is amended; a case
/// still to run keeps the judgement until it has run, and a failure of its own wins over it. A blocked case names the
/// case whose failure blocked it, and what blocked (a valid arc refused, no data fd) is judged under that case's rule
/// like any other finding: when that case is left out (`--only`, `--exclude`, a hazard not allowed), and also when it
/// ran or runs and passes, since a refusal that depends on what came before shows in one case and not in another.
struct FindingJudge {
    let cases: [TestCase]
    /// Judgements for cases that have not run yet, by plan index.
    private var pending: [Int: CaseResult] = [:]
    /// Plan indices whose cases have a result.
    private var done: Set<Int> = []

    init(cases: [TestCase]) { self.cases = cases }

    /// The case a subject breaks: its plan index, id and rule; nil when the spec has no rule for it.
    func resolve(_ subject: Finding.Subject) -> (index: Int, id: String, rule: Rule)? {
        func matches(_ c: TestCase) -> Bool {
            let check = c.rule.check
            switch (subject, check) {
            case (.arcState(let from, let to), .arc(let p)): return p.expect == .state && c.from == from && c.to == to
            case (.resetState(let from), .reset(let p)): return p.expect == .state && c.from == from
            case (.errorReset, .errorSticky(let p)): return p.expect == .resetRecovers
            case (.streamEnd, .streamEnd): return true
            case (.refusedWrite, .resumeDamaged(let p)): return p.damage == .refusedWrite
            case (.spontaneousChange, .invariant(let p)): return p.name == .noSpontaneousChange
            case (.failedResumeState, .resumeDamaged(let p)): return p.expect == .stateAfterFailure
            case (.roundTrip, .roundTrip): return true
            case (.check(let expectation, let from, let to), _):
                return expectation.matches(check) && (from == nil || c.from == from) && (to == nil || c.to == to)
            case (.resumeAccepted(let damage), .resumeDamaged(let p)):
                return p.damage == damage && p.expect == .stopFails
            default: return false
            }
        }
        guard let i = cases.firstIndex(where: matches) else { return nil }
        return (i, cases[i].id, cases[i].rule)
    }

    /// The final result of the case at `index` (its own result `own`, combined with judgements waiting for it and
    /// with what it saw of its own rule), and the judgements for cases that ran before it.
    mutating func settle(
        index: Int, own: CaseResult,
        executed: Runner.Executed?
    ) -> (result: CaseResult, earlier: [(index: Int, judged: CaseResult)]) {
        var result = own
        if let waiting = pending.removeValue(forKey: index) { result = Self.combine(result, waiting) }
        done.insert(index)
        var earlier: [(Int, CaseResult)] = []
        guard let executed else { return (result, earlier) }
        for finding in executed.findings {
            guard let (i, id, rule) = resolve(finding.subject) else { continue }
            let judged = Self.judgement(
                finding, rule: rule, id: id, observer: executed.result, own: i == index,
                reproducer: executed.reproducer)
            if i == index {
                result = Self.combine(result, judged)
            } else if done.contains(i) {
                earlier.append((i, judged))
            } else {
                pending[i] = pending[i].map { Self.combine($0, judged) } ?? judged
            }
        }
        if result.verdict == .skipped, result.notRun == .blocked, let cause = executed.blockedBy,
            let (i, id, rule) = resolve(cause), id != result.id
        {
            let reason = result.message.hasPrefix("blocked: ") ? String(result.message.dropFirst(9)) : result.message
            result.blockedBy = id
            result.message += " [blocked by \(id)]"
            // A rule that does not apply to the device (a feature it does not advertise) is not broken by it.
            if case .notApplicable = cases[i].disposition { return (result, earlier) }
            var judged = CaseResult(
                id: id, ruleID: rule.id, level: rule.level, statement: rule.statement, cite: rule.citeLine,
                verdict: rule.level.isMandatory ? .fail : rule.level.isRecommended ? .warn : .info,
                message: "\(reason) (seen while running \(result.id), which it blocked)",
                expected: rule.statement, actual: reason, durationMicros: result.durationMicros,
                transcript: result.transcript, reproducer: executed.reproducer)
            judged.seenIn = [result.id]
            if done.contains(i) {
                earlier.append((i, judged))
            } else {
                pending[i] = pending[i].map { Self.combine($0, judged) } ?? judged
            }
        }
        return (result, earlier)
    }

    /// A finding as the result of the case it breaks.
    static func judgement(
        _ f: Finding, rule: Rule, id: String, observer: CaseResult, own: Bool,
        reproducer: [TranscriptEntry]
    ) -> CaseResult {
        let level = rule.level
        var r = CaseResult(
            id: id, ruleID: rule.id, level: level, statement: rule.statement,
            cite: rule.citeLine,
            verdict: level.isMandatory ? .fail : level.isRecommended ? .warn : .info,
            message: own ? f.message : "\(f.message) (seen while running \(observer.id))",
            expected: f.expected, actual: f.actual, durationMicros: observer.durationMicros,
            transcript: observer.transcript, reproducer: reproducer)
        if !own { r.seenIn = [observer.id] }
        return r
    }

    /// Verdicts that already say the case's rule was broken (or could not be judged for the runner's sake); an
    /// XPASS is a pass, and gives way like one.
    static let breaking: Set<Verdict> = [.fail, .warn, .timeout, .error, .xfail, .flake]

    /// A case's result with one more judgement: a result that already breaks its rule keeps its own evidence and
    /// notes where else the rule was broken; any other (a pass, a skip, a block) gives way to the judgement.
    static func combine(_ existing: CaseResult, _ judged: CaseResult) -> CaseResult {
        if breaking.contains(existing.verdict) || (existing.verdict == .info && existing.expected != nil) {
            var r = existing
            for s in judged.seenIn ?? [] where !(r.seenIn ?? []).contains(s) { r.seenIn = (r.seenIn ?? []) + [s] }
            return r
        }
        var r = judged
        r.attempts = existing.attempts
        r.expectation = existing.expectation
        r.otherShard = existing.otherShard
        if existing.transcript.count > 0 && judged.seenIn == nil { r.transcript = existing.transcript }
        return r
    }
}
