import Foundation
import MigconformCases
import MigconformReference
import MigconformReport
import MigconformRun
import MigconformSpec
import Testing

/// The run verdict through the binary, as a lab gates on it: CONFORMANT only when every applicable MUST case ran and
/// passed, INCOMPLETE (exit 5) when some did not run, NOT CONFORMANT (exit 1) on any MUST failure, wherever it was seen.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct VerdictTests {
    var binary: URL { TestSupport.binary! }

    func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("migconform-verdict-\(UUID().uuidString)")
    }

    func run(_ args: [String]) throws -> (status: Int32, out: String, report: RunReport?, dir: URL) {
        let dir = folder()
        let r = try TestSupport.shell(binary, ["run", "--quiet", "--out", dir.path] + args)
        let report = try? ReportReader.load(dir.path)
        return (r.status, r.stdout + r.stderr, report, dir)
    }

    /// An edited copy of a shipped spec that keeps its id and version is refused: its report would read as
    /// conformance to the shipped spec. Renamed, it runs, and its report names it.
    @Test func anEditedSpecUnderAShippedSpecsNameIsRefused() throws {
        let dir = folder()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let shipped = try #require(BuiltinSpecs.file("vfio-migration-v2.json")).text
        let edited = shipped.replacingOccurrences(of: "VFIO device migration", with: "VFIO device migration (edited)")
        try #require(edited != shipped)
        let same = dir.appendingPathComponent("same-name.json")
        try Data(edited.utf8).write(to: same)
        let refused = try run(["--target", "ref:v2", "--spec", same.path])
        #expect(refused.status == 2, "\(refused.out)")
        #expect(
            TestSupport.words(refused.out).contains("calls itself vfio-migration-v2 1.2.0, as the built-in"),
            "\(refused.out)")
        // check-spec finds the same, at the version's line.
        let checked = try TestSupport.shell(binary, ["check-spec", same.path])
        #expect(checked.status == 2 && checked.stdout.contains("\(same.path):3:"), "\(checked.stdout)")
        let renamed = dir.appendingPathComponent("renamed.json")
        try Data(edited.replacingOccurrences(of: #""version": "1.2.0""#, with: #""version": "1.2.0-local""#).utf8)
            .write(to: renamed)
        let ran = try run(["--target", "ref:v2", "--spec", renamed.path])
        defer { try? FileManager.default.removeItem(at: ran.dir) }
        #expect(ran.status == 0 && ran.out.hasPrefix("CONFORMANT to vfio-migration-v2 1.2.0-local"), "\(ran.out)")
    }

    @Test func aResetThatStaysWhereItWasIsNeverConformant() throws {
        let r = try run(["--target", "fault:reset-stays-resuming"])
        defer { try? FileManager.default.removeItem(at: r.dir) }
        #expect(r.status == 1, "\(r.out)")
        #expect(r.report?.summary.verdict == .notConformant)
        let reset = r.report?.cases.filter { $0.ruleID == "V2-RESET-TO-RUNNING" && $0.verdict == .fail } ?? []
        #expect(!reset.isEmpty, "the reset rule did not fail")
        // Every case the broken reset blocked names the failure that blocked it.
        let blocked = r.report?.cases.filter { $0.notRun == .blocked } ?? []
        #expect(blocked.allSatisfy { $0.blockedBy != nil }, "\(blocked.filter { $0.blockedBy == nil }.map(\.id))")
    }

    @Test func aRunNarrowedToOneRuleIsIncompleteAndRecordsItsFilters() throws {
        let r = try run(["--only", "V2-ROUND-TRIP"])
        defer { try? FileManager.default.removeItem(at: r.dir) }
        #expect(r.status == 5, "\(r.out)")
        #expect(r.out.contains("INCOMPLETE"))
        #expect(!r.out.contains("CONFORMANT to"))
        #expect(r.report?.summary.verdict == .incomplete)
        #expect(r.report?.run.filters == RunFilters(only: ["V2-ROUND-TRIP"], exclude: [], selected: 1))
        #expect((r.report?.summary.mustNotRun?["not-selected"] ?? 0) > 100)
    }

    @Test func aSelectionThatMatchesNoCaseIsAUsageError() throws {
        let r = try run(["--only", "V2-NOTHING*"])
        #expect(r.status == 2, "\(r.out)")
        #expect(r.out.contains("no case of vfio-migration-v2 matches --only 'V2-NOTHING*'"))
        #expect(!FileManager.default.fileExists(atPath: r.dir.path), "an empty run folder was left behind")
    }

    @Test func oneShardIsIncompleteAndTheMergedShardsAreConformant() throws {
        let one = try run(["--shard", "1/2"])
        let two = try run(["--shard", "2/2"])
        defer { for d in [one.dir, two.dir] { try? FileManager.default.removeItem(at: d) } }
        #expect(one.status == 5 && two.status == 5, "\(one.out)\n\(two.out)")
        #expect(one.report?.summary.mustNotRun?["other-shard"] != nil)
        let merged = folder()
        defer { try? FileManager.default.removeItem(at: merged) }
        let m = try TestSupport.shell(binary, ["merge", "--out", merged.path, one.dir.path, two.dir.path])
        #expect(m.status == 0, "\(m.stdout)\(m.stderr)")
        #expect(m.stdout.hasPrefix("CONFORMANT to vfio-migration-v2"))
    }

    /// Shards run against a baseline merge to the exit code the whole run gives: the expected failures are XFAIL in
    /// the shards' cases, and count as expected; `--level should` counts the warnings, as in `run`.
    @Test func mergedShardsExitAsTheWholeRunWould() throws {
        let target = "fault:set-migration-accepted"
        let first = try run(["--target", target])
        defer { try? FileManager.default.removeItem(at: first.dir) }
        #expect(first.status == 1)
        let expectations = folder().appendingPathComponent("expected.txt")
        try FileManager.default.createDirectory(
            at: expectations.deletingLastPathComponent(), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: expectations.deletingLastPathComponent()) }
        let b = try TestSupport.shell(binary, ["baseline", first.dir.path, "--out", expectations.path])
        #expect(b.status == 0, "\(b.stderr)")
        let whole = try run(["--target", target, "--baseline", expectations.path])
        let one = try run(["--target", target, "--baseline", expectations.path, "--shard", "1/2"])
        let two = try run(["--target", target, "--baseline", expectations.path, "--shard", "2/2"])
        defer { for d in [whole.dir, one.dir, two.dir] { try? FileManager.default.removeItem(at: d) } }
        #expect(whole.status == 0, "\(whole.out)")
        let merged = folder()
        defer { try? FileManager.default.removeItem(at: merged) }
        let m = try TestSupport.shell(binary, ["merge", "--out", merged.path, one.dir.path, two.dir.path])
        #expect(m.status == whole.status, "\(m.stdout)\(m.stderr)")
        #expect(m.stdout.hasPrefix("NOT CONFORMANT"), "an expected failure is still the device's: \(m.stdout)")
    }

    /// Every failure expected, but MUST cases blocked by them did not run: those were not checked, so the run does
    /// not pass the gate (5, as INCOMPLETE), whatever the baseline says of the failures.
    @Test func expectedFailuresThatBlockMustCasesDoNotExitZero() throws {
        let target = "fault:missing-arc"
        let first = try run(["--target", target])
        defer { try? FileManager.default.removeItem(at: first.dir) }
        #expect(first.status == 1)
        #expect((first.report?.summary.mustNotRun?["blocked"] ?? 0) > 0)
        let expectations = folder().appendingPathComponent("expected.txt")
        try FileManager.default.createDirectory(
            at: expectations.deletingLastPathComponent(), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: expectations.deletingLastPathComponent()) }
        let b = try TestSupport.shell(binary, ["baseline", first.dir.path, "--out", expectations.path])
        #expect(b.status == 0, "\(b.stderr)")
        let again = try run(["--target", target, "--baseline", expectations.path])
        defer { try? FileManager.default.removeItem(at: again.dir) }
        #expect(again.status == 5, "\(again.out)")
        #expect(again.out.hasPrefix("NOT CONFORMANT"), "\(again.out)")
        #expect((again.report?.summary.mustNotRun?["blocked"] ?? 0) > 0)
    }

    @Test func diffCountsANewFailureAndAWorseVerdictAsRegressions() throws {
        let before = try run(["--target", "ref:v2?features=stop-copy,p2p"])
        let after = try run(["--target", "fault:no-precopy-info"])
        defer { for d in [before.dir, after.dir] { try? FileManager.default.removeItem(at: d) } }
        #expect(before.status == 0 && after.status == 1)
        let d = try TestSupport.shell(binary, ["diff", before.dir.path, after.dir.path])
        #expect(d.status == 1, "\(d.stdout)")
        #expect(d.stdout.contains("run verdict: CONFORMANT -> NOT CONFORMANT (worse: a regression of the run)"))
        #expect(d.stdout.contains("note: the device's feature profile changed"))
        // The first section is the regressions, and the new failure is in it.
        let sections = d.stdout.components(separatedBy: "\n").filter {
            $0.first?.isUppercase == true && $0.contains("(")
        }
        #expect(sections.first?.hasPrefix("REGRESSIONS") == true, "\(sections)")
        #expect(
            d.stdout.components(separatedBy: "\n").contains {
                $0.contains("V2-PRECOPY-INFO-SUPPORTED ") && $0.contains(" NOT_APPLICABLE -> FAIL")
            }, "\(d.stdout)")
    }

    @Test func violationsSeenWhileSettingUpAreJudgedUnderTheirRule() throws {
        // ENOMSG on a STOP_COPY stream that began in PRE_COPY: only the pre-copy round trip reads such a stream.
        let enomsg = try run(["--target", "fault:enomsg-after-pre-copy"])
        // A garbage write refused, then the resume accepted: seen while the error-state cases are set up.
        let refused = try run(["--target", "fault:refused-header-forgotten"])
        // STOP_COPY -> STOP on its own once the stream is read.
        let drained = try run(["--target", "fault:leaves-stop-copy-when-drained"])
        defer { for d in [enomsg.dir, refused.dir, drained.dir] { try? FileManager.default.removeItem(at: d) } }
        func verdict(_ r: RunReport?, _ id: String) -> Verdict? { r?.cases.first { $0.id == id }?.verdict }
        #expect(verdict(enomsg.report, "V2-STREAM-PERMANENT-EOF") == .fail)
        #expect(enomsg.report?.cases.first { $0.id == "V2-STREAM-PERMANENT-EOF" }?.seenIn == ["V2-ROUND-TRIP-PRECOPY"])
        #expect(enomsg.report?.cases.first { $0.id == "V2-ROUND-TRIP-PRECOPY" }?.blockedBy == "V2-STREAM-PERMANENT-EOF")
        #expect(verdict(refused.report, "V2-RESUME-REFUSED-WRITE") == .fail)
        let sticky = refused.report?.cases.first { $0.id == "V2-ERROR-STICKY" }
        #expect(sticky?.message.contains("accepted 64 bytes of garbage") == false, "\(sticky?.message ?? "")")
        #expect(verdict(drained.report, "V2-STREAM-PERMANENT-EOF") == .fail)
        #expect(verdict(drained.report, "V2-INV-NO-SPONTANEOUS-CHANGE") == .fail)
        for r in [enomsg, refused, drained] { #expect(r.status == 1) }
    }

    /// A v1 device that accepted a short stream in an earlier case saves nothing from what it loaded: the cases that
    /// need data pending in the save state take it from a reset and judge their rule, rather than block on what an
    /// earlier case left behind.
    @Test func aCaseThatNeedsPendingDataTakesItFromAReset() throws {
        let r = try run(["--target", "fault:v1-accepts-truncated"])
        defer { try? FileManager.default.removeItem(at: r.dir) }
        // The short stream accepted is a SHOULD, and what it blocks leaves the run incomplete, not conformant.
        #expect(r.status == 5, "\(r.out)")
        #expect(r.report?.cases.first { $0.id == "V1-RESUME-TRUNCATED" }?.verdict == .warn)
        for id in ["V1-DATA-OFFSET-NONZERO", "V1-SAVE-FIELDS-REPEATABLE", "V1-PENDING-NO-SIDE-EFFECT"] {
            let c = r.report?.cases.first { $0.id == id }
            #expect(c?.verdict == .pass, "\(id): \(c?.message ?? "no case")")
            #expect(c?.message.contains(" 0 both times") == false, "\(id): \(c?.message ?? "")")
        }
        // One reset, read back before the walk: the oracle judges where it left the device.
        let entered = r.report?.cases.first { $0.id == "V1-DATA-OFFSET-NONZERO" }?.transcript ?? []
        #expect(entered.filter { $0.operation == .reset }.count == 1, "\(entered.map(\.operation))")
        let blocked = r.report?.cases.filter { $0.notRun == .blocked } ?? []
        #expect(blocked.allSatisfy { !$0.message.contains("pending_bytes is 0") }, "\(blocked.map(\.id))")
        // data_offset 0 makes the data read land on the header: every case that needed the stream names the rule.
        let zero = try run(["--target", "fault:v1-data-offset-zero"])
        defer { try? FileManager.default.removeItem(at: zero.dir) }
        #expect(zero.status == 1, "\(zero.out)")
        let cut = zero.report?.cases.filter { $0.notRun == .blocked } ?? []
        #expect(!cut.isEmpty && cut.allSatisfy { $0.blockedBy == "V1-DATA-OFFSET-NONZERO" }, "\(cut.map(\.id))")
        // Read with data pending by the cases of other rules, data_offset 0 is judged under its own rule too.
        let seen = zero.report?.cases.first { $0.id == "V1-DATA-OFFSET-NONZERO" }?.seenIn ?? []
        #expect(seen.contains("V1-SAVE-FIELDS-REPEATABLE") && seen.contains("V1-DATA-OFFSET-PAGE-ALIGNED"), "\(seen)")
    }

    /// A case blocked by a refusal or a wrong answer names the rule that answer breaks: PRE_COPY->STOP_COPY is a
    /// combination on a device with P2P (the combination rule, not an arc rule the machine does not have); an arc
    /// that opens a session with no fd; an arc refused beside a peer and alone.
    @Test(arguments: [
        ("combination-stops-short", "V2-PRECOPY-INFO-OUTSIDE", "V2-COMBINATION-STATE[PRE_COPY->STOP_COPY]"),
        ("no-fd-on-stop-copy", "V2-DATA-FD-DIRECTION[STOP->STOP_COPY]", "V2-ARC-DATA-FD[STOP->STOP_COPY]"),
        ("missing-arc", "V2-PEER-TWO-DEVICE-ORDER", "V2-ARC-STATE[STOP->RUNNING_P2P]"),
    ])
    func aBlockedCaseNamesTheRuleItsBlockBreaks(fault: String, id: String, by: String) throws {
        let r = try run(["--target", "fault:\(fault)"])
        defer { try? FileManager.default.removeItem(at: r.dir) }
        #expect(r.status == 1, "\(r.out)")
        let blocked = r.report?.cases.first { $0.id == id }
        #expect(blocked?.notRun == .blocked, "\(blocked?.message ?? "no case")")
        #expect(blocked?.blockedBy == by, "\(blocked?.message ?? "")")
        #expect(r.report?.cases.first { $0.id == by }?.verdict == .fail)
    }

    /// A device that refuses to leave the resume state with a peer's stream loaded breaks the two-device order; the
    /// arc it refused works from a stream of its own, and is not blamed.
    @Test func aRefusedPeerStreamFailsTheTwoDeviceOrderNotTheArc() throws {
        let r = try run(["--target", "fault:resumes-only-own-stream", "--peer", "fault:counts-saves-in-state"])
        defer { try? FileManager.default.removeItem(at: r.dir) }
        #expect(r.status == 1, "\(r.out)")
        let order = r.report?.cases.first { $0.id == "V2-PEER-TWO-DEVICE-ORDER" }
        #expect(order?.verdict == .fail, "\(order?.message ?? "no case")")
        #expect(order?.actual?.contains("after the peer's stream") == true, "\(order?.actual ?? "")")
        let arc = r.report?.cases.first { $0.id == "V2-ARC-STATE[RESUMING->STOP]" }
        #expect(arc?.verdict == .pass, "\(arc?.message ?? "no case")")
    }

    @Test func aViolationThatBlocksACaseIsJudgedEvenWhenItsRuleIsLeftOut() throws {
        // The arc STOP->RUNNING_P2P refused, seen by the data fd case that takes it, while --only leaves the arc's
        // own case out: the refusal is a failure of the arc rule, not a block to skip over.
        let r = try run(["--target", "fault:missing-arc", "--only", "V2-GET-DATA-FD*"])
        defer { try? FileManager.default.removeItem(at: r.dir) }
        #expect(r.status == 1, "\(r.out)")
        let arc = r.report?.cases.first { $0.id == "V2-ARC-STATE[STOP->RUNNING_P2P]" }
        #expect(arc?.verdict == .fail)
        #expect(arc?.notRun == nil)
        #expect(arc?.seenIn == ["V2-GET-DATA-FD[STOP->RUNNING_P2P]"])
        #expect(arc?.reproducer?.contains { $0.operation == .setState(5) && $0.outcome?.errno != nil } == true)
        let blocked = r.report?.cases.first { $0.id == "V2-GET-DATA-FD[STOP->RUNNING_P2P]" }
        #expect(blocked?.notRun == .blocked && blocked?.blockedBy == "V2-ARC-STATE[STOP->RUNNING_P2P]")
        // The reference device: nothing blocks, so the same selection is only incomplete.
        let clean = try run(["--only", "V2-GET-DATA-FD*"])
        defer { try? FileManager.default.removeItem(at: clean.dir) }
        #expect(clean.status == 5)
    }

    /// A refusal that depends on what came before: the arc's own case passes, the data fd case that takes the same
    /// arc later is refused. The refusal still breaks the arc rule, so it is judged there, not only skipped over.
    @Test func aRefusalSeenOnlyInAnotherCaseIsJudgedEvenWhenTheArcsOwnCasePasses() throws {
        let r = try run(["--target", "fault:fails-after-abandoned-pre-copy"])
        defer { try? FileManager.default.removeItem(at: r.dir) }
        #expect(r.status == 1, "\(r.out)")
        for from in ["RESUMING", "RUNNING_P2P"] {
            let arc = r.report?.cases.first { $0.id == "V2-COMBINATION-STATE[\(from)->STOP_COPY]" }
            #expect(arc?.verdict == .fail, "\(arc?.message ?? "no case")")
            #expect(arc?.seenIn == ["V2-COMBINATION-DATA-FD[\(from)->STOP_COPY]"])
            #expect(arc?.reproducer?.last?.outcome?.errno == .EIO)
            let blocked = r.report?.cases.first { $0.id == "V2-COMBINATION-DATA-FD[\(from)->STOP_COPY]" }
            #expect(blocked?.notRun == .blocked && blocked?.blockedBy == arc?.id)
        }
    }
}

