import MigconformDevice
import MigconformSpec

/// The device closed and opened again (``DeviceOperation/reopen``).
enum LifecycleChecks {
    static func run(_ ctx: CaseContext, _ p: LifecycleCheck) throws -> CheckOutcome {
        guard let from = ctx.testCase.from else { return .blocked("case has no state") }
        var fd: Int32?
        if from == ctx.machine.stateName(forRole: "error") {
            guard try ErrorChecks.driveIntoError(ctx) else {
                return .notApplicable(
                    "a failed resume did not put the device in \(from), so the error state could "
                        + "not be reached")
            }
        } else {
            // As for a reset (``ArcChecks/reset(_:_:)``): the old session's end is probed in an empty session;
            // otherwise the device is closed with a resume's stream loaded, so that its cleanup is exercised.
            fd = try ctx.enter(from, fresh: true, loadResume: p.expect == .oldFDOver ? .nothing : .now)
        }
        let outcome = try ctx.op(.reopen)
        if outcome.errno == .ENOSYS {
            return .notApplicable("the target cannot close and open its device (it answered ENOSYS)")
        }
        guard outcome.succeeded else {
            return .violated(
                expected: "the device closes and opens again", actual: describe(outcome),
                message: "closing and opening the device in \(from) failed")
        }
        switch p.expect {
        case .initialState:
            let initial = ctx.machine.initial
            let now = try ctx.readState()
            if now == initial.value { return .pass("closed in \(from), the device opened again in \(initial.name)") }
            let seen = now.map(ctx.name(of:)) ?? "unreadable"
            return .violated(
                expected: "state \(initial.name)", actual: "state \(seen)",
                message: "closed in \(from), the device opened again in state \(seen), "
                    + "not \(initial.name)")
        case .oldFDOver:
            return try StreamChecks.sessionIsOver(ctx, fd: fd, state: from, after: "closing and opening the device")
        }
    }
}
