import Foundation
import MigconformDevice
import Testing

/// The one way this program starts child processes (posix_spawn, waitpid): no run loop, no socket, no network.
struct ChildProcessTests {
    @Test func runCapturesOutputAndStatus() throws {
        let r = try ChildProcess.run(
            "/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], stdout: .capture, stderr: .capture)
        #expect(String(decoding: r.output, as: UTF8.self) == "out\n")
        #expect(String(decoding: r.errorOutput, as: UTF8.self) == "err\n")
        #expect(r.termination.exitStatus == 3 && r.termination.shellStatus == 3)
        #expect(r.termination.description == "exited with status 3")
        #expect(!r.timedOut)
    }

    @Test func aChildPastItsDeadlineIsKilledAndReaped() throws {
        let start = ChildProcess.now()
        let r = try ChildProcess.run("/bin/sleep", ["30"], timeout: 0.3)
        #expect(r.timedOut)
        #expect(r.termination.signal == SIGKILL)
        #expect(ChildProcess.now() - start < 10)
        // With its output captured as well (the read loop, not only the wait, keeps the deadline).
        let captured = try ChildProcess.run(
            "/bin/sh", ["-c", "echo started; exec sleep 30"], stdout: .capture, timeout: 0.3)
        #expect(captured.timedOut && String(decoding: captured.output, as: UTF8.self) == "started\n")
    }

    @Test func theChildGetsDefaultSignalActionsAndTheEnvironmentGiven() throws {
        // This process ignores SIGTERM while a run is under way (SignalStop); a helper must not inherit that.
        let old = signal(SIGTERM, SIG_IGN)
        defer { signal(SIGTERM, old) }
        let r = try ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$; sleep 5; exit 0"], timeout: 20)
        #expect(r.termination.signal == SIGTERM, "\(r.termination)")
        let env = try ChildProcess.run(
            "/bin/sh", ["-c", "printf %s \"$ONLY\""], environment: ["ONLY": "this"], stdout: .capture)
        #expect(String(decoding: env.output, as: UTF8.self) == "this")
    }

    @Test func findLooksOnlyAtExecutableFiles() throws {
        #expect(ChildProcess.find("sh", in: ["/nonexistent", "/bin"]) == "/bin/sh")
        #expect(ChildProcess.find("bin", in: ["/"]) == nil)
        #expect(ChildProcess.find("no-such-helper-here", in: ["/bin", "/usr/bin"]) == nil)
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.run("/nonexistent/helper", []) }
    }

    /// Foundation's Process needs the loopback interface (its run loop wakes itself through sockets bound to
    /// 127.0.0.1); `run --lava` hung with it in a guest whose `lo` is down. Nothing in Sources may use it.
    @Test func noSourceStartsAChildThroughFoundationProcess() throws {
        let sources = TestSupport.root.appendingPathComponent("Sources")
        let files =
            FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count > 20)
        let pattern = try NSRegularExpression(
            pattern: #"(?<![A-Za-z.])(Foundation\.)?Process\s*\(|\bPipe\s*\(|\.waitUntilExit\b|\bProcess\.run\b"#)
        for f in files {
            let text = try String(contentsOf: sources.appendingPathComponent(f), encoding: .utf8)
            for (i, line) in text.components(separatedBy: "\n").enumerated() {
                let code = line.components(separatedBy: "//").first ?? ""
                let hit = pattern.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)) != nil
                #expect(!hit, "Sources/\(f):\(i + 1) starts a child without ChildProcess: \(line)")
            }
        }
    }
}

extension ChildProcessTests {
    /// A descriptor this process has open without close-on-exec does not reach the child (glibc 2.34+).
    @Test func theChildInheritsOnlyItsStandardStreams() throws {
        let null = open("/dev/null", O_RDONLY)
        let fd = fcntl(null, F_DUPFD, 200) // deliberately not close-on-exec, and above what ls opens itself
        close(null)
        defer { close(fd) }
        #expect(fd >= 200)
        let r = try ChildProcess.run("/bin/sh", ["-c", "ls /proc/self/fd"], stdout: .capture, timeout: 30)
        let fds = String(decoding: r.output, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
        #expect(!fds.contains(fd), "fd \(fd) leaked into the child: \(fds)")
    }
}
