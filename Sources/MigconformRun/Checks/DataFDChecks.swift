import Foundation
import MigconformDevice
import MigconformSpec

/// The data fd as a file: close-on-exec, its access mode, no seeking, ioctls it must refuse, `poll` at the ends of
/// the stream, and two saves from STOP compared.
enum DataFDChecks {
    /// ENOSYS to a call on data fd `fd`. From a target that makes no call on a data fd (an adapter of protocol
    /// version 1) it says the call cannot be made: NOT_APPLICABLE. A target that reads the fd's flags (fcntl
    /// F_GETFD, which the kernel answers for every open fd) does make calls on it, so its ENOSYS is the driver's
    /// answer, judged like any other (nil).
    /// `readsFlags`: the call was fcntl(F_GETFD) itself.
    static func unsupported(
        _ ctx: CaseContext, _ fd: Int32, _ outcome: DeviceOutcome, _ what: String, readsFlags: Bool = false
    ) throws -> CheckOutcome? {
        guard outcome.errno == .ENOSYS else { return nil }
        if !readsFlags {
            let probe = try ctx.op(.dataFD(fd: fd, call: .fdFlags))
            guard probe.errno == .ENOSYS else { return nil }
        }
        return .notApplicable("the target makes no call on a data fd (it answered ENOSYS to \(what))")
    }

    static func run(_ ctx: CaseContext, _ p: DataFDCheck) throws -> CheckOutcome {
        switch p.expect {
        case .shortArgsz: return try shortArgsz(ctx)
        case .pollAtEnd: return try pollAtEnd(ctx)
        case .pollAtTemporaryEnd: return try pollAtTemporaryEnd(ctx)
        case .saveRepeatable: return try saveRepeatable(ctx)
        case .closeOnExec, .accessMode, .notSeekable, .unknownIoctl, .precopyInfoRefused: break
        }
        guard let state = ctx.testCase.from else { return .blocked("case has no state") }
        // The fd's own flags and seekability are set when the fd is made: in the resume state they are read
        // before the session gets its stream, which only a request out of it would need.
        let ownFlags: Set<DataFDCheck.Expect> = [.closeOnExec, .accessMode, .notSeekable]
        let fd = try ctx.enterForDataFD(state, loadResume: ownFlags.contains(p.expect) ? .whenLeaving : .now)
        let saving = state != (try? ctx.role("resume"))
        switch p.expect {
        case .closeOnExec:
            let out = try ctx.op(.dataFD(fd: fd, call: .fdFlags))
            if let na = try unsupported(ctx, fd, out, "fcntl(F_GETFD)", readsFlags: true) { return na }
            guard case .value(let flags) = out else {
                throw Blocked(reason: "fcntl(F_GETFD) failed with \(describe(out))")
            }
            if flags & DataFD.closeOnExec != 0 { return .pass("the data fd of \(state) is close-on-exec") }
            return .violated(
                expected: "FD_CLOEXEC set", actual: "fd flags 0x\(String(flags, radix: 16))",
                message: "the data fd of \(state) is not close-on-exec")
        case .accessMode:
            let out = try ctx.op(.dataFD(fd: fd, call: .statusFlags))
            if let na = try unsupported(ctx, fd, out, "fcntl(F_GETFL)") { return na }
            guard case .value(let flags) = out else {
                throw Blocked(reason: "fcntl(F_GETFL) failed with \(describe(out))")
            }
            let mode = flags & DataFD.accessMode
            let want = saving ? DataFD.readOnly : DataFD.writeOnly
            let names = [DataFD.readOnly: "O_RDONLY", DataFD.writeOnly: "O_WRONLY", 2: "O_RDWR"]
            if mode == want { return .pass("the data fd of \(state) is \(names[want]!)") }
            return .violated(
                expected: names[want]!, actual: names[mode] ?? "access mode \(mode)",
                message: "the \(saving ? "saving" : "resuming") fd of \(state) is not "
                    + (saving ? "read-only" : "write-only"))
        case .notSeekable:
            let calls: [DataFDCall] = [
                .seek(offset: 0), .pread(count: 16, offset: 0),
                .pwrite(bytes: [UInt8](repeating: 0x5a, count: 16), offset: 0),
            ]
            var seen: [String] = []
            for call in calls {
                let out = try ctx.op(.dataFD(fd: fd, call: call))
                if let na = try unsupported(ctx, fd, out, call.name) { return na }
                guard let e = out.errno else {
                    return .violated(
                        expected: "\(call.name) fails with \(ctx.acceptText)", actual: describe(out),
                        message: "\(call.name) on the data fd of \(state) succeeded: the fd is a stream")
                }
                guard ctx.acceptable(e) else {
                    return .violated(
                        expected: "\(call.name) fails with \(ctx.acceptText)", actual: e.name,
                        message: "\(call.name) on the data fd of \(state) failed with an unexpected errno")
                }
                seen.append("\(call.name) \(e)")
            }
            return .pass("on the data fd of \(state): " + seen.joined(separator: ", "))
        case .unknownIoctl:
            let out = try ctx.op(.dataFD(fd: fd, call: .ioctl(request: DataFD.unknownIoctl)))
            if let na = try unsupported(ctx, fd, out, "an ioctl") { return na }
            return ctx.refusal(
                out, "an unknown ioctl on the data fd of \(state)",
                ifAccepted: "the data fd of \(state) accepted an ioctl no kernel defines")
        case .precopyInfoRefused:
            let out = try ctx.op(.precopyInfo(fd: fd))
            return ctx.refusal(
                out, "VFIO_MIG_GET_PRECOPY_INFO on the data fd of \(state)",
                ifAccepted: "VFIO_MIG_GET_PRECOPY_INFO answered on the data fd of \(state)")
        case .shortArgsz, .pollAtEnd, .pollAtTemporaryEnd, .saveRepeatable:
            return .blocked("\(p.expect.rawValue) runs before the data fd of \(state) is opened")
        }
    }

