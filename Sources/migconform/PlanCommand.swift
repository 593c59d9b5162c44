import Foundation
import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformReport
import MigconformRun
import MigconformSpec

/// `migconform plan`: the order cases will run in, what it costs, and the lower bound for the same cases.
enum PlanCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let spec = Option(
            "--spec", "FILE",
            help: "Spec (default: the one for the target's protocol generation).")
        static let target = Option(
            "--target", "URI",
            help: "Plan for this target's features (default: ref:v2).")
        static let peer = Targets.expandedPeer
        static let foreignPeer = Targets.expandedForeignPeer
        static let steps = Flag(
            "--steps",
            help: "Print every step of the tour.")
    }

    static let configuration = CommandConfiguration(
        name: "plan",
        abstract: "Show the tour the runner will take: steps, cost in resets and requests, and a lower bound.",
        usage: "migconform plan [--spec FILE] [--target URI] [--peer URI] [--foreign-peer URI] [--steps]",
        discussion: """
            Cost counts resets first (each weighs \(TourCost.resetWeight) requests), then single-step \
            state requests. The bound is a route-inspection bound over the cases' start and end states. \
            The estimate gives the data the run moves (from the state size the device reports) and \
            its time (from the latency discovery measured, data at 1 GiB/s).
            """,
        options: [Key.spec, Key.target, Key.peer, Key.foreignPeer, Key.steps])

    static func run(_ a: ParsedArguments) throws -> Int32 {
        let targetURI = a[Key.target] ?? "ref:v2"
        let device = try Targets.open(targetURI)
        defer { device.shutdown() }
        let spec = try SpecLocation.load(a[Key.spec] ?? SpecLocation.defaultPath(for: device.generation))
        let recorder = RecordingDevice(device)
        let environment = try Targets.checkedEnvironment(
            for: targetURI, device: device, spec: spec, peer: a[Key.peer], foreign: a[Key.foreignPeer])
        let profile = try Discovery.discover(spec, device: recorder, environment: environment)
        let machine = Machine(spec: spec, features: profile.features)
        let cases = Expander.expand(
            machine,
            options: ExpansionOptions(
                targetKind: device.identity.targetKind,
                kernelRelease: device.identity.kernelRelease))
        let tour = TourPlanner.plan(cases, machine: machine)
        if a[Key.steps] {
            for step in tour.steps {
                switch step {
                case .position(let reset, let path):
                    let walk = path.map { "\($0.from)->\($0.to)" }.joined(separator: " ")
                    Terminal.out("  move " + (reset ? "reset " : "") + walk)
                case .run(let i): Terminal.out("  run  \(cases[i].id)")
                }
            }
        }
        let running = cases.filter { $0.disposition == .run }.count
        let features =
            profile.features.isEmpty
            ? "no optional features" : "features: " + profile.features.sorted().joined(separator: ", ")
        Terminal.out(
            TextLayout.hanging("", "\(spec.id) on \(targetURI) (\(features)): \(running) cases", width: 100, indent: 4)
                .joined(separator: "\n"))
        Terminal.out("tour cost:   \(tour.cost)")
        Terminal.out("lower bound: \(tour.lowerBound)")
        Terminal.out(
            String(
                format: "ratio:       %.3f (weighted: a reset counts as %d requests)", tour.ratio, TourCost.resetWeight)
        )
        for line in estimate(cases, machine: machine, tour: tour, recorder: recorder, features: profile.features) {
            Terminal.out(line)
        }
        return ExitCode.ok
    }

    /// What the run will take: data from what its cases need moved (``TransferNeed``) and the state size the
    /// device reports (v2 data-size), time from the latency of the operations discovery just made, or of a few
    /// state reads where it made none (a floor: resets and transfers take longer on real hardware).
    static func estimate(
        _ cases: [TestCase], machine: Machine, tour: TourPlanner.Result, recorder: RecordingDevice,
        features: Set<String>
    ) -> [String] {
        let running = cases.filter { $0.disposition == .run }
        let needs = running.map { TransferNeed.of($0, on: machine) }
        let need = TransferNeed.minimum(of: needs)
        let states = need.reads + need.writes
        let movers = needs.filter { $0 != .none }.count
        let discovered = recorder.takeTranscript()
        var stateSize: UInt64?
        if features.contains("data-size"), let outcome = try? recorder.perform(.getDataSize),
            case .value(let n) = outcome
        {
            stateSize = n
        }
        var lines: [String] = []
        let count = String(format: "%.1f", states)
        let precopy = need.precopyReads > 0 ? " and \(need.precopyReads) pre-copy phases" : ""
        if let n = stateSize {
            let (read, written) = need.bytes(stream: n, precopy: 0)
            lines += TextLayout.hanging(
                "data:        ",
                "about \(RunProgress.size(read + written)) moved (\(count) whole states of "
                    + "\(RunProgress.size(n))\(precopy), by \(movers) cases, the shared stream counted once)",
                width: 100)
        } else {
            lines += TextLayout.hanging(
                "data:        ",
                "\(count) whole states\(precopy), by \(movers) cases, the shared stream counted once (the device "
                    + "reports no state size before saving)", width: 100)
        }
        // The latency of one operation: the mean of discovery's operations, or, where discovery made none (a v1
        // device has nothing to discover), of a few reads of the device state, which change nothing.
        var sample = discovered
        var sampled = "discovery's \(sample.count) operations"
        if sample.isEmpty {
            _ = recorder.takeTranscript()
            for _ in 0..<8 { _ = try? recorder.perform(.getState) }
            sample = recorder.takeTranscript()
            sampled = "\(sample.count) reads of the device state"
        }
        // Each case does a few operations of its own beyond the tour's moves (reads of the state, its check).
        let operations = tour.cost.sets + tour.cost.resets + running.count * 4
        var how: String
        var seconds: Double?
        if sample.isEmpty {
            how = "\(operations) operations, at a cost nothing measured"
        } else {
            // The transcript has whole microseconds, rounded down: a mean under 1 says only that each took less
            // than a microsecond, and counts as 1 (a bound from above).
            let perOp = Double(sample.map(\.micros).reduce(0, +)) / Double(sample.count)
            seconds = Double(operations) * max(perOp, 1) / 1_000_000
            let latency =
                perOp < 1
                ? "under 1 us"
                : perOp < 1000 ? String(format: "%.0f us", perOp) : String(format: "%.1f ms", perOp / 1000)
            how = "\(operations) operations at \(latency) each, the mean of \(sampled)"
        }
        if let n = stateSize, states > 0 {
            seconds = (seconds ?? 0) + Double(n) * states / Double(1 << 30)
            how += ", data at 1 GiB/s"
        }
        let time =
            seconds.map { seconds in
                seconds < 1
                    ? "under a second"
                    : seconds < 120
                        ? String(format: "about %.0f s", seconds.rounded(.up))
                        : String(format: "about %.0f min", (seconds / 60).rounded(.up))
            } ?? "not estimated"
        // Within 100 columns: the estimate on one line, how it was made under it.
        lines.append("time:        \(time)")
        lines += TextLayout.hanging(
            "             (", "\(how); resets on real hardware take longer)", width: 100, indent: 14)
        return lines
    }
}
