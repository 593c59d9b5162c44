import MigconformDevice
import MigconformReference
import MigconformRun
import Testing

/// A reference device that keeps deadlines itself, as an adapter does, and remembers the ones it is handed.
private final class SelfTimedDevice: MigrationDevice {
    let inner = ReferenceDeviceV2()
    var kept: Deadlines
    init(kept: Deadlines) { self.kept = kept }
    var generation: ProtocolGeneration { inner.generation }
    var identity: DeviceIdentity { inner.identity }
    func perform(_ operation: DeviceOperation) throws -> DeviceOutcome { try inner.perform(operation) }
    var ownDeadlines: Deadlines? { kept }
    func adopt(_ deadlines: Deadlines) { kept = deadlines }
}

@Suite("One deadline model for the runner and the targets")
struct DeadlineModelTests {
    @Test func aDeviceWithItsOwnDeadlinesGivesTheRunsWhenNoneAreChosen() throws {
        var own = Deadlines.standard
        own.byKind[.reset] = 90
        let device = SelfTimedDevice(kept: own)
        let runner = Runner(spec: TestSupport.v2, device: device, options: RunOptions(target: "exec:test"))
        #expect(runner.options.deadlines.seconds(for: .reset) == 90)
        #expect(runner.deadlineDevice.deadlines == own)
        let report = try runner.run()
        #expect(report.run.deadlines?["reset"] == 90)
    }

    @Test func chosenDeadlinesGovernTheDeviceToo() {
        let device = SelfTimedDevice(kept: .standard)
        let runner = Runner(
            spec: TestSupport.v2, device: device,
            options: RunOptions(target: "exec:test", deadlines: .uniform(4)))
        #expect(runner.options.deadlines == .uniform(4))
        #expect(device.kept == .uniform(4))
        runner.deadlineDevice.deadlines.byKind[.reset] = 7
        #expect(device.kept.seconds(for: .reset) == 7)
    }

    @Test func theAdapterVariableSetsEveryKindButReset() {
        var d = Deadlines.standard
        d.setAll(exceptReset: 3)
        #expect(d.seconds(for: .reset) == 30)
        #expect(d.seconds(for: .setState(1)) == 3 && d.seconds(for: .getState) == 3)
    }
}
