import MigconformDevice
import MigconformRun
import MigconformSpec

/// Renders `report.md`: a report for people, readable in a terminal and pasteable into a review email.
///
/// Plain Markdown with no HTML, ASCII only, lines kept within ``width`` characters where the text allows.
/// Order: the verdict and what was tested; every FAIL, TIMEOUT and ERROR case in full (rule statement, level,
/// citation, expected and actual, message, transcript, reproducer); WARN cases the same way; baseline outcomes;
/// the device's choices on MAY rules; hazards skipped; other skipped cases; the sources cited, spelled out (header
/// and kernel version, mailing-list message by Message-ID, with links); a table of counts per rule. Every line fits
/// in ``width`` columns.
package enum MarkdownReport {
    /// The line width prose is wrapped to.
    package static let width = 100
    /// Transcripts longer than this show their first and last operations only (`report.json` has them all).
    package static let maxTranscriptLines = 60

    /// The whole `report.md` text. Citations are spelled out from `spec`'s sources, or from the spec the report
    /// names (built in, or the file) when its hash matches.
    package static func render(_ r: RunReport, spec: Spec? = nil) -> String {
        let sources = CitationSources.of(r, spec: spec)
        var out: [String] = []
        header(r, &out)

        let broken = [Verdict.fail, .timeout, .error].flatMap { v in sorted(r.cases.filter { $0.verdict == v }) }
        if !broken.isEmpty {
            out += ["", "## Failures (\(broken.count))"]
            for (i, c) in broken.enumerated() { caseBlock(c, index: i + 1, sources: sources, &out) }
        }
        let warnings = sorted(r.cases.filter { $0.verdict == .warn })
        if !warnings.isEmpty {
            out += ["", "## Warnings (\(warnings.count))"]
            for (i, c) in warnings.enumerated() { caseBlock(c, index: i + 1, sources: sources, &out) }
        }
        let baseline = sorted(r.cases.filter { [.xpass, .flake, .xfail].contains($0.verdict) })
        if !baseline.isEmpty {
            out += ["", "## Against the baseline (\(baseline.count))", ""]
            out += baseline.flatMap { item($0, "\($0.verdict.rawValue) \(code($0.id)) (\(md($0.level.rawValue)))") }
        }
        let choices = sorted(r.cases.filter { $0.verdict == .info })
        if !choices.isEmpty {
            out += [
                "", "## Device choices (\(choices.count))", "",
                "What the device chose where the spec allows several behaviours (MAY rules).", "",
            ]
            out += choices.flatMap(choice)
        }
        if !r.hazardsSkipped.isEmpty {
            out += [
                "", "## Hazards skipped (\(r.hazardsSkipped.count))", "",
                "Not run: these requests can hang or harm this target. They run only when the hazard is allowed.",
                "",
            ]
            for h in r.hazardsSkipped.sorted(by: { $0.caseID < $1.caseID }) {
                out += PlainText.wrap(
                    "\(code(h.caseID)) (hazard \(code(h.hazardID))): " + md(h.effect),
                    width: width, first: "- ", rest: "  ")
            }
        }
        let hazardCases = Set(r.hazardsSkipped.map { $0.caseID })
        let skipped = sorted(r.cases.filter { $0.verdict == .skipped && !hazardCases.contains($0.id) })
        if !skipped.isEmpty {
            out += ["", "## Skipped (\(skipped.count))", ""]
            out += skipped.prefix(50).flatMap { item($0, "\(code($0.id))") }
            if skipped.count > 50 { out.append("- ... and \(skipped.count - 50) more (see report.json)") }
        }
        let cited = sources.cited(by: r.cases)
        if !cited.isEmpty {
            out += ["", "## Sources (\(cited.count))", "", "What the citations of the cases above and below name.", ""]
            for x in cited { out += sourceLines(x, first: "- `\(PlainText.line(x.key))`: ", rest: "  ") }
        }
        ruleTable(r, &out)
        var text = ""
        text.reserveCapacity(out.reduce(0) { $0 + $1.utf8.count + 1 })
        for line in out {
            // A line of no more bytes than the width has no more characters either: only longer ones are counted.
            if line.utf8.count > width && line.count > width {
                for piece in hardWrap(line) {
                    text += piece
                    text += "\n"
                }
            } else {
                text += line
                text += "\n"
            }
        }
        return text
    }

    /// A source, spelled out, with its link as a Markdown autolink.
    static func sourceLines(_ x: CitationSources.Expansion, first: String, rest: String) -> [String] {
        var lines = PlainText.wrap(md(x.text), width: width, first: first, rest: rest)
        if let link = x.link {
            if lines[lines.count - 1].count + link.count + 3 <= width {
                lines[lines.count - 1] += " <\(link)>"
            } else {
                lines.append(rest + "<\(link)>")
            }
        }
        return lines
    }

    /// A line still longer than ``width`` (one very long word) cut into pieces, each continued with its indent.
    static func hardWrap(_ line: String) -> [String] {
        let indent = String(line.prefix { $0 == " " })
        var out: [String] = []
        var rest = Substring(line)
        while rest.count > width {
            out.append(String(rest.prefix(width)))
            rest = rest.dropFirst(width)
            rest = Substring(indent + (indent.isEmpty ? "  " : "") + rest)
        }
        out.append(String(rest))
        return out
    }

    // MARK: - Parts

    private static func header(_ r: RunReport, _ out: inout [String]) {
        let run = r.run
        out.append("# \(ReportFacts.headline(r))")
        out.append("")
        out += PlainText.wrap(
            "**\(ReportFacts.verdictWord(r))**: \(ReportFacts.reason(r)).",
            width: width, first: "", rest: "")
        out.append("")
        var facts: [(String, String)] = [
            (
                "Spec",
                "\(PlainText.line(run.specID)) version \(PlainText.line(run.specVersion))"
                    + " (\(PlainText.line(run.specPath)), sha256 \(PlainText.line(run.specSHA256)))"
            ),
            ("Target", PlainText.line(run.target)),
            ("Device", ReportFacts.device(r)),
        ]
        if let peers = ReportFacts.peers(r) { facts.append(("Other devices", peers)) }
        if let reach = run.reach {
            var text = PlainText.line(reach.summary)
            if reach.problem == nil && !reach.notReached.isEmpty {
                text += "; not reached: " + reach.notReached.map(PlainText.line).joined(separator: ", ")
            }
            facts.append(("Driver reach", text))
        }
        let extra = run.device.extra.sorted { $0.key < $1.key }
        if !extra.isEmpty {
            facts.append(
                (
                    "Device facts",
                    extra.map { "\(PlainText.line($0.key))=\(PlainText.line($0.value))" }
                        .joined(separator: ", ")
                ))
        }
        facts.append(("Features", ReportFacts.features(r)))
        facts.append(("Cases", ReportFacts.counts(r, noun: false)))
        let levels = ReportFacts.byLevel(r)
        if !levels.isEmpty { facts.append(("By level", levels)) }
        if let p = r.plan {
            // Planned resets and state requests beside their lower bounds (like for like); the operations the run
            // issued in all (reads, writes, probes) after them.
            func resets(_ n: Int) -> String { n == 1 ? "1 reset" : "\(n) resets" }
            var s = resets(p.resets)
            if let planned = p.plannedRequests { s += " + \(planned) state requests" }
            var bounds: [String] = []
            if let b = p.lowerBoundResets { bounds.append(resets(b)) }
            if let b = p.lowerBoundRequests {
                bounds.append("\(b) state requests")
            } else if let b = p.lowerBoundOperations {
                bounds.append("\(b) operations")
            }
            if !bounds.isEmpty { s += " (lower bound: " + bounds.joined(separator: " + ") + ")" }
            s += "; \(p.operations) device operations issued in all"
            facts.append(("Plan", s))
        }
        if !run.variants.isEmpty {
            facts.append(("Variants", run.variants.map(PlainText.line).joined(separator: ", ")))
        }
        if !run.allowedHazards.isEmpty {
            facts.append(("Hazards allowed", run.allowedHazards.map(PlainText.line).joined(separator: ", ")))
        }
        var runLine =
            "\(PlainText.line(run.started)) to \(PlainText.line(run.ended)), migconform "
            + PlainText.line(run.runnerVersion)
        if let seed = run.seed { runLine += ", seed \(seed)" }
        facts.append(("Run", runLine))
        for (k, v) in facts { out += PlainText.wrap("\(k): \(md(v))", width: width, first: "- ", rest: "  ") }
        if run.interrupted {
            out += ["", "> The run was interrupted: cases after the interruption are missing from this report."]
        }
    }

    private static func caseBlock(_ c: CaseResult, index: Int, sources: CitationSources, _ out: inout [String]) {
        out += ["", "### \(index). \(c.verdict.rawValue) \(code(c.id))", ""]
        field("Rule", "\(PlainText.line(c.ruleID)) (\(PlainText.line(c.level.rawValue)))", &out)
        field("Statement", c.statement, &out)
        field("Cite", c.cite, &out)
        if let x = sources.expand(cite: c.cite) { out += sourceLines(x, first: "- Source: ", rest: "  ") }
        if let e = c.expected { field("Expected", e, &out) }
        if let a = c.actual { field("Actual", a, &out) }
        field("Message", c.message, &out)
        field("Duration", PlainText.duration(micros: c.durationMicros), &out)
        if c.transcript.isEmpty {
            out.append("- Transcript: no device operation")
        } else {
            out.append("- Transcript (\(c.transcript.count) operation\(c.transcript.count == 1 ? "" : "s")):")
            out += transcriptLines(c.transcript)
        }
        if let rep = c.reproducer, !rep.isEmpty {
            out.append("- Reproducer (from reset, \(rep.count) operation\(rep.count == 1 ? "" : "s")):")
            for (i, e) in rep.enumerated() {
                let head = "    \(i + 1). "
                out += PlainText.wrap(
                    TranscriptFormatter.step(e), width: width, first: head,
                    rest: String(repeating: " ", count: head.count))
            }
        }
    }

    /// The numbered transcript list, indented under its list item; steps are numbered from 1.
    static func transcriptLines(_ entries: [TranscriptEntry]) -> [String] {
        let line = { (e: TranscriptEntry) -> [String] in
            let head = "    \(e.step + 1). "
            return PlainText.wrap(
                TranscriptFormatter.line(e), width: width, first: head,
                rest: String(repeating: " ", count: head.count))
        }
        guard entries.count > maxTranscriptLines else { return entries.flatMap(line) }
        let head = maxTranscriptLines * 2 / 3
        let tail = maxTranscriptLines - head
        return entries.prefix(head).flatMap(line)
            + ["    ... \(entries.count - head - tail) operations left out (see report.json) ..."]
            + entries.suffix(tail).flatMap(line)
    }

    private static func field(_ name: String, _ value: String, _ out: inout [String]) {
        out += PlainText.wrap("\(name): \(md(value))", width: width, first: "- ", rest: "  ")
    }

    /// One list item: a label and the case's message.
    private static func item(_ c: CaseResult, _ label: String) -> [String] {
        PlainText.wrap("\(label): \(md(c.message))", width: width, first: "- ", rest: "  ")
    }

    /// A device choice, with what the rule's usual behaviour is and what the device did, when they differ.
    private static func choice(_ c: CaseResult) -> [String] {
        var lines = item(c, code(c.id))
        if let e = c.expected, let a = c.actual {
            lines += PlainText.wrap("expected \(md(e)); actual \(md(a))", width: width, first: "  ", rest: "  ")
        }
        return lines
    }

    /// Prose from a spec or a device, on one line, with what a Markdown renderer would take for an HTML tag
    /// (`<` before a letter, `/`, `!` or `?`) escaped as `\<`; everything else is left as written.
    static func md(_ s: String) -> String {
        let line = PlainText.line(s)
        guard line.contains("<") else { return line }
        var out = ""
        var previous: Character? = nil
        for ch in line {
            if let p = previous, p == "<", ch.isLetter || ch == "/" || ch == "!" || ch == "?" {
                out.removeLast()
                out += "\\<"
            }
            out.append(ch)
            previous = ch
        }
        return out
    }

    /// A code span for an id, safe when the id itself holds backticks.
    static func code(_ s: String) -> String {
        let line = PlainText.line(s)
        if !line.contains("`") { return "`" + line + "`" }
        return "`` " + line + " ``"
    }

    /// Whether `cite` holds `note`, found as Foundation's `contains` finds it; when both are ASCII (as citations
    /// are), where that is the same as looking for the bytes, without Foundation's search (tens of thousands of
    /// instructions a call).
    static func cites(_ cite: String, _ note: String) -> Bool {
        var haystack = cite
        var needle = note
        let found = haystack.withUTF8 { h in
            needle.withUTF8 { n -> Bool? in
                guard !n.isEmpty, h.allSatisfy({ $0 < 0x80 }), n.allSatisfy({ $0 < 0x80 }) else { return nil }
                guard n.count <= h.count else { return false }
                for start in 0...(h.count - n.count) {
                    var matched = 0
                    while matched < n.count && h[start + matched] == n[matched] { matched += 1 }
                    if matched == n.count { return true }
                }
                return false
            }
        }
        return found ?? cite.contains(note)
    }

    private static func sorted(_ cases: [CaseResult]) -> [CaseResult] {
        cases.enumerated().sorted { a, b in
            a.element.id != b.element.id ? a.element.id < b.element.id : a.offset < b.offset
        }.map { $0.element }
    }

    private static func ruleTable(_ r: RunReport, _ out: inout [String]) {
        guard !r.cases.isEmpty else { return }
        // PASS and FAIL always; the other verdicts only when some case has them.
        let present = ReportFacts.verdictsPresent(r.cases)
        let columns: [(String, Verdict)] = [
            ("PASS", .pass), ("FAIL", .fail), ("WARN", .warn), ("INFO", .info),
            ("N/A", .notApplicable), ("SKIP", .skipped), ("TIMEOUT", .timeout),
            ("ERROR", .error), ("XFAIL", .xfail), ("XPASS", .xpass), ("FLAKE", .flake),
        ]
        .filter { col in [.pass, .fail].contains(col.1) || present.contains(col.1) }
        let groups = ReportFacts.byRule(r.cases).sorted { $0.rule < $1.rule }
        var rows: [[String]] = [["Rule", "Level"] + columns.map { $0.0 }]
        for g in groups {
            // A rule the kernel's VFIO core answers before the driver is marked, so its verdict is not read as the driver's.
            let core = cites(g.cases[0].cite, Rule.coreNote) ? " (core)" : ""
            let level = PlainText.line(g.cases[0].level.rawValue)
            var counts: [Verdict: Int] = [:]
            for c in g.cases { counts[c.verdict, default: 0] += 1 }
            rows.append(
                [PlainText.line(g.rule) + core, level]
                    + columns.map { col in
                        let n = counts[col.1] ?? 0
                        return n == 0 ? "." : String(n)
                    })
        }
        var widths = Array(repeating: 0, count: rows[0].count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], PlainText.characterCount(cell)) }
        }
        out += [
            "", "## Rules (\(groups.count))", "",
            "Cases per rule and verdict (`.` is zero). (core): the rule tests the kernel's VFIO core,",
            "not the driver.", "",
        ]
        // As many verdict columns per table as fit in the width; the rule and level columns repeat.
        var chunks: [[Int]] = [[]]
        var used = 2 + widths[0] + 3 + widths[1] + 2
        for i in 2..<widths.count {
            if used + widths[i] + 3 > width, !chunks[chunks.count - 1].isEmpty {
                chunks.append([])
                used = 2 + widths[0] + 3 + widths[1] + 2
            }
            chunks[chunks.count - 1].append(i)
            used += widths[i] + 3
        }
        for (n, chunk) in chunks.enumerated() {
            let cols = [0, 1] + chunk
            func render(_ row: [String]) -> String {
                "| "
                    + cols.map { i in
                        i < 2 ? PlainText.pad(row[i], widths[i]) : PlainText.padLeft(row[i], widths[i])
                    }.joined(separator: " | ") + " |"
            }
            if n > 0 { out.append("") }
            out.append(render(rows[0]))
            out.append(
                "|"
                    + cols.map { i in
                        i < 2
                            ? String(repeating: "-", count: widths[i] + 2)
                            : String(repeating: "-", count: widths[i] + 1) + ":"
                    }.joined(separator: "|") + "|")
            for row in rows.dropFirst() { out.append(render(row)) }
        }
    }
}
