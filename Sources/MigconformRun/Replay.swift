import MigconformCases
import MigconformDevice
import MigconformSpec

/// What replaying one case of a report showed.
package struct ReplayOutcome: Sendable {
    /// The case's result now.
    package var now: CaseResult
    /// The case that was run to see it: the case itself, or the one during which its violation was seen.
    package var ran: String
    /// The recorded failure (FAIL, WARN, TIMEOUT, ERROR) happened again, with the same verdict.
    package var reproduced: Bool
}

/// Runs one case of a report again on a device: the case itself from a reset, or, for a violation seen while
/// another case ran (`seenIn`), that case, whose run judges the violation under this case's rule again.
package enum Replay {
    package static let failing: Set<Verdict> = [.fail, .warn, .timeout, .error]

    package static func run(
        _ recorded: CaseResult, of report: RunReport, spec: Spec, device: MigrationDevice,
        target: String
    ) throws -> ReplayOutcome? {
        let ran = recorded.seenIn?.first ?? recorded.id
        // The case itself and the one that saw its violation; host health speaks for a whole run.
        let hostHealth = spec.rules.first { $0.id == recorded.ruleID }?.check.judgedAtEndOfRun == true
        let only = hostHealth ? [] : Array(Set([recorded.id, ran]))
        let options = RunOptions(
            target: target,
            expansion: ExpansionOptions(
                only: only, variants: Set(report.run.variants),
                allowedHazards: Set(report.run.allowedHazards)))
        let again = try Runner(spec: spec, device: device, options: options).run()
        guard let now = again.cases.first(where: { $0.id == recorded.id }) else { return nil }
        let reproduced = failing.contains(recorded.deviceVerdict) && now.deviceVerdict == recorded.deviceVerdict
        return ReplayOutcome(now: now, ran: ran, reproduced: reproduced)
    }
}
