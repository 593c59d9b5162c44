import Foundation
import MigconformSpec
import Testing

/// One self-contained binary: the shipped specs are compiled in, and the binary runs alone in an empty folder.
struct SelfContainedTests {
    static let regenerate = "run 'sh scripts/embed-specs.sh' and commit Sources/MigconformSpec/BuiltinSpecData.swift"

    @Test func theEmbeddedSpecsEqualSpecsByteForByte() throws {
        let folder = TestSupport.root.appendingPathComponent("Specs")
        let shipped = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix("vfio-migration-") && $0.hasSuffix(".json") }.sorted()
        #expect(
            shipped == BuiltinSpecs.all.map(\.name),
            "Specs/ has \(shipped), the binary has \(BuiltinSpecs.all.map(\.name)): \(Self.regenerate)")
        for name in shipped {
            let file = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
            let embedded = BuiltinSpecs.file(name)?.bytes ?? []
            let firstDifference =
                zip(file, embedded).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(file.count, embedded.count)
            let same = file == embedded // (not the arrays themselves: the failure would print every byte)
            #expect(
                same,
                "Specs/\(name) (\(file.count) bytes) differs from the built-in copy (\(embedded.count) bytes) from byte \(firstDifference) on: \(Self.regenerate)"
            )
        }
    }

    @Test func aBuiltinSpecLoadsUnderItsBuiltinName() throws {
        let spec = try BuiltinSpecs.load("builtin:vfio-migration-v2.json")
        #expect(spec.path == "builtin:vfio-migration-v2.json")
        #expect(spec.sha256 == TestSupport.v2.sha256)
        #expect(spec.id == TestSupport.v2.id && spec.version == TestSupport.v2.version)
        #expect(throws: SpecLoadError.self) { try BuiltinSpecs.load("builtin:vfio-migration-v9.json") }
    }

    /// The binaries to try alone: the debug build, and the release build when CI names it
    /// (MIGCONFORM_RELEASE_BINARY, set by .ci/run from scripts/build-release.sh).
    static var binaries: [URL] {
        var out: [URL] = []
        if let b = TestSupport.binary { out.append(b) }
        if let r = ProcessInfo.processInfo.environment["MIGCONFORM_RELEASE_BINARY"], !r.isEmpty {
            out.append(URL(fileURLWithPath: r))
        }
        return out
    }

    @Test(.enabled(if: TestSupport.binary != nil, "build the package first (swift build)"), arguments: binaries)
    func theBinaryCopiedAloneIntoAnEmptyFolderRuns(_ built: URL) throws {
        #expect(FileManager.default.isExecutableFile(atPath: built.path), "\(built.path) is not there")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-alone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("migconform")
        try FileManager.default.copyItem(at: built, to: binary)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["migconform"])

        let run = try TestSupport.shell(binary, ["run", "--quiet", "--target", "ref:v2", "--out", "report"], cwd: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("report/report.json")))
            as? [String: Any]
        let info = report?["run"] as? [String: Any]
        #expect(info?["specPath"] as? String == "builtin:vfio-migration-v2.json")
        #expect(info?["specSHA256"] as? String == TestSupport.v2.sha256)
        #expect(info?["specID"] as? String == TestSupport.v2.id)

        let rules = try TestSupport.shell(binary, ["list", "--rules"], cwd: dir)
        #expect(rules.status == 0, "\(rules.stderr)")
        #expect(rules.stdout.contains("V2-FEAT-GET"))

        let listed = try TestSupport.shell(binary, ["specs"], cwd: dir)
        #expect(listed.status == 0)
        #expect(
            listed.stdout.contains("builtin:vfio-migration-v2.json") && listed.stdout.contains(TestSupport.v2.sha256))
        #expect(listed.stdout.contains("builtin:vfio-migration-v1.json"))

        let written = try TestSupport.shell(binary, ["specs", "--write", "specs"], cwd: dir)
        #expect(written.status == 0, "\(written.stderr)")
        let v2 = dir.appendingPathComponent("specs/vfio-migration-v2.json")
        let v1 = dir.appendingPathComponent("specs/vfio-migration-v1.json")
        #expect(try Data(contentsOf: v2) == Data(contentsOf: URL(fileURLWithPath: TestSupport.specPath("v2"))))
        let check = try TestSupport.shell(
            binary, ["check-spec", "specs/vfio-migration-v2.json", "specs/vfio-migration-v1.json"], cwd: dir)
        #expect(check.status == 0, "\(check.stdout)")
        #expect(check.stdout.contains("specs/vfio-migration-v1.json: ok"))

        // A file given with --spec wins over the built-in one.
        var text = try String(contentsOf: v1, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "\"version\": \"\(TestSupport.v1.version)\"", with: "\"version\": \"1.0.1-local\"")
        try text.write(to: v1, atomically: true, encoding: .utf8)
        let local = try TestSupport.shell(
            binary,
            [
                "run", "--quiet", "--target", "ref:v1", "--spec", "specs/vfio-migration-v1.json",
                "--out", "report-v1",
            ], cwd: dir)
        #expect(local.status == 0, "\(local.stderr)")
        let r1 =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: dir.appendingPathComponent("report-v1/report.json"))) as? [String: Any]
        #expect((r1?["run"] as? [String: Any])?["specPath"] as? String == "specs/vfio-migration-v1.json")
        #expect((r1?["run"] as? [String: Any])?["specVersion"] as? String == "1.0.1-local")
    }
}
