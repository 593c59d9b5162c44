import Testing

@testable import MigconformDevice
@testable import MigconformReference
@testable import MigconformRun
@testable import MigconformSpec

/// A reference device that answers ENOSYS to the operations `refuses` picks (given the operation and the state it
/// is asked in), and to the others as the reference does.
private final class ENOSYSDevice: ReferenceDeviceV2 {
    let refuses: (DeviceOperation, MigrationState) -> Bool
    init(refusing refuses: @escaping (DeviceOperation, MigrationState) -> Bool) {
        self.refuses = refuses
        super.init()
    }
    override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if refuses(operation, state) { return .failed(.ENOSYS) }
        return try super.perform(operation)
    }
}

/// Config writes, BAR reads and interrupt triggers refused with ENOSYS: in every state (a target that cannot make
/// those calls), or only outside RUNNING (a driver that refuses them with that errno).
private func accessENOSYSDevice(everywhere: Bool) -> ENOSYSDevice {
    ENOSYSDevice { operation, state in
        guard case .access = operation else { return false }
        return everywhere || state != .running
    }
}

@Suite("Device access: what an ENOSYS answer means")
struct DeviceAccessAnswerTests {
    static let rules: Set<String> = [
        "V2-ACCESS-CONFIG-WRITE", "V2-ACCESS-IRQ-ENABLE-IN-STOP", "V2-ACCESS-BAR-RUNNING", "V2-ACCESS-BAR-STOPPED",
    ]

    @Test("ENOSYS in RUNNING too: the target cannot make the call, the rules do not apply")
    func cannot() throws {
        let report = try TestSupport.run(TestSupport.v2, accessENOSYSDevice(everywhere: true))
        let cases = report.cases.filter { Self.rules.contains($0.ruleID) }
        #expect(!cases.isEmpty)
        #expect(cases.allSatisfy { $0.verdict == .notApplicable }, "\(cases.map { "\($0.id) \($0.verdict)" })")
        #expect(TestSupport.conformantAlone(report))
    }

    @Test("ENOSYS only outside RUNNING: a refusal like any other, judged against RUNNING")
    func refuses() throws {
        let report = try TestSupport.run(TestSupport.v2, accessENOSYSDevice(everywhere: false))
        let cases = report.cases.filter { Self.rules.contains($0.ruleID) }
        let verdicts = Dictionary(uniqueKeysWithValues: cases.map { ($0.id, $0.verdict) })
        #expect(
            verdicts == [
                "V2-ACCESS-CONFIG-WRITE[STOP]": .fail, "V2-ACCESS-CONFIG-WRITE[RESUMING]": .fail,
                "V2-ACCESS-IRQ-ENABLE-IN-STOP[STOP]": .fail, "V2-ACCESS-BAR-RUNNING[RUNNING]": .pass,
                // A MAY rule: what the device chose.
                "V2-ACCESS-BAR-STOPPED[STOP]": .info, "V2-ACCESS-BAR-STOPPED[STOP_COPY]": .info,
            ], "\(cases.map { "\($0.id) \($0.verdict): \($0.message)" })")
        #expect(cases.filter { $0.verdict == .fail }.allSatisfy { $0.actual?.contains("ENOSYS") == true })
        #expect(report.summary.verdict == .notConformant)
    }
}

/// Calls on the data fds refused with ENOSYS: every one (a target that makes no call on a data fd), or only an
/// ioctl and lseek (a driver that refuses them with that errno, which the kernel never gives for them).
private func dataFDENOSYSDevice(everywhere: Bool) -> ENOSYSDevice {
    ENOSYSDevice { operation, _ in
        guard case .dataFD(_, let call) = operation else { return false }
        switch call {
        case .ioctl, .seek: return true
        default: return everywhere
        }
    }
}

