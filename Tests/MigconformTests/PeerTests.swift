import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSpec
import Testing

@testable import MigconformReport

@Suite("Two devices: a peer of the same kind and a foreign one")
struct PeerTests {
    static let peerRules = ["V2-PEER-RESUME", "V2-PEER-TWO-DEVICE-ORDER", "V2-PEER-FOREIGN-REFUSED"]

    func run(_ device: MigrationDevice, peer: MigrationDevice?, foreign: MigrationDevice?) throws -> RunReport {
        try Runner(
            spec: TestSupport.v2, device: device, options: RunOptions(target: "test"),
            peer: peer.map { ("ref:v2", $0) }, foreign: foreign.map { ("ref:v2?state-size=12KiB", $0) }
        ).run()
    }

    @Test func thePeersFDsAreNotTheDeviceUnderTestsToCloseAtTheEnd() throws {
        // Cases that fail half way leave the peers' sessions to their own cleanup; the run's closes only the
        // device's own fds, never a number that names a peer's file.
        let (a, b) = try #require(FaultCatalogue.entry(named: "missing-arc")).makePair()
        let report = try run(a, peer: b, foreign: ReferenceDeviceV2(.init(stateSize: 3 * 4096)))
        #expect(report.cases.contains { $0.verdict == .fail })
        #expect(report.run.cleanup?.problems == [], "\(report.run.cleanup?.problems ?? [])")
        #expect(report.run.cleanup?.restored == true)
    }

