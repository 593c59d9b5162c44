import MigconformRun
import MigconformSpec

/// Compares two runs case by case (`migconform diff OLD NEW`): what a maintainer pastes into a patch review.
///
/// Cases are matched by id and compared on the device's own verdict (an XFAIL counts as the failure it is, an
/// XPASS as the pass, a FLAKE as its first attempt). Verdicts are ranked not tested (NOT_APPLICABLE, SKIPPED, ERROR,
/// or absent) < PASS/INFO < FLAKE < WARN < FAIL/TIMEOUT. A **regression** is a case that got worse and now warns or
/// fails, a new case among them, or a run verdict that got worse (CONFORMANT < INCOMPLETE < NOT CONFORMANT); a **fix**
/// a case that failed or warned and got better; every other change of verdict is listed as a change.
package struct ReportDiff: Sendable {
    /// One case whose verdict differs, or that is in only one run.
    package struct Change: Sendable, Equatable {
        package var caseID: String
        package var ruleID: String
        package var level: Level
        package var statement: String
        package var old: Verdict?
        package var new: Verdict?
        /// The message of the run the case is judged by (the new one, or the old one for a removed case).
        package var message: String
    }

    /// Output formats.
    package enum Format: String, Sendable, CaseIterable { case text, markdown }

    package var old: RunReport
    package var new: RunReport
    package var regressions: [Change] = []
    package var fixes: [Change] = []
    package var added: [Change] = []
    package var removed: [Change] = []
    package var changed: [Change] = []

    /// Rank of a device verdict; nil for verdicts that mean "not tested".
    package static func rank(_ v: Verdict) -> Int? {
        switch v {
        case .pass, .info, .xpass: return 0
        case .flake: return 1
        case .warn: return 2
        case .fail, .timeout, .xfail: return 3
        // ERROR judged nothing of the device: like a case not run, a change to it is no regression.
        case .notApplicable, .skipped, .error: return nil
        }
    }

    package static func compare(_ old: RunReport, _ new: RunReport) -> ReportDiff {
        var d = ReportDiff(old: old, new: new)
        let oldByID = Dictionary(old.cases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let newIDs = Set(new.cases.map(\.id))
        for n in new.cases {
            guard let o = oldByID[n.id] else {
                let c = Change(
                    caseID: n.id, ruleID: n.ruleID, level: n.level, statement: n.statement, old: nil,
                    new: n.deviceVerdict, message: n.message)
                // A case the old run did not have, and that now fails or warns, is a regression like any other.
                if (rank(n.deviceVerdict) ?? -1) >= 2 { d.regressions.append(c) } else { d.added.append(c) }
                continue
            }
            let ov = o.deviceVerdict
            let nv = n.deviceVerdict
            guard ov != nv else { continue }
            let c = Change(
                caseID: n.id, ruleID: n.ruleID, level: n.level, statement: n.statement, old: ov, new: nv,
                message: n.message)
            let ro = rank(ov) ?? -1
            let rn = rank(nv) ?? -1
            if rn > ro, rn >= 2 {
                d.regressions.append(c)
            } else if rn < ro, ro >= 2, rn >= 0 {
                d.fixes.append(c)
            } else {
                d.changed.append(c)
            }
        }
        for o in old.cases where !newIDs.contains(o.id) {
            d.removed.append(
                Change(
                    caseID: o.id, ruleID: o.ruleID, level: o.level, statement: o.statement,
                    old: o.deviceVerdict, new: nil, message: o.message))
        }
        return d
    }

    /// Rank of a run verdict: CONFORMANT < INCOMPLETE < NOT CONFORMANT.
    package static func rank(_ v: RunVerdict) -> Int {
        switch v {
        case .conformant: return 0
        case .incomplete: return 1
        case .notConformant: return 2
        }
    }

    /// The run's verdict got worse.
    package var verdictRegressed: Bool { Self.rank(new.summary.verdict) > Self.rank(old.summary.verdict) }

    package var hasRegressions: Bool { !regressions.isEmpty || verdictRegressed }

    /// When the run's verdict changed, the new report's reasons for it (a case list may show none: a run rebuilt
    /// from a damaged journal, a shard missing).
    var verdictWhy: String? {
        old.summary.verdict == new.summary.verdict ? nil : PlainText.line(ReportFacts.reason(new))
    }

    /// `run verdict: CONFORMANT -> NOT CONFORMANT (worse)`.
    var verdictLine: String {
        let o = old.summary.verdict
        let n = new.summary.verdict
        if o == n { return "run verdict: \(n.rawValue) (unchanged)" }
        return "run verdict: \(o.rawValue) -> \(n.rawValue) ("
            + (verdictRegressed ? "worse: a regression of the run" : "better") + ")"
    }

    /// Rule ids with at least one regression, in order of first appearance.
    package var regressedRules: [String] { Self.rules(regressions) }

    static func rules(_ changes: [Change]) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for c in changes where seen.insert(c.ruleID).inserted { out.append(c.ruleID) }
        return out
    }

    /// A feature profile as a note prints it: the names joined by commas, `(none)` when the device advertised none.
    static func profile(_ features: [String]) -> String {
        features.isEmpty ? "(none)" : features.joined(separator: ",")
    }

    /// Notes about runs that are not quite comparable (different spec, spec version, device, filters).
    package var notes: [String] {
        var n: [String] = []
        if old.run.features != new.run.features {
            n.append(
                "the device's feature profile changed: \(Self.profile(old.run.features)) -> "
                    + Self.profile(new.run.features))
        }
        if old.run.specID != new.run.specID || old.run.specVersion != new.run.specVersion {
            n.append(
                "the runs used different specs: \(old.run.specID) \(old.run.specVersion) and \(new.run.specID) \(new.run.specVersion)"
            )
        } else if old.run.specSHA256 != new.run.specSHA256 {
            n.append(
                "the spec file changed between the runs (SHA-256 \(old.run.specSHA256.prefix(12)) and \(new.run.specSHA256.prefix(12)))"
            )
        }
        if old.run.device.driver != new.run.device.driver {
            n.append("different drivers: \(old.run.device.driver) and \(new.run.device.driver)")
        }
        if old.run.peers != new.run.peers {
            n.append(
                "the runs had different peer devices: \(ReportFacts.peers(old) ?? "none") -> \(ReportFacts.peers(new) ?? "none")"
            )
        }
        if old.run.interrupted { n.append("the old run was interrupted: its missing verdicts are not comparable") }
        if new.run.interrupted { n.append("the new run was interrupted: its missing verdicts are not comparable") }
        return n
    }

    package func render(_ format: Format) -> String {
        format == .markdown ? markdown() : text()
    }

    private func runLine(_ r: RunReport) -> String {
        "\(PlainText.line(r.run.specID)) \(PlainText.line(r.run.specVersion)) on \(PlainText.line(r.run.target)) "
            + "(\(ReportFacts.device(r))), \(r.run.started): \(ReportFacts.counts(r))"
    }

    private func sections() -> [(title: String, changes: [Change])] {
        [
            ("Regressions", regressions), ("Fixes", fixes), ("New cases", added), ("Removed cases", removed),
            ("Other verdict changes", changed),
        ]
    }

    private func verdicts(_ c: Change) -> String {
        "\(c.old?.rawValue ?? "(none)") -> \(c.new?.rawValue ?? "(none)")"
    }

    private func tally() -> String {
        "\(regressions.count) regression\(regressions.count == 1 ? "" : "s") in \(regressedRules.count) rule"
            + "\(regressedRules.count == 1 ? "" : "s"), \(fixes.count) fix\(fixes.count == 1 ? "" : "es"), "
            + "\(added.count) new, \(removed.count) removed, \(changed.count) other change\(changed.count == 1 ? "" : "s")"
    }

    /// The plain text: every line within ``textWidth`` columns (the statement of a rule once, under its rule).
    func text() -> String {
        func wrapped(_ head: String, _ text: String, indent: Int) -> String {
            TextLayout.hanging(head, text, width: Self.textWidth, indent: indent).joined(separator: "\n") + "\n"
        }
        var out = wrapped("old: ", runLine(old), indent: 5) + wrapped("new: ", runLine(new), indent: 5)
        for n in notes { out += wrapped("note: ", PlainText.line(n), indent: 6) }
        out += verdictLine + "\n"
        if let why = verdictWhy { out += wrapped("why: ", why, indent: 5) }
        for (title, changes) in sections() where !changes.isEmpty {
            out += "\n\(title.uppercased()) (\(changes.count))\n"
            for rule in Self.rules(changes) {
                let cs = changes.filter { $0.ruleID == rule }
                out += wrapped(
                    "  ",
                    "\(PlainText.line(rule)) (\(PlainText.line(cs[0].level.rawValue))): "
                        + PlainText.line(cs[0].statement), indent: 6)
                for c in cs {
                    out += wrapped(
                        "    ",
                        "\(PlainText.line(c.caseID))  \(verdicts(c))"
                            + (c.message.isEmpty ? "" : ": \(PlainText.line(c.message))"), indent: 8)
                }
            }
        }
        out += "\n" + wrapped("", tally(), indent: 0)
        return out
    }

    /// The width of the plain text (a review email's).
    package static let textWidth = 100

    func markdown() -> String {
        func cell(_ s: String) -> String {
            PlainText.line(s).replacingOccurrences(of: "|", with: "\\|")
        }
        var out = "## migconform: \(tally())\n\n"
        out += "- old: \(cell(runLine(old)))\n- new: \(cell(runLine(new)))\n"
        for n in notes { out += "- note: \(cell(n))\n" }
        out += "- \(verdictLine)\n"
        if let why = verdictWhy { out += "- why: \(cell(why))\n" }
        for (title, changes) in sections() where !changes.isEmpty {
            out += "\n### \(title) (\(changes.count))\n\n"
            out += "| Case | Rule | Level | Old | New | Message |\n|---|---|---|---|---|---|\n"
            for c in changes {
                out +=
                    "| `\(cell(c.caseID))` | \(cell(c.ruleID)) | \(cell(c.level.rawValue)) | "
                    + "\(c.old?.rawValue ?? "-") | "
                    + "\(c.new?.rawValue ?? "-") | \(cell(c.message)) |\n"
            }
        }
        if sections().allSatisfy({ $0.changes.isEmpty }) { out += "\nNo verdict changed.\n" }
        return out
    }
}
