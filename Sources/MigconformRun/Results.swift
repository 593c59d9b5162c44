import MigconformCases
import MigconformDevice

/// The verdict of one case (see DESIGN.md, "Verdicts").
package enum Verdict: String, Codable, Sendable, CaseIterable {
    /// The device did what the rule asks.
    case pass = "PASS"
    /// A MUST or MUST NOT rule was broken.
    case fail = "FAIL"
    /// A SHOULD or SHOULD NOT rule was broken.
    case warn = "WARN"
    /// A MAY rule: what the device chose.
    case info = "INFO"
    /// The rule needs a feature the device does not advertise.
    case notApplicable = "NOT_APPLICABLE"
    /// Filtered out, blocked by a failed precondition, or a hazard the user did not allow.
    case skipped = "SKIPPED"
    /// A device operation did not finish before its deadline.
    case timeout = "TIMEOUT"
    /// The runner or the transport failed: not the device's verdict.
    case error = "ERROR"
    /// Against a baseline: failed, as expected.
    case xfail = "XFAIL"
    /// Against a baseline: expected to fail, but passed.
    case xpass = "XPASS"
    /// Failed, then passed on a retry: the first attempt's verdict (``CaseResult/rawVerdict``) is still the
    /// device's, so a MUST case that failed once makes the run not conformant.
    case flake = "FLAKE"
}

/// The result of one case.
package struct CaseResult: Codable, Sendable {
    /// Stable case id: the rule id and the case's bindings, e.g. `V2-ARC-STATE[STOP->RUNNING_P2P]`.
    package var id: String
    package var ruleID: String
    package var level: Level
    package var statement: String
    /// The rule's citation, `source: section`.
    package var cite: String
    package var verdict: Verdict
    /// One line saying what happened.
    package var message: String
    package var expected: String?
    package var actual: String?
    package var durationMicros: UInt64
    /// Every device operation the case issued, in order.
    package var transcript: [TranscriptEntry]
    /// For failures: every operation from the last reset up to the end of the check that saw it, with the answers
    /// the device gave then (positioning steps the run did not issue itself have none).
    package var reproducer: [TranscriptEntry]?
    /// For XFAIL, XPASS and FLAKE: the verdict the device earned before the baseline or a retry changed it.
    package var rawVerdict: Verdict?
    /// The baseline's reason (or tracker link) for the expectation that matched this case.
    package var expectation: String?
    /// How many times the case ran, when it was retried.
    package var attempts: Int?
    /// Rebuilt from a journal: the run stopped while this case was running.
    package var unfinished: Bool?
    /// In a sharded run: the shard (1-based) that runs this case; set on the placeholders of other shards' cases.
    package var otherShard: Int?
    /// For a SKIPPED case: why it did not run.
    package var notRun: NotRunReason?
    /// For a blocked case: the id of the case whose failure made it impossible to set up.
    package var blockedBy: String?
    /// Violations of this case's rule seen while other cases were set up or checked: the ids of those cases.
    package var seenIn: [String]?

    package init(
        id: String, ruleID: String, level: Level, statement: String, cite: String, verdict: Verdict,
        message: String, expected: String? = nil, actual: String? = nil, durationMicros: UInt64 = 0,
        transcript: [TranscriptEntry] = [], reproducer: [TranscriptEntry]? = nil, rawVerdict: Verdict? = nil,
        expectation: String? = nil, attempts: Int? = nil, unfinished: Bool? = nil, otherShard: Int? = nil
    ) {
        self.id = id
        self.ruleID = ruleID
        self.level = level
        self.statement = statement
        self.cite = cite
        self.verdict = verdict
        self.message = message
        self.expected = expected
        self.actual = actual
        self.durationMicros = durationMicros
        self.transcript = transcript
        self.reproducer = reproducer
        self.rawVerdict = rawVerdict
        self.expectation = expectation
        self.attempts = attempts
        self.unfinished = unfinished
        self.otherShard = otherShard
        if verdict == .skipped { notRun = otherShard != nil ? .otherShard : NotRunReason(skipMessage: message) }
    }

    /// The verdict the device itself earned: the raw verdict under XFAIL/XPASS, and under FLAKE that of the first
    /// attempt (a rule broken once is broken, whatever a retry from a reset showed), or PASS when the first attempt
    /// was an ERROR (the runner's or the channel's, and the retry passed); otherwise the verdict.
    package var deviceVerdict: Verdict {
        switch verdict {
        case .flake: return rawVerdict == .error ? .pass : rawVerdict ?? verdict
        case .xfail, .xpass: return rawVerdict ?? verdict
        default: return verdict
        }
    }
}

