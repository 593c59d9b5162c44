import MigconformDevice
import MigconformSpec

/// The state machine proper: arcs, combination transitions, same-state requests, refused requests and reset.
enum ArcChecks {
    /// A single-step arc from a fresh positioning in its source state.
    static func arc(_ ctx: CaseContext, _ p: ArcCheck) throws -> CheckOutcome {
        let tc = ctx.testCase
        guard let from = tc.from, let to = tc.to, let arc = tc.path.first else { return .blocked("case has no arc") }
        try ctx.enter(from)
        let answer = try ctx.request(to)
        let label = "\(from)->\(to)"
        switch p.expect {
        case .state:
            guard answer.succeeded else {
                return .violated(
                    expected: "success, then state \(to)", actual: "failed with \(answer.errno!)",
                    message: "arc \(label) was refused")
            }
            let now = try ctx.readState()
            if now == (try ctx.value(of: to)) { return .pass("arc \(label) reached \(to)") }
            return .violated(
                expected: "state \(to)", actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "arc \(label) succeeded but left the device elsewhere")
        case .dataFD:
            guard answer.succeeded else {
                throw Blocked(reason: "arc \(label) failed with \(answer.errno!)", cause: .arcState(from: from, to: to))
            }
            let wantsFD = arc.session.opensSession
            if wantsFD == (answer.fd >= 0) {
                return .pass(
                    wantsFD ? "arc \(label) returned data_fd \(answer.fd)" : "arc \(label) returned data_fd -1")
            }
            return .violated(
                expected: wantsFD ? "a new data_fd (>= 0)" : "data_fd -1", actual: "data_fd \(answer.fd)",
                message: wantsFD
                    ? "arc \(label) starts a session but returned no fd"
                    : "arc \(label) starts no session but returned an fd")
        case .fdDirection:
            guard answer.succeeded else {
                throw Blocked(reason: "arc \(label) failed with \(answer.errno!)", cause: .arcState(from: from, to: to))
            }
            guard answer.fd >= 0 else {
                throw Blocked(
                    reason: "arc \(label) returned no data fd", cause: .check(.arc(.dataFD), from: from, to: to))
            }
            // The wrong direction on the new fd: a write to a saving fd, a read from a resuming fd.
            let saving = arc.session == .opensSave
            let outcome =
                try saving
                ? ctx.op(.write(fd: answer.fd, bytes: [0]))
                : ctx.op(.read(fd: answer.fd, count: 1))
            let what = saving ? "a 1-byte write to the saving fd" : "a 1-byte read from the resuming fd"
            if let e = outcome.errno { return .pass("\(what) after \(label) failed with \(e)") }
            return .violated(
                expected: "\(what) fails", actual: describe(outcome),
                message: "\(what) after \(label) succeeded: the fd is not one-way")
        case .getFD:
            guard answer.succeeded else {
                throw Blocked(reason: "arc \(label) failed with \(answer.errno!)", cause: .arcState(from: from, to: to))
            }
            let outcome = try ctx.op(.getState)
            guard case .state(_, let fd) = outcome else {
                return .violated(
                    expected: "GET succeeds with data_fd -1", actual: describe(outcome), message: "GET failed in \(to)")
            }
            if fd == -1 { return .pass("GET in \(to) reported data_fd -1") }
            return .violated(
                expected: "data_fd -1", actual: "data_fd \(fd)", message: "GET in \(to) reported a data fd")
        }
    }

    /// A request for a state several arcs away.
    static func combination(_ ctx: CaseContext, _ p: CombinationCheck) throws -> CheckOutcome {
        let tc = ctx.testCase
        guard let from = tc.from, let to = tc.to, let last = tc.path.last else { return .blocked("case has no path") }
        let route = ([from] + tc.path.map(\.to)).joined(separator: "->")
        try ctx.enter(from)
        let answer = try ctx.request(to)
        if p.expect == .dataFD {
            guard answer.succeeded else {
                throw Blocked(
                    reason: "request \(from)->\(to) failed with \(answer.errno!)",
                    cause: .check(.combination(.state), from: from, to: to))
            }
            let wantsFD = last.session.opensSession
            if wantsFD == (answer.fd >= 0) { return .pass("\(route): data_fd \(answer.fd)") }
            return .violated(
                expected: wantsFD ? "a new data_fd (>= 0)" : "data_fd -1", actual: "data_fd \(answer.fd)",
                message: "combination \(route) returned the wrong data_fd")
        }
        guard answer.succeeded else {
            let now = try ctx.readState()
            return .violated(
                expected: "success, ending in \(to) (path \(route))",
                actual: "failed with \(answer.errno!), device in \(now.map(ctx.name(of:)) ?? "unreadable state")",
                message: "combination transition \(from)->\(to) was refused")
        }
        let now = try ctx.readState()
        if now == (try ctx.value(of: to)) { return .pass("\(route) reached \(to)") }
        return .violated(
            expected: "state \(to) (path \(route))", actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
            message: "combination transition \(from)->\(to) stopped elsewhere")
    }

