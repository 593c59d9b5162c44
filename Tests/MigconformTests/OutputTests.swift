import Foundation
import Testing

/// A reader that goes away (`migconform run | head -3`) never traps the program: the report folder is written in
/// full, and the process ends as a program ends on a broken pipe (SIGPIPE), never with SIGILL or SIGTRAP.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct OutputTests {
    @Test(arguments: ["stdout", "stderr", "both"])
    func aClosedPipeEndsQuietlyAfterTheReport(which: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-pipe-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let p = Process()
        p.executableURL = TestSupport.binary!
        // Without the bytewise round trip (most of a run's operations): the output is the same kind either way.
        p.arguments = ["run", "--exclude", "V2-ROUND-TRIP-BYTEWISE", "--out", folder.path]
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = which == "stderr" ? FileHandle.nullDevice : out
        p.standardError = which == "stdout" ? FileHandle.nullDevice : err
        try p.run()
        // The reading ends close at once: every write of the child meets a closed pipe.
        try out.fileHandleForReading.close()
        try err.fileHandleForReading.close()
        p.waitUntilExit()
        #expect(
            p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGPIPE,
            "ended with \(p.terminationReason == .exit ? "exit" : "signal") \(p.terminationStatus)")
        for file in ["report.json", "report.md", "junit.xml", "report.tap"] {
            let size =
                (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(file).path)[.size]
                    as? Int) ?? 0
            #expect(size > 0, "\(file) is missing or empty")
        }
    }

    @Test func lavaSignalsToAClosedPipeDoNotTrap() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-lava-pipe-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let p = Process()
        p.executableURL = TestSupport.binary!
        p.arguments = ["run", "--lava", "--out", folder.path]
        p.environment = ["PATH": "/nonexistent"] // no LAVA helpers: the signal lines go to stdout
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        try out.fileHandleForReading.close()
        p.waitUntilExit()
        #expect(
            p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGPIPE,
            "ended with \(p.terminationReason == .exit ? "exit" : "signal") \(p.terminationStatus)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("report.json").path))
    }

    @Test func anOpenPipeIsUntouched() throws {
        let r = try TestSupport.shell(TestSupport.binary!, ["list", "--rules"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("V2-FEAT-GET"))
    }
}
