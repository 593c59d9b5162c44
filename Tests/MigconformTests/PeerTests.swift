import Foundation
import MigconformDevice
import MigconformReference
import MigconformReport
import MigconformRun
import MigconformSpec
import Testing

@Suite("Two devices: a peer of the same kind and a foreign one")
struct PeerTests {
    static let peerRules = ["V2-PEER-RESUME", "V2-PEER-TWO-DEVICE-ORDER", "V2-PEER-FOREIGN-REFUSED"]

    func run(_ device: MigrationDevice, peer: MigrationDevice?, foreign: MigrationDevice?) throws -> RunReport {
        try Runner(
            spec: TestSupport.v2, device: device, options: RunOptions(target: "test"),
            peer: peer.map { ("ref:v2", $0) }, foreign: foreign.map { ("ref:v2?state-size=12KiB", $0) }
        ).run()
    }

    @Test func theReferenceResumesOnAPeerAndRefusesAForeignStream() throws {
        let report = try run(
            ReferenceDeviceV2(), peer: ReferenceDeviceV2(),
            foreign: ReferenceDeviceV2(.init(stateSize: 3 * 4096)))
        #expect(report.summary.conformant)
        let peer = report.cases.filter { Self.peerRules.contains($0.ruleID) }
        #expect(peer.count == 3)
        #expect(peer.allSatisfy { $0.verdict == .pass }, "\(peer.map { "\($0.id) \($0.verdict) \($0.message)" })")
        #expect(report.run.peers?.map(\.role) == ["peer", "foreign"])
        #expect(report.run.features.contains("peer") && report.run.features.contains("foreign-peer"))
        // The peer's operations are in the case's transcript, marked as the peer's.
        let order = try #require(report.cases.first { $0.ruleID == "V2-PEER-TWO-DEVICE-ORDER" })
        let lines = order.transcript.map { TranscriptFormatter.operation($0.operation) }
        #expect(lines.contains("peer: set-state RUNNING_P2P"))
        #expect(lines.contains("set-state RUNNING_P2P"))
        let foreign = try #require(report.cases.first { $0.ruleID == "V2-PEER-FOREIGN-REFUSED" })
        #expect(foreign.transcript.contains { TranscriptFormatter.operation($0.operation).hasPrefix("foreign: read") })
    }

    @Test func withoutPeersTheRulesAreNotApplicableAndSayWhy() throws {
        let report = try run(ReferenceDeviceV2(), peer: nil, foreign: nil)
        #expect(report.summary.conformant)
        let peer = report.cases.filter { Self.peerRules.contains($0.ruleID) }
        #expect(peer.allSatisfy { $0.verdict == .notApplicable })
        #expect(peer.first { $0.ruleID == "V2-PEER-RESUME" }?.message.contains("--peer TARGET") ?? false)
        #expect(
            peer.first { $0.ruleID == "V2-PEER-FOREIGN-REFUSED" }?.message.contains("--foreign-peer TARGET") ?? false)
        #expect(report.run.peers == nil)
    }

    @Test func aDriverThatBlocksItsSiblingIsCaughtByTheTwoDeviceOrderOnly() throws {
        let (a, b) = FaultCatalogue.entry(named: "p2p-blocked-by-sibling")!.makePair()
        let report = try run(a, peer: b, foreign: nil)
        let failed = Set(report.cases.filter { $0.verdict == .fail }.map(\.ruleID))
        #expect(failed == ["V2-PEER-TWO-DEVICE-ORDER"])
        let c = try #require(report.cases.first { $0.ruleID == "V2-PEER-TWO-DEVICE-ORDER" })
        #expect(c.actual?.contains("EBUSY") ?? false, "\(c.actual ?? "")")
    }

    @Test func aDeviceThatLoadsAnyStreamIsWarned() throws {
        let device = FaultCatalogue.entry(named: "loads-foreign-stream")!.makeDevice()
        let report = try run(device, peer: nil, foreign: ReferenceDeviceV2(.init(stateSize: 3 * 4096)))
        #expect(report.cases.first { $0.ruleID == "V2-PEER-FOREIGN-REFUSED" }?.verdict == .warn)
    }

    @Test func thePeersSurviveTheReportFileAndAMerge() throws {
        let reports = try (1...2).map { i -> RunReport in
            var options = RunOptions(target: "ref:v2")
            options.shard = ShardInfo(index: i, count: 2)
            return try Runner(
                spec: TestSupport.v2, device: ReferenceDeviceV2(), options: options,
                peer: ("ref:v2", ReferenceDeviceV2())
            ).run()
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try ReportWriter.write(reports[0], to: folder)
        let back = try ReportReader.load(folder.path)
        #expect(back.run.peers == reports[0].run.peers)
        let c = try #require(back.cases.first { $0.ruleID == "V2-PEER-RESUME" })
        #expect(
            c.transcript.contains {
                if case .onPeer(.setState) = $0.operation { return true }
                return false
            })
        let merged = try ReportMerge.merge(reports)
        #expect(merged.run.peers?.first?.target == "ref:v2")
        let diff = ReportDiff.compare(merged, try run(ReferenceDeviceV2(), peer: nil, foreign: nil))
        #expect(diff.notes.contains { $0.contains("different peer devices") })
    }
}
