import MigconformRun

/// The short summary printed on stdout at the end of a run: the verdict line, counts per verdict, then the
/// failures (and warnings) one per line with case id, level and message. The caller prints the report folder's
/// path, and decides on color (a terminal, and `NO_COLOR` not set).
package enum ConsoleSummary {
    /// At most this many failure and warning lines; the rest are counted.
    package static let maxListed = 20
    /// The width lines wrap to when the caller knows no better (not a terminal, no `COLUMNS`).
    package static let width = 100

    /// The summary text, ending with a newline; ANSI colors only when `color` is true. Failure messages wrap to
    /// `width` columns (the terminal's), continuing under the message column.
    package static func render(_ r: RunReport, color: Bool, width: Int = ConsoleSummary.width) -> String {
        let paint = Paint(enabled: color)
        var out: [String] = []
        let word = ReportFacts.verdictWord(r)
        let headline = ReportFacts.headline(r)
        let painted = headline.replacingOccurrences(
            of: word,
            with: paint.apply(
                word,
                word == "CONFORMANT"
                    ? Paint.green
                    : word == "INCOMPLETE"
                        ? Paint.yellow : Paint.red, bold: true),
            options: .anchored)
        out.append("\(painted) (\(PlainText.line(r.run.target)))")
        out += PlainText.wrap(PlainText.line(ReportFacts.reason(r)), width: width, first: "", rest: "  ")
        let counts = Verdict.allCases.compactMap { v -> String? in
            let n = r.summary.verdicts[v.rawValue] ?? 0
            return n == 0 ? nil : "\(n) \(paint.apply(v.rawValue, paint.color(for: v), bold: false))"
        }
        out.append(
            "\(r.summary.total) case\(r.summary.total == 1 ? "" : "s")"
                + (counts.isEmpty ? "" : ": " + counts.joined(separator: ", ")))

        let order: [Verdict] = [.fail, .timeout, .error, .warn, .xpass, .flake]
        let listed = r.cases.filter { order.contains($0.verdict) }
            .enumerated()
            .sorted { a, b in
                let ra = order.firstIndex(of: a.element.verdict)!
                let rb = order.firstIndex(of: b.element.verdict)!
                return ra != rb ? ra < rb : a.offset < b.offset
            }
            .map { $0.element }
        if !listed.isEmpty {
            out.append("")
            let idWidth = min(48, listed.prefix(maxListed).map { PlainText.line($0.id).count }.max() ?? 0)
            for c in listed.prefix(maxListed) {
                let v = PlainText.pad(c.verdict.rawValue, 7)
                let level = PlainText.pad(PlainText.line(c.level.rawValue), 10)
                let id = PlainText.pad(PlainText.line(c.id), idWidth)
                let head = "\(paint.apply(v, paint.color(for: c.verdict), bold: false)) \(level) \(id)"
                var column = 7 + 1 + 10 + 1 + idWidth + 2
                if width - column < 30 {
                    // Too narrow for a message column: the message goes under the line, indented.
                    out.append(head.trimmingCharacters(in: .whitespaces))
                    column = 8
                    out += TextLayout.wrap(PlainText.line(c.message), width: width - column).map { "        " + $0 }
                    continue
                }
                let lines = TextLayout.wrap(PlainText.line(c.message), width: width - column)
                out.append("\(head)  \(lines[0])")
                for more in lines.dropFirst() { out.append(String(repeating: " ", count: column) + more) }
            }
            if listed.count > maxListed {
                out.append("... and \(listed.count - maxListed) more in report.md")
            }
        }
        if !r.hazardsSkipped.isEmpty {
            out.append("")
            out.append(
                "\(r.hazardsSkipped.count) hazardous case\(r.hazardsSkipped.count == 1 ? "" : "s") not run "
                    + "(hazards: "
                    + Set(r.hazardsSkipped.map { PlainText.line($0.hazardID) }).sorted()
                    .joined(separator: ", ") + ")")
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// ANSI colors, or nothing.
    struct Paint {
        var enabled: Bool
        static let red = "31", green = "32", yellow = "33", cyan = "36", dim = "2"

        func apply(_ s: String, _ code: String?, bold: Bool) -> String {
            guard enabled, let code else { return s }
            return "\u{1B}[\(bold ? "1;" : "")\(code)m\(s)\u{1B}[0m"
        }

        func color(for v: Verdict) -> String? {
            switch v {
            case .pass, .xfail: return Paint.green
            case .fail, .timeout, .error: return Paint.red
            case .warn, .xpass, .flake: return Paint.yellow
            case .info: return Paint.cyan
            case .skipped, .notApplicable: return Paint.dim
            }
        }
    }
}
