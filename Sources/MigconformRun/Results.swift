import MigconformDevice

/// The verdict of one case (see DESIGN.md, "Verdicts").
public enum Verdict: String, Codable, Sendable, CaseIterable {
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
    /// Failed, then passed on a retry.
    case flake = "FLAKE"
}

/// The result of one case.
public struct CaseResult: Codable, Sendable {
    /// Stable case id: the rule id and the case's bindings, e.g. `V2-ARC-STATE[STOP->RUNNING_P2P]`.
    public var id: String
    public var ruleID: String
    public var level: Level
    public var statement: String
    /// The rule's citation, `source: section`.
    public var cite: String
    public var verdict: Verdict
    /// One line saying what happened.
    public var message: String
    public var expected: String?
    public var actual: String?
    public var durationMicros: UInt64
    /// Every device operation the case issued, in order.
    public var transcript: [TranscriptEntry]
    /// For failures: every operation from the last reset up to the end of the check that saw it, with the answers
    /// the device gave then (positioning steps the run did not issue itself have none).
    public var reproducer: [TranscriptEntry]?
    /// For XFAIL, XPASS and FLAKE: the verdict the device earned before the baseline or a retry changed it.
    public var rawVerdict: Verdict?
    /// The baseline's reason (or tracker link) for the expectation that matched this case.
    public var expectation: String?
    /// How many times the case ran, when it was retried.
    public var attempts: Int?
    /// Rebuilt from a journal: the run stopped while this case was running.
    public var unfinished: Bool?
    /// In a sharded run: the shard (1-based) that runs this case; set on the placeholders of other shards' cases.
    public var otherShard: Int?
    /// For a SKIPPED case: why it did not run.
    public var notRun: NotRunReason?
    /// For a blocked case: the id of the case whose failure made it impossible to set up.
    public var blockedBy: String?
    /// Violations of this case's rule seen while other cases were set up or checked: the ids of those cases.
    public var seenIn: [String]?

    public init(id: String, ruleID: String, level: Level, statement: String, cite: String, verdict: Verdict,
                message: String, expected: String? = nil, actual: String? = nil, durationMicros: UInt64 = 0,
                transcript: [TranscriptEntry] = [], reproducer: [TranscriptEntry]? = nil, rawVerdict: Verdict? = nil,
                expectation: String? = nil, attempts: Int? = nil, unfinished: Bool? = nil, otherShard: Int? = nil) {
        self.id = id; self.ruleID = ruleID; self.level = level; self.statement = statement; self.cite = cite
        self.verdict = verdict; self.message = message; self.expected = expected; self.actual = actual
        self.durationMicros = durationMicros; self.transcript = transcript; self.reproducer = reproducer
        self.rawVerdict = rawVerdict; self.expectation = expectation; self.attempts = attempts
        self.unfinished = unfinished; self.otherShard = otherShard
        if verdict == .skipped { notRun = otherShard != nil ? .otherShard : NotRunReason(skipMessage: message) }
    }

    /// The verdict the device itself earned: the raw verdict under XFAIL/XPASS, otherwise the verdict.
    public var deviceVerdict: Verdict {
        switch verdict {
        case .xfail, .xpass: return rawVerdict ?? verdict
        default: return verdict
        }
    }
}

/// Which share of a run's cases one shard ran.
public struct ShardInfo: Codable, Sendable, Equatable {
    /// 1-based shard number.
    public var index: Int
    public var count: Int
    public init(index: Int, count: Int) { self.index = index; self.count = count }
    public var description: String { "\(index)/\(count)" }
}

/// One shard behind a merged report.
public struct MergedShard: Codable, Sendable {
    public var shard: ShardInfo
    public var target: String
    public var device: DeviceIdentity
    public var started: String
    public var ended: String
    public var interrupted: Bool
    public init(shard: ShardInfo, target: String, device: DeviceIdentity, started: String, ended: String,
                interrupted: Bool) {
        self.shard = shard; self.target = target; self.device = device; self.started = started; self.ended = ended
        self.interrupted = interrupted
    }
}

/// How the device was left at the end of the run.
public struct CleanupReport: Codable, Sendable, Equatable {
    /// The final reset returned the device to RUNNING.
    public var restored: Bool
    /// Session fds the runner closed at the end.
    public var closedFDs: [Int32]
    /// What went wrong (reset failed, state read back was not RUNNING, the device is wedged).
    public var problems: [String]
    public init(restored: Bool, closedFDs: [Int32] = [], problems: [String] = []) {
        self.restored = restored; self.closedFDs = closedFDs; self.problems = problems
    }
}

/// The expectations file a run was judged against.
public struct BaselineInfo: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var entries: Int
    /// Expectations that matched no case of the run (stale lines to remove).
    public var unused: [String]
    public init(path: String, sha256: String, entries: Int, unused: [String] = []) {
        self.path = path; self.sha256 = sha256; self.entries = entries; self.unused = unused
    }
}

