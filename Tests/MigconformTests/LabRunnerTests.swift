import Dispatch
import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSpec
import Testing

@testable import MigconformReport

// Lab-grade running: deadlines, the journal, cleanup, hazards, baselines and flakes, diff, shards, guards, verify.

// MARK: - Devices for the tests

/// The reference v2 device behind a class the tests can subclass (the reference device is not open outside its
/// module): every request goes to it, and a subclass overrides what it needs to change.
class ReferenceDeviceHook: MigrationDevice {
    let inner: ReferenceDeviceV2
    init(_ configuration: ReferenceDeviceV2.Configuration = .init()) { inner = ReferenceDeviceV2(configuration) }
    var state: MigrationState { inner.state }
    var generation: ProtocolGeneration { inner.generation }
    var identity: DeviceIdentity { inner.identity }
    var answersPromptly: Bool { inner.answersPromptly }
    var callsInterruptible: Bool { inner.callsInterruptible }
    func perform(_ operation: DeviceOperation) throws -> DeviceOutcome { try inner.perform(operation) }
}

/// A reference device whose SET STOP_COPY -> PRE_COPY never returns (like the kernel's path-search loop): the call
/// blocks until the test releases it.
final class HangingDevice: ReferenceDeviceHook {
    let release: DispatchSemaphore
    init(release: DispatchSemaphore) {
        self.release = release
        super.init()
    }
    /// It can block, so the runner must watch it with deadlines.
    override var answersPromptly: Bool { false }
    override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if case .setState(let v) = operation, v == MigrationState.preCopy.rawValue, state == .stopCopy {
            release.wait()
            return .failed(.EINVAL)
        }
        return try super.perform(operation)
    }
}

/// A reference device whose calls a signal interrupts, like system calls: its SET STOP_COPY -> PRE_COPY waits in
/// read(2) on a pipe nobody writes to, and fails with EINTR when interrupted.
final class InterruptibleHangingDevice: ReferenceDeviceHook {
    var pipeFDs: [Int32] = [-1, -1]
    var threads: [pthread_t] = []
    override init(_ configuration: ReferenceDeviceV2.Configuration = .init()) {
        super.init(configuration)
        pipe(&pipeFDs)
    }
    deinit {
        close(pipeFDs[0])
        close(pipeFDs[1])
    }
    override var answersPromptly: Bool { false }
    override var callsInterruptible: Bool { true }
    override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        threads.append(pthread_self())
        if case .setState(let v) = operation, v == MigrationState.preCopy.rawValue, state == .stopCopy {
            var byte: UInt8 = 0
            let n = Glibc.read(pipeFDs[0], &byte, 1)
            return n < 0 ? .failed(Errno(rawValue: errno)) : .failed(.EINVAL)
        }
        return try super.perform(operation)
    }
}

/// A reference device that accepts the first SET of the read-only MIGRATION feature, and refuses it afterwards.
final class FlakyDevice: ReferenceDeviceHook {
    var misbehaved = false
    override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if !misbehaved, case .feature(let flags, _) = operation, flags == FeatureRequest.set | FeatureRequest.migration
        {
            misbehaved = true
            return .done
        }
        return try super.perform(operation)
    }
}

/// A reference device whose channel fails on the first SET of the read-only MIGRATION feature (an ERROR), and that
/// accepts the SET afterwards (a FAIL of V2-FEAT-SET-MIGRATION-REJECTED).
final class ErrorThenAcceptsDevice: ReferenceDeviceHook {
    var failed = false
    override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if case .feature(let flags, _) = operation, flags == FeatureRequest.set | FeatureRequest.migration {
            if !failed {
                failed = true
                throw TransportError("the adapter's connection dropped")
            }
            return .done
        }
        return try super.perform(operation)
    }
}

/// A reference device that says it is a kernel device of a given release (for hazards).
final class KernelLookalike: ReferenceDeviceHook {
    let release: String
    init(release: String) {
        self.release = release
        super.init()
    }
    override var identity: DeviceIdentity {
        DeviceIdentity(
            targetKind: "vfio", driver: "lookalike", detail: "reference device posing as vfio",
            kernelRelease: release)
    }
}

private func tempFolder(_ name: String) -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("migconform-lab-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try? FileManager.default.removeItem(at: url)
    return url
}

private func verdicts(_ r: RunReport) -> [String: Verdict] {
    Dictionary(r.cases.map { ($0.id, $0.verdict) }, uniquingKeysWith: { a, _ in a })
}

private func run(
    _ device: MigrationDevice, _ options: RunOptions = RunOptions(target: "test"),
    spec: Spec = TestSupport.v2
) throws -> RunReport {
    try Runner(spec: spec, device: device, options: options).run()
}

private let forbiddenCase = "V2-FORBIDDEN-STOP-COPY-TO-PRE-COPY[STOP_COPY->PRE_COPY]"

// MARK: - Deadlines

