import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSpec
import Testing

@testable import MigconformReport

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Parses an XML document and collects its elements (name and attributes), or the parser's error.
final class XMLCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var text = ""
    var error: Error?

    static func parse(_ s: String) -> XMLCollector {
        let c = XMLCollector()
        let parser = XMLParser(data: Data(s.utf8))
        parser.delegate = c
        if !parser.parse() { c.error = parser.parserError ?? NSError(domain: "xml", code: 1) }
        return c
    }
    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        elements.append((elementName, attributeDict))
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    /// The arcs drawn: paths that end in an arrow.
    var arcPaths: [[String: String]] {
        elements.filter { $0.name == "path" && $0.attributes["marker-end"] != nil }.map(\.attributes)
    }
}

@Suite struct DiagramTests {
    static func report(_ spec: Spec, _ device: MigrationDevice, target: String) throws -> RunReport {
        try TestSupport.run(spec, device, target: target)
    }

    @Test func v2DiagramIsValidXMLWithEveryArcColoredByVerdict() throws {
        let r = try Self.report(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        let svg = StateDiagram.document(r, spec: TestSupport.v2)
        let xml = XMLCollector.parse(svg)
        #expect(xml.error == nil, "diagram.svg does not parse: \(String(describing: xml.error))")
        let machine = Machine(spec: TestSupport.v2, features: Set(r.run.features))
        #expect(machine.arcs.count == 15) // three arcs exist only without p2p
        #expect(xml.arcPaths.count == machine.arcs.count)
        // The reference device passes every arc: every arc green, arrow marker of the pass kind.
        #expect(xml.arcPaths.allSatisfy { $0["stroke"] == StateDiagram.ArcVerdict.pass.color })
        // All eight states are drawn, the error and out-of-range ones outside the circle with their kind named.
        for s in TestSupport.v2.states { #expect(xml.text.contains(s.name), "state \(s.name) missing") }
        #expect(xml.text.contains("error state"))
        #expect(xml.text.contains("out of range"))
        #expect(xml.text.contains("CONFORMANT"))
        #expect(xml.text.contains("migconform-reference"))
        // The legend names every arc verdict.
        for v in StateDiagram.ArcVerdict.allCases { #expect(xml.text.contains(v.rawValue)) }
    }

    @Test func aMissingArcIsRedAndTheOthersStayGreen() throws {
        let r = try Self.report(TestSupport.v2, FaultyDeviceV2(.missingArc), target: "fault:missing-arc")
        let results = StateDiagram.arcResults(r, spec: TestSupport.v2)
        let broken = results.first { $0.from == "STOP" && $0.to == "RUNNING_P2P" }
        #expect(broken?.verdict == .fail)
        #expect(broken?.cases.contains { $0.hasPrefix("V2-ARC-STATE[STOP->RUNNING_P2P] FAIL") } == true)
        #expect(results.filter { $0.verdict == .pass }.count >= 10)
        let xml = XMLCollector.parse(StateDiagram.document(r, spec: TestSupport.v2))
        #expect(xml.error == nil)
        let red = xml.arcPaths.filter { $0["stroke"] == StateDiagram.ArcVerdict.fail.color }
        #expect(red.count == results.filter { $0.verdict == .fail }.count)
        #expect(red.count >= 1)
        #expect(xml.text.contains("NOT CONFORMANT"))
    }

    @Test func aSmallerProfileDrawsOnlyItsArcsAndShowsTheOtherStatesAsNotAdvertised() throws {
        let device = ReferenceDeviceV2(.init(flags: [.stopCopy]))
        let r = try Self.report(TestSupport.v2, device, target: "ref:v2?features=stop-copy")
        let xml = XMLCollector.parse(StateDiagram.document(r, spec: TestSupport.v2))
        #expect(xml.error == nil)
        #expect(xml.arcPaths.count == 6)
        #expect(xml.text.contains("not advertised"))
    }

    @Test func untestedAndNotApplicableArcsAreNamed() throws {
        var options = ExpansionOptions()
        options.only = ["V2-ARC-STATE[STOP->*"]
        let r = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2", options: options)
        let results = StateDiagram.arcResults(r, spec: TestSupport.v2)
        #expect(results.filter { $0.from == "STOP" }.allSatisfy { $0.verdict == .pass })
        #expect(results.filter { $0.from != "STOP" }.allSatisfy { $0.verdict == .untested })
        var copy = r
        for i in copy.cases.indices where copy.cases[i].id == "V2-ARC-STATE[STOP->STOP_COPY]" {
            copy.cases[i].verdict = .notApplicable
        }
        // A case that did run decides over one that was filtered out; alone, not applicable stays.
        let after = StateDiagram.arcResults(copy, spec: TestSupport.v2)
        #expect(after.first { $0.from == "STOP" && $0.to == "STOP_COPY" }?.verdict == .untested)
        #expect(StateDiagram.ArcVerdict.of(.notApplicable) == .notApplicable)
        #expect(StateDiagram.ArcVerdict.of(.skipped) == .untested)
        #expect(StateDiagram.ArcVerdict.of(.timeout) == .fail)
        #expect(StateDiagram.ArcVerdict.of(.warn) == .warn)
    }

    @Test func v1DiagramDrawsErrorAndReservedEncodingsDifferently() throws {
        let r = try Self.report(TestSupport.v1, ReferenceDeviceV1(), target: "ref:v1")
        let svg = StateDiagram.document(r, spec: TestSupport.v1)
        let xml = XMLCollector.parse(svg)
        #expect(xml.error == nil)
        #expect(xml.arcPaths.count == 20)
        for encoding in ["000b", "001b", "010b", "011b", "100b", "101b", "110b", "111b"] {
            #expect(xml.text.contains(encoding), "encoding \(encoding) missing")
        }
        // The error box has the error stroke and a second, inner border; reserved boxes are dashed.
        let rects = xml.elements.filter { $0.name == "rect" }.map(\.attributes)
        let errorStroke = StateDiagram.style(kind: "error").stroke
        #expect(rects.filter { $0["stroke"] == errorStroke }.count >= 4) // box, inner border, legend swatch (two)
        #expect(rects.contains { $0["stroke-dasharray"] == StateDiagram.style(kind: "reserved").dash })
        #expect(xml.text.contains("reserved"))
    }

    @Test func theCircleOrderAvoidsCrossingsWhereItCan() {
        // The full v2 profile is outerplanar: some order has no crossing chord.
        let spec = TestSupport.v2
        let machine = Machine(spec: spec, features: ["stop-copy", "p2p", "pre-copy"])
        var names = machine.settableStates.map(\.name)
        names.removeAll { $0 == "RUNNING" }
        names.insert("RUNNING", at: 0)
        let order = StateDiagram.circleOrder(names, arcs: machine.arcs.map { ($0.from, $0.to) })
        #expect(order.first == "RUNNING")
        #expect(Set(order) == Set(names))
        let pos = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        let chords = Set(machine.arcs.map { [min(pos[$0.from]!, pos[$0.to]!), max(pos[$0.from]!, pos[$0.to]!)] })
        var crossings = 0
        for c in chords {
            for d in chords where c != d && Set(c).isDisjoint(with: d) {
                let firstInside = d[0] > c[0] && d[0] < c[1]
                let secondInside = d[1] > c[0] && d[1] < c[1]
                if firstInside != secondInside { crossings += 1 }
            }
        }
        #expect(crossings == 0)
    }

    /// A report whose device and spec texts carry markup and control characters.
    static func hostileReport() throws -> RunReport {
        var r = try report(TestSupport.v2, FaultyDeviceV2(.missingArc), target: "fault:<script>alert(1)</script>")
        r.run.device.driver = "evil<script>alert('x')</script>&\u{1}\u{7f}"
        r.run.device.detail = "\"quoted\" <b>bold</b> \u{fffe}"
        r.run.device.extra["note"] = "<img src=x onerror=alert(1)>"
        for i in r.cases.indices where r.cases[i].verdict == .fail {
            r.cases[i].message += " <iframe src='http://example.com'></iframe>"
        }
        return r
    }

    @Test func everyStringIsEscapedInTheDiagramAndTheHTML() throws {
        let r = try Self.hostileReport()
        let svg = StateDiagram.document(r, spec: TestSupport.v2)
        #expect(XMLCollector.parse(svg).error == nil)
        #expect(!svg.contains("<script"))
        #expect(!svg.contains("\u{1}"))
        let html = HTMLReport.render(r, spec: TestSupport.v2)
        for raw in ["<script", "<img", "<iframe", "<b>", "\u{1}", "\u{fffe}"] {
            #expect(!html.contains(raw), "\(raw) left raw")
        }
        #expect(html.contains("&lt;script&gt;"))
        #expect(html.contains("&lt;iframe src=&#39;http://example.com&#39;&gt;"))
    }

    @Test func theHTMLReportIsOneSelfContainedFile() throws {
        let r = try Self.report(TestSupport.v2, FaultyDeviceV2(.missingArc), target: "fault:missing-arc")
        let html = HTMLReport.render(r, spec: TestSupport.v2)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("NOT CONFORMANT"))
        #expect(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        // Failures come with their transcripts, and every rule has a row.
        let failures = r.cases.filter { $0.verdict == .fail }
        #expect(!failures.isEmpty)
        for f in failures { #expect(html.contains(Markup.escape(f.id))) }
        #expect(html.contains("class=\"transcript\""))
        #expect(html.contains("set-state"))
        for rule in Set(r.cases.map(\.ruleID)) { #expect(html.contains("<code>\(rule)</code>")) }
        // Nothing is fetched: no scripts, style sheets, images, frames or remote URLs besides the SVG namespace.
        for tag in ["<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(http", "src="] {
            #expect(!html.contains(tag), "\(tag) in report.html")
        }
        // Links to the sources cited are plain links (followed only when clicked), nothing else names a URL.
        let urls = html.components(separatedBy: "http").count - 1
        let links = html.components(separatedBy: "<a href=\"http").count - 1
        #expect(urls - 2 * links == 1) // each link shows its URL as its text too
    }

    @Test func theRunFolderGetsTheDiagramAndTheHTMLHashedInReportJSON() throws {
        let r = try Self.report(TestSupport.v1, ReferenceDeviceV1(), target: "ref:v1")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diagram-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let written = try ReportWriter.write(
            r, to: folder, additionalFiles: RunFolderExtras.files(r, spec: TestSupport.v1))
        #expect(written.files["diagram.svg"] != nil)
        #expect(written.files["report.html"] != nil)
        let svg = try String(contentsOf: folder.appendingPathComponent("diagram.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<?xml"))
        #expect(XMLCollector.parse(svg).error == nil)
    }

    /// `chromium` on PATH, if any.
    static let chromium: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let path = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }()

    @Test(
        .enabled(
            if: chromium != nil,
            "chromium is not on PATH: install it (apt-get install chromium) to check report.html in a real browser"))
    func reportHTMLRendersInHeadlessChromium() throws {
        let r = try Self.report(TestSupport.v2, FaultyDeviceV2(.missingArc), target: "fault:missing-arc")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer {
            if ProcessInfo.processInfo.environment["MIGCONFORM_KEEP_SCREENSHOT"] == nil {
                try? FileManager.default.removeItem(at: folder)
            }
        }
        let html = folder.appendingPathComponent("report.html")
        try Data(HTMLReport.render(r, spec: TestSupport.v2).utf8).write(to: html)
        let shot = folder.appendingPathComponent("screenshot.png")
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(folder.appendingPathComponent("profile").path)",
        ]
        let browser = URL(fileURLWithPath: Self.chromium!)
        let dom = try TestSupport.shell(browser, common + ["--dump-dom", html.absoluteString], cwd: folder)
        #expect(dom.status == 0, "chromium --dump-dom failed: \(dom.stderr.suffix(500))")
        // The browser built a DOM with the inline SVG and its arcs in it.
        #expect(dom.stdout.contains("<svg"))
        #expect(dom.stdout.contains("diagram-title"))
        #expect(dom.stdout.contains("NOT CONFORMANT"))
        let run = try TestSupport.shell(
            browser,
            common + [
                "--hide-scrollbars", "--window-size=1280,1800",
                "--screenshot=\(shot.path)", html.absoluteString,
            ], cwd: folder)
        #expect(run.status == 0, "chromium --screenshot failed: \(run.stderr.suffix(500))")
        let png = try Data(contentsOf: shot)
        #expect(png.starts(with: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
        // Width and height from the IHDR chunk.
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280 && height == 1800)
        // A page with a colored banner, a diagram and text compresses far worse than a blank one.
        #expect(png.count > 60_000)
        if let keep = ProcessInfo.processInfo.environment["MIGCONFORM_KEEP_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep))
        }
    }
}
