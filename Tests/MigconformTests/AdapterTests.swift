import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformReport
import MigconformRun
import MigconformSpec
import Testing

/// Where the adapter tests find their programs.
enum AdapterFixtures {
    /// Every case but `V2-ROUND-TRIP-BYTEWISE`, whose one-byte writes are most of a run's operations: for runs
    /// through an adapter that prove something other than the bytewise stream (which two full runs still cover).
    static let withoutBytewise = ExpansionOptions(exclude: ["V2-ROUND-TRIP-BYTEWISE"])
    /// The cases such a run did run (the excluded one is recorded as SKIPPED).
    /// Run alone, an adapter's two-device rules are not run (no peer): left out here too.
    static func ran(_ r: RunReport) -> [CaseResult] {
        r.cases.filter { $0.ruleID != "V2-ROUND-TRIP-BYTEWISE" && $0.notRun != .noPeer }
    }

    /// The Python adapter in this checkout.
    static let pythonAdapter = TestSupport.root.appendingPathComponent("Tests/Adapter/adapter.py").path

    /// `python3`, when it is on the PATH.
    static let python: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    /// The `migconform` binary of the same build as these tests (beside the test executable), or of a usual
    /// build folder of this checkout.
    static let binary: String? = {
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(
                URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("migconform"))
        }
        if let main = Bundle.main.executableURL {
            candidates.append(main.deletingLastPathComponent().appendingPathComponent("migconform"))
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("migconform"))
        for folder in [".build-adapter", ".build"] {
            candidates.append(TestSupport.root.appendingPathComponent("\(folder)/debug/migconform"))
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path
    }()

    /// A shell command line running the Python adapter with `options`.
    static func pythonCommand(_ options: String = "") -> String {
        "'\(python ?? "python3")' '\(pythonAdapter)' \(options)"
    }

    /// A fresh path in the temporary folder (not created).
    static func temporaryPath(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("migconform-adapter-\(UUID().uuidString)-\(name)")
    }

    /// True when no process with this id exists any more (reaped: not even a zombie is left).
    static func isGone(_ pid: Int32) -> Bool {
        kill(pid, 0) != 0 && errno == ESRCH
    }

    /// The pipe inodes a process holds on fds 0, 1 and 2 (`pipe:[1234]`).
    static func pipes(of pid: Int32) -> Set<String> {
        Set(
            (0...2).compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
                .filter { $0.hasPrefix("pipe:") })
    }

    /// The pipe inodes this process holds open.
    static func ownPipes() -> Set<String> {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(
            fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
                .filter { $0.hasPrefix("pipe:") })
    }
}

// MARK: - Codec

@Suite("Adapter: codec")
struct AdapterCodecTests {
    static let operations: [DeviceOperation] = [
        .getMigrationFlags,
        .feature(flags: FeatureRequest.get | FeatureRequest.migDeviceState, payload: [0, 1, 2, 0xff, 0, 0, 0, 0]),
        .feature(flags: FeatureRequest.probe | FeatureRequest.get | 9, payload: []),
        .getState,
        .setState(3), .setState(UInt32.max),
        .getDataSize,
        .read(fd: 100, count: 65536), .read(fd: -1, count: -5),
        .write(fd: 101, bytes: Array(0...255)), .write(fd: 101, bytes: []),
        .close(fd: 7),
        .precopyInfo(fd: 102),
        .dataFD(fd: 103, call: .fdFlags), .dataFD(fd: 103, call: .statusFlags), .dataFD(fd: 103, call: .poll),
        .dataFD(fd: 103, call: .seek(offset: -1)), .dataFD(fd: 103, call: .pread(count: 16, offset: Int64.max)),
        .dataFD(fd: 103, call: .pwrite(bytes: [1, 2, 3], offset: 0)),
        .dataFD(fd: 103, call: .precopyInfo(argsz: 20, flags: UInt32.max)),
        .dataFD(fd: 103, call: .ioctl(request: DataFD.unknownIoctl)),
        .reset,
        .reopen,
        .configRead(offset: 0, width: 2),
        .disableInterrupts(index: 0),
        .access(.configWrite(offset: 4, width: 2, value: 0x0106)), .access(.barRead(index: 5, offset: 8, width: 4)),
        .access(.enableInterrupts(index: 1)),
        .regionRead(offset: 8, width: 8),
        .regionWrite(offset: 0, width: 4, value: UInt64.max),
        .dataRead(offset: 4096, count: 512),
        .dataWrite(offset: 4096, bytes: [UInt8](repeating: 0xa5, count: 3000)),
    ]

