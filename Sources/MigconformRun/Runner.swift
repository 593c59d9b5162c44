import Foundation
import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformSpec

/// Choices for one run.
public struct RunOptions: Sendable {
    public var target: String
    public var expansion: ExpansionOptions
    public var runnerVersion: String
    /// Stop after this many FAIL/TIMEOUT/ERROR cases (nil: never).
    public var maxFailures: Int?

    public init(target: String, expansion: ExpansionOptions = ExpansionOptions(), runnerVersion: String = migconformVersion,
                maxFailures: Int? = nil) {
        self.target = target; self.expansion = expansion; self.runnerVersion = runnerVersion; self.maxFailures = maxFailures
    }
}

/// The runner's version, recorded in every report.
public let migconformVersion = "0.1.0"

/// Execute: runs every case of a plan on a device, one at a time, and gathers the results.
public final class Runner {
    public let spec: Spec
    public let device: RecordingDevice
    public var options: RunOptions
    /// Called before a case runs and after it finished (progress on stderr, the journal).
    public var onCaseStart: ((TestCase, Int, Int) -> Void)?
    public var onCaseEnd: ((CaseResult, Int, Int) -> Void)?
    /// For kernel targets: problems the host kernel logged since the run began (taint, WARNING, BUG).
    public var hostHealth: (() -> [String])?
    let streamCache = StreamCache()

    public init(spec: Spec, device: MigrationDevice, options: RunOptions) {
        self.spec = spec
        self.device = RecordingDevice(device)
        self.options = options
    }

    /// Discovers the device's features, expands, plans, runs every case and returns the report.
    public func run() throws -> RunReport {
        let started = Date()
        var options = self.options
        options.expansion.targetKind = device.device.identity.targetKind
        options.expansion.kernelRelease = device.device.identity.kernelRelease
        let profile = try Discovery.discover(spec, device: device)
        device.takeTranscript()
        let machine = Machine(spec: spec, features: profile.features)
        let plan = Planner.plan(Expander.expand(machine, options: options.expansion), machine: machine)
        var results: [CaseResult] = []
        var hazards: [SkippedHazard] = []
        var failures = 0
        var stopped: String?
        let total = plan.cases.count
        for (index, testCase) in plan.cases.enumerated() {
            onCaseStart?(testCase, index, total)
            var result: CaseResult
            if let reason = stopped {
                result = Self.result(testCase, .skipped, reason)
            } else {
                result = execute(testCase, machine: machine)
            }
            if case .skipped(let why) = testCase.disposition, let h = testCase.rule.hazard, why.hasPrefix("hazard") {
                hazards.append(SkippedHazard(caseID: testCase.id, hazardID: h.id, effect: h.effect))
            }
            if [.fail, .timeout, .error].contains(result.verdict) { failures += 1 }
            if result.verdict == .timeout && stopped == nil {
                stopped = "not run: the device stopped answering (TIMEOUT in \(testCase.id))"
            }
            if let max = options.maxFailures, failures >= max, stopped == nil {
                stopped = "not run: --max-failures \(max) reached"
            }
            results.append(result)
            onCaseEnd?(result, index, total)
        }
        // Leave the device as found: RUNNING, no session open.
        _ = try? device.perform(.reset)
        device.takeTranscript()
        let info = RunInfo(runnerVersion: options.runnerVersion, specID: spec.id, specVersion: spec.version,
                           specPath: spec.path, specSHA256: spec.sha256, target: options.target,
                           device: device.device.identity, features: profile.features.sorted(),
                           migrationFlags: profile.migrationFlags, started: Self.iso(started), ended: Self.iso(Date()),
                           interrupted: stopped != nil, allowedHazards: options.expansion.allowedHazards.sorted(),
                           variants: options.expansion.variants.sorted())
        let cost = PlanCost(resets: plan.resets, operations: device.operationCount)
        return RunReport(run: info, cases: results, plan: cost, hazardsSkipped: hazards)
    }

    /// Runs one case: positions, checks, records, and maps the outcome to a verdict by the rule's level.
    public func execute(_ testCase: TestCase, machine: Machine) -> CaseResult {
        switch testCase.disposition {
        case .notApplicable(let why): return Self.result(testCase, .notApplicable, why)
        case .skipped(let why): return Self.result(testCase, .skipped, why)
        case .run: break
        }
        if testCase.rule.check.kind == .hostHealth { return judgeHostHealth(testCase) }
        let ctx = CaseContext(device: device, machine: machine, testCase: testCase, cache: streamCache)
        let start = DispatchTime.now().uptimeNanoseconds
        var outcome: CheckOutcome
        var transportFailure: TransportError?
        do {
            outcome = try CheckExecutor.run(ctx)
        } catch let b as Blocked {
            outcome = .blocked(b.reason)
        } catch let t as TransportError {
            transportFailure = t
            outcome = .blocked(t.message)
        } catch {
            transportFailure = TransportError("\(error)")
            outcome = .blocked("\(error)")
        }
        if transportFailure == nil { ctx.closeAll() }
        let micros = (DispatchTime.now().uptimeNanoseconds - start) / 1000
        let transcript = device.takeTranscript()
        var r = Self.result(testCase, .pass, "")
        r.durationMicros = micros
        r.transcript = transcript
        if let t = transportFailure {
            r.verdict = t.timedOut ? .timeout : .error
            r.message = t.timedOut ? "timed out: \(t.message)" : "transport failure: \(t.message)"
            return r
        }
        let level = testCase.rule.level
        switch outcome {
        case .pass(let message):
            r.verdict = level == .may ? .info : .pass
            r.message = message
        case .violated(let expected, let actual, let message):
            r.verdict = level.isMandatory ? .fail : level.isRecommended ? .warn : .info
            r.message = message
            r.expected = expected
            r.actual = actual
            r.reproducer = transcript.map(\.operation)
        case .blocked(let reason):
            r.verdict = .skipped
            r.message = "blocked: \(reason)"
        case .notApplicable(let reason):
            r.verdict = .notApplicable
            r.message = reason
        }
        return r
    }

    func judgeHostHealth(_ testCase: TestCase) -> CaseResult {
        guard let probe = hostHealth else {
            return Self.result(testCase, .notApplicable, "the target gives no view of its host kernel")
        }
        let problems = probe()
        if problems.isEmpty { return Self.result(testCase, .pass, "no new taint, WARNING or BUG in the kernel log") }
        var r = Self.result(testCase, testCase.rule.level.isMandatory ? .fail : .warn, "the host kernel reported problems during the run")
        r.expected = "no new taint flags and no WARNING/BUG lines"
        r.actual = problems.joined(separator: "; ")
        return r
    }

    static func result(_ c: TestCase, _ verdict: Verdict, _ message: String) -> CaseResult {
        CaseResult(id: c.id, ruleID: c.rule.id, level: c.rule.level.rawValue, statement: c.rule.statement,
                   cite: c.rule.cite.description, verdict: verdict, message: message)
    }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}