    /// PRECOPY_INFO whose argsz is 4 bytes short of the structure fails.
    static func shortArgsz(_ ctx: CaseContext) throws -> CheckOutcome {
        let pre = try ctx.role("pre-copy")
        let fd = try ctx.enterForDataFD(pre)
        let full = try ctx.op(.dataFD(fd: fd, call: .precopyInfo(argsz: DataFD.precopyInfoSize, flags: 0)))
        if let na = try unsupported(ctx, fd, full, "VFIO_MIG_GET_PRECOPY_INFO with a chosen argsz") { return na }
        guard full.succeeded else {
            throw Blocked(
                reason: "PRECOPY_INFO with a full argsz failed with \(describe(full))",
                cause: .check(.precopyInfo(.supported)))
        }
        let short = try ctx.op(.dataFD(fd: fd, call: .precopyInfo(argsz: DataFD.precopyInfoSize - 4, flags: 0)))
        return ctx.refusal(
            short, "PRECOPY_INFO with argsz \(DataFD.precopyInfoSize - 4)",
            ifAccepted: "PRECOPY_INFO accepted an argsz shorter than struct vfio_precopy_info")
    }

    /// At the permanent end of the STOP_COPY stream, poll reports the fd readable at once.
    static func pollAtEnd(_ ctx: CaseContext) throws -> CheckOutcome {
        let save = try ctx.role("save")
        let fd = try ctx.enterForDataFD(save)
        let sink = SavedStream.counting()
        let end = try ctx.drain(fd: fd, stopAtENOMSG: false, into: sink)
        guard case .bytes(let b) = end, b.isEmpty else {
            throw Blocked(reason: "the \(save) stream did not end: \(describe(end))", cause: .streamEnd)
        }
        return try poll(ctx, fd) { revents in
            if revents & DataFD.pollIn != 0 {
                return .pass(
                    "after \(sink.count) bytes and the end of stream, poll reports readable (revents 0x"
                        + String(revents, radix: 16) + ")")
            }
            return .violated(
                expected: "POLLIN at once", actual: "revents 0x\(String(revents, radix: 16))",
                message: "at the permanent end of the \(save) stream poll does not report readable")
        }
    }