/// Which share of a run's cases one shard ran.
package struct ShardInfo: Codable, Sendable, Equatable {
    /// 1-based shard number.
    package var index: Int
    package var count: Int
    package init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }
    package var description: String { "\(index)/\(count)" }
}

/// One shard behind a merged report.
package struct MergedShard: Codable, Sendable {
    package var shard: ShardInfo
    package var target: String
    package var device: DeviceIdentity
    package var started: String
    package var ended: String
    package var interrupted: Bool
    package init(
        shard: ShardInfo, target: String, device: DeviceIdentity, started: String, ended: String,
        interrupted: Bool
    ) {
        self.shard = shard
        self.target = target
        self.device = device
        self.started = started
        self.ended = ended
        self.interrupted = interrupted
    }
}

/// How the device was left at the end of the run.
package struct CleanupReport: Codable, Sendable, Equatable {
    /// The final reset returned the device to RUNNING.
    package var restored: Bool
    /// Session fds the runner closed at the end.
    package var closedFDs: [Int32]
    /// What went wrong (reset failed, state read back was not RUNNING, the device is wedged).
    package var problems: [String]
    package init(restored: Bool, closedFDs: [Int32] = [], problems: [String] = []) {
        self.restored = restored
        self.closedFDs = closedFDs
        self.problems = problems
    }
}

/// The expectations file a run was judged against.
package struct BaselineInfo: Codable, Sendable, Equatable {
    package var path: String
    package var sha256: String
    package var entries: Int
    /// Expectations that matched no case of the run (stale lines to remove).
    package var unused: [String]
    package init(path: String, sha256: String, entries: Int, unused: [String] = []) {
        self.path = path
        self.sha256 = sha256
        self.entries = entries
        self.unused = unused
    }
}

/// Facts about the run: what was tested, with what, and when.
package struct RunInfo: Codable, Sendable {
    package var runnerVersion: String
    package var specID: String
    package var specVersion: String
    package var specPath: String
    package var specSHA256: String
    /// The target URI as given.
    package var target: String
    package var device: DeviceIdentity
    /// Features the device advertised (spec feature names), and the raw flags word where there is one.
    package var features: [String]
    package var migrationFlags: UInt64?
    /// ISO 8601 times.
    package var started: String
    package var ended: String
    package var seed: UInt64?
    /// True when the run was stopped before every case ran (signal, --max-failures, a wedged device).
    package var interrupted: Bool
    /// Hazards the user allowed for this run.
    package var allowedHazards: [String]
    /// Spec variants the run was made under.
    package var variants: [String]
    /// Why the run stopped early (signal, failure limit, wedged device), when it did.
    package var stopReason: String?
    /// For one shard of a sharded run.
    package var shard: ShardInfo?
    /// The `--only` and `--exclude` filters, when the run had any.
    package var filters: RunFilters?
    /// For a merged report: the shards it was made from.
    package var mergedFrom: [MergedShard]?
    /// How the device was left at the end.
    package var cleanup: CleanupReport?
    /// The expectations the run was judged against.
    package var baseline: BaselineInfo?
    /// Retries allowed for unexpected failures (`--retries`).
    package var retries: Int?
    /// Operations that did not return in time, and how often a fresh device replaced one that hung.
    package var timeouts: [String]?
    package var reopened: Int?
    /// The deadlines in force, seconds by operation kind (`*`: every other kind).
    package var deadlines: [String: Double]?
    /// The report was rebuilt from the run's journal after the run itself did not finish writing it.
    package var fromJournal: Bool?
    /// What the journal recorded when (`--journal-sync`): `op`, every operation before it was issued, flushed;
    /// `case`, each case whole at its end.
    package var journalSync: String?
    /// Lines of the journal that could not be read when the report was rebuilt from it (damaged on disk, or
    /// edited), in words: a result they held may be lost, so the run is at best INCOMPLETE.
    package var journalDamaged: String?
    /// Where the run's wall time went: the device, the journal, the report, the runner itself.
    package var cost: RunCost?
    /// The other devices of the run (`--peer`, `--foreign-peer`), when it had any.
    package var peers: [PeerInfo]?
    /// Which functions of the driver's module the run entered (`--trace-module`), or why that could not be traced.
    package var reach: DriverReachInfo?

    package init(
        runnerVersion: String, specID: String, specVersion: String, specPath: String, specSHA256: String,
        target: String, device: DeviceIdentity, features: [String], migrationFlags: UInt64?,
        started: String, ended: String, seed: UInt64? = nil, interrupted: Bool = false,
        allowedHazards: [String] = [], variants: [String] = []
    ) {
        self.runnerVersion = runnerVersion
        self.specID = specID
        self.specVersion = specVersion
        self.specPath = specPath
        self.specSHA256 = specSHA256
        self.target = target
        self.device = device
        self.features = features
        self.migrationFlags = migrationFlags
        self.started = started
        self.ended = ended
        self.seed = seed
        self.interrupted = interrupted
        self.allowedHazards = allowedHazards
        self.variants = variants
    }
}