/// Every failure the catalogue's faults produce replays as itself: the same verdict, the same operations.
@Suite struct ReplayAllFaultsTests {
    @Test func everyFailedCaseOfEveryFaultIsReproduced() throws {
        var replayed = 0
        var problems: [String] = []
        // A sequence fault shows only after a history of requests: its reproducer lists that history, and a case
        // run again alone from a reset need not meet it (explore's sequences replay those).
        for entry in FaultCatalogue.entries where entry.name != V2Fault.hangsOnStopCopy.rawValue && !entry.needsSequence
        {
            let spec = entry.generation == .v2 ? TestSupport.v2 : TestSupport.v1
            let target = "fault:\(entry.name)"
            let options = RunOptions(target: target, expansion: ExpansionOptions(variants: Set(entry.variants)))
            let report = try Runner(spec: spec, device: entry.makeDevice(), options: options).run()
            for c in report.cases where Replay.failing.contains(c.verdict) {
                guard
                    let outcome = try Replay.run(c, of: report, spec: spec, device: entry.makeDevice(), target: target)
                else {
                    problems.append("\(target) \(c.id): the case is gone")
                    continue
                }
                replayed += 1
                if !outcome.reproduced {
                    problems.append("\(target) \(c.id): did not reproduce (\(outcome.now.verdict))")
                }
            }
        }
        #expect(replayed > 80)
        #expect(problems.isEmpty, "\(problems.count) of \(replayed):\n\(problems.prefix(20).joined(separator: "\n"))")
    }

