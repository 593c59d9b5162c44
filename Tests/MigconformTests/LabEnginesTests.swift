import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSpec
import Testing

@testable import MigconformLab
@testable import MigconformReport

// MARK: - Engine-safe names

/// Every case id and rule id either spec can produce: every profile, with no variant and with each variant.
private func allIDs(_ spec: Spec) -> Set<String> {
    var ids: Set<String> = []
    let profiles = spec.profiles.isEmpty ? [Profile(name: "none", features: [])] : spec.profiles
    let variantChoices: [Set<String>] = [[]] + spec.variants.map { [$0.id] }
    for profile in profiles {
        let machine = Machine(spec: spec, features: Set(profile.features))
        for variants in variantChoices {
            for c in Expander.expand(machine, options: ExpansionOptions(variants: variants)) {
                ids.insert(c.id)
                ids.insert(c.rule.id)
            }
        }
    }
    return ids
}

@Test func engineNamesRoundTripEveryCaseIDOfBothSpecs() {
    var names: [String: String] = [:]
    for spec in [TestSupport.v2, TestSupport.v1] {
        let ids = allIDs(spec)
        #expect(ids.count > 50, "\(spec.id): too few ids enumerated")
        for id in ids {
            let name = EngineNames.encode(id)
            #expect(EngineNames.isSafe(name), "\(id) -> \(name) is not engine-safe")
            #expect(name.wholeMatch(of: #/[A-Za-z0-9_-]+/#) != nil)
            #expect(!name.contains("."))
            #expect(EngineNames.decode(name) == id, "\(id) -> \(name) does not decode back")
            if let other = names[name], other != id { Issue.record("\(id) and \(other) share the name \(name)") }
            names[name] = id
        }
    }
}

@Test func engineNamesReadWellForTheSpecsIDs() {
    #expect(EngineNames.encode("V2-ARC-DATA-FD[RUNNING->PRE_COPY]") == "V2-ARC-DATA-FD__RUNNING-to-PRE_COPY")
    #expect(
        EngineNames.encode("V2-REJECT-OUT-OF-RANGE[STOP_COPY->4294967295]")
            == "V2-REJECT-OUT-OF-RANGE__STOP_COPY-to-4294967295")
    #expect(EngineNames.encode("V1-ARC-OTHER[STOPPED->RUNNING]") == "V1-ARC-OTHER__STOPPED-to-RUNNING")
    #expect(EngineNames.encode("V2-ROUND-TRIP") == "V2-ROUND-TRIP")
}

@Test(arguments: [
    "", "a", "_", "__", "-", "->", "-to-", "x-to-y", "x->y", "-to->", "-->", "a__b", "a[b", "a]b", "[[x]]", "[]",
    "][", "a_", "_a", "_A", "A_", "A__B", "A_[B]", "A[_B]", "setup", "SETUP", "SeTuP-x", "x-setup", "sssetup",
    "run_setup_1", "a.b", "a b", "a\tb", "\u{2192}", "caf\u{E9}", "\u{1F600}", "V2-SHOULD-X[\"quoted\" & <angle>]",
    "_2d", "_5f", "-_2d", "to-", "-to", "V2-X[A->B][C->D]", "X[Y[Z]]", "\u{0}", "a#b", "a\\b", "_73etup",
])
func engineNamesAreInjectiveAndSafeOnHostileStrings(_ id: String) {
    let name = EngineNames.encode(id)
    #expect(name.unicodeScalars.allSatisfy(EngineNames.isSafeCharacter), "\(id.debugDescription) -> \(name)")
    #expect(!name.lowercased().contains("setup"), "\(id.debugDescription) -> \(name)")
    #expect(
        EngineNames.decode(name) == id,
        "\(id.debugDescription) -> \(name) -> \(String(describing: EngineNames.decode(name)))")
}