/// Where a run's time went, in microseconds. `wall` is the run from discovery to the end of the cleanup;
/// `device` the sum of the operations' durations as the transcripts show them (what the device and the call into
/// it took), of which `deviceCalls` inside the device calls themselves (the rest is the deadline watch; for a device
/// called without a watch, one that answers promptly, the same as `device`); `journal`
/// and `observers` what the run's observers took; `planning` discovery, expansion and planning (the tour too; not
/// discovery's operations, which are the device's time, nor what the observers made of them);
/// `waits` the pauses rules make between operations; `runner` the rest of `wall`. `report` is the time to write the
/// run folder's files after the run (report.json itself last, so not counted). `setup`, `tracing` and `command`
/// place the run in the command around it: what came before the run, the driver's function tracing, and the whole
/// command from its start to its report files written.
package struct RunCost: Codable, Sendable, Equatable {
    /// One kind of device operation: how many, their summed duration, and the bytes they moved.
    package struct Kind: Codable, Sendable, Equatable {
        package var count: Int
        package var micros: UInt64
        package var bytes: UInt64?
        package init(count: Int = 0, micros: UInt64 = 0, bytes: UInt64? = nil) {
            self.count = count
            self.micros = micros
            self.bytes = bytes
        }
    }
    package var wall: UInt64
    package var device: UInt64
    package var deviceCalls: UInt64
    package var journal: UInt64
    package var observers: UInt64
    package var planning: UInt64
    /// Pauses a rule asks for between operations (a driver's own work given time to show), not the runner's.
    package var waits: UInt64?
    package var runner: UInt64
    package var report: UInt64?
    /// From the command's start to the run's: the arguments, the spec, opening the targets, the run folder and
    /// its journal (the tracing's start is in `tracing`).
    package var setup: UInt64?
    /// `setup` step by step (`target`, `spec`, `host health`, ...), so that a slow start names its cause.
    package var setupSteps: [String: UInt64]?
    /// Turning the driver's function tracing on and off, and reading what it saw (`--trace-module`).
    package var tracing: UInt64?
    /// The whole command, from its start to its report files written (`report.json` aside).
    package var command: UInt64?
    /// What the process used over `wall`: CPU time in user space and in the kernel, page faults, context switches.
    package var usage: ProcessUsage?
    /// What the process used from its start to its report files written.
    package var commandUsage: ProcessUsage?
    package var operations: Int
    /// By operation kind (``DeviceOperation/kind``).
    package var byKind: [String: Kind]

    package init(
        wall: UInt64, device: UInt64, deviceCalls: UInt64, journal: UInt64, observers: UInt64,
        planning: UInt64, waits: UInt64 = 0, operations: Int, byKind: [String: Kind]
    ) {
        self.wall = wall
        self.device = device
        self.deviceCalls = deviceCalls
        self.journal = journal
        self.observers = observers
        self.planning = planning
        self.waits = waits > 0 ? waits : nil
        self.operations = operations
        self.byKind = byKind
        let spent = device + journal + observers + planning + waits
        self.runner = wall > spent ? wall - spent : 0
    }

    /// One line: `wall 2.31 s = device 0.84 s (calls 0.80 s) + journal 0.90 s + ...`.
    package var summary: String {
        // No space before the unit: a line wrapped at spaces never parts a number from it.
        func s(_ us: UInt64) -> String { String(format: "%.3fs", Double(us) / 1e6) }
        var line = "wall \(s(wall)) = device \(s(device)) (in the calls \(s(deviceCalls))) + journal \(s(journal))"
        if observers > 0 { line += " + other observers \(s(observers))" }
        line += " + planning \(s(planning))"
        if let w = waits { line += " + pauses the rules ask for \(s(w))" }
        line += " + runner \(s(runner))"
        if let r = report { line += "; report files \(s(r))" }
        line += String(format: "; wall/device %.2f", device > 0 ? Double(wall) / Double(device) : 0)
        if let u = usage { line += "; over the wall: " + u.summary }
        if let c = command {
            line += "; the command \(s(c)) = setup \(s(setup ?? 0))"
            if let t = tracing { line += " + driver tracing \(s(t))" }
            line += " + wall + report files + the rest"
            line += String(format: ", command/device %.2f", device > 0 ? Double(c) / Double(device) : 0)
            if let u = commandUsage { line += "; " + u.summary }
        }
        return line
    }

    /// The slowest kinds, one line each: `read 51 x 12.940 ms = 0.660 s, 4998 bytes`, `get-state 650 x 0.4 us = ...`.
    package var kindLines: [String] {
        byKind.sorted { $0.value.micros > $1.value.micros }.map { k, v in
            // Microseconds each under a millisecond (a fast device's operations would read 0.000 ms).
            let each = v.count > 0 ? Double(v.micros) / Double(v.count) : 0
            let eachText = each < 1000 ? String(format: "%.1f us", each) : String(format: "%.3f ms", each / 1e3)
            return "\(k) \(v.count) x \(eachText) = " + String(format: "%.3f s", Double(v.micros) / 1e6)
                + (v.bytes.map { ", \($0) bytes" } ?? "")
        }
    }
}

