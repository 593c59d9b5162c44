import Foundation
import MigconformBase
import MigconformDevice
import MigconformReference
import MigconformRun
import Testing

@testable import MigconformReport

/// The run's facts, summary, plan cost and skipped hazards written by ``DocumentJSON`` against JSONEncoder's
/// encoding of the same values: the same bytes, compact as the journal writes them and pretty-printed as
/// `report.json` holds them, with every optional field set and absent.
@Suite("Report: run facts JSON encoding")
struct RunInfoJSONTests {
    /// Dictionary keys whose order tells byte order from locale, case-folding, numeric and normalizing orders.
    static let keys = [
        "a-b", "a_b", "aB", "Ab", "ä", "10", "9", "", "*", "a", "A", "a b", "a.b", "Z", "^", "~", "01", "1a", "a10",
        "a9", "ß", "ss", "Ä", "A\u{30A}", "\u{C5}b", "e\u{301}x", "éa", "\u{FFFD}", "🙂", "\u{E000}", "ｆ", "\u{0}",
        "get-state", "host health", "slash/es", "quote\"d", "back\\slash", "line\nfeed",
    ]

    /// Doubles whose shortest form is awkward: exponents, negative zero, the extremes, integers of every size.
    static let doubles: [Double] = [
        0.1, 1e-7, 1e21, 2.5, 100, 0, -0.0, 1e16, 1e15, 123_456_789_012_345_678, 5e-324, .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, .leastNormalMagnitude, 0.1 + 0.2, 1e-5, 1e-4, 0.001, 30, 3e10, -2.5, 1e100,
        1.5e-10, 1.0 / 3, 2e-308, 9_007_199_254_740_993, 4.35, -1, 1e22, 0.5, 12.75,
    ]

    static func identity(_ s: String, extra: Bool) -> DeviceIdentity {
        DeviceIdentity(
            targetKind: s, driver: s + "/drv", detail: "detail " + s, kernelRelease: extra ? s : nil,
            extra: extra ? Dictionary(uniqueKeysWithValues: keys.map { ($0, $0 + s) }) : [:])
    }

    /// Run facts with every optional field absent and every collection empty.
    static var bare: RunInfo {
        RunInfo(
            runnerVersion: "", specID: "", specVersion: "", specPath: "", specSHA256: "", target: "",
            device: identity("", extra: false), features: [], migrationFlags: nil, started: "", ended: "")
    }

    /// Run facts with every optional field set, around awkward string `s`; `k` varies the numbers.
    static func full(_ s: String, _ k: Int) -> RunInfo {
        var r = RunInfo(
            runnerVersion: s, specID: s, specVersion: s, specPath: "/path/" + s, specSHA256: s, target: s,
            device: identity(s, extra: true), features: [s, "", s], migrationFlags: k % 2 == 0 ? UInt64.max : 0,
            started: s, ended: s, seed: k % 2 == 0 ? 0 : UInt64.max, interrupted: k % 2 == 0,
            allowedHazards: k % 3 == 0 ? [] : [s], variants: [s, s])
        r.stopReason = s
        r.shard = ShardInfo(index: k, count: Int.max)
        r.filters = RunFilters(only: k % 2 == 0 ? [] : [s], exclude: [s, "x"], selected: -k)
        r.mergedFrom =
            k % 3 == 0
            ? []
            : [
                MergedShard(
                    shard: ShardInfo(index: 1, count: 2), target: s, device: identity(s, extra: k % 2 == 0),
                    started: s, ended: s, interrupted: true),
                MergedShard(
                    shard: ShardInfo(index: Int.min, count: 0), target: "", device: identity("", extra: false),
                    started: "", ended: "", interrupted: false),
            ]
        r.cleanup = CleanupReport(
            restored: k % 2 == 0, closedFDs: k % 2 == 0 ? [] : [Int32.min, -1, 0, 7, Int32.max],
            problems: k % 3 == 0 ? [] : [s])
        r.baseline = BaselineInfo(path: s, sha256: s, entries: k, unused: k % 2 == 0 ? [] : [s, s])
        r.retries = Int.min + k
        r.timeouts = k % 2 == 0 ? [] : [s]
        r.reopened = k
        r.deadlines = Dictionary(
            uniqueKeysWithValues: keys.enumerated().map { ($1, doubles[($0 + k) % doubles.count]) })
        r.fromJournal = k % 2 == 0
        r.journalSync = s
        r.journalDamaged = k % 2 == 0 ? nil : s
        var cost = RunCost(
            wall: UInt64.max, device: 1, deviceCalls: 2, journal: 3, observers: 4, planning: 5,
            waits: k % 2 == 0 ? 0 : 6, operations: Int.max,
            byKind: Dictionary(
                uniqueKeysWithValues: keys.enumerated().map {
                    ($1, RunCost.Kind(count: $0, micros: UInt64($0) * 1000, bytes: $0 % 2 == 0 ? nil : UInt64.max))
                }))
        cost.report = 7
        cost.setup = 8
        cost.setupSteps = k % 2 == 0 ? [:] : ["target": 1, "spec": UInt64.max, "host health": 0, s: 3]
        cost.tracing = 9
        cost.command = 10
        cost.usage = ProcessUsage(user: 1, system: UInt64.max, minorFaults: 0, contextSwitches: 12)
        cost.commandUsage = ProcessUsage()
        r.cost = cost
        r.peers =
            k % 3 == 0
            ? []
            : [
                PeerInfo(role: "peer", target: s, device: identity(s, extra: true), openedByRun: k % 2 == 0),
                PeerInfo(role: "foreign", target: "", device: identity("", extra: false)),
            ]
        r.reach = DriverReachInfo(
            module: s, functions: k, reached: k % 2 == 0 ? [] : [s], notReached: [s, "b"],
            problem: k % 2 == 0 ? s : nil)
        return r
    }

