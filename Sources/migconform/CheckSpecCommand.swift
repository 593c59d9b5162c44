import Foundation
import MigconformSpec

/// `migconform check-spec`: validate spec files.
enum CheckSpecCommand: Command {
    static let name = "check-spec"
    static let abstract = "Validate spec files: every problem with its file, line and JSON path."
    static let options: [OptionSpec] = []

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") || args.isEmpty {
            let help = ArgumentParser.help(usage: "migconform check-spec FILE...", abstract: abstract,
                                           discussion: "Exits 0 when every file loads, 2 when any has a problem.", options: options)
            if args.isEmpty { Terminal.err(help); return ExitCode.usage }
            Terminal.out(help)
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: .max)
        var bad = 0
        for path in a.positional {
            do {
                let spec = try SpecLocation.loadOrProblems(path)
                Terminal.out("\(path): ok (\(spec.id) \(spec.version): \(spec.rules.count) rules, \(spec.states.count) states, \(spec.arcs.count) arcs)")
            } catch {
                bad += 1
                for p in error.problems { Terminal.out(p.description) }
                Terminal.out("\(path): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s")")
            }
        }
        return bad == 0 ? ExitCode.ok : ExitCode.usage
    }
}