    static let outcomes: [DeviceOutcome] = [
        .done, .value(0), .value(UInt64.max), .state(6, dataFD: 100), .state(2, dataFD: -1),
        .bytes([]), .bytes(Array(0...255)), .precopy(initialBytes: 1 << 40, dirtyBytes: 17),
        .failed(.EINVAL), .failed(.ENOMSG), .failed(Errno(rawValue: 200)),
    ]

    @Test func everyOperationHasARequestName() {
        // One codec case per DeviceOperation case (and per data fd call), named as the operation's kind.
        let kinds = Set(Self.operations.map(\.kind))
        #expect(kinds.count == 17 + DataFDCall.names.count + DeviceAccess.names.count)
        for op in Self.operations {
            #expect(AdapterRequest.operation(op).name == op.kind.rawValue)
        }
    }

    @Test(arguments: operations)
    func requestsRoundTrip(_ op: DeviceOperation) throws {
        let line = AdapterCodec.encode(.operation(op), id: 42)
        #expect(!line.contains("\n"))
        let (id, request) = try AdapterCodec.decodeRequest(line)
        #expect(id == .int(42))
        #expect(request == .operation(op))
    }

    @Test func helloAndByeRoundTrip() throws {
        for r in [AdapterRequest.hello(protocolVersion: 1, client: "migconform \"x\"\n"), .bye] {
            let (id, back) = try AdapterCodec.decodeRequest(AdapterCodec.encode(r, id: 0))
            #expect(id == .int(0))
            #expect(back == r)
        }
        let hello = AdapterHello(
            generation: .v1,
            identity: DeviceIdentity(
                targetKind: "vfio", driver: "mlx5_vfio_pci", detail: "0000:3b:00.1 ünïcode", kernelRelease: "6.8.0",
                extra: ["vendor": "0x15b3", "device": "0x101e"]))
        let (id, back) = try AdapterCodec.decodeResponse(AdapterCodec.encode(.hello(hello), id: .int(9)))
        #expect(id == 9)
        #expect(back == .hello(hello))
    }

    @Test(arguments: outcomes)
    func responsesRoundTrip(_ outcome: DeviceOutcome) throws {
        let line = AdapterCodec.encode(.outcome(outcome), id: .int(7))
        let (id, response) = try AdapterCodec.decodeResponse(line)
        #expect(id == 7)
        #expect(response == .outcome(outcome))
    }

    @Test func errorResponsesRoundTrip() throws {
        for r in [
            AdapterResponse.error(message: "no such op", timedOut: false), .error(message: "slow", timedOut: true),
        ] {
            #expect(try AdapterCodec.decodeResponse(AdapterCodec.encode(r, id: .null)).response == r)
        }
    }

    @Test func errnoMayBeANameOrANumber() throws {
        #expect(
            try AdapterCodec.decodeResponse(#"{"id":1,"result":"failed","errno":22}"#).response
                == .outcome(.failed(.EINVAL)))
        #expect(
            try AdapterCodec.decodeResponse(#"{"id":1,"result":"failed","errno":"ENOTTY"}"#).response
                == .outcome(.failed(.ENOTTY)))
        #expect(throws: AdapterProtocolError.self) {
            try AdapterCodec.decodeResponse(#"{"id":1,"result":"failed","errno":"ENOTANERRNO"}"#)
        }
        #expect(throws: AdapterProtocolError.self) {
            try AdapterCodec.decodeResponse(#"{"id":1,"result":"failed","errno":-3}"#)
        }
    }