@Suite("LabRunner: deadlines")
struct LabRunnerDeadlineTests {
    @Test("a hang on one arc: TIMEOUT for that case within the deadline, every other case has its verdict")
    func hangReopened() throws {
        // The same run without the hang, journal included, for the time it takes.
        let plainFolder = tempFolder("plain")
        defer { try? FileManager.default.removeItem(at: plainFolder) }
        let plainRunner = Runner(spec: TestSupport.v2, device: ReferenceDeviceV2(), options: RunOptions(target: "ref"))
        plainRunner.observers.append(try RunJournal(folder: plainFolder, syncEachOperation: false))
        let plainStart = Date()
        let plain = try plainRunner.run()
        let plainSeconds = Date().timeIntervalSince(plainStart)

        let release = DispatchSemaphore(value: 0)
        defer { for _ in 0..<4 { release.signal() } }
        var options = RunOptions(target: "hang")
        options.deadlines.byKind[.setState] = 1.0
        let runner = Runner(
            spec: TestSupport.v2, device: HangingDevice(release: release), options: options,
            reopen: { HangingDevice(release: release) })
        runner.deadlineDevice.recoveryGrace = 0.2
        let folder = tempFolder("hang")
        defer { try? FileManager.default.removeItem(at: folder) }
        runner.observers.append(try RunJournal(folder: folder, syncEachOperation: false))
        let start = Date()
        let report = try runner.run()
        let elapsed = Date().timeIntervalSince(start)
        // The deadline, the recovery grace, and the rest of the run: nothing waits for the hung call.
        #expect(elapsed < plainSeconds + 1.0 + 0.2 + 3.0, "took \(elapsed) s")

        let hung = try #require(report.cases.first { $0.id == forbiddenCase })
        #expect(hung.verdict == .timeout)
        #expect(hung.message.contains("set-state PRE_COPY"), "names the operation: \(hung.message)")
        #expect(hung.transcript.last?.outcome == nil)
        var expected = verdicts(plain)
        expected[forbiddenCase] = .timeout
        #expect(verdicts(report) == expected)
        #expect(report.run.reopened == 1)
        #expect(report.run.interrupted == false)
        #expect(report.run.cleanup?.restored == true)
        #expect(report.run.timeouts?.count == 1)
        #expect(!report.summary.conformant)

        let written = try ReportWriter.write(report, to: folder, existingFiles: [RunJournal.fileName])
        for name in [
            ReportWriter.jsonFile, ReportWriter.markdownFile, ReportWriter.junitFile, ReportWriter.tapFile,
            RunJournal.fileName,
        ] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
        }
        #expect(written.files[RunJournal.fileName] != nil)
        #expect(ReportVerifier.verify(folder.path).ok)
    }

    @Test("a kernel-like device that hangs is wedged: the rest is SKIPPED, the report is still complete")
    func hangWedged() throws {
        let release = DispatchSemaphore(value: 0)
        defer { for _ in 0..<4 { release.signal() } }
        var options = RunOptions(target: "hang")
        options.deadlines = .uniform(1.0)
        let runner = Runner(spec: TestSupport.v2, device: HangingDevice(release: release), options: options)
        runner.deadlineDevice.recoveryGrace = 0.2
        let start = Date()
        let report = try runner.run()
        #expect(Date().timeIntervalSince(start) < 10, "a wedged device never holds the run up")
        let plain = verdicts(try run(ReferenceDeviceV2()))
        #expect(report.cases.first { $0.id == forbiddenCase }?.verdict == .timeout)
        let wedged = report.cases.filter { $0.message.contains("wedged") }
        #expect(!wedged.isEmpty)
        #expect(wedged.allSatisfy { $0.verdict == .skipped })
        for c in report.cases where c.id != forbiddenCase && !c.message.contains("wedged") {
            #expect(c.verdict == plain[c.id], "\(c.id): cases that ran keep their verdicts")
        }
        #expect(report.run.interrupted)
        #expect(report.run.stopReason?.contains("wedged") == true)
        let cleanup = try #require(report.run.cleanup)
        #expect(!cleanup.restored)
        #expect(cleanup.problems.first?.contains("wedged") == true)
    }

    @Test("a device that answers promptly is called on the runner's thread; any other on the deadline worker")
    func promptDevicesRunInline() throws {
        final class ThreadNoting: ReferenceDeviceHook {
            let prompt: Bool
            var threads: [pthread_t] = []
            init(prompt: Bool) {
                self.prompt = prompt
                super.init()
            }
            override var answersPromptly: Bool { prompt }
            override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
                threads.append(pthread_self())
                return try super.perform(operation)
            }
        }
        for prompt in [true, false] {
            let device = ThreadNoting(prompt: prompt)
            let deadlines = DeadlineDevice(device)
            let caller = pthread_self()
            _ = try deadlines.perform(.getState)
            _ = try deadlines.perform(.setState(MigrationState.stop.rawValue))
            #expect(deadlines.answersPromptly == prompt)
            #expect(device.threads.count == 2)
            #expect(device.threads.allSatisfy { pthread_equal($0, caller) != 0 } == prompt, "prompt: \(prompt)")
        }
    }

    @Test(
        "a device whose calls a signal interrupts is called on the runner's thread; a hang there is TIMEOUT, the rest runs"
    )
    func interruptibleDevicesRunInlineUnderAWatchdog() throws {
        let plain = try Runner(spec: TestSupport.v2, device: ReferenceDeviceV2(), options: RunOptions(target: "ref"))
            .run()
        var options = RunOptions(target: "hang")
        options.deadlines.byKind[.setState] = 0.5
        let device = InterruptibleHangingDevice()
        let runner = Runner(spec: TestSupport.v2, device: device, options: options)
        let caller = pthread_self()
        let start = Date()
        let report = try runner.run()
        #expect(Date().timeIntervalSince(start) < 10)
        let hung = try #require(report.cases.first { $0.id == forbiddenCase })
        #expect(hung.verdict == .timeout)
        #expect(hung.message.contains("set-state PRE_COPY"), "names the operation: \(hung.message)")
        var expected = verdicts(plain)
        expected[forbiddenCase] = .timeout
        #expect(verdicts(report) == expected)
        #expect(report.run.reopened == nil)
        #expect(report.run.timeouts?.count == 1)
        #expect(device.threads.count > 100)
        #expect(device.threads.allSatisfy { pthread_equal($0, caller) != 0 })
    }

    @Test("with a peer and a foreign device whose calls a signal frees, calls stay on the runner's thread")
    func peeredInterruptibleCallsStayOnTheCaller() throws {
        let main = InterruptibleHangingDevice()
        let peer = InterruptibleHangingDevice()
        let foreign = InterruptibleHangingDevice(.init(stateSize: 12 << 10))
        #expect(PeeredDevice(main, peer: peer, foreign: foreign).callsInterruptible)
        #expect(!PeeredDevice(main, peer: ReferenceDeviceV2(), foreign: nil).callsInterruptible)
        let deadlines = DeadlineDevice(PeeredDevice(main, peer: peer, foreign: foreign))
        let caller = pthread_self()
        _ = try deadlines.perform(.getState)
        _ = try deadlines.perform(.onPeer(.getState))
        _ = try deadlines.perform(.onForeign(.getState))
        #expect(main.threads.count == 1 && peer.threads.count == 1 && foreign.threads.count == 1)
        #expect((main.threads + peer.threads + foreign.threads).allSatisfy { pthread_equal($0, caller) != 0 })
    }

    @Test("a call on the runner's thread that a signal does not free is abandoned after the grace")
    func uninterruptibleHangIsAbandoned() throws {
        final class Stuck: ReferenceDeviceHook, @unchecked Sendable {
            let release = DispatchSemaphore(value: 0)
            override var answersPromptly: Bool { false }
            override var callsInterruptible: Bool { true }
            override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
                if operation == .reset { release.wait() }
                return try super.perform(operation)
            }
        }
        let device = Stuck()
        let deadlines = DeadlineDevice(device, deadlines: .uniform(0.2))
        let abandoned = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var what = ""
        deadlines.onAbandoned = { w in
            what = w
            abandoned.signal()
            device.release.signal()
        }
        deadlines.watchdogGrace = 0.2
        let outcome = Result { try deadlines.perform(.reset) }
        #expect(abandoned.wait(timeout: .now() + 5) == .success)
        #expect(what.contains("reset"))
        guard case .failure(let e) = outcome else {
            Issue.record("the reset was not given up")
            return
        }
        #expect((e as? TransportError)?.timedOut == true)
        #expect(try deadlines.perform(.getState).succeeded)
    }

    @Test("deadline settings: one for all, one per kind, bad ones refused")
    func deadlineSettings() throws {
        var d = Deadlines.standard
        #expect(d.seconds(for: .reset) == 30)
        #expect(d.seconds(for: .getState) == 10)
        try d.apply("set-state=2.5")
        #expect(d.seconds(for: .setState(1)) == 2.5)
        #expect(d.seconds(for: .reset) == 30)
        try d.apply("4")
        #expect(d.seconds(for: .setState(1)) == 4 && d.seconds(for: .reset) == 4)
        #expect(throws: DeadlineSettingError.self) { try d.apply("set-sate=1") }
        #expect(throws: DeadlineSettingError.self) { try d.apply("-1") }
    }
}

// MARK: - Journal

