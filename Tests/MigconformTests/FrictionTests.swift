import Foundation
import MigconformDevice
import MigconformReport
import Testing

/// The smaller frictions of issue 17, each where a test can tell.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct FrictionTests {
    var binary: URL { TestSupport.binary! }

    @Test func readmeNamesWhatTheBinaryHas() throws {
        let readme = try String(contentsOf: TestSupport.root.appendingPathComponent("README.md"), encoding: .utf8)
        for s in [
            "report.html", "--format markdown", "--journal-sync", "--lava-output", "migconform specs",
            "scripts/build-release.sh",
        ] {
            #expect(readme.contains(s), "README.md does not mention \(s)")
        }
        // What the README names, the binary has.
        let run = try TestSupport.shell(binary, ["run", "--help"])
        for o in ["--journal-sync", "--lava-output"] { #expect(run.stdout.contains("  \(o)")) }
        #expect(try TestSupport.shell(binary, ["diff", "--help"]).stdout.contains("markdown"))
    }

    @Test func verifyOnAMissingFolderExitsTwoAsTheReadmeSays() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-run-\(UUID().uuidString)")
            .path
        let r = try TestSupport.shell(binary, ["verify", missing])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains(missing))
        let readme = try String(contentsOf: TestSupport.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(
            readme.contains("| 2 | usage error, or a spec, report, journal or expectations file that does not load"))
    }

    @Test func replayHelpListsExitThree() throws {
        let r = try TestSupport.shell(binary, ["replay", "--help"])
        #expect(r.status == 0)
        // The help is wrapped to 100 columns: the phrase may break across lines.
        let words = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        #expect(words.contains("3 when the target cannot be opened"))
        // And it does exit 3 when the target cannot be opened.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("replay-3-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try TestSupport.shell(binary, ["run", "--quiet", "--target", "fault:missing-arc", "--out", out.path])
        let again = try TestSupport.shell(
            binary,
            [
                "replay", out.path, "V2-ARC-STATE[STOP->RUNNING_P2P]",
                "--target", "vfio:/dev/vfio/99999/0000:00:00.0",
            ])
        #expect(again.status == 3, "\(again.stderr)")
    }

    @Test func anUnknownHazardIsAUsageErrorNamingTheKnownOnes() throws {
        let r = try TestSupport.shell(
            binary,
            [
                "run", "--allow-hazard", "bogus", "--out",
                FileManager.default.temporaryDirectory.appendingPathComponent("hz-\(UUID())").path,
            ])
        #expect(r.status == 2)
        #expect(r.stderr.contains("'bogus'"))
        let known = Set(TestSupport.v2.rules.compactMap { $0.hazard?.id })
        #expect(!known.isEmpty)
        for h in known { #expect(r.stderr.contains(h), "\(h) not named: \(r.stderr)") }
        let ok = try TestSupport.shell(
            binary,
            [
                "run", "--quiet", "--allow-hazard", known.sorted()[0], "--out",
                FileManager.default.temporaryDirectory.appendingPathComponent("hz-\(UUID())").path,
            ])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    /// Runs started in the same second without --out: each gets its own folder under Reports/.
    @Test func runsStartedInTheSameSecondGetDifferentFolders() throws {
        let cwd = FileManager.default.temporaryDirectory.appendingPathComponent("same-second-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: cwd) }
        let script =
            (0..<4).map { _ in "'\(binary.path)' run --quiet --only 'V2-FEAT-*' > /dev/null &" }.joined(separator: "\n")
            + "\nwait\n"
        let r = try ChildProcess.run("/bin/sh", ["-c", "cd '\(cwd.path)' || exit 9\n" + script], timeout: 300)
        #expect(r.termination.exitStatus == 0)
        let folders = try FileManager.default.contentsOfDirectory(atPath: cwd.appendingPathComponent("Reports").path)
        #expect(folders.count == 4, "\(folders)")
        for f in folders {
            #expect(
                FileManager.default.fileExists(atPath: cwd.appendingPathComponent("Reports/\(f)/report.json").path),
                "\(f)")
        }
    }

    @Test func aRunSaysWhatItsJournalRecorded() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("journal-mode-\(getpid())")
        defer { try? FileManager.default.removeItem(at: base) }
        for (given, expected) in [(nil, "case"), ("op", "op")] as [(String?, String)] {
            let out = base.appendingPathComponent(expected).path
            let args =
                ["run", "--target", "ref:v2", "--only", "V2-ARC-STATE", "--out", out]
                + (given.map { ["--journal-sync", $0] } ?? [])
            let r = try TestSupport.shell(binary, args)
            #expect(
                TestSupport.words(r.stderr).contains(
                    expected == "op" ? "journal: every operation" : "journal: each case"))
            #expect(try ReportReader.load(out).run.journalSync == expected)
            // A report rebuilt from the journal says the same.
            #expect(try JournalReader.read(out).report.run.journalSync == expected)
        }
    }

    @Test func planPrintsATimeAndDataEstimate() throws {
        let r = try TestSupport.shell(binary, ["plan", "--target", "ref:v2?state-size=1MiB"])
        #expect(r.status == 0)
        let data = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("data:") }, "\(r.stdout)")
        // The estimate is what the cases need (TransferNeed), the bytes and the states agreeing.
        #expect(data.contains("MiB moved") && data.contains("whole states of 1.0 MiB"), "\(data)")
        #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix("time:") })
        let v1 = try TestSupport.shell(binary, ["plan", "--target", "ref:v1"])
        #expect(v1.stdout.contains("data:") && v1.stdout.contains("time:"))
    }
}