/// Facts about the run: what was tested, with what, and when.
public struct RunInfo: Codable, Sendable {
    public var runnerVersion: String
    public var specID: String
    public var specVersion: String
    public var specPath: String
    public var specSHA256: String
    /// The target URI as given.
    public var target: String
    public var device: DeviceIdentity
    /// Features the device advertised (spec feature names), and the raw flags word where there is one.
    public var features: [String]
    public var migrationFlags: UInt64?
    /// ISO 8601 times.
    public var started: String
    public var ended: String
    public var seed: UInt64?
    /// True when the run was stopped before every case ran (signal, --max-failures, a wedged device).
    public var interrupted: Bool
    /// Hazards the user allowed for this run.
    public var allowedHazards: [String]
    /// Spec variants the run was made under.
    public var variants: [String]
    /// Why the run stopped early (signal, failure limit, wedged device), when it did.
    public var stopReason: String?
    /// For one shard of a sharded run.
    public var shard: ShardInfo?
    /// The `--only` and `--exclude` filters, when the run had any.
    public var filters: RunFilters?
    /// For a merged report: the shards it was made from.
    public var mergedFrom: [MergedShard]?
    /// How the device was left at the end.
    public var cleanup: CleanupReport?
    /// The expectations the run was judged against.
    public var baseline: BaselineInfo?
    /// Retries allowed for unexpected failures (`--retries`).
    public var retries: Int?
    /// Operations that did not return in time, and how often a fresh device replaced one that hung.
    public var timeouts: [String]?
    public var reopened: Int?
    /// The deadlines in force, seconds by operation kind (`*`: every other kind).
    public var deadlines: [String: Double]?
    /// The report was rebuilt from the run's journal after the run itself did not finish writing it.
    public var fromJournal: Bool?
    /// Where the run's wall time went: the device, the journal, the report, the runner itself.
    public var cost: RunCost?
    /// The other devices of the run (`--peer`, `--foreign-peer`), when it had any.
    public var peers: [PeerInfo]?
    /// Which functions of the driver's module the run entered (`--trace-module`), or why that could not be traced.
    public var reach: DriverReachInfo?

    public init(runnerVersion: String, specID: String, specVersion: String, specPath: String, specSHA256: String,
                target: String, device: DeviceIdentity, features: [String], migrationFlags: UInt64?,
                started: String, ended: String, seed: UInt64? = nil, interrupted: Bool = false,
                allowedHazards: [String] = [], variants: [String] = []) {
        self.runnerVersion = runnerVersion; self.specID = specID; self.specVersion = specVersion
        self.specPath = specPath; self.specSHA256 = specSHA256; self.target = target; self.device = device
        self.features = features; self.migrationFlags = migrationFlags; self.started = started; self.ended = ended
        self.seed = seed; self.interrupted = interrupted; self.allowedHazards = allowedHazards
        self.variants = variants
    }
}

/// Where a run's time went, in microseconds. `wall` is the run from discovery to the end of the cleanup;
/// `device` the sum of the operations' durations as the transcripts show them (what the device and the call into
/// it took), of which `deviceCalls` inside the device calls themselves (the rest is the deadline watch); `journal`
/// and `observers` what the run's observers took; `planning` discovery, expansion and planning; `runner` the rest
/// of `wall`. `report` is the time to write the run folder's files after the run (report.json itself last, so
/// not counted).
public struct RunCost: Codable, Sendable, Equatable {
    /// One kind of device operation: how many, their summed duration, and the bytes they moved.
    public struct Kind: Codable, Sendable, Equatable {
        public var count: Int
        public var micros: UInt64
        public var bytes: UInt64?
        public init(count: Int = 0, micros: UInt64 = 0, bytes: UInt64? = nil) {
            self.count = count; self.micros = micros; self.bytes = bytes
        }
    }
    public var wall: UInt64
    public var device: UInt64
    public var deviceCalls: UInt64
    public var journal: UInt64
    public var observers: UInt64
    public var planning: UInt64
    public var runner: UInt64
    public var report: UInt64?
    public var operations: Int
    /// By operation kind (``DeviceOperation/kind``).
    public var byKind: [String: Kind]

    public init(wall: UInt64, device: UInt64, deviceCalls: UInt64, journal: UInt64, observers: UInt64,
                planning: UInt64, operations: Int, byKind: [String: Kind]) {
        self.wall = wall; self.device = device; self.deviceCalls = deviceCalls; self.journal = journal
        self.observers = observers; self.planning = planning; self.operations = operations; self.byKind = byKind
        let spent = device + journal + observers + planning
        self.runner = wall > spent ? wall - spent : 0
    }

