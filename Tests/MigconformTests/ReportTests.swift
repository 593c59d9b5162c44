import Foundation
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSpec
import Testing

@testable import MigconformReport

#if canImport(FoundationXML)
    import FoundationXML
#endif

// MARK: - A hand-built report with one case of most verdicts and hostile strings.

private let nasty = "a <b> & \"c\" 'd'\nsecond line\u{07} bell # hash \\ back \u{1B}[31m esc \u{2192} arrow"

private func entry(
    _ step: Int, _ op: DeviceOperation, _ outcome: DeviceOutcome?, micros: UInt64 = 12,
    transportError: String? = nil, byteCount: Int? = nil
) -> TranscriptEntry {
    TranscriptEntry(
        step: step, operation: op, outcome: outcome, transportError: transportError, micros: micros,
        byteCount: byteCount)
}

private func sampleReport(interrupted: Bool = false) -> RunReport {
    let failTranscript = [
        entry(0, .reset, .done, micros: 150),
        entry(1, .setState(MigrationState.stop.rawValue), .state(1, dataFD: -1)),
        entry(2, .setState(MigrationState.runningP2P.rawValue), .state(5, dataFD: -1)),
        entry(3, .setState(0), .failed(.EINVAL), micros: 7),
        entry(4, .getState, .state(0, dataFD: -1)),
        entry(5, .read(fd: 7, count: 4096), .bytes([1, 2, 3]), byteCount: 3),
        entry(6, .write(fd: 8, bytes: Array(0..<16)), .value(4096), byteCount: 4096),
        entry(
            7, .feature(flags: FeatureRequest.get | FeatureRequest.probe | FeatureRequest.migration, payload: []),
            .done),
        entry(8, .getMigrationFlags, .value(7)),
        entry(9, .precopyInfo(fd: 7), .precopy(initialBytes: 10, dirtyBytes: 0)),
    ]
    let v1Transcript = [
        entry(0, .regionWrite(offset: 0, width: 4, value: 0x3), .done),
        entry(1, .regionRead(offset: 0, width: 4), .value(0x8000_0006)),
        entry(2, .dataRead(offset: 0x1000, count: 64), .bytes([]), byteCount: 0),
    ]
    let cases: [CaseResult] = [
        CaseResult(
            id: "V2-ARC[STOP->RUNNING]", ruleID: "V2-ARC", level: .must,
            statement: "The device performs every single-step arc of its profile.", cite: "uapi: arcs",
            verdict: .pass, message: "ok", durationMicros: 40,
            transcript: [entry(0, .setState(2), .state(2, dataFD: -1))]),
        CaseResult(
            id: "V2-REJECT-ERROR[RUNNING_P2P]", ruleID: "V2-REJECT-ERROR", level: .must,
            statement: "A request for the ERROR state fails and leaves the device in the state it was in.",
            cite: "uapi: enum vfio_device_mig_state & <ERROR>", verdict: .fail,
            message: "device moved to ERROR: " + nasty, expected: "EINVAL, state RUNNING_P2P",
            actual: "EINVAL, state ERROR <&>", durationMicros: 1_234,
            transcript: failTranscript,
            reproducer: ([.reset, .setState(1), .setState(5), .setState(0)] as [DeviceOperation]).enumerated().map {
                TranscriptEntry(step: $0.offset, operation: $0.element, outcome: nil, micros: 0)
            }),
        CaseResult(
            id: "V2-SHOULD-X[\"quoted\" & <angle>]", ruleID: "V2-SHOULD-X", level: .should,
            statement: "The device should answer " + nasty, cite: "seed: thread 3", verdict: .warn,
            message: "slow answer " + nasty, durationMicros: 2_500_000),
        CaseResult(
            id: "V2-MAY-Y", ruleID: "V2-MAY-Y", level: .may, statement: "The device may do Y.",
            cite: "uapi: y", verdict: .info, message: "chose Y"),
        CaseResult(
            id: "V2-PRECOPY[RUNNING->PRE_COPY]", ruleID: "V2-PRECOPY", level: .must,
            statement: "Pre-copy arcs work.", cite: "uapi: PRE_COPY", verdict: .notApplicable,
            message: "PRE_COPY not advertised"),
        CaseResult(
            id: "V2-HANG[STOP_COPY->PRE_COPY]", ruleID: "V2-HANG", level: .must,
            statement: "No hang.", cite: "seed: hang", verdict: .skipped, message: "hazard not allowed"),
        CaseResult(
            id: "V2-TIMEOUT-CASE", ruleID: "V2-TIMEOUT", level: .mustNot,
            statement: "The device must not hang on a read.", cite: "uapi: read", verdict: .timeout,
            message: "read did not finish within 5 s",
            transcript: [
                entry(
                    0, .read(fd: 7, count: 1), nil, micros: 5_000_000,
                    transportError: "timed out after 5 s")
            ]),
        CaseResult(
            id: "V2-ERR-CASE", ruleID: "V2-ERR", level: .should, statement: "Something.",
            cite: "uapi: x", verdict: .error, message: "adapter crashed: \u{01}\u{1F}"),
        CaseResult(
            id: "V1-RSV-110", ruleID: "V1-RSV", level: .must, statement: "Reserved bits are kept.",
            cite: "uapi v1: device_state", verdict: .xfail, message: "known", transcript: v1Transcript),
        CaseResult(
            id: "V2-ARC[RUNNING->STOP]", ruleID: "V2-ARC", level: .must,
            statement: "The device performs every single-step arc of its profile.", cite: "uapi: arcs",
            verdict: .pass, message: "ok"),
    ]
    let device = DeviceIdentity(
        targetKind: "reference", driver: "migconform-reference", detail: "v2 <all> & more",
        kernelRelease: "6.8.0", extra: ["pci": "1af4:1041"])
    let info = RunInfo(
        runnerVersion: "0.1.0", specID: "vfio-v2", specVersion: "1.0", specPath: "Specs/v2.json",
        specSHA256: String(repeating: "ab", count: 32), target: "ref:v2?features=stop-copy,p2p",
        device: device, features: ["stop-copy", "p2p"], migrationFlags: 3,
        started: "2026-01-01T00:00:00Z", ended: "2026-01-01T00:00:05Z", seed: UInt64.max,
        interrupted: interrupted, allowedHazards: [], variants: ["strict-111"])
    return RunReport(
        run: info, cases: cases, plan: PlanCost(resets: 4, operations: 40, lowerBoundResets: 3),
        hazardsSkipped: [
            SkippedHazard(
                caseID: "V2-HANG[STOP_COPY->PRE_COPY]", hazardID: "precopy-spin",
                effect: "the kernel spins with a lock held")
        ])
}