    /// A request for the current state.
    static func sameState(_ ctx: CaseContext) throws -> CheckOutcome {
        guard let s = ctx.testCase.from else { return .blocked("case has no state") }
        try ctx.enter(s)
        let answer = try ctx.request(s)
        guard answer.succeeded else {
            return .violated(
                expected: "success without effect", actual: "failed with \(answer.errno!)",
                message: "a request for the current state \(s) was refused")
        }
        let now = try ctx.readState()
        if now != (try ctx.value(of: s)) {
            return .violated(
                expected: "state \(s)", actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "a request for the current state moved the device")
        }
        if ctx.dialect.hasDataFD && answer.fd != -1 {
            return .violated(
                expected: "data_fd -1", actual: "data_fd \(answer.fd)",
                message: "a request for the current state \(s) returned a data fd")
        }
        return .pass("\(s) -> \(s) succeeded without effect")
    }

    /// A request that must be refused, leaving the state alone and the device usable.
    static func rejectedValue(_ ctx: CaseContext) throws -> CheckOutcome {
        let tc = ctx.testCase
        guard let from = tc.from, let value = tc.value else { return .blocked("case has no value") }
        let label = tc.valueLabel ?? String(value)
        try ctx.enter(from)
        let answer = try ctx.request(value)
        let now = try ctx.readState()
        let fromValue = try ctx.value(of: from)
        guard let e = answer.errno else {
            return .violated(
                expected: "failure with \(ctx.acceptText), state \(from)",
                actual: "success, state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "a request for \(label) in \(from) was accepted")
        }
        if !ctx.acceptable(e) {
            return .violated(
                expected: "failure with \(ctx.acceptText)", actual: e.name,
                message: "a request for \(label) in \(from) failed with an unexpected errno")
        }
        if now != fromValue {
            return .violated(
                expected: "state \(from) after the refusal", actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "a refused request for \(label) changed the state")
        }
        // Still usable: an arc out of the state works (the first that does: one broken arc is another rule's business).
        var tried: [String] = []
        for arc in ctx.machine.arcs where arc.from == from {
            let next = try ctx.request(arc.to)
            let after = try ctx.readState()
            if try next.succeeded && after == ctx.value(of: arc.to) {
                return .pass("\(label) refused with \(e) in \(from); state kept; \(arc.from)->\(arc.to) works after it")
            }
            tried.append(
                "\(arc.to): "
                    + (next.succeeded ? "state \(after.map(ctx.name(of:)) ?? "unreadable")" : "\(next.errno!)"))
            if after != fromValue { break }
        }
        if tried.isEmpty { return .pass("\(label) refused with \(e) in \(from); state kept") }
        return .violated(
            expected: "an arc out of \(from) works after the refusal", actual: tried.joined(separator: "; "),
            message: "the device was not usable after refusing \(label)")
    }

    /// A request the path rules forbid.
    static func forbiddenArc(_ ctx: CaseContext) throws -> CheckOutcome {
        guard let from = ctx.testCase.from, let to = ctx.testCase.to else { return .blocked("case has no pair") }
        try ctx.enter(from)
        let answer = try ctx.request(to)
        let now = try ctx.readState()
        guard let e = answer.errno else {
            return .violated(
                expected: "failure with \(ctx.acceptText)",
                actual: "success, state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "the forbidden request \(from)->\(to) was carried out")
        }
        if !ctx.acceptable(e) {
            return .violated(
                expected: "failure with \(ctx.acceptText)", actual: e.name,
                message: "\(from)->\(to) failed with an unexpected errno")
        }
        if now != (try ctx.value(of: from)) {
            return .violated(
                expected: "state \(from)", actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "the refused request \(from)->\(to) moved the device")
        }
        return .pass("\(from)->\(to) refused with \(e); state kept")
    }

    /// Reset from a state: back to the initial state, session ended.
    static func reset(_ ctx: CaseContext, _ p: ResetCheck) throws -> CheckOutcome {
        guard let from = ctx.testCase.from else { return .blocked("case has no state") }
        let initial = ctx.machine.initial.name
        // Whether the session is over is probed with a few bytes: an empty session, which a complete stream would
        // not leave room for, shows a session kept. Otherwise the reset meets a resume with its stream loaded,
        // as when a migration is cancelled at the destination, so that the driver's cleanup of it is exercised.
        if p.expect == .sessionEnded {
            let fd = try ctx.enter(from, fresh: true, loadResume: .nothing)
            guard try ctx.reset() else { throw Blocked(reason: "reset failed", cause: .resetState(from: from)) }
            return try StreamChecks.sessionIsOver(ctx, fd: fd, state: from, after: "reset")
        }
        try ctx.enter(from, loadResume: .now)
        let outcome = try ctx.op(.reset)
        guard outcome.succeeded else {
            return .violated(expected: "reset succeeds", actual: describe(outcome), message: "reset failed in \(from)")
        }
        let now = try ctx.readState()
        if now == (try ctx.value(of: initial)) { return .pass("reset from \(from) reached \(initial)") }
        return .violated(
            expected: "state \(initial)", actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
            message: "reset from \(from) did not return to \(initial)")
    }
}