    @Test func aFailureThatNeedsItsHistoryIsReproducedByItsRecordedOperations() throws {
        var sent = 0
        var problems: [String] = []
        for entry in FaultCatalogue.entries where entry.needsSequence && entry.generation == .v2 {
            let options = RunOptions(target: "fault:\(entry.name)")
            let report = try Runner(spec: TestSupport.v2, device: entry.makeDevice(), options: options).run()
            for c in report.cases where Replay.failing.contains(c.verdict) {
                guard let steps = c.reproducer, !steps.isEmpty,
                    steps.allSatisfy({ SequenceReplay.whyUnsendable($0) == nil })
                else { continue }
                sent += 1
                // The faulty device answers as recorded; the reference, which has no such fault, does not.
                let again = try SequenceReplay.run(steps, on: entry.makeDevice())
                if let d = again.divergence { problems.append("\(entry.name) \(c.id): step \(d.step) \(d.now)") }
                let fixed = try SequenceReplay.run(steps, on: ReferenceDeviceV2())
                if fixed.divergence == nil { problems.append("\(entry.name) \(c.id): the reference answers alike") }
            }
        }
        #expect(sent > 0)
        #expect(problems.isEmpty, "\(problems)")
    }
}

/// `migconform replay` as a driver developer runs it after a change.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct ReplayCommandTests {
    func run(_ target: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-replay-\(UUID())")
        _ = try TestSupport.shell(TestSupport.binary!, ["run", "--target", target, "--out", dir.path, "--quiet"])
        return dir
    }

    @Test func aFailureThatDependsOnEarlierCasesIsReproducedAndAFixIsSeen() throws {
        let dir = try run("fault:fails-after-abandoned-pre-copy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = "V2-COMBINATION-STATE[RUNNING->STOP_COPY]"
        let same = try TestSupport.shell(TestSupport.binary!, ["replay", dir.path, id])
        #expect(same.status == 1, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("got every answer as recorded") && same.stdout.hasSuffix("reproduced\n"))
        let fixed = try TestSupport.shell(TestSupport.binary!, ["replay", dir.path, id, "--target", "ref:v2"])
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        #expect(fixed.stdout.contains("step 34 (set-state STOP_COPY) answered ok"))
        // Numbered as report.md numbers the reproducer.
        let markdown = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("    34. set-state STOP_COPY -> EIO"))
        #expect(fixed.stdout.hasSuffix("did not reproduce\n"))
        // A case seen failing after earlier cases wrote the saved stream and used the peer: the report keeps 16
        // bytes of each such write, which replay takes again from a twin of the target, and the peer's operations
        // go to a fresh peer.
        let id2 = "V2-ARC-STATE[STOP->STOP_COPY]"
        let still = try TestSupport.shell(TestSupport.binary!, ["replay", dir.path, id2])
        #expect(still.status == 1 && still.stdout.hasSuffix("reproduced\n"), "\(still.stdout)\(still.stderr)")
        #expect(still.stdout.contains("got every answer as recorded"))
        let cleared = try TestSupport.shell(TestSupport.binary!, ["replay", dir.path, id2, "--target", "ref:v2"])
        #expect(cleared.status == 0 && cleared.stdout.hasSuffix("did not reproduce\n"), "\(cleared.stdout)")
        // A device that takes none of a rebuilt write diverges there: the step is told with the bytes it sent, not
        // the few the report keeps.
        let short = try TestSupport.shell(
            TestSupport.binary!, ["replay", dir.path, id2, "--target", "fault:resume-write-takes-nothing"])
        #expect(short.stdout.contains("(write fd=101 4128 bytes"), "\(short.stdout)")
        #expect(!short.stdout.contains(" 16 bytes"), "\(short.stdout)")
    }

    /// Replayed on the reference, which has neither fault, these cannot be told:
    /// - the fault saves a garbled stream, and its bytewise round trip keeps every 1-byte write whole: sent again,
    ///   those bytes are refused as they were, though the reference saves correctly, so answers alike prove
    ///   nothing about the save;
    /// - the foreign device's stream is not the target's saved stream: the report keeps 16 bytes of its write, and
    ///   nothing can give the rest again.
    @Test(arguments: [
        ("saves-garbled-stream", "V2-ROUND-TRIP-BYTEWISE", "not saved again now"),
        ("loads-foreign-stream", "V2-PEER-FOREIGN-REFUSED", "cannot be sent as recorded"),
    ])
    func aReplayThatProvesNothingSaysItCannotTell(fault: String, id: String, says: String) throws {
        let dir = try run("fault:\(fault)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try TestSupport.shell(TestSupport.binary!, ["replay", dir.path, id, "--target", "ref:v2"])
        #expect(r.status == 5, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains(says) && r.stdout.hasSuffix("cannot tell\n"), "\(r.stdout)")
    }

    /// A report of one protocol generation is not replayed on a target of the other, as run refuses that pairing.
    @Test func aReportIsNotReplayedOnATargetOfTheOtherGeneration() throws {
        let dir = try run("fault:v1-drifts")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try TestSupport.shell(
            TestSupport.binary!, ["replay", dir.path, "V1-INV-NO-SPONTANEOUS-CHANGE", "--target", "ref:v2"])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("is for the v1 protocol, but ref:v2 speaks v2"), "\(r.stderr)")
    }

    @Test func aPeerGivenToTheRunIsTheOneReplayUses() throws {
        // A good peer given to a faulty device: the device's stream loads there. Replay must not swap in a second
        // faulty device as the peer, which would make the case fail where it passed.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-replay-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try TestSupport.shell(
            TestSupport.binary!,
            [
                "run", "--target", "fault:resumes-only-own-stream", "--peer", "ref:v2", "--only", "V2-PEER-*",
                "--out", dir.path, "--quiet",
            ])
        let r = try TestSupport.shell(TestSupport.binary!, ["replay", dir.path, "V2-PEER-RESUME"])
        #expect(r.status == 0 && r.stdout.hasSuffix("still passes\n"), "\(r.stdout)\(r.stderr)")
    }

    @Test func aPeerCaseIsReplayedWithTheBuiltInPeers() throws {
        let dir = try run("fault:loads-foreign-stream")
        defer { try? FileManager.default.removeItem(at: dir) }
        let same = try TestSupport.shell(TestSupport.binary!, ["replay", dir.path, "V2-PEER-FOREIGN-REFUSED"])
        #expect(same.status == 1 && same.stdout.hasSuffix("reproduced\n"), "\(same.stdout)\(same.stderr)")
        let fixed = try TestSupport.shell(
            TestSupport.binary!, ["replay", dir.path, "V2-PEER-FOREIGN-REFUSED", "--target", "ref:v2"])
        // The reference refuses the foreign stream, and the peer operations of the reproducer cannot be sent.
        #expect(fixed.stdout.contains("now:      PASS V2-PEER-FOREIGN-REFUSED"), "\(fixed.stdout)")
        #expect(fixed.status == 5 && fixed.stdout.hasSuffix("cannot tell\n"), "\(fixed.stdout)")
    }

    @Test func aBlockedCaseSaysWhatBlockedItAndThatItStillFails() throws {
        let dir = try run("fault:missing-arc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try TestSupport.shell(TestSupport.binary!, ["replay", dir.path, "V2-GET-DATA-FD[STOP->RUNNING_P2P]"])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("also:     FAIL V2-ARC-STATE[STOP->RUNNING_P2P]"))
        #expect(r.stdout.hasSuffix("could not run: cannot tell\n"))
    }
}

