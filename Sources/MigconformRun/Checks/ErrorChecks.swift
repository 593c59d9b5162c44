import Foundation
import MigconformDevice
import MigconformPlan
import MigconformSpec

/// The error state and the invariants that hold after every step.
enum ErrorChecks {
    /// Resets the device and judges whether it came back in the initial state: passes with `passed` of the
    /// initial state's name, or is violated with `failure` as the message.
    static func resetReachesInitial(
        _ ctx: CaseContext, passed: (String) -> String, failure: String
    ) throws
        -> CheckOutcome
    {
        let outcome = try ctx.op(.reset)
        let now = try ctx.readState()
        let initial = ctx.machine.initial.name
        if try outcome.succeeded && now == ctx.value(of: initial) { return .pass(passed(initial)) }
        return .violated(
            expected: "reset succeeds, state \(initial)",
            actual: "reset \(describe(outcome)), state \(now.map(ctx.name(of:)) ?? "unreadable")",
            message: failure)
    }

    /// Drives the device into the error state through a failed resume. Returns false when the device stays out
    /// of it (the uAPI lets a driver fail the resume without entering ERROR).
    static func driveIntoError(_ ctx: CaseContext) throws -> Bool {
        let resume = try ctx.role("resume")
        let exit = try ctx.role("resume-exit")
        let refused = try ctx.feedStream([UInt8](repeating: 0xa5, count: 64), segments: [64])
        let answer = try ctx.request(exit)
        guard !answer.succeeded else {
            if let e = refused {
                throw Blocked(
                    reason: "the device refused 64 bytes of garbage in \(resume) (\(e)), then accepted "
                        + "\(resume)->\(exit)", cause: .refusedWrite)
            }
            throw Blocked(
                reason: "the device accepted 64 bytes of garbage in \(resume) and \(resume)->\(exit)",
                cause: .resumeAccepted(damage: .garbage))
        }
        return try ctx.readState() == (try ctx.value(of: try ctx.role("error")))
    }

    static func errorSticky(_ ctx: CaseContext, _ p: ErrorStickyCheck) throws -> CheckOutcome {
        let error = try ctx.role("error")
        guard try driveIntoError(ctx) else {
            return .notApplicable(
                "a failed resume did not put the device in \(error), so the error state could not be reached")
        }
        if p.expect == .resetRecovers {
            return try resetReachesInitial(
                ctx, passed: { "reset left \(error) for \($0)" },
                failure: "reset did not leave \(error)")
        }
        for s in ctx.machine.settableStates {
            let answer = try ctx.request(s.value)
            let now = try ctx.readState()
            if try answer.succeeded || now != ctx.value(of: error) {
                return .violated(
                    expected: "request for \(s.name) fails, device stays in \(error)",
                    actual: answer.succeeded
                        ? "success, state \(now.map(ctx.name(of:)) ?? "unreadable")"
                        : "failed with \(answer.errno!), state \(now.map(ctx.name(of:)) ?? "unreadable")",
                    message: "a request left the error state without a reset")
            }
        }
        return .pass("every request (\(ctx.machine.settableStates.count)) refused in \(error)")
    }

    static func invariant(_ ctx: CaseContext, _ p: InvariantCheck) throws -> CheckOutcome {
        if p.name == .noSpontaneousChange {
            for s in ctx.machine.settableStates {
                try ctx.enter(s.name)
                for i in 0..<5 {
                    // A pause between reads gives a driver's own work time to move the state. A device that
                    // answers promptly runs only when called, so it has no such time and needs no pause.
                    if i > 0 && !ctx.answersPromptly { ctx.device.pause(microseconds: 2_000) }
                    let now = try ctx.readState()
                    if now != s.value {
                        return .violated(
                            expected: "state \(s.name) on every read",
                            actual: "state \(now.map(ctx.name(of:)) ?? "unreadable") on read \(i + 1)",
                            message: "the state changed with no request in \(s.name)")
                    }
                }
            }
            return .pass("state stable over 5 reads in each of \(ctx.machine.settableStates.count) states")
        }
        let error = try ctx.value(of: try ctx.role("error"))
        let resume = ctx.machine.stateName(forRole: "resume")
        for arc in CaseShape.invariantArcs(ctx.machine) {
            // Just entered by the arc before, with a stream loaded: the arc out of it needs no stream of its own.
            if arc.from != resume || ctx.position.known != resume || !ctx.resumeLoaded { try ctx.enter(arc.from) }
            let answer = try ctx.request(arc.to)
            if answer.succeeded, try ctx.readState() == error {
                return .violated(
                    expected: "a successful request leaves a valid state", actual: "state \(ctx.name(of: error))",
                    message: "arc \(arc.from)->\(arc.to) succeeded but the device reports \(ctx.name(of: error))")
            }
            ctx.settleResume()
        }
        return .pass(
            "no successful request among \(ctx.machine.arcs.count) arcs left the device in \(ctx.name(of: error))")
    }
}
