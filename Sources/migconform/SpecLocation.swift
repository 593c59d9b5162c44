import Foundation
import MigconformDevice
import MigconformSpec

/// Finding and loading spec files for the commands.
enum SpecLocation {
    /// The shipped spec for a protocol generation, looked up from the working directory, then beside the binary.
    static func defaultPath(for generation: ProtocolGeneration) -> String {
        shippedPath("Specs/vfio-migration-\(generation.rawValue).json")
    }

    /// The traceability matrix shipped beside the specs.
    static var traceabilityPath: String { shippedPath("Specs/traceability.json") }

    /// A file of the checkout, looked up from the working directory, then beside the binary.
    static func shippedPath(_ file: String) -> String {
        var candidates = [file]
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var dir = exe
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent(file).path)
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? file
    }

    /// Loads a spec; problems become an exit-2 failure listing every problem with file, line and path.
    static func load(_ path: String) throws -> Spec {
        do {
            return try SpecLoader.load(path: path)
        } catch {
            let lines = error.problems.map(\.description)
            throw ExitFailure(code: ExitCode.usage, message: "spec \(path) does not load (\(lines.count) problem\(lines.count == 1 ? "" : "s")):\n" + lines.joined(separator: "\n"))
        }
    }
}