/// explore is deterministic for a seed, and every finding it reports replays.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct ExploreDeterminismTests {
    var binary: URL { TestSupport.binary! }

    func explore(_ args: [String]) throws -> (cases: [CaseResult], dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "migconform-explore-\(UUID().uuidString)")
        _ = try TestSupport.shell(binary, ["explore", "--out", dir.path] + args)
        return (try ReportReader.load(dir.path).cases, dir)
    }

    @Test func theSameSeedGivesTheSameFindingsInTheSameOrder() throws {
        let args = ["--walks", "100", "--steps", "12", "--seed", "7", "--target", "fault:combination-stops-short"]
        let a = try explore(args)
        let b = try explore(args)
        defer { for d in [a.dir, b.dir] { try? FileManager.default.removeItem(at: d) } }
        #expect(a.cases.count >= 2)
        #expect(a.cases.map(\.id) == b.cases.map(\.id))
        #expect(a.cases.map(\.message) == b.cases.map(\.message))
    }

    @Test func aFindingOfTheResetThatStartsASequenceCarriesTheSequenceBeforeIt() throws {
        let r = try explore(["--depth", "3", "--target", "fault:reset-to-stop"])
        defer { try? FileManager.default.removeItem(at: r.dir) }
        let finding = try #require(r.cases.first { $0.ruleID == "V2-RESET-TO-RUNNING" })
        #expect(finding.message.hasSuffix("1. set RESUMING; 2. reset"), "\(finding.message)")
        let replay = try TestSupport.shell(binary, ["replay", r.dir.path, finding.id])
        #expect(replay.status == 1 && replay.stdout.hasSuffix("reproduced\n"), "\(replay.stdout)\(replay.stderr)")
    }
}
