import MigconformDevice

/// The saving phase did not end: pending_bytes stayed above zero.
struct NotDrained: Error {
    var iterations: Int
    var bytes: Int
}

/// The v1 data protocol over the migration region: `pending_bytes`, `data_offset` and `data_size` in the
/// region header, data in the region's data section.
struct V1Stream {
    let ctx: CaseContext
    init(_ ctx: CaseContext) { self.ctx = ctx }

    /// A 64-bit header field, or nil when the read failed.
    func field(_ offset: UInt64) throws -> UInt64? {
        if case .value(let v) = try ctx.op(.regionRead(offset: offset, width: 8)) { return v }
        return nil
    }

    /// Enters the save state and reads `pending_bytes` there. A device with nothing pending may still hold what an
    /// earlier case loaded into it (a stream it was given and accepted, even a short one), so the state is then
    /// entered once more from a reset, and `fromReset` says so: what the case checks is judged on the device's own
    /// state. The reset is judged from the save state, and the walk starts where it left the device.
    func enterSeekingPending(_ save: String) throws -> (pending: UInt64?, fromReset: Bool) {
        try ctx.enter(save, fresh: true)
        if let pending = try field(RegionV1.pendingBytes), pending > 0 { return (pending, false) }
        guard try ctx.reset() else { throw Blocked(reason: "nothing was pending in \(save), and a reset failed") }
        _ = try ctx.readState()
        try ctx.enter(save, fresh: true)
        return (try field(RegionV1.pendingBytes), true)
    }

    /// What a case's message adds when ``enterSeekingPending(_:)`` entered the save state a second time.
    static func reenteredNote(_ fromReset: Bool) -> String {
        fromReset ? " (entered again from a reset: nothing was pending at first)" : ""
    }

    /// ``enterSeekingPending(_:)`` for a case that needs data pending: throws ``Blocked`` when even a save state
    /// entered from a reset has none.
    func enterWithPending(_ save: String) throws -> (pending: UInt64, fromReset: Bool) {
        let (pending, fromReset) = try enterSeekingPending(save)
        guard let pending else { throw Blocked(reason: "pending_bytes does not read in \(save)") }
        guard pending > 0 else {
            throw Blocked(reason: "pending_bytes is 0 in \(save), also entered from a reset: nothing to read")
        }
        return (pending, fromReset)
    }

    /// `data_offset`, read after `pending_bytes` said `pending`: with data pending, 0 (the region's header) breaks
    /// the data_offset rule whichever case reads it, and is reported under that rule.
    func dataOffset(pending: UInt64) throws -> UInt64? {
        let offset = try field(RegionV1.dataOffset)
        if offset == 0, pending > 0 {
            ctx.found(
                .check(.saveProtocol(.dataOffsetNonzero)), expected: "data_offset > 0",
                actual: "data_offset 0 with pending_bytes \(pending)",
                "data_offset is 0, the region's header, while \(pending) bytes are pending")
        }
        return offset
    }

    /// Reads the stream of the current saving phase until `pending_bytes` is 0.
    func save(maxIterations: Int = 10_000) throws -> [UInt8] {
        var sizes: [Int] = []
        return try save(maxIterations: maxIterations, transactions: &sizes)
    }

    /// Reads the stream and records the size of each transaction.
    func save(maxIterations: Int = 10_000, transactions: inout [Int]) throws -> [UInt8] {
        var stream: [UInt8] = []
        for _ in 0..<maxIterations {
            guard let pending = try field(RegionV1.pendingBytes) else {
                throw Blocked(reason: "pending_bytes read failed")
            }
            if pending == 0 { return stream }
            guard let offset = try dataOffset(pending: pending) else {
                throw Blocked(reason: "data_offset read failed")
            }
            guard let size = try field(RegionV1.dataSize) else { throw Blocked(reason: "data_size read failed") }
            guard size <= 1 << 30 else { throw Blocked(reason: "data_size \(size) with pending_bytes \(pending)") }
            if size == 0 { continue } // nothing this round although bytes are pending: iterate, up to the limit
            guard case .bytes(let b) = try ctx.op(.dataRead(offset: offset, count: Int(size))) else {
                // At offset 0 the read lands on the region's header: the rule on data_offset says why.
                throw offset == 0
                    ? Blocked(
                        reason: "reading the data section at data_offset 0 failed",
                        cause: .check(.saveProtocol(.dataOffsetNonzero)))
                    : Blocked(reason: "reading the data section failed")
            }
            stream += b
            transactions.append(b.count)
        }
        throw NotDrained(iterations: maxIterations, bytes: stream.count)
    }

    /// Writes `stream` in pieces; returns how the first refused write was refused.
    func resume(_ stream: [UInt8], segments: [Int]) throws -> WriteRefusal? {
        var offset = 0
        var i = 0
        while offset < stream.count {
            let size = max(1, segments[i % segments.count])
            i += 1
            let piece = Array(stream[offset..<min(stream.count, offset + size)])
            guard let dataOffset = try field(RegionV1.dataOffset) else { return .dataOffsetUnreadable }
            if let e = try ctx.op(.dataWrite(offset: dataOffset, bytes: piece)).errno { return .errno(e) }
            if let e = try ctx.op(.regionWrite(offset: RegionV1.dataSize, width: 8, value: UInt64(piece.count))).errno {
                return .errno(e)
            }
            offset += piece.count
        }
        return nil
    }
}
