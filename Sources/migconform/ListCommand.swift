import Foundation
import MigconformCases
import MigconformDevice
import MigconformRun
import MigconformSpec

/// `migconform list`: the rules of a spec and the cases they expand to on a target.
enum ListCommand: Command {
    static let name = "list"
    static let abstract = "List a spec's rules, and the cases they expand to on a target."
    static let options: [OptionSpec] = [
        OptionSpec(name: "--spec", value: "FILE", help: "Spec to list (default: the v2 spec, or v1 for a v1 target)."),
        OptionSpec(name: "--target", value: "URI", help: "Expand against this target's features (default: ref:v2)."),
        OptionSpec(name: "--rules", value: nil, help: "List the rules only."),
        OptionSpec(name: "--variant", value: "ID", help: "Include the rules of a variant reading.", repeating: true),
    ]

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            Terminal.out(ArgumentParser.help(usage: "migconform list [--spec FILE] [--target URI] [--rules]", abstract: abstract, options: options))
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: 0)
        let targetURI = a.value("--target") ?? "ref:v2"
        let device = try Targets.open(targetURI)
        defer { device.shutdown() }
        let spec = try SpecLocation.load(a.value("--spec") ?? SpecLocation.defaultPath(for: device.generation))
        if a.flag("--rules") {
            for r in spec.rules {
                let extra = (r.requires.isEmpty ? "" : " requires \(r.requires.joined(separator: ","))")
                    + (r.variant.map { " variant \($0)" } ?? "") + (r.hazard.map { " hazard \($0.id)" } ?? "")
                Terminal.out("\(r.id.padding(toLength: 36, withPad: " ", startingAt: 0)) \(r.level.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(r.check.kind.rawValue)\(extra)")
                Terminal.out("    \(r.statement)")
                Terminal.out("    [\(r.cite)]")
            }
            Terminal.out("\(spec.rules.count) rules in \(spec.id) \(spec.version)")
            return ExitCode.ok
        }
        let profile = try Discovery.discover(spec, device: RecordingDevice(device))
        let machine = Machine(spec: spec, features: profile.features)
        let cases = Expander.expand(machine, options: ExpansionOptions(variants: Set(a.all("--variant")),
                                                                      targetKind: device.identity.targetKind,
                                                                      kernelRelease: device.identity.kernelRelease))
        for c in cases {
            var note = ""
            switch c.disposition {
            case .run: break
            case .notApplicable(let why): note = "  (not applicable: \(why))"
            case .skipped(let why): note = "  (skipped: \(why))"
            }
            Terminal.out("\(c.id)  \(c.rule.level.rawValue)\(note)")
        }
        let running = cases.filter { $0.disposition == .run }.count
        Terminal.out("\(cases.count) cases (\(running) to run) from \(spec.rules.count) rules; features: \(profile.features.sorted().joined(separator: ", "))")
        return ExitCode.ok
    }
}
