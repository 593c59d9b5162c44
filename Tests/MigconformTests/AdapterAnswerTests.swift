import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import Testing

@Suite("Adapter: answers judged against their requests")
struct AdapterAnswerTests {
    static var hasPython: Bool { AdapterFixtures.python != nil }

    @Test func answersThatFit() {
        let fits: [(DeviceOutcome, DeviceOperation)] = [
            (.state(2, dataFD: -1), .getState), (.state(3, dataFD: 40), .setState(3)), (.done, .reset),
            (.value(7), .getMigrationFlags), (.value(UInt64.max), .getMigrationFlags),
            (.value(1 << 40), .getDataSize), (.bytes([1, 2]), .read(fd: 4, count: 2)),
            (.bytes([]), .read(fd: 4, count: 0)),
            (.value(3), .write(fd: 4, bytes: [1, 2, 3])), (.value(0), .write(fd: 4, bytes: [1])),
            (.precopy(initialBytes: 1 << 30, dirtyBytes: 0), .precopyInfo(fd: 4)),
            (.value(0xffff), .configRead(offset: 0, width: 2)), (.value(UInt64.max), .regionRead(offset: 8, width: 8)),
            (.bytes(Array(repeating: 0, count: 8)), .feature(flags: 0x10001, payload: Array(repeating: 0, count: 8))),
            (.done, .feature(flags: 0x40001, payload: [])), (.failed(.EINVAL), .getState),
            (.failed(.EIO), .read(fd: 1, count: 1)),
            (.done, .dataWrite(offset: 0, bytes: [1])), (.value(1), .dataWrite(offset: 0, bytes: [1])),
        ]
        for (outcome, op) in fits { #expect(AnswerJudge.problem(outcome, for: op) == nil, "\(op) -> \(outcome)") }
    }

    @Test func answersThatDoNotFit() {
        let misfits: [(DeviceOutcome, DeviceOperation, String)] = [
            (.value(1), .getState, "'value' result"),
            (.precopy(initialBytes: 1, dirtyBytes: 0), .reset, "'precopy' result"),
            (.value(UInt64.max), .getDataSize, "data size"),
            (.bytes([1, 2, 3]), .read(fd: 4, count: 2), "more than the 2 asked for"),
            (.value(4), .write(fd: 4, bytes: [1, 2, 3]), "more than the 3 given"),
            (.value(1 << 40), .configRead(offset: 0, width: 4), "does not fit in the 4 bytes"),
            (.value(0x100), .regionRead(offset: 0, width: 1), "does not fit"),
            (.precopy(initialBytes: UInt64.max, dirtyBytes: 0), .precopyInfo(fd: 4), "initial_bytes"),
            (.precopy(initialBytes: 0, dirtyBytes: UInt64.max), .precopyInfo(fd: 4), "dirty_bytes"),
            (
                .bytes(Array(repeating: 0, count: 9)), .feature(flags: 0x10001, payload: Array(repeating: 0, count: 8)),
                "payload"
            ),
            (.state(1, dataFD: -1), .write(fd: 4, bytes: [1]), "'state' result"),
            (.bytes([]), .close(fd: 4), "'bytes' result"),
        ]
        for (outcome, op, says) in misfits {
            let problem = AnswerJudge.problem(outcome, for: op)
            #expect(problem?.contains(says) == true, "\(op) -> \(outcome): \(problem ?? "accepted")")
        }
    }

    /// Runs the v2 spec against the Python adapter answering `answer` to `op` requests.
    func run(answering op: String, with answer: String) throws -> RunReport {
        let device = try ExecDevice(
            command: AdapterFixtures.pythonCommand("--answer-on '\(op)=\(answer)'"),
            deadlines: Deadlines(fallback: 5, hello: 10))
        defer { device.shutdown() }
        return try TestSupport.run(
            TestSupport.v2, device, target: "exec:misbehaving",
            options: AdapterFixtures.withoutBytewise)
    }

    @Test(
        .enabled(if: hasPython, "python3 is not on the PATH"), .timeLimit(.minutes(1)),
        arguments: [
            ("get-state", #"{"result":"value","value":1}"#, "'value' result"),
            ("reset", #"{"result":"precopy","initial_bytes":1,"dirty_bytes":0}"#, "'precopy' result"),
            ("write", #"{"result":"value","value":99999999}"#, "bytes written, more than"),
            ("config-read", #"{"result":"value","value":1099511627776}"#, "does not fit in the"),
            (
                "precopy-info", #"{"result":"precopy","initial_bytes":18446744073709551615,"dirty_bytes":0}"#,
                "initial_bytes"
            ),
            ("read", #"{"result":"bytes","data":"QUI"}"#, "not valid base64"),
        ])
    func aWrongAnswerIsAnErrorQuotingTheLine(op: String, answer: String, says: String) throws {
        let report = try run(answering: op, with: answer)
        let errors = report.cases.filter { $0.verdict == .error }
        #expect(!errors.isEmpty)
        // (An ERROR is never conformant; the run leaves one case out, so its summary says so anyway.)
        let first = try #require(errors.first)
        #expect(first.message.contains(says), "\(first.message)")
        #expect(first.message.contains(op), "the message names the request: \(first.message)")
        #expect(
            AdapterFixtures.ran(report).filter { $0.verdict == .skipped }.count < 10,
            "wrong answers are errors, not a run of skipped cases")
    }

    @Test(.enabled(if: hasPython, "python3 is not on the PATH"))
    func anAdapterThatClaimsV1ButAnswersV2IsRefusedAtOnce() throws {
        let start = Date()
        do {
            let device = try ExecDevice(command: AdapterFixtures.pythonCommand("--generation v1"))
            device.shutdown()
            Issue.record("a v2 adapter saying v1 was accepted")
        } catch let t as TransportError {
            #expect(t.message.contains("says v1 in its hello"), "\(t.message)")
            #expect(t.message.contains("failed with EINVAL"), "\(t.message)")
        }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test(.enabled(if: TestSupport.binary != nil && hasPython, "needs the built binary and python3"))
    func theCommandLineExitsThreeForAWrongHello() throws {
        let r = try TestSupport.shell(
            TestSupport.binary!,
            [
                "run", "--quiet", "--target",
                "exec:" + AdapterFixtures.pythonCommand("--generation v1"),
            ])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(TestSupport.words(r.stderr).contains("does not answer v1 requests"), "\(r.stderr)")
    }
}

@Suite("Adapter: answers at the edges of u64")
struct AdapterEdgeAnswerTests {
    @Test(.enabled(if: AdapterFixtures.python != nil, "python3 is not on the PATH"), .timeLimit(.minutes(1)))
    func aHugeDataSizeIsNeverUsed() throws {
        let device = try ExecDevice(
            command: AdapterFixtures.pythonCommand(
                #"--answer-on 'get-data-size={"result":"value","value":18446744073709551615}'"#))
        defer { device.shutdown() }
        #expect(throws: TransportError.self) { try device.perform(.getDataSize) }
        let report = try TestSupport.run(
            TestSupport.v2, device, target: "exec:huge-data-size",
            options: AdapterFixtures.withoutBytewise)
        let steps = report.cases.flatMap { $0.transcript }.filter { $0.operation == .getDataSize }
        #expect(!steps.isEmpty)
        #expect(
            steps.allSatisfy { $0.outcome == nil && $0.transportError?.contains("does not fit") == true },
            "\(steps.prefix(2))")
    }

    @Test(.enabled(if: AdapterFixtures.python != nil, "python3 is not on the PATH"), .timeLimit(.minutes(1)))
    func allFlagsSetIsJudgedByTheSpec() throws {
        let device = try ExecDevice(
            command: AdapterFixtures.pythonCommand(
                #"--answer-on 'get-migration-flags={"result":"value","value":18446744073709551615}'"#))
        defer { device.shutdown() }
        let report = try TestSupport.run(
            TestSupport.v2, device, target: "exec:all-flags",
            options: AdapterFixtures.withoutBytewise)
        let defined = report.cases.first { $0.id == "V2-FEAT-DEFINED-FLAGS" }
        #expect(defined?.verdict == .warn || defined?.verdict == .fail, "\(String(describing: defined?.verdict))")
    }
}

@Suite("Adapter: requests bounded where a server reads them")
struct AdapterRequestBoundsTests {
    @Test func countsAndWidthsThatWouldExhaustAServerAreRefused() {
        for line in [
            #"{"id":1,"op":"read","fd":3,"count":4611686018427387904}"#,
            #"{"id":1,"op":"data-read","offset":0,"count":67108865}"#,
            #"{"id":1,"op":"config-read","offset":0,"width":1000000000}"#,
            #"{"id":1,"op":"region-read","offset":0,"width":-1}"#,
        ] {
            #expect(throws: AdapterProtocolError.self, "\(line)") { try AdapterCodec.decodeRequest(line) }
        }
        #expect((try? AdapterCodec.decodeRequest(#"{"id":1,"op":"read","fd":3,"count":67108864}"#)) != nil)
    }

    @Test func theServerAnswersAnErrorAndGoesOn() {
        let device = MigconformReference.ReferenceDeviceV2()
        let (_, response, done) = AdapterServer.answer(
            device, line: #"{"id":7,"op":"read","fd":3,"count":9223372036854775807}"#)
        guard case .error(let message, _) = response else {
            Issue.record("\(response)")
            return
        }
        #expect(message.contains("more than 67108864"), "\(message)")
        #expect(!done)
    }
}
