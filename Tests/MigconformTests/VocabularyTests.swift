import MigconformBase
import MigconformDevice
import MigconformReference
import MigconformSpec
import Testing

/// The shared vocabulary: one JSON parser, one errno table, one name per operation kind, one operation text.
@Suite("Shared vocabulary")
struct VocabularyTests {
    @Test func oneErrnoTableBehindNamesLookupsAndSpecs() {
        for errno in Errno.known {
            #expect(Errno(name: errno.name) == errno)
            #expect(SpecLoader.isKnownErrno(errno.name))
        }
        #expect(SpecLoader.errnoNames == Errno.known.map(\.name))
        #expect(Errno(rawValue: 500).name == "E500" && Errno(name: "E500")?.rawValue == 500)
        #expect(Errno(name: "EWHATEVER") == nil && !SpecLoader.isKnownErrno("0"))
    }

    @Test func protocolLinesAndFilesShareOneParser() throws {
        let line = try JSONParser.parseLine(#"{"id":1,"op":"reset","id":2}"#)
        #expect(line["id"]?.integer(Int.self) == 2) // a repeated member: the last one
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parseDocument(Array(#"{"a":1,"a":2}"#.utf8)) }
        do {
            _ = try JSONParser.parseLine(#"{"id":1,}"#)
            Issue.record("a trailing comma parsed")
        } catch {
            #expect(error.byteOffset == 8 && error.message.contains("trailing commas"))
        }
        let big = try JSONParser.parseLine("[18446744073709551615]")
        #expect(big.arrayValue?.first?.uint64Value == UInt64.max)
        #expect(try JSONParser.parseLine(big.text) == big)
    }

    @Test func everyOperationKindHasOneName() {
        let names = DeviceOperation.Kind.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        #expect(DeviceOperation.onPeer(.setState(2)).kind == .setState)
        #expect("\(DeviceOperation.Kind.dmaLoggingReport)" == "dma-logging-report")
        var d = Deadlines.standard
        #expect(throws: DeadlineSettingError.self) { try d.apply("hello=3") }
        try? d.apply("precopy-info=3")
        #expect(d.seconds(for: .precopyInfo(fd: 4)) == 3)
    }

    /// Reports and journals write these names as they are, where JSONEncoder would escape a slash: none has one.
    @Test func accessAndDataFDCallNamesAreWordsWithoutSlashes() {
        let names = DeviceAccess.names + DataFDCall.names
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(!name.isEmpty && name.allSatisfy { $0 == "-" || ($0.isASCII && $0.isLowercase) }, "\(name)")
        }
        let accesses: [DeviceAccess] = [
            .configWrite(offset: 0, width: 1, value: 0), .barRead(index: 0, offset: 0, width: 1),
            .enableInterrupts(index: 0),
        ]
        #expect(accesses.map(\.name) == DeviceAccess.names)
        let calls: [DataFDCall] = [
            .fdFlags, .statusFlags, .seek(offset: 0), .pread(count: 0, offset: 0), .pwrite(bytes: [], offset: 0),
            .poll, .precopyInfo(argsz: 0, flags: 0), .ioctl(request: 0),
        ]
        #expect(calls.map(\.name) == DataFDCall.names)
    }

    @Test func operationKindsCountAndHashByCase() {
        // The tallies index an array by ordinal: each kind its own slot, in declaration order.
        #expect(MemoryLayout<DeviceOperation.Kind>.size == 1)
        for (i, kind) in DeviceOperation.Kind.allCases.enumerated() { #expect(kind.ordinal == i) }
        let byKind = Dictionary(uniqueKeysWithValues: DeviceOperation.Kind.allCases.map { ($0, $0.rawValue) })
        #expect(byKind.count == DeviceOperation.Kind.allCases.count)
        #expect(byKind[.dataFDPoll] == "data-fd-poll" && DeviceOperation.Kind.read != .write)
        // What the recorder tallies by kind is what it was given.
        let recorder = RecordingDevice(ReferenceDeviceV2())
        _ = try? recorder.perform(.getState)
        _ = try? recorder.perform(.getState)
        _ = try? recorder.perform(.reset)
        #expect(recorder.totals[.getState]?.count == 2 && recorder.totals[.reset]?.count == 1)
        #expect(recorder.totals.count == 2)
    }

    @Test func operationsAndOutcomesHaveOneText() {
        #expect("\(DeviceOperation.setState(2))" == "set-state RUNNING")
        #expect("\(DeviceOperation.onPeer(.read(fd: 7, count: 64)))" == "peer: read fd=7 count=64")
        #expect(DeviceOutcome.failed(.EINVAL).description == "EINVAL")
        #expect(DeviceOutcome.value(3).description(answering: .getMigrationFlags) == "ok flags=0x3 (STOP_COPY|P2P)")
    }
}

@Suite("Target traits")
struct TargetTraitTests {
    @Test func eachKindOfTargetSaysWhatItIs() throws {
        #expect(ReferenceDeviceV2().traits == .simulated)
        #expect(DeviceIdentity(targetKind: "fault", driver: "d", detail: "x").traits.isSimulated)
        let vfio = DeviceIdentity(targetKind: "vfio", driver: "d", detail: "x").traits
        #expect(vfio == .hostKernel && vfio.mayHarmHost && vfio.journalsEachOperation && !vfio.canReopen)
        #expect(DeviceIdentity(targetKind: "a-simulator", driver: "d", detail: "x").traits == .external)
        // Wrappers answer for the device they wrap.
        let wrapped = DeadlineDevice(PeeredDevice(ReferenceDeviceV2(), peer: nil))
        #expect(wrapped.traits == .simulated)
    }
}