    /// Run facts with some optional fields set and others absent, and nested optional fields absent.
    static func partial(_ s: String, _ k: Int) -> RunInfo {
        var r = full(s, k)
        r.device = identity(s, extra: false)
        r.cost?.waits = nil
        r.cost?.report = nil
        r.cost?.setup = nil
        r.cost?.setupSteps = nil
        r.cost?.tracing = nil
        r.cost?.command = nil
        r.cost?.usage = nil
        r.cost?.commandUsage = nil
        r.cost?.byKind = [:]
        r.reach?.problem = nil
        r.deadlines = k % 2 == 0 ? [:] : ["*": 30]
        r.peers = nil
        r.mergedFrom = nil
        r.timeouts = nil
        r.stopReason = nil
        r.baseline = nil
        return r
    }

    static var runs: [RunInfo] {
        var out = [bare]
        for (k, s) in JournalEncodingTests.awkward.enumerated() {
            out.append(full(s, k))
            out.append(partial(s, k))
        }
        return out
    }

    /// `value` written by `write` and by JSONEncoder, compact and pretty: the same bytes.
    func same<T: Encodable>(
        _ value: T, _ write: (T, inout DocumentJSON.Writer) throws -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for pretty in [false, true] {
            var w = DocumentJSON.Writer(pretty: pretty)
            try write(value, &w)
            let fast = w.text
            let reference = String(
                decoding: try DocumentJSON.makeEncoder(pretty: pretty).encode(value), as: UTF8.self)
            #expect(fast == reference, sourceLocation: sourceLocation)
            if fast != reference {
                let at = zip(fast.utf8, reference.utf8).prefix { $0 == $1 }.count
                Issue.record(
                    "first difference at byte \(at): \(String(decoding: Array(fast.utf8.dropFirst(max(0, at - 80)).prefix(160)), as: UTF8.self).debugDescription)",
                    sourceLocation: sourceLocation)
            }
        }
    }

    @Test("run facts with every optional field set or absent are written as JSONEncoder writes them")
    func runInfo() throws {
        for r in Self.runs { try same(r) { try DocumentJSON.runInfo($0, into: &$1) } }
    }

    @Test("a real run's facts are written as JSONEncoder writes them")
    func realRun() throws {
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        #expect(report.run.deadlines != nil)
        try same(report.run) { try DocumentJSON.runInfo($0, into: &$1) }
        try same(report.summary) { DocumentJSON.runSummary($0, into: &$1) }
    }

    @Test("dictionary keys are sorted as JSONEncoder sorts them: by their UTF-8 bytes")
    func keyOrder() throws {
        let d = Dictionary(uniqueKeysWithValues: Self.keys.enumerated().map { ($1, $0) })
        try same(d) { d, w in w.dictionary(d) { $1.bytes.appendDecimal($0) } }
        try same([String: Int]()) { d, w in w.dictionary(d) { $1.bytes.appendDecimal($0) } }
        let files = Dictionary(uniqueKeysWithValues: Self.keys.map { ($0, $0) })
        try same(files) { d, w in w.dictionary(d) { $1.bytes.appendQuoted($0) } }
    }

    @Test("doubles are written as JSONEncoder writes them")
    func doubles() throws {
        for v in Self.doubles + Self.doubles.map({ -$0 }) {
            try same(["x": v]) { d, w in w.dictionary(d) { $1.double($0) } }
        }
    }

