import MigconformDevice

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

    /// Reads the stream of the current saving phase until `pending_bytes` is 0.
    func save(maxIterations: Int = 1 << 20) throws -> [UInt8] {
        var sizes: [Int] = []
        return try save(maxIterations: maxIterations, transactions: &sizes)
    }

    /// Reads the stream and records the size of each transaction.
    func save(maxIterations: Int = 1 << 20, transactions: inout [Int]) throws -> [UInt8] {
        var stream: [UInt8] = []
        for _ in 0..<maxIterations {
            guard let pending = try field(RegionV1.pendingBytes) else { throw Blocked(reason: "pending_bytes read failed") }
            if pending == 0 { return stream }
            guard let offset = try field(RegionV1.dataOffset) else { throw Blocked(reason: "data_offset read failed") }
            guard let size = try field(RegionV1.dataSize) else { throw Blocked(reason: "data_size read failed") }
            guard size > 0, size <= 1 << 30 else { throw Blocked(reason: "data_size \(size) with pending_bytes \(pending)") }
            guard case .bytes(let b) = try ctx.op(.dataRead(offset: offset, count: Int(size))) else {
                throw Blocked(reason: "reading the data section failed")
            }
            stream += b
            transactions.append(b.count)
        }
        throw Blocked(reason: "pending_bytes did not reach 0 in \(maxIterations) iterations")
    }

    /// Writes `stream` in pieces; returns the errno of the first refused write.
    func resume(_ stream: [UInt8], segments: [Int]) throws -> Errno? {
        var offset = 0, i = 0
        while offset < stream.count {
            let size = max(1, segments[i % segments.count]); i += 1
            let piece = Array(stream[offset..<min(stream.count, offset + size)])
            guard let dataOffset = try field(RegionV1.dataOffset) else { return .EIO }
            if let e = try ctx.op(.dataWrite(offset: dataOffset, bytes: piece)).errno { return e }
            if let e = try ctx.op(.regionWrite(offset: RegionV1.dataSize, width: 8, value: UInt64(piece.count))).errno {
                return e
            }
            offset += piece.count
        }
        return nil
    }
}