private func tempFolder() -> URL {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("migconform-report-tests-\(UUID().uuidString)", isDirectory: true)
}

/// Counts elements and attribute values of an XML document.
private final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var testcaseNames: [String] = []
    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        counts[elementName, default: 0] += 1
        if elementName == "testcase", let n = attributeDict["name"] { testcaseNames.append(n) }
    }
}

// MARK: - Tests

@Test func reportJUnitIsWellFormedWithRightCounts() throws {
    let report = sampleReport()
    let xml = JUnitReport.render(report)
    let parser = XMLParser(data: Data(xml.utf8))
    let counter = ElementCounter()
    parser.delegate = counter
    let ok = parser.parse()
    #expect(ok, "junit.xml does not parse: \(String(describing: parser.parserError))")
    #expect(counter.counts["testsuites"] == 1)
    #expect(counter.counts["testsuite"] == Set(report.cases.map { $0.ruleID }).count)
    #expect(counter.counts["testcase"] == report.cases.count)
    #expect(counter.counts["failure"] == 1)
    #expect(counter.counts["error"] == 2) // TIMEOUT and ERROR
    #expect(counter.counts["skipped"] == 3) // NOT_APPLICABLE, SKIPPED, XFAIL
    // Case names are engine-safe and decode back to the case ids; the ids themselves are properties.
    #expect(counter.testcaseNames.contains(EngineNames.encode("V2-SHOULD-X[\"quoted\" & <angle>]")))
    #expect(counter.testcaseNames.allSatisfy(EngineNames.isSafe))
    #expect(Set(counter.testcaseNames.compactMap(EngineNames.decode)) == Set(report.cases.map(\.id)))
    #expect(xml.contains(#"<system-out>id: V2-SHOULD-X[&quot;quoted&quot; &amp; &lt;angle&gt;]"#))
    #expect(
        !xml.contains("<testcase>")
            && xml.components(separatedBy: "<properties>").count - 1 == counter.counts["testsuite"])
    // No raw control character survives (XML 1.0 forbids them).
    #expect(!xml.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" })
    #expect(xml.contains("WARNING: SHOULD rule V2-SHOULD-X"))
    #expect(xml.contains(#"<skipped message="expected failure">"#))
    #expect(xml.contains(#"time="2.500""#)) // at most three decimals (junit-10.xsd)
    #expect(xml.matches(of: #/time="[0-9]+\.[0-9]{4,}"/#).isEmpty)
    let root = xml.split(separator: "\n").first { $0.hasPrefix("<testsuites ") }
    #expect(root != nil && !(root?.contains("skipped=") ?? true)) // junit-10.xsd has no skipped on the root
    #if canImport(FoundationXML) || os(macOS)
        let doc = try XMLDocument(data: Data(xml.utf8))
        #expect(try doc.nodes(forXPath: "//testcase").count == report.cases.count)
        #expect(try doc.nodes(forXPath: "//testcase/failure").count == 1)
        #expect(try doc.nodes(forXPath: "//testcase/skipped").count == 3)
        let classnames = try doc.nodes(forXPath: "//testcase/@classname").compactMap { $0.stringValue }
        #expect(classnames.contains("vfio-v2.V2-REJECT-ERROR"))
    #endif
}

