import MigconformDevice
import MigconformSpec

/// What differs between the two protocol generations where the runner talks to a device: how the state is read and
/// requested, whether a session has a data fd, and how a stream is saved and written back. Everything else in the
/// runner is the same for both.
protocol Dialect: Sendable {
    /// The operation that reads the device state.
    var readState: DeviceOperation { get }
    /// The state an answer to ``readState`` carries (v1: the state bits of `device_state`).
    func state(in outcome: DeviceOutcome) -> UInt32?
    /// The operations that request `value` while positioning from a reset, each followed by a read of the state
    /// (as `CaseContext.enter` issues them; reproducers list them).
    func positioningRequest(_ value: UInt32) -> [DeviceOperation]
    /// The device's state by name, read when the run has cleaned up.
    func finalState(_ device: RecordingDevice) throws -> String?
    /// A session moves data through a data fd returned by the request (v2); v1 moves it through its region.
    var hasDataFD: Bool { get }
    /// The device reports a migration flags word and answers feature PROBEs (v2).
    var advertisesFeatures: Bool { get }
    /// The oracle judges where a request, or a failed exit from the resume state, left the device, and catches
    /// moves nothing asked for (v2).
    var judgesSettledStates: Bool { get }
    /// Requests a state value.
    func send(_ value: UInt32, _ ctx: CaseContext) throws -> SetAnswer
    /// Saves the device's whole state into `stream`; leaves the device in the save state.
    func captureStream(into stream: SavedStream, viaPreCopy: Bool, _ ctx: CaseContext) throws
    /// Writes a resume stream in pieces of the given sizes (cycled); how the first refused write was refused.
    func write(_ stream: SavedStream, to fd: Int32?, segments: [Int], _ ctx: CaseContext) throws -> WriteRefusal?
}

/// How the device refused resume data, in words that name only what it answered: an errno, a write that took no
/// byte and gave none, or (v1) a region read that failed before the data could be placed. Reads after "failed
/// with" or "refused with".
package enum WriteRefusal: Equatable, Sendable, CustomStringConvertible {
    /// The write, or a region access of it, failed with this errno.
    case errno(Errno)
    /// The write returned 0: no byte taken, and no errno to name.
    case nothingTaken
    /// v1: reading `data_offset`, where the next piece goes, answered no value.
    case dataOffsetUnreadable

    package var description: String {
        switch self {
        case .errno(let e): return e.description
        case .nothingTaken: return "an answer of 0 bytes taken (no errno)"
        case .dataOffsetUnreadable: return "no readable data_offset to place the data at"
        }
    }
}

extension ProtocolGeneration {
    var dialect: any Dialect {
        switch self {
        case .v1: return DialectV1()
        case .v2: return DialectV2()
        }
    }
}

/// The `VFIO_DEVICE_FEATURE` state machine of Linux 5.18 and later.
struct DialectV2: Dialect {
    var readState: DeviceOperation { .getState }
    func state(in outcome: DeviceOutcome) -> UInt32? {
        if case .state(let s, _) = outcome { return s }
        return nil
    }
    func positioningRequest(_ value: UInt32) -> [DeviceOperation] { [.setState(value), readState] }
    func finalState(_ device: RecordingDevice) throws -> String? {
        if case .state(let s, _) = try device.perform(.getState) { return MigrationState(rawValue: s).description }
        return nil
    }
    var hasDataFD: Bool { true }
    var advertisesFeatures: Bool { true }
    var judgesSettledStates: Bool { true }

    func send(_ value: UInt32, _ ctx: CaseContext) throws -> SetAnswer {
        let outcome = try ctx.op(.setState(value))
        switch outcome {
        case .state(_, let fd):
            if fd >= 0 { ctx.openedFDs.append(fd) }
            return SetAnswer(errno: nil, fd: fd)
        case .failed(let e): return SetAnswer(errno: e, fd: -1)
        default: return SetAnswer(errno: nil, fd: -1)
        }
    }

    func captureStream(into stream: SavedStream, viaPreCopy: Bool, _ ctx: CaseContext) throws {
        let save = try ctx.role("save")
        var fd: Int32?
        if viaPreCopy {
            let pre = try ctx.role("pre-copy")
            fd = try ctx.enter(pre, fresh: true)
            guard let f = fd else {
                throw Blocked(reason: "entering \(pre) gave no data fd", cause: .check(.arc(.dataFD), to: pre))
            }
            let end = try ctx.drain(fd: f, stopAtENOMSG: true, into: stream)
            if let e = end.errno, e != .ENOMSG { throw Blocked(reason: "pre-copy read failed with \(e)") }
            guard let path = ctx.machine.path(from: pre, to: save) else {
                throw Blocked(reason: "no path \(pre)->\(save)")
            }
            fd = try ctx.walk(path, from: pre, fd: f)
        } else {
            fd = try ctx.enter(save, fresh: true)
        }
        guard let f = fd, f >= 0 else {
            throw Blocked(reason: "entering \(save) gave no data fd", cause: .check(.arc(.dataFD), to: save))
        }
        let end = try ctx.drain(fd: f, stopAtENOMSG: false, into: stream)
        if let e = end.errno { throw Blocked(reason: "reading the \(save) stream failed with \(e)", cause: .streamEnd) }
        // The stream goes back in the pieces it came out in, as a migration's destination writes what the
        // source read (and then no piece is copied on the way).
        if !viaPreCopy, !stream.pieceSizes.isEmpty { ctx.cache.transactions = stream.pieceSizes }
        let partly = viaPreCopy ? ", read partly in \(try ctx.role("pre-copy"))" : ""
        stream.label = "the saved stream (\(stream.count) bytes\(partly))"
    }

