import Foundation
import MigconformCases
import MigconformSpec

/// An expectations file: the known failures and flakes of one device, in the manner of deqp-runner's baseline
/// lists and web-platform-tests' expectation files.
///
/// One expectation per line, `#` starts a comment:
///
///     # migconform expectations: mlx5_vfio_pci on lab host 7
///     V2-ARC[STOP_COPY->STOP]          FAIL     https://bugs.example.org/1234
///     V2-PRECOPY-*                     WARN     firmware 22.1 reports dirty bytes late
///     V2-ROUND-TRIP                    FLAKE    one run in fifty loses the last chunk
///
/// A line is a case id or a glob on case ids (`*`, `?`; a glob also matches the rule id), the expected verdict
/// (`FAIL`, `WARN`, `TIMEOUT`, `ERROR`, or `FLAKE` for "may fail or pass"), and a reason or tracker link, which
/// the report carries. An exact id beats a glob; among globs the first line wins.
package struct Expectations: Sendable {
    /// One line of the file.
    package struct Entry: Sendable, Equatable {
        package var pattern: String
        package var verdict: Verdict
        package var reason: String
        package var line: Int
        package init(pattern: String, verdict: Verdict, reason: String, line: Int = 0) {
            self.pattern = pattern
            self.verdict = verdict
            self.reason = reason
            self.line = line
        }
    }

    package var path: String
    package var sha256: String
    package var entries: [Entry]

    /// Verdicts an expectation may name.
    package static let expectable: [Verdict] = [.fail, .warn, .timeout, .error, .flake]

    package init(path: String = "", sha256: String = "", entries: [Entry]) {
        self.path = path
        self.sha256 = sha256
        self.entries = entries
    }

    /// Loads a file; errors name the file and line.
    package static func load(path: String) throws -> Expectations {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExpectationsError(message: "\(path): cannot read the expectations file")
        }
        var e = try parse(String(decoding: data, as: UTF8.self), path: path)
        e.sha256 = SHA256.hex([UInt8](data))
        return e
    }

    /// Parses the text of an expectations file.
    package static func parse(_ text: String, path: String = "expectations") throws -> Expectations {
        var entries: [Entry] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2 else {
                throw ExpectationsError(message: "\(path):\(n + 1): expected 'CASE-ID VERDICT reason', found '\(raw)'")
            }
            guard let v = Verdict(rawValue: fields[1].uppercased()), expectable.contains(v) else {
                throw ExpectationsError(
                    message: "\(path):\(n + 1): '\(fields[1])' is not an expectable verdict ("
                        + expectable.map(\.rawValue).joined(separator: ", ") + ")")
            }
            // The reason keeps its own spacing, except that a '#' inside a tracker link must survive.
            let reason = Self.reason(of: String(raw), after: 2)
            entries.append(Entry(pattern: fields[0], verdict: v, reason: reason, line: n + 1))
        }
        return Expectations(path: path, entries: entries)
    }

    /// The text of `raw` after its first `count` whitespace-separated fields, trimmed; a ` #` comment ends it.
    static func reason(of raw: String, after count: Int) -> String {
        var rest = Substring(raw)
        for _ in 0..<count {
            rest = rest.drop(while: { $0 == " " || $0 == "\t" })
            rest = rest.drop(while: { $0 != " " && $0 != "\t" })
        }
        var text = rest.trimmingCharacters(in: .whitespaces)
        if let r = text.range(of: " #") { text = String(text[..<r.lowerBound]).trimmingCharacters(in: .whitespaces) }
        return text
    }

    /// The expectation for a case, if any.
    package func match(caseID: String, ruleID: String) -> Entry? {
        if let exact = entries.first(where: { $0.pattern == caseID }) { return exact }
        return entries.first { Glob.matches($0.pattern, caseID) || Glob.matches($0.pattern, ruleID) }
    }

    /// Applies the expectations to a result: an expected failure becomes XFAIL, a pass where a failure was
    /// expected becomes XPASS (both keep the device's verdict in `rawVerdict`). A failure of another kind than
    /// expected (TIMEOUT where FAIL was expected) stays as it is: it is unexpected.
    package func judge(_ result: CaseResult) -> CaseResult {
        guard let e = match(caseID: result.id, ruleID: result.ruleID) else { return result }
        var r = result
        r.expectation = e.reason.isEmpty ? "line \(e.line)" : e.reason
        let failed: Set<Verdict> = [.fail, .warn, .timeout, .error]
        // A FLAKE expectation says the device may fail or pass; an ERROR is neither (it is retried instead).
        if failed.contains(r.verdict), e.verdict == r.verdict || (e.verdict == .flake && r.verdict != .error) {
            r.rawVerdict = r.verdict
            r.verdict = .xfail
        } else if (r.verdict == .pass || r.verdict == .info) && e.verdict != .flake {
            r.rawVerdict = r.verdict
            r.verdict = .xpass
        }
        return r
    }

    /// Lines that matched none of `caseIDs` (stale expectations).
    package func unused(by caseIDs: [String]) -> [String] {
        entries.filter { e in !caseIDs.contains { $0 == e.pattern || Glob.matches(e.pattern, $0) } }
            .map { "line \($0.line): \($0.pattern)" }
    }

    /// Writes an expectations file from a run: every case whose device verdict was FAIL, WARN, TIMEOUT or ERROR
    /// (FLAKE cases as FLAKE), with the run's message as the reason.
    package static func render(from report: RunReport) -> String {
        var out = """
            # migconform expectations for \(report.run.device.driver) (\(report.run.target))
            # written from the run of \(report.run.started), \(report.run.specID) \(report.run.specVersion)
            # CASE-ID-OR-GLOB  VERDICT  REASON (a tracker link is best)

            """
        let wanted: Set<Verdict> = [.fail, .warn, .timeout, .error, .flake]
        let rows = report.cases.compactMap { c -> (String, String, String)? in
            // A FLAKE whose first attempt was an ERROR passed: nothing to expect of the device.
            let v = c.verdict == .flake && c.deviceVerdict != .pass ? Verdict.flake : c.deviceVerdict
            guard wanted.contains(v) else { return nil }
            let reason = c.expectation ?? ("seen: " + c.message)
            return (c.id, v.rawValue, reason.replacingOccurrences(of: "\n", with: " "))
        }
        let width = min(60, (rows.map(\.0.count).max() ?? 0) + 2)
        for (id, v, reason) in rows {
            out +=
                id.padding(toLength: max(width, id.count + 1), withPad: " ", startingAt: 0)
                + v.padding(toLength: 9, withPad: " ", startingAt: 0) + reason + "\n"
        }
        return out
    }
}

