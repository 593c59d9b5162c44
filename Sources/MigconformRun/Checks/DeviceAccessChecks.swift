import MigconformDevice
import MigconformSpec

/// Device access beyond reads of config space: config writes, BAR reads, interrupt triggers with an eventfd.
enum DeviceAccessChecks {
    /// The outcome of a `device-access` case whose expectation is one of these, or nil for the others.
    static func run(_ ctx: CaseContext, _ p: DeviceAccessCheck, in s: String) throws -> CheckOutcome? {
        switch p.expect {
        case .configWrite: return try configWrite(ctx, in: s)
        case .barRead: return try barRead(ctx, in: s)
        case .interruptsEnable: return try interruptsEnable(ctx, in: s)
        case .configRead, .interruptsDisable: return nil
        }
    }

    /// ENOSYS in the initial state: the target cannot make the call at all (an adapter of protocol version 1). In
    /// any other state ENOSYS is a refusal like another, which ``baseline(_:in:refused:_:what:)`` judges against
    /// the initial state: a driver may answer ENOSYS where it should not.
    static func unsupported(_ ctx: CaseContext, _ outcome: DeviceOutcome, _ what: String, in s: String) -> CheckOutcome?
    {
        guard outcome.errno == .ENOSYS, s == ctx.machine.initial.name else { return nil }
        return .notApplicable("the target cannot make \(what) (it answered ENOSYS)")
    }

    /// The PCI command register written back with the value it holds: accepted, and it reads back the same.
    static func configWrite(_ ctx: CaseContext, in s: String) throws -> CheckOutcome {
        guard case .value(let command) = try ctx.op(.configRead(offset: 4, width: 2)) else {
            throw Blocked(
                reason: "the command register does not read in \(s)", cause: .check(.deviceAccess(.configRead), from: s)
            )
        }
        let write = try ctx.op(.access(.configWrite(offset: 4, width: 2, value: command)))
        if let na = unsupported(ctx, write, "a config space write", in: s) { return na }
        guard write.succeeded else {
            return try baseline(
                ctx, in: s, refused: write, .access(.configWrite(offset: 4, width: 2, value: command)),
                what: "a config space write")
        }
        let back = try ctx.op(.configRead(offset: 4, width: 2))
        guard case .value(let now) = back, now == command else {
            return .violated(
                expected: "the command register reads 0x\(String(command, radix: 16)) again",
                actual: describe(back), message: "a config space write in \(s) did not hold")
        }
        return .pass("the command register (0x\(String(command, radix: 16))) written back and read again in \(s)")
    }

    /// The first BAR of the device that reads in the initial state reads in this state too (MUST in a running
    /// state; in a stopped one a MAY, what the device chose, while the host's health is watched).
    static func barRead(_ ctx: CaseContext, in s: String) throws -> CheckOutcome {
        var found: (index: UInt32, errno: Errno?)?
        for index in UInt32(0)...5 {
            let op = DeviceOperation.access(.barRead(index: index, offset: 0, width: 1))
            let out = try ctx.op(op)
            if let na = unsupported(ctx, out, "a BAR read", in: s) { return na }
            // ENOSYS where the initial state may answer otherwise: the same read there tells.
            if out.errno == .ENOSYS {
                return try baseline(ctx, in: s, refused: out, op, what: "a 1-byte read of BAR\(index)")
            }
            if out.errno == .ENXIO { continue }
            found = (index, out.errno)
            break
        }
        guard let found else { return .notApplicable("the device has no readable BAR (every index answered ENXIO)") }
        if let e = found.errno {
            return .violated(
                expected: "a 1-byte read of BAR\(found.index) succeeds", actual: e.name,
                message: "BAR\(found.index) did not read in \(s)")
        }
        return .pass("BAR\(found.index) read in \(s)")
    }

    /// An eventfd set as the INTx trigger (index 0) is accepted; the trigger is turned off again after it.
    static func interruptsEnable(_ ctx: CaseContext, in s: String) throws -> CheckOutcome {
        let op = DeviceOperation.access(.enableInterrupts(index: 0))
        let out = try ctx.op(op)
        if let na = unsupported(ctx, out, "an interrupt trigger", in: s) { return na }
        if out.succeeded {
            _ = try ctx.op(.disableInterrupts(index: 0))
            return .pass("an eventfd trigger for INTx was accepted in \(s)")
        }
        return try baseline(ctx, in: s, refused: out, op, what: "an eventfd trigger for INTx")
    }

    /// A refusal is judged only when the same request works in the initial state.
    static func baseline(
        _ ctx: CaseContext, in s: String, refused: DeviceOutcome, _ op: DeviceOperation,
        what: String
    ) throws -> CheckOutcome {
        let initial = ctx.machine.initial.name
        if s != initial {
            try ctx.enter(initial)
            let again = try ctx.op(op)
            if case .access(.enableInterrupts(let index)) = op, again.succeeded {
                _ = try ctx.op(.disableInterrupts(index: index))
            }
            if again.errno == .ENOSYS {
                return .notApplicable("the target cannot make \(what) (it answered ENOSYS in \(initial) too)")
            }
            if !again.succeeded {
                return .notApplicable(
                    "the device refuses \(what) in \(initial) too (\(describe(again))), so \(s) "
                        + "cannot be told apart")
            }
        }
        return .violated(expected: "\(what) accepted", actual: describe(refused), message: "\(what) refused in \(s)")
    }
}
