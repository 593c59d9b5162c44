import Foundation
import MigconformReference
import MigconformReport
import MigconformSpec
import Testing

/// `Specs/traceability.json` against the rules of both shipped specs: every rule names a sentence that exists, every
/// testable sentence has a rule or is listed as known-missing with its reason.
struct TraceabilityTests {
    static let path = TestSupport.root.appendingPathComponent("Specs/traceability.json").path

    func load(_ text: String) throws(SpecLoadError) -> Traceability {
        try TraceabilityLoader.load(data: Array(text.utf8), path: "t.json")
    }

    @Test func theShippedMatrixAgreesWithBothSpecs() throws {
        let trace = try TraceabilityLoader.load(path: Self.path)
        let check = TraceabilityCheck(trace, specs: [TestSupport.v2, TestSupport.v1])
        #expect(check.problems.isEmpty, "\(check.problems.map(\.description).joined(separator: "\n"))")
        for rule in TestSupport.v2.rules + TestSupport.v1.rules {
            #expect(!rule.cite.sentences.isEmpty, "\(rule.id) names no sentence")
        }
        // Every source has sentences, and the counts add up.
        for source in trace.sources {
            let c = check.counts(source: source.id)
            #expect(c.testable > 0, "\(source.id)")
            #expect(c.testable == c.covered + c.partly + c.missing)
        }
        // A known-missing sentence is never a silent one: it says why.
        for row in check.rows where row.status == .missing {
            #expect(!(row.note ?? "").isEmpty, "\(row.sentence.id)")
        }
    }

    @Test func aRuleCitingAnUnknownSentenceIsAProblemAtTheRule() throws {
        let trace = try TraceabilityLoader.load(path: Self.path)
        var spec = TestSupport.v2
        let index = spec.rules.firstIndex { $0.id == "V2-REJECT-ERROR" }!
        spec.rules[index].cite.sentences = ["v2.error.99"]
        let check = TraceabilityCheck(trace, specs: [spec, TestSupport.v1])
        let problem = try #require(check.problems.first { $0.message.contains("v2.error.99") })
        #expect(problem.file == spec.path)
        #expect(problem.line == spec.rules[index].line)
        // v2.error.1 lost its only rule: a new silent gap, reported at the sentence.
        let gap = try #require(check.problems.first { $0.jsonPath == "sentence v2.error.1" })
        #expect(gap.file == Self.path)
        #expect(gap.message.contains("no rule cites it"))
    }