@Suite("LabRunner: journal")
struct LabRunnerJournalTests {
    /// A line in the middle of a journal that is not a record (a bad sector, an edit) loses what it held, not the
    /// rest: the rebuild skips it, names it, and keeps the verdict from CONFORMANT; the case whose end record was
    /// lost is unfinished.
    @Test func aDamagedLineIsSkippedNamedAndKeepsTheRunFromConformant() throws {
        let folder = tempFolder("damaged")
        defer { try? FileManager.default.removeItem(at: folder) }
        var other = ReferenceDeviceV2.Configuration()
        other.stateSize *= 2
        let runner = Runner(
            spec: TestSupport.v2, device: ReferenceDeviceV2(), options: RunOptions(target: "ref"),
            peer: ("ref", ReferenceDeviceV2()),
            foreign: ("ref:v2?state-size=\(other.stateSize)", ReferenceDeviceV2(other)))
        runner.observers.append(try RunJournal(folder: folder, syncEachOperation: false))
        let live = try runner.run()
        try #require(live.summary.verdict == .conformant)
        let file = folder.appendingPathComponent(RunJournal.fileName)
        let intact = try String(contentsOf: file, encoding: .utf8)
        var lines = intact.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let ends = lines.indices.filter { lines[$0].contains("\"type\":\"case-end\"") }
        let starts = lines.indices.filter { lines[$0].contains("\"type\":\"case-start\"") }
        // Three damages: a line cut short, a record whose type was edited (read as no type this reader knows, not
        // skipped as a newer writer's), a case's start record cut short.
        let passEnds = ends.filter { lines[$0].contains("\"verdict\":\"PASS\"") }
        for (damage, endLost, how) in [
            (ends[10], true, "cut"), (passEnds[30], true, "retyped"), (starts[20], false, "cut"),
        ] {
            lines = intact.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines[damage] =
                how == "cut"
                ? String(lines[damage].prefix(30)) + "\u{0}\u{0}\u{0}"
                : lines[damage].replacingOccurrences(of: "\"type\":\"case-end\"", with: "\"type\":\"case-enD\"")
            try lines.joined(separator: "\n").write(to: file, atomically: false, encoding: .utf8)
            let rebuilt = try JournalReader.read(folder.path).report
            #expect(rebuilt.summary.verdict == .incomplete)
            #expect(
                rebuilt.run.journalDamaged?.contains("line \(damage + 1) ") == true,
                "\(rebuilt.run.journalDamaged ?? "")")
            #expect(rebuilt.run.interrupted == false)
            let unfinished = rebuilt.cases.filter { $0.unfinished == true }
            #expect(unfinished.count == (endLost ? 1 : 0))
            if endLost { #expect(unfinished.first?.message.contains("damaged line") == true) }
            // Every other case is as the run left it.
            #expect(
                rebuilt.cases.filter { $0.verdict == .pass }.count == live.cases.filter { $0.verdict == .pass }.count
                    - unfinished.count)
            #expect(MarkdownReport.render(rebuilt).contains("could not be read"))
            // A diff against the live run says why the verdict got worse, though no case may have.
            let diff = ReportDiff.compare(live, rebuilt).render(.text)
            #expect(TestSupport.words(diff).contains("why: no MUST-level case failed"), "\(diff)")
            #expect(TestSupport.words(diff).contains("could not be read"))
        }
        // A case's end record taken out whole: no line is damaged, but the case started and never ended in a run
        // that went on, which is damage all the same.
        lines = intact.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let removed = lines.remove(at: ends[40])
        try lines.joined(separator: "\n").write(to: file, atomically: false, encoding: .utf8)
        let rebuilt = try JournalReader.read(folder.path).report
        #expect(rebuilt.summary.verdict == .incomplete)
        let lostID = try #require(live.cases.map(\.id).first { removed.contains("\"id\":\"\($0)\"") })
        #expect(rebuilt.run.journalDamaged?.contains("case \(lostID) has a start record and no end record") == true)
    }

    @Test("the journal's operation records are the bytes JSONEncoder writes, for every kind of operation and outcome")
    func journalLinesMatchTheEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func encoded<T: Encodable>(_ v: T) throws -> String { String(decoding: try encoder.encode(v), as: UTF8.self) }
        let ops: [DeviceOperation] = [
            .getMigrationFlags, .getState, .getDataSize, .reset, .reopen,
            .feature(flags: 0x2_0007, payload: [1, 2, 3]),
            .setState(2), .setState(99), .read(fd: 7, count: 4096), .write(fd: 7, bytes: [0, 0xff]), .close(fd: 7),
            .precopyInfo(fd: 8), .configRead(offset: 4, width: 2), .disableInterrupts(index: 1),
            .regionRead(offset: 0, width: 4), .regionWrite(offset: 8, width: 8, value: 1 << 40),
            .dataRead(offset: 16, count: 3), .dataWrite(offset: 16, bytes: [9]), .regionInfo,
            .dmaLoggingStart(
                pageSize: 4096, ranges: [DMARange(iova: 1 << 32, length: 1 << 21), DMARange(iova: 0, length: 1)]),
            .dmaLoggingStop, .dmaLoggingReport(iova: 1 << 32, length: 1 << 21, pageSize: 4096, bitmap: [0xff, 0]),
            .onPeer(.read(fd: 9, count: 64)), .onForeign(.setState(4)),
        ]
        let outcomes: [DeviceOutcome?] = [
            .done, .value(UInt64.max), .state(3, dataFD: -1), .state(77, dataFD: 5), .bytes([1, 2]),
            .precopy(initialBytes: 10, dirtyBytes: 0), .failed(.ENOMSG), nil,
        ]
        for (k, op) in ops.enumerated() {
            for (index, phase) in [(Int?.some(k), String?.none), (nil, "disc\"ov/ery\n")] {
                #expect(
                    JournalLines.op(
                        time: "2026-01-01T00:00:00.000Z", index: index, phase: phase, operation: op,
                        byteCount: k % 2 == 0 ? nil : k, text: "t\u{01}é")
                        == (try encoded(
                            RunJournal.OpRecord(
                                time: "2026-01-01T00:00:00.000Z", index: index, phase: phase,
                                operation: OperationDocument(op), byteCount: k % 2 == 0 ? nil : k,
                                text: "t\u{01}é"))))
                for out in outcomes {
                    let e = TranscriptEntry(
                        step: k, operation: op, outcome: out, transportError: out == nil ? "gone \"x\"" : nil,
                        micros: 12, byteCount: k % 3 == 0 ? 40 : nil, data: k % 4 == 0 ? "saved/stream" : nil)
                    #expect(
                        JournalLines.opEnd(index: index, phase: phase, entry: e)
                            == (try encoded(RunJournal.OpEndRecord(index: index, phase: phase, entry: EntryDocument(e))))
                    )
                }
            }
        }
    }

    @Test("the journal's case records are the bytes JSONEncoder writes, with every field of a result set or not")
    func caseLinesMatchTheEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func encoded<T: Encodable>(_ v: T) throws -> String { String(decoding: try encoder.encode(v), as: UTF8.self) }
        let t = "2026-01-01T00:00:00.000Z"
        #expect(
            JournalLines.caseStart(time: t, index: 3, id: "V2-ARC[\"A\"->B/C]", attempt: 2)
                == (try encoded(RunJournal.CaseStartRecord(time: t, index: 3, id: "V2-ARC[\"A\"->B/C]", attempt: 2))))
        let entries = [
            TranscriptEntry(step: 0, operation: .setState(2), outcome: .state(2, dataFD: 5), micros: 3),
            TranscriptEntry(
                step: 1, operation: .write(fd: 5, bytes: [1, 2]), outcome: nil, transportError: "gone",
                micros: 9, byteCount: 4096, data: "the saved stream: bytes 0..4095"),
        ]
        var full = CaseResult(
            id: "X[1]", ruleID: "X", level: .must, statement: "s \"q\"\n", cite: "uapi/§1",
            verdict: .xfail, message: "m\u{01}", expected: "e", actual: "a", durationMicros: 77,
            transcript: entries, reproducer: Array(entries.reversed()), rawVerdict: .fail,
            expectation: "https://x/1", attempts: 2, unfinished: true, otherShard: 3)
        full.notRun = .blocked
        full.blockedBy = "Y[2]"
        full.seenIn = ["Z[1]", "Z\"2"]
        let bare = CaseResult(id: "P", ruleID: "P", level: .may, statement: "", cite: "", verdict: .pass, message: "")
        for c in [full, bare] {
            #expect(
                JournalLines.caseEnd(time: t, index: 9, result: JournalLines.caseDocument(c))
                    == (try encoded(RunJournal.CaseEndRecord(time: t, index: 9, result: CaseDocument(c)))))
        }
        // A property added to the document must be added to the hand-written encoder too.
        #expect(Mirror(reflecting: CaseDocument(bare)).children.count == DocumentJSON.caseDocumentFields)
    }

    @Test("a run folder on tmpfs is known to be in memory; one on a disk is not")
    func journalFolderInMemory() throws {
        // What the file system is, asked of stat(1) rather than of the code under test.
        func type(_ path: String) throws -> String {
            let p = try ChildProcess.run("/usr/bin/stat", ["-f", "-c", "%T", path], stdout: .capture)
            return String(decoding: p.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for path in ["/dev/shm", FileManager.default.currentDirectoryPath] {
            let memory = ["tmpfs", "ramfs"].contains(try type(path))
            // A folder not made yet is judged by the one above it.
            #expect(RunJournal.isInMemory(URL(fileURLWithPath: path + "/not-made-yet/run")) == memory, "\(path)")
        }
    }

    @Test("a complete journal rebuilds the same verdicts; a cut one marks the unfinished case")
    func rebuildInProcess() throws {
        let folder = tempFolder("journal")
        defer { try? FileManager.default.removeItem(at: folder) }
        let runner = Runner(
            spec: TestSupport.v2, device: FaultCatalogue.entry(named: "missing-arc")!.makeDevice(),
            options: RunOptions(target: "fault:missing-arc"))
        runner.observers.append(try RunJournal(folder: folder, syncEachOperation: true))
        let report = try runner.run()
        let journal = folder.appendingPathComponent(RunJournal.fileName)
        // The journal's time is the cost split's journal, not another observer's.
        #expect((report.run.cost?.journal ?? 0) > 0 && report.run.cost?.observers == 0)

        let whole = try JournalReader.read(folder.path)
        #expect(whole.complete && whole.unfinished == nil)
        #expect(verdicts(whole.report) == verdicts(report))
        #expect(whole.report.cases.map(\.id) == report.cases.map(\.id))

        // Cut the journal after the third operation of the 41st case to start (cases run in tour order), with half
        // a line after it.
        let lines = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").map(String.init)
        let starts = lines.indices.filter { lines[$0].contains("\"type\":\"case-start\"") }
        // The first case from the 41st on that issues at least three operations of its own.
        func opsOfCase(_ at: Int) -> Int {
            var n = 0
            var i = at + 1
            while i < lines.count, !lines[i].contains("\"type\":\"case-end\"") {
                if lines[i].contains("\"type\":\"op\"") { n += 1 }
                i += 1
            }
            return n
        }
        let startIndex = try #require(starts.indices.first { $0 >= 40 && opsOfCase(starts[$0]) >= 3 })
        let start = starts[startIndex]
        var cut = start + 1
        var ops = 0
        while ops < 3 {
            if lines[cut].contains("\"type\":\"op\"") { ops += 1 }
            cut += 1
        }
        let kept = lines[..<cut].joined(separator: "\n") + "\n" + String(lines[cut].prefix(30))
        try Data(kept.utf8).write(to: journal)
        let endedIDs = Set(
            report.cases.map(\.id).filter { id in
                lines[..<cut].contains { $0.contains("\"type\":\"case-end\"") && $0.contains("\"id\":\"\(id)\"") }
            })
        let unfinishedID = try #require(report.cases.map(\.id).first { lines[start].contains("\"id\":\"\($0)\"") })

        let cutContents = try JournalReader.read(folder.path)
        #expect(cutContents.tornTail)
        #expect(!cutContents.complete)
        #expect(cutContents.finished.count == startIndex && Set(cutContents.finished.map(\.id)) == endedIDs)
        #expect(cutContents.unfinished == unfinishedID)
        let rebuilt = try JournalReader.rebuild(folder: folder.path)
        let original = Dictionary(report.cases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for c in rebuilt.cases {
            if endedIDs.contains(c.id) {
                #expect(c.verdict == original[c.id]?.verdict && c.message == original[c.id]?.message, "\(c.id)")
            } else if c.id == unfinishedID {
                #expect(c.unfinished == true && c.verdict == .error)
                #expect(c.transcript.last?.outcome == nil, "the operation in flight has no answer")
                #expect(c.transcript.count == 3)
            } else if original[c.id]?.verdict == .notApplicable {
                #expect(c.verdict == .notApplicable, "\(c.id): the plan says why it does not run")
            } else if original[c.id]?.verdict != .skipped {
                #expect(c.verdict == .skipped && c.message.contains("stopped before"), "\(c.id)")
            }
        }
        #expect(rebuilt.cases.map(\.id) == report.cases.map(\.id))
        #expect(rebuilt.run.interrupted && rebuilt.run.fromJournal == true)
        for name in [ReportWriter.jsonFile, ReportWriter.markdownFile, ReportWriter.junitFile, ReportWriter.tapFile] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path))
        }
        #expect(try ReportReader.load(folder.path).cases.filter { $0.unfinished == true }.map(\.id) == [unfinishedID])

        // The same cut journal with the unfinished case's start record damaged too: its operations name the case,
        // so the case and what it did are still found, and the damage is said.
        var damagedLines = Array(lines[..<cut])
        damagedLines[start] = String(damagedLines[start].prefix(25)) + "#"
        try Data((damagedLines.joined(separator: "\n") + "\n" + String(lines[cut].prefix(30))).utf8).write(to: journal)
        let noStart = try JournalReader.read(folder.path)
        #expect(noStart.unfinished == unfinishedID)
        #expect(noStart.report.run.journalDamaged?.contains("line \(start + 1) ") == true)
        let lost = try #require(noStart.report.cases.first { $0.id == unfinishedID })
        #expect(lost.unfinished == true && lost.verdict == .error && lost.transcript.count == 3)
        #expect(lost.transcript.last?.outcome == nil, "the operation in flight has no answer")
    }

    @Test("a journal of whole cases rebuilds the same report; a cut one still names the unfinished case")
    func rebuildFromWholeCases() throws {
        let folder = tempFolder("journal-cases")
        defer { try? FileManager.default.removeItem(at: folder) }
        let runner = Runner(
            spec: TestSupport.v2, device: FaultCatalogue.entry(named: "missing-arc")!.makeDevice(),
            options: RunOptions(target: "fault:missing-arc"))
        runner.observers.append(try RunJournal(folder: folder, syncEachOperation: false))
        let report = try runner.run()
        let journal = folder.appendingPathComponent(RunJournal.fileName)
        let lines = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").map(String.init)
        // Inside cases, no record per operation: two records a case.
        var inCase = false
        var opsInCases = 0
        for line in lines {
            if line.contains("\"type\":\"case-start\"") { inCase = true }
            if line.contains("\"type\":\"case-end\"") { inCase = false }
            if inCase && (line.contains("\"type\":\"op\"") || line.contains("\"type\":\"op-end\"")) {
                opsInCases += 1
            }
        }
        #expect(opsInCases == 0)
        let whole = try JournalReader.read(folder.path)
        #expect(whole.complete && verdicts(whole.report) == verdicts(report))
        #expect(whole.report.cases.map(\.transcript) == report.cases.map(\.transcript))

        // Cut right after the 41st case's start record: it is the unfinished one, with no operations known.
        let start = lines.indices.filter { lines[$0].contains("\"type\":\"case-start\"") }[40]
        try Data((lines[...start].joined(separator: "\n") + "\n").utf8).write(to: journal)
        let cut = try JournalReader.read(folder.path)
        let unfinishedID = try #require(report.cases.map(\.id).first { lines[start].contains("\"id\":\"\($0)\"") })
        #expect(cut.unfinished == unfinishedID && cut.finished.count == 40 && !cut.complete)
        let rebuilt = try JournalReader.rebuild(folder: folder.path)
        let c = try #require(rebuilt.cases.first { $0.id == unfinishedID })
        #expect(c.unfinished == true && c.verdict == .error && c.transcript.isEmpty)
    }

    @Test("the pauses a rule asks for are counted apart from the runner's time")
    func pausesAreCountedApart() throws {
        final class Unhurried: ReferenceDeviceHook { override var answersPromptly: Bool { false } }
        let only = ExpansionOptions(only: ["V2-INV-NO-SPONTANEOUS-CHANGE"])
        let report = try Runner(
            spec: TestSupport.v2, device: Unhurried(), options: RunOptions(target: "t", expansion: only)
        ).run()
        let cost = try #require(report.run.cost)
        // Four pauses of 2 ms in each settable state of the reference device (at least the five v2 base states).
        #expect((cost.waits ?? 0) >= 5 * 4 * 2_000)
        // The runner's share is what is left of the wall time once the pauses, like the device, are taken out.
        let split = RunCost(
            wall: 1_000, device: 100, deviceCalls: 90, journal: 50, observers: 10, planning: 40, waits: 300,
            operations: 1, byKind: [:])
        #expect(split.runner == 500 && split.waits == 300)
        #expect(cost.summary.contains("pauses the rules ask for"))
        // A device that answers promptly is not paused for.
        let prompt = try Runner(
            spec: TestSupport.v2, device: ReferenceDeviceV2(), options: RunOptions(target: "t", expansion: only)
        ).run()
        #expect(prompt.run.cost?.waits == nil)
    }

    @Test("a folder made from a copy of a shipped spec verifies where that copy is not")
    func verifiesWithTheBuiltinSpecOfTheSameHash() throws {
        let folder = tempFolder("elsewhere")
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = try BuiltinSpecs.load("vfio-migration-v2.json")
        try #require(spec.sha256 == SHA256.hex(BuiltinSpecs.file("vfio-migration-v2.json")!.bytes))
        let only = ExpansionOptions(only: ["V2-ARC-STATE"])
        var report = try Runner(
            spec: spec, device: ReferenceDeviceV2(), options: RunOptions(target: "ref:v2", expansion: only)
        ).run()
        // As a lab's guest records it: the same bytes under a path this machine does not have.
        report.run.specPath = "/no/such/folder/vfio-migration-v2.json"
        try ReportWriter.write(report, to: folder)
        let markdown = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("- `uapi`: include/uapi/linux/vfio.h"))
        let verified = ReportVerifier.verify(folder.path)
        #expect(verified.ok, "\(verified.problems)")
        #expect(verified.passed.contains { $0.contains("builtin:vfio-migration-v2.json") })
    }

    @Test("a journal without a run record is refused with the file named")
    func emptyJournal() throws {
        let folder = tempFolder("empty")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("{\"type\":\"op\",\"time\":\"x\"".utf8).write(to: folder.appendingPathComponent(RunJournal.fileName))
        #expect(throws: ReportReadError.self) { try JournalReader.read(folder.path) }
    }
}

