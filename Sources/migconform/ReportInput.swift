import MigconformReport
import MigconformRun

/// A report read for use by a command (`report`, `diff`, `export`, `baseline`): a load failure is a usage error
/// naming the file, and a summary that disagrees with the cases is replaced by their count, with a note on standard
/// error. (`merge` counts the merged cases anew; `replay` reads only the case it replays.)
enum ReportInput {
    static func load(_ path: String, command: String) throws -> RunReport {
        let loaded: RunReport
        do { loaded = try ReportReader.load(path) } catch {
            throw ExitFailure(code: ExitCode.usage, message: "\(error)")
        }
        let (report, note) = ReportReader.recounted(loaded, file: path)
        if let note { Terminal.errMessage("migconform \(command): note: ", note) }
        return report
    }
}