@Test func reportTAPPlanMatchesAndLinesAreWellFormed() throws {
    let report = sampleReport()
    let tap = TAPReport.render(report)
    let lines = tap.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    #expect(lines.first == "TAP version 13")
    #expect(lines[1] == "1..\(report.cases.count)")
    let results = lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }
    #expect(results.count == report.cases.count)
    let pointPattern = try Regex(
        ##"^(ok|not ok) ([0-9]+) ([A-Za-z0-9_-]+)( # (SKIP|TIMEOUT|error|WARN|INFO|XFAIL|XPASS|FLAKE)( .*)?)?$"##)
    for (i, line) in results.enumerated() {
        let m = try #require(line.wholeMatch(of: pointPattern), "bad test point: \(line)")
        #expect(Int(m.output[2].substring ?? "") == i + 1)
        #expect(EngineNames.decode(String(m.output[3].substring ?? "")) == report.cases[i].id)
    }
    var inYAML = false
    for line in lines.dropFirst(2) {
        #expect(line.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "non-ASCII: \(line)")
        if line == "  ---" {
            #expect(!inYAML)
            inYAML = true
            continue
        }
        if line == "  ..." {
            #expect(inYAML)
            inYAML = false
            continue
        }
        if inYAML {
            #expect(line.hasPrefix("  "))
            // Every YAML scalar is a complete double-quoted string (or the numeric duration).
            if let colon = line.range(of: ": "), !line.hasPrefix("    - "), !line.hasPrefix("  duration_us: ") {
                let value = line[colon.upperBound...]
                #expect(value.hasPrefix("\"") && value.hasSuffix("\""), "unquoted YAML: \(line)")
            }
        } else {
            #expect(line.hasPrefix("ok ") || line.hasPrefix("not ok ") || line.hasPrefix("# "), "stray: \(line)")
        }
    }
    #expect(!inYAML)
    #expect(tap.contains("not ok 7 V2-TIMEOUT-CASE # TIMEOUT 5 seconds\n"))
    #expect(
        tap.contains(
            "ok 5 V2-PRECOPY__RUNNING-to-PRE_COPY # SKIP\n  ---\n  id: \"V2-PRECOPY[RUNNING->PRE_COPY]\"\n  message: \"not applicable: PRE_COPY not advertised\"\n  ...\n"
        ))
    #expect(tap.contains("ok 9 V1-RSV-110 # XFAIL expected failure\n"))
    #expect(tap.contains("ok 3 V2-SHOULD-X___22quoted_22_20_26_20_3cangle_3e # WARN\n"))
    #expect(tap.contains("not ok 8 V2-ERR-CASE # error adapter crashed: "))
    #expect(tap.contains("ok 1 V2-ARC__STOP-to-RUNNING\n  ---\n  id: \"V2-ARC[STOP->RUNNING]\"\n  ...\n"))
    #expect(tap.contains(#"  message: "device moved to ERROR: a <b> & \"c\" 'd'\nsecond line\x07 bell"#))
    #expect(tap.contains(#"  level: "MUST""#) && tap.contains(#"  rule: "V2-REJECT-ERROR""#))
    #expect(tap.contains("  duration_us: 1234\n"))
}

