import MigconformCases
import MigconformDevice
import MigconformExplore
import MigconformReference
import MigconformRun
import MigconformSpec

/// What running one fault showed.
package struct FaultResult: Sendable {
    package var entry: FaultEntry
    /// Declared rules that tripped, with the verdict that showed it.
    package var tripped: [String: Verdict]
    /// Declared rules that did not trip.
    package var missed: [String]
    /// MUST rules that failed, timed out or errored although the fault does not claim them (a badly isolated
    /// fault or check).
    package var unrelated: [String]
    /// SHOULD rules that warned although the fault does not claim them (shown, not counted against it).
    package var unrelatedWarnings: [String]
    package var report: RunReport

    /// Caught: every declared rule tripped (one of them, for a sequence fault), and nothing unrelated at MUST level.
    package var caught: Bool {
        unrelated.isEmpty && (entry.needsSequence ? !tripped.isEmpty : missed.isEmpty)
    }
}

/// The whole self-check: the reference devices stay quiet, every fault is caught, every rule is covered.
package struct SelfCheckResult: Sendable {
    /// Reference runs that were not clean (any FAIL, WARN, TIMEOUT or ERROR), by name.
    package var noisyReferences: [String: [String]]
    package var referencesChecked: [String]
    package var faults: [FaultResult]
    /// MUST and SHOULD rules of the specs that no fault claims.
    package var uncovered: [String]

    package var caughtCount: Int { faults.filter(\.caught).count }
    /// Faults plus uncovered rules: what a perfect score counts.
    package var total: Int { faults.count + uncovered.count }
    package var passed: Bool { caughtCount == total && noisyReferences.isEmpty }
}