    /// One line: `wall 2.31 s = device 0.84 s (calls 0.80 s) + journal 0.90 s + ...`.
    public var summary: String {
        // No space before the unit: a line wrapped at spaces never parts a number from it.
        func s(_ us: UInt64) -> String { String(format: "%.3fs", Double(us) / 1e6) }
        var line = "wall \(s(wall)) = device \(s(device)) (in the calls \(s(deviceCalls))) + journal \(s(journal))"
        if observers > 0 { line += " + other observers \(s(observers))" }
        line += " + planning \(s(planning)) + runner \(s(runner))"
        if let r = report { line += "; report files \(s(r))" }
        line += String(format: "; wall/device %.2f", device > 0 ? Double(wall) / Double(device) : 0)
        return line
    }

    /// The slowest kinds, one line each: `read 51 x 12.94 ms = 0.660 s, 4.9 KB`.
    public var kindLines: [String] {
        byKind.sorted { $0.value.micros > $1.value.micros }.map { k, v in
            String(format: "%@ %d x %.3f ms = %.3f s", k, v.count, v.count > 0 ? Double(v.micros) / Double(v.count) / 1e3 : 0,
                   Double(v.micros) / 1e6) + (v.bytes.map { ", \($0) bytes" } ?? "")
        }
    }
}

/// A device of the run besides the one under test: its role (`peer`: of the same kind, resumes the stream of the
/// device under test; `foreign`: of another type or configuration), the target it was opened from, and who it is.
public struct PeerInfo: Codable, Sendable, Equatable {
    public var role: String
    public var target: String
    public var device: DeviceIdentity
    public init(role: String, target: String, device: DeviceIdentity) {
        self.role = role; self.target = target; self.device = device
    }
}

/// The functions of a kernel module a run entered, found with the function tracer: `functions` is how many the
/// module has, `notReached` those never entered. `problem` says why the run could not be traced (the rest is then
/// empty).
public struct DriverReachInfo: Codable, Sendable, Equatable {
    public var module: String
    public var functions: Int
    public var reached: [String]
    public var notReached: [String]
    public var problem: String?
    public init(module: String, functions: Int, reached: [String], notReached: [String], problem: String? = nil) {
        self.module = module; self.functions = functions; self.reached = reached; self.notReached = notReached
        self.problem = problem
    }
    /// `reached 12 of 40 mtty functions`, or why it was not traced.
    public var summary: String {
        if let problem { return "not traced (\(problem))" }
        return "reached \(reached.count) of \(functions) \(module) functions"
    }
}

/// The verdict of a whole run: the word a report leads with (README "Verdicts", Reports/README.md).
public enum RunVerdict: String, Codable, Sendable, CaseIterable {
    /// Every MUST case that applies to the device's advertised features ran and passed.
    case conformant = "CONFORMANT"
    /// A MUST case failed, timed out or errored (an expected failure, XFAIL, is still the device's failure).
    case notConformant = "NOT CONFORMANT"
    /// No MUST case failed, but some that apply did not run: not selected, hazardous, blocked, run by another
    /// shard, or left when the run stopped early.
    case incomplete = "INCOMPLETE"
}

/// Why a case did not run (a SKIPPED verdict), in words a program can count.
public enum NotRunReason: String, Codable, Sendable, CaseIterable {
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

    /// The reason behind a SKIPPED case's message, for cases whose reason was only ever written as words.
    public init(skipMessage m: String) {
        if m == "not selected" || m == "excluded" { self = .notSelected }
        else if m.hasPrefix("hazard") { self = .hazard }
        else if m.hasPrefix("run by") { self = .otherShard }
        else if m.hasPrefix("not run:") || m.hasPrefix("interrupted") { self = .stopped }
        else { self = .blocked }
    }
}

/// Counts and the conformance verdict of a run.
public struct RunSummary: Codable, Sendable {
    /// Cases per verdict (every verdict present, zero or not).
    public var verdicts: [String: Int]
    /// Cases per level family (`must`, `should`, `may`) and verdict.
    public var byLevel: [String: [String: Int]]
    public var total: Int
    /// The run's verdict; see ``RunVerdict``.
    public var verdict: RunVerdict
    /// `verdict == .conformant`, kept for readers of earlier reports.
    public var conformant: Bool
    /// MUST cases that apply to the device and did not run, by ``NotRunReason`` (absent when none).
    public var mustNotRun: [String: Int]?

