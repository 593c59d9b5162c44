import Foundation
import MigconformReference
import MigconformReport
import Testing

/// Outputs that cannot be written: a closed or full standard output, a report file on a full disk. The command
/// says which output failed and exits 6; no file of the command ever receives what was meant for a closed stream.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct OutputFailureTests {
    func folder(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("migconform-\(name)-\(UUID())")
    }

    @Test func aStdoutClosedBeforeTheStartNeverReachesTheJournal() throws {
        let dir = folder("closed-stdout")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The shell closes fd 1 before the command starts: the journal, opened first, would take its number.
        let r = try TestSupport.shell(
            URL(fileURLWithPath: "/bin/sh"),
            [
                "-c", "exec \"$0\" run --exclude V2-ROUND-TRIP-BYTEWISE --out \"$1\" >&-", TestSupport.binary!.path,
                dir.path,
            ])
        // Leaving a case out makes the run INCOMPLETE: that verdict's code stands, and stdout's failure is said.
        #expect(r.status == 5, "\(r.stderr)")
        #expect(TestSupport.words(r.stderr).contains("standard output: cannot write"))
        let journal = try String(contentsOf: dir.appendingPathComponent("journal.jsonl"), encoding: .utf8)
        let lines = journal.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("{") })
        let verify = try TestSupport.shell(TestSupport.binary!, ["verify", dir.path])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test func aFullStdoutIsAFailureNotASuccess() throws {
        let r = try TestSupport.shell(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" integrate lava > /dev/full", TestSupport.binary!.path])
        #expect(r.status == 6)
        #expect(TestSupport.words(r.stderr).contains("standard output: cannot write: No space left on device"))
    }

    @Test func aFileThatIsNotRegularIsWrittenInPlaceNeverReplaced() throws {
        try ReportWriter.writeAtomically(Data("x\n".utf8), to: URL(fileURLWithPath: "/dev/null"))
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        // A symbolic link stays a link; its target gets the bytes.
        let dir = folder("link")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target.txt")
        let link = dir.appendingPathComponent("link.txt")
        try Data("old".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        try ReportWriter.writeAtomically(Data("new".utf8), to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path)
        #expect(try String(contentsOf: target, encoding: .utf8) == "new")
    }

    @Test func aReportThatCannotBeFinishedLeavesNoRenderingBehind() throws {
        let dir = folder("unfinished")
        defer { try? FileManager.default.removeItem(at: dir) }
        // report.json cannot take the place of a folder: the renderings written before it must go again.
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent(ReportWriter.jsonFile), withIntermediateDirectories: true)
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        #expect(throws: ReportWriteError.self) {
            try ReportWriter.write(report, to: dir, additionalFiles: ["diagram.svg": Data("<svg/>".utf8)])
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == [ReportWriter.jsonFile], "\(left)")
    }

    @Test func aReportWrittenAgainOverAWholeFolderLeavesItAsItWasWhenItFails() throws {
        let dir = folder("rewrite")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        try ReportWriter.write(report, to: dir)
        let before = try Data(contentsOf: dir.appendingPathComponent(ReportWriter.markdownFile))
        // The second write cannot place its report.json: the files of the first stay, byte for byte.
        let json = dir.appendingPathComponent(ReportWriter.jsonFile)
        try FileManager.default.removeItem(at: json)
        try FileManager.default.createDirectory(at: json, withIntermediateDirectories: false)
        var changed = report
        changed.cases.removeLast()
        #expect(throws: ReportWriteError.self) { try ReportWriter.write(changed, to: dir) }
        #expect(try Data(contentsOf: dir.appendingPathComponent(ReportWriter.markdownFile)) == before)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!left.contains { $0.hasPrefix(".") }, "temporary files left: \(left)")
    }

    @Test func aReportFileThatIsASymbolicLinkStaysOneAndItsTargetIsWritten() throws {
        let dir = folder("linked")
        let elsewhere = folder("linked-target")
        defer {
            try? FileManager.default.removeItem(at: dir)
            try? FileManager.default.removeItem(at: elsewhere)
        }
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        try ReportWriter.write(report, to: dir)
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let link = dir.appendingPathComponent(ReportWriter.markdownFile)
        let target = elsewhere.appendingPathComponent("report.md")
        try FileManager.default.moveItem(at: link, to: target)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        var changed = report
        changed.cases.removeLast()
        try ReportWriter.write(changed, to: dir)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path)
        #expect(try Data(contentsOf: target) == Data(MarkdownReport.render(changed).utf8))
    }

    @Test func aBaselineDoesNotHideAnIncompleteRun() throws {
        let dir = folder("baseline-incomplete")
        let expectations = folder("empty-baseline")
        defer {
            try? FileManager.default.removeItem(at: dir)
            try? FileManager.default.removeItem(at: expectations)
        }
        try Data().write(to: expectations)
        let r = try TestSupport.shell(
            TestSupport.binary!,
            ["run", "--only", "V2-ARC-*", "--baseline", expectations.path, "--out", dir.path, "--quiet"])
        #expect(r.status == 5, "\(r.stdout)")
        #expect(r.stdout.hasPrefix("INCOMPLETE"))
    }
}