@Suite("Data fd calls: what an ENOSYS answer means")
struct DataFDAnswerTests {
    @Test("ENOSYS to every call on the fd: the target makes none, the rules do not apply")
    func cannot() throws {
        let report = try TestSupport.run(TestSupport.v2, dataFDENOSYSDevice(everywhere: true))
        let cases = report.cases.filter { $0.ruleID.hasPrefix("V2-DATA-FD-") && $0.ruleID != "V2-DATA-FD-DIRECTION" }
        #expect(!cases.isEmpty)
        #expect(cases.allSatisfy { $0.verdict == .notApplicable }, "\(cases.map { "\($0.id) \($0.verdict)" })")
        #expect(TestSupport.conformantAlone(report))
    }

    @Test("ENOSYS where the fd's flags read: the driver's answer, judged")
    func refuses() throws {
        let report = try TestSupport.run(TestSupport.v2, dataFDENOSYSDevice(everywhere: false))
        let verdicts = Dictionary(
            uniqueKeysWithValues: report.cases.filter {
                ["V2-DATA-FD-UNKNOWN-IOCTL", "V2-DATA-FD-NOT-SEEKABLE"].contains($0.ruleID)
            }.map { ($0.id, $0.verdict) })
        #expect(
            verdicts == [
                "V2-DATA-FD-UNKNOWN-IOCTL[STOP_COPY]": .fail, "V2-DATA-FD-UNKNOWN-IOCTL[RESUMING]": .fail,
                // A SHOULD rule: lseek's errno is not the one a stream gives.
                "V2-DATA-FD-NOT-SEEKABLE[STOP_COPY]": .warn, "V2-DATA-FD-NOT-SEEKABLE[RESUMING]": .warn,
            ], "\(verdicts)")
        #expect(report.summary.verdict == .notConformant)
    }
}

/// A reference device whose PROBEs of feature 8 (DMA logging) answer `answer`, the first `times` of them (the
/// rest are answered as the reference does: the feature is there).
private final class ProbeAnswerDevice: ReferenceDeviceV2 {
    let answer: Errno
    var times: Int
    init(_ answer: Errno, times: Int) {
        self.answer = answer
        self.times = times
        super.init()
    }
    override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if case .feature(let flags, _) = operation, flags & FeatureRequest.probe != 0, flags & 0xffff == 8, times > 0 {
            times -= 1
            return .failed(answer)
        }
        return try super.perform(operation)
    }
}

@Suite("Discovery: what a PROBE's answer means")
struct DiscoveryAnswerTests {
    func profile(_ device: ReferenceDeviceV2) throws -> DeviceProfile {
        try Discovery.discover(TestSupport.v2, device: RecordingDevice(device))
    }

    @Test("ENOTTY, EINVAL, EOPNOTSUPP: the device has not the feature, and its rules do not apply")
    func absent() throws {
        for e in [Errno.ENOTTY, .EINVAL, .EOPNOTSUPP] {
            #expect(try !profile(ProbeAnswerDevice(e, times: .max)).features.contains("dma-logging"), "\(e)")
        }
        #expect(try profile(ReferenceDeviceV2()).features.contains("dma-logging"))
    }

    @Test("an answer that says neither is asked again; twice, and the run does not start")
    func undecided() throws {
        // Once (the PROBE for GET, then for SET): the second round finds the feature.
        #expect(try profile(ProbeAnswerDevice(.EAGAIN, times: 2)).features.contains("dma-logging"))
        #expect(throws: TargetMismatch.self) { try profile(ProbeAnswerDevice(.EAGAIN, times: .max)) }
        let runner = Runner(
            spec: TestSupport.v2, device: ProbeAnswerDevice(.EIO, times: .max), options: RunOptions(target: "ref:v2"))
        do {
            _ = try runner.run()
            Issue.record("the run started without knowing which rules apply")
        } catch let e as TargetMismatch {
            #expect(e.message.contains("VFIO_DEVICE_FEATURE 8 (dma-logging) answered EIO"), "\(e.message)")
        }
    }
}
