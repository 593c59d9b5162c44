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
        static let level = RunCommand.Key.level
    }

    static let configuration = CommandConfiguration(
        name: "merge", abstract: "Combine the reports of the shards of a run (--shard i/n) into one report.",
        usage: "migconform merge --out DIR [--level LEVEL] SHARD-REPORT...",
        discussion: """
            Every shard 1..n must be given once; each case is taken from the shard that ran it. Exits like 'run' \
            on the merged cases (0 conformant, 1 a result unexpected at --level, 4 when a shard was interrupted, 5 \
            incomplete); a baseline the shards ran with is in their cases already (XFAIL), so an expected failure \
            counts as in 'run'. 2 when the reports cannot be merged (a missing shard, another spec or plan).
            """,
        options: [Key.out, Key.level], maxPositional: .max)

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
        return ExitCode.of(merged, level: try RunCommand.exitLevel(a))
    }
}
