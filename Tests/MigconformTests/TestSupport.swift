import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSpec

/// Paths and helpers shared by the tests.
enum TestSupport {
    /// The package root, found from this file's path.
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func specPath(_ generation: String) -> String {
        root.appendingPathComponent("Specs/vfio-migration-\(generation).json").path
    }
    static let v2 = try! SpecLoader.load(path: specPath("v2"))
    static let v1 = try! SpecLoader.load(path: specPath("v1"))
    /// The shared reference folder beside the checkout, when it is there.
    static let sharedReference = root.deletingLastPathComponent().appendingPathComponent("shared/reference")
    /// The built command-line binary, when it is there.
    static var binary: URL? {
        for candidate in [".build/debug/migconform", ".build/release/migconform"] {
            let url = root.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    static func flags(_ names: [String]) -> MigrationFlags {
        var f: MigrationFlags = []
        for n in names {
            switch n {
            case "stop-copy": f.insert(.stopCopy)
            case "p2p": f.insert(.p2p)
            case "pre-copy": f.insert(.preCopy)
            default: break
            }
        }
        return f
    }

    /// Runs a spec against a device and returns the report.
    static func run(
        _ spec: Spec, _ device: MigrationDevice, target: String = "test", options: ExpansionOptions = ExpansionOptions()
    ) throws -> RunReport {
        try Runner(spec: spec, device: device, options: RunOptions(target: target, expansion: options)).run()
    }

    /// Runs a command and returns its exit status and output.
    static func shell(
        _ executable: URL, _ args: [String], cwd: URL = root
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.currentDirectoryURL = cwd
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
