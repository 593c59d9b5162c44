import Foundation
import MigconformReport
import MigconformRun
import MigconformSpec

/// Turns a run report into a KCIDB v5.3 submission (`migconform export kcidb`): one test object per case, plus an
/// issue and an incident for each case judged against a baseline (XFAIL, XPASS) or retried into a FLAKE.
///
/// - `id`: `<origin>:migconform:<run key>:<case name>`, the run key a hash of the run's spec, target, device and
///   start time, so a second export of the same report gives the same ids and another run other ids.
/// - `path`: `<suite>.<rule name>.<case name>` with ``EngineNames`` (the same path KernelCI makes from the LAVA test
///   set and case that `run --lava` reports).
/// - `status`: ``status(_:)``.
/// - `start_time`: the run's start plus the durations of the cases before this one (cases run one at a time);
///   `duration`: the case's own, in seconds.
/// - `environment`: the device's identity (target, driver, PCI ids or mdev type, kernel, features, flags);
///   `misc`: the original case id, rule, level, verdict, message, expected and actual, and the spec.
/// - `log_url` and `output_files`: the run folder's files, when the caller says where they are published.
/// - `log_excerpt`: for cases that did not plainly pass or skip, what happened and the transcript (16 KiB at most).
///
/// Placeholders of cases another shard ran are left out: that shard's report has them.
///
/// A report rebuilt from a damaged journal, or of a run cut short, says so in one more test for each
/// (``ReportFacts/runLevelCases(_:)``: `<suite>.journal`, `<suite>.run-cut-short`) with status ERROR, so that a
/// consumer reading the tests alone does not take the run for whole.
package enum KCIDBExport {
    /// What the export needs beyond the report.
    package struct Options: Sendable {
        /// The submitting CI system (`[a-z0-9_]+`), agreed with the KCIDB administrators.
        package var origin: String
        /// The KCIDB build the device's kernel came from (`<origin>:<id>`; a bare id gets the origin prefixed).
        package var buildID: String
        /// The first path component (KernelCI's `kcidb_test_suite`).
        package var suite: String
        /// Where the run folder's files are published (`https://host/path/`): gives `log_url` and `output_files`.
        package var artifactsURL: String?

        package init(origin: String, buildID: String, suite: String = "migconform", artifactsURL: String? = nil) {
            self.origin = origin
            self.buildID = buildID
            self.suite = suite
            self.artifactsURL = artifactsURL
        }
    }

    /// A problem with the options (the report itself always exports).
    package struct OptionError: Error, CustomStringConvertible, Sendable {
        package var message: String
        package var description: String { message }
    }

    /// The KCIDB status of a case.
    ///
    /// PASS, WARN and XPASS are PASS (a SHOULD broken is not a driver failure); FAIL and TIMEOUT are FAIL; INFO is
    /// DONE; NOT_APPLICABLE and SKIPPED are SKIP, except a case SKIPPED because the run stopped before it
    /// ("not run: ..."), which is MISS; ERROR is ERROR. XFAIL, XPASS and FLAKE take the status of what the device did
    /// (the first attempt, for a FLAKE, or PASS when that was an ERROR): an expected failure of a MUST rule stays
    /// FAIL, with its incident beside it.
    package static func status(_ c: CaseResult) -> String {
        switch c.verdict {
        case .xfail: return status(c.rawVerdict ?? .fail, message: c.message)
        case .xpass: return status(c.rawVerdict ?? .pass, message: c.message)
        case .flake: return status(c.deviceVerdict, message: c.message)
        default: return status(c.verdict, message: c.message)
        }
    }

    static func status(_ v: Verdict, message: String) -> String {
        switch v {
        case .pass, .warn: return "PASS"
        case .fail, .timeout: return "FAIL"
        case .info: return "DONE"
        case .notApplicable: return "SKIP"
        case .skipped: return message.hasPrefix("not run:") ? "MISS" : "SKIP"
        case .error: return "ERROR"
        case .xfail, .flake: return "FAIL"
        case .xpass: return "PASS"
        }
    }

    /// The submission as JSON-ready values (dictionaries, arrays, strings, numbers, booleans; never null).
    package static func submission(_ r: RunReport, options o: Options) throws -> [String: Any] {
        guard KCIDBSchema.matches(o.origin, KCIDBSchema.originPattern) else {
            throw OptionError(message: "origin '\(o.origin)' must match [a-z0-9_]+")
        }
        guard !o.suite.isEmpty, KCIDBSchema.matches(o.suite, KCIDBSchema.pathPattern) else {
            throw OptionError(message: "suite '\(o.suite)' must be [A-Za-z0-9_-] words joined by dots")
        }
        let buildID = o.buildID.contains(":") ? o.buildID : o.origin + ":" + o.buildID
        guard KCIDBSchema.matches(buildID, #"^[a-z0-9_]+:[^\x00]*$"#) else {
            throw OptionError(message: "build id '\(o.buildID)' must be <origin>:<id>")
        }
        var base: String?
        if let a = o.artifactsURL {
            guard KCIDBSchema.matches(a, #"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$"#) else {
                throw OptionError(message: "artifacts URL '\(a)' is not a URL")
            }
            base = a.hasSuffix("/") ? a : a + "/"
        }
        let runKey = self.runKey(r)
        let environment = self.environment(r)
        let files = r.files.keys.sorted() + ["report.json"]
        let started = Self.date(r.run.started)
        var elapsed: UInt64 = 0
        var tests: [[String: Any]] = []
        var issues: [String: [String: Any]] = [:]
        var incidents: [[String: Any]] = []
        for c in r.cases {
            defer { elapsed += c.durationMicros }
            guard c.otherShard == nil else { continue }
            let name = EngineNames.encode(c.id)
            let id = "\(o.origin):migconform:\(runKey):\(name)"
            var t: [String: Any] = [
                "id": id, "build_id": buildID, "origin": o.origin,
                "path": "\(o.suite).\(EngineNames.encode(c.ruleID)).\(name)",
                "status": status(c),
                "comment": PlainText.line("\(c.id): \(c.verdict.rawValue): \(c.message)"),
                "duration": Double(c.durationMicros) / 1_000_000,
                "environment": environment,
                "misc": misc(c, r),
            ]
            if let started {
                t["start_time"] = Self.iso(started.addingTimeInterval(Double(elapsed) / 1_000_000))
            }
            if let base {
                t["log_url"] = base + "report.md"
                t["output_files"] = files.filter { $0 != "report.md" }.map { ["name": $0, "url": base + $0] }
            }
            if ![.pass, .skipped, .notApplicable].contains(c.verdict) { t["log_excerpt"] = excerpt(c) }
            tests.append(t)
            if let found = self.issue(c, origin: o.origin) {
                let (issue, present) = found
                let issueID = issue["id"] as! String
                issues[issueID] = issue
                incidents.append([
                    "id": "\(id):incident", "origin": o.origin, "issue_id": issueID, "issue_version": 1,
                    "test_id": id, "build_id": buildID, "present": present,
                    "comment": PlainText.line("\(c.id): \(c.verdict.rawValue)"),
                ])
            }
        }
        for c in ReportFacts.runLevelCases(r) {
            tests.append(runLevelTest(c, r, origin: o.origin, buildID: buildID, runKey: runKey, suite: o.suite))
        }
        var out: [String: Any] = ["version": ["major": KCIDBSchema.major, "minor": KCIDBSchema.minor], "tests": tests]
        if !issues.isEmpty {
            out["issues"] = issues.keys.sorted().map { issues[$0]! }
            out["incidents"] = incidents
        }
        return out
    }

    /// The submission as JSON text (keys sorted, pretty-printed).
    package static func render(_ r: RunReport, options: Options) throws -> String {
        let data = try JSONSerialization.data(
            withJSONObject: try submission(r, options: options),
            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    // MARK: - Parts

    /// A test for what the report says of the run as a whole (``ReportFacts/runLevelCases(_:)``), status ERROR.
    static func runLevelTest(
        _ c: CaseResult, _ r: RunReport, origin: String, buildID: String, runKey: String, suite: String
    ) -> [String: Any] {
        var misc: [String: Any] = [
            "migconform_verdict": r.summary.verdict.rawValue, "message": c.message,
            "spec_id": r.run.specID, "spec_version": r.run.specVersion, "spec_sha256": r.run.specSHA256,
            "migconform_version": r.run.runnerVersion,
        ]
        if c.id == "journal", let d = r.run.journalDamaged { misc["journal_damaged"] = d }
        var t: [String: Any] = [
            "id": "\(origin):migconform:\(runKey):\(c.id)", "build_id": buildID, "origin": origin,
            "path": "\(suite).\(c.id)", "status": "ERROR", "comment": PlainText.line("migconform: \(c.message)"),
            "environment": environment(r), "log_excerpt": PlainText.line(c.message) + "\n", "misc": misc,
        ]
        if let started = Self.date(r.run.started) { t["start_time"] = Self.iso(started) }
        return t
    }

    static func runKey(_ r: RunReport) -> String {
        let d = r.run.device
        let facts = [
            r.run.specID, r.run.specVersion, r.run.specSHA256, r.run.target, d.targetKind, d.driver, d.detail,
            r.run.started, r.run.shard?.description ?? "",
        ]
        return String(SHA256.hex(Array(facts.joined(separator: "\n").utf8)).prefix(16))
    }

    static func environment(_ r: RunReport) -> [String: Any] {
        let d = r.run.device
        var misc: [String: Any] = [
            "target": r.run.target, "target_kind": d.targetKind, "driver": d.driver,
            "device": d.detail, "features": r.run.features,
        ]
        if let k = d.kernelRelease { misc["kernel_release"] = k }
        if let f = r.run.migrationFlags { misc["migration_flags"] = Int(f) }
        if !d.extra.isEmpty { misc["device_facts"] = d.extra }
        if let s = r.run.shard { misc["shard"] = s.description }
        return ["comment": PlainText.line("migconform target \(r.run.target): \(d.driver), \(d.detail)"), "misc": misc]
    }

    static func misc(_ c: CaseResult, _ r: RunReport) -> [String: Any] {
        var m: [String: Any] = [
            "case_id": c.id, "rule_id": c.ruleID, "requirement_level": c.level.rawValue,
            "migconform_verdict": c.verdict.rawValue, "message": c.message, "cite": c.cite,
            "spec_id": r.run.specID, "spec_version": r.run.specVersion, "spec_sha256": r.run.specSHA256,
            "migconform_version": r.run.runnerVersion, "start_time_estimated": true,
        ]
        if let e = c.expected { m["expected"] = e }
        if let a = c.actual { m["actual"] = a }
        if let v = c.rawVerdict { m["device_verdict"] = v.rawValue }
        if let e = c.expectation { m["expectation"] = e }
        if let n = c.attempts { m["attempts"] = n }
        if c.verdict == .timeout { m["timeout_s"] = EngineVerdicts.timeoutSeconds(c, run: r.run) }
        if c.unfinished == true { m["unfinished"] = true }
        return m
    }

    /// The issue an XFAIL, XPASS or FLAKE case is an incident of, and whether the issue was present.
    static func issue(_ c: CaseResult, origin: String) -> ([String: Any], Bool)? {
        switch c.verdict {
        case .xfail, .xpass:
            let reason = c.expectation ?? "known failure of \(c.ruleID)"
            let key = String(SHA256.hex(Array((c.ruleID + "\n" + reason).utf8)).prefix(16))
            var issue: [String: Any] = [
                "id": "\(origin):migconform-expectation-\(key)", "version": 1, "origin": origin,
                "comment": PlainText.line("Expected failure of \(c.ruleID): \(reason)"),
                "culprit": ["code": true], "misc": ["rule_id": c.ruleID],
            ]
            if let link = LavaReporter.link(reason) { issue["report_url"] = link }
            return (issue, c.verdict == .xfail)
        case .flake:
            let issue: [String: Any] = [
                "id": "\(origin):migconform-unreliable", "version": 1, "origin": origin,
                "comment": "migconform case failed, then passed on a retry",
            ]
            return (issue, true)
        default:
            return nil
        }
    }

    static func excerpt(_ c: CaseResult) -> String {
        var lines = ["\(c.id): \(c.verdict.rawValue) (\(c.level))", c.message]
        if let e = c.expected { lines.append("expected: \(e)") }
        if let a = c.actual { lines.append("actual: \(a)") }
        lines += c.transcript.map { "\($0.step + 1). \(TranscriptFormatter.line($0))" }
        var text = lines.map { PlainText.line($0) }.joined(separator: "\n") + "\n"
        if text.count > 16_000 { text = String(text.prefix(16_000)) + "\n[...]\n" }
        return text
    }

    static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }

    static func iso(_ d: Date) -> String { Timestamp.iso8601(d) }
}