    /// Polls `fd` and hands its revents to `judge`; NOT_APPLICABLE when the target cannot poll, blocked when the
    /// poll fails.
    static func poll(_ ctx: CaseContext, _ fd: Int32, judge: (UInt64) throws -> CheckOutcome) throws -> CheckOutcome {
        let out = try ctx.op(.dataFD(fd: fd, call: .poll))
        if let na = try unsupported(ctx, fd, out, "poll") { return na }
        guard case .value(let revents) = out else { throw Blocked(reason: "poll failed with \(describe(out))") }
        return try judge(revents)
    }

    /// At the temporary end of the pre-copy stream of an idle device, poll does not report readable: user space
    /// can wait for more data with it.
    static func pollAtTemporaryEnd(_ ctx: CaseContext) throws -> CheckOutcome {
        let pre = try ctx.role("pre-copy")
        let fd = try ctx.enterForDataFD(pre)
        let sink = SavedStream.counting()
        let end = try ctx.drain(fd: fd, stopAtENOMSG: true, into: sink)
        guard end.errno == .ENOMSG || end == .bytes([]) else {
            throw Blocked(reason: "the \(pre) stream did not reach its temporary end: \(describe(end))")
        }
        return try poll(ctx, fd) { revents in
            let after = end.errno == .ENOMSG ? "ENOMSG" : "a read of 0 bytes"
            if revents & DataFD.pollIn == 0 {
                return .pass(
                    "after \(sink.count) bytes and \(after), poll reports nothing to read (revents 0x"
                        + String(revents, radix: 16) + ")")
            }
            let again = try ctx.op(.read(fd: fd, count: 4096))
            if case .bytes(let b) = again, !b.isEmpty {
                return .pass("poll reported readable after \(after), and new data followed (\(b.count) bytes)")
            }
            return .violated(
                expected: "no POLLIN while the device has no new data",
                actual: "revents 0x\(String(revents, radix: 16)), then a read gave \(describe(again))",
                message: "at the temporary end of the \(pre) stream poll reports readable with nothing "
                    + "to read, so user space cannot wait for more data with it")
        }
    }