// MARK: - The command line, killed and interrupted

@Suite("LabRunner: command line", .serialized)
struct LabRunnerCommandLineTests {
    static var binary: URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for candidate in [".build-lab5/debug/migconform", ".build/debug/migconform"] {
            let url = root.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// Waits (a second at most) until /proc says process `pid` is stopped (state `T`).
    static func waitUntilStopped(_ pid: Int32) {
        for _ in 0..<1000 {
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"),
                stat[stat.index(after: close)...].split(separator: " ").first == "T"
            {
                return
            }
            usleep(1000)
        }
    }

    static func records(_ journal: URL) -> [String] {
        guard let data = FileManager.default.contents(atPath: journal.path) else { return [] }
        // Only whole lines: the last one may be half written.
        var text = String(decoding: data, as: UTF8.self)
        if !text.hasSuffix("\n"), let nl = text.lastIndex(of: "\n") { text = String(text[...nl]) }
        return text.split(separator: "\n").map(String.init)
    }

    static func start(_ binary: URL, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = TestSupport.root
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test("kill -9 halfway: report --from-journal rebuilds the finished cases and marks the unfinished one")
    func killNine() throws {
        guard let binary = Self.binary else {
            print("skipped: build the migconform binary first (swift build) to run the kill -9 test")
            return
        }
        let folder = tempFolder("kill")
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = folder.appendingPathComponent(RunJournal.fileName)
        let p = try Self.start(binary, ["run", "--target", "ref:v2?state-size=64KiB", "--out", folder.path, "--quiet"])
        var killedAt: [String]?
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning && Date() < deadline {
            if Self.records(journal).filter({ $0.contains("\"type\":\"case-end\"") }).count >= 30 {
                kill(p.processIdentifier, SIGSTOP)
                // A write under way when the signal came still lands: read once the process has stopped.
                Self.waitUntilStopped(p.processIdentifier)
                let now = Self.records(journal)
                // Kill in the middle of a case, so that there is an unfinished one to mark.
                if let last = now.last, !last.contains("\"type\":\"case-end\"") {
                    kill(p.processIdentifier, SIGKILL)
                    killedAt = now
                    break
                }
                kill(p.processIdentifier, SIGCONT)
            }
            usleep(2000)
        }
        p.waitUntilExit()
        let seen = try #require(killedAt, "the run ended before it could be killed halfway")
        #expect(p.terminationReason == .uncaughtSignal)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(ReportWriter.jsonFile).path))

        let r = try TestSupport.shell(binary, ["report", "--from-journal", folder.path])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try ReportReader.load(folder.path)
        // The journal's own records, read independently of the rebuild.
        let ended = seen.filter { $0.contains("\"type\":\"case-end\"") }
        let unfinished = report.cases.filter { $0.unfinished == true }
        #expect(unfinished.count == 1)
        #expect(unfinished.first?.verdict == .error)
        let lastStart = try #require(seen.last { $0.contains("\"type\":\"case-start\"") })
        #expect(unfinished.first.map { lastStart.contains("\"id\":\"\($0.id)\"") } == true)
        var finished = 0
        for c in report.cases where c.unfinished != true {
            if let line = ended.first(where: { $0.contains("\"id\":\"\(c.id)\"") }) {
                finished += 1
                #expect(line.contains("\"verdict\":\"\(c.verdict.rawValue)\""), "\(c.id)")
            } else if !c.message.contains("not applicable") && c.verdict != .notApplicable {
                #expect(c.verdict == .skipped && c.message.contains("stopped before"), "\(c.id): \(c.message)")
            }
        }
        #expect(finished == ended.count)
        #expect(report.run.interrupted && report.run.fromJournal == true)
        #expect(ReportVerifier.verify(folder.path).ok)
    }

    /// Twice at once is how `timeout -s INT` signals: to the command, then to its process group. That is one
    /// request, not the second SIGINT that exits at once.
    @Test(
        "SIGINT ends the run gracefully: exit 4, complete report marked interrupted, device reset",
        arguments: [1, 2])
    func sigint(times: Int) throws {
        guard let binary = Self.binary else {
            print("skipped: build the migconform binary first (swift build) to run the SIGINT test")
            return
        }
        let folder = tempFolder("sigint")
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = folder.appendingPathComponent(RunJournal.fileName)
        let p = try Self.start(binary, ["run", "--target", "ref:v2?state-size=64KiB", "--out", folder.path, "--quiet"])
        let deadline = Date().addingTimeInterval(120)
        var sent = false
        while p.isRunning && Date() < deadline {
            if Self.records(journal).filter({ $0.contains("\"type\":\"case-end\"") }).count >= 20 {
                for _ in 0..<times { kill(p.processIdentifier, SIGINT) }
                sent = true
                break
            }
            usleep(2000)
        }
        p.waitUntilExit()
        try #require(sent, "the run ended before it could be interrupted")
        #expect(p.terminationStatus == 4)
        let report = try ReportReader.load(folder.path)
        #expect(report.run.interrupted)
        #expect(report.run.stopReason?.contains("SIGINT") == true)
        #expect(report.run.cleanup?.restored == true)
        #expect(report.cases.contains { $0.verdict == .skipped && $0.message.contains("interrupted by SIGINT") })
        #expect(report.cases.count == (try JournalReader.read(folder.path)).report.cases.count)
        #expect(report.cases.filter { $0.verdict == .pass }.count >= 20)
        #expect(ReportVerifier.verify(folder.path).ok)
    }
}

// MARK: - Hazards

@Suite("LabRunner: hazards")
struct LabRunnerHazardTests {
    @Test("hazardous cases are skipped on affected kernels unless allowed, and the report says so")
    func hazards() throws {
        let skipped = try run(KernelLookalike(release: "6.8.0"))
        let ids = Set(skipped.hazardsSkipped.map(\.hazardID))
        #expect(ids == ["HZ-PRECOPY-LOOP", "HZ-SET-IN-ERROR-WARN"])
        for h in skipped.hazardsSkipped {
            let c = try #require(skipped.cases.first { $0.id == h.caseID })
            #expect(c.verdict == .skipped)
            #expect(c.message.contains("--allow-hazard \(h.hazardID)"))
        }
        #expect(MarkdownReport.render(skipped).contains("HZ-PRECOPY-LOOP"))

        let one = try run(
            KernelLookalike(release: "6.8.0"),
            RunOptions(target: "t", expansion: ExpansionOptions(allowedHazards: ["HZ-PRECOPY-LOOP"])))
        #expect(Set(one.hazardsSkipped.map(\.hazardID)) == ["HZ-SET-IN-ERROR-WARN"])
        #expect(one.cases.first { $0.id == forbiddenCase }?.verdict == .pass)

        let all = try run(
            KernelLookalike(release: "6.8.0"),
            RunOptions(target: "t", expansion: ExpansionOptions(allowedHazards: ["all"])))
        #expect(all.hazardsSkipped.isEmpty)
        #expect(all.run.allowedHazards == ["all"])

        // A fixed kernel is not affected by the loop; the WARN hazard has no fixed release.
        let fixed = try run(KernelLookalike(release: "7.2.1"))
        #expect(Set(fixed.hazardsSkipped.map(\.hazardID)) == ["HZ-SET-IN-ERROR-WARN"])
    }
}

// MARK: - Baselines, flakes, levels

@Suite("LabRunner: baselines")
struct LabRunnerBaselineTests {
    @Test("a baseline from a fault run: the same fault gives XFAILs and nothing unexpected; the reference gives XPASS")
    func baselineRoundTrip() throws {
        let entry = try #require(FaultCatalogue.entry(named: "missing-arc"))
        let fault = try run(entry.makeDevice())
        let failing = fault.cases.filter { [.fail, .warn].contains($0.verdict) }
        #expect(!failing.isEmpty)
        #expect(!ExitLevel.must.unexpected(fault.cases).isEmpty)

        let text = Expectations.render(from: fault)
        let baseline = try Expectations.parse(text, path: "missing-arc.txt")
        #expect(baseline.entries.count == failing.count)

        let again = try run(entry.makeDevice(), RunOptions(target: "fault", baseline: baseline))
        #expect(ExitLevel.must.unexpected(again.cases).isEmpty)
        #expect(again.cases.filter { $0.verdict == .xfail }.count == failing.count)
        #expect(
            again.cases.filter { $0.verdict == .xfail }.allSatisfy { $0.rawVerdict == .fail || $0.rawVerdict == .warn })
        #expect(!again.summary.conformant, "an expected failure is still a failure of the device")
        #expect(again.run.baseline?.unused.isEmpty == true)

        let reference = try run(ReferenceDeviceV2(), RunOptions(target: "ref", baseline: baseline))
        let xpass = reference.cases.filter { $0.verdict == .xpass }
        #expect(xpass.count == failing.count)
        #expect(
            Set(ExitLevel.must.unexpected(reference.cases).map(\.id))
                == Set(xpass.filter { $0.level.isMandatory }.map(\.id)))
    }

