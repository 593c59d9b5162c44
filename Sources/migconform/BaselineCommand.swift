import Foundation
import MigconformReport
import MigconformRun

/// `migconform baseline`: write an expectations file from a run.
enum BaselineCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let out = Option(
            "--out", "FILE",
            help: "Write to FILE instead of stdout.")
    }

    static let configuration = CommandConfiguration(
        name: "baseline",
        abstract: "Write an expectations file (known failures and flakes) from a run, for 'run --baseline'.",
        usage: "migconform baseline REPORT [--out FILE]",
        discussion: """
            Every case of the run that failed, warned, timed out or errored is written as an expectation, with the \
            run's message as its reason: replace it with a tracker link. Lines are 'CASE-ID-OR-GLOB VERDICT \
            REASON'; see Reports/README.md. Exits 0, or 2 when the report cannot be read.
            """,
        options: [Key.out], maxPositional: 1)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        guard let path = a.positional.first else {
            throw UsageError(message: "give a REPORT (run folder or report.json)")
        }
        let report: RunReport
        report = try ReportInput.load(path, command: "baseline")
        let text = Expectations.render(from: report)
        if let out = a[Key.out] {
            try ReportWriter.writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: out))
            let n = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.count
            Terminal.err("migconform: \(n) expectation(s) written to \(out)")
        } else {
            Terminal.out(text)
        }
        return ExitCode.ok
    }
}
