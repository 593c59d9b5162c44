import Foundation
import MigconformBase
import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformSpec

/// Choices for one run.
package struct RunOptions: Sendable {
    package var target: String
    package var expansion: ExpansionOptions
    package var runnerVersion: String
    /// Stop after this many FAIL/TIMEOUT/ERROR cases (nil: never).
    package var maxFailures: Int?
    /// How long each device operation may take: when not set, the device's own (an adapter's, from its
    /// environment) or else the standard ones.
    package var deadlines: Deadlines {
        get { chosenDeadlines ?? .standard }
        set { chosenDeadlines = newValue }
    }
    /// The deadlines set for this run, if any.
    package private(set) var chosenDeadlines: Deadlines?
    /// Run only this share of the cases (nil: all).
    package var shard: ShardInfo?
    /// Known failures and flakes of this device: matching failures become XFAIL, matching passes XPASS.
    package var baseline: Expectations?
    /// Rerun an unexpected FAIL, WARN or ERROR up to this many times; a pass on a retry makes it FLAKE.
    package var retries: Int
    /// Refuse to run unless the device's driver has this name.
    package var expectDriver: String?
    /// Refuse to run unless the device advertises exactly these flag features (spec feature names).
    package var expectFeatures: Set<String>?
    /// Refuse to run unless the raw migration flags word is this.
    package var expectFlags: UInt64?
    /// Where a save stream too large for memory is spooled (nil: the temporary folder).
    package var spoolDirectory: String?
    /// How the run's journal is flushed (`op` or `case`), for the report; nil without a journal.
    package var journalSync: String?

    package init(
        target: String, expansion: ExpansionOptions = ExpansionOptions(), runnerVersion: String = migconformVersion,
        maxFailures: Int? = nil, deadlines: Deadlines? = nil, shard: ShardInfo? = nil,
        baseline: Expectations? = nil, retries: Int = 0, expectDriver: String? = nil,
        expectFeatures: Set<String>? = nil, expectFlags: UInt64? = nil, spoolDirectory: String? = nil
    ) {
        self.target = target
        self.expansion = expansion
        self.runnerVersion = runnerVersion
        self.maxFailures = maxFailures
        self.chosenDeadlines = deadlines
        self.shard = shard
        self.baseline = baseline
        self.retries = retries
        self.expectDriver = expectDriver
        self.expectFeatures = expectFeatures
        self.expectFlags = expectFlags
        self.spoolDirectory = spoolDirectory
    }
}

/// The runner's version, recorded in every report.
package let migconformVersion = "0.1.0"

/// A case as the plan lists it, before it runs: what a journal needs to name every case of the run.
package struct PlannedCase: Codable, Sendable, Equatable {
    package var id: String
    package var ruleID: String
    package var level: Level
    package var statement: String
    package var cite: String
    /// For a case that will not run (not applicable, filtered, hazardous): its verdict and why.
    package var notRun: Verdict?
    package var reason: String?
    /// In a sharded run: the shard that runs this case.
    package var otherShard: Int?
    package init(
        id: String, ruleID: String, level: Level, statement: String, cite: String, notRun: Verdict? = nil,
        reason: String? = nil
    ) {
        self.id = id
        self.ruleID = ruleID
        self.level = level
        self.statement = statement
        self.cite = cite
        self.notRun = notRun
        self.reason = reason
    }
}

/// Follows a run as it happens (the journal, progress output). Every method has an empty default.
package protocol RunObserver: AnyObject {
    /// Discovery and planning are done; no case has run. `info` has no end time yet.
    func runWillStart(info: RunInfo, plan: [PlannedCase], hazardsSkipped: [SkippedHazard])
    /// A case is about to run (`attempt` counts from 1; retries come with higher numbers).
    func caseWillStart(index: Int, id: String, attempt: Int)
    /// A device operation is about to be issued.
    func operationWillStart(_ operation: DeviceOperation)
    /// A device operation came back (or failed in the transport).
    func operationDidEnd(_ entry: TranscriptEntry)
    /// A large transfer, recorded as one entry when it ends, has moved `bytes` bytes so far.
    func transferDidMove(bytes: UInt64)
    /// A case has its final verdict.
    func caseDidEnd(index: Int, result: CaseResult)
    /// A case that already ended was judged again: a later case saw a violation of its rule.
    func caseWasAmended(index: Int, result: CaseResult)
    /// The end-of-run cleanup is about to touch the device.
    func cleanupWillStart()
    /// The report is complete.
    func runDidEnd(_ report: RunReport)
    /// The run's journal: its time is the cost split's `journal`, every other observer's is `observers`.
    var isJournal: Bool { get }
    /// Whether the observer is told of each operation inside a case (``operationWillStart(_:)``,
    /// ``operationDidEnd(_:)``), or only of those outside cases: a case has several an observer may not need.
    var followsCaseOperations: Bool { get }
}