    @Test("expectations: globs, exact ids first, links with '#', errors with line numbers, stale lines")
    func expectationsFile() throws {
        let e = try Expectations.parse(
            """
            # comment
            V2-ARC-STATE[*     FAIL    https://bugs.example.org/show_bug.cgi?id=7#c3
            V2-ARC-STATE[STOP->RUNNING]   WARN   exact
            V2-NOTHING-*       FLAKE
            """)
        #expect(e.entries.count == 3)
        #expect(e.entries[0].reason == "https://bugs.example.org/show_bug.cgi?id=7#c3")
        #expect(e.match(caseID: "V2-ARC-STATE[STOP->RUNNING]", ruleID: "V2-ARC-STATE")?.reason == "exact")
        #expect(e.match(caseID: "V2-ARC-STATE[RUNNING->STOP]", ruleID: "V2-ARC-STATE")?.verdict == .fail)
        #expect(e.match(caseID: "V2-OTHER", ruleID: "V2-OTHER") == nil)
        #expect(
            e.unused(by: ["V2-ARC-STATE[RUNNING->STOP]"]) == [
                "line 3: V2-ARC-STATE[STOP->RUNNING]", "line 4: V2-NOTHING-*",
            ])
        let timeout = CaseResult(
            id: "V2-ARC-STATE[RUNNING->STOP]", ruleID: "V2-ARC-STATE", level: .must, statement: "",
            cite: "", verdict: .timeout, message: "")
        #expect(e.judge(timeout).verdict == .timeout, "a failure of another kind than expected stays unexpected")
        do {
            _ = try Expectations.parse("A FAIL\nB PASSED reason\n", path: "x.txt")
            Issue.record("a bad verdict was accepted")
        } catch let error as ExpectationsError {
            #expect(error.message.hasPrefix("x.txt:2:"))
        }
    }

    @Test("--retries: a failure that passes on a retry is FLAKE, and still the device's failure")
    func flake() throws {
        let id = "V2-FEAT-SET-MIGRATION-REJECTED"
        let once = try run(FlakyDevice())
        #expect(once.cases.first { $0.id == id }?.verdict == .fail)
        let retried = try run(FlakyDevice(), RunOptions(target: "flaky", retries: 2))
        let c = try #require(retried.cases.first { $0.id == id })
        #expect(c.verdict == .flake)
        #expect(c.rawVerdict == .fail)
        #expect(c.attempts == 2)
        // The rule was broken once: the retry tells an intermittent failure from a steady one, and no more.
        #expect(ExitLevel.must.unexpected(retried.cases).map(\.id) == [id])
        #expect(retried.summary.verdict == .notConformant)
        // An ERROR first, then a FAIL on the retry: what the device answered is the verdict.
        let errorFirst = try run(ErrorThenAcceptsDevice(), RunOptions(target: "flaky", retries: 2))
        let e = try #require(errorFirst.cases.first { $0.id == id })
        #expect(e.verdict == .fail && e.attempts == 2, "\(e.verdict) \(e.message)")
        #expect(e.message.contains("the first run ended in ERROR"))
        // That FAIL is held against a baseline like any: expected, it is an XFAIL.
        let expected = try Expectations.parse("\(id) FAIL known\n", path: "known.txt")
        let judged = try run(ErrorThenAcceptsDevice(), RunOptions(target: "flaky", baseline: expected, retries: 2))
        #expect(judged.cases.first { $0.id == id }?.verdict == .xfail)
        // An ERROR that a retry passed leaves nothing to expect of the device in a baseline written from the run,
        // and a FLAKE expectation does not turn an ERROR into an expected failure (it is retried).
        var passedAfterError = e
        passedAfterError.verdict = .flake
        passedAfterError.rawVerdict = .error
        var report = errorFirst
        report.cases = [passedAfterError]
        #expect(!Expectations.render(from: report).contains(id))
        let flaky = try Expectations.parse("\(id) FLAKE intermittent\n", path: "flaky.txt")
        var error = e
        error.verdict = .error
        #expect(flaky.judge(error).verdict == .error)
        // A device that always fails stays FAIL after its retries.
        let fault = try run(
            FaultCatalogue.entry(named: "set-migration-accepted")!.makeDevice(),
            RunOptions(target: "fault", retries: 2))
        let f = try #require(fault.cases.first { $0.id == id })
        #expect(f.verdict == .fail && f.attempts == 3)
    }

    @Test("--level decides what counts for the exit code, never the verdicts")
    func levels() {
        func c(_ level: Level, _ v: Verdict) -> CaseResult {
            CaseResult(
                id: "\(level)-\(v.rawValue)", ruleID: "R", level: level, statement: "", cite: "", verdict: v,
                message: "")
        }
        // A FLAKE whose first attempt was an ERROR (the runner's or the channel's) passed.
        var errorThenPass = c(.must, .flake)
        errorThenPass.rawVerdict = .error
        let cases = [
            c(.must, .pass), c(.should, .warn), c(.may, .error), c(.may, .info), c(.must, .xfail), errorThenPass,
        ]
        #expect(ExitLevel.must.unexpected(cases).isEmpty)
        #expect(ExitLevel.should.unexpected(cases).map(\.id) == ["SHOULD-WARN"])
        #expect(ExitLevel.may.unexpected(cases).map(\.id) == ["SHOULD-WARN"])
        #expect(ExitLevel.must.unexpected(cases + [c(.mustNot, .timeout)]).map(\.id) == ["MUST NOT-TIMEOUT"])
        // An ERROR is no result of the device's: at the exit level it makes the run incomplete, not failed.
        #expect(ExitLevel.must.errored(cases).isEmpty && ExitLevel.should.errored(cases).isEmpty)
        #expect(ExitLevel.may.errored(cases).map(\.id) == ["MAY-ERROR"])
        #expect(ExitLevel.must.unexpected([c(.must, .error)]).isEmpty)
        #expect(ExitLevel.must.errored([c(.must, .error)]).map(\.id) == ["MUST-ERROR"])
        // A FLAKE whose first attempt failed broke its rule once.
        var failThenPass = c(.must, .flake)
        failThenPass.rawVerdict = .fail
        #expect(ExitLevel.must.unexpected([failThenPass]).map(\.id) == ["MUST-FLAKE"])
        #expect(RunSummary(cases: [failThenPass]).verdict == .notConformant)
        #expect(RunSummary(cases: [errorThenPass]).verdict == .conformant)
        // An ERROR a baseline expected (XFAIL) is still no verdict on the device: the run is incomplete.
        var expectedError = c(.must, .xfail)
        expectedError.rawVerdict = .error
        #expect(RunSummary(cases: [c(.must, .pass), expectedError]).verdict == .incomplete)
        #expect(RunSummary(cases: [expectedError]).mustErrored == 1)
        #expect(ExitLevel.must.errored([expectedError]).map(\.id) == ["MUST-XFAIL"])
    }
}

