import Foundation
import MigconformRun
import MigconformSpec

/// Checks that a run folder is complete and untampered (`migconform verify`), for a vendor submitting a
/// qualification run and for whoever receives it.
///
/// What is checked: `report.json` loads and has a schema version this migconform reads; every file its `files`
/// map lists exists and has the recorded SHA-256; the standard files are all there and no unlisted file is;
/// `report.md`, `junit.xml` and `report.tap` are exactly what `report.json` renders to (so `report.json` was not
/// edited after it was written, not even with its hashes fixed up); the summary agrees with the cases; the
/// journal, when present, agrees with the cases it saw finish; and, when the spec file is at hand, its SHA-256
/// is the one recorded.
package enum ReportVerifier {
    /// The findings: every check that passed, and every problem.
    package struct Result: Sendable {
        package var passed: [String] = []
        package var problems: [String] = []
        /// Things that could not be checked (no spec file at hand).
        package var notes: [String] = []
        /// True when there was no report to verify (no such folder, or a report.json that does not load).
        package var unreadable = false
        package var ok: Bool { problems.isEmpty }
    }

    /// Verifies the run folder at `path` (or the folder of the `report.json` at `path`). `specPath` overrides the
    /// spec path recorded in the report.
    package static func verify(_ path: String, specPath: String? = nil) -> Result {
        var result = Result()
        var folder = path
        if path.hasSuffix(ReportWriter.jsonFile) { folder = (path as NSString).deletingLastPathComponent }
        if folder.isEmpty { folder = "." }
        let report: RunReport
        do {
            report = try ReportReader.load(folder)
            result.passed.append("report.json loads, schema version \(report.schemaVersion)")
        } catch {
            result.problems.append("\(error)")
            result.unreadable = true
            return result
        }
        let fm = FileManager.default
        func data(_ name: String) -> Data? { fm.contents(atPath: (folder as NSString).appendingPathComponent(name)) }

        // Every listed file, with its hash.
        for (name, hash) in report.files.sorted(by: { $0.key < $1.key }) {
            guard let d = data(name) else {
                result.problems.append("\(name) is listed but missing")
                continue
            }
            let actual = d.withUnsafeBytes { SHA256.hex($0) }
            if actual == hash {
                result.passed.append("\(name): SHA-256 matches")
            } else {
                result.problems.append("\(name): SHA-256 is \(actual), report.json records \(hash)")
            }
        }
        for name in [ReportWriter.markdownFile, ReportWriter.junitFile, ReportWriter.tapFile]
        where report.files[name] == nil {
            result.problems.append("\(name) is not listed in report.json: the folder is incomplete")
        }
        let present = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
        for name in present.sorted()
        where !name.hasPrefix(".") && name != ReportWriter.jsonFile && report.files[name] == nil {
            result.problems.append("\(name) is in the folder but not listed in report.json")
        }

        // The renderings are what report.json renders to.
        var clean = report
        clean.files = [:]
        let renders: [(String, String)] = [
            (ReportWriter.markdownFile, MarkdownReport.render(clean)),
            (ReportWriter.junitFile, JUnitReport.render(clean)),
            (ReportWriter.tapFile, TAPReport.render(clean)),
        ]
        for (name, text) in renders {
            guard let recorded = report.files[name] else { continue }
            if SHA256.hex(Array(text.utf8)) == recorded {
                result.passed.append("\(name) is what report.json renders to")
            } else {
                result.problems.append(
                    "\(name) is not what report.json renders to: report.json was changed after it was written")
            }
        }

        // The summary agrees with the cases.
        let recount = RunSummary(cases: report.cases, journalDamaged: report.run.journalDamaged != nil)
        if recount.verdicts == report.summary.verdicts && recount.total == report.summary.total
            && recount.conformant == report.summary.conformant
        {
            result.passed.append("the summary agrees with the \(report.cases.count) cases")
        } else {
            result.problems.append(
                "the summary does not agree with the cases (recounted: \(recount.total) cases, conformant \(recount.conformant))"
            )
        }

        // The journal agrees with the finished cases.
        if report.files[RunJournal.fileName] != nil, let contents = try? JournalReader.read(folder) {
            let byID = Dictionary(report.cases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let differing = contents.finished.filter { byID[$0.id]?.verdict != $0.verdict }
            if differing.isEmpty {
                result.passed.append("the journal agrees with the \(contents.finished.count) cases it saw finish")
            } else {
                result.problems.append("the journal disagrees on \(differing.count) case(s), first \(differing[0].id)")
            }
            // A journal that reads as damaged backs no report that does not say so.
            if let damage = contents.report.run.journalDamaged, report.run.journalDamaged == nil {
                result.problems.append("the journal is damaged, and report.json does not say so: \(damage)")
            }
        }

        // The spec.
        let spec = specPath ?? report.run.specPath
        let bytes =
            BuiltinSpecs.isBuiltin(spec)
            ? BuiltinSpecs.file(spec)?.bytes : fm.contents(atPath: spec).map { [UInt8]($0) }
        if let d = bytes {
            let h = SHA256.hex(d)
            if h == report.run.specSHA256 {
                result.passed.append("spec \(spec): SHA-256 matches")
            } else {
                result.problems.append("spec \(spec): SHA-256 is \(h), the run recorded \(report.run.specSHA256)")
            }
        } else if specPath == nil, let builtin = BuiltinSpecs.file(sha256: report.run.specSHA256) {
            result.passed.append("spec \(spec) is not here; its SHA-256 is the built-in \(builtin.path)'s")
        } else {
            result.notes.append("spec \(spec) not found here: its SHA-256 was not checked (give it with --spec)")
        }
        if report.run.fromJournal == true { result.notes.append("the report was rebuilt from the run's journal") }
        if report.run.interrupted {
            result.notes.append("the run was interrupted: \(report.run.stopReason ?? "no reason recorded")")
        }
        return result
    }
}
