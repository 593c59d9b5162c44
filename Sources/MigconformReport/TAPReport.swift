import MigconformRun

/// Renders `report.tap`: TAP version 13, one test point per case in run order, with a YAML diagnostics block
/// (indented two spaces, between `---` and `...`) for every case that neither passed nor was skipped.
///
/// PASS, WARN, INFO and FLAKE are `ok` (the block says which); FAIL and ERROR are `not ok`; TIMEOUT is
/// `not ok ... # TIMEOUT`; SKIPPED and NOT_APPLICABLE are `ok ... # SKIP <reason>`; XFAIL is
/// `not ok ... # TODO expected failure` and XPASS `ok ... # TODO expected failure`, which TAP consumers read
/// as an unexpected pass. Descriptions escape `\` and `#`; YAML strings are always double-quoted.
public enum TAPReport {
    /// The whole `report.tap` text.
    public static func render(_ r: RunReport) -> String {
        var out = ["TAP version 13", "1..\(r.cases.count)"]
        out.append("# migconform \(PlainText.line(r.run.runnerVersion)): spec \(PlainText.line(r.run.specID)) "
                   + "\(PlainText.line(r.run.specVersion)), target \(PlainText.line(r.run.target))")
        for (i, c) in r.cases.enumerated() {
            let n = i + 1
            let name = description(c.id)
            let reason = directiveText(c.message)
            switch c.verdict {
            case .pass, .warn, .info, .flake: out.append("ok \(n) - \(name)")
            case .fail, .error: out.append("not ok \(n) - \(name)")
            case .timeout: out.append("not ok \(n) - \(name) # TIMEOUT")
            case .skipped: out.append("ok \(n) - \(name) # SKIP \(reason)")
            case .notApplicable: out.append("ok \(n) - \(name) # SKIP not applicable: \(reason)")
            case .xfail: out.append("not ok \(n) - \(name) # TODO expected failure")
            case .xpass: out.append("ok \(n) - \(name) # TODO expected failure")
            }
            if ![.pass, .skipped, .notApplicable].contains(c.verdict) { diagnostics(c, &out) }
        }
        out.append("# \(ReportFacts.headline(r)): \(ReportFacts.reason(r))")
        out.append("# \(ReportFacts.counts(r))")
        return out.joined(separator: "\n") + "\n"
    }

    private static func diagnostics(_ c: CaseResult, _ out: inout [String]) {
        out.append("  ---")
        var fields: [(String, String)] = [("verdict", c.verdict.rawValue), ("level", c.level), ("rule", c.ruleID),
                                          ("statement", c.statement), ("cite", c.cite)]
        if let e = c.expected { fields.append(("expected", e)) }
        if let a = c.actual { fields.append(("actual", a)) }
        fields.append(("message", c.message))
        for (k, v) in fields { out.append("  \(k): \(yaml(v))") }
        out.append("  duration_us: \(c.durationMicros)")
        if !c.transcript.isEmpty {
            out.append("  transcript:")
            out += c.transcript.map { "    - \(yaml(TranscriptFormatter.line($0)))" }
        }
        if let rep = c.reproducer, !rep.isEmpty {
            out.append("  reproducer:")
            out += rep.map { "    - \(yaml(TranscriptFormatter.operation($0)))" }
        }
        out.append("  ...")
    }

    /// A test point description: one line, `\` and `#` escaped so no directive can be smuggled in.
    static func description(_ s: String) -> String {
        PlainText.line(s).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "#", with: "\\#")
    }

    /// Directive text (after `# SKIP`): one line.
    private static func directiveText(_ s: String) -> String {
        let t = PlainText.line(s)
        return t.isEmpty ? "skipped" : t
    }

    /// A YAML double-quoted scalar, ASCII only: `"`, `\` and every character outside printable ASCII escaped.
    static func yaml(_ s: String) -> String {
        var out = "\""
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
        return out + "\""
    }
}