    /// Two saves from STOP, with nothing between them but STOP_COPY -> STOP -> STOP_COPY, give the same bytes.
    /// The first save is kept in memory while it is small (a checksum per 1 MiB block when large); the second is
    /// compared with it piece by piece as it is read, and read to its end even past a difference: its length is
    /// reported, and the device is left at the permanent end of its stream, as after any other whole save.
    static func saveRepeatable(_ ctx: CaseContext) throws -> CheckOutcome {
        let save = try ctx.role("save")
        let stop = try ctx.role("resume-exit")
        func opened(_ fd: Int32?) throws -> Int32 {
            guard let fd, fd >= 0 else {
                throw Blocked(
                    reason: "entering \(save) gave no data fd",
                    cause: .check(.arc(.dataFD), to: save))
            }
            return fd
        }
        func ended(_ end: DeviceOutcome) throws {
            guard case .bytes(let b) = end, b.isEmpty else {
                throw Blocked(reason: "the \(save) stream did not end: \(describe(end))", cause: .streamEnd)
            }
        }
        // The first save is kept whole while a stream of its size would be held in memory, so a difference is found
        // to the byte; a larger one is kept as a checksum per 1 MiB block, so that two saves of a large state cost
        // two reads and no spool file.
        var kept: SavedStream? = SavedStream(spoolThreshold: .max)
        var firstBlocks = BlockDigests()
        let (firstEnd, firstLength) = try ctx.drain(
            fd: try opened(try ctx.enter(save, fresh: true)), stopAtENOMSG: false
        ) { _, piece in
            guard let k = kept else { return firstBlocks.add(piece) }
            try k.append(piece)
            guard k.count > ctx.cache.spoolThreshold else { return }
            var at: UInt64 = 0
            while at < k.count {
                let n = min(BlockDigests.size, k.count - at)
                firstBlocks.add(try k.read(at: at, count: Int(n)))
                at += n
            }
            kept = nil
        }
        try ended(firstEnd)
        firstBlocks.finish()
        var fd: Int32 = -1
        for (from, to) in [(save, stop), (stop, save)] {
            let answer = try ctx.requestReaching(to, from: from)
            fd = answer.fd
        }
        var differs: UInt64?
        var secondBlocks = BlockDigests()
        var compared = 0
        let (end, length) = try ctx.drain(fd: try opened(fd), stopAtENOMSG: false) { offset, piece in
            guard differs == nil else { return }
            if let whole = kept {
                let saved =
                    offset >= whole.count
                    ? [] : try whole.read(at: offset, count: Int(min(UInt64(piece.count), whole.count - offset)))
                if let k = firstDifference(saved, piece) { differs = offset + UInt64(k) }
            } else {
                secondBlocks.add(piece)
                if let b = secondBlocks.firstDifference(from: firstBlocks, after: compared) {
                    differs = UInt64(b) * BlockDigests.size
                }
                compared = secondBlocks.digests.count
            }
        }
        try ended(end)
        if differs == nil, kept == nil {
            secondBlocks.finish()
            differs = secondBlocks.firstDifference(from: firstBlocks).map { UInt64($0) * BlockDigests.size }
        }
        guard let at = differs ?? (length == firstLength ? nil : min(length, firstLength)) else {
            let blocks = kept == nil ? " (compared by a checksum of each 1 MiB block as they were read)" : ""
            return .pass("two saves from \(stop) gave the same \(firstLength) bytes" + blocks)
        }
        let where_ =
            kept == nil && at % BlockDigests.size == 0 && at < min(length, firstLength)
            ? "in the 1 MiB block at byte \(at)" : "at byte \(at)"
        return .violated(
            expected: "the same bytes twice (\(firstLength))",
            actual: "\(length) bytes, the first difference \(where_)",
            message: "two saves from \(stop) differ: the state changed in \(stop), or the stream format "
                + "is not deterministic")
    }

    /// The index of the first byte where `a` and `b` differ, the shorter one's length when one is a prefix of the
    /// other, nil when they are equal.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        let n = min(a.count, b.count)
        let same = a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in n == 0 || memcmp(x.baseAddress!, y.baseAddress!, n) == 0 }
        }
        if same { return a.count == b.count ? nil : n }
        return (0..<n).first { a[$0] != b[$0] }
    }
}

/// A checksum (``StripeChecksum``) of each 1 MiB block of a stream fed in pieces of any size: two streams compared
/// block by block without keeping either.
struct BlockDigests {
    static let size: UInt64 = 1 << 20
    private(set) var digests: [UInt64] = []
    private var current = StripeChecksum(seed: 0x626C_6F63_6B73)
    private var filled: UInt64 = 0

    mutating func add(_ piece: [UInt8]) {
        var at = 0
        while at < piece.count {
            let n = Int(min(UInt64(piece.count - at), Self.size - filled))
            current.add(piece[at..<(at + n)])
            filled += UInt64(n)
            at += n
            if filled == Self.size { close() }
        }
    }

    /// Closes a last block shorter than the others.
    mutating func finish() { if filled > 0 { close() } }

    private mutating func close() {
        digests.append(current.value)
        current = StripeChecksum(seed: 0x626C_6F63_6B73)
        filled = 0
    }

    /// The index of the first complete block of this stream, from `after` on, whose checksum differs from
    /// `other`'s, or nil.
    func firstDifference(from other: BlockDigests, after: Int = 0) -> Int? {
        for i in after..<max(after, digests.count) where i >= other.digests.count || other.digests[i] != digests[i] {
            return i
        }
        return nil
    }
}
