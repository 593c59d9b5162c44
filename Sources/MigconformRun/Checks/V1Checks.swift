import MigconformDevice
import MigconformSpec

/// Checks that only the v1 region protocol has.
enum V1Checks {
    static let reservedPattern: UInt32 = 0xa5a5_a5a5 & ~RegionV1.stateMask

    static func reservedBits(_ ctx: CaseContext, _ p: ReservedBitsCheck) throws -> CheckOutcome {
        let initial = ctx.machine.initial
        try ctx.enter(initial.name)
        switch p.expect {
        case .reservedField:
            let w = try ctx.op(.regionWrite(offset: RegionV1.reserved, width: 4, value: 0xdead_beef))
            let r = try ctx.op(.regionRead(offset: RegionV1.reserved, width: 4))
            if case .value(0) = r { return .pass("reserved field reads 0 (write: \(describe(w)))") }
            return .violated(
                expected: "reserved field reads 0", actual: describe(r), message: "the reserved field is not inert")
        case .ignored, .preserved:
            // Move to the first arc's target with reserved bits set in the written word.
            guard let arc = ctx.machine.arcs.first(where: { $0.from == initial.name }) else {
                throw Blocked(reason: "no arc out of \(initial.name)")
            }
            let target = try ctx.value(of: arc.to)
            let word = reservedPattern | target
            let outcome = try ctx.op(.regionWrite(offset: RegionV1.deviceState, width: 4, value: UInt64(word)))
            if p.expect == .ignored {
                let now = try ctx.readState()
                if outcome.succeeded && now == target {
                    return .pass("write of 0x\(String(word, radix: 16)) moved the device to \(arc.to)")
                }
                return .violated(
                    expected: "write accepted, state \(arc.to)",
                    actual: "write \(describe(outcome)), state \(now.map(ctx.name(of:)) ?? "unreadable")",
                    message: "reserved bits in a device_state write were not ignored")
            }
            guard outcome.succeeded else {
                throw Blocked(reason: "the write with reserved bits failed", cause: .check(.reservedBits(.ignored)))
            }
            let raw = try ctx.readRawStateV1()
            if raw == word {
                return .pass("device_state reads back 0x\(String(word, radix: 16)) with the reserved bits kept")
            }
            return .violated(
                expected: "device_state 0x\(String(word, radix: 16))",
                actual: raw.map { "0x" + String($0, radix: 16) } ?? "unreadable",
                message: "the reserved bits were not preserved")
        }
    }

    static func saveProtocol(_ ctx: CaseContext, _ p: SaveProtocolCheck) throws -> CheckOutcome {
        let save = try ctx.role("save")
        let stream = V1Stream(ctx)
        switch p.expect {
        case .pendingIdempotent:
            let (a, fromReset) = try stream.enterSeekingPending(save)
            let b = try stream.field(RegionV1.pendingBytes)
            let note = V1Stream.reenteredNote(fromReset)
            if let a, a == b { return .pass("pending_bytes read twice: \(a) both times" + note) }
            return .violated(
                expected: "the same pending_bytes twice",
                actual: "\(a.map(String.init) ?? "failed"), then \(b.map(String.init) ?? "failed")" + note,
                message: "reading pending_bytes had a side effect")
        case .dataOffsetNonzero:
            let (pending, fromReset) = try stream.enterWithPending(save)
            let offset = try stream.field(RegionV1.dataOffset)
            let note = V1Stream.reenteredNote(fromReset)
            if let offset, offset != 0 { return .pass("data_offset \(offset) with pending_bytes \(pending)" + note) }
            return .violated(
                expected: "data_offset > 0", actual: (offset.map(String.init) ?? "read failed") + note,
                message: "data_offset is zero")
        case .drains:
            try ctx.enter(save, fresh: true)
            let limit = p.maxIterations
            do {
                let bytes = try stream.save(maxIterations: limit)
                return .pass("pending_bytes reached 0 after \(bytes.count) bytes")
            } catch let n as NotDrained {
                return .violated(
                    expected: "pending_bytes reaches 0 within \(limit) iterations",
                    actual: "still above 0 after \(n.iterations) iterations and \(n.bytes) bytes",
                    message: "the stop-and-copy phase did not drain")
            }
        }
    }
}
