import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `/bin/sh -c`, its stdin, stdout and stderr on pipes, in its own process group.
///
/// Every pipe end this side holds is close-on-exec and non-blocking; every read and write waits in poll(2) with a
/// deadline, so a child that stops answering can never block the caller. The process is always reaped: by
/// ``waitForExit(grace:)`` or ``kill()``, or at the latest when the object goes away.
final class AdapterProcess {
    let pid: pid_t
    let command: String
    private var stdinFD: Int32
    private var stdoutFD: Int32
    private var stderrFD: Int32
    /// Bytes read from stdout that do not yet form a whole line.
    private var outBuffer: [UInt8] = []
    private var scanned = 0
    /// The last bytes the child wrote to stderr.
    private(set) var stderrTail: [UInt8] = []
    private static let stderrKeep = 8192
    /// How the child ended, once reaped (`exited with status 3`, `was killed by signal 9 (SIGKILL)`).
    private(set) var exitDescription: String?

    /// What waiting for a line gave.
    enum LineResult {
        case line(String)
        /// The deadline passed; `writing` is true when the request was not even fully written.
        case timedOut(writing: Bool)
        /// stdout reached end of file (the child exited or closed it).
        case endOfFile
        /// The child stopped reading its stdin before the request was written.
        case brokenPipe
        /// A line longer than the protocol allows.
        case overlong(Int)
    }

    /// Ignores SIGPIPE in this process, once: writing to an adapter that died must fail with EPIPE, not end the runner.
    static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    init(command: String, environment: [String: String]? = nil) throws {
        _ = AdapterProcess.ignoreSIGPIPE
        self.command = command
        let input = try AdapterProcess.pipePair()
        let output: (Int32, Int32)
        let errors: (Int32, Int32)
        do { output = try AdapterProcess.pipePair() } catch {
            close(input.0)
            close(input.1)
            throw error
        }
        do { errors = try AdapterProcess.pipePair() } catch {
            close(input.0)
            close(input.1)
            close(output.0)
            close(output.1)
            throw error
        }
        defer {
            close(input.0)
            close(output.1)
            close(errors.1)
        } // the child's ends, once spawned

        let child: pid_t
        do {
            child = try ChildProcess.spawn(
                "/bin/sh", ["-c", command], environment: environment,
                stdin: input.0, stdout: output.1, stderr: errors.1, newProcessGroup: true)
        } catch {
            close(input.1)
            close(output.0)
            close(errors.0)
            throw TransportError("cannot start '\(command)': \(error)")
        }
        pid = child
        // Only this side's ends are non-blocking: the flag belongs to the open file, which the child shares.
        for fd in [input.1, output.0, errors.0] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        stdinFD = input.1
        stdoutFD = output.0
        stderrFD = errors.0
    }

    deinit {
        if exitDescription == nil { kill() }
        closeAll()
    }

    /// A pipe whose ends are close-on-exec and numbered 3 or above (so that dup2 onto 0, 1, 2 always copies).
    private static func pipePair() throws -> (Int32, Int32) {
        do { return try ChildProcess.pipe() } catch { throw TransportError("\(error)") }
    }

    private func closeAll() {
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        stdinFD = -1
        stdoutFD = -1
        stderrFD = -1
    }

    /// Closes the child's stdin (its signal to finish).
    func closeInput() {
        if stdinFD >= 0 {
            close(stdinFD)
            stdinFD = -1
        }
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Writes `line` and a newline to the child's stdin, then waits for one whole line on its stdout, both within
    /// `seconds`. stderr is drained all along (into ``stderrTail``) so that a chatty child never blocks on it.
    func exchange(_ line: String, within seconds: Double) -> LineResult {
        let end = AdapterProcess.now() + seconds
        var pending = Array(line.utf8)
        pending.append(0x0a)
        var written = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        // When the child stops reading, what it already wrote is still worth reading: a line there says more
        // about what went wrong than the broken pipe does.
        var writeFailed = stdinFD < 0
        while true {
            if written == pending.count || writeFailed, let found = nextLine() { return found }
            if stdoutFD < 0 { return writeFailed ? .brokenPipe : .endOfFile }
            let left = end - AdapterProcess.now()
            if left <= 0 { return .timedOut(writing: written < pending.count) }
            var fds: [pollfd] = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)]
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            let writing = written < pending.count && !writeFailed
            if writing { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            let ms = Int32(min(max(left * 1000, 1), 60_000).rounded(.up))
            let n = poll(&fds, nfds_t(fds.count), ms)
            if n < 0 {
                if errno == EINTR { continue }
                return .timedOut(writing: writing)
            }
            if n == 0 { continue }
            for p in fds where p.revents != 0 {
                if p.fd == stdinFD {
                    let w = pending[written...].withUnsafeBytes { sysWrite(stdinFD, $0.baseAddress, $0.count) }
                    if w > 0 {
                        written += w
                    } else if w < 0 && errno != EAGAIN && errno != EINTR {
                        writeFailed = true
                    } else if p.revents & Int16(POLLERR | POLLHUP) != 0 && w <= 0 {
                        writeFailed = true
                    }
                } else if p.fd == stdoutFD {
                    let r = chunk.withUnsafeMutableBytes { sysRead(stdoutFD, $0.baseAddress, $0.count) }
                    if r > 0 {
                        outBuffer += chunk[0..<r]
                        if outBuffer.count > AdapterProtocol.maxLineBytes, !outBuffer.contains(0x0a) {
                            return .overlong(outBuffer.count)
                        }
                    } else if r == 0 || (errno != EAGAIN && errno != EINTR) {
                        close(stdoutFD)
                        stdoutFD = -1
                    }
                } else if p.fd == stderrFD {
                    drainStderr(into: &chunk)
                }
            }
        }
    }