    public init(cases: [CaseResult]) {
        var v: [String: Int] = [:]
        for verdict in Verdict.allCases { v[verdict.rawValue] = 0 }
        var l: [String: [String: Int]] = [:]
        var broken = false
        var notRun: [String: Int] = [:]
        var narrowed = false
        for c in cases {
            v[c.verdict.rawValue, default: 0] += 1
            let family = Self.family(c.level)
            l[family, default: [:]][c.verdict.rawValue, default: 0] += 1
            // A run narrowed by filters speaks only for the cases it selected, at any level.
            if c.notRun == .notSelected { narrowed = true }
            guard family == "must" else { continue }
            // A case the run was stopped during (rebuilt from a journal) was not judged: it did not run.
            if c.unfinished == true { notRun[NotRunReason.stopped.rawValue, default: 0] += 1; continue }
            // A known failure (XFAIL) is still a failure of the device.
            if Self.breaks(c.deviceVerdict) { broken = true }
            if c.verdict == .skipped { notRun[(c.notRun ?? .blocked).rawValue, default: 0] += 1 }
        }
        verdicts = v
        byLevel = l
        total = cases.count
        verdict = broken ? .notConformant : notRun.isEmpty && !narrowed ? .conformant : .incomplete
        conformant = verdict == .conformant
        mustNotRun = notRun.isEmpty ? nil : notRun
    }

    /// FAIL, TIMEOUT and ERROR: the verdicts that break conformance at MUST level.
    public static func breaks(_ v: Verdict) -> Bool { v == .fail || v == .timeout || v == .error }

    public static func family(_ level: Level) -> String { level.family }

    enum CodingKeys: String, CodingKey { case verdicts, byLevel, total, verdict, conformant, mustNotRun }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        verdicts = try c.decode([String: Int].self, forKey: .verdicts)
        byLevel = try c.decode([String: [String: Int]].self, forKey: .byLevel)
        total = try c.decode(Int.self, forKey: .total)
        conformant = try c.decode(Bool.self, forKey: .conformant)
        mustNotRun = try c.decodeIfPresent([String: Int].self, forKey: .mustNotRun)
        // Reports written before the run verdict existed knew only conformant or not.
        verdict = try c.decodeIfPresent(RunVerdict.self, forKey: .verdict) ?? (conformant ? .conformant : .notConformant)
    }
}

/// What narrowed a run: a run with filters reports on the cases it selected and is never conformant.
public struct RunFilters: Codable, Sendable, Equatable {
    /// `--only` patterns.
    public var only: [String]
    /// `--exclude` patterns.
    public var exclude: [String]
    /// Cases the filters selected, of those that apply to the device.
    public var selected: Int
    public init(only: [String], exclude: [String], selected: Int) {
        self.only = only; self.exclude = exclude; self.selected = selected
    }
}

/// The plan's cost beside its lower bound, and what the run actually issued.
public struct PlanCost: Codable, Sendable {
    /// Resets the tour plans (one to start, plus those cases make themselves).
    public var resets: Int
    /// Device operations the run actually issued, of every kind.
    public var operations: Int
    public var lowerBoundResets: Int?
    public var lowerBoundOperations: Int?
    /// Single-step state requests the tour plans, and the route-inspection bound for them.
    public var plannedRequests: Int?
    public var lowerBoundRequests: Int?
    public init(resets: Int, operations: Int, lowerBoundResets: Int? = nil, lowerBoundOperations: Int? = nil,
                plannedRequests: Int? = nil, lowerBoundRequests: Int? = nil) {
        self.resets = resets; self.operations = operations
        self.lowerBoundResets = lowerBoundResets; self.lowerBoundOperations = lowerBoundOperations
        self.plannedRequests = plannedRequests; self.lowerBoundRequests = lowerBoundRequests
    }
}

/// A case the runner did not run because it was hazardous on this target.
public struct SkippedHazard: Codable, Sendable {
    public var caseID: String
    public var hazardID: String
    public var effect: String
    public init(caseID: String, hazardID: String, effect: String) {
        self.caseID = caseID; self.hazardID = hazardID; self.effect = effect
    }
}

/// Everything a run produced: the source of truth every report format is rendered from (`report.json`).
public struct RunReport: Codable, Sendable {
    /// Version of the `report.json` schema (see `Reports/README.md`).
    public static let schemaVersion = 1
    public var schemaVersion: Int
    public var run: RunInfo
    public var summary: RunSummary
    public var plan: PlanCost?
    public var hazardsSkipped: [SkippedHazard]
    public var cases: [CaseResult]
    /// SHA-256 of every other file written into the run folder, by file name (filled in by the writer).
    public var files: [String: String]

    public init(run: RunInfo, cases: [CaseResult], plan: PlanCost? = nil, hazardsSkipped: [SkippedHazard] = [],
                files: [String: String] = [:]) {
        self.schemaVersion = RunReport.schemaVersion
        self.run = run
        self.summary = RunSummary(cases: cases)
        self.plan = plan
        self.hazardsSkipped = hazardsSkipped
        self.cases = cases
        self.files = files
    }
}
