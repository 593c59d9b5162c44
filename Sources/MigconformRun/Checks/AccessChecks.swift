import MigconformDevice
import MigconformSpec

/// Device access that must keep working while migration states change.
enum AccessChecks {
    static func deviceAccess(_ ctx: CaseContext, _ p: DeviceAccessCheck) throws -> CheckOutcome {
        guard let s = ctx.testCase.from else { return .blocked("case has no state") }
        try ctx.enter(s)
        if let outcome = try DeviceAccessChecks.run(ctx, p, in: s) { return outcome }
        if p.expect == .configRead {
            let outcome = try ctx.op(.configRead(offset: 0, width: 2))
            guard case .value(let vendor) = outcome else {
                return .violated(
                    expected: "config space read succeeds", actual: describe(outcome),
                    message: "config space unreadable in \(s)")
            }
            if vendor == 0xffff {
                return .violated(
                    expected: "a vendor id", actual: "0xffff", message: "config space reads as absent in \(s)")
            }
            return .pass("vendor id 0x\(String(vendor, radix: 16)) read in \(s)")
        }
        let outcome = try ctx.op(.disableInterrupts(index: 0))
        if outcome.succeeded { return .pass("interrupt index 0 disabled in \(s)") }
        // Refused: but is it refused because of the state? Compare with the same request in the initial state.
        let initial = ctx.machine.initial.name
        if s != initial {
            try ctx.enter(initial)
            let baseline = try ctx.op(.disableInterrupts(index: 0))
            if !baseline.succeeded {
                return .notApplicable(
                    "the device refuses this interrupt request in \(initial) too (\(describe(baseline))), so \(s) cannot be told apart"
                )
            }
        }
        return .violated(
            expected: "VFIO_DEVICE_SET_IRQS accepted", actual: describe(outcome),
            message: "interrupt configuration refused in \(s)")
    }
}
