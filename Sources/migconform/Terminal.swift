import CVFIOShim
import Foundation
import MigconformReport

/// Output conventions: results on stdout, progress and errors on stderr, color only on a terminal without NO_COLOR.
/// Lines for people wrap to the terminal's width (TIOCGWINSZ), or to `COLUMNS`, or to 100 columns.
enum Terminal {
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    /// Asked once: progress asks before every line, and on a serial console each question is a system call.
    static let stderrIsTTY = isatty(STDERR_FILENO) == 1
    static var colorAllowed: Bool { ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
    static var useColor: Bool { stdoutIsTTY && colorAllowed }

    /// When stderr was last written (monotonic seconds): the progress ticker stays quiet while other lines come.
    static var lastErrorWrite: Double { stderrState.withLock { $0.lastWrite } }
    /// Held while a line goes to stderr, so that lines never interleave: when it was last written, and whether a
    /// progress line stands there now (the next line clears it first, in the same write).
    private static let stderrState = Guarded((lastWrite: ChildProcessClock.now(), progressShown: false))

    // Through Output (write(2)): a reader that went away never traps the program.
    static func out(_ s: String) { Output.write(s.hasSuffix("\n") ? s : s + "\n", to: STDOUT_FILENO) }
    static func err(_ s: String) {
        stderrState.withLock { state in
            let line = s.hasSuffix("\n") ? s : s + "\n"
            Output.write(state.progressShown ? "\r\u{1b}[K" + line : line, to: STDERR_FILENO)
            state = (ChildProcessClock.now(), false)
        }
    }
    /// A progress line that rewrites itself on a terminal (cut to the terminal's width, so it stays one line).
    static func progress(_ s: String) {
        guard stderrIsTTY else { return }
        let room = max(10, width(of: STDERR_FILENO) - 1)
        let line = s.count > room ? String(s.prefix(room - 3)) + "..." : s
        stderrState.withLock { state in
            Output.write("\r\u{1b}[K" + line, to: STDERR_FILENO)
            state = (ChildProcessClock.now(), true)
        }
    }
    static func endProgress() {
        guard stderrIsTTY else { return }
        stderrState.withLock { state in
            if state.progressShown { Output.write("\r\u{1b}[K", to: STDERR_FILENO) }
            state.progressShown = false
        }
    }

    /// The width lines for `fd` wrap to: the terminal's columns when `fd` is a terminal, else `COLUMNS`, else 100.
    static func width(of fd: Int32) -> Int {
        if isatty(fd) == 1 {
            var ws = winsize()
            if cvfio_ioctl_ptr(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col >= 20 { return Int(ws.ws_col) }
        }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c >= 20 { return c }
        return ConsoleSummary.width
    }

    /// An error or notice for stderr: each of its lines wrapped at spaces to the width, the first after `head`,
    /// continuations four spaces further in than the line they continue. Words are never cut: a path longer than a
    /// line stays whole, to be copied.
    static func errMessage(_ head: String, _ message: String) {
        let width = width(of: STDERR_FILENO)
        var out: [String] = []
        for (i, line) in message.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let margin = String(line.prefix { $0 == " " })
            let indent = String(repeating: " ", count: (i == 0 ? 0 : margin.count) + 4)
            out += PlainText.wrap(
                String(line.dropFirst(margin.count)), width: width, first: (i == 0 ? head : "") + margin, rest: indent)
        }
        err(out.joined(separator: "\n"))
    }

    /// A message for stderr wrapped to its width, continuing under `indent` spaces.
    static func errWrapped(_ head: String, _ message: String, indent: Int) {
        err(TextLayout.hanging(head, message, width: width(of: STDERR_FILENO), indent: indent).joined(separator: "\n"))
    }
}

/// Monotonic seconds (shared by the progress output).
enum ChildProcessClock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
