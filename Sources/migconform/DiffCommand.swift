import Foundation
import MigconformReport
import MigconformRun

/// `migconform diff`: compare two runs.
enum DiffCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let format = Option(
            "--format", "FORMAT",
            help: "text (default) or markdown (for a patch review).")
    }

    static let configuration = CommandConfiguration(
        name: "diff", abstract: "Compare two runs: regressions, fixes, new and removed cases, verdict changes.",
        usage: "migconform diff OLD NEW [--format text|markdown]",
        discussion: """
            OLD and NEW are run folders or report.json files. Cases are compared on the device's own verdict (an \
            XFAIL counts as its failure). Exits 0 when nothing regressed, 1 when a case regressed, 2 when a report \
            cannot be read.
            """,
        options: [Key.format], maxPositional: 2)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        guard a.positional.count == 2 else { throw UsageError(message: "give two reports: OLD NEW") }
        guard let format = ReportDiff.Format(rawValue: a[Key.format] ?? "text") else {
            throw UsageError(message: "--format takes text or markdown")
        }
        let old = try ReportInput.load(a.positional[0], command: "diff")
        let new = try ReportInput.load(a.positional[1], command: "diff")
        let diff = ReportDiff.compare(old, new)
        Terminal.out(diff.render(format))
        return diff.hasRegressions ? ExitCode.nonConformant : ExitCode.ok
    }
}
