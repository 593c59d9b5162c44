import Foundation
import MigconformCases
import MigconformDevice
import MigconformExplore
import MigconformReport
import MigconformRun
import MigconformSpec

/// `migconform explore`: checks a v2 device against the spec's state machine over sequences, not single cases.
enum ExploreCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let spec = Option(
            "--spec", "FILE",
            help: "v2 spec (default: the built-in vfio-migration-v2.json).")
        static let target = Option(
            "--target", "URI",
            help: "Device to explore (default: ref:v2).")
        static let depth = Option(
            "--depth", "K",
            help: "Every sequence of up to K actions from reset (states already explored are pruned); K at most 8.")
        static let walks = Option(
            "--walks", "N",
            help: "N random walks (default 0, at most 1000000; with --steps and --seed).")
        static let steps = Option(
            "--steps", "M",
            help: "Actions per walk (default 12, at most 10000).")
        static let seed = Option(
            "--seed", "S",
            help: "Seed of the walks (default 1): the same seed walks the same way.")
        static let allowHazard = RepeatedOption(
            "--allow-hazard", "ID",
            help: "Also generate requests a hazard covers (STOP_COPY -> PRE_COPY, on kernels with the loop fix).")
        static let out = Option(
            "--out", "DIR",
            help: "Write the findings as a report folder.")
    }

    static let configuration = CommandConfiguration(
        name: "explore",
        abstract: "Explore sequences: every sequence up to a depth, or seeded random walks; shrink what fails.",
        usage: "migconform explore [--target URI] [--depth K] [--walks N --steps M --seed S]",
        discussion: """
            Actions: requests for every state and for values that must be refused, reset, partial \
            and full reads of the saving fd, valid, partial and garbage resume data, abandoning a \
            session. After every action the device is compared with the model; a mismatch is shrunk \
            to a minimal sequence and reported under the rule it breaks. Exit 0 when nothing was found, 1 otherwise.
            """,
        options: [Key.spec, Key.target, Key.depth, Key.walks, Key.steps, Key.seed, Key.allowHazard, Key.out])

    static func run(_ a: ParsedArguments) throws -> Int32 {
        // Each number has a range: the search grows as 6^depth, so a depth beyond 8 would never end.
        func number(_ key: Option, _ fallback: Int, max: Int) throws -> Int {
            let name = key.spec.name
            guard let text = a[key] else { return fallback }
            guard let n = Int(text), (0...max).contains(n) else {
                throw UsageError(message: "\(name) takes a number from 0 to \(max), not '\(Targets.excerpt(text))'")
            }
            return n
        }
        let depth = try number(Key.depth, 0, max: 8)
        let walks = try number(Key.walks, 0, max: 1_000_000)
        let steps = try number(Key.steps, 12, max: 10_000)
        var seed: UInt64 = 1
        if let text = a[Key.seed] {
            guard let s = UInt64(text) else {
                throw UsageError(
                    message: "--seed takes a number from 0 to \(UInt64.max), not '\(Targets.excerpt(text))'")
            }
            seed = s
        }
        guard depth > 0 || walks > 0 else { throw UsageError(message: "give --depth K or --walks N (or both)") }
        let targetURI = a[Key.target] ?? "ref:v2"
        let device = try Targets.open(targetURI)
        defer { device.shutdown() }
        guard device.generation == .v2 else {
            throw UsageError(message: "exploration models the v2 protocol; \(targetURI) speaks v1")
        }
        let spec = try SpecLocation.load(a[Key.spec] ?? SpecLocation.defaultPath(for: .v2))
        let recorder = RecordingDevice(device)
        let profile = try Discovery.discover(spec, device: recorder)
        let machine = Machine(spec: spec, features: profile.features)
        let hazardous =
            device.traits.mayHarmHost
            && !a[Key.allowHazard].contains { $0 == "all" || $0 == "HZ-PRECOPY-LOOP" }
        let explorer = Explorer(machine: machine, device: recorder, allowForbidden: !hazardous)
        // Simulated targets can be opened afresh, so minimal sequences are checked on a device with no history.
        if device.traits.isSimulated { explorer.freshDevice = { try Targets.open(targetURI) } }
        let started = Date()
        var findings: [Finding] = []
        if depth > 0 { findings += try explorer.exhaustive(depth: depth) }
        if walks > 0 { findings += try explorer.randomWalks(walks: walks, steps: steps, seed: seed) }
        let results = try explorer.results(findings)
        let s = explorer.stats
        for r in results {
            Terminal.out(
                "\(r.verdict.rawValue) \(r.ruleID) (\(r.level)): expected \(r.expected ?? "?"), got \(r.actual ?? "?")")
            Terminal.out("    \(r.message)")
        }
        Terminal.out(
            String(
                format:
                    "%d sequences, %d actions, %d device operations, %d distinct model states, %.2f s; %d finding(s)",
                s.sequences, s.steps, s.deviceOperations, s.distinctModelStates, Date().timeIntervalSince(started),
                results.count))
        if let out = a[Key.out] {
            let info = RunInfo(
                runnerVersion: migconformVersion, specID: spec.id, specVersion: spec.version, specPath: spec.path,
                specSHA256: spec.sha256, target: targetURI, device: device.identity,
                features: profile.features.sorted(),
                migrationFlags: profile.migrationFlags, started: ISO8601DateFormatter().string(from: started),
                ended: ISO8601DateFormatter().string(from: Date()), seed: walks > 0 ? seed : nil)
            try ReportWriter.write(RunReport(run: info, cases: results), to: URL(fileURLWithPath: out))
            Terminal.out("report: \(out)")
        }
        return results.contains { $0.verdict == .fail } ? ExitCode.nonConformant : ExitCode.ok
    }
}
