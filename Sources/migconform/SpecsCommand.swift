import Foundation
import MigconformReport
import MigconformSpec

/// `migconform specs`: the specs built into the binary; `--write DIR` writes them out as files.
enum SpecsCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let write = Option(
            "--write", "DIR",
            help: "Write each built-in spec to DIR/<name> (the folder is created).")
    }

    static let discussion = """
        The shipped specs (Specs/vfio-migration-v2.json and -v1.json of the source tree) are compiled into the \
        binary: run, list, plan, explore and faults use them when no --spec is given, and a report names one as \
        builtin:<name>. A file given with --spec always wins. Write them out to read them, change them, or check \
        them with 'migconform check-spec'.
        """

    static let configuration = CommandConfiguration(
        name: "specs", abstract: "List the specs built into the binary, or write them out (--write DIR).",
        usage: "migconform specs [--write DIR]", discussion: discussion,
        options: [Key.write])

    static func run(_ a: ParsedArguments) throws -> Int32 {
        if let dir = a[Key.write] {
            let folder = URL(fileURLWithPath: dir, isDirectory: true)
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
                throw ReportWriteError(path: dir, message: "cannot create the folder: \(error.localizedDescription)")
            }
            for f in BuiltinSpecs.all {
                let url = folder.appendingPathComponent(f.name)
                try ReportWriter.writeAtomically(Data(f.bytes), to: url)
                Terminal.out(url.path)
            }
            return ExitCode.ok
        }
        for f in BuiltinSpecs.all {
            let spec = try SpecLocation.load(f.path)
            Terminal.out("\(f.path)  \(spec.id) \(spec.version), \(spec.generation), \(spec.rules.count) rules")
            for line in TextLayout.hanging("    ", spec.title, width: HelpText.width) { Terminal.out(line) }
            Terminal.out("    sha256 \(spec.sha256)")
        }
        return ExitCode.ok
    }
}