    @Test func aRuleWithoutASentenceIsAProblem() throws {
        let trace = try TraceabilityLoader.load(path: Self.path)
        var spec = TestSupport.v1
        let index = spec.rules.firstIndex { $0.id == "V1-SAME-STATE" }!
        spec.rules[index].cite.sentences = []
        let check = TraceabilityCheck(trace, specs: [TestSupport.v2, spec])
        #expect(
            check.problems.contains { $0.jsonPath == "rule V1-SAME-STATE" && $0.message.contains("names no sentence") })
    }

    @Test func missingAndUntestableMustStayTrue() throws {
        let text = """
            {"sources": [{"id": "s", "title": "a text"}],
             "sentences": [
              {"id": "a.1", "source": "s", "section": "x", "says": "one", "level": "MUST", "missing": "no check yet"},
              {"id": "a.2", "source": "s", "section": "x", "says": "two", "level": "MAY", "untestable": "a freedom"},
              {"id": "a.3", "source": "s", "section": "x", "says": "three", "level": "SHOULD"}
             ]}
            """
        let trace = try load(text)
        var spec = TestSupport.v2
        spec.rules = [spec.rules[0], spec.rules[1]]
        spec.rules[0].cite.sentences = ["a.1"]
        spec.rules[1].cite.sentences = ["a.2"]
        let check = TraceabilityCheck(trace, specs: [spec])
        let messages = check.problems.map(\.message)
        #expect(messages.contains { $0.contains("listed as missing, but V2-FEAT-GET cites it") })
        #expect(messages.contains { $0.contains("called untestable, but V2-FEAT-STOP-COPY cites it") })
        #expect(check.problems.contains { $0.jsonPath == "sentence a.3" && $0.line == 5 })
        #expect(
            check.counts(source: "s")
                == TraceabilityCheck.Counts(
                    testable: 2, covered: 0, partly: 0, missing: 2,
                    untestable: 1))
    }

    @Test func loaderProblemsNameFileLineAndPath() {
        let text = """
            {"sources": [{"id": "s", "title": "a text"}],
             "sentences": [
              {"id": "a.1", "source": "s", "section": "x", "says": "one", "level": "MUSTY"},
              {"id": "a.1", "source": "t", "section": "x", "says": "two", "level": "MAY", "note": "?"},
              {"id": "a.3", "source": "s", "section": "x", "says": "three", "level": "MAY", "missing": "m", "untestable": "u"}
             ]}
            """
        do {
            _ = try load(text)
            Issue.record("loaded")
        } catch {
            let lines = error.problems.map(\.description)
            #expect(
                lines.contains {
                    $0.hasPrefix("t.json:3:") && $0.contains("$.sentences[0].level: unknown level \"MUSTY\"")
                }, "\(lines)")
            #expect(
                lines.contains { $0.hasPrefix("t.json:4:") && $0.contains("duplicate sentence id \"a.1\"") }, "\(lines)"
            )
            #expect(lines.contains { $0.hasPrefix("t.json:4:") && $0.contains("unknown source \"t\"") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("t.json:4:") && $0.contains("unknown member \"note\"") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("t.json:5:") && $0.contains("at most one of") }, "\(lines)")
        }
    }

    @Test func aLongQuotationIsRefused() {
        let long = String(repeating: "word ", count: 30)
        let text = """
            {"sources": [{"id": "s", "title": "a text"}],
             "sentences": [{"id": "a.1", "source": "s", "section": "x", "says": "\(long)", "level": "MUST"}]}
            """
        #expect(throws: SpecLoadError.self) { try load(text) }
    }

    @Test(.enabled(if: TestSupport.binary != nil, "build the package first"))
    func listCoveragePrintsTheMatrixInAHundredColumns() throws {
        let r = try TestSupport.shell(TestSupport.binary!, ["list", "--coverage"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.components(separatedBy: "\n")
        #expect(lines.allSatisfy { $0.count <= 100 }, "\(lines.filter { $0.count > 100 })")
        #expect(lines.contains { $0.hasPrefix("source") && $0.contains("testable") && $0.contains("untestable") })
        for source in ["uapi-v2", "uapi-v1", "uapi-7.1", "seeds"] {
            #expect(lines.contains { $0.hasPrefix(source + " ") }, "\(source)")
        }
        #expect(r.stdout.contains("v2.error.1"))
        #expect(r.stdout.contains("V2-REJECT-ERROR"))
    }

    @Test func rulesOfTheKernelCoreSaySo() throws {
        let core = TestSupport.v2.rules.filter { $0.tests == "core" }.map(\.id)
        #expect(
            Set(core).isSuperset(of: [
                "V2-FEAT-SET-MIGRATION-REJECTED", "V2-FEAT-PROBE-MIGRATION-SET",
                "V2-FEAT-GET-SET-EXCLUSIVE", "V2-FEAT-UNDEFINED-FLAG-BITS",
                "V2-FEAT-SHORT-PAYLOAD", "V2-DATA-SIZE-SET-REJECTED",
            ]))
        // Only feature calls the core answers before the driver, and the fd it allocates; never a state-machine rule.
        #expect(
            TestSupport.v2.rules.filter { $0.tests == "core" }
                .allSatisfy { [.feature, .dataFD].contains($0.check.kind) })
        let rule = try #require(TestSupport.v2.rules.first { $0.id == "V2-FEAT-SHORT-PAYLOAD" })
        #expect(rule.citeLine.contains("tests the kernel's VFIO core, not the driver"))
        #expect(rule.citeLine.contains("sentence v2.feature.9"))
        let text = try String(contentsOfFile: TestSupport.specPath("v2"), encoding: .utf8)
            .replacingOccurrences(of: "\"tests\": \"core\"", with: "\"tests\": \"kernel\"")
        do {
            _ = try SpecLoader.load(data: Array(text.utf8), path: "v2.json")
            Issue.record("a tests value outside driver and core loaded")
        } catch {
            #expect(error.problems.contains { $0.message.contains("\"kernel\" is not one of driver, core") })
        }
    }

    @Test func levelsFollowTheText() throws {
        func level(_ id: String) -> Level? {
            (TestSupport.v1.rules + TestSupport.v2.rules).first { $0.id == id }?.level
        }
        for id in [
            "V1-RESERVED-BITS-PRESERVED", "V1-RESERVED-BITS-IGNORED", "V1-PENDING-NO-SIDE-EFFECT",
            "V1-RESUME-FAILED-STATE", "V1-RESUME-FAILED-STATE-11X", "V1-REGION-NATIVE-WIDTH",
            "V1-SAVE-FIELDS-REPEATABLE",
        ] {
            #expect(level(id) == .should, "\(id)")
        }
        #expect(level("V1-STOP-COPY-DRAINS") == .must)
        #expect(level("V1-DATA-OFFSET-PAGE-ALIGNED") == .must)
        #expect(TestSupport.v1.rules.count == 28)
        let reject = try #require(TestSupport.v1.rules.first { $0.id == "V1-REJECT-101" })
        #expect(reject.cite.sentences.first == "s001.7")
    }

    @Test func reportsSayWhichRulesTestTheCore() throws {
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(.init(flags: [.stopCopy])))
        let c = try #require(report.cases.first { $0.ruleID == "V2-FEAT-SHORT-PAYLOAD" })
        #expect(c.cite.contains(Rule.coreNote) && c.cite.contains("v2.feature.9"))
        let md = MarkdownReport.render(report)
        #expect(md.contains("| V2-FEAT-SHORT-PAYLOAD (core) "), "\(md)")
        #expect(!md.contains("V2-ARC-STATE (core)"))
    }
}