    @Test("deadlines that are not finite are refused as JSONEncoder refuses them")
    func nonFinite() throws {
        for v in [Double.infinity, -.infinity, .nan] {
            var r = Self.bare
            r.deadlines = ["*": 1, "read": v]
            var w = DocumentJSON.Writer()
            #expect(throws: EncodingError.self) { try DocumentJSON.runInfo(r, into: &w) }
            #expect(throws: EncodingError.self) { try DocumentJSON.makeEncoder(pretty: false).encode(r) }
        }
    }

    @Test("summaries, plan costs and skipped hazards are written as JSONEncoder writes them")
    func summaryPlanHazards() throws {
        let levels: [Level] = [.must, .should, .may]
        var cases: [CaseResult] = []
        for (k, v) in Verdict.allCases.enumerated() {
            var c = CaseResult(
                id: "c\(k)", ruleID: "R", level: levels[k % 3], statement: "", cite: "", verdict: v, message: "m")
            if k % 4 == 0 { c.unfinished = true }
            cases.append(c)
        }
        for c in [[], cases, Array(cases.prefix(3))] {
            try same(RunSummary(cases: c)) { DocumentJSON.runSummary($0, into: &$1) }
        }
        for p in [
            PlanCost(resets: 0, operations: 0),
            PlanCost(
                resets: Int.min, operations: Int.max, lowerBoundResets: 1, lowerBoundOperations: 2,
                plannedRequests: 3, lowerBoundRequests: 4),
        ] {
            try same(p) { DocumentJSON.planCost($0, into: &$1) }
        }
        for s in JournalEncodingTests.awkward {
            try same(SkippedHazard(caseID: s, hazardID: s + "/", effect: "")) {
                DocumentJSON.skippedHazard($0, into: &$1)
            }
        }
    }

    @Test("every stored property of the types written by hand is written")
    func everyField() throws {
        let r = Self.full("x", 1)
        let cost = try #require(r.cost)
        let values: [Any] = [
            r, r.device, try #require(r.shard), try #require(r.filters), try #require(r.mergedFrom?.first),
            try #require(r.cleanup), try #require(r.baseline), cost, try #require(cost.byKind.values.first),
            try #require(cost.usage), try #require(r.peers?.first), try #require(r.reach), RunSummary(cases: []),
            PlanCost(resets: 0, operations: 0), SkippedHazard(caseID: "", hazardID: "", effect: ""),
        ]
        #expect(Set(values.map { "\(type(of: $0))" }) == Set(DocumentJSON.runInfoFields.keys))
        for v in values {
            let name = "\(type(of: v))"
            // A property added to the type must be added to its hand-written encoding, and then counted here.
            #expect(Mirror(reflecting: v).children.count == DocumentJSON.runInfoFields[name], "\(name)")
        }
        // With every optional field set, the hand-written encoding has as many members as the type has properties.
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(try encodedFast(r).utf8)) as? [String: Any])
        #expect(object.count == DocumentJSON.runInfoFields["RunInfo"])
        let costObject = try #require(object["cost"] as? [String: Any])
        #expect(costObject.count == DocumentJSON.runInfoFields["RunCost"])
    }

    func encodedFast(_ r: RunInfo) throws -> String {
        var w = DocumentJSON.Writer()
        try DocumentJSON.runInfo(r, into: &w)
        return w.text
    }

    @Test("the journal's run and run-end records are written as JSONEncoder writes them")
    func journalRecords() throws {
        let encoder = DocumentJSON.makeEncoder(pretty: false)
        let hazards = [SkippedHazard(caseID: "a\"b", hazardID: "HZ-1", effect: "é/\n")]
        for (k, run) in Self.runs.enumerated() {
            let plan: PlanCost? = k % 2 == 0 ? nil : PlanCost(resets: k, operations: 2, lowerBoundRequests: 5)
            let end = RunJournal.RunEndRecord(time: "t\(k)", run: run, plan: plan)
            var w = DocumentJSON.Writer()
            try JournalLines.runEnd(time: end.time, run: run, plan: plan, into: &w)
            #expect(w.text == String(decoding: try encoder.encode(end), as: UTF8.self))
            let record = RunJournal.RunRecord(
                journalVersion: RunJournal.version, time: "t", run: run, plan: [],
                hazardsSkipped: k % 2 == 0 ? [] : hazards)
            w.reset()
            try JournalLines.runRecord(record, into: &w)
            #expect(w.text == String(decoding: try encoder.encode(record), as: UTF8.self))
        }
    }
}
