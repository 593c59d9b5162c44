import Foundation
import MigconformDevice
import MigconformSpec

/// Finding and loading specs for the commands: a file, or one of the specs built into the binary (`builtin:NAME`).
enum SpecLocation {
    /// The built-in spec for a protocol generation (`builtin:vfio-migration-v2.json`): the binary needs no file.
    static func defaultPath(for generation: ProtocolGeneration) -> String {
        BuiltinSpecs.scheme + BuiltinSpecs.name(forGeneration: generation.rawValue)
    }

    /// The traceability matrix (`Specs/traceability.json`), looked up from the working directory, then beside the
    /// binary: it is part of the checkout, not built in.
    static var traceabilityPath: String {
        let file = "Specs/traceability.json"
        var candidates = [file]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent(file).path)
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? file
    }

    /// Loads a spec file, or a built-in spec by its `builtin:` name; problems become an exit-2 failure listing every
    /// problem with file, line and path.
    static func load(_ path: String) throws -> Spec {
        do {
            return try loadOrProblems(path)
        } catch {
            let lines = error.problems.map(\.description)
            throw ExitFailure(
                code: ExitCode.usage,
                message: "spec \(path) does not load (\(lines.count) problem\(lines.count == 1 ? "" : "s")):\n"
                    + lines.joined(separator: "\n"))
        }
    }

    /// The same, with the loader's problems as they are.
    static func loadOrProblems(_ path: String) throws(SpecLoadError) -> Spec {
        BuiltinSpecs.isBuiltin(path) ? try BuiltinSpecs.load(path) : try SpecLoader.load(path: path)
    }
}