@Test func reportMarkdownLeadsWithVerdictAndShowsFailures() {
    let report = sampleReport()
    let md = MarkdownReport.render(report)
    let lines = md.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines[0] == "# NOT CONFORMANT to vfio-v2 1.0")
    #expect(lines[2].hasPrefix("**NOT CONFORMANT**: 2 MUST-level cases failed or timed out (1 FAIL, 1 TIMEOUT)"))
    #expect(md.unicodeScalars.allSatisfy { $0 == "\n" || ($0.value >= 0x20 && $0.value < 0x7F) })
    // Text that a Markdown renderer would take for an HTML tag is escaped; other text stays as written.
    #expect(md.contains("a \\<b> & \"c\""))
    #expect(!md.contains(" <b>"))
    #expect(md.contains("uapi: enum vfio_device_mig_state & \\<ERROR>"))
    let flat = md.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    for c in report.cases where [.fail, .timeout, .error, .warn].contains(c.verdict) {
        let statement = MarkdownReport.md(c.statement).split(separator: " ").joined(separator: " ")
        #expect(flat.contains(statement), "missing statement of \(c.id)")
        #expect(md.contains("`\(PlainText.line(c.id))`"))
    }
    #expect(md.contains("    3. set-state RUNNING_P2P -> ok state=RUNNING_P2P data_fd=-1 (12 us)"))
    #expect(md.contains("    4. set-state ERROR -> EINVAL (7 us)"))
    #expect(md.contains("    1. read fd=7 count=1 -> no answer: timed out after 5 s (5.00 s)"))
    #expect(md.contains("## Device choices (1)"))
    #expect(md.contains("## Hazards skipped (1)"))
    #expect(md.contains("| V2-ARC "))
    // Failures come before warnings, warnings before the rule table.
    let f = md.range(of: "## Failures")!.lowerBound
    let w = md.range(of: "## Warnings")!.lowerBound
    let t = md.range(of: "## Rules")!.lowerBound
    #expect(f < w && w < t)
    let long = lines.filter { $0.count > MarkdownReport.width && !$0.hasPrefix("    ") }
    #expect(long.isEmpty, "long lines: \(long)")
}

@Test func reportMarkdownInterruptedRunIsNotCalledConformant() {
    var report = sampleReport(interrupted: true)
    report.cases = report.cases.filter { !ReportFacts.isBreaking($0.verdict) }
    report.summary = RunSummary(cases: report.cases)
    let md = MarkdownReport.render(report)
    #expect(md.hasPrefix("# INCOMPLETE run against vfio-v2 1.0"))
    #expect(ConsoleSummary.render(report, color: false).hasPrefix("INCOMPLETE"))
}