/// An expectations file that cannot be used.
package struct ExpectationsError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}

/// How strict the exit code is (`--level`); recorded verdicts never change with it.
package enum ExitLevel: String, Sendable, CaseIterable {
    /// MUST-level FAIL or TIMEOUT (the conformance verdict); an ERROR there leaves it incomplete.
    case must
    /// Also SHOULD-level WARN or TIMEOUT; an ERROR there leaves it incomplete.
    case should
    /// Also MAY-level TIMEOUT (a MAY rule itself never fails); an ERROR there leaves it incomplete.
    case may

    private var families: Set<String> {
        self == .must ? ["must"] : self == .should ? ["must", "should"] : ["must", "should", "may"]
    }

    /// The ERROR cases at this level or stricter: run, but with no verdict on the device, so the exit code says
    /// incomplete when nothing failed.
    package func errored(_ cases: [CaseResult]) -> [CaseResult] {
        cases.filter { families.contains(RunSummary.family($0.level)) && $0.deviceVerdict == .error }
    }

    /// The results that make the exit code non-zero: failures at this level or stricter (FLAKE too: it failed
    /// once), and XPASS (an expected failure that passed: the baseline must be updated). XFAIL never counts.
    package func unexpected(_ cases: [CaseResult]) -> [CaseResult] {
        cases.filter { c in
            guard families.contains(RunSummary.family(c.level)) else { return false }
            switch c.verdict {
            // ERROR is no result of the device's: it leaves the run incomplete instead.
            case .fail, .warn, .timeout, .xpass: return true
            // A failure that a retry passed was a failure all the same (an ERROR that a retry passed was not).
            case .flake: return c.deviceVerdict != .pass
            default: return false
            }
        }
    }
}
