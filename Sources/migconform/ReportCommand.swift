import Foundation
import MigconformReport
import MigconformRun
import MigconformSpec

/// `migconform report`: rebuild a run folder's report files, from its journal after a crash or from report.json.
enum ReportCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let fromJournal = Option(
            "--from-journal", "DIR",
            help:
                "Rebuild from DIR/journal.jsonl: finished cases as recorded, the case that was running marked "
                + "unfinished, the rest SKIPPED. Lines that cannot be read are skipped and named in the report, "
                + "which is then INCOMPLETE at best: a result they held may be lost."
        )
        static let out = Option(
            "--out", "DIR",
            help: "Write the files into DIR instead of the run folder itself.")
        static let spec = Option(
            "--spec", "FILE",
            help: "The run's spec, for the state diagram (default: the path the run recorded, when its hash matches).")
    }

    static let configuration = CommandConfiguration(
        name: "report",
        abstract: "Rebuild a run folder's report files (from its journal after a crash, or from report.json).",
        usage: "migconform report --from-journal DIR [--out DIR]\n       migconform report REPORT [--out DIR]",
        discussion: "Exits 0 when the files were written, 2 when the journal or report cannot be read.",
        options: [Key.fromJournal, Key.out, Key.spec], maxPositional: 1)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        let written: RunReport
        let folder: String
        if let dir = a[Key.fromJournal] {
            guard a.positional.isEmpty else {
                throw UsageError(message: "give either --from-journal DIR or a REPORT, not both")
            }
            folder = a[Key.out] ?? dir
            do {
                let contents = try JournalReader.read(dir)
                written = try JournalReader.rebuild(
                    folder: dir, into: a[Key.out],
                    spec: spec(a[Key.spec], for: contents.report))
                Terminal.out(
                    "rebuilt from the journal: \(contents.finished.count) finished case(s)"
                        + (contents.unfinished.map { ", unfinished: \($0)" } ?? "")
                        + (contents.complete ? "; the run had finished" : "; the run did not finish")
                        + (contents.tornTail ? "; a torn last record was left out" : ""))
            } catch let e as ReportReadError {
                throw ExitFailure(code: ExitCode.usage, message: e.description)
            }
        } else if let path = a.positional.first {
            let report: RunReport
            report = try ReportInput.load(path, command: "report")
            let dir = path.hasSuffix(ReportWriter.jsonFile) ? (path as NSString).deletingLastPathComponent : path
            folder = a[Key.out] ?? dir
            let runSpec = spec(a[Key.spec], for: report)
            let extras = runSpec.map { RunFolderExtras.files(report, spec: $0) } ?? [:]
            let keep = report.files.keys.filter { $0 == RunJournal.fileName }
            written = try ReportWriter.write(
                report, to: URL(fileURLWithPath: folder), additionalFiles: extras,
                existingFiles: folder == dir ? keep : [], spec: runSpec)
        } else {
            throw UsageError(message: "give --from-journal DIR or a REPORT folder")
        }
        Terminal.out(ConsoleSummary.render(written, color: Terminal.useColor))
        Terminal.out("report: \(folder)")
        return ExitCode.ok
    }

    /// The run's spec when it can be found and is the one the run used.
    static func spec(_ given: String?, for report: RunReport) -> Spec? {
        guard let s = try? SpecLocation.loadOrProblems(given ?? report.run.specPath) else { return nil }
        return given != nil || s.sha256 == report.run.specSHA256 ? s : nil
    }
}
