import Testing

@testable import MigconformDevice
@testable import MigconformReference
@testable import MigconformRun
@testable import MigconformSpec

/// A reference device whose target cannot close and open it.
private final class NoReopenDevice: ReferenceDeviceV2 {
    override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if operation == .reopen { return .failed(.ENOSYS) }
        return try super.perform(operation)
    }
}

@Suite("Lifecycle: the device closed and opened again")
struct LifecycleTests {
    @Test("the reference device opens again in RUNNING and its old session is over")
    func referenceReopen() throws {
        let device = ReferenceDeviceV2()
        _ = try device.perform(.setState(MigrationState.stop.rawValue))
        guard case .state(_, let fd) = try device.perform(.setState(MigrationState.stopCopy.rawValue)), fd >= 0 else {
            Issue.record("no data fd in STOP_COPY")
            return
        }
        #expect(try device.perform(.reopen) == .done)
        #expect(try device.perform(.getState) == .state(MigrationState.running.rawValue, dataFD: -1))
        let read = try device.perform(.read(fd: fd, count: 4096))
        #expect(read == .bytes([]) || read.errno != nil, "\(read)")
    }

    @Test("the rules run on the reference device: every case passes, ERROR included")
    func rulesPass() throws {
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2())
        let cases = report.cases.filter { $0.ruleID.hasPrefix("V2-REOPEN-") }
        #expect(
            Set(cases.map(\.id)) == [
                "V2-REOPEN-RUNNING[STOP_COPY]", "V2-REOPEN-RUNNING[RESUMING]",
                "V2-REOPEN-RUNNING[ERROR]", "V2-REOPEN-OLD-FD-OVER[STOP_COPY]",
                "V2-REOPEN-OLD-FD-OVER[RESUMING]", "V2-REOPEN-OLD-FD-OVER[PRE_COPY]",
            ])
        #expect(cases.allSatisfy { $0.verdict == .pass }, "\(cases.map { "\($0.id) \($0.verdict): \($0.message)" })")
    }

    @Test("a target that cannot reopen its device answers ENOSYS: the rules are NOT_APPLICABLE, the run conformant")
    func notApplicable() throws {
        let report = try TestSupport.run(TestSupport.v2, NoReopenDevice())
        let cases = report.cases.filter { $0.ruleID.hasPrefix("V2-REOPEN-") }
        #expect(!cases.isEmpty && cases.allSatisfy { $0.verdict == .notApplicable })
        #expect(TestSupport.conformantAlone(report))
    }

    @Test(
        "each reopen fault trips its rule (FAIL for MUST, WARN for SHOULD), and no other",
        arguments: [
            ("reopen-keeps-state", "V2-REOPEN-RUNNING"), ("reopen-keeps-session", "V2-REOPEN-OLD-FD-OVER"),
        ])
    func faults(_ fault: String, _ rule: String) throws {
        let device = try #require(FaultCatalogue.entry(named: fault)).makeDevice()
        let report = try TestSupport.run(TestSupport.v2, device)
        let tripped = report.cases.filter { $0.verdict == .fail || $0.verdict == .warn }
        #expect(!tripped.isEmpty && tripped.allSatisfy { $0.ruleID == rule }, "\(tripped.map(\.id))")
    }
}
