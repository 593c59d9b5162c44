import Foundation

/// Output conventions: results on stdout, progress and errors on stderr, color only on a terminal without NO_COLOR.
enum Terminal {
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }
    static var colorAllowed: Bool { ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
    static var useColor: Bool { stdoutIsTTY && colorAllowed }

    // Through Output (write(2)): a reader that went away never traps the program.
    static func out(_ s: String) { Output.write(s.hasSuffix("\n") ? s : s + "\n", to: STDOUT_FILENO) }
    static func err(_ s: String) { Output.write(s.hasSuffix("\n") ? s : s + "\n", to: STDERR_FILENO) }
    /// A progress line that rewrites itself on a terminal.
    static func progress(_ s: String) {
        if stderrIsTTY { Output.write("\r\u{1b}[K" + s, to: STDERR_FILENO) }
    }
    static func endProgress() { if stderrIsTTY { Output.write("\r\u{1b}[K", to: STDERR_FILENO) } }
}
