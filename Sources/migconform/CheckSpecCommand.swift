import Foundation
import MigconformSpec

/// `migconform check-spec`: validate spec files.
enum CheckSpecCommand: Command {
    static let configuration = CommandConfiguration(
        name: "check-spec", abstract: "Validate spec files: every problem with its file, line and JSON path.",
        usage: "migconform check-spec FILE...", discussion: "Exits 0 when every file loads, 2 when any has a problem.",
        maxPositional: .max)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        if a.arguments.isEmpty {
            Terminal.err(configuration.help)
            return ExitCode.usage
        }
        var bad = 0
        for path in a.positional {
            do {
                let spec = try SpecLocation.loadOrProblems(path)
                Terminal.out(
                    "\(path): ok (\(spec.id) \(spec.version): \(spec.rules.count) rules, \(spec.states.count) "
                        + "states, \(spec.arcs.count) arcs)"
                )
            } catch {
                bad += 1
                for p in error.problems { Terminal.out(p.description) }
                Terminal.out("\(path): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s")")
            }
        }
        return bad == 0 ? ExitCode.ok : ExitCode.usage
    }
}
