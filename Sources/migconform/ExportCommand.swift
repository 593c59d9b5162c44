import Foundation
import MigconformLab
import MigconformReport
import MigconformRun

/// `migconform export kcidb REPORT`: a run report as a KCIDB v5.3 submission.
enum ExportCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let origin = Option(
            "--origin", "ORIGIN",
            help: "The submitting CI system ([a-z0-9_]+), agreed with KCIDB.")
        static let buildID = Option(
            "--build-id", "ID",
            help: "The KCIDB build the kernel under test came from (ORIGIN:ID, or ID).")
        static let suite = Option(
            "--suite", "NAME",
            help: "First test path component, KernelCI's kcidb_test_suite (default: migconform).")
        static let artifactsURL = Option(
            "--artifacts-url", "URL",
            help: "Where the run folder's files are published: gives log_url and output_files.")
        static let output = Option(
            "--output", "FILE",
            help: "Write the JSON here (default: stdout).")
    }

    static let configuration = CommandConfiguration(
        name: "export",
        abstract: "Write a report as a KCIDB v5.3 submission (export kcidb REPORT --origin O --build-id ID).",
        usage: "migconform export kcidb REPORT --origin ORIGIN --build-id ID [options]",
        discussion: """
            REPORT is a run folder or its report.json. One test object per case, path \
            SUITE.RULE.CASE in engine-safe names; statuses: PASS, WARN, XPASS -> PASS; FAIL, \
            TIMEOUT -> FAIL; INFO -> DONE; NOT_APPLICABLE, SKIPPED -> SKIP (MISS when the run \
            stopped before the case); ERROR -> ERROR; XFAIL and FLAKE keep the device's status and \
            add an issue and an incident. The output is checked against the schema's rules \
            before it is written. Submit it with an HTTP POST to the KCIDB /submit endpoint.
            """,
        options: [Key.origin, Key.buildID, Key.suite, Key.artifactsURL, Key.output], maxPositional: 2)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        guard a.positional.first == "kcidb" else {
            throw UsageError(
                message: a.positional.isEmpty ? "name a format: kcidb" : "unknown format '\(a.positional[0])' (kcidb)")
        }
        guard a.positional.count == 2 else { throw UsageError(message: "name the report folder or report.json") }
        guard let origin = a[Key.origin] else { throw UsageError(message: "--origin is required") }
        guard let build = a[Key.buildID] else { throw UsageError(message: "--build-id is required") }
        let report: RunReport
        report = try ReportInput.load(a.positional[1], command: "export")
        let options = KCIDBExport.Options(
            origin: origin, buildID: build, suite: a[Key.suite] ?? "migconform",
            artifactsURL: a[Key.artifactsURL])
        let submission: [String: Any]
        do { submission = try KCIDBExport.submission(report, options: options) } catch let e as KCIDBExport.OptionError
        {
            throw UsageError(message: e.message)
        }
        let problems = KCIDBSchema.problems(submission)
        guard problems.isEmpty else {
            throw ExitFailure(
                code: ExitCode.usage,
                message: "the submission breaks the KCIDB schema:\n  " + problems.joined(separator: "\n  "))
        }
        let text = try KCIDBExport.render(report, options: options)
        if let path = a[Key.output] {
            try ReportWriter.writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: path))
            Terminal.err("wrote \(path): \((submission["tests"] as? [Any])?.count ?? 0) tests")
        } else {
            Terminal.out(text)
        }
        return ExitCode.ok
    }
}
