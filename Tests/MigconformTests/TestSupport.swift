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
    /// The built command-line binary, when it is there: beside the tests' own executable (the build folder the
    /// tests were built in, whatever its scratch path), or in `.build`.
    static var binary: URL? {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("migconform")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
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

    /// Runs a spec against a device and returns the report. A plain reference device (v2) brings its own peers, as
    /// `migconform run` opens them for a `ref:v2` target: another of the same configuration, and a foreign one of
    /// another state size (`ownPeers: false` runs it alone: its peer rules are then not run).
    static func run(
        _ spec: Spec, _ device: MigrationDevice, target: String = "test",
        options: ExpansionOptions = ExpansionOptions(),
        ownPeers: Bool = true
    ) throws -> RunReport {
        var peer: (target: String, device: MigrationDevice)?
        var foreign: (target: String, device: MigrationDevice)?
        if ownPeers, let reference = device as? ReferenceDeviceV2, type(of: reference) == ReferenceDeviceV2.self {
            let config = reference.configuration
            var other = config
            other.stateSize = config.stateSize == 3 * 4096 ? 2 * 4096 : 3 * 4096
            peer = (target, ReferenceDeviceV2(config))
            foreign = ("ref:v2?state-size=\(other.stateSize)", ReferenceDeviceV2(other))
        }
        return try Runner(
            spec: spec, device: device, options: RunOptions(target: target, expansion: options), peer: peer,
            foreign: foreign, openedByRun: peer == nil ? [] : ["peer", "foreign"]
        ).run()
    }

    /// A device run alone (no peer given): conformant but for the two-device rules, which it did not run
    /// (``NotRunReason/noPeer``). A peer cannot be opened for every device under test (an adapter, a test double).
    static func conformantAlone(_ r: RunReport) -> Bool {
        r.summary.verdict == .conformant
            || (r.summary.verdict == .incomplete && r.summary.mustNotRun?.keys.allSatisfy { $0 == "no-peer" } == true)
    }

    /// The cases that ran or were meant to (those a run without a peer did not run left out).
    static func givenDevices(_ cases: [CaseResult]) -> [CaseResult] { cases.filter { $0.notRun != .noPeer } }

    /// Runs a command and returns its exit status and output.
    /// `text` with every run of whitespace made one space: a message compared by its words, wherever the terminal's
    /// width wrapped it.
    static func words(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

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