@Test func reportTranscriptFormatter() {
    #expect(
        TranscriptFormatter.line(entry(2, .setState(5), .state(5, dataFD: -1)))
            == "set-state RUNNING_P2P -> ok state=RUNNING_P2P data_fd=-1 (12 us)")
    #expect(TranscriptFormatter.text(entry(0, .setState(9), .failed(.EINVAL))) == "set-state 9 -> EINVAL")
    #expect(
        TranscriptFormatter.text(entry(0, .getMigrationFlags, .value(7)))
            == "get-migration-flags -> ok flags=0x7 (STOP_COPY|P2P|PRE_COPY)")
    #expect(
        TranscriptFormatter.text(entry(0, .regionWrite(offset: 0, width: 4, value: 3), .done))
            == "region-write device_state (u32) = 0x3 (SAVING|RUNNING) -> ok")
    #expect(
        TranscriptFormatter.text(entry(0, .regionRead(offset: 0, width: 4), .value(0x8000_0001)))
            == "region-read device_state (u32) -> ok 0x80000001 (RUNNING, reserved bits 0x80000000)")
    #expect(
        TranscriptFormatter.text(entry(0, .write(fd: 8, bytes: Array(0..<16)), .value(4096), byteCount: 4096))
            == "write fd=8 4096 bytes 0001020304050607... -> ok written=4096")
    #expect(
        TranscriptFormatter.text(entry(0, .read(fd: 7, count: 64), .bytes([]), byteCount: 0))
            == "read fd=7 count=64 -> ok 0 bytes (end of stream)")
    #expect(
        TranscriptFormatter.operation(.feature(flags: FeatureRequest.set | 2, payload: [5, 0, 0, 0]))
            == "feature SET MIG_DEVICE_STATE payload=4 bytes 05000000")
    #expect(TranscriptFormatter.operation(.disableInterrupts(index: 2)) == "disable-interrupts MSI-X (index 2)")
}

@Test func reportWriterRoundTripsAndHashesFiles() throws {
    let folder = tempFolder().appendingPathComponent("nested/run", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent().deletingLastPathComponent()) }
    let report = sampleReport()
    let written = try ReportWriter.write(report, to: folder, additionalFiles: ["diagram.dot": Data("digraph {}".utf8)])

    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    #expect(names == ["diagram.dot", "junit.xml", "report.json", "report.md", "report.tap"])
    #expect(Set(written.files.keys) == ["diagram.dot", "junit.xml", "report.md", "report.tap"])
    for (name, hash) in written.files {
        let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
        #expect(SHA256.hex(bytes) == hash, "hash of \(name)")
    }

    for path in [folder.path, folder.path + "/", folder.appendingPathComponent("report.json").path] {
        let loaded = try ReportReader.load(path)
        #expect(loaded.files == written.files)
        #expect(try ReportJSON.encode(loaded) == ReportJSON.encode(written))
        #expect(loaded.cases.map { $0.transcript } == report.cases.map { $0.transcript })
        #expect(loaded.cases.map { $0.reproducer } == report.cases.map { $0.reproducer })
        #expect(loaded.cases.map { $0.verdict } == report.cases.map { $0.verdict })
        #expect(loaded.cases.map { $0.message } == report.cases.map { $0.message })
        #expect(loaded.run.seed == UInt64.max)
        #expect(loaded.summary.conformant == false)
        #expect(loaded.summary.verdicts == report.summary.verdicts)
    }

    // report.json reads well: sorted keys, transcript entries in their readable form.
    let json = try String(contentsOf: folder.appendingPathComponent("report.json"), encoding: .utf8)
    #expect(json.contains(#""op" : "set-state""#))
    #expect(json.contains(#""errno" : "EINVAL""#))
    #expect(json.contains(#""text" : "set-state ERROR -> EINVAL""#))

    // Writing again over the same folder replaces the files and leaves no temporary file behind.
    try ReportWriter.write(report, to: folder)
    let again = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(!again.contains { $0.hasPrefix(".") })
}

