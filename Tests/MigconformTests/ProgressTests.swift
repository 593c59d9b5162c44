import Foundation
import MigconformDevice
import MigconformReport
import Testing

/// Never silent: progress on stderr, a counter that only goes up, --quiet, lines as wide as the terminal.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct ProgressTests {
    var binary: URL { TestSupport.binary! }

    func temp(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("migconform-\(name)-\(UUID().uuidString)")
    }

    /// stderr to a file, not a terminal: a run with one long transfer (1 GiB each way) prints a line whenever it
    /// has been silent for the interval (10 s by default; 2 s here, so that the run is long enough on any machine),
    /// naming the case, its place in the run and the bytes moved.
    @Test func aSlowRunWithStderrInAFilePrintsProgressWheneverItWasSilentForTheInterval() throws {
        let out = temp("progress")
        let errFile = temp("progress-stderr")
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: errFile)
        }
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        let errFD = open(errFile.path, O_WRONLY | O_APPEND)
        let null = open("/dev/null", O_WRONLY)
        defer {
            close(errFD)
            close(null)
        }
        var env = ProcessInfo.processInfo.environment
        env["MIGCONFORM_PROGRESS_SECONDS"] = "2"
        let start = ChildProcess.now()
        let pid = try ChildProcess.spawn(
            binary.path,
            [
                "run", "--target", "ref:v2?state-size=1GiB", "--only", "V2-ROUND-TRIP",
                "--out", out.path,
            ], environment: env, stdout: null, stderr: errFD)
        // When each line arrived, by watching the file grow.
        var arrivals: [(Double, String)] = []
        var seen = 0
        var ended: ChildProcess.Termination?
        while ended == nil && ChildProcess.now() - start < 600 {
            usleep(100_000)
            ended = try ChildProcess.poll(pid)
            let text = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            for l in lines.dropFirst(seen) { arrivals.append((ChildProcess.now() - start, l)) }
            seen = lines.count
        }
        if ended == nil {
            kill(pid, SIGKILL)
            _ = try? ChildProcess.wait(pid)
        }
        let end = ChildProcess.now() - start
        // One case selected: no failure, but not the whole suite (INCOMPLETE).
        #expect(ended?.exitStatus == 5)
        let total = (try? ReportReader.load(out.path))?.cases.count ?? -1
        #expect(end > 3, "the run took only \(end) s: too fast to show the ticker")
        let times = [0] + arrivals.map(\.0) + [end]
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        #expect(gaps.max() ?? 0 <= 3.5, "stderr was silent for \(gaps.max() ?? 0) s: \(arrivals)")
        let progress = arrivals.map(\.1).filter { $0.hasPrefix("migconform: [") }
        #expect(progress.contains { $0.contains("/\(total)] V2-ROUND-TRIP: ") && $0.contains(" moved") }, "\(arrivals)")
    }

    /// On a terminal (a pseudo-terminal from script(1)) the counter only goes up, from 1, whatever the tour's
    /// order; it is redrawn at most ten times a second, and a failure line never lands on the progress line.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) is not installed"))
    func theTerminalCounterOnlyGoesUpAtMostTenTimesASecond() throws {
        let out = temp("tty")
        defer { try? FileManager.default.removeItem(at: out) }
        let command = "'\(binary.path)' run --target fault:missing-arc --out '\(out.path)'"
        let started = Date()
        let r = try ChildProcess.run("/usr/bin/script", ["-qc", command, "/dev/null"], stdout: .capture, timeout: 300)
        let seconds = Date().timeIntervalSince(started)
        let text = String(decoding: r.output, as: UTF8.self)
        let counters = text.matches(of: #/\[([0-9]+)/([0-9]+)\]/#).map { (Int($0.output.1)!, Int($0.output.2)!) }
        let firsts = counters.map(\.0)
        #expect(firsts.first == 1)
        let total = try ReportReader.load(out.path).cases.count
        #expect(counters.allSatisfy { $0.1 == total })
        #expect(zip(firsts, firsts.dropFirst()).allSatisfy { $0 <= $1 }, "the counter went down: \(firsts.prefix(40))")
        #expect(
            Double(counters.count) <= seconds * 10 + 2,
            "\(counters.count) redraws in \(seconds) s for \(total) cases: not held to ten a second")
        // The run fails a rule: its line starts a line of its own, the progress line cleared before it.
        let fails = text.ranges(of: "FAIL    ")
        #expect(!fails.isEmpty)
        for f in fails {
            // Bytes, not characters: the terminal sends "\r\n", which is one character.
            let before = Array(text[..<f.lowerBound].utf8.suffix(3))
            #expect(before == Array("\u{1b}[K".utf8) || before.last == 0x0A, "\(text[..<f.lowerBound].suffix(60))")
        }
    }

    @Test func quietPrintsOnlyTheVerdictLine() throws {
        for (target, status, verdict) in [
            ("ref:v2", Int32(0), "CONFORMANT to "), ("fault:missing-arc", 1, "NOT CONFORMANT to "),
        ] {
            let out = temp("quiet")
            defer { try? FileManager.default.removeItem(at: out) }
            let r = try TestSupport.shell(binary, ["run", "--quiet", "--target", target, "--out", out.path])
            #expect(r.status == status)
            #expect(r.stdout.hasPrefix(verdict) && r.stdout.filter { $0 == "\n" }.count == 1, "\(r.stdout)")
            #expect(r.stderr.isEmpty, "\(r.stderr)")
        }
    }

    /// Failure lines (stderr during the run, stdout in the summary) wrap to the width COLUMNS gives (a terminal's
    /// own width comes from TIOCGWINSZ): nothing is cut, every line fits.
    @Test(arguments: [80, 100, 220])
    func messagesWrapToTheTerminalWidth(_ columns: Int) throws {
        let out = temp("width")
        defer { try? FileManager.default.removeItem(at: out) }
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = String(columns)
        let r = try ChildProcess.run(
            binary.path,
            [
                "run", "--target", "fault:missing-arc", "--exclude",
                "V2-ROUND-TRIP-BYTEWISE", "--out", out.path,
            ],
            environment: env, stdout: .capture, stderr: .capture, timeout: 300)
        let stdout = String(decoding: r.output, as: UTF8.self)
        let stderr = String(decoding: r.errorOutput, as: UTF8.self)
        for line in (stdout + stderr).split(separator: "\n") where !line.hasPrefix("report: ") {
            #expect(line.count <= columns, "\(line.count) > \(columns): \(line)")
        }
        #expect(!stdout.contains("..."))
        // Every failure message is there whole, once the wrapped lines are joined again.
        let report = try ReportReader.load(out.path)
        let joined = stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(
            separator: " ")
        for c in report.cases where c.verdict == .fail {
            #expect(joined.contains(c.message.split(separator: " ").joined(separator: " ")), "\(c.id): \(c.message)")
        }
        if columns == 220 {
            // Wide enough: each failure is one line.
            #expect(
                stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") }.count
                    == report.cases.filter { $0.verdict == .fail }.count)
        }
    }
}