// MARK: - Diff

@Suite("LabRunner: diff")
struct LabRunnerDiffTests {
    /// A report.json whose summary was edited (or written by a version that judged otherwise) says one thing and
    /// its cases another: the commands that read it for use go by the cases, and say so.
    @Test(.enabled(if: TestSupport.binary != nil, "build the package first: the migconform binary is not there"))
    func aSummaryThatDisagreesWithItsCasesGivesWayToThem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("summary-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let real = dir.appendingPathComponent("real").path
        let edited = dir.appendingPathComponent("edited")
        _ = try TestSupport.shell(
            TestSupport.binary!, ["run", "--target", "fault:missing-arc", "--out", real, "--quiet"])
        try FileManager.default.createDirectory(at: edited, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: real + "/report.json", encoding: .utf8)
        let lie = text.replacingOccurrences(
            of: "\"verdict\" : \"NOT CONFORMANT\"", with: "\"verdict\" : \"CONFORMANT\"")
        try #require(lie != text)
        try lie.write(to: edited.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)
        let diff = try TestSupport.shell(TestSupport.binary!, ["diff", real, edited.path])
        #expect(!diff.stdout.contains("-> CONFORMANT"), "\(diff.stdout)")
        let note = TestSupport.words(diff.stderr)
        #expect(
            note.contains("note:") && note.contains("(the verdict CONFORMANT, the cases NOT CONFORMANT)"),
            "\(diff.stderr)")
        let out = dir.appendingPathComponent("rebuilt").path
        let rebuilt = try TestSupport.shell(TestSupport.binary!, ["report", edited.path, "--out", out])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(md.hasPrefix("# NOT CONFORMANT"), "\(md.prefix(200))")
    }

    @Test(
        "reference vs fault: exactly the fault's rules regress",
        arguments: [
            "set-migration-accepted", "missing-arc",
            "enomsg-in-stop-copy",
        ])
    func faultRegressions(_ name: String) throws {
        let entry = try #require(FaultCatalogue.entry(named: name))
        let reference = try run(ReferenceDeviceV2(ReferenceDeviceV2.Configuration(flags: entry.flags)))
        let fault = try run(entry.makeDevice())
        let diff = ReportDiff.compare(reference, fault)
        #expect(Set(diff.regressedRules) == Set(entry.trips))
        #expect(diff.hasRegressions)
        #expect(diff.fixes.isEmpty && diff.added.isEmpty && diff.removed.isEmpty)
        let text = diff.render(.text)
        let md = diff.render(.markdown)
        for rule in entry.trips {
            #expect(text.contains(rule))
            #expect(md.contains("| \(rule) |"))
        }
        #expect(text.contains("REGRESSIONS"))
        #expect(md.hasPrefix("## migconform: "))

        let back = ReportDiff.compare(fault, reference)
        #expect(!back.hasRegressions)
        #expect(Set(ReportDiff.rules(back.fixes)) == Set(entry.trips))
        #expect(!ReportDiff.compare(reference, reference).hasRegressions)
    }

    @Test("new, removed and other changes; XFAIL compares as the failure it is")
    func categories() {
        func c(_ id: String, _ v: Verdict, raw: Verdict? = nil) -> CaseResult {
            CaseResult(
                id: id, ruleID: String(id.prefix(1)), level: .must, statement: "", cite: "", verdict: v,
                message: "", rawVerdict: raw)
        }
        let info = RunInfo(
            runnerVersion: "t", specID: "s", specVersion: "1", specPath: "", specSHA256: "",
            target: "t", device: DeviceIdentity(targetKind: "t", driver: "d", detail: ""),
            features: [], migrationFlags: nil, started: "", ended: "")
        let old = RunReport(
            run: info, cases: [c("A1", .fail), c("B1", .pass), c("C1", .pass), c("D1", .fail), c("E1", .pass)])
        let new = RunReport(
            run: info,
            cases: [
                c("A1", .xfail, raw: .fail), c("B1", .skipped), c("C1", .timeout),
                c("D1", .pass), c("F1", .fail),
            ])
        let d = ReportDiff.compare(old, new)
        // A new case that fails is a regression like a case that got worse; B1 was not tested any more.
        #expect(d.regressions.map(\.caseID) == ["C1", "F1"])
        #expect(d.fixes.map(\.caseID) == ["D1"])
        #expect(d.changed.map(\.caseID) == ["B1"])
        #expect(d.added.map(\.caseID) == [])
        #expect(d.removed.map(\.caseID) == ["E1"])
    }
}

