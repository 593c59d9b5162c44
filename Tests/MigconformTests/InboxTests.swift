import Foundation
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSpec
import Testing

@testable import MigconformReport

/// The reviewer's inbox: report.md and plain diff within 100 columns, citations spelled out and linked, the HTML
/// report's skipped cases, links and diagram caption.
struct InboxTests {
    static func fault(_ name: String) throws -> RunReport {
        let entry = try #require(FaultCatalogue.entry(named: name))
        let spec = entry.generation == .v1 ? TestSupport.v1 : TestSupport.v2
        return try TestSupport.run(spec, entry.makeDevice(flags: nil, stateSize: nil), target: "fault:\(name)")
    }
    static func reference() throws -> RunReport {
        try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(ReferenceDeviceV2.Configuration()), target: "ref:v2")
    }

    /// A failing report with long messages and long transcripts lines: every verdict's block is wrapped.
    static func longLines() throws -> RunReport {
        var r = try fault("missing-arc")
        for i in r.cases.indices where r.cases[i].verdict == .fail {
            r.cases[i].message += " and " + String(repeating: "then a long explanation of what went wrong ", count: 6)
            r.cases[i].actual = String(repeating: "x", count: 180) // one word longer than a line
        }
        return r
    }

    @Test(arguments: ["missing-arc", "v1-write-leaves-error", "accepts-error-request", "long-lines"])
    func reportMarkdownStaysWithin100Columns(_ which: String) throws {
        let r = which == "long-lines" ? try Self.longLines() : try Self.fault(which)
        let spec = r.run.specID.hasSuffix("v1") ? TestSupport.v1 : TestSupport.v2
        let md = MarkdownReport.render(r, spec: spec)
        #expect(!r.summary.conformant || which == "long-lines")
        for (i, line) in md.split(separator: "\n").enumerated() {
            #expect(line.count <= 100, "report.md line \(i + 1) has \(line.count) columns: \(line)")
        }
        // Nothing is lost to the wrapping: every failure's message is there, once lines are joined.
        let joined = md.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        for c in r.cases where c.verdict == .fail {
            #expect(joined.contains(MarkdownReport.md(c.message).split(separator: " ").joined(separator: " ")))
        }
    }

    @Test func plainDiffStaysWithin100ColumnsAndStatesEachRuleOnce() throws {
        let old = try Self.reference()
        let new = try Self.fault("missing-arc")
        let text = ReportDiff.compare(old, new).render(.text)
        for line in text.split(separator: "\n") { #expect(line.count <= 100, "\(line.count): \(line)") }
        let statement = try #require(new.cases.first { $0.ruleID == "V2-COMBINATION-STATE" }?.statement)
        // Within a section, a rule's statement comes once, above its cases.
        let regressions = text.components(separatedBy: "\n\n").first { $0.hasPrefix("REGRESSIONS") } ?? ""
        let joined = regressions.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(
            separator: " ")
        #expect(joined.components(separatedBy: statement).count - 1 == 1)
        #expect(text.contains("V2-COMBINATION-STATE[STOP->RUNNING] PASS -> FAIL"))
    }

    /// The expansion rules as regular expressions: what `CitationSources.expand(key:)` reads character by
    /// character.
    static func expandedByRegex(_ key: String, _ raw: String) -> CitationSources.Expansion {
        var text = raw
        var messageID: String?
        if let m = raw.firstMatch(of: #/^(?:shared/)?seeds/([0-9]{3})[^:]*:\s*/#) {
            text = String(raw[m.range.upperBound...])
            messageID = CitationSources.seedMessageIDs[String(m.output.1)]
        }
        if let m = raw.firstMatch(of: #/<([^<>@\s]+@[^<>@\s]+)>/#) { messageID = String(m.output.1) }
        var link: String?
        if let id = messageID {
            link = "https://lore.kernel.org/r/" + id
            text += "; Message-ID <\(id)>"
        } else if let m = raw.firstMatch(of: #/https?://[^\s)>,;]+/#) {
            link = String(m.output)
        } else if let m = raw.firstMatch(
            of: #/^((?:include|drivers|Documentation|arch|kernel|lib|tools)/[A-Za-z0-9_./-]+)/#)
        {
            let file = String(m.output.1)
            if let v = raw.firstMatch(of: #/Linux ([0-9]+\.[0-9]+)/#) {
                link = "https://elixir.bootlin.com/linux/v\(v.output.1)/source/\(file)"
            } else {
                link = "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/\(file)"
            }
        }
        return CitationSources.Expansion(key: key, text: text, link: link, messageID: messageID)
    }

    @Test func citationsExpandAsTheirRegularExpressionsSay() {
        var entries = TestSupport.v1.sources.merging(TestSupport.v2.sources) { a, _ in a }
        let odd = [
            "seeds/001 thread: text", "shared/seeds/12: two digits", "shared/seeds/004x:   spaced", "seeds/003",
            "see <a@b> and <c @d>", "<@b> <a@> <a@b@c> <x<y@z>", "at https://x.y/z), more", "http:// then http://a,b",
            "drivers/vfio/vfio_main.c, Linux 6.12.3", "tools/x Linux 6 then Linux 7.1", "Documentation/ Linux 5.8",
            "include/uapi/linux/vfio.h, Linux 5.8 to 5.17", "kernel/x.c Linux .1 Linux 1. Linux 10.20", "lib/é",
            "", "Linux 6.2 include/x", "arch/x86/kvm https://a.b/c <m@n>",
        ]
        for (k, raw) in odd.enumerated() { entries["odd-\(k)"] = raw }
        let sources = CitationSources(entries)
        for (key, raw) in entries.sorted(by: { $0.key < $1.key }) {
            #expect(sources.expand(key: key) == Self.expandedByRegex(key, raw), "\(key): \(raw)")
        }
    }

    @Test func citationsExpandToTheHeaderAndKernelVersionAndToMessageIDLinks() throws {
        let sources = CitationSources(TestSupport.v2.sources)
        let uapi = try #require(sources.expand(cite: "uapi: MIG_DEVICE_STATE: 'anything'"))
        #expect(uapi.text.hasPrefix("include/uapi/linux/vfio.h, Linux 6.2+"))
        #expect(uapi.link == "https://elixir.bootlin.com/linux/v6.2/source/include/uapi/linux/vfio.h")
        let seed = try #require(sources.expand(key: "seed-000"))
        #expect(seed.messageID == "20211105132404.GB2744544@nvidia.com")
        #expect(seed.link == "https://lore.kernel.org/r/20211105132404.GB2744544@nvidia.com")
        #expect(!seed.text.contains("shared/seeds"), "a seed is cited by its message, not its internal path")
        let v1 = CitationSources(TestSupport.v1.sources)
        #expect(
            v1.expand(key: "uapi-v1")?.link == "https://elixir.bootlin.com/linux/v5.8/source/include/uapi/linux/vfio.h")
        for key in TestSupport.v1.sources.keys.filter({ $0.hasPrefix("seed-") })
            + TestSupport.v2.sources.keys.filter({ $0.hasPrefix("seed-") })
        {
            let x = CitationSources(TestSupport.v1.sources.merging(TestSupport.v2.sources) { a, _ in a }).expand(
                key: key)
            #expect(x?.link?.hasPrefix("https://lore.kernel.org/r/") ?? false, "\(key) has no Message-ID link")
        }
        // A source text with its own <Message-ID> wins; an unknown cite prefix expands to nothing.
        let own = CitationSources(["seed-009": "shared/seeds/009: kvm list, 2030, a thread <abc.123@example.org>"])
        #expect(own.expand(key: "seed-009")?.link == "https://lore.kernel.org/r/abc.123@example.org")
        #expect(sources.expand(cite: "nowhere: x") == nil)
    }

    /// The seeds whose files keep their mail headers give the Message-IDs of the table (the others were looked up
    /// in the list archives by their text).
    @Test(
        .enabled(
            if: FileManager.default.fileExists(
                atPath: TestSupport.root.deletingLastPathComponent().appendingPathComponent("shared/seeds").path)))
    func seedMessageIDsMatchTheSeedsThatCarryThem() throws {
        let dir = TestSupport.root.deletingLastPathComponent().appendingPathComponent("shared/seeds")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".txt") }
            .sorted()
        #expect(!files.isEmpty)
        for f in files {
            let number = String(f.prefix(3))
            #expect(CitationSources.seedMessageIDs[number] != nil, "seed \(number) has no Message-ID")
            let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            if let m = text.firstMatch(of: #/Message-ID: <([^>]+)>/#) {
                #expect(CitationSources.seedMessageIDs[number] == String(m.output.1), "seed \(number)")
            }
        }
    }

    @Test func reportMarkdownSpellsOutTheSourcesItCites() throws {
        let r = try Self.fault("missing-arc")
        let md = MarkdownReport.render(r, spec: TestSupport.v2)
        #expect(md.contains("## Sources ("))
        #expect(md.contains("- Source: drivers/vfio/vfio_main.c"))
        #expect(md.contains("<https://lore.kernel.org/r/20211105132404.GB2744544@nvidia.com>"))
        #expect(md.contains("include/uapi/linux/vfio.h, Linux 6.2+"))
        // Without the spec at hand, the built-in spec the report names gives the same.
        var builtin = r
        builtin.run.specPath = "builtin:vfio-migration-v2.json"
        #expect(
            MarkdownReport.render(builtin) == md.replacingOccurrences(of: r.run.specPath, with: builtin.run.specPath))
    }

    @Test func theHTMLReportHasSkippedSourcesAndLinksThatResolve() throws {
        let r = try Self.fault("missing-arc")
        let html = HTMLReport.render(r, spec: TestSupport.v2)
        let skipped = r.cases.filter { $0.verdict == .skipped || $0.verdict == .notApplicable }
        #expect(!skipped.isEmpty)
        #expect(html.contains("<section id=\"skipped\"><h2>Skipped (\(skipped.count))</h2>"))
        for c in skipped { #expect(html.contains("id=\"case-\(EngineNames.encode(c.id))\"")) }
        #expect(html.contains("<section id=\"sources\">"))
        #expect(html.contains("<a href=\"https://lore.kernel.org/r/20211105132404.GB2744544@nvidia.com\">"))
        // Every in-page link lands on an element; every rule has a row to land on, every failure a block.
        let ids = Set(html.matches(of: #/ id="([^"]+)"/#).map { String($0.output.1) })
        let targets = html.matches(of: #/href="#([^"]+)"/#).map { String($0.output.1) }
        #expect(targets.count > r.cases.filter { $0.verdict == .fail }.count)
        for t in targets { #expect(ids.contains(t), "#\(t) leads nowhere") }
        for rule in Set(r.cases.map(\.ruleID)) { #expect(ids.contains("rule-\(EngineNames.encode(rule))")) }
        for c in r.cases where c.verdict == .fail {
            #expect(targets.contains("case-\(EngineNames.encode(c.id))"), "the rule table does not link \(c.id)")
        }
        // The diagram says it counts single-step arcs, beside the run's own counts (the banner's).
        #expect(html.contains("Single-step arcs only"))
        #expect(html.contains(Markup.escape(ReportFacts.counts(r, noun: false))))
        #expect(StateDiagram.svg(r, spec: TestSupport.v2).contains("Arcs (single-step only)"))
    }
}
