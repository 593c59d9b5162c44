import Foundation
import MigconformLab
import MigconformReport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes to stdout and stderr with write(2), never through a call that traps on a closed pipe.
///
/// When a reader goes away (`migconform run | head -3`), the write fails with EPIPE (SIGPIPE is ignored while
/// adapters run); the stream is then marked closed, later output to it is dropped, and the command goes on to
/// finish its work (the report folder is written in full). ``exitStatus(_:)`` then ends the process the usual way
/// for a broken pipe: by SIGPIPE, as a program that never ignored it would have ended.
///
/// Any other failure of stdout (a full disk behind `> file`, a stream closed before the command started) means
/// that what the command printed there is not whole: ``exitStatus(_:)`` says so on stderr and exits with
/// ``ExitCode/output`` where the command would have exited 0.
enum Output {
    /// Streams found closed, whether one was closed by its reader (EPIPE), and stdout's first other failure.
    private struct State {
        var closed: Set<Int32> = []
        var brokenPipe = false
        var stdoutFailure: Int32?
    }
    private static let state = Guarded(State())

    /// Standard streams that were closed when the command started. Each gets `/dev/null` in its place, so that no
    /// file the command opens (a journal, a report) takes its number and receives its output; writes meant for it
    /// fail as if it were still closed.
    static func claimStandardStreams() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
            let null = open("/dev/null", O_RDWR)
            if null >= 0 && null != fd {
                _ = dup2(null, fd)
                _ = close(null)
            }
            if fd > 0 { state.withLock { _ = $0.closed.insert(fd) } }
        }
    }

    /// Writes all of `text` to `fd`, retrying short writes and EINTR. False when the stream is closed.
    @discardableResult
    static func write(_ text: String, to fd: Int32) -> Bool {
        let open = state.withLock { s in
            guard s.closed.contains(fd) else { return true }
            if fd == STDOUT_FILENO && !s.brokenPipe && s.stdoutFailure == nil { s.stdoutFailure = EBADF }
            return false
        }
        guard open else { return false }
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                posixWrite(fd, buffer.baseAddress! + done, buffer.count - done)
            }
            if n > 0 {
                done += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            let failure = n < 0 ? errno : EIO
            state.withLock {
                if failure == EPIPE {
                    $0.brokenPipe = true
                } else if fd == STDOUT_FILENO && $0.stdoutFailure == nil {
                    $0.stdoutFailure = failure
                }
                $0.closed.insert(fd)
            }
            return false
        }
        bytes.removeAll()
        return true
    }

    /// LAVA's helpers, with the signal lines (printed where a helper is missing) going through ``write(_:to:)``.
    static var lavaHelpers: LavaReporter.Helpers {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return LavaReporter.Helpers(searchPath: path.split(separator: ":").map(String.init)) { line in
            write(line + "\n", to: STDOUT_FILENO)
        }
    }

    /// From the start, a closed pipe is an EPIPE error to handle rather than a signal that ends the process
    /// half way through writing a report.
    static func ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

    /// The status to exit with: `code`, unless a reader of stdout or stderr went away, in which case the process
    /// ends by SIGPIPE (status 141 in a shell) once everything else is done.
    static func exitStatus(_ code: Int32) -> Int32 {
        let (brokenPipe, stdoutFailure) = state.withLock { ($0.brokenPipe, $0.stdoutFailure) }
        if let e = stdoutFailure, !brokenPipe {
            Terminal.errWrapped(
                "migconform: ",
                "standard output: cannot write: \(String(cString: strerror(e))); what was printed there is not whole",
                indent: 4)
            return code == ExitCode.ok ? ExitCode.output : code
        }
        guard brokenPipe else { return code }
        signal(SIGPIPE, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        raise(SIGPIPE)
        return code
    }
}

#if canImport(Glibc)
    private let posixWrite = Glibc.write
#elseif canImport(Darwin)
    private let posixWrite = Darwin.write
#endif
