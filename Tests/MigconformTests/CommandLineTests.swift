import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The command-line contract: exit codes, check-spec diagnostics, and the files a run writes.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct CommandLineTests {
    var binary: URL { TestSupport.binary! }

    func temp() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A copy of the v2 spec with one textual change applied.
    func brokenCopy(_ name: String, _ change: (String) -> String) throws -> URL {
        let text = try String(contentsOfFile: TestSupport.specPath("v2"), encoding: .utf8)
        let changed = change(text)
        #expect(changed != text, "the change to \(name) did nothing")
        let url = temp().appendingPathComponent("\(name).json")
        try changed.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func lineOf(_ needle: String, in url: URL) throws -> Int {
        let lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        return (lines.firstIndex { $0.contains(needle) } ?? -1) + 1
    }

    @Test func checkSpecAcceptsTheShippedSpecs() throws {
        let r = try TestSupport.shell(binary, ["check-spec", TestSupport.specPath("v2"), TestSupport.specPath("v1")])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("vfio-migration-v2.json: ok"))
    }

    @Test func checkSpecNamesFileLineAndPathForEachProblem() throws {
        let badJSON = try brokenCopy("bad-json") {
            $0.replacingOccurrences(of: "\"initial\": \"RUNNING\",", with: "\"initial\": \"RUNNING\",,")
        }
        let r1 = try TestSupport.shell(binary, ["check-spec", badJSON.path])
        #expect(r1.status == 2)
        #expect(r1.stdout.contains("\(badJSON.path):\(try lineOf("\"initial\"", in: badJSON)):"), "\(r1.stdout)")

        let unknownState = try brokenCopy("unknown-state") {
            $0.replacingOccurrences(
                of: "{\"from\": \"STOP\", \"to\": \"RESUMING\", \"session\": \"opens-resume\"}",
                with: "{\"from\": \"STOP\", \"to\": \"RESUMNG\", \"session\": \"opens-resume\"}")
        }
        let r2 = try TestSupport.shell(binary, ["check-spec", unknownState.path])
        #expect(r2.status == 2)
        #expect(r2.stdout.contains("\(unknownState.path):\(try lineOf("RESUMNG", in: unknownState)):"), "\(r2.stdout)")
        #expect(r2.stdout.contains("$.arcs[1].to"), "\(r2.stdout)")

        let duplicate = try brokenCopy("duplicate-id") {
            $0.replacingOccurrences(of: "\"id\": \"V2-FEAT-STOP-COPY\"", with: "\"id\": \"V2-FEAT-GET\"")
        }
        let r3 = try TestSupport.shell(binary, ["check-spec", duplicate.path])
        #expect(r3.status == 2)
        #expect(r3.stdout.contains("$.rules[1].id"), "\(r3.stdout)")
        #expect(r3.stdout.contains("duplicate"), "\(r3.stdout)")

        let noCite = try brokenCopy("missing-cite") {
            $0.replacingOccurrences(
                of:
                    "\"cite\": {\"source\": \"uapi\", \"section\": \"VFIO_DEVICE_FEATURE_MIGRATION\", \"sentence\": [\"v2.migration.1\", \"v2.path.8\", \"v2.feature.8\"]}, \"since\": \"5.18\",",
                with: "\"since\": \"5.18\",")
        }
        let r4 = try TestSupport.shell(binary, ["check-spec", noCite.path])
        #expect(r4.status == 2)
        #expect(r4.stdout.contains("$.rules[0]"), "\(r4.stdout)")
        #expect(r4.stdout.contains("citation"), "\(r4.stdout)")

        // All problems at once, across files.
        let both = try TestSupport.shell(binary, ["check-spec", unknownState.path, duplicate.path])
        #expect(both.status == 2)
        #expect(both.stdout.contains("RESUMNG") && both.stdout.contains("duplicate"))
    }

    @Test func aDefaultRunWritesEveryReportFile() throws {
        let out = temp().appendingPathComponent("run")
        let r = try TestSupport.shell(binary, ["run", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("CONFORMANT"))
        for file in ["report.json", "report.md", "junit.xml", "report.tap"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
        }
        // junit.xml is XML; report.tap is TAP 13 whose plan matches its result lines.
        let junit = try Data(contentsOf: out.appendingPathComponent("junit.xml"))
        #expect(XMLParser(data: junit).parse())
        let tap = try String(contentsOf: out.appendingPathComponent("report.tap"), encoding: .utf8).components(
            separatedBy: "\n")
        #expect(tap.first == "TAP version 13")
        let plan = tap.first { $0.hasPrefix("1..") }.flatMap { Int($0.dropFirst(3)) }
        let results = tap.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }
        #expect(plan == results.count && results.count > 100)
    }

    @Test func v1TargetPicksTheV1Spec() throws {
        let out = temp()
        let r = try TestSupport.shell(
            binary, ["run", "--spec", TestSupport.specPath("v1"), "--target", "ref:v1", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let mismatch = try TestSupport.shell(
            binary, ["run", "--spec", TestSupport.specPath("v2"), "--target", "ref:v1", "--out", out.path])
        #expect(mismatch.status == 2)
        #expect(TestSupport.words(mismatch.stderr).contains("v2 protocol"))
    }

    @Test func usageErrorsExitTwoAndSayWhy() throws {
        let r = try TestSupport.shell(binary, ["run", "--bogus"])
        #expect(r.status == 2)
        #expect(TestSupport.words(r.stderr).contains("unknown option '--bogus'"))
        let t = try TestSupport.shell(binary, ["run", "--target", "ref:v3"])
        #expect(t.status == 2)
        let help = try TestSupport.shell(binary, ["run", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--target URI") && help.stdout.contains("EXIT CODES"))
    }

    @Test func aMistypedValueLeavesNoRunFolderBehind() throws {
        // Without --out a run makes its own folder under Reports/: a refused option must not leave it there.
        let cwd = FileManager.default.temporaryDirectory.appendingPathComponent("typo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: cwd) }
        let r = try TestSupport.shell(binary, ["run", "--journal-sync", "always"], cwd: cwd)
        #expect(r.status == 2)
        #expect(TestSupport.words(r.stderr).contains("--journal-sync takes op or case, not 'always'"), "\(r.stderr)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: cwd.appendingPathComponent("Reports").path))
        #expect((left ?? []).isEmpty, "\(left ?? [])")
    }
}
