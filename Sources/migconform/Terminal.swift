import Foundation

/// Output conventions: results on stdout, progress and errors on stderr, color only on a terminal without NO_COLOR.
enum Terminal {
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }
    static var colorAllowed: Bool { ProcessInfo.processInfo.environment["NO_COLOR"] == nil }
    static var useColor: Bool { stdoutIsTTY && colorAllowed }

    static func out(_ s: String) { FileHandle.standardOutput.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8)) }
    static func err(_ s: String) { FileHandle.standardError.write(Data((s.hasSuffix("\n") ? s : s + "\n").utf8)) }
    /// A progress line that rewrites itself on a terminal.
    static func progress(_ s: String) {
        if stderrIsTTY { FileHandle.standardError.write(Data(("\r\u{1b}[K" + s).utf8)) }
    }
    static func endProgress() { if stderrIsTTY { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) } }
}
