import MigconformRun

/// Renders `junit.xml` for CI systems: one `<testsuite>` per rule inside `<testsuites>`, one `<testcase>` per case,
/// times in seconds with at most three decimals. Suites and cases are named by engine-safe names (``EngineNames``:
/// `[A-Za-z0-9_-]`, reversible): the suite by the rule's, the case by the case's (`V2-ARC__STOP-to-RUNNING`), with
/// classname `<spec id>.<rule name>`; the rule's facts are the suite's properties, and each case's original id (with
/// its verdict and level when it did not pass) opens its `<system-out>`.
///
/// The file is valid against the JUnit schema Jenkins' xunit plugin publishes (`junit-10.xsd`): no properties inside
/// a test case, no `skipped` count on the root element, times matching `SUREFIRE_TIME`.
///
/// FAIL becomes `<failure>`; ERROR and TIMEOUT become `<error>`; SKIPPED and NOT_APPLICABLE become `<skipped>`,
/// except a case the run never reached because it was cut short (see ``cutShort(_:)``), which is an `<error>`;
/// XFAIL is skipped with the message "expected failure". WARN, INFO, XPASS and FLAKE pass, with a `<system-out>`
/// saying what happened (`WARNING: ...` for WARN). Every string is escaped, and characters XML 1.0 does not allow
/// (most control characters) are replaced by visible escapes such as `\x07`.
///
/// A report rebuilt from a damaged journal, or of a run cut short, gets one more suite for each
/// (``ReportFacts/runLevelCases(_:)``: `journal`, `run-cut-short`), whose one case is an `<error>` saying so: a CI
/// system that counts errors does not take the run for whole.
package enum JUnitReport {
    /// The whole `junit.xml` text.
    ///
    /// Written straight into one string, escaping only what is not plain text already: this file is the largest the
    /// run folder has after `report.json`, about half a kilobyte per case.
    package static func render(_ r: RunReport) -> String {
        let spec = r.run.specID
        var out = ""
        out.reserveCapacity(4096 + 600 * r.cases.count)
        out += #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        let runLevel = ReportFacts.runLevelCases(r)
        let all = tally(r.cases + runLevel)
        out += "<testsuites name="
        appendAttribute("migconform \(spec) \(r.run.specVersion)", to: &out)
        appendCounts(all, skipped: false, to: &out)
        out += ">\n"
        // The properties every suite repeats, escaped once.
        let runProperties = [
            ("spec", "\(spec) \(r.run.specVersion)"), ("target", r.run.target),
            ("verdict", r.summary.verdict.rawValue), ("conformant", r.summary.conformant ? "true" : "false"),
        ].map { property($0.0, $0.1) }.joined()
        let timestamp = attr(r.run.started)
        for group in ReportFacts.byRule(r.cases) + runLevel.map({ ($0.ruleID, [$0]) }) {
            let t = tally(group.cases)
            let first = group.cases[0]
            let ruleName = EngineNames.encode(group.rule)
            out += "  <testsuite name="
            appendAttribute(ruleName, to: &out)
            appendCounts(t, skipped: true, to: &out)
            out += " timestamp="
            out += timestamp
            out += ">\n    <properties>\n"
            for (k, v) in [
                ("rule", group.rule), ("level", first.level.rawValue), ("statement", first.statement),
                ("cite", first.cite),
            ] {
                out += property(k, v)
            }
            out += runProperties
            out += "    </properties>\n"
            let classname = attr(spec + "." + ruleName)
            for c in group.cases { testcase(c, classname: classname, &out) }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    /// ` tests="N" failures="N" errors="N"` (with `skipped`, for a suite) ` time="S"`.
    private static func appendCounts(_ t: Tally, skipped: Bool, to out: inout String) {
        out += " tests=\""
        out += String(t.tests)
        out += "\" failures=\""
        out += String(t.failures)
        out += "\" errors=\""
        out += String(t.errors)
        if skipped {
            out += "\" skipped=\""
            out += String(t.skipped)
        }
        out += "\" time=\""
        appendSeconds(t.micros, to: &out)
        out += "\""
    }

    /// One `<property>` line of a suite.
    private static func property(_ name: String, _ value: String) -> String {
        var line = "      <property name="
        appendAttribute(name, to: &line)
        line += " value="
        appendAttribute(value, to: &line)
        line += "/>\n"
        return line
    }

    /// One `<testcase>`; `classname` is the suite's, already a quoted attribute value.
    private static func testcase(_ c: CaseResult, classname: String, _ out: inout String) {
        let name = EngineNames.encode(c.id)
        out += "    <testcase classname="
        out += classname
        out += " name="
        appendAttribute(name, to: &out)
        out += " time=\""
        appendSeconds(c.durationMicros, to: &out)
        out += "\""
        if c.verdict == .pass {
            // The id only where the name is not the id itself.
            if name == c.id {
                out += "/>\n"
            } else {
                out += "><system-out>id: "
                appendText(c.id, to: &out)
                out += "</system-out></testcase>\n"
            }
            return
        }
        out += ">\n"
        let facts = "id: \(c.id)\nverdict: \(c.verdict.rawValue)\nlevel: \(c.level)\n"
        let message = attr(c.message)
        switch c.verdict {
        case .fail:
            line("      <failure type=\"FAIL\" message=\(message)>\(text(details(c)))</failure>", &out)
            systemOut(facts, &out)
        case .error, .timeout:
            line("      <error type=\(attr(c.verdict.rawValue)) message=\(message)>\(text(details(c)))</error>", &out)
            systemOut(facts, &out)
        case .notApplicable:
            line("      <skipped message=\(attr("not applicable: " + c.message))/>", &out)
            systemOut(facts, &out)
        case .skipped where cutShort(c):
            line("      <error type=\"NOT_RUN\" message=\(attr(c.message))>\(text(notRunDetails(c)))</error>", &out)
            systemOut(facts, &out)
        case .skipped:
            line("      <skipped message=\(attr("skipped: " + c.message))/>", &out)
            systemOut(facts, &out)
        case .xfail:
            line("      <skipped message=\"expected failure\">\(text(details(c)))</skipped>", &out)
            systemOut(facts, &out)
        case .warn:
            systemOut(facts + "WARNING: \(c.level) rule \(c.ruleID) not met\n" + details(c), &out)
        case .info:
            systemOut(facts + "INFO: device choice on a MAY rule\n" + details(c), &out)
        case .xpass:
            systemOut(facts + "XPASS: the baseline expected a failure, but the case passed\n" + details(c), &out)
        case .flake where EngineVerdicts.lava(c) == "fail":
            // A rule broken on the first attempt is broken: the retry that passed does not undo it.
            line(
                "      <failure type=\"FLAKE\" message=\(message)>\(text(details(c)))</failure>", &out)
            systemOut(facts + "FLAKE: failed, then passed on a retry\n", &out)
        case .flake:
            systemOut(facts + "FLAKE: failed, then passed on a retry\n" + details(c), &out)
        case .pass:
            break
        }
        out += "    </testcase>\n"
    }

    private static func line(_ s: String, _ out: inout String) {
        out += s
        out += "\n"
    }

    /// Seconds with three decimals (milliseconds, rounded), as `SUREFIRE_TIME` allows: `2.500`.
    static func seconds(_ micros: UInt64) -> String {
        var s = ""
        appendSeconds(micros, to: &s)
        return s
    }

    /// Writes ``seconds(_:)`` to `out`.
    static func appendSeconds(_ micros: UInt64, to out: inout String) {
        let ms = (micros + 500) / 1000
        let frac = ms % 1000
        out += String(ms / 1000)
        out += frac < 10 ? ".00" : frac < 100 ? ".0" : "."
        out += String(frac)
    }

    private static func systemOut(_ s: String, _ out: inout String) {
        out += "      <system-out>"
        appendText(s, to: &out)
        out += "</system-out>\n"
    }

    /// The body text of a non-passing case: facts, then the transcript, one operation per line.
    private static func details(_ c: CaseResult) -> String {
        let lines =
            ["Rule: \(c.ruleID) (\(c.level))", "Statement: \(c.statement)", "Cite: \(c.cite)"]
            + TranscriptFormatter.findingLines(c)
        return lines.map { PlainText.ascii($0, keepNewlines: true) }.joined(separator: "\n")
    }

    /// Whether a SKIPPED case is one the run never reached because it was cut short: a signal, a wedged device, or
    /// `--max-failures` (``NotRunReason/stopped``; the runner records the same for all three, and exits 4 for all
    /// three).
    ///
    /// Such a case is an `<error type="NOT_RUN">`, not a `<skipped>`: Jenkins (junit and xunit plugins) marks a
    /// build unstable for failed and errored tests but never for skipped ones, and GitLab's test report lists
    /// skipped tests apart from the failed and errored ones, so a run stopped by SIGINT after a few cases would
    /// read as a clean pass with many skips, where errors show it did not finish. A
    /// `--max-failures` stop is treated the same: the cases it left out were not judged either, whatever the
    /// failures before it already say. A skip the run chose (not selected, a hazard not allowed, another shard's,
    /// blocked by an earlier failure) stays `<skipped>`: the run was not cut short for it.
    static func cutShort(_ c: CaseResult) -> Bool {
        c.verdict == .skipped && c.notRun == .stopped
    }

    /// The body of a cut-short case's `<error>`: why it did not run, then the rule it stands for.
    private static func notRunDetails(_ c: CaseResult) -> String {
        [
            "The run was cut short before this case ran (\(c.message.droppingPrefix("not run: ")))",
            "Rule: \(c.ruleID) (\(c.level))",
            "Statement: \(c.statement)", "Cite: \(c.cite)",
        ].map { PlainText.ascii($0, keepNewlines: true) }.joined(separator: "\n")
    }

    private struct Tally {
        var tests = 0, failures = 0, errors = 0, skipped = 0
        var micros: UInt64 = 0
    }

    private static func tally(_ cases: [CaseResult]) -> Tally {
        var t = Tally()
        for c in cases {
            t.tests += 1
            t.micros += c.durationMicros
            switch c.verdict {
            case .fail: t.failures += 1
            case .flake where EngineVerdicts.lava(c) == "fail": t.failures += 1
            case .error, .timeout: t.errors += 1
            case .skipped where cutShort(c): t.errors += 1
            case .skipped, .notApplicable, .xfail: t.skipped += 1
            default: break
            }
        }
        return t
    }

    /// A quoted attribute value.
    static func attr(_ s: String) -> String { "\"" + escape(s, attribute: true) + "\"" }

    /// Element text.
    static func text(_ s: String) -> String { escape(s, attribute: false) }

    /// Writes ``attr(_:)`` to `out`.
    static func appendAttribute(_ s: String, to out: inout String) {
        out += "\""
        appendEscaped(s, attribute: true, to: &out)
        out += "\""
    }

    /// Writes ``text(_:)`` to `out`.
    static func appendText(_ s: String, to out: inout String) { appendEscaped(s, attribute: false, to: &out) }

    /// Writes ``escape(_:attribute:)`` to `out`; plain text (most of it) is copied as it is.
    static func appendEscaped(_ s: String, attribute: Bool, to out: inout String) {
        out += PlainText.isPlainMarkupText(s) ? s : escape(s, attribute: attribute)
    }

    /// Escapes the five XML specials; in attributes also tab, newline and carriage return (which attribute
    /// normalization would otherwise turn into spaces). Characters not allowed in XML 1.0 become `\xNN` or
    /// `\u{FFFE}` as text.
    static func escape(_ s: String, attribute: Bool) -> String {
        if PlainText.isPlainMarkupText(s) { return s }
        // Gathered as UTF-8 bytes: appending to a string scalar by scalar costs far more.
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 32)
        for u in s.unicodeScalars {
            switch u.value {
            case 0x26: out += "&amp;".utf8
            case 0x3C: out += "&lt;".utf8
            case 0x3E: out += "&gt;".utf8
            case 0x22: out += "&quot;".utf8
            case 0x27: out += "&apos;".utf8
            case 0x09: out += (attribute ? "&#9;" : "\t").utf8
            case 0x0A: out += (attribute ? "&#10;" : "\n").utf8
            case 0x0D: out += "&#13;".utf8
            case 0x00...0x1F, 0x7F...0x9F: out += ("\\x" + PlainText.hex2(UInt8(u.value))).utf8
            case 0xFFFE, 0xFFFF: out += "\\u{\(String(u.value, radix: 16, uppercase: true))}".utf8
            default: UTF8.encode(u) { out.append($0) }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    fileprivate func droppingPrefix(_ prefix: String) -> Substring {
        hasPrefix(prefix) ? dropFirst(prefix.count) : self[...]
    }
}