/// A device of the run besides the one under test: its role (`peer`: of the same kind, resumes the stream of the
/// device under test; `foreign`: of another type or configuration), the target it was opened from, and who it is.
package struct PeerInfo: Codable, Sendable, Equatable {
    package var role: String
    package var target: String
    package var device: DeviceIdentity
    /// True when the run opened it itself (a `ref:` or `fault:` target brings its own peers when the command names
    /// none); absent for a device given with `--peer` or `--foreign-peer`.
    package var openedByRun: Bool?
    package init(role: String, target: String, device: DeviceIdentity, openedByRun: Bool? = nil) {
        self.role = role
        self.target = target
        self.device = device
        self.openedByRun = openedByRun
    }
}

/// The functions of a kernel module a run entered, found with the function tracer: `functions` is how many the
/// module has, `notReached` those never entered. `problem` says why the run could not be traced (the rest is then
/// empty).
package struct DriverReachInfo: Codable, Sendable, Equatable {
    package var module: String
    package var functions: Int
    package var reached: [String]
    package var notReached: [String]
    package var problem: String?
    package init(module: String, functions: Int, reached: [String], notReached: [String], problem: String? = nil) {
        self.module = module
        self.functions = functions
        self.reached = reached
        self.notReached = notReached
        self.problem = problem
    }
    /// `reached 12 of 40 mtty functions`, or why it was not traced.
    package var summary: String {
        if let problem { return "not traced (\(problem))" }
        return "reached \(reached.count) of \(functions) \(module) functions"
    }
}

/// The verdict of a whole run: the word a report leads with (README "Verdicts", Reports/README.md).
package enum RunVerdict: String, Codable, Sendable, CaseIterable {
    /// Every MUST case that applies to the device's advertised features ran and passed.
    case conformant = "CONFORMANT"
    /// A MUST case failed or timed out (an expected failure, XFAIL, is still the device's failure).
    case notConformant = "NOT CONFORMANT"
    /// No MUST case failed, but some that apply did not run (not selected, hazardous, blocked, run by another
    /// shard, left when the run stopped early) or ended in ERROR: the runner or the channel to the device failed
    /// (a full disk, an adapter that died), which says nothing of the device either way.
    case incomplete = "INCOMPLETE"
}