    @Test func aPeersLargeStreamIsReadAndWrittenLikeTheDevicesOwn() throws {
        // 2 MiB states: over the 1 MiB from which a transfer is one summary entry.
        let size: UInt64 = 2 << 20
        let report = try run(
            ReferenceDeviceV2(.init(stateSize: size)), peer: ReferenceDeviceV2(.init(stateSize: size)),
            foreign: ReferenceDeviceV2(.init(stateSize: 3 * 4096)))
        for id in ["V2-PEER-RESUME", "V2-PEER-TWO-DEVICE-ORDER"] {
            let c = try #require(report.cases.first { $0.id == id })
            #expect(c.verdict == .pass, "\(id): \(c.message)")
            // No bulk data in the transcript: a peer's writes keep 16 bytes, its transfers are summaries.
            #expect(c.transcript.count < 60, "\(id): \(c.transcript.count) entries")
            for e in c.transcript {
                if case .onPeer(.write(_, let bytes)) = e.operation { #expect(bytes.count <= 64) }
                if case .bytes(let b)? = e.outcome { #expect(b.count <= 64) }
            }
            #expect(
                c.transcript.contains {
                    guard case .onPeer = $0.operation else { return false }
                    return ($0.byteCount ?? 0) > 1 << 20 && ($0.data ?? "").contains("checksum")
                })
        }
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

    @Test func withoutPeersTheRulesAreNotRunSayWhichOptionIsMissingAndTheRunIsIncomplete() throws {
        let report = try run(ReferenceDeviceV2(), peer: nil, foreign: nil)
        let peer = report.cases.filter { Self.peerRules.contains($0.ruleID) }
        #expect(peer.count == 3)
        #expect(peer.allSatisfy { $0.verdict == .skipped && $0.notRun == .noPeer }, "\(peer.map(\.message))")
        #expect(peer.first { $0.ruleID == "V2-PEER-RESUME" }?.message.contains("--peer TARGET") ?? false)
        #expect(
            peer.first { $0.ruleID == "V2-PEER-FOREIGN-REFUSED" }?.message.contains("--foreign-peer TARGET") ?? false)
        // The two MUST rules did not run: the device was not shown to migrate to a peer. The SHOULD rule does not
        // count.
        #expect(report.summary.verdict == .incomplete)
        #expect(report.summary.mustNotRun == [NotRunReason.noPeer.rawValue: 2])
        #expect(ReportFacts.notRun(report)?.contains("2 no-peer") ?? false)
        #expect(report.run.peers == nil)
        // The reason survives a report written before `notRun` was, read back from its message alone.
        #expect(peer.allSatisfy { NotRunReason(skipMessage: $0.message) == .noPeer })
    }

    @Test func onlyTheMissingDeviceIsNotRunAndAnUnadvertisedFeatureStaysNotApplicable() throws {
        // A peer but no foreign device: the SHOULD rule is not run, which leaves the run conformant.
        let report = try run(ReferenceDeviceV2(), peer: ReferenceDeviceV2(), foreign: nil)
        #expect(report.summary.verdict == .conformant)
        let foreign = try #require(report.cases.first { $0.ruleID == "V2-PEER-FOREIGN-REFUSED" })
        #expect(foreign.verdict == .skipped && foreign.notRun == .noPeer)
        // Without P2P the two-device order does not apply, peer or not: NOT_APPLICABLE names the feature.
        let noP2P = try run(ReferenceDeviceV2(.init(flags: [.stopCopy])), peer: nil, foreign: nil)
        let order = try #require(noP2P.cases.first { $0.ruleID == "V2-PEER-TWO-DEVICE-ORDER" })
        #expect(order.verdict == .notApplicable && order.message.contains("p2p"), "\(order.message)")
        #expect(noP2P.summary.mustNotRun == [NotRunReason.noPeer.rawValue: 1])
    }

    @Test func aCaseLeftOutByAFilterIsNotSelectedEvenWithoutAPeer() throws {
        let report = try Runner(
            spec: TestSupport.v2, device: ReferenceDeviceV2(),
            options: RunOptions(target: "test", expansion: ExpansionOptions(exclude: ["V2-PEER-RESUME"]))
        ).run()
        #expect(report.cases.first { $0.ruleID == "V2-PEER-RESUME" }?.notRun == .notSelected)
        #expect(report.cases.first { $0.ruleID == "V2-PEER-TWO-DEVICE-ORDER" }?.notRun == .noPeer)
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

    /// A fault that shows only with a second device is caught by `migconform run` alone: the built-in target
    /// brings its own peers, and the report says the run opened them.
    @Test(.enabled(if: TestSupport.binary != nil, "build the package first: the migconform binary is not there"))
    func theCommandOpensItsOwnPeersForBuiltInTargets() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("own-peers-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (target, rule) in [
            ("fault:resumes-only-own-stream", "V2-PEER-RESUME"),
            ("fault:p2p-blocked-by-sibling", "V2-PEER-TWO-DEVICE-ORDER"),
            ("ref:v2", nil),
        ] {
            let out = folder.appendingPathComponent(target.replacingOccurrences(of: ":", with: "-"))
            let r = try TestSupport.shell(
                TestSupport.binary!, ["run", "--target", target, "--out", out.path, "--quiet"])
            let report = try ReportReader.load(out.path)
            #expect(r.status == (rule == nil ? 0 : 1), "\(target): \(r.stdout)\(r.stderr)")
            #expect(r.stdout.hasPrefix(rule == nil ? "CONFORMANT" : "NOT CONFORMANT"), "\(target): \(r.stdout)")
            let peers = try #require(report.run.peers)
            #expect(peers.map(\.role) == ["peer", "foreign"])
            #expect(peers.map(\.target) == [target, "ref:v2?state-size=12KiB"])
            #expect(peers.allSatisfy { $0.openedByRun == true })
            let cases = report.cases.filter { Self.peerRules.contains($0.ruleID) }
            if let rule {
                #expect(cases.first { $0.ruleID == rule }?.verdict == .fail, "\(target)")
            } else {
                #expect(cases.allSatisfy { $0.verdict == .pass }, "\(cases.map { "\($0.id) \($0.verdict)" })")
            }
        }
        // A given peer is the run's, not opened by it; the foreign device still is, of another size than 12 KiB.
        let out = folder.appendingPathComponent("given")
        let r = try TestSupport.shell(
            TestSupport.binary!,
            ["run", "--target", "ref:v2?state-size=12KiB", "--peer", "ref:v2?state-size=12KiB", "--out", out.path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let peers = try ReportReader.load(out.path).run.peers
        #expect(peers?.map(\.openedByRun) == [nil, true])
        #expect(peers?.last?.target == "ref:v2?state-size=8KiB")
    }

    /// `list` and `plan` expand the two-device rules as `run` would run them: a built-in target brings its own
    /// peers, an adapter target has none unless they are given.
    @Test(.enabled(if: TestSupport.binary != nil, "build the package first: the migconform binary is not there"))
    func listAndPlanExpandThePeerRulesAsTheRunWould() throws {
        let adapter = "exec:\(TestSupport.binary!.path) adapter --target ref:v2"
        func peerLines(_ args: [String]) throws -> [String] {
            let r = try TestSupport.shell(TestSupport.binary!, args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            return lines.enumerated().filter { Self.peerRules.contains(where: $0.element.hasPrefix) }.map {
                // A long note continues on the next line.
                $0.element + (lines.indices.contains($0.offset + 1) ? " " + lines[$0.offset + 1] : "")
            }
        }
        let own = try peerLines(["list", "--target", "ref:v2"])
        #expect(own.count == 3 && own.allSatisfy { !$0.contains("skipped") }, "\(own)")
        let none = try peerLines(["list", "--target", adapter])
        #expect(none.count == 3 && none.allSatisfy { $0.contains("skipped: no peer") }, "\(none)")
        let given = try peerLines(["list", "--target", adapter, "--peer", "ref:v2", "--foreign-peer", "ref:v2"])
        #expect(given.count == 3 && given.allSatisfy { !$0.contains("skipped") }, "\(given)")
        // The plan counts the same cases to run.
        func planned(_ args: [String]) throws -> String {
            let r = try TestSupport.shell(TestSupport.binary!, ["plan"] + args)
            let words = r.stdout.split(whereSeparator: \.isWhitespace)
            return words.indices.first { words[$0].hasPrefix("cases") }.map { String(words[$0 - 1]) } ?? r.stdout
        }
        let withPeers = try planned(["--target", "ref:v2"])
        #expect(withPeers == "273")
        #expect(try planned(["--target", adapter]) == "270")
        #expect(
            try planned(["--target", adapter, "--peer", "ref:v2", "--foreign-peer", "ref:v2?state-size=12KiB"])
                == withPeers)
        // The given devices are checked as run checks them.
        let refused = try TestSupport.shell(
            TestSupport.binary!, ["plan", "--target", "ref:v2", "--peer", "ref:v2?state-size=12KiB"])
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
    }

    /// A peer of another configuration would refuse the target's stream for its own reasons, and a foreign device
    /// of the same kind would take it: either would make the two-device rules blame the target. The run refuses
    /// such a command line.
    @Test(.enabled(if: TestSupport.binary != nil, "build the package first: the migconform binary is not there"))
    func aPeerOfAnotherKindOrAForeignDeviceOfTheSameKindIsRefused() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("peer-kind-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        for (args, says) in [
            (["--peer", "ref:v2?state-size=12KiB"], "(state-size 12288, not 4096)"),
            (["--peer", "ref:v2?features=stop-copy"], "(flags 1, not 7)"),
            (["--peer", "ref:v2?dma-logging=no"], "(dma-logging no, not yes)"),
            (["--peer", "ref:v1"], "speaks v1"),
        ] {
            let r = try TestSupport.shell(TestSupport.binary!, ["run", "--target", "ref:v2", "--out", out] + args)
            let words = TestSupport.words(r.stderr)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(words.contains(says), "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "/report.json"))
        }
        // Another instance of the target's own kind as the foreign device: taken, with a note that the rule may then
        // warn about a stream the target had no reason to refuse.
        let r = try TestSupport.shell(
            TestSupport.binary!,
            ["run", "--target", "ref:v2", "--foreign-peer", "ref:v2", "--only", "V2-PEER-FOREIGN-*", "--out", out])
        #expect(r.status == 5, "\(r.stderr)")
        #expect(TestSupport.words(r.stderr).contains("note: --foreign-peer ref:v2 reports the same driver"))
    }
}