@Test func reportReaderNamesTheFileInErrors() throws {
    let folder = tempFolder()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("report.json")

    // Missing.
    #expect { try ReportReader.load(folder.path) } throws: { error in
        guard let e = error as? ReportReadError else { return false }
        return e.kind == .missing && "\(e)".contains(file.path)
    }
    // Not JSON.
    try Data("{ this is not json".utf8).write(to: file)
    #expect { try ReportReader.load(folder.path) } throws: { error in
        guard let e = error as? ReportReadError else { return false }
        return e.kind == .notJSON && "\(e)".contains(file.path)
    }
    // Unknown schema version.
    try Data(#"{"schemaVersion": 99}"#.utf8).write(to: file)
    #expect { try ReportReader.load(file.path) } throws: { error in
        guard let e = error as? ReportReadError else { return false }
        return e.kind == .unknownSchema(99) && "\(e)".contains(file.path) && "\(e)".contains("99")
    }
    // Right version, wrong shape: the JSON path of the problem is named.
    var broken = try JSONSerialization.jsonObject(with: ReportJSON.encode(sampleReport())) as! [String: Any]
    var cases = broken["cases"] as! [[String: Any]]
    cases[1]["verdict"] = "MAYBE"
    broken["cases"] = cases
    try JSONSerialization.data(withJSONObject: broken).write(to: file)
    #expect { try ReportReader.load(file.path) } throws: { error in
        guard let e = error as? ReportReadError else { return false }
        return e.kind == .invalid && "\(e)".contains(file.path) && "\(e)".contains("$.cases[1].verdict")
    }
    // A value of the wrong JSON type is told in JSON's words, not Swift's.
    cases[1]["verdict"] = "PASS"
    cases[1]["durationMicros"] = "12"
    broken["cases"] = cases
    try JSONSerialization.data(withJSONObject: broken).write(to: file)
    #expect { try ReportReader.load(file.path) } throws: { error in
        guard let e = error as? ReportReadError else { return false }
        return "\(e)".contains("at $.cases[1].durationMicros: expected a whole number of 0 or more, found a string")
            && !"\(e)".contains("UInt64")
    }
    // A number no field holds (Foundation names no place for it): found, with its line.
    for bad in ["-5", "1.5", "18446744073709551616"] {
        var text = String(
            decoding: try JSONSerialization.data(withJSONObject: broken, options: [.sortedKeys]), as: UTF8.self)
        text = text.replacingOccurrences(of: #""durationMicros":"12""#, with: #""durationMicros":\#(bad)"#)
        try Data(text.utf8).write(to: file)
        #expect { try ReportReader.load(file.path) } throws: { error in
            guard let e = error as? ReportReadError else { return false }
            return "\(e)".contains("at $.cases[1].durationMicros: \(bad) does not fit") && e.position != nil
        }
    }
}

/// A report.json cut short says where reading stopped, and a folder with a journal says how to rebuild from it;
/// a journal given where a report is expected is named as one.
@Test func reportReaderPointsAtTheBreakAndAtTheJournal() throws {
    let folder = tempFolder()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("report.json")
    let whole = try ReportJSON.encode(sampleReport())
    try whole.prefix(whole.count / 2).write(to: file)

    // Truncated, no journal: line:column and byte offset, no hint.
    #expect { try ReportReader.load(folder.path) } throws: { error in
        guard let e = error as? ReportReadError, let at = e.position else { return false }
        let text = "\(e)"
        return e.kind == .notJSON && text.hasPrefix("\(file.path):\(at.line):\(at.column): not valid JSON: ")
            && text.contains("(byte ") && !text.contains("--from-journal")
    }
    // With a journal beside it: the command that rebuilds the report.
    let journal = folder.appendingPathComponent(RunJournal.fileName)
    try Data("{}\n".utf8).write(to: journal)
    let hint = "'migconform report --from-journal \(folder.path)'"
    #expect { try ReportReader.load(folder.path) } throws: { error in
        "\(error)".contains("not valid JSON") && "\(error)".contains(hint)
    }
    // The journal itself given as the report.
    #expect { try ReportReader.load(journal.path) } throws: { error in
        guard let e = error as? ReportReadError else { return false }
        return e.kind == .journal && "\(e)".contains("journal") && "\(e)".contains(hint)
    }
    let verified = ReportVerifier.verify(journal.path)
    #expect(verified.unreadable && verified.problems.joined().contains(hint), "\(verified.problems)")
    // Only the journal: no report.json, and how to make one.
    try FileManager.default.removeItem(at: file)
    #expect { try ReportReader.load(folder.path) } throws: { error in
        guard let e = error as? ReportReadError else { return false }
        return e.kind == .missing && "\(e)".contains("no report.json in this folder") && "\(e)".contains(hint)
    }
    let onlyJournal = ReportVerifier.verify(folder.path)
    #expect(onlyJournal.unreadable && onlyJournal.problems.joined().contains(hint), "\(onlyJournal.problems)")
}

