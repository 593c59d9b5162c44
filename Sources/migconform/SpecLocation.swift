import Foundation
import MigconformBase
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

    /// The same, with the loader's problems as they are. A file that calls itself what a built-in spec is called
    /// (its id and version) but whose text is not that spec's is refused: a report names its spec by id and
    /// version, and would read as conformance to the shipped spec.
    static func loadOrProblems(_ path: String) throws(SpecLoadError) -> Spec {
        if BuiltinSpecs.isBuiltin(path) { return try BuiltinSpecs.load(path) }
        let spec = try SpecLoader.load(path: path)
        if BuiltinSpecs.file(sha256: spec.sha256) == nil,
            let twin = BuiltinSpecs.file(id: spec.id, version: spec.version)
        {
            let bytes = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
            let at = (try? JSONParser.parse(bytes))?.positions["$.version"]
            throw SpecLoadError(problems: [
                SpecProblem(
                    file: path, line: at?.line ?? 0, column: at?.column ?? 0, jsonPath: "$.version",
                    message: "the spec calls itself \(spec.id) \(spec.version), as the built-in \(twin.path) does, but "
                        + "its text is not that spec's: give an edited spec an id or version of its own, so that its "
                        + "reports do not read as conformance to the shipped one")
            ])
        }
        return spec
    }
}
