import Foundation
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
        /// Every traceable function of the module (`available_filter_functions`).
        package var functions: [String]
        /// Those entered while tracing was on.
        package var reached: [String]
        package var notReached: [String] { functions.filter { !Set(reached).contains($0) } }
    }

    package let module: String
    package let tracefs: String
    let functions: [String]

    init(module: String, tracefs: String, functions: [String]) {
        self.module = module
        self.tracefs = tracefs
        self.functions = functions
    }

    /// The tracefs folders the kernel mounts, newest place first.
    package static let tracefsCandidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// Starts tracing the module's functions; answers why it cannot when it cannot.
    package static func start(module: String, tracefs: String? = nil) -> Swift.Result<DriverReach, ReachError> {
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
        guard let list = readAll(root + "/available_filter_functions") else {
            return .failure(ReachError("\(root)/available_filter_functions cannot be read (tracing needs root)"))
        }
        let functions = Self.functions(of: module, in: list)
        guard !functions.isEmpty else {
            let lines = list.split(separator: "\n")
            var modules: [String] = []
            for line in lines {
                guard let open = line.lastIndex(of: "["), line.hasSuffix("]") else { continue }
                let name = String(line[line.index(after: open)..<line.index(before: line.endIndex)])
                if !modules.contains(name) { modules.append(name) }
            }
            let listed = modules.isEmpty ? "no module's" : "modules " + modules.prefix(8).joined(separator: ", ")
            return .failure(
                ReachError(
                    "no traceable function of module \(module) among the \(lines.count) in "
                        + "\(root)/available_filter_functions (it lists \(listed)); is it loaded, and built with ftrace?"
                ))
        }
        let reach = DriverReach(module: module, tracefs: root, functions: functions)
        for (file, text) in [
            ("tracing_on", "0"), ("current_tracer", "nop"), ("set_ftrace_filter", ":mod:\(module)"),
            ("trace", ""), ("current_tracer", "function"), ("tracing_on", "1"),
        ] {
            if let problem = reach.write(file, text) {
                reach.restore()
                return .failure(ReachError(problem))
            }
        }
        return .success(reach)
    }

    /// Stops tracing, reads what was entered, and leaves tracefs as the tracer found it (nop, no filter).
    package func finish() -> Result {
        _ = write("tracing_on", "0")
        let trace = Self.readAll(tracefs + "/trace") ?? ""
        restore()
        let known = Set(functions)
        let reached = Set(Self.entered(in: trace)).intersection(known)
        return Result(module: module, functions: functions, reached: functions.filter { reached.contains($0) })
    }

    func restore() {
        _ = write("tracing_on", "0")
        _ = write("current_tracer", "nop")
        _ = write("set_ftrace_filter", "")
        _ = write("trace", "")
    }

    /// The whole of a tracefs file. Its size reads as 0, so it is read until end of file, not by its size.
    static func readAll(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            out += buffer[0..<n]
            if out.count > 256 << 20 { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes a tracefs file (truncating it); answers the problem, or nil.
    func write(_ file: String, _ text: String) -> String? {
        let path = tracefs + "/" + file
        guard let handle = FileHandle(forWritingAtPath: path) else {
            return "\(path) cannot be opened for writing (tracing needs root)"
        }
        defer { try? handle.close() }
        do {
            try handle.truncate(atOffset: 0)
            if !text.isEmpty { try handle.write(contentsOf: Data((text + "\n").utf8)) }
        } catch {
            return "writing '\(text)' to \(path) failed: \(error)"
        }
        return nil
    }

    /// The functions of `module` in an `available_filter_functions` listing (`name [module]` lines), in order.
    static func functions(of module: String, in listing: String) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for line in listing.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[1] == "[\(module)]" else { continue }
            let name = String(parts[0])
            if seen.insert(name).inserted { out.append(name) }
        }
        return out
    }

    /// The functions entered in a function tracer's `trace` text: `  task-1 [000] ..... 1.2: name <-caller`.
    static func entered(in trace: String) -> [String] {
        trace.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), let colon = line.range(of: ": ", options: .backwards) else { return nil }
            let rest = line[colon.upperBound...]
            let name = rest.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
            return name.isEmpty ? nil : name
        }
    }
}

/// Why the driver's reach could not be traced.
package struct ReachError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}
