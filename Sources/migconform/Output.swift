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
enum Output {
    /// Streams found closed, and whether one was closed by its reader (EPIPE).
    private struct State {
        var closed: Set<Int32> = []
        var brokenPipe = false
    }
    private static let state = Guarded(State())

    /// Writes all of `text` to `fd`, retrying short writes and EINTR. False when the stream is closed.
    @discardableResult
    static func write(_ text: String, to fd: Int32) -> Bool {
        if state.withLock({ $0.closed.contains(fd) }) { return false }
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
            let pipe = n < 0 && errno == EPIPE
            state.withLock {
                if pipe { $0.brokenPipe = true }
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
        guard state.withLock({ $0.brokenPipe }) else { return code }
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
