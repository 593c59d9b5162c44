import Foundation
import MigconformReport
import MigconformRun

/// `migconform merge`: combine the reports of a sharded run.
enum MergeCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let out = Option(
            "--out", "DIR",
            help: "Folder for the merged report (required).")
    }

    static let configuration = CommandConfiguration(
        name: "merge", abstract: "Combine the reports of the shards of a run (--shard i/n) into one report.",
        usage: "migconform merge --out DIR SHARD-REPORT...",
        discussion: """
            Every shard 1..n must be given once; each case is taken from the shard that ran it. Exits like 'run' \
            on the merged verdicts (0 conformant, 1 not, 4 when a shard was interrupted, 5 incomplete), 2 when the \
            reports cannot be merged (a missing shard, another spec or plan).
            """,
        options: [Key.out], maxPositional: .max)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        guard let out = a[Key.out] else { throw UsageError(message: "--out DIR is required") }
        guard !a.positional.isEmpty else { throw UsageError(message: "give the shard reports to merge") }
        let merged: RunReport
        do {
            merged = try ReportMerge.merge(try a.positional.map { try ReportReader.load($0) })
        } catch {
            throw ExitFailure(code: ExitCode.usage, message: "\(error)")
        }
        let written = try ReportWriter.write(merged, to: URL(fileURLWithPath: out))
        Terminal.out(ConsoleSummary.render(written, color: Terminal.useColor))
        Terminal.out("report: \(out)")
        if merged.run.interrupted { return ExitCode.aborted }
        switch merged.summary.verdict {
        case .conformant: return ExitCode.ok
        case .notConformant: return ExitCode.nonConformant
        case .incomplete: return ExitCode.incomplete
        }
    }
}
