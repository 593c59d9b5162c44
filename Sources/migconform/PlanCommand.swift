import Foundation
import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformRun
import MigconformSpec

/// `migconform plan`: the order cases will run in, what it costs, and the lower bound for the same cases.
enum PlanCommand: Command {
    static let name = "plan"
    static let abstract = "Show the tour the runner will take: steps, cost in resets and requests, and a lower bound."
    static let options: [OptionSpec] = [
        OptionSpec(name: "--spec", value: "FILE", help: "Spec (default: the one for the target's protocol generation)."),
        OptionSpec(name: "--target", value: "URI", help: "Plan for this target's features (default: ref:v2)."),
        OptionSpec(name: "--steps", value: nil, help: "Print every step of the tour."),
    ]

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            Terminal.out(ArgumentParser.help(usage: "migconform plan [--spec FILE] [--target URI] [--steps]", abstract: abstract,
                                             discussion: """
                                             Cost counts resets first (each weighs \(TourCost.resetWeight) requests), then single-step \
                                             state requests. The bound is a route-inspection bound over the cases' start and end states.
                                             """, options: options))
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: 0)
        let targetURI = a.value("--target") ?? "ref:v2"
        let device = try Targets.open(targetURI)
        defer { device.shutdown() }
        let spec = try SpecLocation.load(a.value("--spec") ?? SpecLocation.defaultPath(for: device.generation))
        let profile = try Discovery.discover(spec, device: RecordingDevice(device))
        let machine = Machine(spec: spec, features: profile.features)
        let cases = Expander.expand(machine, options: ExpansionOptions(targetKind: device.identity.targetKind,
                                                                      kernelRelease: device.identity.kernelRelease))
        let tour = TourPlanner.plan(cases, machine: machine)
        if a.flag("--steps") {
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
        Terminal.out("\(spec.id) on \(targetURI) (features: \(profile.features.sorted().joined(separator: ", "))): \(running) cases")
        Terminal.out("tour cost:   \(tour.cost)")
        Terminal.out("lower bound: \(tour.lowerBound)")
        Terminal.out(String(format: "ratio:       %.3f (weighted: a reset counts as %d requests)", tour.ratio, TourCost.resetWeight))
        return ExitCode.ok
    }
}
