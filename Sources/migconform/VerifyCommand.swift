import Foundation
import MigconformReport

/// `migconform verify`: check that a run folder is complete and untampered.
enum VerifyCommand: Command {
    static let name = "verify"
    static let abstract = "Check that a run folder is complete and untampered (hashes, renderings, summary, spec)."
    static let options: [OptionSpec] = [
        OptionSpec(name: "--spec", value: "FILE", help: "The spec the run used (default: the path the report records)."),
        OptionSpec(name: "--quiet", value: nil, help: "Print only problems."),
    ]

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            Terminal.out(ArgumentParser.help(usage: "migconform verify REPORT [--spec FILE]", abstract: abstract,
                                             discussion: "Exits 0 when every check passes, 1 when any fails, 2 when there is no report to read (no such folder, or a report.json that does not load).", options: options))
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: 1)
        guard let path = a.positional.first else { throw UsageError(message: "give a REPORT (run folder or report.json)") }
        let result = ReportVerifier.verify(path, specPath: a.value("--spec"))
        if result.unreadable {
            throw ExitFailure(code: ExitCode.usage, message: result.problems.joined(separator: "; "))
        }
        if !a.flag("--quiet") { for p in result.passed { Terminal.out("ok       \(p)") } }
        for n in result.notes { Terminal.out("note     \(n)") }
        for p in result.problems { Terminal.out("PROBLEM  \(p)") }
        Terminal.out(result.ok ? "\(path): verified" : "\(path): \(result.problems.count) problem(s)")
        return result.ok ? ExitCode.ok : ExitCode.nonConformant
    }
}