@Test func reportJSONKeepsEveryFieldOfTheResultModel() throws {
    // The readable encoding mirrors the result model; a field added to the model must appear here too.
    let report = sampleReport()
    let plain = JSONEncoder()
    let model = try JSONSerialization.jsonObject(with: plain.encode(report)) as! [String: Any]
    let ours = try JSONSerialization.jsonObject(with: ReportJSON.encode(report)) as! [String: Any]
    #expect(Set(model.keys) == Set(ours.keys))
    let modelCase = (model["cases"] as! [[String: Any]])[1]
    let ourCase = (ours["cases"] as! [[String: Any]])[1]
    #expect(Set(modelCase.keys) == Set(ourCase.keys))
    let modelEntry = (modelCase["transcript"] as! [[String: Any]])[0]
    let ourEntry = (ourCase["transcript"] as! [[String: Any]])[0]
    #expect(Set(modelEntry.keys).subtracting(ourEntry.keys).isEmpty)

    // Reports in the synthesized form (as the model encodes itself) load too.
    let decoded = try ReportReader.decode(plain.encode(report), file: "plain.json")
    #expect(decoded.cases.map { $0.transcript } == report.cases.map { $0.transcript })
    #expect(decoded.cases.map { $0.reproducer } == report.cases.map { $0.reproducer })
}

@Test func reportConsoleSummary() {
    let report = sampleReport()
    let plain = ConsoleSummary.render(report, color: false)
    let lines = plain.split(separator: "\n").map(String.init)
    #expect(lines[0].hasPrefix("NOT CONFORMANT to vfio-v2 1.0"))
    #expect(!plain.contains("\u{1B}")) // neither our colors nor the device's escape sequences
    #expect(plain.contains("FAIL    MUST       V2-REJECT-ERROR[RUNNING_P2P]"))
    #expect(plain.contains("TIMEOUT MUST NOT   V2-TIMEOUT-CASE"))
    let failAt = lines.firstIndex { $0.hasPrefix("FAIL") }!
    let warnAt = lines.firstIndex { $0.hasPrefix("WARN") }!
    #expect(failAt < warnAt)
    #expect(lines.allSatisfy { $0.count <= ConsoleSummary.width + 10 })
    let colored = ConsoleSummary.render(report, color: true)
    #expect(colored.contains("\u{1B}[1;31mNOT CONFORMANT\u{1B}[0m"))
}

@Test func aSpecThatIsNotTheRunsLendsNoCitations() throws {
    let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
    let own = CitationSources.of(report)
    #expect(!own.entries.isEmpty)
    // The run's own spec, given, is used as it is; another spec (v1's) is not: the run's is found again.
    #expect(CitationSources.of(report, spec: TestSupport.v2).entries == own.entries)
    #expect(CitationSources.of(report, spec: TestSupport.v1).entries == own.entries)
    #expect(TestSupport.v1.sources != TestSupport.v2.sources)
}

// MARK: - A run cut short

