import Foundation
import MigconformReport

/// `migconform verify`: check that a run folder is complete and untampered.
enum VerifyCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let spec = Option(
            "--spec", "FILE",
            help:
                "The spec the run used (default: the path the report records or, where that file is not here, the "
                + "built-in spec with the SHA-256 the run recorded).")
        static let quiet = Flag(
            "--quiet",
            help: "Print only problems.")
    }

    static let configuration = CommandConfiguration(
        name: "verify",
        abstract: "Check that a run folder is complete and untampered (hashes, renderings, summary, spec).",
        usage: "migconform verify REPORT [--spec FILE]",
        discussion:
            "Exits 0 when every check passes, 1 when any fails, 2 when there is no report to read (no such folder, "
            + "or a report.json that does not load).",
        options: [Key.spec, Key.quiet], maxPositional: 1)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        guard let path = a.positional.first else {
            throw UsageError(message: "give a REPORT (run folder or report.json)")
        }
        let result = ReportVerifier.verify(path, specPath: a[Key.spec])
        if result.unreadable {
            throw ExitFailure(code: ExitCode.usage, message: result.problems.joined(separator: "; "))
        }
        if !a[Key.quiet] { for p in result.passed { Terminal.out("ok       \(p)") } }
        for n in result.notes { Terminal.out("note     \(n)") }
        for p in result.problems { Terminal.out("PROBLEM  \(p)") }
        Terminal.out(result.ok ? "\(path): verified" : "\(path): \(result.problems.count) problem(s)")
        return result.ok ? ExitCode.ok : ExitCode.nonConformant
    }
}