    /// The next whole line already read, without its newline (and without a trailing carriage return).
    private func nextLine() -> LineResult? {
        guard let nl = outBuffer[scanned...].firstIndex(of: 0x0a) else {
            scanned = outBuffer.count
            return nil
        }
        var lineBytes = outBuffer[..<nl]
        if lineBytes.last == 0x0d { lineBytes = lineBytes.dropLast() }
        let line = String(decoding: lineBytes, as: UTF8.self)
        outBuffer.removeSubrange(...nl)
        scanned = 0
        return .line(line)
    }

    private func drainStderr(into chunk: inout [UInt8]) {
        guard stderrFD >= 0 else { return }
        let r = chunk.withUnsafeMutableBytes { sysRead(stderrFD, $0.baseAddress, $0.count) }
        if r > 0 {
            stderrTail += chunk[0..<r]
            if stderrTail.count > AdapterProcess.stderrKeep {
                stderrTail.removeFirst(stderrTail.count - AdapterProcess.stderrKeep)
            }
        } else if r == 0 || (errno != EAGAIN && errno != EINTR) {
            close(stderrFD)
            stderrFD = -1
        }
    }

    /// Reads what is left on stderr, for at most `seconds` (after a crash, so that its last words are kept).
    func collectStderr(for seconds: Double) {
        let end = AdapterProcess.now() + seconds
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while stderrFD >= 0 {
            let left = end - AdapterProcess.now()
            if left <= 0 { return }
            var p = pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, Int32(max(left * 1000, 1)))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            drainStderr(into: &chunk)
        }
    }

    /// The last lines of stderr as one short text, or nil when the child wrote nothing there.
    func stderrSummary(maxBytes: Int = 600) -> String? {
        var text = String(decoding: stderrTail.suffix(maxBytes), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return nil }
        if stderrTail.count > maxBytes { text = "…" + text }
        return text.replacingOccurrences(of: "\n", with: " | ")
    }

    /// Waits up to `grace` seconds for the child to exit by itself, then kills it. Returns how it ended.
    @discardableResult
    func waitForExit(grace: Double) -> String {
        if let d = exitDescription { return d }
        let end = AdapterProcess.now() + grace
        while AdapterProcess.now() < end {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return reaped(status) }
            if r < 0 && errno != EINTR {
                exitDescription = "gone (waitpid: \(String(cString: strerror(errno))))"
                return exitDescription!
            }
            usleep(5_000)
        }
        return kill()
    }

    /// Sends `signal` to the child's process group without reaping (safe from another thread while the child is
    /// not reaped yet; the caller makes sure of that).
    func signalGroup(_ signal: Int32) {
        if exitDescription == nil { _ = sysKill(-pid, signal) }
    }

    /// Kills the child's whole process group with SIGKILL and reaps the child. Returns how it ended.
    @discardableResult
    func kill() -> String {
        if let d = exitDescription { return d }
        _ = sysKill(-pid, SIGKILL)
        _ = sysKill(pid, SIGKILL)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { break }
            if r < 0 && errno == EINTR { continue }
            exitDescription = "gone (waitpid: \(String(cString: strerror(errno))))"
            closeAll()
            return exitDescription!
        }
        let d = reaped(status)
        closeAll()
        return d
    }

    private func reaped(_ status: Int32) -> String {
        let signal = status & 0x7f
        let d: String
        if signal == 0 {
            d = "exited with status \((status >> 8) & 0xff)"
        } else {
            let names: [Int32: String] = [
                SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGTERM: "SIGTERM",
                SIGBUS: "SIGBUS", SIGPIPE: "SIGPIPE", SIGINT: "SIGINT", SIGHUP: "SIGHUP",
            ]
            d = "was killed by signal \(signal)" + (names[signal].map { " (\($0))" } ?? "")
        }
        exitDescription = d
        return d
    }
}

#if canImport(Glibc)
    private func sysWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { Glibc.write(fd, p, n) }
    private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Glibc.read(fd, p, n) }
    private func sysKill(_ pid: pid_t, _ sig: Int32) -> Int32 { Glibc.kill(pid, sig) }
#else
    private func sysWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { Darwin.write(fd, p, n) }
    private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Darwin.read(fd, p, n) }
    private func sysKill(_ pid: pid_t, _ sig: Int32) -> Int32 { Darwin.kill(pid, sig) }
#endif
