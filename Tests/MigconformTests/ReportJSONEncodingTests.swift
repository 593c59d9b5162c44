import Foundation
import MigconformBase
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import Testing

@testable import MigconformReport

/// `report.json`'s fast encoding against JSONEncoder's: the same bytes for real runs and for hand-made reports
/// with awkward strings, numbers and absent fields, and a report that decodes back to the one encoded.
@Suite("Report: JSON encoding")
struct ReportJSONEncodingTests {
    /// Both encodings of `report`, which must be the same bytes and decode to the same report.
    func check(_ report: RunReport, _ comment: Comment? = nil) throws {
        let fast = try ReportJSON.encode(report)
        let reference = try ReportJSON.encodeWithJSONEncoder(report)
        let same = fast == reference
        #expect(same, comment ?? "")
        if !same {
            let f = [UInt8](fast)
            let r = [UInt8](reference)
            let at = zip(f, r).prefix { $0 == $1 }.count
            let from = max(0, at - 120)
            Issue.record(
                "first difference at byte \(at):\nfast: \(String(decoding: f[from..<min(f.count, at + 80)], as: UTF8.self).debugDescription)\nreference: \(String(decoding: r[from..<min(r.count, at + 80)], as: UTF8.self).debugDescription)"
            )
        }
        let back = try ReportJSON.decode(fast)
        #expect(try ReportJSON.encodeWithJSONEncoder(back) == reference)
        #expect(back.cases.map(\.transcript) == report.cases.map(\.transcript))
        #expect(back.cases.map(\.reproducer) == report.cases.map(\.reproducer))
    }

    @Test("a full run on the v2 reference device")
    func referenceV2() throws {
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        try check(report)
        // A member added to the document must be added to the fast encoding too.
        #expect(Mirror(reflecting: ReportDocument(report)).children.count == 7)
    }

    @Test("a full run on the v1 reference device")
    func referenceV1() throws {
        try check(try TestSupport.run(TestSupport.v1, ReferenceDeviceV1(), target: "ref:v1"))
    }

    @Test("runs on faulty devices: failures, findings and reproducers")
    func faults() throws {
        let v2 = FaultCatalogue.entries.filter { $0.generation == .v2 }.prefix(4)
        let v1 = FaultCatalogue.entries.filter { $0.generation == .v1 }.prefix(2)
        var reproducers = 0
        for entry in v2 + v1 {
            let spec = entry.generation == .v2 ? TestSupport.v2 : TestSupport.v1
            let report = try TestSupport.run(spec, entry.makeDevice(), target: "fault:\(entry.name)")
            #expect(report.cases.contains { $0.verdict != .pass }, "\(entry.name)")
            reproducers += report.cases.filter { $0.reproducer != nil }.count
            try check(report, "\(entry.name)")
        }
        #expect(reproducers > 0)
    }

    @Test("a run stopped early, with the run facts' optional fields and floating-point deadlines set")
    func interrupted() throws {
        let entry = try #require(FaultCatalogue.entries.first { $0.generation == .v2 })
        var options = RunOptions(target: "fault:\(entry.name)", expansion: ExpansionOptions())
        options.maxFailures = 1
        var report = try Runner(spec: TestSupport.v2, device: entry.makeDevice(), options: options).run()
        #expect(report.run.interrupted)
        report.run.deadlines = [
            "*": 0, "read": 0.1, "write": 2.5, "reset": 1, "slow/one": 1e22, "tiny": 1e-7, "neg": -3.75,
            "third": 1.0 / 3, "big": 123_456_789.125,
        ]
        report.run.timeouts = ["read \"quoted\" \\ / \u{1}"]
        report.run.reopened = 2
        report.run.fromJournal = true
        report.run.journalSync = "case"
        report.files = ["report.md": "00ff", "b/c": "\u{7F}é", "A": ""]
        report.hazardsSkipped = [SkippedHazard(caseID: "X/\"1\"", hazardID: "h\\", effect: "line\nbreak\t")]
        report.plan = PlanCost(resets: 3, operations: 0, lowerBoundResets: nil, lowerBoundOperations: Int.max)
        try check(report)
        report.plan = nil
        report.hazardsSkipped = []
        report.files = [:]
        try check(report)
    }

    @Test("run facts with every optional field set or absent, in place in the report")
    func runFacts() throws {
        var report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        report.files = Dictionary(uniqueKeysWithValues: RunInfoJSONTests.keys.map { ($0, $0) })
        for run in RunInfoJSONTests.runs {
            report.run = run
            try check(report)
        }
    }

    @Test("awkward strings, extreme numbers and absent optional fields in cases")
    func awkward() throws {
        let entries = JournalEncodingTests.entries
        let strings =
            JournalEncodingTests.awkward + [
                "/", "a/b", "\u{0}", "tab\there", "\u{FEFF}bom", "日本/語", "\u{1F}",
                "unit \u{1F} separator, past eight bytes",
            ]
        var cases: [CaseResult] = []
        for (k, s) in strings.enumerated() {
            var full = CaseResult(
                id: s, ruleID: s, level: .should, statement: s, cite: s, verdict: .fail, message: s, expected: s,
                actual: s, durationMicros: k % 2 == 0 ? UInt64.max : 0,
                transcript: Array(entries[(k * 11) % (entries.count - 11)..<(k * 11) % (entries.count - 11) + 11]),
                reproducer: k % 3 == 0 ? [] : [entries[k]], rawVerdict: .pass, expectation: s,
                attempts: k % 2 == 0 ? Int.min : Int.max, unfinished: k % 2 == 0, otherShard: -k)
            full.notRun = .hazard
            full.blockedBy = s
            full.seenIn = k % 2 == 0 ? [] : [s, s]
            cases.append(full)
            cases.append(
                CaseResult(id: s, ruleID: "", level: .may, statement: "", cite: "", verdict: .skipped, message: s))
        }
        var report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        report.cases = cases
        report.summary = RunSummary(cases: cases)
        try check(report)
        report.cases = []
        report.summary = RunSummary(cases: [])
        try check(report)
    }

    @Test("the writer indents what JSONEncoder wrote to where it goes")
    func encodedMembers() throws {
        var w = DocumentJSON.Writer(pretty: true)
        w.open()
        w.array("a", [1, 2]) { n, w in
            w.open()
            w.encoded("x", Data("{\n  \"n\" : [\n\n  ]\n}".utf8))
            w.number("n", n)
            w.close()
        }
        w.array("e", [Int]()) { _, _ in }
        w.close()
        let expected = """
            {
              "a" : [
                {
                  "x" : {
                    "n" : [

                    ]
                  },
                  "n" : 1
                },
                {
                  "x" : {
                    "n" : [

                    ]
                  },
                  "n" : 2
                }
              ],
              "e" : [

              ]
            }
            """
        #expect(w.text == expected)
    }
}