/// The sample report as a run cut short would leave it: the last `stopped` cases never ran (`not run: <why>`).
private func cutShortReport(why: String, stopped: Int = 2) -> RunReport {
    var report = sampleReport(interrupted: true)
    report.run.stopReason = why
    for i in 0..<stopped {
        report.cases.append(
            CaseResult(
                id: "V2-LATER[\(i)]", ruleID: "V2-LATER", level: .must, statement: "Later.", cite: "uapi: later",
                verdict: .skipped, message: "not run: \(why)"))
    }
    report.summary = RunSummary(cases: report.cases)
    return report
}

@Test(arguments: ["interrupted by SIGINT", "--max-failures 1 reached", "the device is wedged: reset hung"])
func junitCountsCasesACutShortRunNeverReachedAsErrors(_ why: String) throws {
    let report = cutShortReport(why: why)
    let xml = JUnitReport.render(report)
    #expect(XMLParser(data: Data(xml.utf8)).parse())
    // TIMEOUT and ERROR as before, the two cases the run never reached, and the run's own: it was cut short.
    let root = try #require(xml.split(separator: "\n").first { $0.hasPrefix("<testsuites ") })
    #expect(root.contains(#"tests="\#(report.cases.count + 1)" failures="1" errors="5""#), "\(root)")
    #expect(xml.contains(#"<testsuite name="run-cut-short" tests="1" failures="0" errors="1" skipped="0""#))
    #expect(xml.contains("the run was cut short: \(why); 2 cases not run"))
    #expect(xml.components(separatedBy: "<error type=\"NOT_RUN\" message=\"not run: \(why)\">").count - 1 == 2)
    #expect(!xml.contains("<skipped message=\"skipped: not run:"))
    #expect(xml.contains("The run was cut short before this case ran (\(why))\nRule: V2-LATER (MUST)"))
    let later = try #require(xml.split(separator: "\n").first { $0.contains(#"<testsuite name="V2-LATER""#) })
    #expect(later.contains(#"tests="2" failures="0" errors="2" skipped="0""#), "\(later)")
    // Skips the run chose stay skips: the hazard not allowed, the feature not advertised, the expected failure.
    #expect(xml.contains(#"<skipped message="skipped: hazard not allowed"/>"#))
    #expect(xml.components(separatedBy: "<skipped ").count - 1 == 3)
}

@Test func tapBailsOutAfterTheTestPointsOfARunCutShort() throws {
    let report = cutShortReport(why: "interrupted by SIGINT")
    let lines = TAPReport.render(report).split(separator: "\n").map(String.init)
    let bail = try #require(lines.firstIndex { $0.hasPrefix("Bail out!") })
    #expect(lines[bail] == "Bail out! interrupted by SIGINT")
    #expect(lines.filter { $0.hasPrefix("Bail out!") }.count == 1)
    // After every test point and its YAML block; kselftest's totals still close the file.
    let lastPoint = try #require(lines.lastIndex { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") })
    #expect(lastPoint < bail)
    #expect(lines[(lastPoint + 1)..<bail].allSatisfy { $0.hasPrefix("  ") })
    #expect(lines.last?.hasPrefix("# Totals: ") == true)
    // A reason that would break the line is kept on it.
    var odd = report
    odd.run.stopReason = "killed\nnot ok 99 fake # SKIP"
    #expect(TAPReport.render(odd).contains("\nBail out! killed\\nnot ok 99 fake # SKIP\n"))
    odd.run.stopReason = nil
    #expect(TAPReport.render(odd).contains("\nBail out! the run was cut short\n"))
    // A run that finished never bails out.
    #expect(!TAPReport.render(sampleReport()).contains("Bail out!"))
}

@Test func diffPrintsAnEmptyFeatureProfileAsNone() {
    let old = sampleReport()
    var new = sampleReport()
    new.run.features = []
    let lost = ReportDiff.compare(old, new).notes
    #expect(lost.contains("the device's feature profile changed: stop-copy,p2p -> (none)"), "\(lost)")
    let gained = ReportDiff.compare(new, old).notes
    #expect(gained.contains("the device's feature profile changed: (none) -> stop-copy,p2p"), "\(gained)")
    #expect(!ReportDiff.compare(old, old).notes.contains { $0.contains("feature profile") })
}