    func write(_ stream: SavedStream, to fd: Int32?, segments: [Int], _ ctx: CaseContext) throws -> WriteRefusal? {
        let resume = try ctx.role("resume")
        guard let f = fd, f >= 0 else { throw Blocked(reason: "entering \(resume) gave no data fd") }
        let total = stream.count
        var offset: UInt64 = 0
        var i = 0
        var writes = 0
        // A large stream is recorded as one summary entry, not one entry per write.
        ctx.device.beginTransfer("\(stream.label ?? "a stream of \(total) bytes") written to fd \(f)", bytes: total)
        defer { ctx.device.endTransfer() }
        while offset < total {
            let patterned = writes < CaseContext.patternWrites && offset < CaseContext.patternBytes
            let size = patterned ? max(1, segments[i % segments.count]) : stream.bulkSize(at: offset)
            if patterned { i += 1 }
            let piece = try stream.read(at: offset, count: Int(min(UInt64(size), total - offset)))
            writes += 1
            // Named only where the transcript keeps not the bytes but a name (writes of more than 64 bytes).
            if piece.count > 64, let label = stream.label {
                ctx.device.nextData = "\(label): bytes \(offset)..\(offset + UInt64(piece.count) - 1)"
            }
            var outcome = try ctx.op(.write(fd: f, bytes: piece))
            var written = 0
            while true {
                guard case .value(let n) = outcome, n > 0 else {
                    let refusal = outcome.errno.map(WriteRefusal.errno) ?? .nothingTaken
                    if ctx.route == nil { ctx.position.refusedResumeWrite = refusal }
                    return refusal
                }
                written += Int(n)
                if written >= piece.count { break }
                if piece.count - written > 64, let label = stream.label {
                    let first = offset + UInt64(written)
                    let last = offset + UInt64(piece.count) - 1
                    ctx.device.nextData = "\(label): bytes \(first)..\(last)"
                }
                outcome = try ctx.op(.write(fd: f, bytes: Array(piece[written...])))
            }
            offset += UInt64(piece.count)
        }
        return nil
    }
}

/// The migration region of Linux 5.8 to 5.17.
struct DialectV1: Dialect {
    var readState: DeviceOperation { .regionRead(offset: RegionV1.deviceState, width: 4) }
    func state(in outcome: DeviceOutcome) -> UInt32? {
        if case .value(let v) = outcome { return UInt32(truncatingIfNeeded: v) & RegionV1.stateMask }
        return nil
    }
    func positioningRequest(_ value: UInt32) -> [DeviceOperation] {
        [readState, .regionWrite(offset: RegionV1.deviceState, width: 4, value: UInt64(value)), readState]
    }
    func finalState(_ device: RecordingDevice) throws -> String? {
        if case .value(let v) = try device.perform(.regionRead(offset: 0, width: 4)) {
            return v & 7 == 1 ? "RUNNING" : "device_state 0x\(String(v, radix: 16))"
        }
        return nil
    }
    var hasDataFD: Bool { false }
    var advertisesFeatures: Bool { false }
    var judgesSettledStates: Bool { false }

    /// A read-modify-write of the state bits of `device_state`; a value beyond them is written as it is.
    func send(_ value: UInt32, _ ctx: CaseContext) throws -> SetAnswer {
        let current = try ctx.readRawStateV1() ?? 0
        let word = value > RegionV1.stateMask ? value : (current & ~RegionV1.stateMask) | value
        let outcome = try ctx.op(.regionWrite(offset: RegionV1.deviceState, width: 4, value: UInt64(word)))
        return SetAnswer(errno: outcome.errno, fd: -1)
    }

    func captureStream(into stream: SavedStream, viaPreCopy: Bool, _ ctx: CaseContext) throws {
        // The v1 region protocol moves the stream in the device's own transactions; it stays in memory.
        try ctx.enter(try ctx.role("save"), fresh: true)
        var sizes: [Int] = []
        do { try stream.append(try V1Stream(ctx).save(transactions: &sizes)) } catch let n as NotDrained {
            throw Blocked(
                reason: "the saving phase did not drain after \(n.iterations) iterations",
                cause: .check(.saveProtocol(.drains)))
        }
        ctx.cache.transactions = sizes.isEmpty ? [1 << 16] : sizes
    }

    func write(_ stream: SavedStream, to fd: Int32?, segments: [Int], _ ctx: CaseContext) throws -> WriteRefusal? {
        try V1Stream(ctx).resume(try stream.read(at: 0, count: Int(stream.count)), segments: segments)
    }
}
