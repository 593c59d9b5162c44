import Foundation
import MigconformReport
import MigconformRun

/// `migconform baseline`: write an expectations file from a run.
enum BaselineCommand: Command {
    static let name = "baseline"
    static let abstract = "Write an expectations file (known failures and flakes) from a run, for 'run --baseline'."
    static let options: [OptionSpec] = [
        OptionSpec(name: "--out", value: "FILE", help: "Write to FILE instead of stdout."),
    ]

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            Terminal.out(ArgumentParser.help(usage: "migconform baseline REPORT [--out FILE]", abstract: abstract,
                                             discussion: """
                                             Every case of the run that failed, warned, timed out or errored is written as an expectation, with the
                                             run's message as its reason: replace it with a tracker link. Lines are 'CASE-ID-OR-GLOB VERDICT REASON';
                                             see Reports/README.md. Exits 0, or 2 when the report cannot be read.
                                             """, options: options))
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: 1)
        guard let path = a.positional.first else { throw UsageError(message: "give a REPORT (run folder or report.json)") }
        let report: RunReport
        do { report = try ReportReader.load(path) } catch { throw ExitFailure(code: ExitCode.usage, message: "\(error)") }
        let text = Expectations.render(from: report)
        if let out = a.value("--out") {
            try ReportWriter.writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: out))
            let n = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.count
            Terminal.err("migconform: \(n) expectation(s) written to \(out)")
        } else {
            Terminal.out(text)
        }
        return ExitCode.ok
    }
}
