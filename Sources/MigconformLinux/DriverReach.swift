import Foundation
import MigconformBase
import MigconformDevice

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which functions of a kernel module a run entered: the function tracer of tracefs, filtered to the module
/// (`set_ftrace_filter` `:mod:NAME`), on from ``start(module:tracefs:)`` to ``finish()``. Needs root and tracefs;
/// when something is missing, ``start(module:tracefs:)`` says what, and the run goes on without it.
package final class DriverReach {
    /// What a traced run found.
    package struct Result: Sendable, Equatable {
        package var module: String
        /// Every traceable function of the module (as `set_ftrace_filter` or `available_filter_functions` name them).
        package var functions: [String]
        /// Those entered while tracing was on.
        package var reached: [String]
        package var notReached: [String] {
            let reached = Set(self.reached)
            return functions.filter { !reached.contains($0) }
        }
    }

    package let module: String
    package let tracefs: String
    private(set) var functions: [String]

    init(module: String, tracefs: String, functions: [String]) {
        self.module = module
        self.tracefs = tracefs
        self.functions = functions
    }

    /// The tracefs folders the kernel mounts, newest place first.
    package static let tracefsCandidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// Starts tracing the module's functions; answers why it cannot when it cannot.
    ///
    /// Nothing in tracefs is touched before the module is known to be loaded (`/sys/module/NAME`). Its functions
    /// are then read back from `set_ftrace_filter` once the `:mod:NAME` filter is set: a few dozen lines, where
    /// `available_filter_functions` lists every function of the kernel (tens of thousands, which a slow machine
    /// takes a second to print and parse). The full listing is read only when the read-back names none: to find
    /// them there after all, or to say what went wrong. Every failure after the first write leaves tracefs as
    /// ``restore()`` does (tracing off, the nop tracer, no filter, an empty buffer).
    package static func start(
        module: String, tracefs: String? = nil, modules: String = "/sys/module"
    ) -> Swift.Result<DriverReach, ReachError> {
        guard
            let root = tracefs
                ?? tracefsCandidates.first(where: {
                    FileManager.default.fileExists(atPath: $0 + "/available_filter_functions")
                })
        else {
            return .failure(
                ReachError(
                    "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing; the kernel needs CONFIG_FUNCTION_TRACER)"
                ))
        }
        guard FileManager.default.fileExists(atPath: root + "/set_ftrace_filter") else {
            return .failure(
                ReachError(
                    "\(root)/set_ftrace_filter does not exist (is tracefs mounted there, with the function tracer?)"))
        }
        guard FileManager.default.fileExists(atPath: modules + "/" + module) else {
            return .failure(ReachError("module \(module) is not loaded (no \(modules)/\(module))"))
        }
        let reach = DriverReach(module: module, tracefs: root, functions: [])
        func failed(_ problem: ReachError) -> Swift.Result<DriverReach, ReachError> {
            reach.restore()
            return .failure(problem)
        }
        // A filter no loaded function matches is kept by the kernel for a module loaded later, and reads back
        // as the command itself rather than as functions: either way the read-back names none.
        if let problem = reach.write("set_ftrace_filter", ":mod:\(module)") { return failed(ReachError(problem)) }
        var functions = Self.functions(of: module, in: readAll(root + "/set_ftrace_filter") ?? "")
        if functions.isEmpty {
            guard let list = readAll(root + "/available_filter_functions") else {
                return failed(ReachError("\(root)/available_filter_functions cannot be read (tracing needs root)"))
            }
            functions = Self.functions(of: module, in: list)
            guard !functions.isEmpty else { return failed(noFunctions(of: module, in: list, root: root)) }
        }
        reach.functions = functions
        for (file, text) in [
            ("tracing_on", "0"), ("current_tracer", "nop"), ("trace", ""), ("current_tracer", "function"),
            ("tracing_on", "1"),
        ] {
            if let problem = reach.write(file, text) { return failed(ReachError(problem)) }
        }
        return .success(reach)
    }

    /// Why no function of `module` can be traced: the modules the listing does name.
    static func noFunctions(of module: String, in list: String, root: String) -> ReachError {
        let lines = list.split(separator: "\n")
        var modules: [String] = []
        for line in lines {
            guard let open = line.lastIndex(of: "["), line.hasSuffix("]") else { continue }
            let name = String(line[line.index(after: open)..<line.index(before: line.endIndex)])
            if !modules.contains(name) { modules.append(name) }
        }
        let listed = modules.isEmpty ? "no module's" : "modules " + modules.prefix(8).joined(separator: ", ")
        return ReachError(
            "no traceable function of module \(module) among the \(lines.count) in "
                + "\(root)/available_filter_functions (it lists \(listed)); is it loaded, and built with ftrace?")
    }

    /// Stops tracing, reads what was entered, and leaves tracefs as the tracer found it (nop, no filter).
    package func finish() -> Result {
        _ = write("tracing_on", "0")
        let trace = Self.readAll(tracefs + "/trace") ?? ""
        restore()
        let reached = Set(Self.entered(in: trace))
        return Result(module: module, functions: functions, reached: functions.filter { reached.contains($0) })
    }

    func restore() {
        _ = write("tracing_on", "0")
        _ = write("current_tracer", "nop")
        _ = write("set_ftrace_filter", "")
        _ = write("trace", "")
    }

    /// The whole of a tracefs file (read to its end: its size reads as 0).
    static func readAll(_ path: String) -> String? {
        PseudoFile.contents(of: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes a tracefs file, opened with `O_TRUNC`: tracefs clears a filter or the trace buffer only when the file
    /// is opened that way (`ftruncate` does nothing there). Empty `text` writes nothing, which is how a filter or
    /// the buffer is cleared. Answers the problem, or nil.
    func write(_ file: String, _ text: String) -> String? {
        let path = tracefs + "/" + file
        let fd = open(path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else {
            let e = errno
            return "\(path) cannot be opened for writing: \(String(cString: strerror(e)))"
                + (e == EACCES || e == EPERM ? " (tracing needs root)" : "")
        }
        defer { close(fd) }
        guard !text.isEmpty else { return nil }
        let line = Array((text + "\n").utf8)
        let n = line.withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
        guard n == line.count else {
            let why = n < 0 ? String(cString: strerror(errno)) : "short write"
            return "writing '\(text)' to \(path) failed: \(why)"
        }
        return nil
    }

    /// The functions of `module` in an `available_filter_functions` or `set_ftrace_filter` listing
    /// (`name [module]` lines), in order, each once.
    static func functions(of module: String, in listing: String) -> [String] {
        let suffix = Array(" [\(module)]".utf8)
        var seen = Set<String>()
        var out: [String] = []
        forEachLine(of: listing) { line in
            // `name [module]`, nothing after the bracket
            guard line.count > suffix.count, line.suffix(suffix.count).elementsEqual(suffix) else { return }
            let name = line.prefix(line.count - suffix.count)
            guard !name.isEmpty, !name.contains(0x20) else { return }
            let text = String(decoding: name, as: UTF8.self)
            if seen.insert(text).inserted { out.append(text) }
        }
        return out
    }

    /// The functions entered in a function tracer's `trace` text: `  task-1 [000] ..... 1.2: name <-caller`, each
    /// line's name after its last `": "`. A busy run traces thousands of lines, so they are read as bytes.
    static func entered(in trace: String) -> [String] {
        var out: [String] = []
        forEachLine(of: trace) { line in
            guard line.first != 0x23 else { return } // `#` comments
            var i = line.endIndex - 1
            while i > line.startIndex, !(line[i - 1] == 0x3A && line[i] == 0x20) { i -= 1 }
            guard i > line.startIndex else { return }
            let rest = line[(i + 1)...]
            let name = rest.prefix { $0 != 0x20 }
            if !name.isEmpty { out.append(String(decoding: name, as: UTF8.self)) }
        }
        return out
    }

    /// Calls `body` with each non-empty line of `text`, as bytes without the newline.
    private static func forEachLine(of text: String, _ body: (ArraySlice<UInt8>) -> Void) {
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            if end > start { body(bytes[start..<end]) }
            start = end + 1
        }
    }
}

/// Why the driver's reach could not be traced.
package struct ReachError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// write(2), named apart from ``DriverReach/write(_:_:)``.
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { write(fd, p, n) }
