import Foundation
import MigconformDevice
import MigconformRun
import MigconformSpec

/// Renders `report.html`: the whole report in one file that opens in any browser, offline. The verdict first,
/// then the state diagram (inline SVG, single-step arcs, said so beside the run's own counts), every failure and
/// warning with its transcript and reproducer, the skipped cases, the sources cited (spelled out, linked), and a
/// table of cases per rule; cases link to their rule's row and rows to their listed cases. No scripts, no external
/// style sheets, fonts or images (links to sources are plain links); every string that came from the spec or the
/// device is escaped.
package enum HTMLReport {
    /// Transcripts longer than this show their first and last operations only (`report.json` has them all).
    package static let maxTranscriptLines = 80

    /// The whole `report.html` text. Without a spec there is no diagram (the rest of the report is complete).
    package static func render(_ r: RunReport, spec: Spec?) -> String {
        render(r, spec: spec, diagram: spec.map { StateDiagram.svg(r, spec: $0) })
    }

    /// ``render(_:spec:)`` with the `<svg>` element of the state diagram already drawn (``StateDiagram/svg(_:spec:)``
    /// of the same report and spec), or nil for none.
    static func render(_ r: RunReport, spec: Spec?, diagram: String?) -> String {
        let sources = CitationSources.of(r, spec: spec)
        let verdict = ReportFacts.verdictWord(r)
        let tone = verdict == "CONFORMANT" ? "ok" : verdict == "NOT CONFORMANT" ? "bad" : "partial"
        var out: [String] = []
        out.append("<!DOCTYPE html>")
        out.append("<html lang=\"en\">")
        out.append("<head>")
        out.append("<meta charset=\"utf-8\">")
        out.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        out.append("<title>\(e("migconform: \(ReportFacts.headline(r)) (\(r.run.target))"))</title>")
        out.append("<style>\(css)</style>")
        out.append("</head>")
        out.append("<body>")
        out.append("<header class=\"banner \(tone)\">")
        out.append("<h1><span class=\"verdict\">\(e(verdict))</span> \(e(headlineRest(r)))</h1>")
        out.append("<p>\(e(ReportFacts.reason(r))).</p>")
        out.append("</header>")
        out.append("<main>")
        facts(r, &out)
        if let diagram {
            out.append("<section id=\"diagram\"><h2>State machine</h2>")
            out.append(
                "<p class=\"note\">Single-step arcs only: every single-step arc of the device's profile, "
                    + "colored by the verdict of the arc cases bound to it; the legend counts arcs, not cases. "
                    + "The run's verdicts over all its cases, combination transitions included, are "
                    + e(ReportFacts.counts(r, noun: false)) + ". Hover over an arc or a state for its cases and "
                    + "description.</p>")
            out.append("<div class=\"figure\">")
            out.append(diagram)
            out.append("</div></section>")
        }
        let broken = [Verdict.fail, .timeout, .error].flatMap { v in r.cases.filter { $0.verdict == v } }
        out.append("<section id=\"failures\"><h2>Failures (\(broken.count))</h2>")
        if broken.isEmpty {
            out.append("<p class=\"note\">No case failed, timed out or errored.</p>")
        } else {
            for c in broken { caseBlock(c, sources: sources, &out) }
        }
        out.append("</section>")
        let warnings = r.cases.filter { $0.verdict == .warn }
        if !warnings.isEmpty {
            out.append("<section id=\"warnings\"><h2>Warnings (\(warnings.count))</h2>")
            for c in warnings { caseBlock(c, sources: sources, &out) }
            out.append("</section>")
        }
        let choices = r.cases.filter { $0.verdict == .info }
        if !choices.isEmpty {
            out.append("<section id=\"choices\"><h2>Device choices (\(choices.count))</h2><ul>")
            for c in choices { out.append(listItem(c)) }
            out.append("</ul></section>")
        }
        if !r.hazardsSkipped.isEmpty {
            out.append("<section id=\"hazards\"><h2>Hazards skipped (\(r.hazardsSkipped.count))</h2><ul>")
            for h in r.hazardsSkipped {
                out.append(
                    "<li><code>\(e(h.caseID))</code> (hazard <code>\(e(h.hazardID))</code>): \(e(h.effect))</li>")
            }
            out.append("</ul></section>")
        }
        let hazardCases = Set(r.hazardsSkipped.map { $0.caseID })
        let skipped = r.cases.filter {
            [.skipped, .notApplicable].contains($0.verdict) && !hazardCases.contains($0.id)
        }
        if !skipped.isEmpty {
            out.append("<section id=\"skipped\"><h2>Skipped (\(skipped.count))</h2>")
            out.append(
                "<p class=\"note\">Cases not run: not applicable to this device, filtered out, or cut short.</p><ul>")
            for c in skipped { out.append(listItem(c)) }
            out.append("</ul></section>")
        }
        let cited = sources.cited(by: r.cases)
        if !cited.isEmpty {
            out.append("<section id=\"sources\"><h2>Sources (\(cited.count))</h2><dl>")
            for x in cited {
                out.append(
                    "<dt id=\"source-\(e(EngineNames.encode(x.key)))\"><code>\(e(x.key))</code></dt><dd>\(sourceText(x))</dd>"
                )
            }
            out.append("</dl></section>")
        }
        ruleTable(r, listed: Set((broken + warnings + choices + skipped).map(\.id)), &out)
        out.append("</main>")
        out.append(
            "<footer>migconform \(e(r.run.runnerVersion)) \u{2022} report.json in the same folder is the "
                + "source of truth (schema \(r.schemaVersion))</footer>")
        out.append("</body>")
        out.append("</html>")
        return out.joined(separator: "\n") + "\n"
    }

    static func headlineRest(_ r: RunReport) -> String {
        let spec = "\(r.run.specID) \(r.run.specVersion)"
        return ReportFacts.verdictWord(r) == "INCOMPLETE" ? "run against \(spec)" : "to \(spec)"
    }

    static func facts(_ r: RunReport, _ out: inout [String]) {
        let run = r.run
        var rows: [(String, String)] = [
            ("Spec", "\(run.specID) version \(run.specVersion) (\(run.specPath), sha256 \(run.specSHA256))"),
            ("Target", run.target),
            ("Device", ReportFacts.device(r)),
        ]
        let extra = run.device.extra.sorted { $0.key < $1.key }
        if !extra.isEmpty {
            rows.append(("Device facts", extra.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))
        }
        rows.append(("Features", ReportFacts.features(r)))
        rows.append(("Cases", ReportFacts.counts(r, noun: false)))
        let levels = ReportFacts.byLevel(r)
        if !levels.isEmpty { rows.append(("By level", levels)) }
        if let p = r.plan { rows.append(("Plan", "\(p.resets) resets, \(p.operations) operations")) }
        if !run.variants.isEmpty { rows.append(("Variants", run.variants.joined(separator: ", "))) }
        if !run.allowedHazards.isEmpty { rows.append(("Hazards allowed", run.allowedHazards.joined(separator: ", "))) }
        rows.append(("Run", "\(run.started) to \(run.ended)"))
        if let why = run.stopReason { rows.append(("Stopped", why)) }
        out.append("<section id=\"facts\"><table class=\"facts\">")
        for (k, v) in rows { out.append("<tr><th>\(e(k))</th><td>\(e(v))</td></tr>") }
        out.append("</table>")
        var chips = "<p class=\"chips\">"
        for v in Verdict.allCases {
            let n = r.summary.verdicts[v.rawValue] ?? 0
            if n > 0 { chips += "<span class=\"chip \(cls(v))\">\(e(v.rawValue)) \(n)</span> " }
        }
        out.append(chips + "</p></section>")
    }

    /// Fragment ids: `case-<name>`, `rule-<name>`, engine-safe names (``EngineNames``).
    static func anchor(_ kind: String, _ id: String) -> String { kind + "-" + EngineNames.encode(id) }

    /// A rule id linked to its row of the rule table.
    static func ruleLink(_ rule: String) -> String {
        "<a href=\"#\(e(anchor("rule", rule)))\"><code>\(e(rule))</code></a>"
    }

    /// A source spelled out, with its link.
    static func sourceText(_ x: CitationSources.Expansion) -> String {
        e(x.text) + (x.link.map { " <a href=\"\(e($0))\">\(e($0))</a>" } ?? "")
    }

    /// One case as a list item: verdict, id (an anchor), rule (a link), message.
    static func listItem(_ c: CaseResult) -> String {
        "<li id=\"\(e(anchor("case", c.id)))\"><span class=\"chip \(cls(c.verdict))\">\(e(c.verdict.rawValue))</span> "
            + "<code>\(e(c.id))</code> (\(ruleLink(c.ruleID))): \(e(c.message))</li>"
    }

    static func caseBlock(_ c: CaseResult, sources: CitationSources = CitationSources([:]), _ out: inout [String]) {
        out.append("<details class=\"case \(cls(c.verdict))\" id=\"\(e(anchor("case", c.id)))\" open>")
        out.append(
            "<summary><span class=\"chip \(cls(c.verdict))\">\(e(c.verdict.rawValue))</span> "
                + "<code>\(e(c.id))</code> \u{2014} \(e(c.message))</summary>")
        out.append("<dl>")
        out.append("<dt>Rule</dt><dd>\(ruleLink(c.ruleID)) (\(e(c.level.rawValue)))</dd>")
        out.append("<dt>Statement</dt><dd>\(e(c.statement))</dd>")
        if let x = sources.expand(cite: c.cite) {
            out.append(
                "<dt>Cite</dt><dd><a href=\"#\(e("source-" + EngineNames.encode(x.key)))\">\(e(x.key))</a>"
                    + e(String(c.cite.dropFirst(x.key.count))) + "</dd>")
            out.append("<dt>Source</dt><dd>\(sourceText(x))</dd>")
        } else {
            out.append("<dt>Cite</dt><dd>\(e(c.cite))</dd>")
        }
        var fields: [(String, String)] = []
        if let x = c.expected { fields.append(("Expected", x)) }
        if let a = c.actual { fields.append(("Actual", a)) }
        if let x = c.expectation { fields.append(("Baseline", x)) }
        fields.append(("Duration", PlainText.duration(micros: c.durationMicros)))
        for (k, v) in fields { out.append("<dt>\(e(k))</dt><dd>\(e(v))</dd>") }
        out.append("</dl>")
        if c.transcript.isEmpty {
            out.append("<p class=\"note\">No device operation.</p>")
        } else {
            out.append(
                "<p class=\"label\">Transcript (\(c.transcript.count) operation\(c.transcript.count == 1 ? "" : "s"))</p>"
            )
            out.append("<pre class=\"transcript\">\(e(transcriptText(c.transcript)))</pre>")
        }
        if let rep = c.reproducer, !rep.isEmpty {
            out.append(
                "<p class=\"label\">Reproducer (from reset, \(rep.count) operation\(rep.count == 1 ? "" : "s"))</p>")
            let lines = rep.enumerated().map { "\($0.offset + 1). \(TranscriptFormatter.step($0.element))" }
            out.append("<pre class=\"transcript\">\(e(lines.joined(separator: "\n")))</pre>")
        }
        out.append("</details>")
    }

    static func transcriptText(_ entries: [TranscriptEntry]) -> String {
        let line = { (x: TranscriptEntry) in "\(x.step + 1). \(TranscriptFormatter.line(x))" }
        guard entries.count > maxTranscriptLines else { return entries.map(line).joined(separator: "\n") }
        let head = maxTranscriptLines * 2 / 3
        let tail = maxTranscriptLines - head
        return
            (entries.prefix(head).map(line)
            + ["... \(entries.count - head - tail) operations left out (see report.json) ..."]
            + entries.suffix(tail).map(line)).joined(separator: "\n")
    }

    static func ruleTable(_ r: RunReport, listed: Set<String> = [], _ out: inout [String]) {
        guard !r.cases.isEmpty else { return }
        let present = ReportFacts.verdictsPresent(r.cases)
        let columns = Verdict.allCases.filter { present.contains($0) }
        let groups = ReportFacts.byRule(r.cases).sorted { $0.rule < $1.rule }
        out.append("<section id=\"rules\"><h2>Rules (\(groups.count))</h2>")
        out.append(
            "<table class=\"rules\"><thead><tr><th>Rule</th><th>Level</th><th>Statement</th>"
                + columns.map { "<th class=\"n\">\(e($0.rawValue))</th>" }.joined() + "</tr></thead><tbody>")
        for g in groups {
            var worst = Verdict.pass
            var counts: [Verdict: Int] = [:]
            var links: [CaseResult] = []
            for c in g.cases {
                if rank(c.verdict) < rank(worst) { worst = c.verdict }
                counts[c.verdict, default: 0] += 1
                if listed.contains(c.id) { links.append(c) }
            }
            var cases = links.prefix(12).map {
                "<a href=\"#\(e(anchor("case", $0.id)))\">\(e($0.verdict.rawValue))</a>"
            }
            if links.count > 12 { cases.append("\u{2026}") }
            var row =
                "<tr class=\"\(cls(worst))\" id=\"\(e(anchor("rule", g.rule)))\"><td><code>\(e(g.rule))</code>"
                + (cases.isEmpty ? "" : "<div class=\"cases\">\(cases.joined(separator: " "))</div>")
                + "</td><td>\(e(g.cases[0].level.rawValue))</td><td>\(e(g.cases[0].statement))</td>"
            for v in columns {
                let n = counts[v] ?? 0
                row += n == 0 ? "<td class=\"n zero\">\u{00b7}</td>" : "<td class=\"n \(cls(v))\">\(n)</td>"
            }
            out.append(row + "</tr>")
        }
        out.append("</tbody></table></section>")
    }

    /// Which verdict colors a rule's row: the worst of its cases.
    static func rank(_ v: Verdict) -> Int {
        switch v {
        case .fail, .timeout, .error: return 0
        case .xpass, .flake: return 1
        case .warn: return 2
        case .xfail: return 3
        case .skipped: return 4
        case .info: return 5
        case .notApplicable: return 6
        case .pass: return 7
        }
    }

    static func cls(_ v: Verdict) -> String {
        switch v {
        case .pass: return "v-pass"
        case .fail, .timeout, .error: return "v-fail"
        case .warn, .xpass, .flake: return "v-warn"
        case .info: return "v-info"
        case .xfail: return "v-xfail"
        case .notApplicable, .skipped: return "v-muted"
        }
    }

    static func e(_ s: String) -> String { Markup.escape(s) }

    static let css = """
        body{margin:0;font:15px/1.45 "DejaVu Sans","Liberation Sans",Arial,sans-serif;color:#24292f;background:#fff}
        main{max-width:1180px;margin:0 auto;padding:0 24px 24px}
        .banner{padding:18px 24px;border-bottom:4px solid}
        .banner h1{margin:0;font-size:24px}.banner p{margin:6px 0 0}
        .banner.ok{background:#dafbe1;border-color:#1a7f37}.banner.ok .verdict{color:#1a7f37}
        .banner.bad{background:#ffebe9;border-color:#cf222e}.banner.bad .verdict{color:#cf222e}
        .banner.partial{background:#fff8c5;border-color:#b35900}.banner.partial .verdict{color:#b35900}
        h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
        table{border-collapse:collapse}
        table.facts th{text-align:left;padding:3px 14px 3px 0;vertical-align:top;white-space:nowrap;color:#57606a}
        table.facts td{padding:3px 0;overflow-wrap:anywhere}
        .chips{margin:12px 0}.chip{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;font-weight:bold;border:1px solid}
        .chip.v-pass,td.v-pass{color:#1a7f37;border-color:#1a7f37}.chip.v-fail,td.v-fail{color:#cf222e;border-color:#cf222e}
        .chip.v-warn,td.v-warn{color:#b35900;border-color:#b35900}.chip.v-info,td.v-info{color:#0969da;border-color:#0969da}
        .chip.v-xfail,td.v-xfail{color:#8250df;border-color:#8250df}.chip.v-muted,td.v-muted{color:#57606a;border-color:#8c959f}
        details.case.v-fail{border-left-color:#cf222e}details.case.v-warn{border-left-color:#b35900}details.case.v-info{border-left-color:#0969da}
        .figure{overflow-x:auto;border:1px solid #d0d7de;border-radius:6px}
        .figure svg{display:block;max-width:100%;height:auto}
        .note{color:#57606a}
        details.case{border:1px solid #d0d7de;border-left:5px solid;border-radius:6px;margin:10px 0;padding:8px 12px}
        details.case summary{cursor:pointer;overflow-wrap:anywhere}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:10px 0}
        dt{color:#57606a}dd{margin:0;overflow-wrap:anywhere}
        .label{margin:8px 0 2px;font-weight:bold;font-size:13px}
        pre.transcript{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px;overflow-x:auto;font-size:12.5px;margin:0}
        code,pre{font-family:"DejaVu Sans Mono","Liberation Mono",monospace}
        table.rules{width:100%;font-size:13px}
        table.rules th,table.rules td{border-bottom:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}
        table.rules th{background:#f6f8fa;position:sticky;top:0}
        table.rules td.n,table.rules th.n{text-align:right;white-space:nowrap;font-weight:bold}
        table.rules td.zero{color:#afb8c1}
        table.rules tr.v-fail td:first-child{border-left:4px solid #cf222e}
        table.rules tr.v-warn td:first-child{border-left:4px solid #b35900}
        table.rules div.cases{font-size:12px;font-weight:normal}a{color:#0969da}
        footer{max-width:1180px;margin:0 auto;padding:12px 24px 32px;color:#57606a;font-size:13px}
        @media print{.figure{overflow:visible}details.case{break-inside:avoid}}
        """
}

/// The files a run folder holds beside the standard reports: `diagram.svg` and `report.html`, rendered from the
/// report and the spec it was run against, for ``ReportWriter/write(_:to:additionalFiles:existingFiles:)``.
package enum RunFolderExtras {
    package static let diagramFile = "diagram.svg"
    package static let htmlFile = "report.html"

    package static func files(_ report: RunReport, spec: Spec) -> [String: Data] {
        // The diagram is drawn once, for its own file and for the page.
        let diagram = StateDiagram.svg(report, spec: spec)
        return [
            diagramFile: Data(StateDiagram.document(svg: diagram).utf8),
            htmlFile: Data(HTMLReport.render(report, spec: spec, diagram: diagram).utf8),
        ]
    }
}
