import Foundation
import MigconformDevice
import MigconformExplore
import MigconformReference
import MigconformReport
import MigconformRun
import MigconformSpec
import Testing

/// Model-based exploration: the reference device never breaks the model; sequence faults are found by seeded
/// random walks and shrunk to a few steps.
@Suite struct ExploreTests {
    static let full: Set<String> = ["stop-copy", "p2p", "pre-copy", "data-size"]

    func explorer(
        _ device: MigrationDevice, features: Set<String> = full, fresh: (() -> MigrationDevice)? = nil
    ) -> Explorer {
        let e = Explorer(
            machine: Machine(spec: TestSupport.v2, features: features), device: RecordingDevice(device),
            allowForbidden: true)
        e.freshDevice = fresh
        return e
    }

    @Test func depthThreeFindsNothingOnTheReferenceDevice() throws {
        let e = explorer(ReferenceDeviceV2())
        let findings = try e.exhaustive(depth: 3)
        #expect(findings.isEmpty, "\(findings.map { "\($0.violation)" })")
        #expect(e.stats.sequences > 100)
        #expect(e.stats.distinctModelStates >= 10)
    }

    @Test(arguments: [["stop-copy"], ["stop-copy", "p2p"], ["stop-copy", "pre-copy"]])
    func randomWalksFindNothingOnOtherProfiles(_ features: [String]) throws {
        let device = ReferenceDeviceV2(.init(flags: TestSupport.flags(features)))
        let findings = try explorer(device, features: Set(features + ["data-size"])).randomWalks(
            walks: 40, steps: 12, seed: 7)
        #expect(findings.isEmpty, "\(findings.map { "\($0.violation)" })")
    }

    @Test(arguments: [V2Fault.failsAfterAbandonedPreCopy, .breaksAfterFailedResumeAndReset])
    func randomWalksFindAndShrinkSequenceFaults(_ fault: V2Fault) throws {
        let e = explorer(FaultyDeviceV2(fault), fresh: { FaultyDeviceV2(fault) })
        let findings = try e.randomWalks(walks: 300, steps: 16, seed: 2026).filter {
            !$0.origin.contains("not reproducible")
        }
        let finding = try #require(findings.first, "\(fault.rawValue) not found")
        // The minimal sequence fails on a brand-new faulty device by itself.
        let fresh = ModelChecker(
            machine: Machine(spec: TestSupport.v2, features: Self.full), device: RecordingDevice(FaultyDeviceV2(fault)))
        fresh.savedStream = try captured()
        #expect(try fresh.run(finding.minimal)?.kind == finding.violation.kind, "\(finding.minimal)")
        #expect(finding.minimal.count <= 6, "\(finding.minimal)")
        #expect(finding.originalLength >= finding.minimal.count)
        // The minimal sequence still fails on the faulty device and passes on the reference.
        let checker = ModelChecker(
            machine: Machine(spec: TestSupport.v2, features: Self.full), device: RecordingDevice(ReferenceDeviceV2()))
        checker.savedStream = try captured()
        #expect(try checker.run(finding.minimal) == nil, "the reference device fails the minimal sequence too")
        let results = try e.results([finding])
        #expect(results.first?.verdict == .fail)
        #expect(results.first?.message.contains("shrunk to") == true)
    }

    @Test func singleCaseFaultsAreFoundByWalksToo() throws {
        for fault in [V2Fault.acceptsErrorRequest, .resetToStop, .staleFDStillReads] {
            let findings = try explorer(FaultyDeviceV2(fault)).randomWalks(walks: 200, steps: 12, seed: 11)
            #expect(!findings.isEmpty, "\(fault.rawValue) not found")
        }
    }

    func captured() throws -> [UInt8] {
        let e = explorer(ReferenceDeviceV2())
        _ = try e.exhaustive(depth: 0)
        let m = ModelChecker(
            machine: Machine(spec: TestSupport.v2, features: Self.full), device: RecordingDevice(ReferenceDeviceV2()))
        _ = try m.run([.set("STOP_COPY"), .drain])
        return m.savedStream ?? []
    }
}

/// `explore` and `replay` through the command line.
@Suite(.enabled(if: TestSupport.binary != nil, "the migconform binary is not built"))
struct ReplayTests {
    func temp() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID())").path }

    @Test func aFaultsFailedCaseFailsAgainOnTheFaultAndPassesOnTheReference() throws {
        let out = temp()
        let run = try TestSupport.shell(
            TestSupport.binary!, ["run", "--quiet", "--target", "fault:missing-arc", "--out", out])
        #expect(run.status == 1)
        let id = "V2-ARC-STATE[STOP->RUNNING_P2P]"
        let again = try TestSupport.shell(TestSupport.binary!, ["replay", out, id])
        #expect(again.status == 1 && again.stdout.hasSuffix("reproduced\n"), "\(again.stdout)\(again.stderr)")
        #expect(!again.stderr.contains("note:"), "a faithful replay warns of nothing: \(again.stderr)")
        let fixed = try TestSupport.shell(TestSupport.binary!, ["replay", out, id, "--target", "ref:v2"])
        #expect(fixed.status == 0 && fixed.stdout.contains("did not reproduce"), "\(fixed.stdout)\(fixed.stderr)")
    }

    @Test func anExploredSequenceReplays() throws {
        let out = temp()
        let found = try TestSupport.shell(
            TestSupport.binary!,
            [
                "explore", "--target", "fault:breaks-after-failed-resume-and-reset",
                "--walks", "300", "--steps", "16", "--seed", "2026", "--out", out,
            ])
        #expect(found.status == 1, "\(found.stdout)")
        let report = try MigconformReport.ReportReader.load(out)
        let id = try #require(report.cases.first?.id)
        let again = try TestSupport.shell(TestSupport.binary!, ["replay", out, id])
        #expect(again.status == 1, "\(again.stdout)")
        let fixed = try TestSupport.shell(TestSupport.binary!, ["replay", out, id, "--target", "ref:v2"])
        #expect(fixed.status == 0, "\(fixed.stdout)")
        let depth = try TestSupport.shell(TestSupport.binary!, ["explore", "--depth", "3"])
        #expect(depth.status == 0 && depth.stdout.contains("0 finding(s)"), "\(depth.stdout)")
    }
}