extension RunObserver {
    package var isJournal: Bool { false }
    package var followsCaseOperations: Bool { true }
    package func runWillStart(info: RunInfo, plan: [PlannedCase], hazardsSkipped: [SkippedHazard]) {}
    package func caseWillStart(index: Int, id: String, attempt: Int) {}
    package func operationWillStart(_ operation: DeviceOperation) {}
    package func operationDidEnd(_ entry: TranscriptEntry) {}
    package func transferDidMove(bytes: UInt64) {}
    package func caseDidEnd(index: Int, result: CaseResult) {}
    package func caseWasAmended(index: Int, result: CaseResult) {}
    package func cleanupWillStart() {}
    package func runDidEnd(_ report: RunReport) {}
}

/// The run was stopped (a signal) while it discovered the device's features, before any case: no report, and the
/// device cleaned up as at the end of a run.
package struct StoppedBeforeCases: Error, CustomStringConvertible {
    package var reason: String
    package var cleanup: CleanupReport
    package var description: String {
        "\(reason) before any case ran; "
            + (cleanup.restored
                ? "the device was reset" : "the device was not reset: " + cleanup.problems.joined(separator: "; "))
    }
}

/// `--only`/`--exclude` left no case of the spec: nothing was run (a usage error, not a verdict).
package struct EmptySelection: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}

/// The device is not the one the user said to expect (`--expect-driver`, `--expect-flags`): nothing was run.
package struct TargetMismatch: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}