// MARK: - Shards

@Suite("LabRunner: shards")
struct LabRunnerShardTests {
    // Faults that leave every positioning arc working: with a fault that breaks an arc the tour walks through,
    // which cases are blocked (SKIPPED) depends on the order the cases run in, sharded or not.
    @Test(
        "shards 1/3, 2/3, 3/3 merged give the verdicts of the unsharded run",
        arguments: ["reference", "enomsg-in-stop-copy", "set-migration-accepted"])
    func mergeEqualsUnsharded(_ name: String) throws {
        let make: () -> MigrationDevice =
            name == "reference"
            ? { ReferenceDeviceV2() }
            : { FaultCatalogue.entry(named: name)!.makeDevice() }
        let whole = try run(make())
        var shards: [RunReport] = []
        for i in 1...3 {
            shards.append(try run(make(), RunOptions(target: name, shard: ShardInfo(index: i, count: 3))))
        }
        // Every runnable case belongs to exactly one shard, and the shards get even shares.
        let everywhere = Set(
            shards[0].cases.indices.filter { k in shards.allSatisfy { $0.cases[k].otherShard == nil } })
        let owned = shards.map { s in
            s.cases.indices.filter { s.cases[$0].otherShard == nil && !everywhere.contains($0) }
        }
        #expect(owned.map(\.count).max()! - owned.map(\.count).min()! <= 1)
        #expect(Set(owned.flatMap { $0 }).count == owned.map(\.count).reduce(0, +))
        #expect(owned.map(\.count).reduce(0, +) + everywhere.count == whole.cases.count)
        let merged = try ReportMerge.merge([shards[2], shards[0], shards[1]])
        #expect(verdicts(merged) == verdicts(whole))
        #expect(merged.cases.map(\.id) == whole.cases.map(\.id))
        #expect(merged.summary.verdicts == whole.summary.verdicts)
        #expect(merged.cases.allSatisfy { $0.otherShard == nil })
        #expect(merged.run.mergedFrom?.count == 3 && merged.run.shard == nil)
        // A shard rebuilt from a damaged journal keeps the merge from a better verdict, whatever its place.
        var damaged = shards[1]
        damaged.run.journalDamaged = "line 20 of the journal could not be read"
        for order in [[shards[0], damaged, shards[2]], [damaged, shards[0], shards[2]]] {
            let m = try ReportMerge.merge(order)
            #expect(m.run.journalDamaged?.contains("shard 2/3: line 20") == true)
            if whole.summary.verdict == .conformant { #expect(m.summary.verdict == .incomplete) }
        }

        do {
            _ = try ReportMerge.merge([shards[0], shards[2]])
            Issue.record("a merge with a missing shard succeeded")
        } catch let e as MergeError {
            #expect(e.message.contains("2/3") && e.message.contains("MUST-level"))
        }
        #expect(throws: MergeError.self) { try ReportMerge.merge([shards[0], shards[0], shards[1]]) }
        #expect(throws: MergeError.self) { try ReportMerge.merge([whole]) }
    }

    @Test("shard parsing and interleaving")
    func sharding() {
        #expect(Sharding.parse("2/3") == ShardInfo(index: 2, count: 3))
        for bad in ["0/3", "4/3", "1/0", "x/2", "1/2/3", "1"] { #expect(Sharding.parse(bad) == nil, "\(bad)") }
        let owners = Sharding.owners([true, false, true, true, true], shard: ShardInfo(index: 1, count: 2))
        #expect(owners == [1, nil, 2, 1, 2])
    }
}

// MARK: - Guards

@Suite("LabRunner: guards")
struct LabRunnerGuardTests {
    @Test("--expect-driver and --expect-flags refuse the wrong device before any case runs")
    func guards() throws {
        let device = ReferenceDeviceV2(ReferenceDeviceV2.Configuration(flags: [.stopCopy, .p2p]))
        var options = RunOptions(target: "t", expectDriver: "mlx5_vfio_pci")
        #expect(throws: TargetMismatch.self) { try run(device, options) }
        options = RunOptions(target: "t", expectFeatures: ["stop-copy", "p2p", "pre-copy"])
        #expect(throws: TargetMismatch.self) {
            try run(ReferenceDeviceV2(ReferenceDeviceV2.Configuration(flags: [.stopCopy, .p2p])), options)
        }
        options = RunOptions(target: "t", expectFlags: 0x7)
        #expect(throws: TargetMismatch.self) {
            try run(ReferenceDeviceV2(ReferenceDeviceV2.Configuration(flags: [.stopCopy])), options)
        }
        options = RunOptions(
            target: "t", expectDriver: "migconform-reference", expectFeatures: ["stop-copy", "p2p"],
            expectFlags: 0x3)
        let ok = try run(ReferenceDeviceV2(ReferenceDeviceV2.Configuration(flags: [.stopCopy, .p2p])), options)
        #expect(TestSupport.conformantAlone(ok))
    }
}

