import MigconformRun

/// Derived facts every renderer states the same way: the headline verdict, counts, grouping by rule.
package enum ReportFacts {
    /// What the report says of the run as a whole that none of its cases shows, as ERROR cases of their own, for
    /// the formats whose consumers read only cases (`junit.xml`, the KCIDB export): `journal` when it was rebuilt
    /// from a damaged journal (a result may be missing), `run-cut-short` when the run stopped before its end (the
    /// name LAVA's run gets too). A rule id is upper case, so neither name is a rule's.
    package static func runLevelCases(_ r: RunReport) -> [CaseResult] {
        var out: [CaseResult] = []
        if let damage = r.run.journalDamaged {
            out.append(
                CaseResult(
                    id: "journal", ruleID: "journal", level: .must,
                    statement: "the run's journal holds every result the run recorded",
                    cite: "migconform journal.jsonl", verdict: .error,
                    message: "the report was rebuilt from a damaged journal: " + damage))
        }
        if r.run.interrupted {
            let left = r.cases.filter { $0.notRun == .stopped }.count
            out.append(
                CaseResult(
                    id: "run-cut-short", ruleID: "run-cut-short", level: .must,
                    statement: "the run goes on to its end", cite: "migconform run",
                    verdict: .error,
                    message: "the run was cut short: \(r.run.stopReason ?? "no reason recorded"); \(left) cases not run"
                ))
        }
        return out
    }

    /// `CONFORMANT`, `NOT CONFORMANT` or `INCOMPLETE`: the summary's ``RunVerdict``.
    static func verdictWord(_ r: RunReport) -> String { r.summary.verdict.rawValue }

    /// `NOT CONFORMANT to vfio-v2 1.0`.
    static func headline(_ r: RunReport) -> String {
        let spec = "\(PlainText.line(r.run.specID)) \(PlainText.line(r.run.specVersion))"
        switch verdictWord(r) {
        case "INCOMPLETE": return "INCOMPLETE run against \(spec)"
        case let w: return "\(w) to \(spec)"
        }
    }

    /// Why: `2 MUST-level cases broke the spec (1 FAIL, 1 TIMEOUT)`.
    static func reason(_ r: RunReport) -> String {
        // What the device did, also where a baseline expected it (XFAIL) or a retry passed after it (FLAKE).
        let breaking = r.cases.filter { RunSummary.family($0.level) == "must" && isBreaking($0.deviceVerdict) }
        var s: String
        if !breaking.isEmpty {
            let parts = [Verdict.fail, .timeout, .xfail, .flake].compactMap { v -> String? in
                let n = breaking.filter { $0.verdict == v }.count
                return n == 0 ? nil : "\(n) \(v.rawValue)"
            }
            s =
                "\(breaking.count) MUST-level case\(breaking.count == 1 ? "" : "s") failed or timed out ("
                + parts.joined(separator: ", ") + ")"
        } else if r.summary.verdict == .notConformant {
            s = "the summary records a MUST-level failure"
        } else {
            s = "no MUST-level case failed or timed out"
        }
        if let errored = r.summary.mustErrored {
            s +=
                "; \(errored) MUST-level case\(errored == 1 ? "" : "s") ended in ERROR (the runner or the channel to "
                + "the device failed: no verdict on the device)"
        }
        if let notRun = notRun(r) { s += "; " + notRun }
        let warns = r.summary.verdicts[Verdict.warn.rawValue] ?? 0
        if warns > 0 { s += "; \(warns) SHOULD-level warning\(warns == 1 ? "" : "s")" }
        if let d = r.run.journalDamaged { s += "; " + PlainText.line(d) }
        if r.run.interrupted { s += "; the run was cut short (\(PlainText.line(r.run.stopReason ?? "stopped")))" }
        if r.cases.isEmpty { s += "; no case ran" }
        return s
    }

    /// FAIL and TIMEOUT: the verdicts that break conformance at MUST level.
    static func isBreaking(_ v: Verdict) -> Bool { RunSummary.breaks(v) }

    /// `12 applicable MUST cases did not run (10 not selected, 2 hazard)`, or nil when every one ran.
    static func notRun(_ r: RunReport) -> String? {
        guard let counts = r.summary.mustNotRun, !counts.isEmpty else { return nil }
        let n = counts.values.reduce(0, +)
        let parts = NotRunReason.allCases.compactMap { reason -> String? in
            counts[reason.rawValue].map { "\($0) \(reason.rawValue)" }
        }
        var s = "\(n) applicable MUST case\(n == 1 ? "" : "s") did not run (\(parts.joined(separator: ", ")))"
        if let f = r.run.filters {
            s +=
                "; the run was narrowed to \(f.selected) case\(f.selected == 1 ? "" : "s") by "
                + (f.only.map { "--only \(PlainText.line($0))" } + f.exclude.map { "--exclude \(PlainText.line($0))" })
                .joined(separator: " ")
        }
        return s
    }

    /// `120 cases: 110 PASS, 3 FAIL, 7 NOT_APPLICABLE` (verdicts in their canonical order, zero counts left out);
    /// with `noun` false, `120: 110 PASS, ...`.
    static func counts(_ r: RunReport, noun: Bool = true) -> String {
        let parts = Verdict.allCases.compactMap { v -> String? in
            let n = r.summary.verdicts[v.rawValue] ?? 0
            return n == 0 ? nil : "\(n) \(v.rawValue)"
        }
        return "\(r.summary.total)" + (noun ? " case\(r.summary.total == 1 ? "" : "s")" : "")
            + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
    }

    /// Per level family: `MUST 90 (88 PASS, 2 FAIL); SHOULD 10 (10 PASS)`.
    static func byLevel(_ r: RunReport) -> String {
        ["must", "should", "may"].compactMap { family -> String? in
            guard let counts = r.summary.byLevel[family] else { return nil }
            let total = counts.values.reduce(0, +)
            guard total > 0 else { return nil }
            let parts = Verdict.allCases.compactMap { v -> String? in
                let n = counts[v.rawValue] ?? 0
                return n == 0 ? nil : "\(n) \(v.rawValue)"
            }
            return "\(family.uppercased()) \(total) (\(parts.joined(separator: ", ")))"
        }.joined(separator: "; ")
    }

    /// The verdicts some case has, found in one pass over the cases.
    static func verdictsPresent(_ cases: [CaseResult]) -> Set<Verdict> {
        var present = Set<Verdict>()
        for c in cases { present.insert(c.verdict) }
        return present
    }

    /// Cases grouped by rule id, rules in order of first appearance, cases in report order.
    static func byRule(_ cases: [CaseResult]) -> [(rule: String, cases: [CaseResult])] {
        var groups: [(rule: String, cases: [CaseResult])] = []
        var groupOfRule: [String: Int] = [:]
        for c in cases {
            // A rule's cases mostly follow one another: the group appended to last is tried before the lookup.
            if let last = groups.indices.last, groups[last].rule == c.ruleID {
                groups[last].cases.append(c)
            } else if let i = groupOfRule[c.ruleID] {
                groups[i].cases.append(c)
            } else {
                groupOfRule[c.ruleID] = groups.count
                groups.append((c.ruleID, [c]))
            }
        }
        return groups
    }

    /// The device, on one line: `mtty (vfio): mdev type mtty-2; kernel 6.8.0`.
    static func device(_ r: RunReport) -> String {
        let d = r.run.device
        var s = "\(PlainText.line(d.driver)) (\(PlainText.line(d.targetKind)))"
        if !d.detail.isEmpty { s += ": \(PlainText.line(d.detail))" }
        if let k = d.kernelRelease { s += "; kernel \(PlainText.line(k))" }
        return s
    }

    /// The other devices of the run: `peer fault:x (migconform-fault (fault): ...); foreign ref:v2?state-size=12KiB (...)`,
    /// or nil when it had none.
    static func peers(_ r: RunReport) -> String? {
        guard let peers = r.run.peers, !peers.isEmpty else { return nil }
        return peers.map { p in
            var s = "\(PlainText.line(p.role)) \(PlainText.line(p.target)) (\(PlainText.line(p.device.driver))"
            if !p.device.detail.isEmpty { s += ": \(PlainText.line(p.device.detail))" }
            return s + ")" + (p.openedByRun == true ? ", opened by the run" : "")
        }.joined(separator: "; ")
    }

    /// The features, with the raw flags word: `stop-copy, p2p (flags 0x3 (STOP_COPY|P2P))`.
    static func features(_ r: RunReport) -> String {
        var s = r.run.features.isEmpty ? "none" : r.run.features.map(PlainText.line).joined(separator: ", ")
        if let f = r.run.migrationFlags { s += " (flags \(TranscriptFormatter.migrationFlags(f)))" }
        return s
    }
}