/// Why a case did not run (a SKIPPED verdict), in words a program can count.
package enum NotRunReason: String, Codable, Sendable, CaseIterable {
    /// Left out by `--only` or `--exclude`.
    case notSelected = "not-selected"
    /// Its rule names a hazard the user did not allow on this target.
    case hazard
    /// An earlier failure (named in ``CaseResult/blockedBy`` when it is known) made the case impossible to set up.
    case blocked
    /// Another shard runs it.
    case otherShard = "other-shard"
    /// The run stopped before it (a signal, `--max-failures`, a wedged device), or while it ran.
    case stopped
    /// Its rule needs a device the run was not given: a peer of the same kind (`--peer`) or a foreign one
    /// (`--foreign-peer`).
    case noPeer = "no-peer"

    /// The reason behind a SKIPPED case's message, for cases whose reason was only ever written as words.
    package init(skipMessage m: String) {
        if m == "not selected" || m == "excluded" {
            self = .notSelected
        } else if m.hasPrefix("hazard") {
            self = .hazard
        } else if m.hasPrefix("run by") {
            self = .otherShard
        } else if m.hasPrefix("not run:") || m.hasPrefix("interrupted") {
            self = .stopped
        } else if m.hasPrefix(Expander.notGivenPrefix) {
            self = .noPeer
        } else {
            self = .blocked
        }
    }
}

/// Counts and the conformance verdict of a run.
package struct RunSummary: Codable, Sendable {
    /// Cases per verdict (every verdict present, zero or not).
    package var verdicts: [String: Int]
    /// Cases per level family (`must`, `should`, `may`) and verdict.
    package var byLevel: [String: [String: Int]]
    package var total: Int
    /// The run's verdict; see ``RunVerdict``.
    package var verdict: RunVerdict
    /// `verdict == .conformant`, kept for readers of earlier reports.
    package var conformant: Bool
    /// MUST cases that apply to the device and did not run, by ``NotRunReason`` (absent when none).
    package var mustNotRun: [String: Int]?
    /// MUST cases that ended in ERROR: run, but with no verdict on the device (absent when none).
    package var mustErrored: Int?

    /// - Parameter journalDamaged: the report was rebuilt from a journal with lines it could not read
    ///   (``RunInfo/journalDamaged``): a result may be missing, so no verdict better than INCOMPLETE.
    package init(cases: [CaseResult], journalDamaged: Bool = false) {
        var v: [String: Int] = [:]
        for verdict in Verdict.allCases { v[verdict.rawValue] = 0 }
        var l: [String: [String: Int]] = [:]
        var broken = false
        var notRun: [String: Int] = [:]
        var errored = 0
        var narrowed = false
        for c in cases {
            v[c.verdict.rawValue, default: 0] += 1
            let family = Self.family(c.level)
            l[family, default: [:]][c.verdict.rawValue, default: 0] += 1
            // A run narrowed by filters speaks only for the cases it selected, at any level.
            if c.notRun == .notSelected { narrowed = true }
            guard family == "must" else { continue }
            // A case the run was stopped during (rebuilt from a journal) was not judged: it did not run.
            if c.unfinished == true {
                notRun[NotRunReason.stopped.rawValue, default: 0] += 1
                continue
            }
            // A known failure (XFAIL) is still a failure of the device, and so is a failure a retry passed (FLAKE).
            if Self.breaks(c.deviceVerdict) { broken = true }
            if c.verdict == .skipped { notRun[(c.notRun ?? .blocked).rawValue, default: 0] += 1 }
            // An expected ERROR (XFAIL under a baseline) is no verdict on the device either.
            if c.deviceVerdict == .error { errored += 1 }
        }
        verdicts = v
        byLevel = l
        total = cases.count
        verdict =
            broken
            ? .notConformant
            : notRun.isEmpty && errored == 0 && !narrowed && !journalDamaged ? .conformant : .incomplete
        conformant = verdict == .conformant
        mustNotRun = notRun.isEmpty ? nil : notRun
        mustErrored = errored > 0 ? errored : nil
    }

    /// FAIL and TIMEOUT: the verdicts that break conformance at MUST level. (ERROR is the runner's or the
    /// channel's failure: it leaves the run incomplete, never not conformant.)
    package static func breaks(_ v: Verdict) -> Bool { v == .fail || v == .timeout }

    package static func family(_ level: Level) -> String { level.family }

    enum CodingKeys: String, CodingKey {
        case verdicts, byLevel, total, verdict, conformant, mustNotRun, mustErrored
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        verdicts = try c.decode([String: Int].self, forKey: .verdicts)
        byLevel = try c.decode([String: [String: Int]].self, forKey: .byLevel)
        total = try c.decode(Int.self, forKey: .total)
        conformant = try c.decode(Bool.self, forKey: .conformant)
        mustNotRun = try c.decodeIfPresent([String: Int].self, forKey: .mustNotRun)
        mustErrored = try c.decodeIfPresent(Int.self, forKey: .mustErrored)
        // Reports written before the run verdict existed knew only conformant or not.
        verdict =
            try c.decodeIfPresent(RunVerdict.self, forKey: .verdict) ?? (conformant ? .conformant : .notConformant)
    }
}