/// Runs the fault catalogue (and the reference devices) against the shipped specs.
package enum SelfCheck {
    /// The random walks sequence faults are checked with.
    package static let walkSeed: UInt64 = 2026, walkCount = 300, walkSteps = 16

    /// Checks every entry (or those named) against the spec of its generation.
    /// With `coverage`, MUST and SHOULD rules that no entry claims are counted as uncovered (meaningful only for
    /// the whole catalogue).
    package static func run(
        specs: [ProtocolGeneration: Spec], entries: [FaultEntry] = FaultCatalogue.entries,
        coverage: Bool = true, progress: ((String) -> Void)? = nil
    ) throws -> SelfCheckResult {
        var noisy: [String: [String]] = [:]
        var references: [String] = []
        // The reference devices: every v2 profile and v1, with no complaint at all.
        // Every profile with DMA logging and feature 12 (Linux 7.1), and the fullest once more with neither.
        if let v2 = specs[.v2] {
            var runs: [(MigrationFlags, String, Bool)] = []
            for profile in v2.profiles {
                var flags: MigrationFlags = []
                for f in profile.features {
                    if let bit = v2.feature(named: f)?.flag { flags.insert(MigrationFlags(rawValue: bit)) }
                }
                runs.append((flags, "ref:v2?features=\(profile.features.joined(separator: ","))", true))
            }
            if let last = runs.last { runs.append((last.0, last.1 + "&dma-logging=no", false)) }
            runs = runs.map { $0.2 ? ($0.0, $0.1 + "&precopy-info-v2=yes", true) : $0 }
            for (flags, name, logging) in runs {
                progress?(name)
                var config = ReferenceDeviceV2.Configuration(flags: flags, dmaLogging: logging)
                config.precopyInfoV2 = logging
                let device = ReferenceDeviceV2(config)
                // With a peer and a foreign device, except for the last run, which has neither.
                let paired = logging
                let peer = ReferenceDeviceV2(.init(flags: flags, dmaLogging: logging))
                let foreign = ReferenceDeviceV2(.init(flags: flags, stateSize: 3 * 4096, dmaLogging: logging))
                let report = try Runner(
                    spec: v2, device: device, options: RunOptions(target: name),
                    peer: paired ? ("ref:v2", peer) : nil,
                    foreign: paired ? ("ref:v2?state-size=12KiB", foreign) : nil
                ).run()
                references.append(name)
                let bad = complaints(report)
                if !bad.isEmpty { noisy[name] = bad }
            }
        }
        if let v1 = specs[.v1] {
            progress?("ref:v1")
            let report = try Runner(spec: v1, device: ReferenceDeviceV1(), options: RunOptions(target: "ref:v1")).run()
            references.append("ref:v1")
            let bad = complaints(report)
            if !bad.isEmpty { noisy["ref:v1"] = bad }
        }
        var results: [FaultResult] = []
        for entry in entries {
            guard let spec = specs[entry.generation] else { continue }
            progress?("fault:\(entry.name)")
            let options = RunOptions(
                target: "fault:\(entry.name)", expansion: ExpansionOptions(variants: Set(entry.variants)))
            // A v2 fault runs with a peer of its own kind (the same fault) and a foreign reference device.
            var report: RunReport
            if entry.generation == .v2 {
                let (device, peer) = entry.makePair()
                let foreign = ReferenceDeviceV2(.init(flags: entry.flags, stateSize: 3 * 4096))
                report = try Runner(
                    spec: spec, device: device, options: options, peer: ("fault:\(entry.name)", peer),
                    foreign: ("ref:v2?state-size=12KiB", foreign)
                ).run()
            } else {
                report = try Runner(spec: spec, device: entry.makeDevice(), options: options).run()
            }
            if entry.needsSequence {
                // Sequence faults are the random walks' business: a fixed seed, so the check is reproducible.
                let device = RecordingDevice(entry.makeDevice())
                let profile = try Discovery.discover(spec, device: device)
                let explorer = Explorer(
                    machine: Machine(spec: spec, features: profile.features), device: device, allowForbidden: true)
                explorer.freshDevice = { entry.makeDevice() }
                let found = try explorer.results(
                    try explorer.randomWalks(walks: walkCount, steps: walkSteps, seed: walkSeed))
                report = RunReport(
                    run: report.run, cases: report.cases + found, plan: report.plan,
                    hazardsSkipped: report.hazardsSkipped)
            }
            results.append(judge(entry, report, spec: spec))
        }
        // Coverage: every MUST/SHOULD rule must be claimed by some fault of its generation.
        var uncovered: [String] = []
        for (generation, spec) in specs.sorted(by: { $0.key.rawValue > $1.key.rawValue }) where coverage {
            let claimed = Set(entries.filter { $0.generation == generation }.flatMap(\.trips))
            for rule in spec.rules where rule.level != .may && !claimed.contains(rule.id) { uncovered.append(rule.id) }
        }
        return SelfCheckResult(
            noisyReferences: noisy, referencesChecked: references, faults: results, uncovered: uncovered)
    }

    static func complaints(_ report: RunReport) -> [String] {
        report.cases.filter { [.fail, .warn, .timeout, .error].contains($0.verdict) }.map {
            "\($0.verdict.rawValue) \($0.id)"
        }
    }

    static func judge(_ entry: FaultEntry, _ report: RunReport, spec: Spec) -> FaultResult {
        var tripped: [String: Verdict] = [:]
        var unrelated: Set<String> = []
        var warnings: Set<String> = []
        let declared = Set(entry.trips)
        for c in report.cases {
            let level = c.level
            // A MAY rule earns INFO either way: its violation is the INFO that states what was expected.
            let trips =
                level.isMandatory
                ? [.fail, .timeout].contains(c.verdict)
                : level.isRecommended
                    ? [.warn, .timeout].contains(c.verdict) : c.verdict == .info && c.expected != nil
            if declared.contains(c.ruleID) {
                if trips && tripped[c.ruleID] == nil { tripped[c.ruleID] = c.verdict }
            } else if level.isMandatory && [.fail, .timeout, .error].contains(c.verdict) {
                unrelated.insert(c.ruleID)
            } else if c.verdict == .warn {
                warnings.insert(c.ruleID)
            }
        }
        return FaultResult(
            entry: entry, tripped: tripped, missed: entry.trips.filter { tripped[$0] == nil },
            unrelated: unrelated.sorted(), unrelatedWarnings: warnings.sorted(), report: report)
    }
}
