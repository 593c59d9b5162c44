import MigconformRun

/// Renders `report.tap`: TAP version 13 in the kselftest style, one test point per case in run order, ending with
/// kselftest's totals line (`# Totals: pass:N fail:N xfail:N xpass:N skip:N error:N`).
///
/// Each test point is named by the case's engine-safe name (``EngineNames``: `[A-Za-z0-9_-]` only, reversible), so
/// LAVA, KernelCI and the kselftest parsers keep it as it is: `ok 3 V2-ARC__STOP-to-RUNNING`. Whether a point is
/// `ok` follows ``EngineVerdicts``; a directive after the name says what else happened: `# SKIP`,
/// `# TIMEOUT <n> seconds`, `# error <message>`, `# WARN`, `# INFO`, `# XFAIL <expectation>`, `# XPASS`, `# FLAKE`.
/// A skip's reason is not on its line (Linaro's kselftest parser would make it part of the name) but in the YAML.
/// A YAML diagnostics block (indented two spaces, between `---` and `...`) follows every point whose name is not
/// the case id itself or whose case did not pass: it opens with the original case id (`id`), a skip goes on with
/// its `message`, and the others with the verdict, level, rule, statement, citation, expected, actual, message,
/// duration, transcript and reproducer. YAML strings are always double-quoted and ASCII.
///
/// A run that was cut short (`run.interrupted`: a signal, a wedged device, `--max-failures`, or a killed run rebuilt
/// from its journal) still has a point for every case, the cases it never reached `ok ... # SKIP`, and then, after
/// the last point, `Bail out! <why it stopped>` on one line: TAP 13 allows a bail-out after the tests, and it is
/// what tells a harness that the run did not finish (prove and tap.py report it as a failure), where skips alone
/// would read as a pass. As in kselftest (`ksft_exit_fail_msg`), the closing comments and the totals line still
/// follow it. A report rebuilt from a damaged journal (`run.journalDamaged`) bails out the same way, naming the
/// damage: a result may be missing from it.
package enum TAPReport {
    /// The whole `report.tap` text, written straight into one string.
    package static func render(_ r: RunReport) -> String {
        var out = ""
        out.reserveCapacity(2048 + 160 * r.cases.count)
        out += "TAP version 13\n1.."
        out += String(r.cases.count)
        out += "\n"
        line(
            "# migconform \(PlainText.line(r.run.runnerVersion)): spec \(PlainText.line(r.run.specID)) "
                + "\(PlainText.line(r.run.specVersion)), target \(PlainText.line(r.run.target))", &out)
        for (i, c) in r.cases.enumerated() {
            let name = EngineNames.encode(c.id)
            appendTestPoint(c, number: i + 1, name: name, run: r.run, to: &out)
            out += "\n"
            let skip = c.verdict == .skipped || c.verdict == .notApplicable
            let details = c.verdict != .pass && !skip
            guard details || skip || name != c.id else { continue }
            out += "  ---\n  id: "
            appendYAML(c.id, to: &out)
            out += "\n"
            if skip { line("  message: \(yaml(skipReason(c)))", &out) }
            if details { diagnostics(c, &out) }
            out += "  ...\n"
        }
        if r.run.interrupted || r.run.journalDamaged != nil { line(bailOut(r.run), &out) }
        line("# \(ReportFacts.headline(r)): \(ReportFacts.reason(r))", &out)
        line("# \(ReportFacts.counts(r))", &out)
        line(totals(r.cases), &out)
        return out
    }

    /// `Bail out! <reason>`: why the run was cut short, or what of its journal was damaged, on one ASCII line.
    static func bailOut(_ run: RunInfo) -> String {
        var reasons: [String] = []
        if run.interrupted {
            let reason = PlainText.line(run.stopReason ?? "")
            reasons.append(reason.isEmpty ? "the run was cut short" : reason)
        }
        if let d = run.journalDamaged { reasons.append(PlainText.line(d)) }
        return "Bail out! " + reasons.joined(separator: "; ")
    }

    private static func line(_ s: String, _ out: inout String) {
        out += s
        out += "\n"
    }

    /// kselftest's closing line, `# Totals: pass:N fail:N xfail:N xpass:N skip:N error:N`: every case in exactly one
    /// count. WARN and INFO count as passes, TIMEOUT as a failure, a FLAKE as its test point reads (ok or not ok).
    package static func totals(_ cases: [CaseResult]) -> String {
        var pass = 0
        var fail = 0
        var xfail = 0
        var xpass = 0
        var skip = 0
        var error = 0
        for c in cases {
            switch c.verdict {
            case .pass, .warn, .info: pass += 1
            case .fail, .timeout: fail += 1
            case .xfail: xfail += 1
            case .xpass: xpass += 1
            case .skipped, .notApplicable: skip += 1
            case .error: error += 1
            case .flake: if EngineVerdicts.tapOK(c) { pass += 1 } else { fail += 1 }
            }
        }
        return "# Totals: pass:\(pass) fail:\(fail) xfail:\(xfail) xpass:\(xpass) skip:\(skip) error:\(error)"
    }

    private static func skipReason(_ c: CaseResult) -> String {
        (c.verdict == .notApplicable ? "not applicable: " : "") + directiveText(c.message)
    }

    /// One kselftest-style test point: `ok N name`, `not ok N name # TIMEOUT 30 seconds`, ...
    static func testPoint(_ c: CaseResult, number n: Int, run: RunInfo) -> String {
        var s = ""
        appendTestPoint(c, number: n, name: EngineNames.encode(c.id), run: run, to: &s)
        return s
    }

    /// Writes ``testPoint(_:number:run:)`` to `out`, with the case's engine-safe name already made.
    private static func appendTestPoint(
        _ c: CaseResult, number n: Int, name: String, run: RunInfo, to out: inout String
    ) {
        out += EngineVerdicts.tapOK(c) ? "ok " : "not ok "
        out += String(n)
        out += " "
        out += name
        switch c.verdict {
        case .pass, .fail: break
        case .skipped, .notApplicable: out += " # SKIP"
        case .timeout: out += " # TIMEOUT \(EngineVerdicts.timeoutSeconds(c, run: run)) seconds"
        case .error: out += " # error " + directiveText(c.message)
        case .warn: out += " # WARN"
        case .info: out += " # INFO"
        case .xfail: out += " # XFAIL " + directiveText(c.expectation ?? "expected failure")
        case .xpass: out += " # XPASS"
        case .flake: out += " # FLAKE"
        }
    }

    private static func diagnostics(_ c: CaseResult, _ out: inout String) {
        var fields: [(String, String)] = [
            ("verdict", c.verdict.rawValue), ("level", c.level.rawValue),
            ("rule", c.ruleID), ("statement", c.statement), ("cite", c.cite),
        ]
        if let e = c.expected { fields.append(("expected", e)) }
        if let a = c.actual { fields.append(("actual", a)) }
        fields.append(("message", c.message))
        if let e = c.expectation { fields.append(("expectation", e)) }
        for (k, v) in fields {
            out += "  "
            out += k
            out += ": "
            appendYAML(v, to: &out)
            out += "\n"
        }
        line("  duration_us: \(c.durationMicros)", &out)
        if !c.transcript.isEmpty {
            out += "  transcript:\n"
            for entry in c.transcript {
                out += "    - "
                appendYAML(TranscriptFormatter.line(entry), to: &out)
                out += "\n"
            }
        }
        if let rep = c.reproducer, !rep.isEmpty {
            out += "  reproducer:\n"
            for entry in rep {
                out += "    - "
                appendYAML(TranscriptFormatter.step(entry), to: &out)
                out += "\n"
            }
        }
    }

    /// Directive text (after `# SKIP`, `# error`, `# XFAIL`): one line, never empty.
    private static func directiveText(_ s: String) -> String {
        let t = PlainText.line(s)
        return t.isEmpty ? "skipped" : t
    }

    /// A YAML double-quoted scalar, ASCII only: `"`, `\` and every character outside printable ASCII escaped.
    static func yaml(_ s: String) -> String {
        var out = ""
        appendYAML(s, to: &out)
        return out
    }

    /// Writes ``yaml(_:)`` to `out`; printable ASCII without `"` or `\` (most text) is copied as it is.
    static func appendYAML(_ s: String, to out: inout String) {
        let plain = PlainText.allBytes(of: s) { b in
            b >= 0x20 && b <= 0x7E && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\")
        }
        out += "\""
        if plain {
            out += s
        } else {
            appendEscapedYAML(s, to: &out)
        }
        out += "\""
    }

    /// The inside of ``yaml(_:)``, character by character.
    private static func appendEscapedYAML(_ s: String, to out: inout String) {
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20...0x7E: out.unicodeScalars.append(u)
            case 0...0xFF: out += "\\x" + PlainText.hex2(UInt8(u.value))
            case 0x100...0xFFFF: out += "\\u" + PlainText.hex4(u.value)
            default:
                let h = String(u.value, radix: 16, uppercase: true)
                out += "\\U" + String(repeating: "0", count: 8 - h.count) + h
            }
        }
    }
}