// MARK: - Verify

@Suite("LabRunner: verify")
struct LabRunnerVerifyTests {
    @Test("verify accepts a written folder and finds tampering, missing and extra files")
    func verify() throws {
        let folder = tempFolder("verify")
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try run(ReferenceDeviceV2())
        try ReportWriter.write(report, to: folder)
        let ok = ReportVerifier.verify(folder.path, specPath: TestSupport.specPath("v2"))
        #expect(ok.ok, "\(ok.problems)")
        #expect(ok.passed.contains { $0.hasPrefix("spec ") })

        // report.json edited, hashes untouched: the renderings no longer match it.
        let json = folder.appendingPathComponent(ReportWriter.jsonFile)
        let original = try Data(contentsOf: json)
        let edited = String(decoding: original, as: UTF8.self)
            .replacingOccurrences(of: "\"verdict\" : \"NOT_APPLICABLE\"", with: "\"verdict\" : \"PASS\"")
        try Data(edited.utf8).write(to: json)
        let tampered = ReportVerifier.verify(folder.path)
        #expect(tampered.problems.contains { $0.contains("not what report.json renders to") })
        #expect(tampered.problems.contains { $0.contains("summary does not agree") })
        try original.write(to: json)

        try Data("edited".utf8).write(to: folder.appendingPathComponent(ReportWriter.tapFile))
        #expect(ReportVerifier.verify(folder.path).problems.contains { $0.hasPrefix("report.tap: SHA-256") })
        try FileManager.default.removeItem(at: folder.appendingPathComponent(ReportWriter.tapFile))
        #expect(ReportVerifier.verify(folder.path).problems.contains { $0 == "report.tap is listed but missing" })
        try Data("x".utf8).write(to: folder.appendingPathComponent("extra.txt"))
        #expect(ReportVerifier.verify(folder.path).problems.contains { $0.contains("extra.txt") })
        let wrongSpec = ReportVerifier.verify(folder.path, specPath: TestSupport.specPath("v1"))
        #expect(wrongSpec.problems.contains { $0.hasPrefix("spec ") })
    }
}

/// A reference device whose resume writes each take 5 ms, as over a slow channel.
final class SlowWritesDevice: ReferenceDeviceHook {
    override var answersPromptly: Bool { false }
    override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if case .write = operation { usleep(5_000) }
        return try super.perform(operation)
    }
}

@Suite("LabRunner: stopping")
struct LabRunnerStopTests {
    /// Stops the run a moment after a given case starts.
    final class StopDuring: RunObserver, @unchecked Sendable {
        let id: String
        weak var runner: Runner?
        var stoppedAt: Date?
        init(_ id: String) { self.id = id }
        func caseWillStart(index: Int, id: String, attempt: Int) {
            guard id == self.id, stoppedAt == nil else { return }
            stoppedAt = Date().addingTimeInterval(0.1)
            // Runner.stop is made for another thread (a signal handler's queue).
            nonisolated(unsafe) let runner = self.runner
            Thread.detachNewThread {
                usleep(100_000)
                runner?.stop("interrupted by a test")
            }
        }
    }

    /// A case of thousands of operations does not run to its end after a stop: the call in flight is given up, and
    /// so is every call after it, even where the check let the first one pass.
    @Test func aStopEndsTheCaseInFlightNotOnlyItsCurrentCall() throws {
        let runner = Runner(spec: TestSupport.v2, device: SlowWritesDevice(), options: RunOptions(target: "slow"))
        let stop = StopDuring("V2-ROUND-TRIP-BYTEWISE")
        stop.runner = runner
        runner.observers.append(stop)
        let report = try runner.run()
        let stoppedAt = try #require(stop.stoppedAt, "the case never started")
        let after = Date().timeIntervalSince(stoppedAt)
        // The byte-by-byte round trip writes over 4,000 times, 20 s at 5 ms a write.
        #expect(after < 3, "the run went on for \(after) s after the stop")
        #expect(report.run.interrupted)
        #expect(report.run.cleanup?.restored == true)
        let c = try #require(report.cases.first { $0.id == "V2-ROUND-TRIP-BYTEWISE" })
        #expect(c.verdict != .pass && c.verdict != .fail, "\(c.verdict): \(c.message)")
        // Calls given up before they were issued are in no transcript: the device never saw them.
        #expect(!report.cases.contains { $0.transcript.contains { $0.transportError?.contains("not issued") == true } })
    }

    /// Any device, each call 1 ms slower, as over a slow channel.
    final class Slowed: MigrationDevice {
        let inner: MigrationDevice
        init(_ inner: MigrationDevice) { self.inner = inner }
        var generation: ProtocolGeneration { inner.generation }
        var identity: DeviceIdentity { inner.identity }
        func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
            usleep(1_000)
            return try inner.perform(operation)
        }
    }

    /// A stop while a failing case is retried: the result counts the retries that ran, not those it was asked for.
    @Test func aStopDuringRetriesCountsOnlyTheRetriesThatRan() throws {
        var options = RunOptions(target: "slow")
        options.retries = 50
        options.expansion.only = ["V2-ROUND-TRIP-ODD-CHUNKS"]
        let runner = Runner(
            spec: TestSupport.v2, device: Slowed(FaultyDeviceV2(.resumeWriteTakesNothing)), options: options)
        final class Count: RunObserver, @unchecked Sendable {
            var starts = 0
            func caseWillStart(index: Int, id: String, attempt: Int) { starts += 1 }
        }
        let count = Count()
        runner.observers.append(count)
        nonisolated(unsafe) let r = runner
        Thread.detachNewThread {
            usleep(300_000)
            r.stop("interrupted by a test")
        }
        let report = try runner.run()
        let c = try #require(report.cases.first { $0.id == "V2-ROUND-TRIP-ODD-CHUNKS" })
        #expect(c.verdict == .fail)
        let attempts = try #require(c.attempts)
        #expect(attempts < 51, "\(c.message)")
        #expect(attempts <= count.starts, "\(attempts) attempts counted, \(count.starts) started")
        #expect(c.message.contains("of 50 retries; the others did not run: interrupted by a test"), "\(c.message)")
    }

    /// A device whose first GET of the migration flags (discovery's first question) takes half a second.
    final class SlowToDiscover: ReferenceDeviceHook {
        var asked = false
        override var answersPromptly: Bool { false }
        override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
            if case .getMigrationFlags = operation, !asked {
                asked = true
                usleep(500_000)
            }
            return try super.perform(operation)
        }
    }

    /// A stop while the device's features are discovered: no case ran, no report; the device is reset all the
    /// same, and the error says so.
    @Test func aStopDuringDiscoveryResetsTheDeviceAndSaysNothingRan() throws {
        let runner = Runner(spec: TestSupport.v2, device: SlowToDiscover(), options: RunOptions(target: "slow"))
        runner.deadlineDevice.recoveryGrace = 1
        nonisolated(unsafe) let r = runner
        Thread.detachNewThread {
            usleep(100_000)
            r.stop("interrupted by a test")
        }
        let e = try #require(throws: StoppedBeforeCases.self) { try runner.run() }
        #expect(e.cleanup.restored, "\(e)")
        #expect(e.description.contains("interrupted by a test before any case ran; the device was reset"))
    }
}