    @Test func malformedLinesAreRefusedWithAReason() {
        let bad: [(String, String)] = [
            ("this is not json", "not JSON"),
            ("[1,2]", "not an object"),
            (#"{"id":1}"#, "no \"result\""),
            (#"{"id":1,"result":"value"}"#, "no \"value\""),
            (#"{"id":1,"result":"value","value":-1}"#, "not an integer"),
            (#"{"id":1,"result":"value","value":18446744073709551616}"#, "not an integer"),
            (#"{"id":1,"result":"bytes","data":"@@@"}"#, "base64"),
            (#"{"id":1,"result":"state","state":1}"#, "data_fd"),
            (#"{"id":1,"result":"teapot"}"#, "unknown result"),
            (#"{"id":1,"result":"hello","protocol":1,"generation":"v3"}"#, "generation"),
            (#"{"id":1,"result":"done"} trailing"#, "not JSON"),
        ]
        for (line, reason) in bad {
            do {
                _ = try AdapterCodec.decodeResponse(line)
                Issue.record("accepted \(line)")
            } catch {
                #expect("\(error)".contains(reason), "\(line): \(error)")
            }
        }
    }

    @Test func exactNumbersAndEscapes() throws {
        let v = try JSONParser.parseLine(
            #" {"a": 18446744073709551615, "b": "\u00e9\ud83d\ude00\n\"", "c": [true, null, -1.5e3]} "#)
        #expect(v["a"]?.integer(UInt64.self) == UInt64.max)
        #expect(v["b"]?.stringValue == "é😀\n\"")
        #expect(try JSONParser.parseLine(v.text) == v)
        for bad in ["{", "{\"a\":}", "\"\\x\"", "01x", "[1,]", "\"\u{01}\""] {
            #expect(throws: JSONSyntaxError.self) { try JSONParser.parseLine(bad) }
        }
    }

    @Test func theServerAnswersEveryLineAndEchoesIds() {
        let device = ReferenceDeviceV2()
        let (id1, r1, end1) = AdapterServer.answer(device, line: #"{"id":"abc","op":"set-state","state":1}"#)
        #expect(id1 == .string("abc"))
        #expect(r1 == .outcome(.state(1, dataFD: -1)))
        #expect(!end1)
        let (id2, r2, _) = AdapterServer.answer(device, line: "garbage")
        #expect(id2 == .null)
        guard case .error(let m, false) = r2 else {
            Issue.record("\(r2)")
            return
        }
        #expect(m.contains("not JSON"))
        let (id3, r3, _) = AdapterServer.answer(device, line: #"{"id":5,"op":"fly"}"#)
        #expect(id3 == .int(5))
        #expect(r3 == .error(message: "unknown op 'fly'", timedOut: false))
        let (_, r4, end4) = AdapterServer.answer(device, line: #"{"id":6,"op":"bye"}"#)
        #expect(r4 == .outcome(.done) && end4)
    }
}

// MARK: - exec: targets

@Suite("Adapter: exec targets", .serialized)
struct AdapterExecTests {
    static var hasPython: Bool { AdapterFixtures.python != nil }

    @Test(
        .enabled(
            if: AdapterFixtures.binary != nil,
            "the migconform binary was not found beside the tests or in .build/debug: build the package first"))
    func migconformAdapterGivesTheSameVerdictsAsTheDeviceItself() throws {
        // Alone, as the adapter is: its peer rules are not run either way.
        let direct = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2", ownPeers: false)
        let device = try ExecDevice(command: "'\(AdapterFixtures.binary!)' adapter --target ref:v2")
        let viaAdapter = try TestSupport.run(TestSupport.v2, device, target: "exec")
        device.shutdown()
        #expect(device.identity.driver == "migconform-reference")
        #expect(device.identity.extra["adapter-protocol"] == String(AdapterProtocol.version))
        #expect(direct.cases.map(\.id) == viaAdapter.cases.map(\.id))
        for (a, b) in zip(direct.cases, viaAdapter.cases) {
            #expect(
                a.verdict == b.verdict,
                "\(a.id): \(a.verdict.rawValue) directly, \(b.verdict.rawValue) through the adapter: \(b.message)")
        }
        #expect(device.restarts == 0)
    }

    @Test(.enabled(if: hasPython, "python3 is not on the PATH"))
    func thePythonAdapterIsConformant() throws {
        let device = try ExecDevice(command: AdapterFixtures.pythonCommand())
        let report = try TestSupport.run(TestSupport.v2, device, target: "exec:python3 adapter.py")
        device.shutdown()
        #expect(TestSupport.conformantAlone(report))
        let bad = TestSupport.givenDevices(report.cases).filter {
            [.fail, .warn, .error, .timeout, .skipped].contains($0.verdict)
        }
        #expect(bad.isEmpty, "\(bad.map { "\($0.verdict.rawValue) \($0.id): \($0.message)" })")
        #expect(report.run.device.driver == "pyadapter")
        #expect(report.run.migrationFlags == 7)
        #expect(device.restarts == 0)
    }

    @Test(.enabled(if: hasPython, "python3 is not on the PATH"))
    func anAdapterOfVersionOneCannotDoDataFDCalls() throws {
        let v1 = AdapterFixtures.temporaryPath("adapter-v1.py")
        defer { try? FileManager.default.removeItem(at: v1) }
        let text = try String(contentsOfFile: AdapterFixtures.pythonAdapter, encoding: .utf8)
        try text.replacingOccurrences(of: "PROTOCOL_VERSION = 3", with: "PROTOCOL_VERSION = 1")
            .write(to: v1, atomically: true, encoding: .utf8)
        let device = try ExecDevice(command: "'\(AdapterFixtures.python!)' '\(v1.path)'")
        #expect(try device.perform(.dataFD(fd: 0, call: .poll)) == .failed(.ENOSYS))
        #expect(try device.perform(.regionInfo) == .failed(.ENOSYS))
        let report = try TestSupport.run(TestSupport.v2, device)
        device.shutdown()
        #expect(TestSupport.conformantAlone(report))
        let poll = try #require(report.cases.first { $0.id == "V2-POLL-AT-END" })
        #expect(poll.verdict == .notApplicable)
    }

    @Test(.enabled(if: hasPython, "python3 is not on the PATH"))
    func anAdapterOfVersionTwoIsNotAskedForRegionInfo() throws {
        let v2 = AdapterFixtures.temporaryPath("adapter-v2.py")
        defer { try? FileManager.default.removeItem(at: v2) }
        let text = try String(contentsOfFile: AdapterFixtures.pythonAdapter, encoding: .utf8)
        // Version 2 knew no region-info: answering it with a value would show the request had been sent.
        try text.replacingOccurrences(of: "PROTOCOL_VERSION = 3", with: "PROTOCOL_VERSION = 2")
            .replacingOccurrences(
                of: "raise Fail(\"ENOSYS\")        # no migration region",
                with: "return {\"result\": \"value\", \"value\": 7}        # no migration region"
            )
            .write(to: v2, atomically: true, encoding: .utf8)
        let device = try ExecDevice(command: "'\(AdapterFixtures.python!)' '\(v2.path)'")
        defer { device.shutdown() }
        #expect(try device.perform(.regionInfo) == .failed(.ENOSYS))
        #expect(try device.perform(.dataFD(fd: 0, call: .poll)).errno != .ENOSYS)
    }

    @Test(
        .enabled(if: hasPython, "python3 is not on the PATH"),
        arguments: ["stop-copy", "stop-copy,p2p", "stop-copy,pre-copy"])
    func thePythonAdapterIsConformantOnSmallerProfiles(_ flags: String) throws {
        let device = try ExecDevice(command: AdapterFixtures.pythonCommand("--flags \(flags) --state-size 10000"))
        let report = try TestSupport.run(TestSupport.v2, device, options: AdapterFixtures.withoutBytewise)
        device.shutdown()
        let bad = AdapterFixtures.ran(report).filter {
            [.fail, .warn, .error, .timeout, .skipped].contains($0.verdict)
        }
        #expect(bad.isEmpty, "\(bad.map { "\($0.verdict.rawValue) \($0.id): \($0.message)" })")
    }

    @Test(.enabled(if: hasPython, "python3 is not on the PATH"))
    func aHangIsATimeoutWithinTheDeadlineAndTheRunGoesOn() throws {
        let once = AdapterFixtures.temporaryPath("hang-once")
        defer { try? FileManager.default.removeItem(at: once) }
        let deadline = 1.0
        let device = try ExecDevice(
            command: AdapterFixtures.pythonCommand("--hang-on set-state:3 --once '\(once.path)'"),
            deadlines: .uniform(deadline))
        let firstPID = device.processID!
        let report = try TestSupport.run(
            TestSupport.v2, device, target: "exec:hang",
            options: AdapterFixtures.withoutBytewise)
        let timeouts = report.cases.filter { $0.verdict == .timeout }
        try #require(timeouts.count == 1, "\(timeouts.map { "\($0.id): \($0.message)" })")
        let t = timeouts[0]
        #expect(t.message.contains("set-state STOP_COPY"), "\(t.message)")
        #expect(t.message.contains("within 1 s"), "\(t.message)")
        #expect(t.message.contains("restarted"), "\(t.message)")
        #expect(t.message.contains("hanging on set-state"), "the adapter's stderr is quoted: \(t.message)")
        // Abandoned at the deadline; the restart of a Python process adds well under a few seconds.
        #expect(Double(t.durationMicros) / 1e6 < deadline + 4, "the case took \(t.durationMicros) µs")
        // The hung adapter is gone (killed and reaped) and a new one answers.
        #expect(AdapterFixtures.isGone(firstPID))
        #expect(device.restarts == 1)
        #expect(try device.perform(.getState) == .state(MigrationState.running.rawValue, dataFD: -1))
        // The run went on: every case after the timed-out one has its own verdict, and they pass.
        let after = report.cases.drop { $0.id != t.id }.dropFirst()
        #expect(!after.isEmpty)
        let others = AdapterFixtures.ran(report).filter {
            $0.id != t.id && $0.verdict != .notApplicable && $0.level != .may
        }
        #expect(
            others.allSatisfy { $0.verdict == .pass },
            "\(others.filter { $0.verdict != .pass }.map { "\($0.verdict.rawValue) \($0.id): \($0.message)" })")
        // And the report is complete on disk.
        let folder = AdapterFixtures.temporaryPath("report")
        defer { try? FileManager.default.removeItem(at: folder) }
        try ReportWriter.write(report, to: folder)
        for file in [ReportWriter.jsonFile, ReportWriter.markdownFile, ReportWriter.junitFile, ReportWriter.tapFile] {
            let size =
                (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(file).path)[.size]
                    as? Int) ?? 0
            #expect(size > 0, "\(file) is missing or empty")
        }
        let json = try String(contentsOf: folder.appendingPathComponent(ReportWriter.jsonFile), encoding: .utf8)
        #expect(json.contains("TIMEOUT"))
        device.shutdown()
    }

    @Test(
        .enabled(if: hasPython, "python3 is not on the PATH"),
        arguments: [
            ("--garbage-on read", "malformed response"),
            ("--wrong-id-on get-state", "got a response with id"),
            ("--crash-on set-state:3", "exited with status 3"),
            // The first close is a case's cleanup, which lets a failure pass: the case is still an error.
            ("--crash-on close", "exited with status 3"),
        ])
    func aBrokenConversationIsAnErrorAndTheRunGoesOn(_ fault: String, _ expected: String) throws {
        let once = AdapterFixtures.temporaryPath("fault-once")
        defer { try? FileManager.default.removeItem(at: once) }
        let device = try ExecDevice(command: AdapterFixtures.pythonCommand("\(fault) --once '\(once.path)'"))
        let firstPID = device.processID!
        let report = try TestSupport.run(TestSupport.v2, device, options: AdapterFixtures.withoutBytewise)
        device.shutdown()
        let errors = report.cases.filter { $0.verdict == .error }
        try #require(
            errors.count == 1,
            "\(report.cases.filter { $0.verdict != .pass }.map { "\($0.verdict.rawValue) \($0.id): \($0.message)" })")
        let e = errors[0]
        #expect(e.message.contains(expected), "\(e.message)")
        #expect(e.message.contains("adapter restarted"), "\(e.message)")
        if fault.hasPrefix("--crash") {
            let op = fault.dropFirst("--crash-on ".count).prefix { $0 != ":" }
            #expect(e.message.contains("crashing on \(op)"), "stderr tail: \(e.message)")
        }
        let others = AdapterFixtures.ran(report).filter {
            $0.verdict != .notApplicable && $0.id != e.id && $0.level != .may
        }
        #expect(others.allSatisfy { $0.verdict == .pass })
        #expect(device.restarts == 1)
        #expect(AdapterFixtures.isGone(firstPID))
    }

    @Test(.enabled(if: hasPython, "python3 is not on the PATH"))
    func shutdownEndsTheAdapterAndLeavesNoZombieAndNoPipe() throws {
        let device = try ExecDevice(command: AdapterFixtures.pythonCommand())
        let pid = device.processID!
        // Through /bin/sh -c the adapter may be the shell's child; the pipes are the same either way.
        let pipes = AdapterFixtures.pipes(of: pid)
        #expect(pipes.count == 3)
        #expect(!pipes.isDisjoint(with: AdapterFixtures.ownPipes()))
        _ = try device.perform(.reset)
        device.shutdown()
        #expect(AdapterFixtures.isGone(pid))
        #expect(pipes.isDisjoint(with: AdapterFixtures.ownPipes()), "pipes to the adapter are still open")
        // After shutdown, nothing restarts by itself.
        #expect(device.processID == nil)
        #expect(throws: TransportError.self) { try device.perform(.getState) }
        #expect(device.processID == nil)
    }

    @Test func whatIsNotAnAdapterFailsAtHelloWithAClearMessage() {
        let cases: [(String, Deadlines, String)] = [
            ("echo hello there", .standard, "malformed response"),
            ("echo oops >&2; exit 7", .standard, "exited with status 7"),
            ("sleep 30", Deadlines(byKind: Deadlines.standard.byKind, hello: 0.5), "no answer within 0.5 s"),
            (
                #"read l; echo '{"id":0,"result":"hello","protocol":4,"generation":"v2"}'"#, .standard,
                "protocol version 4"
            ),
            ("/nonexistent/adapter", .standard, "exited with status 127"),
        ]
        for (command, deadlines, expected) in cases {
            let start = Date()
            do {
                _ = try ExecDevice(command: command, deadlines: deadlines)
                Issue.record("'\(command)' was accepted as an adapter")
            } catch let t as TransportError {
                #expect(t.message.contains(expected), "\(command): \(t.message)")
                #expect(t.message.contains("hello"), "\(command): \(t.message)")
            } catch {
                Issue.record("\(command): \(error)")
            }
            #expect(Date().timeIntervalSince(start) < 5, "\(command) took too long to fail")
        }
    }

    @Test(.enabled(if: hasPython, "python3 is not on the PATH"))
    func aCallerWithItsOwnDeadlineCanAbandonAnOperation() throws {
        let device = try ExecDevice(
            command: AdapterFixtures.pythonCommand("--hang-on get-state"),
            deadlines: .uniform(30))
        let pid = device.processID!
        // The device and the error cross to the other thread and back; the semaphore orders the accesses.
        final class Box: @unchecked Sendable {
            let device: ExecDevice
            var error: Error?
            init(_ device: ExecDevice) { self.device = device }
        }
        let box = Box(device)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do { _ = try box.device.perform(.getState) } catch { box.error = error }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.3)
        let start = Date()
        #expect(device.recoverAfterTimeout())
        #expect(done.wait(timeout: .now() + 5) == .success, "the abandoned operation did not return")
        #expect(Date().timeIntervalSince(start) < 5)
        let t = try #require(box.error as? TransportError)
        #expect(t.timedOut)
        #expect(t.message.contains("abandoned"), "\(t.message)")
        #expect(AdapterFixtures.isGone(pid))
        #expect(device.restarts == 1)
        #expect(try device.perform(.reset) == .done)
        device.shutdown()
    }
}
