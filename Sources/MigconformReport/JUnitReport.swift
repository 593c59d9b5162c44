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
/// FAIL becomes `<failure>`; ERROR and TIMEOUT become `<error>`; SKIPPED and NOT_APPLICABLE become `<skipped>`;
/// XFAIL is skipped with the message "expected failure". WARN, INFO, XPASS and FLAKE pass, with a `<system-out>`
/// saying what happened (`WARNING: ...` for WARN). Every string is escaped, and characters XML 1.0 does not allow
/// (most control characters) are replaced by visible escapes such as `\x07`.
package enum JUnitReport {
    /// The whole `junit.xml` text.
    package static func render(_ r: RunReport) -> String {
        let spec = r.run.specID
        var out: [String] = [#"<?xml version="1.0" encoding="UTF-8"?>"#]
        let all = tally(r.cases)
        out.append(
            "<testsuites name=\(attr("migconform \(spec) \(r.run.specVersion)"))"
                + " tests=\"\(all.tests)\" failures=\"\(all.failures)\" errors=\"\(all.errors)\""
                + " time=\"\(seconds(all.micros))\">")
        for group in ReportFacts.byRule(r.cases) {
            let t = tally(group.cases)
            let first = group.cases[0]
            out.append(
                "  <testsuite name=\(attr(EngineNames.encode(group.rule))) tests=\"\(t.tests)\" failures=\"\(t.failures)\""
                    + " errors=\"\(t.errors)\" skipped=\"\(t.skipped)\""
                    + " time=\"\(seconds(t.micros))\" timestamp=\(attr(r.run.started))>")
            out.append("    <properties>")
            for (k, v) in [
                ("rule", group.rule), ("level", first.level.rawValue), ("statement", first.statement),
                ("cite", first.cite),
                ("spec", "\(spec) \(r.run.specVersion)"), ("target", r.run.target),
                ("verdict", r.summary.verdict.rawValue), ("conformant", r.summary.conformant ? "true" : "false"),
            ] {
                out.append("      <property name=\(attr(k)) value=\(attr(v))/>")
            }
            out.append("    </properties>")
            for c in group.cases { testcase(c, spec: spec, &out) }
            out.append("  </testsuite>")
        }
        out.append("</testsuites>")
        return out.joined(separator: "\n") + "\n"
    }

    private static func testcase(_ c: CaseResult, spec: String, _ out: inout [String]) {
        let name = EngineNames.encode(c.id)
        let head =
            "    <testcase classname=\(attr(spec + "." + EngineNames.encode(c.ruleID)))"
            + " name=\(attr(name)) time=\"\(seconds(c.durationMicros))\""
        if c.verdict == .pass {
            // The id only where the name is not the id itself.
            out.append(name == c.id ? head + "/>" : head + "><system-out>id: \(text(c.id))</system-out></testcase>")
            return
        }
        out.append(head + ">")
        let facts = "id: \(c.id)\nverdict: \(c.verdict.rawValue)\nlevel: \(c.level)\n"
        let message = attr(c.message)
        switch c.verdict {
        case .fail:
            out.append("      <failure type=\"FAIL\" message=\(message)>\(text(details(c)))</failure>")
            systemOut(facts, &out)
        case .error, .timeout:
            out.append("      <error type=\(attr(c.verdict.rawValue)) message=\(message)>\(text(details(c)))</error>")
            systemOut(facts, &out)
        case .notApplicable:
            out.append("      <skipped message=\(attr("not applicable: " + c.message))/>")
            systemOut(facts, &out)
        case .skipped:
            out.append("      <skipped message=\(attr("skipped: " + c.message))/>")
            systemOut(facts, &out)
        case .xfail:
            out.append("      <skipped message=\"expected failure\">\(text(details(c)))</skipped>")
            systemOut(facts, &out)
        case .warn:
            systemOut(facts + "WARNING: \(c.level) rule \(c.ruleID) not met\n" + details(c), &out)
        case .info:
            systemOut(facts + "INFO: device choice on a MAY rule\n" + details(c), &out)
        case .xpass:
            systemOut(facts + "XPASS: the baseline expected a failure, but the case passed\n" + details(c), &out)
        case .flake:
            systemOut(facts + "FLAKE: failed, then passed on a retry\n" + details(c), &out)
        case .pass:
            break
        }
        out.append("    </testcase>")
    }

    /// Seconds with three decimals (milliseconds, rounded), as `SUREFIRE_TIME` allows: `2.500`.
    static func seconds(_ micros: UInt64) -> String {
        let ms = (micros + 500) / 1000
        let frac = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }

    private static func systemOut(_ s: String, _ out: inout [String]) {
        out.append("      <system-out>" + text(s) + "</system-out>")
    }

    /// The body text of a non-passing case: facts, then the transcript, one operation per line.
    private static func details(_ c: CaseResult) -> String {
        let lines =
            ["Rule: \(c.ruleID) (\(c.level))", "Statement: \(c.statement)", "Cite: \(c.cite)"]
            + TranscriptFormatter.findingLines(c)
        return lines.map { PlainText.ascii($0, keepNewlines: true) }.joined(separator: "\n")
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
            case .error, .timeout: t.errors += 1
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

    /// Escapes the five XML specials; in attributes also tab, newline and carriage return (which attribute
    /// normalization would otherwise turn into spaces). Characters not allowed in XML 1.0 become `\xNN` or
    /// `\u{FFFE}` as text.
    static func escape(_ s: String, attribute: Bool) -> String {
        if PlainText.isPlainMarkupText(s) { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u.value {
            case 0x26: out += "&amp;"
            case 0x3C: out += "&lt;"
            case 0x3E: out += "&gt;"
            case 0x22: out += "&quot;"
            case 0x27: out += "&apos;"
            case 0x09: out += attribute ? "&#9;" : "\t"
            case 0x0A: out += attribute ? "&#10;" : "\n"
            case 0x0D: out += "&#13;"
            case 0x00...0x1F: out += "\\x" + PlainText.hex2(UInt8(u.value))
            case 0x7F...0x9F: out += "\\x" + PlainText.hex2(UInt8(u.value))
            case 0xFFFE, 0xFFFF: out += "\\u{\(String(u.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
