import MigconformRun

/// Combines the reports of the shards of one run (`migconform merge`) into one report whose cases are those of
/// an unsharded run: each case comes from the shard that ran it.
///
/// The merge refuses, rather than guess, when shards are missing or given twice, come from different specs or
/// plans, or ran against different drivers: a missing shard would otherwise drop its cases, MUST-level ones
/// included, without a trace.
package enum ReportMerge {
    package static func merge(_ shards: [RunReport]) throws -> RunReport {
        guard let first = shards.first else { throw MergeError(message: "no reports to merge") }
        var byIndex: [Int: RunReport] = [:]
        for (n, r) in shards.enumerated() {
            guard let s = r.run.shard else {
                throw MergeError(message: "report \(n + 1) is not a shard (it was run without --shard)")
            }
            guard s.count == first.run.shard?.count else {
                throw MergeError(
                    message:
                        "report \(n + 1) is shard \(s.description), the first is of \(first.run.shard!.count) shards")
            }
            guard byIndex[s.index] == nil else { throw MergeError(message: "shard \(s.description) is given twice") }
            byIndex[s.index] = r
        }
        let count = first.run.shard!.count
        let ids = first.cases.map(\.id)
        let missing = (1...count).filter { byIndex[$0] == nil }
        if !missing.isEmpty {
            let lost = first.cases.filter { c in c.otherShard.map(missing.contains) ?? false }
            let must = lost.filter { RunSummary.family($0.level) == "must" }.count
            throw MergeError(
                message: "missing shard\(missing.count == 1 ? "" : "s") "
                    + missing.map { "\($0)/\(count)" }.joined(separator: ", ")
                    + ": \(lost.count) cases (\(must) of them MUST-level) would be left unrun")
        }
        for (i, r) in byIndex.sorted(by: { $0.key < $1.key }) {
            guard r.run.specSHA256 == first.run.specSHA256, r.run.specID == first.run.specID else {
                throw MergeError(
                    message:
                        "shard \(i)/\(count) ran another spec (\(r.run.specID), SHA-256 \(r.run.specSHA256.prefix(12)))"
                )
            }
            guard r.cases.map(\.id) == ids else {
                throw MergeError(
                    message:
                        "shard \(i)/\(count) has another plan (different cases: other features, filters or variants)")
            }
            guard r.run.peers == first.run.peers else {
                throw MergeError(
                    message: "shard \(i)/\(count) ran with other peer devices than shard \(first.run.shard!.index)")
            }
            guard r.run.device.driver == first.run.device.driver else {
                throw MergeError(
                    message:
                        "shard \(i)/\(count) ran against driver \(r.run.device.driver), shard \(first.run.shard!.index) against \(first.run.device.driver)"
                )
            }
            // Shards may run on several devices of one kind, never on devices that differ: the same advertised
            // flags, and for the built-in devices (a reference device, a fault) the same device.
            guard r.run.migrationFlags == first.run.migrationFlags, r.run.features == first.run.features else {
                throw MergeError(
                    message: "shard \(i)/\(count) ran against a device with other migration features "
                        + "(\(r.run.features.joined(separator: ","))) than shard \(first.run.shard!.index) "
                        + "(\(first.run.features.joined(separator: ",")))")
            }
            if r.run.device.traits.isSimulated, r.run.device.detail != first.run.device.detail {
                throw MergeError(
                    message: "shard \(i)/\(count) ran against \(r.run.device.detail), shard "
                        + "\(first.run.shard!.index) against \(first.run.device.detail)")
            }
        }
        let ordered = (1...count).map { byIndex[$0]! }
        var cases: [CaseResult] = []
        for (k, id) in ids.enumerated() {
            let candidates = ordered.map { $0.cases[k] }.filter { $0.otherShard == nil }
            guard let pick = candidates.first else {
                throw MergeError(message: "no shard ran \(id)")
            }
            if candidates.count > 1, Set(candidates.map(\.verdict)).count > 1 {
                throw MergeError(message: "\(id) was recorded by several shards with different verdicts")
            }
            // A violation another shard saw while setting up its own cases is judged under this case too.
            let seenElsewhere = ordered.map { $0.cases[k] }.filter { $0.otherShard != nil && $0.seenIn != nil }
            if RunSummary.breaks(pick.verdict) || [.warn, .error, .xfail, .flake].contains(pick.verdict) {
                cases.append(pick)
                continue
            }
            cases.append(
                seenElsewhere.first.map {
                    var r = $0
                    r.otherShard = nil
                    return r
                } ?? pick)
        }
        var info = first.run
        info.shard = nil
        info.started = ordered.map(\.run.started).min() ?? info.started
        info.ended = ordered.map(\.run.ended).max() ?? info.ended
        info.interrupted = ordered.contains { $0.run.interrupted }
        let reasons = ordered.compactMap { r in r.run.stopReason.map { "shard \(r.run.shard!.description): \($0)" } }
        info.stopReason = reasons.isEmpty ? nil : reasons.joined(separator: "; ")
        // A shard rebuilt from a damaged journal may have lost a result: the merged run may not be better.
        let damage = ordered.compactMap { r in r.run.journalDamaged.map { "shard \(r.run.shard!.description): \($0)" } }
        info.journalDamaged = damage.isEmpty ? nil : damage.joined(separator: "; ")
        let cleanups = ordered.compactMap { r in r.run.cleanup.map { (r.run.shard!, $0) } }
        info.cleanup =
            cleanups.isEmpty
            ? nil
            : CleanupReport(
                restored: cleanups.allSatisfy { $0.1.restored },
                closedFDs: cleanups.flatMap { $0.1.closedFDs },
                problems: cleanups.flatMap { s, c in c.problems.map { "shard \(s.description): \($0)" } })
        let timeouts = ordered.flatMap { $0.run.timeouts ?? [] }
        info.timeouts = timeouts.isEmpty ? nil : timeouts
        let reopened = ordered.map { $0.run.reopened ?? 0 }.reduce(0, +)
        info.reopened = reopened > 0 ? reopened : nil
        info.mergedFrom = ordered.map {
            MergedShard(
                shard: $0.run.shard!, target: $0.run.target, device: $0.run.device, started: $0.run.started,
                ended: $0.run.ended, interrupted: $0.run.interrupted)
        }
        if Set(ordered.map(\.run.target)).count > 1 {
            info.target = ordered.map(\.run.target).joined(separator: " + ")
        }
        // Each shard followed a tour of its own: the merged run's cost is theirs added up, with no common bound.
        var plan = first.plan
        if plan != nil {
            plan!.operations = ordered.map { $0.plan?.operations ?? 0 }.reduce(0, +)
            plan!.resets = ordered.map { $0.plan?.resets ?? 0 }.reduce(0, +)
            plan!.plannedRequests = ordered.map { $0.plan?.plannedRequests ?? 0 }.reduce(0, +)
            plan!.lowerBoundResets = nil
            plan!.lowerBoundRequests = nil
            plan!.lowerBoundOperations = nil
        }
        return RunReport(run: info, cases: cases, plan: plan, hazardsSkipped: first.hazardsSkipped)
    }
}

/// Shard reports that cannot be merged; says why.
package struct MergeError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}