/// Execute: runs every case of a plan on a device, one at a time, and gathers the results.
///
/// Every device operation has a deadline (``DeadlineDevice``). A case whose operation does not return in time is
/// TIMEOUT; the runner then reopens the target when it can and goes on, or, when the device is wedged, records
/// every remaining case that needs it as SKIPPED and still finishes the report. At the end, also after
/// ``stop(_:)``, the device is reset and every session fd closed, and the report says whether that worked.
package final class Runner {
    package let spec: Spec
    package let device: RecordingDevice
    /// The deadlines in front of the device.
    package let deadlineDevice: DeadlineDevice
    package var options: RunOptions
    /// Called before a case runs and after it finished (progress on stderr, the journal).
    package var onCaseStart: ((TestCase, Int, Int) -> Void)?
    package var onCaseEnd: ((CaseResult, Int, Int) -> Void)?
    /// For kernel targets: problems the host kernel logged since the run began (taint, WARNING, BUG).
    package var hostHealth: (() -> [String])?
    /// Follow the run (the journal).
    package var observers: [RunObserver] = [] {
        didSet { followOperations() }
    }
    let streamCache = StreamCache()
    /// The other devices of the run, for the report.
    package let peers: [PeerInfo]
    /// Where the device is between cases: the tour chains cases from there.
    let position = DevicePosition()
    private let stopLock = NSLock()
    private var stopRequest: String?
    /// The end-of-run cleanup is under way: a stop no longer gives up device calls (it would cancel the reset it
    /// promises).
    private var cleaning = false

    /// - Parameter reopen: opens a fresh device like this one, to replace one that hung (simulated targets);
    ///   nil when the target cannot be reopened (a kernel device).
    /// - Parameter peer: a second device of the same kind (`--peer`), with the target it was opened from.
    /// - Parameter foreign: a device of another type or configuration (`--foreign-peer`).
    /// - Parameter openedByRun: the roles (`peer`, `foreign`) of the devices the run opened itself rather than
    ///   being given them (the report says so).
    /// Without a peer or a foreign device, the cases of rules that need one are SKIPPED (``NotRunReason/noPeer``).
    package init(
        spec: Spec, device: MigrationDevice, options: RunOptions,
        reopen: (() throws -> MigrationDevice)? = nil,
        peer: (target: String, device: MigrationDevice)? = nil,
        foreign: (target: String, device: MigrationDevice)? = nil,
        openedByRun: Set<String> = []
    ) {
        self.spec = spec
        func info(_ role: String, _ other: (target: String, device: MigrationDevice)?) -> PeerInfo? {
            other.map {
                PeerInfo(
                    role: role, target: $0.target, device: $0.device.identity,
                    openedByRun: openedByRun.contains(role) ? true : nil)
            }
        }
        self.peers = [info("peer", peer), info("foreign", foreign)].compactMap { $0 }
        var first = device
        var reopenPaired = reopen
        if peer != nil || foreign != nil {
            first = PeeredDevice(device, peer: peer?.device, foreign: foreign?.device)
            reopenPaired = reopen.map { open in
                { PeeredDevice(try open(), peer: peer?.device, foreign: foreign?.device) }
            }
        }
        var options = options
        options.deadlines = options.chosenDeadlines ?? first.ownDeadlines ?? .standard
        self.deadlineDevice = DeadlineDevice(first, deadlines: options.deadlines, reopen: reopenPaired)
        self.device = RecordingDevice(deadlineDevice)
        self.options = options
    }

    /// Hands each device operation to the observers, when there are any (without, the recorder calls nothing).
    private func followOperations() {
        guard !observers.isEmpty else {
            device.willPerform = nil
            device.didPerform = nil
            device.didMove = nil
            return
        }
        caseFollowers = observers.indices.filter { observers[$0].followsCaseOperations }
        device.willPerform = { [unowned self] op in self.notifyOperation { $0.operationWillStart(op) } }
        device.didPerform = { [unowned self] e in self.notifyOperation { $0.operationDidEnd(e) } }
        device.didMove = { [unowned self] n in self.notify { $0.transferDidMove(bytes: n) } }
    }

    /// Nanoseconds each observer took, in the order of ``observers``.
    private var observerTimes: [UInt64] = []
    /// How long planning the tour took (in ``runCases(_:)``), counted with the planning.
    private var tourNanos: UInt64 = 0
    /// Nanoseconds the journal took, and the other observers.
    var observerNanos: (journal: UInt64, others: UInt64) {
        var sums: (journal: UInt64, others: UInt64) = (0, 0)
        for (o, t) in zip(observers, observerTimes) {
            if o.isJournal { sums.journal += t } else { sums.others += t }
        }
        return sums
    }

    /// The observers (indices in ``observers``) told of the operations inside a case.
    private var caseFollowers: [Int] = []
    /// Between a case's start and its end (or the cleanup): operations go to ``caseFollowers`` only.
    private var inCase = false

    /// Tells the observers of an operation: inside a case only those that follow a case's operations.
    private func notifyOperation(_ tell: (RunObserver) -> Void) {
        if inCase {
            if !caseFollowers.isEmpty { notify(caseFollowers, tell) }
        } else {
            notify(observers.indices, tell)
        }
    }

    /// Tells every observer, timing each (named only when the run's cost is summed up, not on every call).
    func notify(_ tell: (RunObserver) -> Void) { notify(observers.indices, tell) }

    /// Tells the observers at `indices`, timing each.
    private func notify(_ indices: some Sequence<Int>, _ tell: (RunObserver) -> Void) {
        if observerTimes.count != observers.count { observerTimes = Array(repeating: 0, count: observers.count) }
        // One clock read between observers: the end of one is the start of the next.
        var t0 = MonotonicClock.nanoseconds()
        for i in indices {
            tell(observers[i])
            let t1 = MonotonicClock.nanoseconds()
            observerTimes[i] += t1 - t0
            t0 = t1
        }
    }

    /// Where the run's time went (see ``RunCost``).
    func cost(wallNanos: UInt64, planningNanos: UInt64) -> RunCost {
        var kinds: [String: RunCost.Kind] = [:]
        var device: UInt64 = 0
        for (k, t) in self.device.totals {
            kinds[k.rawValue] = RunCost.Kind(count: t.count, micros: t.nanos / 1000, bytes: t.bytes > 0 ? t.bytes : nil)
            device += t.nanos
        }
        device /= 1000
        let (journalNanos, otherNanos) = observerNanos
        let journal = journalNanos / 1000
        let others = otherNanos / 1000
        return RunCost(
            // A device that answers promptly is called unwatched: its operations' time is all inside the calls.
            wall: wallNanos / 1000, device: device,
            deviceCalls: deadlineDevice.callNanos == 0 ? device : deadlineDevice.callNanos / 1000,
            journal: journal, observers: others, planning: planningNanos / 1000,
            waits: self.device.pausedNanos / 1000,
            operations: self.device.operationCount, byKind: kinds)
    }

    /// The device under test itself, below the deadlines.
    package var target: MigrationDevice { deadlineDevice.device.underlying }

    /// Asks the run to end (thread-safe; from a signal handler's queue): no further case starts, an operation in
    /// flight is given up, the device is cleaned up and the report is complete and marked interrupted.
    package func stop(_ reason: String) {
        let cleaningNow = stopLock.withLock {
            if stopRequest == nil { stopRequest = reason }
            return cleaning
        }
        if !cleaningNow { deadlineDevice.interrupt(reason) }
    }

    var stopReason: String? { stopLock.withLock { stopRequest } }

    /// Discovers the device's features, expands, plans, runs every case and returns the report.
    package func run() throws -> RunReport {
        let prepared: Prepared
        do { prepared = try prepare() } catch let i as OperationInterrupted {
            // Stopped while the device's features were discovered: nothing ran; the device is reset all the same.
            let cleanup = cleanUp()
            throw StoppedBeforeCases(reason: i.reason, cleanup: cleanup)
        }
        let ran = runCases(prepared)
        return finish(prepared, ran)
    }

    /// What ``prepare()`` settled before the first case: the plan and the run's facts so far.
    private struct Prepared {
        var options: RunOptions
        var machine: Machine
        var plan: Plan
        /// The shard that runs each case (nil: the case is not runnable).
        var owner: [Int?]
        var info: RunInfo
        var hazards: [SkippedHazard]
        /// When the run began (uptime nanoseconds), and how long the preparation took.
        var t0: UInt64
        var planningNanos: UInt64
        /// The process's usage when the run began.
        var usage: ProcessUsage
    }

    /// What the loop over the cases leaves for ``finish(_:_:)``.
    private struct Ran {
        var results: [CaseResult]
        var tour: TourPlanner.Result
        var stopped: String?
        var wedged: String?
    }

    /// Discovery, the device checks of the options, expansion and planning; tells the observers the run starts.
    private func prepare() throws -> Prepared {
        let started = Date()
        let t0 = MonotonicClock.nanoseconds()
        let usage = ProcessUsage.now()
        let deviceNanosBefore = device.operationNanos
        observerTimes = []
        var options = self.options
        deadlineDevice.deadlines = options.deadlines
        streamCache.spoolDirectory = options.spoolDirectory
        options.expansion.targetKind = target.identity.targetKind
        options.expansion.kernelRelease = target.identity.kernelRelease
        let environment = Set(peers.map { $0.role == "peer" ? "peer" : "foreign-peer" })
        let profile = try Discovery.discover(spec, device: device, environment: environment)
        device.takeTranscript()
        try checkExpectations(profile)
        let machine = Machine(spec: spec, features: profile.features)
        streamCache.migrationFlagsRead =
            profile.migrationFlags != nil || !device.device.generation.dialect.advertisesFeatures
        let plan = Planner.plan(Expander.expand(machine, options: options.expansion), machine: machine)
        let filters = try selection(plan.cases, options.expansion)
        let owner = Sharding.owners(plan.cases.map { $0.disposition == .run }, shard: options.shard)
        var info = RunInfo(
            runnerVersion: options.runnerVersion, specID: spec.id, specVersion: spec.version,
            specPath: spec.path, specSHA256: spec.sha256, target: options.target,
            device: target.identity, features: profile.features.sorted(),
            migrationFlags: profile.migrationFlags, started: Self.iso(started), ended: "",
            interrupted: false, allowedHazards: options.expansion.allowedHazards.sorted(),
            variants: options.expansion.variants.sorted())
        info.shard = options.shard
        info.peers = peers.isEmpty ? nil : peers
        info.filters = filters
        info.retries = options.retries > 0 ? options.retries : nil
        info.deadlines = options.deadlines.byKindName
        info.journalSync = options.journalSync
        let planned = plan.cases.enumerated().map { (k, c) -> PlannedCase in
            var p = PlannedCase(
                id: c.id, ruleID: c.rule.id, level: c.rule.level, statement: c.rule.statement,
                cite: c.rule.citeLine)
            switch c.disposition {
            case .run: break
            case .notApplicable(let why):
                p.notRun = .notApplicable
                p.reason = why
            case .skipped(let why):
                p.notRun = .skipped
                p.reason = why
            }
            if let other = owner[k], other != options.shard?.index {
                p.notRun = .skipped
                p.reason = "run by shard \(other)/\(options.shard!.count)"
                p.otherShard = other
            }
            return p
        }
        var hazards: [SkippedHazard] = []
        for testCase in plan.cases {
            if case .skipped(let why) = testCase.disposition, let h = testCase.rule.hazard, why.hasPrefix("hazard") {
                hazards.append(SkippedHazard(caseID: testCase.id, hazardID: h.id, effect: h.effect))
            }
        }
        // Discovery's operations and what the observers made of them are counted as the device's and the
        // observers' time, not again as planning.
        let spentElsewhere = device.operationNanos - deviceNanosBefore + observerTimes.reduce(0, +)
        let elapsed = MonotonicClock.nanoseconds() - t0
        let planningNanos = elapsed > spentElsewhere ? elapsed - spentElsewhere : 0
        notify { $0.runWillStart(info: info, plan: planned, hazardsSkipped: hazards) }
        return Prepared(
            options: options, machine: machine, plan: plan, owner: owner, info: info, hazards: hazards,
            t0: t0, planningNanos: planningNanos, usage: usage)
    }

    /// Runs this shard's cases in tour order, judging what each saw, until the end, a stop or a wedged device.
    private func runCases(_ prepared: Prepared) -> Ran {
        let options = prepared.options
        let plan = prepared.plan
        let owner = prepared.owner
        let machine = prepared.machine
        // The tour: this shard's runnable cases, chained on the state machine (resets only where cases need them).
        var owned = plan.cases
        for i in owned.indices where owner[i].map({ $0 != options.shard?.index }) ?? false {
            owned[i].disposition = .skipped("run by another shard")
        }
        let tourStart = MonotonicClock.nanoseconds()
        let tour = TourPlanner.plan(owned, machine: machine)
        tourNanos = MonotonicClock.nanoseconds() - tourStart
        var order = tour.steps.compactMap { step -> Int? in
            if case .run(let i) = step { return i }
            return nil
        }
        order += plan.cases.indices.filter { !order.contains($0) }
        // Host health is judged over the whole run: last.
        let health = order.filter { plan.cases[$0].rule.check.judgedAtEndOfRun }
        order = order.filter { !health.contains($0) } + health
        var byIndex: [Int: CaseResult] = [:]
        var judge = FindingJudge(cases: plan.cases)
        var failures = 0
        var stopped: String?
        var wedged: String?
        let total = plan.cases.count
        for index in order {
            let testCase = plan.cases[index]
            onCaseStart?(testCase, index, total)
            if stopped == nil, let why = stopReason { stopped = why }
            var result: CaseResult
            var executed: Executed?
            if let other = owner[index], other != options.shard?.index {
                result = Self.result(testCase, .skipped, "run by shard \(other)/\(options.shard!.count)")
                result.otherShard = other
            } else if let reason = stopped, testCase.disposition == .run {
                result = Self.result(testCase, .skipped, "not run: \(reason)")
            } else if let w = wedged, testCase.disposition == .run, !testCase.rule.check.judgedAtEndOfRun {
                result = Self.result(testCase, .skipped, "not run: the device is wedged (\(w))")
            } else {
                executed = attemptJudged(testCase, index: index, machine: machine, attempt: 1)
                result = executed!.result
                if let b = options.baseline { result = b.judge(result) }
                result = retry(result, testCase, index: index, machine: machine)
            }
            // What the oracle saw goes to the rules it breaks: earlier cases are amended, later ones wait for it.
            // A judgement that replaced a result is held against the baseline like the device's own verdict.
            let rejudge = { (r: CaseResult) -> CaseResult in
                guard let b = self.options.baseline, r.rawVerdict == nil, r.seenIn != nil else { return r }
                return b.judge(r)
            }
            let settled = judge.settle(index: index, own: result, executed: executed)
            result = rejudge(settled.result)
            for (amended, judged) in settled.earlier {
                byIndex[amended] = rejudge(FindingJudge.combine(byIndex[amended]!, judged))
                notify { $0.caseWasAmended(index: amended, result: byIndex[amended]!) }
            }
            if [.fail, .timeout, .error].contains(result.verdict) { failures += 1 }
            if deadlineDevice.needsRecovery {
                if case .wedged(let why) = deadlineDevice.recover(), wedged == nil {
                    wedged = why
                }
            }
            if let max = options.maxFailures, failures >= max, stopped == nil {
                stopped = "--max-failures \(max) reached"
            }
            byIndex[index] = result
            onCaseEnd?(result, index, total)
            inCase = false
            notify { $0.caseDidEnd(index: index, result: result) }
        }
        let results = plan.cases.indices.map { byIndex[$0]! }
        if stopped == nil, let why = stopReason { stopped = why }
        return Ran(results: results, tour: tour, stopped: stopped, wedged: wedged)
    }

    /// Cleans the device up, completes the run's facts and its cost, and hands the report to the observers.
    private func finish(_ prepared: Prepared, _ ran: Ran) -> RunReport {
        var info = prepared.info
        let options = prepared.options
        let results = ran.results
        let stopped = ran.stopped
        let wedged = ran.wedged
        let tour = ran.tour
        inCase = false
        stopLock.withLock { cleaning = true }
        notify { $0.cleanupWillStart() }
        info.cleanup = cleanUp()
        device.takeTranscript()
        info.ended = Self.iso(Date())
        info.interrupted = stopped != nil || wedged != nil
        info.stopReason = stopped ?? wedged.map { "the device is wedged: \($0)" }
        info.timeouts = deadlineDevice.timeouts.isEmpty ? nil : deadlineDevice.timeouts
        info.reopened = deadlineDevice.reopenCount > 0 ? deadlineDevice.reopenCount : nil
        if let b = options.baseline {
            info.baseline = BaselineInfo(
                path: b.path, sha256: b.sha256, entries: b.entries.count,
                unused: b.unused(by: results.map(\.id)))
        }
        let cost = PlanCost(
            resets: tour.cost.resets, operations: device.operationCount, lowerBoundResets: tour.lowerBound.resets,
            lowerBoundOperations: tour.lowerBound.resets + tour.lowerBound.sets, plannedRequests: tour.cost.sets,
            lowerBoundRequests: tour.lowerBound.sets)
        info.cost = self.cost(
            wallNanos: MonotonicClock.nanoseconds() - prepared.t0,
            planningNanos: prepared.planningNanos + tourNanos)
        info.cost?.usage = ProcessUsage.now().since(prepared.usage)
        let report = RunReport(run: info, cases: results, plan: cost, hazardsSkipped: prepared.hazards)
        for o in observers { o.runDidEnd(report) }
        return report
    }

    /// One attempt at a case, with the deadline bookkeeping: a timeout the check swallowed still makes TIMEOUT.
    func attempt(_ testCase: TestCase, index: Int, machine: Machine, attempt: Int) -> CaseResult {
        attemptJudged(testCase, index: index, machine: machine, attempt: attempt).result
    }

    func attemptJudged(_ testCase: TestCase, index: Int, machine: Machine, attempt: Int) -> Executed {
        if testCase.disposition == .run {
            notify { $0.caseWillStart(index: index, id: testCase.id, attempt: attempt) }
            inCase = true
        }
        let timeoutsBefore = deadlineDevice.timeouts.count
        deadlineDevice.caseWillRun()
        var executed = executeJudged(testCase, machine: machine)
        deadlineDevice.caseDidRun()
        if deadlineDevice.timeouts.count > timeoutsBefore && executed.result.verdict != .timeout {
            executed.result.verdict = .timeout
            executed.result.message = "timed out: \(deadlineDevice.timeouts[timeoutsBefore])"
        }
        return executed
    }

    /// Reruns an unexpected FAIL, WARN or ERROR up to `options.retries` times; a pass on a retry gives FLAKE.
    func retry(_ first: CaseResult, _ testCase: TestCase, index: Int, machine: Machine) -> CaseResult {
        guard options.retries > 0, [.fail, .warn, .error].contains(first.verdict) else { return first }
        var result = first
        // Retries that ran to a verdict, and why the others did not run.
        var made = 0
        var cut: String?
        for n in 1...options.retries {
            if let why = stopReason {
                cut = why
                break
            }
            if deadlineDevice.needsRecovery || deadlineDevice.wedged != nil {
                cut = "the device stopped answering"
                break
            }
            let again = attempt(testCase, index: index, machine: machine, attempt: n + 1)
            // A retry the stop cut short says nothing either way.
            if let why = stopReason {
                cut = why
                break
            }
            made = n
            // An ERROR said nothing of the device; what the device answers on a retry does.
            if first.verdict == .error, [.fail, .warn, .timeout].contains(again.verdict) {
                var r = again
                r.attempts = n + 1
                r.message += " (on retry \(n); the first run ended in ERROR: \(first.message))"
                // Held against the baseline like a first attempt's verdict.
                return options.baseline?.judge(r) ?? r
            }
            if again.verdict == .pass || again.verdict == .info {
                result.rawVerdict = first.verdict
                result.verdict = .flake
                result.attempts = n + 1
                result.message = "\(first.verdict.rawValue) on the first run, passed on retry \(n): \(first.message)"
                return result
            }
            if again.verdict == .timeout {
                if n < options.retries { cut = "retry \(n) timed out" }
                break
            }
        }
        result.attempts = made + 1
        result.message +=
            cut.map { " (failed again on \(made) of \(options.retries) retries; the others did not run: \($0))" }
            ?? " (failed again on every retry)"
        return result
    }

    /// The filters of a narrowed run, with the number of applicable cases they selected; nil for a whole run.
    /// Throws ``EmptySelection`` when they select no case at all.
    func selection(_ cases: [TestCase], _ e: ExpansionOptions) throws -> RunFilters? {
        guard !e.only.isEmpty || !e.exclude.isEmpty else { return nil }
        let matched = cases.filter { c in
            let hit = { (p: String) in Glob.matches(p, c.id) || Glob.matches(p, c.rule.id) }
            return (e.only.isEmpty || e.only.contains(where: hit)) && !e.exclude.contains(where: hit)
        }
        guard !matched.isEmpty else {
            throw EmptySelection(
                message: "no case of \(spec.id) matches "
                    + (e.only.map { "--only '\($0)'" } + e.exclude.map { "--exclude '\($0)'" }).joined(separator: " ")
                    + " (`migconform list --target URI` lists the case ids)")
        }
        // An exclusion that leaves nothing out is a mistyped id more often than not.
        for pattern in e.exclude
        where !cases.contains(where: { Glob.matches(pattern, $0.id) || Glob.matches(pattern, $0.rule.id) }) {
            throw EmptySelection(
                message: "--exclude '\(pattern)' matches no case of \(spec.id) "
                    + "(`migconform list --target URI` lists the case ids)")
        }
        let applicable = matched.filter {
            if case .notApplicable = $0.disposition { return false }
            return true
        }
        return RunFilters(only: e.only, exclude: e.exclude, selected: applicable.count)
    }

    func checkExpectations(_ profile: DeviceProfile) throws {
        if let want = options.expectDriver, target.identity.driver != want {
            throw TargetMismatch(
                message: "expected driver '\(want)', the target's driver is '\(target.identity.driver)'"
                    + " (\(target.identity.detail))")
        }
        if let want = options.expectFlags, profile.migrationFlags != want {
            throw TargetMismatch(
                message: "expected migration flags 0x\(String(want, radix: 16)), the device advertises "
                    + (profile.migrationFlags.map { "0x" + String($0, radix: 16) } ?? "none"))
        }
        if let want = options.expectFeatures {
            let flagFeatures = Set(spec.features.filter { $0.flag != nil }.map(\.name))
            let have = profile.features.intersection(flagFeatures)
            if have != want {
                throw TargetMismatch(
                    message: "expected features \(want.sorted().joined(separator: ",")), the device "
                        + "advertises \(have.isEmpty ? "none" : have.sorted().joined(separator: ","))")
            }
        }
    }

    /// Leaves the device as found: RUNNING, no session fd open.
    func cleanUp() -> CleanupReport {
        var problems: [String] = []
        if deadlineDevice.needsRecovery, case .wedged(let why) = deadlineDevice.recover() {
            return CleanupReport(restored: false, problems: ["not reset: the device is wedged (\(why))"])
        }
        if let why = deadlineDevice.wedged {
            return CleanupReport(restored: false, problems: ["not reset: the device is wedged (\(why))"])
        }
        var restored = false
        do {
            let r = try device.perform(.reset)
            if let e = r.errno { problems.append("reset failed with \(e)") } else { restored = true }
        } catch {
            problems.append("reset: \(error)")
        }
        var closed: [Int32] = []
        for fd in deadlineDevice.openFDs.sorted() {
            do {
                let r = try device.perform(.close(fd: fd))
                if let e = r.errno { problems.append("close fd \(fd) failed with \(e)") } else { closed.append(fd) }
            } catch {
                problems.append("close fd \(fd): \(error)")
            }
        }
        if restored, let state = try? finalState() {
            if state != "RUNNING" {
                restored = false
                problems.append("after the reset the device reports \(state)")
            }
        }
        return CleanupReport(restored: restored, closedFDs: closed, problems: problems)
    }

    /// The state the device reports, by name, when it can be read.
    func finalState() throws -> String? {
        try target.generation.dialect.finalState(device)
    }

    /// Runs one case: positions, checks, records, and maps the outcome to a verdict by the rule's level.
    package func execute(_ testCase: TestCase, machine: Machine) -> CaseResult {
        executeJudged(testCase, machine: machine).result
    }

    /// What one case produced: its own result, the rule violations the oracle saw while it ran, and, for a blocked
    /// case, the observation that blocked it.
    struct Executed {
        var result: CaseResult
        var findings: [Finding] = []
        var blockedBy: Finding.Subject?
        /// The operations from reset that lead up to the end of the case (for findings' reproducers).
        var reproducer: [TranscriptEntry] = []
    }

    func executeJudged(_ testCase: TestCase, machine: Machine) -> Executed {
        switch testCase.disposition {
        case .notApplicable(let why): return Executed(result: Self.result(testCase, .notApplicable, why))
        case .skipped(let why): return Executed(result: Self.result(testCase, .skipped, why))
        case .run: break
        }
        if testCase.rule.check.judgedAtEndOfRun { return Executed(result: judgeHostHealth(testCase)) }
        let ctx = CaseContext(
            device: device, machine: machine, testCase: testCase, cache: streamCache, position: position)
        let startedIn = position.known
        let start = MonotonicClock.nanoseconds()
        var outcome: CheckOutcome
        var transportFailure: TransportError?
        var runnerFailed = false
        var interrupted: String?
        var cause: Finding.Subject?
        var history: [TranscriptEntry]?
        // Only a violation or a finding shows a reproducer; the history is taken for those alone, since holding
        // on to it makes the recorder's next append copy every operation since the last reset.
        func needsReproducer(_ o: CheckOutcome) -> Bool {
            if case .violated = o { return true }
            return !ctx.findings.isEmpty
        }
        do {
            outcome = try CheckExecutor.run(ctx)
            if needsReproducer(outcome) { history = device.sinceTranscriptBegan }
        } catch let b as Blocked {
            outcome = .blocked(b.reason)
            // A block with a cause may be judged under the cause's rule (``FindingJudge``): it needs the evidence.
            if needsReproducer(outcome) || b.cause != nil {
                history = device.sinceTranscriptBegan
            }
            cause = b.cause
        } catch let t as TransportError {
            transportFailure = t
            outcome = .blocked(t.message)
        } catch let i as OperationInterrupted {
            outcome = .blocked(i.description)
            interrupted = i.description
            ctx.openedFDs = []
        } catch {
            // The runner's own failure (a spool file on a full disk): no more the device's than a transport's.
            transportFailure = TransportError("\(error)")
            runnerFailed = true
            outcome = .blocked("\(error)")
        }
        if transportFailure == nil { ctx.closeAll() } else { position.forget() }
        // A transport failure that a step let pass (a cleanup's close, a probe) is one all the same: what the case
        // read after it may come from a device opened afresh, so the case is not the device's verdict.
        if transportFailure == nil, interrupted == nil, device.transportFailures > ctx.transportFailuresAtStart {
            transportFailure = device.lastTransportFailure
            position.forget()
        }
        let micros = (MonotonicClock.nanoseconds() - start) / 1000
        let transcript = device.takeTranscript()
        var r = Self.result(testCase, .pass, "")
        r.durationMicros = micros
        r.transcript = transcript
        var executed = Executed(
            result: r, findings: ctx.findings, blockedBy: cause,
            reproducer: history
                ?? (needsReproducer(outcome) || cause != nil
                    ? reproducer(startedIn: startedIn, machine: machine, transcript: transcript) : []))
        if let t = transportFailure {
            executed.result.verdict = t.timedOut ? .timeout : .error
            executed.result.message =
                t.timedOut
                ? "timed out: \(t.message)"
                : runnerFailed ? "the runner failed (not the device): \(t.message)" : "transport failure: \(t.message)"
            return executed
        }
        if let why = interrupted {
            executed.result.verdict = .skipped
            executed.result.notRun = .stopped
            executed.result.message = "interrupted: \(why)"
            return executed
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
            r.reproducer = executed.reproducer
        case .blocked(let reason):
            r.verdict = .skipped
            r.notRun = .blocked
            r.message = "blocked: \(reason)"
        case .notApplicable(let reason):
            r.verdict = .notApplicable
            r.message = reason
        }
        executed.result = r
        return executed
    }

    /// The operations from reset that reproduce a case: a reset, the single-step requests to where the case started
    /// (the tour may have brought it there from elsewhere), then the case's own operations.
    func reproducer(startedIn: String?, machine: Machine, transcript: [TranscriptEntry]) -> [TranscriptEntry] {
        guard let start = startedIn, transcript.first?.operation != .reset else { return transcript }
        // What positioning from a reset issues (CaseContext.enter): the reset and a read of the state, then each
        // single-step request followed by a read (v1: a read-modify-write of device_state, then a read).
        let walk = machine.walk(from: machine.initial.name, to: start) ?? []
        let dialect = target.generation.dialect
        let read = dialect.readState
        let requests: [DeviceOperation] = walk.flatMap { arc -> [DeviceOperation] in
            guard let v = spec.state(named: arc.to)?.value else { return [] }
            return dialect.positioningRequest(v)
        }
        let positioning = ([.reset, read] + requests).map {
            TranscriptEntry(step: 0, operation: $0, outcome: nil, micros: 0)
        }
        return (positioning + transcript).enumerated().map { k, e in
            var e = e
            e.step = k
            return e
        }
    }

    func judgeHostHealth(_ testCase: TestCase) -> CaseResult {
        let reporter = target as? HostHealthReporting
        guard let probe = hostHealth ?? reporter.map({ r in { r.hostProblems() } }) else {
            return Self.result(testCase, .notApplicable, "the target gives no view of its host kernel")
        }
        let problems = probe()
        if problems.isEmpty { return Self.result(testCase, .pass, "no new taint, WARNING or BUG in the kernel log") }
        var r = Self.result(
            testCase, testCase.rule.level.isMandatory ? .fail : .warn,
            "the host kernel reported problems during the run")
        r.expected = "no new taint flags and no WARNING/BUG lines"
        r.actual = problems.joined(separator: "; ")
        return r
    }

    static func result(_ c: TestCase, _ verdict: Verdict, _ message: String) -> CaseResult {
        var r = CaseResult(
            id: c.id, ruleID: c.rule.id, level: c.rule.level, statement: c.rule.statement,
            cite: c.rule.citeLine, verdict: verdict, message: message)
        if verdict == .skipped { r.notRun = NotRunReason(skipMessage: message) }
        return r
    }

    static func iso(_ d: Date) -> String { Timestamp.iso8601(d) }
}