@Test func engineNamesRejectNamesTheyDoNotMake() {
    for bad in ["a.b", "a b", "_", "_g1", "_5", "_2D", "a_5F", "_5fA"] {
        #expect(EngineNames.decode(bad) == nil, "\(bad) decoded")
    }
    // A random sample of strings over a small alphabet: the names of distinct strings are distinct.
    var rng = SystemRandomNumberGenerator()
    let alphabet = Array("-_[]>to sSetup.A1")
    var seen: [String: String] = [:]
    for _ in 0..<5000 {
        let s = String((0..<Int.random(in: 0...8, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        let name = EngineNames.encode(s)
        #expect(EngineNames.decode(name) == s, "\(s.debugDescription) -> \(name)")
        if let other = seen[name], other != s {
            Issue.record("\(s.debugDescription) and \(other.debugDescription) -> \(name)")
        }
        seen[name] = s
    }
}

// MARK: - Runs used below

private func referenceReport() throws -> RunReport {
    try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(ReferenceDeviceV2.Configuration()), target: "ref:v2")
}

private func faultReport(_ name: String) throws -> RunReport {
    let entry = try #require(FaultCatalogue.entry(named: name))
    let spec = entry.generation == .v1 ? TestSupport.v1 : TestSupport.v2
    return try TestSupport.run(spec, entry.makeDevice(flags: nil, stateSize: nil), target: "fault:\(name)")
}

/// A report with one case of every verdict, for the mappings.
private func everyVerdictReport() throws -> RunReport {
    var r = try faultReport("missing-arc")
    let template = r.cases[0]
    var extra: [CaseResult] = []
    for v in Verdict.allCases {
        var c = template
        c.id = "V2-EVERY[\(v.rawValue)->X]"
        c.ruleID = "V2-EVERY"
        c.level = v == .warn ? .should : v == .info ? .may : .must
        c.verdict = v
        c.message = v == .skipped ? "not run: --max-failures 1 reached" : "verdict \(v.rawValue)"
        switch v {
        case .xfail:
            c.rawVerdict = .fail
            c.expectation = "known bug https://bugs.example.org/1"
        case .xpass:
            c.rawVerdict = .pass
            c.expectation = "fixed upstream?"
        case .flake:
            c.rawVerdict = .fail
            c.attempts = 2
        default: break
        }
        extra.append(c)
    }
    var warnFirst = template
    warnFirst.id = "V2-EVERY[FLAKE-WARN]"
    warnFirst.ruleID = "V2-EVERY"
    warnFirst.level = .should
    warnFirst.verdict = .flake
    warnFirst.rawVerdict = .warn
    extra.append(warnFirst)
    // The runner's or the channel's failure first, then a pass: the device passed.
    var errorFirst = warnFirst
    errorFirst.id = "V2-EVERY[FLAKE-ERROR]"
    errorFirst.level = .must
    errorFirst.rawVerdict = .error
    extra.append(errorFirst)
    r.cases += extra
    return r
}

// MARK: - KCIDB

private let kcidbOptions = KCIDBExport.Options(
    origin: "migconform_lab", buildID: "migconform_lab:build-6.18-x86_64",
    artifactsURL: "https://artifacts.example.org/run-1")

/// Encodes and parses back, so the checks see exactly the JSON a submitter sends.
private func exportedJSON(_ r: RunReport) throws -> [String: Any] {
    let text = try KCIDBExport.render(r, options: kcidbOptions)
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Test(arguments: ["reference", "missing-arc", "every-verdict"])
func kcidbExportPassesTheSchemaRules(_ which: String) throws {
    let report =
        which == "reference"
        ? try referenceReport()
        : which == "every-verdict" ? try everyVerdictReport() : try faultReport(which)
    let json = try exportedJSON(report)
    #expect(KCIDBSchema.problems(json) == [])
    let tests = try #require(json["tests"] as? [[String: Any]])
    #expect(tests.count == report.cases.count)
    let version = try #require(json["version"] as? [String: Any])
    #expect(version["major"] as? Int == 5 && version["minor"] as? Int == 3)
    var ids: Set<String> = []
    for (t, c) in zip(tests, report.cases) {
        let id = try #require(t["id"] as? String)
        #expect(id.hasPrefix("migconform_lab:"))
        ids.insert(id)
        #expect(t["build_id"] as? String == "migconform_lab:build-6.18-x86_64")
        #expect(t["path"] as? String == "migconform.\(EngineNames.encode(c.ruleID)).\(EngineNames.encode(c.id))")
        #expect(t["status"] as? String == KCIDBExport.status(c))
        let misc = try #require(t["misc"] as? [String: Any])
        #expect(misc["case_id"] as? String == c.id)
        #expect(misc["rule_id"] as? String == c.ruleID)
        #expect(misc["requirement_level"] as? String == c.level.rawValue)
        #expect(misc["migconform_verdict"] as? String == c.verdict.rawValue)
        let env = try #require((t["environment"] as? [String: Any])?["misc"] as? [String: Any])
        #expect(env["driver"] as? String == report.run.device.driver)
        #expect(env["target"] as? String == report.run.target)
        #expect(KCIDBSchema.isDateTime(try #require(t["start_time"] as? String)))
        #expect(t["duration"] is NSNumber)
        let files = try #require(t["output_files"] as? [[String: Any]])
        #expect(files.contains { $0["name"] as? String == "report.json" })
    }
    #expect(ids.count == tests.count, "test ids are not unique")
    if which == "missing-arc" {
        #expect(tests.contains { $0["status"] as? String == "FAIL" })
    }
}

/// The reference's passing run as if rebuilt from a journal with a line that could not be read.
private func damagedJournalReport() throws -> RunReport {
    let whole = try referenceReport()
    var info = whole.run
    info.journalDamaged =
        "line 12 of the journal could not be read (damaged on disk, or edited): a result it held may be lost"
    return RunReport(run: info, cases: whole.cases, plan: whole.plan)
}

@Test func kcidbExportOfADamagedJournalSaysAResultMayBeMissing() throws {
    let whole = try referenceReport()
    #expect(whole.summary.verdict == .conformant)
    let damaged = try damagedJournalReport()
    #expect(damaged.summary.verdict == .incomplete)
    for (report, extra) in [(whole, 0), (damaged, 1)] {
        let json = try exportedJSON(report)
        #expect(KCIDBSchema.problems(json) == [])
        let tests = try #require(json["tests"] as? [[String: Any]])
        #expect(tests.count == report.cases.count + extra)
        let journal = tests.filter { $0["path"] as? String == "migconform.journal" }
        #expect(journal.count == extra)
        guard let t = journal.first else { continue }
        // Every case passed: the one test that is not PASS is the journal's, so a consumer cannot read it as whole.
        #expect(t["status"] as? String == "ERROR")
        #expect((t["log_excerpt"] as? String)?.contains("line 12 of the journal") == true)
        let misc = try #require(t["misc"] as? [String: Any])
        #expect(misc["migconform_verdict"] as? String == "INCOMPLETE")
        #expect(Set(tests.map { $0["id"] as? String }).count == tests.count)
    }
}

@Test func kcidbStatusesFollowTheDocumentedMapping() throws {
    let report = try everyVerdictReport()
    let json = try exportedJSON(report)
    #expect(KCIDBSchema.problems(json) == [])
    let tests = try #require(json["tests"] as? [[String: Any]])
    var byID: [String: String] = [:]
    for t in tests { byID[(t["misc"] as! [String: Any])["case_id"] as! String] = t["status"] as? String }
    let expected: [String: String] = [
        "PASS": "PASS", "FAIL": "FAIL", "WARN": "PASS", "INFO": "DONE", "NOT_APPLICABLE": "SKIP", "SKIPPED": "MISS",
        "TIMEOUT": "FAIL", "ERROR": "ERROR", "XFAIL": "FAIL", "XPASS": "PASS", "FLAKE": "FAIL",
    ]
    for (verdict, status) in expected { #expect(byID["V2-EVERY[\(verdict)->X]"] == status, "\(verdict)") }
    #expect(byID["V2-EVERY[FLAKE-WARN]"] == "PASS")
    #expect(byID["V2-EVERY[FLAKE-ERROR]"] == "PASS")
    // WARN never becomes FAIL, whatever the case.
    for c in report.cases where c.verdict == .warn || c.deviceVerdict == .warn || c.rawVerdict == .warn {
        #expect(KCIDBExport.status(c) != "FAIL", "\(c.id)")
    }
    // XFAIL, XPASS and FLAKE each carry an incident of an issue; present only where the issue showed (the three
    // FLAKEs: after a FAIL, a WARN and an ERROR).
    let incidents = try #require(json["incidents"] as? [[String: Any]])
    let issues = try #require(json["issues"] as? [[String: Any]])
    #expect(incidents.count == 5)
    let issueIDs = Set(issues.compactMap { $0["id"] as? String })
    for i in incidents { #expect(issueIDs.contains(i["issue_id"] as? String ?? "")) }
    let xpass = incidents.first {
        ($0["test_id"] as? String)?.hasSuffix(EngineNames.encode("V2-EVERY[XPASS->X]")) ?? false
    }
    #expect(xpass?["present"] as? Bool == false)
    #expect(issues.contains { $0["report_url"] as? String == "https://bugs.example.org/1" }, "\(issues)")
}

@Test func kcidbExportOfAFaultWithWarningsNeverFailsOnAWarning() throws {
    // Faults that break SHOULD rules earn WARN; those cases must read PASS in KCIDB.
    var warned = 0
    for entry in FaultCatalogue.entries where entry.generation == .v2 {
        let r = try faultReport(entry.name)
        let json = try exportedJSON(r)
        #expect(KCIDBSchema.problems(json) == [], "\(entry.name)")
        let tests = json["tests"] as! [[String: Any]]
        for (t, c) in zip(tests, r.cases) where c.verdict == .warn {
            warned += 1
            #expect(t["status"] as? String == "PASS", "\(entry.name): \(c.id)")
        }
        if warned > 0 { break }
    }
    #expect(warned > 0, "no fault of the catalogue produced a WARN")
}

@Test func kcidbValidatorCatchesBrokenSubmissions() throws {
    let good = try exportedJSON(try faultReport("missing-arc"))
    #expect(KCIDBSchema.problems(good) == [])
    func broken(_ change: (inout [String: Any]) -> Void) -> [String] {
        var s = good
        var tests = s["tests"] as! [[String: Any]]
        var t = tests[0]
        change(&t)
        tests[0] = t
        s["tests"] = tests
        return KCIDBSchema.problems(s)
    }
    #expect(!broken { $0["status"] = "WARN" }.isEmpty)
    #expect(!broken { $0["path"] = "migconform..x" }.isEmpty)
    #expect(!broken { $0["path"] = "migconform/x" }.isEmpty)
    #expect(!broken { $0["path"] = "migconform.V2[X]" }.isEmpty)
    #expect(!broken { $0["waived"] = true }.isEmpty)
    #expect(!broken { $0["id"] = "no-origin-here" }.isEmpty)
    #expect(!broken { $0["id"] = "Upper:x" }.isEmpty)
    #expect(!broken { $0["origin"] = "other" }.isEmpty) // id no longer starts with the origin
    #expect(!broken { $0.removeValue(forKey: "build_id") }.isEmpty)
    #expect(!broken { $0["start_time"] = "yesterday" }.isEmpty)
    #expect(!broken { $0["duration"] = "1s" }.isEmpty)
    #expect(!broken { $0["comment"] = NSNull() }.isEmpty)
    #expect(!broken { $0["log_excerpt"] = String(repeating: "x", count: 16385) }.isEmpty)
    #expect(!broken { $0["output_files"] = [["name": "a/b", "url": "https://x/a"]] }.isEmpty)
    #expect(!broken { $0["environment"] = ["host": "h1"] }.isEmpty)
    var wrongVersion = good
    wrongVersion["version"] = ["major": 4, "minor": 5]
    #expect(!KCIDBSchema.problems(wrongVersion).isEmpty)
    var unknownTop = good
    unknownTop["results"] = []
    #expect(!KCIDBSchema.problems(unknownTop).isEmpty)
}

// MARK: - TAP and JUnit names

@Test func tapTestPointsAreKselftestStyleWithSafeNames() throws {
    let report = try everyVerdictReport()
    let tap = TAPReport.render(report)
    let points = tap.split(separator: "\n").map(String.init).filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }
    #expect(points.count == report.cases.count)
    let pattern = #/(ok|not ok) ([0-9]+) ([A-Za-z0-9_-]+)( # (SKIP|TIMEOUT|error|WARN|INFO|XFAIL|XPASS|FLAKE)( .*)?)?/#
    for (i, (line, c)) in zip(points, report.cases).enumerated() {
        let m = try #require(line.wholeMatch(of: pattern), "not a kselftest-style point: \(line)")
        #expect(Int(m.output.2) == i + 1)
        #expect(EngineNames.decode(String(m.output.3)) == c.id)
        #expect((m.output.1 == "ok") == (EngineVerdicts.lava(c) != "fail"), "\(line)")
    }
    #expect(tap.contains("not ok \(report.cases.count - 6) V2-EVERY__TIMEOUT-to-X # TIMEOUT "))
    let timeoutLine = try #require(points.first { $0.contains("V2-EVERY__TIMEOUT-to-X") })
    #expect(timeoutLine.wholeMatch(of: #/not ok [0-9]+ \S+ # TIMEOUT [0-9]+ seconds/#) != nil)
    #expect(points.contains { $0.wholeMatch(of: #/ok [0-9]+ V2-EVERY__SKIPPED-to-X # SKIP/#) != nil })
    #expect(points.contains { $0.wholeMatch(of: #/ok [0-9]+ V2-EVERY__WARN-to-X # WARN/#) != nil })
    #expect(points.contains { $0.wholeMatch(of: #/ok [0-9]+ V2-EVERY__XFAIL-to-X # XFAIL known bug .*/#) != nil })
    #expect(points.contains { $0.wholeMatch(of: #/not ok [0-9]+ V2-EVERY__FLAKE-to-X # FLAKE/#) != nil })
    #expect(points.contains { $0.wholeMatch(of: #/ok [0-9]+ V2-EVERY__FLAKE-WARN # FLAKE/#) != nil })
    #expect(points.contains { $0.wholeMatch(of: #/ok [0-9]+ V2-EVERY__FLAKE-ERROR # FLAKE/#) != nil })
    // The original id stays in the YAML block of every point whose name differs from it.
    #expect(tap.contains("  id: \"V2-ARC-STATE[STOP->RUNNING_P2P]\""))
}

/// A FLAKE whose first attempt failed is a failure in junit.xml as in TAP and LAVA (the rule was broken once); one
/// whose first attempt was an ERROR or a WARN is not.
@Test func junitCountsAFlakeThatFailedAsAFailure() throws {
    let report = try everyVerdictReport()
    let xml = JUnitReport.render(report)
    func testcase(_ name: String) -> String {
        guard let start = xml.range(of: "name=\"\(name)\"") else { return "" }
        let rest = xml[start.upperBound...]
        return String(rest[..<(rest.range(of: "</testcase>")?.lowerBound ?? rest.endIndex)])
    }
    #expect(testcase("V2-EVERY__FLAKE-to-X").contains("<failure type=\"FLAKE\""))
    #expect(!testcase("V2-EVERY__FLAKE-ERROR").contains("<failure"))
    #expect(!testcase("V2-EVERY__FLAKE-WARN").contains("<failure"))
    let failing = report.cases.filter {
        $0.verdict == .fail || ($0.verdict == .flake && EngineVerdicts.lava($0) == "fail")
    }
    #expect(xml.contains("<testsuites name=") && xml.contains("failures=\"\(failing.count)\""))
}

@Test func junitNamesAreSafeAndKeepTheOriginalIDs() throws {
    let report = try faultReport("missing-arc")
    let xml = JUnitReport.render(report)
    let names = xml.matches(of: #/<testcase classname="([^"]*)" name="([^"]*)"/#).map {
        (String($0.output.1), String($0.output.2))
    }
    #expect(names.count == report.cases.count)
    for ((classname, name), c) in zip(names, report.cases) {
        #expect(EngineNames.isSafe(name))
        #expect(EngineNames.decode(name) == c.id)
        #expect(classname == "\(report.run.specID).\(EngineNames.encode(c.ruleID))")
    }
    let ids = xml.matches(of: #/<system-out>id: ([^\n<]*)/#).map { String($0.output.1) }
    #expect(ids.count == report.cases.filter { EngineNames.encode($0.id) != $0.id || $0.verdict != .pass }.count)
    #expect(ids.contains("V2-ARC-STATE[STOP-&gt;RUNNING_P2P]"))
    #expect(!xml.contains("<property name=\"id\""))
}

/// The test names a kselftest output parser gives the points of `report.tap`, by the rules Linaro's
/// `automated/linux/kselftest/parse-output.py` applies (lava-kernelci.md §1.7; a model of its behaviour, not its
/// code): the description is the text before `#`; an `ok` point with a SKIP directive gets the directive's text
/// after `SKIP` appended; then `[digits]` is dropped, every run of characters outside `[A-Za-z0-9_-]` becomes `_`,
/// one `_` is trimmed from each end, `_-` becomes `__`; a repeated name gets `_dupN`.
private func kselftestParserNames(_ tap: String) -> [String] {
    var names: [String] = []
    var seen: [String: Int] = [:]
    for line in tap.split(separator: "\n").map(String.init) {
        guard let m = line.wholeMatch(of: #/(not ok|ok) [0-9]+ ?([^#]*)(#\s*(.*))?/#) else { continue }
        var name = String(m.output.2).trimmingCharacters(in: .whitespaces)
        let directive = m.output.4.map(String.init) ?? ""
        if m.output.1 == "ok", directive.lowercased().hasPrefix("skip") {
            name = (name + " " + directive.dropFirst(4)).trimmingCharacters(in: .whitespaces)
        }
        name = name.replacing(#/\[[0-9]{1,5}\]/#, with: "")
        name = name.replacing(#/[^A-Za-z0-9_-]+/#, with: "_")
        if name.hasPrefix("_") { name.removeFirst() }
        if name.hasSuffix("_") { name.removeLast() }
        name = name.replacingOccurrences(of: "_-", with: "__")
        seen[name, default: 0] += 1
        if seen[name]! > 1 { name += "_dup\(seen[name]!)" }
        names.append(name)
    }
    return names
}

@Test(arguments: ["ref:v2", "ref:v1", "fault:missing-arc", "fault:v1-write-leaves-error", "every-verdict"])
func tapNamesSurviveTheKselftestParser(_ which: String) throws {
    let report: RunReport
    switch which {
    case "ref:v2": report = try referenceReport()
    case "ref:v1":
        report = try TestSupport.run(
            TestSupport.v1, ReferenceDeviceV1(ReferenceDeviceV1.Configuration()), target: "ref:v1")
    case "every-verdict": report = try everyVerdictReport()
    default: report = try faultReport(String(which.dropFirst(6)))
    }
    let names = kselftestParserNames(TAPReport.render(report))
    #expect(names.count == report.cases.count)
    var rewritten: [String] = []
    for (name, c) in zip(names, report.cases) where name != EngineNames.encode(c.id) || EngineNames.decode(name) != c.id
    {
        rewritten.append("\(c.id) -> \(name)")
    }
    #expect(
        rewritten.isEmpty, "\(rewritten.count) of \(report.cases.count) names rewritten, e.g. \(rewritten.prefix(3))")
}

@Test func tapEndsWithKselftestTotals() throws {
    let report = try everyVerdictReport()
    let tap = TAPReport.render(report)
    let last = try #require(tap.split(separator: "\n").last.map(String.init))
    let m = try #require(
        last.wholeMatch(
            of: #/# Totals: pass:([0-9]+) fail:([0-9]+) xfail:([0-9]+) xpass:([0-9]+) skip:([0-9]+) error:([0-9]+)/#),
        "last line: \(last)")
    let counts = [m.output.1, m.output.2, m.output.3, m.output.4, m.output.5, m.output.6].map { Int($0)! }
    #expect(counts.reduce(0, +) == report.cases.count)
    func n(_ vs: [Verdict]) -> Int { report.cases.filter { vs.contains($0.verdict) }.count }
    #expect(counts[2] == n([.xfail]) && counts[3] == n([.xpass]) && counts[4] == n([.skipped, .notApplicable]))
    #expect(counts[5] == n([.error]))
    // ok points are the passes, xfails, xpasses and skips; not ok the failures and errors.
    let ok = tap.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count
    #expect(ok == counts[0] + counts[2] + counts[3] + counts[4])
    let reference = try referenceReport().cases
    let skips = reference.filter { [.skipped, .notApplicable].contains($0.verdict) }.count
    // Not applicable on the reference device with its own peers: two rules of features it lacks, four that need
    // feature 12 (Linux 7.1) and one about devices without PRE_COPY.
    #expect(skips == 7)
    #expect(
        TAPReport.totals(reference)
            == "# Totals: pass:\(reference.count - skips) fail:0 xfail:0 xpass:0 skip:7 error:0")
}

/// junit.xml against the schema Jenkins' xunit plugin publishes (kept in ../shared/reference/schemas), when xmllint
/// is installed (Debian: libxml2-utils; .ci/run installs it): a passing run, a failing run, every verdict.
@Test(
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/xmllint"),
        "xmllint is not installed (apt-get install libxml2-utils)"),
    arguments: ["ref:v2", "fault:missing-arc", "fault:v1-write-leaves-error", "every-verdict", "damaged-journal"])
func junitIsValidAgainstTheXunitSchema(_ which: String) throws {
    let schema = TestSupport.sharedReference.appendingPathComponent("schemas/junit-10.xsd")
    try #require(FileManager.default.fileExists(atPath: schema.path), "\(schema.path) is not there")
    let report =
        which == "ref:v2"
        ? try referenceReport()
        : which == "every-verdict"
            ? try everyVerdictReport()
            : which == "damaged-journal" ? try damagedJournalReport() : try faultReport(String(which.dropFirst(6)))
    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
        "migconform-junit-\(UUID().uuidString).xml")
    defer { try? FileManager.default.removeItem(at: file) }
    try Data(JUnitReport.render(report).utf8).write(to: file)
    let r = try ChildProcess.run(
        "/usr/bin/xmllint", ["--noout", "--schema", schema.path, file.path],
        stdout: .capture, stderr: .capture, timeout: 60)
    let said = String(decoding: r.errorOutput, as: UTF8.self)
    #expect(r.termination.exitStatus == 0, "\(which): \(said.split(separator: "\n").prefix(5).joined(separator: "\n"))")
    #expect(said.contains("validates"))
}

@Test func junitAndTapOfADamagedJournalDoNotReadAsWhole() throws {
    let report = try damagedJournalReport()
    #expect(report.cases.allSatisfy { ![.fail, .error, .timeout].contains($0.verdict) })
    let xml = JUnitReport.render(report)
    let root = try #require(xml.split(separator: "\n").first { $0.hasPrefix("<testsuites ") })
    #expect(root.contains(#"tests="\#(report.cases.count + 1)" failures="0" errors="1""#), "\(root)")
    #expect(xml.contains(#"<testsuite name="journal" tests="1" failures="0" errors="1" skipped="0""#))
    #expect(xml.contains("the report was rebuilt from a damaged journal: line 12 of the journal"))
    let tap = TAPReport.render(report).split(separator: "\n").map(String.init)
    #expect(tap.filter { $0.hasPrefix("Bail out!") } == ["Bail out! \(report.run.journalDamaged!)"])
    #expect(tap[1] == "1..\(report.cases.count)")
    // A rebuilt report whose only loss is the run's end record (every case ended; the cleanup's results are lost):
    // cut short, and said so in JUnit and KCIDB too, not only in TAP.
    var info = try referenceReport().run
    info.interrupted = true
    info.stopReason = "the journal ends before the run's end"
    let cut = RunReport(run: info, cases: try referenceReport().cases)
    #expect(JUnitReport.render(cut).contains(#"<testsuite name="run-cut-short" tests="1" failures="0" errors="1""#))
    let json = try exportedJSON(cut)
    #expect(KCIDBSchema.problems(json) == [])
    let tests = try #require(json["tests"] as? [[String: Any]])
    #expect(
        tests.filter { $0["path"] as? String == "migconform.run-cut-short" }.map { $0["status"] as? String } == [
            "ERROR"
        ])
    // The report it was rebuilt from, whole: neither.
    let whole = try referenceReport()
    #expect(!JUnitReport.render(whole).contains(#"name="journal""#))
    #expect(!TAPReport.render(whole).contains("Bail out!"))
}

// MARK: - LAVA

/// The built `migconform` binary beside the test bundle (any scratch path), or the default build's.
private var builtBinary: URL? {
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    var dir = me.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("migconform")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return TestSupport.binary
}

/// Parameters and run steps of the generated definition, read back from its YAML text.
private func definitionParts(_ yaml: String) throws -> (format: String, params: [(String, String)], steps: [String]) {
    func unquote(_ s: Substring) -> String {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("'"), t.hasSuffix("'"), t.count >= 2 else { return t }
        return String(t.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
    }
    var format = ""
    var params: [(String, String)] = []
    var steps: [String] = []
    var section = ""
    for line in yaml.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
        if !line.hasPrefix(" ") {
            section = String(line)
            continue
        }
        if section == "metadata:", line.hasPrefix("  format: ") { format = unquote(line.dropFirst(10)) }
        if section == "params:", let colon = line.firstIndex(of: ":") {
            params.append(
                (line[..<colon].trimmingCharacters(in: .whitespaces), unquote(line[line.index(after: colon)...])))
        }
        if section == "run:", line.hasPrefix("    - ") { steps.append(unquote(line.dropFirst(6))) }
    }
    return (format, params, steps)
}

/// Stand-in LAVA helpers that log each call to `calls.log`, like LAVA's own they exit 0 (raise exits 1).
private func standInHelpers(in dir: URL) throws {
    let bin = dir.appendingPathComponent("bin", isDirectory: true)
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    let log = dir.appendingPathComponent("calls.log").path
    let scripts = [
        "lava-test-case": "echo \"case $*\" >> '\(log)'; echo \"<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$1 RESULT=$3>\"",
        "lava-test-set": "echo \"set $*\" >> '\(log)'",
        "lava-test-reference": "echo \"reference $*\" >> '\(log)'",
        "lava-test-raise": "echo \"raise $*\" >> '\(log)'; exit 1",
    ]
    for (name, body) in scripts {
        // Written through a close-on-exec descriptor: a child another test starts meanwhile must not inherit it,
        // or exec of the script fails with ETXTBSY for as long as that child lives.
        let url = bin.appendingPathComponent(name)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        let bytes = Array("#!/bin/sh\n\(body)\n".utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw CocoaError(.fileWriteUnknown) }
    }
}

/// Runs the definition's steps the way LAVA's test shell does: one POSIX shell, `set -e`, parameters as variables.
/// `isolated`: inside `unshare -n`, a network namespace with no interface up (not even loopback), as in a minimal
/// initramfs. The shell is killed after `timeout` seconds (a hang fails the test instead of stalling it).
private func runDefinition(
    target: String, binary: URL, in dir: URL, extra: [String: String] = [:],
    isolated: Bool = false,
    timeout: Double = 600
) throws -> (status: Int32, calls: [String], output: String) {
    let yaml = LavaDefinition.render(version: migconformVersion)
    let parts = try definitionParts(yaml)
    var script = "set -e\ncd '\(dir.path)'\n"
    for (name, value) in parts.params {
        let v = name == "MIGCONFORM" ? binary.path : name == "TARGET" ? target : extra[name] ?? value
        script += "\(name)='\(v.replacingOccurrences(of: "'", with: "'\\''"))'\n"
    }
    script += parts.steps.joined(separator: "\n") + "\n"
    var env = ProcessInfo.processInfo.environment
    env["PATH"] = dir.appendingPathComponent("bin").path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    env["NO_COLOR"] = "1"
    let command = isolated ? ["/usr/bin/unshare", "-n", "/bin/sh", "-c", script] : ["/bin/sh", "-c", script]
    let r = try ChildProcess.run(
        command[0], Array(command.dropFirst()), environment: env,
        stdout: .capture, stderr: .capture, timeout: timeout)
    let log = (try? String(contentsOf: dir.appendingPathComponent("calls.log"), encoding: .utf8)) ?? ""
    let output =
        String(decoding: r.output, as: UTF8.self) + String(decoding: r.errorOutput, as: UTF8.self)
        + (r.timedOut ? "\n(killed after \(Int(timeout)) s)" : "")
    return (r.termination.shellStatus, log.split(separator: "\n").map(String.init), output)
}

/// True when this machine lets the tests make a network namespace (root, or user namespaces allowed).
private let canIsolateNetwork: Bool = {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return false }
    return (try? ChildProcess.run("/usr/bin/unshare", ["-n", "/bin/true"], stderr: .null, timeout: 10))?
        .termination.exitStatus == 0
}()

private func labFolder() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-lab-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try standInHelpers(in: dir)
    return dir
}

@Test func lavaDefinitionHasTheFormatAndOnlyOptionsTheBinaryHas() throws {
    let yaml = LavaDefinition.render(version: migconformVersion)
    let parts = try definitionParts(yaml)
    #expect(parts.format == "Lava-Test Test Definition 1.0")
    #expect(!yaml.contains("\nparse:") && !yaml.contains("\ninstall:"))
    #expect(parts.steps.count == LavaDefinition.steps.count)
    #expect(parts.params.map(\.0) == LavaDefinition.parameters.map(\.name))
    #expect(yaml.contains("  name: migconform\n"))
    for o in LavaDefinition.runOptionsUsed { #expect(parts.steps.joined().contains(o)) }
    guard let binary = builtBinary else { return }
    let help = try TestSupport.shell(binary, ["run", "--help"])
    for o in LavaDefinition.runOptionsUsed { #expect(help.stdout.contains("  \(o)"), "run has no \(o)") }
    let printed = try TestSupport.shell(binary, ["integrate", "lava"])
    #expect(printed.status == 0)
    #expect(printed.stdout == yaml)
}

/// The acceptance check: the definition's steps, stand-in helpers on PATH, a device; one LAVA case per case.
/// A conformant v2 run (the smallest profile: every case is one more helper process), a v1 run, and a failing run
/// (here only where the test without a network interface below cannot run it).
@Test(arguments: ["ref:v2?features=stop-copy", "ref:v1"] + (canIsolateNetwork ? [] : ["fault:missing-arc"]))
func lavaRunStepReportsEveryCaseAsItEnds(_ target: String) throws {
    guard let binary = builtBinary else {
        Issue.record("the migconform binary is not built")
        return
    }
    let dir = try labFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try runDefinition(target: target, binary: binary, in: dir)
    try checkEveryCaseReported(run, target: target, in: dir)
}

/// An INCOMPLETE run (here narrowed by --only) is reported like any other: every case in LAVA, exit 0, and no
/// lava-test-raise, which would end the job Incomplete as if the lab had failed.
@Test func anIncompleteRunUnderLavaExitsZeroWithoutRaising() throws {
    guard let binary = builtBinary else { return }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("lava-incomplete-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    let r = try TestSupport.shell(
        binary, ["run", "--lava", "--quiet", "--target", "ref:v2", "--only", "V2-ARC-STATE*", "--out", out.path])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(!r.stdout.contains("LAVA_SIGNAL_TESTRAISE"), "\(r.stdout.suffix(300))")
    #expect(r.stdout.contains("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=V2-ARC-STATE"))
    #expect(try ReportReader.load(out.path).summary.verdict == .incomplete)
}

/// The same with no network interface at all (loopback down, as in a minimal initramfs): helpers are started
/// with posix_spawn, which needs none (Foundation's Process hung there after the first case).
@Test(.enabled(if: canIsolateNetwork, "unshare -n is not available here"))
func lavaRunStepWorksWithoutAnyNetworkInterface() throws {
    guard let binary = builtBinary else {
        Issue.record("the migconform binary is not built")
        return
    }
    let dir = try labFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try runDefinition(target: "fault:missing-arc", binary: binary, in: dir, isolated: true, timeout: 300)
    try checkEveryCaseReported(run, target: "fault:missing-arc", in: dir)
}

/// SIGTERM (and SIGINT) in the middle of a `run --lava` without a network interface: the run ends within seconds,
/// every case it finished was reported to LAVA before it exited, the sets are closed, and the exit status is 0.
@Test(.enabled(if: canIsolateNetwork, "unshare -n is not available here"), arguments: [SIGTERM, SIGINT])
func lavaRunEndsOnASignalWithEveryFinishedCaseReported(_ sig: Int32) throws {
    guard let binary = builtBinary else {
        Issue.record("the migconform binary is not built")
        return
    }
    let dir = try labFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("report")
    var env = ProcessInfo.processInfo.environment
    env["PATH"] = dir.appendingPathComponent("bin").path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    let null = open("/dev/null", O_WRONLY)
    defer { close(null) }
    // unshare and env exec what they start: the pid is migconform's. A large state makes the cases slow.
    let pid = try ChildProcess.spawn(
        "/usr/bin/unshare",
        [
            "-n", binary.path, "run", "--lava", "--quiet",
            "--target", "ref:v2?state-size=64MiB", "--out", out.path,
        ],
        environment: env, stdout: null, stderr: null)
    let log = dir.appendingPathComponent("calls.log")
    func casesLogged() -> [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("case ") }
    }
    let start = ChildProcess.now()
    while casesLogged().count < 3 && ChildProcess.now() - start < 120 { usleep(20_000) }
    #expect(casesLogged().count >= 3, "no case reported in 120 s")
    kill(pid, sig)
    let signalled = ChildProcess.now()
    var ended: ChildProcess.Termination?
    while ended == nil && ChildProcess.now() - signalled < 60 {
        ended = try ChildProcess.poll(pid)
        if ended == nil { usleep(20_000) }
    }
    if ended == nil {
        kill(pid, SIGKILL)
        _ = try ChildProcess.wait(pid)
    }
    let status = try #require(ended, "the run did not end within 60 s of the signal")
    #expect(status.exitStatus == 0, "\(status)")
    let report = try ReportReader.load(out.path)
    #expect(report.run.interrupted)
    let reported = Set(casesLogged().map { String($0.split(separator: " ")[1]) })
    let finished = report.cases.filter { $0.otherShard == nil && $0.verdict != .skipped }
    #expect(finished.count >= 3)
    for c in finished { #expect(reported.contains(EngineNames.encode(c.id)), "\(c.id) ran but was not reported") }
    let calls = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n")
    #expect(calls.last == "set stop", "the last test set was left open")
}

/// Checks what the stand-in helpers logged against the report the run wrote: one LAVA case per case, each inside
/// the set of its rule, with the result the report implies.
private func checkEveryCaseReported(
    _ run: (status: Int32, calls: [String], output: String), target: String,
    in dir: URL
) throws {
    #expect(run.status == 0, "the step failed for \(target):\n\(run.output.suffix(2000))")
    let report = try ReportReader.load(dir.appendingPathComponent("migconform-report").path)
    #expect(report.summary.conformant == !target.hasPrefix("fault:"))
    let cases = run.calls.filter { $0.hasPrefix("case ") }.map { $0.split(separator: " ").map(String.init) }
    // A case a later case amended (a violation of its rule seen elsewhere) is reported again: the last wins.
    var last: [String: String] = [:]
    for call in cases {
        #expect(call.count == 4 && call[2] == "--result")
        last[call[1]] = call.last
    }
    #expect(cases.count >= report.cases.count)
    // Cases may run in another order than the report lists them: match by name.
    var expected: [String: (rule: String, result: String)] = [:]
    for c in report.cases {
        expected[EngineNames.encode(c.id)] = (EngineNames.encode(c.ruleID), EngineVerdicts.lava(c))
    }
    #expect(expected.count == report.cases.count)
    #expect(Set(last.keys) == Set(expected.keys), "some cases were not reported")
    for (name, result) in last {
        #expect(result == expected[name]?.result, "\(name): \(result) is not \(expected[name]?.result ?? "?")")
    }
    // Sets: every case inside the set of its rule; sets opened and closed in pairs.
    var open: String?
    for call in run.calls {
        let words = call.split(separator: " ").map(String.init)
        switch words.first {
        case "set" where words[1] == "start":
            #expect(open == nil)
            open = words[2]
        case "set" where words[1] == "stop":
            #expect(open != nil)
            open = nil
        case "case": #expect(open != nil && open == expected[words[1]]?.rule, "\(words[1]) outside its set")
        default: Issue.record("unexpected helper call: \(call)")
        }
    }
    #expect(open == nil)
    #expect(!run.calls.contains { $0.hasPrefix("raise") })
    // Streaming: the signals appear in the output before the run's summary.
    let firstSignal = try #require(run.output.range(of: "<LAVA_SIGNAL_TESTCASE"))
    let summary = try #require(run.output.range(of: "report: "))
    #expect(firstSignal.lowerBound < summary.lowerBound)
    if target.hasPrefix("fault:") { #expect(cases.contains { $0.last == "fail" }) }
}

@Test func lavaRunStepRaisesWhenThereIsNoDevice() throws {
    guard let binary = builtBinary else {
        Issue.record("the migconform binary is not built")
        return
    }
    for target in ["", "vfio:/dev/vfio/99999/0000:00:00.0"] {
        let dir = try labFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try runDefinition(target: target, binary: binary, in: dir)
        #expect(run.status != 0, "a run without a device must stop the definition")
        let raises = run.calls.filter { $0.hasPrefix("raise ") }
        #expect(!raises.isEmpty)
        #expect(raises.first?.hasPrefix("raise migconform-") ?? false)
        #expect(raises.first.map { !$0.dropFirst(6).contains(" ") } ?? false, "the raise message is one word")
        #expect(!run.calls.contains { $0.hasPrefix("case ") })
    }
}

@Test func lavaRunStepAttachesCaseDetailsWhenAsked() throws {
    guard let binary = builtBinary else {
        Issue.record("the migconform binary is not built")
        return
    }
    let dir = try labFolder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try runDefinition(target: "fault:missing-arc", binary: binary, in: dir, extra: ["CASE_OUTPUT": "yes"])
    #expect(run.status == 0)
    let failed = run.calls.filter { $0.hasPrefix("case ") && $0.contains("--result fail") }
    #expect(!failed.isEmpty)
    for call in failed { #expect(call.contains(" --output /"), "\(call)") }
    // A MAY case reports INFO, which LAVA calls a pass: its details are attached; a plain PASS gets none.
    let mayCases = TestSupport.v2.rules.filter { $0.level.family == "may" }.map { EngineNames.encode($0.id) }
    #expect(
        !run.calls.contains { call in
            call.hasPrefix("case ") && call.contains("--result pass --output")
                && !mayCases.contains { call.contains($0) }
        })
}

@Test func lavaReporterPrintsSignalsWhenHelpersAreMissing() throws {
    var lines: [String] = []
    let reporter = LavaReporter(helpers: .init(searchPath: ["/nonexistent"]) { lines.append($0) })
    let report = try everyVerdictReport()
    for c in report.cases.suffix(4) { reporter.report(c) }
    reporter.closeSet()
    #expect(lines.first == "<LAVA_SIGNAL_TESTSET START V2-EVERY>")
    #expect(lines.last == "<LAVA_SIGNAL_TESTSET STOP>")
    #expect(lines.contains("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=V2-EVERY__FLAKE-to-X RESULT=fail>"))
    #expect(lines.contains("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=V2-EVERY__FLAKE-WARN RESULT=pass>"))
    #expect(lines.contains("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=V2-EVERY__FLAKE-ERROR RESULT=pass>"))
    // An expected failure with a link goes in as a reference to it.
    let xfail = try #require(report.cases.first { $0.verdict == .xfail })
    reporter.report(xfail)
    #expect(
        lines.contains {
            $0.contains(
                "TESTREFERENCE TEST_CASE_ID=V2-EVERY__XFAIL-to-X RESULT=pass REFERENCE=https://bugs.example.org/1")
        })
}

@Test func lavaResultsNeverUnknownAndWarnNeverFail() {
    for v in Verdict.allCases {
        for first in [nil] + Verdict.allCases.map(Optional.some) {
            let r = EngineVerdicts.lava(v, first: first)
            #expect(["pass", "fail", "skip"].contains(r))
        }
    }
    #expect(EngineVerdicts.lava(.warn) == "pass")
    #expect(EngineVerdicts.lava(.info) == "pass")
    #expect(EngineVerdicts.lava(.flake, first: .warn) == "pass")
    #expect(EngineVerdicts.lava(.flake, first: .error) == "pass")
    #expect(EngineVerdicts.lava(.flake, first: .fail) == "fail")
    #expect(EngineVerdicts.lava(.timeout) == "fail")
    #expect(EngineVerdicts.lava(.notApplicable) == "skip")
}

// MARK: - KernelCI

@Test func kernelCIFragmentsNameTheSuiteAndTheDriver() throws {
    let driver = try #require(LavaKernelCI.drivers.first { $0.name == "mlx5" })
    let s = LavaKernelCI.Settings(
        driver: driver, deviceType: "x86-vfio-mig-mlx5", target: "vfio:/dev/vfio/12/0000:3b:00.2",
        repository: "https://git.example.org/testdefs.git", path: "lava/migconform.yaml")
    let config = LavaKernelCI.kernelConfig(s)
    for line in ["CONFIG_VFIO=y", "CONFIG_VFIO_PCI=y", "CONFIG_MLX5_VFIO_PCI=y"] {
        #expect(config.split(separator: "\n").contains(Substring(line)))
    }
    let pipeline = LavaKernelCI.pipelineConfig(s)
    #expect(pipeline.contains("    kcidb_test_suite: migconform\n"))
    #expect(pipeline.contains("migconform_target: 'vfio:/dev/vfio/12/0000:3b:00.2'"))
    #expect(!pipeline.lowercased().contains("setup"))
    let template = LavaKernelCI.lavaTemplate(s)
    // The template passes only parameters the definition has.
    let names = Set(LavaDefinition.parameters.map(\.name))
    let passed = template.matches(of: #/\n {8}([A-Z_]+): /#).map { String($0.output.1) }
    #expect(!passed.isEmpty)
    for p in passed { #expect(names.contains(p), "\(p) is not a definition parameter") }
    #expect(template.contains("path: lava/migconform.yaml"))
}

/// The KernelCI pieces as generated, checked against what kernelci-pipeline needs (lava-kernelci.md §2.2, the
/// upstream config it cites): parsed as YAML when python3 has PyYAML, else read as text.
@Test(arguments: ["mtty", "mlx5"])
func kernelCIPiecesAreRunnableAsGenerated(_ driverName: String) throws {
    let driver = try #require(LavaKernelCI.drivers.first { $0.name == driverName })
    let mtty = driverName == "mtty"
    let s = LavaKernelCI.Settings(
        driver: driver, deviceType: mtty ? "qemu-x86_64" : "x86-vfio-mig-mlx5",
        target: mtty ? LavaKernelCI.mttyTarget : "vfio:/dev/vfio/12/0000:3b:00.2",
        repository: "https://git.example.org/testdefs.git", path: "lava/migconform.yaml",
        migconformURL: "https://releases.example.org/migconform-x86_64")
    let pipeline = LavaKernelCI.pipelineConfig(s)
    let config = LavaKernelCI.kernelConfig(s)
    // Modules: the boot templates deploy none, so nothing is a module.
    #expect(!config.contains("=m") && !pipeline.contains("=m'"), "a module would never be loaded")
    // Checked in Python (PyYAML): the structure kernelci-pipeline reads.
    let check = #"""
        import sys, yaml
        c = yaml.safe_load(sys.stdin)
        kb, job = sys.argv[1], sys.argv[2]
        jobs, sched = c["jobs"], c["scheduler"]
        k = jobs[kb]
        assert k["kind"] == "kbuild" and k["template"] == "kbuild.jinja2", "kbuild kind/template"
        assert k["image"] == "ghcr.io/kernelci/{image_prefix}gcc-14:x86-kselftest-kernelci", k["image"]
        assert k["params"]["arch"] == "x86_64" and k["params"]["defconfig"] == "x86_64_defconfig", "x86 kbuild params"
        assert all(f in c["fragments"] for f in k["params"]["fragments"]), "fragment defined"
        ks = [e for e in sched if e["job"] == kb]
        assert ks and ks[0]["event"] == {"channel": "node", "kind": "checkout", "state": "available"}, "kbuild scheduled on checkout"
        assert ks[0]["runtime"]["name"] == "k8s-all", "kbuild runtime"
        j = jobs[job]
        assert j["kind"] == "job" and j["kcidb_test_suite"] == "migconform", "job kind/suite"
        ref = j["params"]["rootfs_ref"]
        assert ref in c["rootfs"] and c["rootfs"][ref]["nfsroot"].startswith("http"), "rootfs_ref resolves"
        assert j["params"]["migconform_url"].startswith("http"), "binary delivered"
        js = [e for e in sched if e["job"] == job]
        assert js and js[0]["event"]["name"] == kb and js[0]["event"]["kind"] == "kbuild", "job follows the kbuild"
        assert js[0]["runtime"]["type"] == "lava", "job runs on LAVA"
        for p in js[0]["platforms"]:
            assert p == "qemu-x86_64" or p in c.get("platforms", {}), "platform defined: " + p
        print("ok")
        """#
    let python = "/usr/bin/python3"
    if FileManager.default.isExecutableFile(atPath: python),
        (try? ChildProcess.run(python, ["-c", "import yaml"], stderr: .null, timeout: 30))?.termination.exitStatus == 0
    {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kci-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(pipeline.utf8).write(to: file)
        let fd = open(file.path, O_RDONLY)
        defer { close(fd) }
        let r = try ChildProcess.run(
            python, ["-c", check, s.kbuildName, s.jobName], stdin: .descriptor(fd),
            stdout: .capture, stderr: .capture, timeout: 60)
        #expect(r.termination.exitStatus == 0, "\(String(decoding: r.errorOutput, as: UTF8.self))")
    } else {
        #expect(pipeline.contains("  - job: \(s.kbuildName)\n    event:\n      channel: node\n      kind: checkout\n"))
        #expect(
            pipeline.contains("      rootfs_ref: \(s.rootfsRef)\n")
                && pipeline.contains("\n  \(s.rootfsRef):\n    nfsroot: 'http"))
        #expect(pipeline.contains("      migconform_url: 'https://"))
    }
    let template = LavaKernelCI.lavaTemplate(s)
    if mtty {
        // qemu-x86_64 is upstream's: not redefined; the mdev exists before migconform runs, the target is its cdev.
        #expect(!pipeline.contains("\nplatforms:"))
        let create = try #require(template.range(of: "mdev_supported_types/mtty-2/create"))
        let run = try #require(template.range(of: "path: lava/migconform.yaml"))
        #expect(create.lowerBound < run.lowerBound)
        #expect(pipeline.contains("migconform_target: 'vfio:/dev/vfio/devices/vfio0'"))
        #expect(config.contains("CONFIG_SAMPLE_VFIO_MDEV_MTTY=y") && config.contains("CONFIG_VFIO_DEVICE_CDEV=y"))
    } else {
        #expect(pipeline.contains("\nplatforms:\n  x86-vfio-mig-mlx5:\n"))
        #expect(!template.contains("mtty"))
    }
    #expect(!pipeline.lowercased().contains("setup") && !template.lowercased().contains("setup"))
}

@Test func integrateKernelCIRefusesToGenerateJobsWithoutTheBinary() throws {
    guard let binary = builtBinary else {
        Issue.record("the migconform binary is not built")
        return
    }
    let r = try TestSupport.shell(binary, ["integrate", "kernelci", "--driver", "mtty"])
    #expect(r.status == 2 && r.stderr.contains("--migconform-url"))
    let ok = try TestSupport.shell(
        binary, ["integrate", "kernelci", "--driver", "mtty", "--migconform-url", "https://x.example/m"])
    #expect(ok.status == 0)
    #expect(ok.stdout.contains("- qemu-x86_64") && ok.stdout.contains("migconform_url: 'https://x.example/m'"))
}

@Test func kcidbIDsAreStablePerRunAndDifferBetweenRuns() throws {
    let a = try faultReport("missing-arc")
    var b = a
    b.run.started = "2031-05-06T07:08:09Z"
    let keyA = KCIDBExport.runKey(a)
    let keyB = KCIDBExport.runKey(b)
    #expect(keyA.wholeMatch(of: #/[0-9a-f]{16}/#) != nil)
    #expect(keyA == KCIDBExport.runKey(a))
    #expect(keyA != keyB)
    let idsA = (try exportedJSON(a)["tests"] as! [[String: Any]]).compactMap { $0["id"] as? String }
    let idsB = (try exportedJSON(b)["tests"] as! [[String: Any]]).compactMap { $0["id"] as? String }
    #expect(Set(idsA).isDisjoint(with: idsB))
}

@Test func aRunCutShortIsOneFailedLavaCaseAndACompleteRunHasNone() throws {
    func signals(_ device: MigrationDevice, maxFailures: Int?) throws -> [String] {
        var lines: [String] = []
        var options = RunOptions(target: "test", expansion: ExpansionOptions())
        options.maxFailures = maxFailures
        let runner = Runner(spec: TestSupport.v2, device: device, options: options)
        runner.observers.append(LavaReporter(helpers: .init(searchPath: ["/nonexistent"]) { lines.append($0) }))
        _ = try runner.run()
        return lines
    }
    let fault = try #require(FaultCatalogue.entries.first { $0.name == "missing-arc" })
    let stopped = try signals(fault.makeDevice(), maxFailures: 1)
    let cut = "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=\(LavaReporter.cutShortCase) RESULT=fail>"
    #expect(stopped.suffix(3) == ["<LAVA_SIGNAL_TESTSET START migconform>", cut, "<LAVA_SIGNAL_TESTSET STOP>"])
    let whole = try signals(ReferenceDeviceV2(), maxFailures: nil)
    #expect(!whole.contains { $0.contains(LavaReporter.cutShortCase) })
}