/// What narrowed a run: a run with filters reports on the cases it selected and is never conformant.
package struct RunFilters: Codable, Sendable, Equatable {
    /// `--only` patterns.
    package var only: [String]
    /// `--exclude` patterns.
    package var exclude: [String]
    /// Cases the filters selected, of those that apply to the device.
    package var selected: Int
    package init(only: [String], exclude: [String], selected: Int) {
        self.only = only
        self.exclude = exclude
        self.selected = selected
    }
}

/// The plan's cost beside its lower bound, and what the run actually issued.
package struct PlanCost: Codable, Sendable {
    /// Resets the tour plans (one to start, plus those cases make themselves).
    package var resets: Int
    /// Device operations the run actually issued, of every kind.
    package var operations: Int
    package var lowerBoundResets: Int?
    package var lowerBoundOperations: Int?
    /// Single-step state requests the tour plans, and the route-inspection bound for them.
    package var plannedRequests: Int?
    package var lowerBoundRequests: Int?
    package init(
        resets: Int, operations: Int, lowerBoundResets: Int? = nil, lowerBoundOperations: Int? = nil,
        plannedRequests: Int? = nil, lowerBoundRequests: Int? = nil
    ) {
        self.resets = resets
        self.operations = operations
        self.lowerBoundResets = lowerBoundResets
        self.lowerBoundOperations = lowerBoundOperations
        self.plannedRequests = plannedRequests
        self.lowerBoundRequests = lowerBoundRequests
    }
}

/// A case the runner did not run because it was hazardous on this target.
package struct SkippedHazard: Codable, Sendable {
    package var caseID: String
    package var hazardID: String
    package var effect: String
    package init(caseID: String, hazardID: String, effect: String) {
        self.caseID = caseID
        self.hazardID = hazardID
        self.effect = effect
    }
}

/// Everything a run produced: the source of truth every report format is rendered from (`report.json`).
package struct RunReport: Codable, Sendable {
    /// Version of the `report.json` schema (see `Reports/README.md`).
    package static let schemaVersion = 1
    package var schemaVersion: Int
    package var run: RunInfo
    package var summary: RunSummary
    package var plan: PlanCost?
    package var hazardsSkipped: [SkippedHazard]
    package var cases: [CaseResult]
    /// SHA-256 of every other file written into the run folder, by file name (filled in by the writer).
    package var files: [String: String]

    package init(
        run: RunInfo, cases: [CaseResult], plan: PlanCost? = nil, hazardsSkipped: [SkippedHazard] = [],
        files: [String: String] = [:]
    ) {
        self.schemaVersion = RunReport.schemaVersion
        self.run = run
        self.summary = RunSummary(cases: cases, journalDamaged: run.journalDamaged != nil)
        self.plan = plan
        self.hazardsSkipped = hazardsSkipped
        self.cases = cases
        self.files = files
    }
}
