import MigconformDevice
import MigconformSpec

/// The data side: end of stream, sessions kept and ended, pre-copy info, round trips and damaged resumes.
enum StreamChecks {
    /// After a session ended, its fd must not move data: a read gives 0 or an error, a write an error.
    static func sessionIsOver(_ ctx: CaseContext, fd: Int32?, state: String, after what: String) throws -> CheckOutcome
    {
        guard let fd, fd >= 0 else {
            throw Blocked(reason: "no data fd was open in \(state)", cause: .check(.arc(.dataFD), to: state))
        }
        let resumeState = try? ctx.role("resume")
        if state == resumeState {
            let outcome = try ctx.op(.write(fd: fd, bytes: [UInt8](repeating: 0x5a, count: 16)))
            if outcome.succeeded {
                // A write that took nothing is not an error either, but it is not data taken.
                let took =
                    outcome == .value(0) ? "still answered a write without an error (0 bytes)" : "still accepted data"
                return .violated(
                    expected: "write fails", actual: describe(outcome),
                    message: "the resume fd of \(state) \(took) after \(what)")
            }
            return .pass("after \(what), a write to the old resume fd failed with \(outcome.errno!)")
        }
        let outcome = try ctx.op(.read(fd: fd, count: 4096))
        if case .bytes(let b) = outcome, !b.isEmpty {
            return .violated(
                expected: "end of stream (0 bytes) or an error", actual: "\(b.count) bytes",
                message: "the saving fd of \(state) still streamed data after \(what)")
        }
        if outcome.errno == .ENOMSG {
            return .violated(
                expected: "end of stream (0 bytes) or an error other than ENOMSG", actual: "ENOMSG",
                message: "after \(what) the old fd still behaves like a live pre-copy session")
        }
        return .pass("after \(what), the old fd gave \(describe(outcome))")
    }

    static func streamEnd(_ ctx: CaseContext, _ p: StreamEndCheck) throws -> CheckOutcome {
        let save = try ctx.role("save")
        let fd = try ctx.enterForDataFD(save)
        let sink = SavedStream.counting()
        let end = try ctx.drain(fd: fd, stopAtENOMSG: false, into: sink)
        if let e = end.errno {
            return .violated(
                expected: "the stream ends with read() returning 0",
                actual: "read failed with \(e) after \(sink.count) bytes",
                message: e == .ENOMSG
                    ? "ENOMSG in \(save), where the end of stream is permanent" : "reading the \(save) stream failed")
        }
        let extra = p.extraReads
        for i in 0..<extra {
            let again = try ctx.op(.read(fd: fd, count: 4096))
            guard case .bytes(let b) = again, b.isEmpty else {
                return .violated(
                    expected: "0 bytes on every read after the end",
                    actual: "\(describe(again)) on read \(i + 1) after the end",
                    message: "the end of the \(save) stream is not permanent")
            }
        }
        let now = try ctx.readState()
        if now != (try ctx.value(of: save)) {
            return .violated(
                expected: "the device stays in \(save) after its stream ended",
                actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "the device left \(save) on its own once its stream was read")
        }
        return .pass("\(sink.count) bytes, then end of stream \(extra + 1) times; still in \(save)")
    }

    static func sessionKept(_ ctx: CaseContext, _ p: SessionKeptCheck) throws -> CheckOutcome {
        guard let from = ctx.testCase.from, let to = ctx.testCase.to else { return .blocked("case has no arc") }
        guard let fd = try ctx.enter(from, fresh: true), fd >= 0 else {
            throw Blocked(reason: "no data fd was open in \(from)", cause: .check(.arc(.dataFD), to: from))
        }
        let answer = try ctx.request(to)
        guard answer.succeeded else {
            throw Blocked(
                reason: "arc \(from)->\(to) failed with \(answer.errno!)", cause: .arcState(from: from, to: to))
        }
        if answer.fd >= 0 {
            return .violated(
                expected: "no new data_fd; the session continues on fd \(fd)", actual: "new data_fd \(answer.fd)",
                message: "arc \(from)->\(to) started a new session instead of keeping the open one")
        }
        let outcome = try ctx.op(.read(fd: fd, count: 64))
        switch outcome {
        case .bytes(let b) where !b.isEmpty:
            return .pass("fd \(fd) kept streaming after \(from)->\(to)")
        case .failed(.ENOMSG) where to != (try ctx.role("save")):
            return .pass("fd \(fd) is still a live pre-copy session after \(from)->\(to)")
        default:
            return .violated(
                expected: "the same fd goes on streaming", actual: describe(outcome),
                message: "after \(from)->\(to) the session's fd no longer streams")
        }
    }

    static func sessionEnded(_ ctx: CaseContext, _ p: SessionEndedCheck) throws -> CheckOutcome {
        guard let from = ctx.testCase.from, let to = ctx.testCase.to else { return .blocked("case has no arc") }
        let fd = try ctx.enter(from, fresh: true)
        let answer = try ctx.request(to)
        guard answer.succeeded else {
            throw Blocked(
                reason: "arc \(from)->\(to) failed with \(answer.errno!)", cause: .arcState(from: from, to: to))
        }
        return try sessionIsOver(ctx, fd: fd, state: from, after: "\(from)->\(to)")
    }

    /// The largest read of the cases that ask PRECOPY_INFO between reads. Each such read is an entry of its own in
    /// the transcript, so a large state costs the report their number: this keeps it the same from 1 GiB to
    /// 4 GiB states, the run folder under 5 MB (bulk transfers move ``SavedStream/chunkSize`` pieces, recorded as
    /// one entry).
    static let stepLimit = 32 << 20

    static func precopyInfo(_ ctx: CaseContext, _ p: PrecopyInfoCheck) throws -> CheckOutcome {
        var pre = try ctx.role("pre-copy")
        if p.expect == .supportedInP2P {
            // The other running state of the saving group: PRE_COPY_P2P in v2.
            let save = try ctx.role("save")
            let group = ctx.machine.state(named: pre)?.group
            guard
                let p2p = ctx.machine.settableStates.first(where: {
                    $0.group != nil && $0.group == group && $0.name != pre && $0.name != save
                })
            else { throw Blocked(reason: "the device has no second pre-copy state") }
            pre = p2p.name
        }
        let fd = try ctx.enterForDataFD(pre)
        let first = try ctx.op(.precopyInfo(fd: fd))
        /// The two counts of the first answer; a failure blocks the case under the `supported` rule.
        func counts() throws -> (initial: UInt64, dirty: UInt64) {
            guard case .precopy(let initial, let dirty) = first else {
                throw Blocked(
                    reason: "PRECOPY_INFO failed with \(describe(first))",
                    cause: .check(.precopyInfo(.supported)))
            }
            return (initial, dirty)
        }
        switch p.expect {
        case .supported, .supportedInP2P:
            if first.succeeded { return .pass("PRECOPY_INFO in \(pre): \(describe(first))") }
            return .violated(
                expected: "VFIO_MIG_GET_PRECOPY_INFO succeeds", actual: describe(first),
                message: "PRECOPY_INFO failed in \(pre)")
        case .refusedOutsidePrecopy:
            let save = try ctx.role("save")
            try ctx.requestReaching(save, from: pre)
            return ctx.refusal(
                try ctx.op(.precopyInfo(fd: fd)), "PRECOPY_INFO in \(save)",
                ifAccepted: "PRECOPY_INFO answered in \(save)")
        case .dirtyZeroAtStart:
            let (initial, dirty) = try counts()
            if dirty == 0 { return .pass("dirty_bytes 0 on entering \(pre) (initial_bytes \(initial))") }
            return .violated(
                expected: "dirty_bytes 0 on entering \(pre)", actual: "dirty_bytes \(dirty)",
                message: "dirty_bytes did not start at zero")
        case .zeroAtTemporaryEnd:
            let (initial, dirty) = try counts()
            // Read in small steps, asking before each read; the stream's temporary end (ENOMSG, or 0 bytes) must come
            // exactly when both counts are zero.
            var info = (initial: initial, dirty: dirty)
            var total = 0
            let step = Int(min(max((initial + dirty) / 64, 4096), UInt64(Self.stepLimit)))
            for _ in 0..<10_000 {
                let read = try ctx.op(.read(fd: fd, count: step))
                let atEnd: Bool
                switch read {
                case .bytes(let b):
                    atEnd = b.isEmpty
                    total += b.count
                case .failed(.ENOMSG): atEnd = true
                default: throw Blocked(reason: "read in \(pre) failed with \(describe(read))")
                }
                if atEnd {
                    guard case .precopy(let i, let d) = try ctx.op(.precopyInfo(fd: fd)) else {
                        throw Blocked(reason: "PRECOPY_INFO failed at the end of the pre-copy stream")
                    }
                    if i == 0 && d == 0 && info.initial == 0 && info.dirty == 0 {
                        return .pass("the stream ended after \(total) bytes with initial_bytes and dirty_bytes both 0")
                    }
                    return .violated(
                        expected: "initial_bytes 0 and dirty_bytes 0 where the stream has no more data",
                        actual: "\(describe(read)) after \(total) bytes; before it initial_bytes \(info.initial) "
                            + "dirty_bytes \(info.dirty), after it initial_bytes \(i) dirty_bytes \(d)",
                        message: "the temporary end of the pre-copy stream came while PRECOPY_INFO reported data")
                }
                if info.initial == 0 && info.dirty == 0 {
                    return .violated(
                        expected: "no data once initial_bytes and dirty_bytes are both 0",
                        actual: "\(describe(read)) after \(total) bytes",
                        message: "read gave data although PRECOPY_INFO reported none")
                }
                guard case .precopy(let i, let d) = try ctx.op(.precopyInfo(fd: fd)) else {
                    throw Blocked(reason: "PRECOPY_INFO failed mid-stream")
                }
                info = (i, d)
            }
            throw Blocked(reason: "the pre-copy stream did not reach its temporary end within 10000 reads")
        case .initialNonzero:
            let initial = try counts().initial
            if initial > 0 { return .pass("initial_bytes \(initial) on entering \(pre)") }
            return .violated(
                expected: "initial_bytes > 0", actual: "initial_bytes 0", message: "no initial pre-copy data offered")
        case .initialDecreases:
            let initial = try counts().initial
            guard initial > 0 else {
                throw Blocked(reason: "initial_bytes is 0 from the start", cause: .check(.precopyInfo(.initialNonzero)))
            }
            var last = initial
            var steps = 0
            // Small reads, but no more than about a thousand of them however large the initial data is.
            let step = Int(min(max(initial / 1000, 4096), UInt64(Self.stepLimit)))
            while last > 0 && steps < 10_000 {
                let chunk = Int(min(last, UInt64(step)))
                let read = try ctx.op(.read(fd: fd, count: chunk))
                guard case .bytes(let b) = read, !b.isEmpty else {
                    return .violated(
                        expected: "data while initial_bytes is \(last)", actual: describe(read),
                        message: "read gave no data although initial_bytes was not zero")
                }
                guard case .precopy(let now, _) = try ctx.op(.precopyInfo(fd: fd)) else {
                    throw Blocked(reason: "PRECOPY_INFO failed mid-stream")
                }
                if now >= last {
                    return .violated(
                        expected: "initial_bytes below \(last) after reading \(b.count) bytes",
                        actual: "initial_bytes \(now)",
                        message: "initial_bytes did not decrease as data was read")
                }
                last = now
                steps += 1
            }
            if last == 0 { return .pass("initial_bytes went from \(initial) to 0 in \(steps) reads") }
            throw Blocked(reason: "initial_bytes did not reach 0 within \(steps) reads")
        case .enomsgAtEnd:
            let (initial, dirty) = try counts()
            let sink = SavedStream.counting()
            let budget = initial + dirty
            let end = try ctx.drain(fd: fd, stopAtENOMSG: true, chunk: CaseContext.readSize(budget), into: sink)
            if end.errno == .ENOMSG { return .pass("ENOMSG after \(sink.count) bytes (initial+dirty was \(budget))") }
            return .violated(
                expected: "ENOMSG at the temporary end of the pre-copy stream",
                actual: "\(describe(end)) after \(sink.count) bytes",
                message: "the pre-copy stream did not signal its temporary end with ENOMSG")
        }
    }

    static func roundTrip(_ ctx: CaseContext, _ p: RoundTripCheck) throws -> CheckOutcome {
        // The STOP_COPY stream is the run's shared one; a stream read partly in pre-copy is saved for the case.
        // The first round trip of a run saves the shared stream itself, and its success is the proof that the
        // device loads it (``CaseContext/validStream()`` would write it once more).
        let first = p.via == .stopCopy && ctx.cache.stream == nil && ctx.cache.unloadable == nil
        let stream =
            p.via == .preCopy || first ? try ctx.captureStream(viaPreCopy: p.via == .preCopy) : try ctx.sharedStream()
        // Without "segments", the stream goes back in the transactions the device produced.
        let segments = p.segments ?? ctx.cache.transactions
        guard stream.count > 0 else { throw Blocked(reason: "the saved stream is empty") }
        let how = CaseContext.segmentation(segments, count: stream.count)
        // Where the bytes came from, for a reader of the case, whose transcript shows no save when it reused one.
        let what =
            p.via == .preCopy || first
            ? "\(stream.count) bytes saved"
            : "the run's shared STOP_COPY stream (\(stream.count) bytes, saved in "
                + "\(ctx.cache.streamSavedIn ?? "an earlier case"))"
        if let e = try ctx.feedStream(stream, segments: segments) {
            return .violated(
                expected: "every write accepted", actual: "a write failed with \(e)",
                message: "resuming \(what) in \(how) failed")
        }
        let exit = try ctx.role("resume-exit")
        let answer = try ctx.request(exit)
        guard answer.succeeded else {
            return .violated(
                expected: "\(try ctx.role("resume"))->\(exit) succeeds", actual: "failed with \(answer.errno!)",
                message: "the device refused its own stream: \(what), written in \(how)")
        }
        let now = try ctx.readState()
        if now != (try ctx.value(of: exit)) {
            return .violated(
                expected: "state \(exit)", actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "the resume completed in the wrong state")
        }
        if first {
            ctx.cache.stream = stream
            ctx.cache.streamSavedIn = ctx.testCase.id
        }
        return .pass(p.via == .preCopy || first ? "\(what) and resumed in \(how)" : "\(what) resumed in \(how)")
    }

    /// The damaged stream to resume (`damage` of the `resume-damaged` check kind), as a view of `stream`: the
    /// run's shared saved stream is never changed, and no damage needs a save of its own. Each kind moves what its
    /// point needs and no more:
    /// - `truncate` (half the stream), `truncate-one` (all but the last byte) and `truncate-header` (4 bytes): a
    ///   stream that ends early is what they test, so its length is the point; nothing is written past the cut.
    /// - `corrupt` (4 bytes inverted mid-stream) and `header` (the first 16 inverted): the rest must arrive
    ///   intact and complete, or the device could refuse the stream for being short instead, so the whole length
    ///   is written.
    /// - `garbage`: bytes of no stream at all. A driver refuses them at its header or first record, or at the
    ///   exit for an incomplete stream; beyond that more garbage proves nothing, so it is at most 1 MiB
    ///   (the stream's length when that is shorter), whatever the state size.
    /// - `overlong` and `refused-write` write the complete stream, then 4096 bytes more (`resumeDamaged`).
    static func damage(_ stream: SavedStream, _ kind: ResumeDamagedCheck.Damage) throws -> (SavedStream, String) {
        let view = stream.view()
        let what = try damaged(view, kind)
        if let garbage = what.garbage {
            garbage.label = "\(stream.label ?? "the saved stream"): \(what.text)"
            return (garbage, what.text)
        }
        view.label = "\(stream.label ?? "the saved stream"): \(what.text)"
        return (view, what.text)
    }

    private static func damaged(
        _ stream: SavedStream, _ kind: ResumeDamagedCheck.Damage
    ) throws -> (
        text: String, garbage: SavedStream?
    ) {
        switch kind {
        case .truncate:
            try stream.truncate(to: stream.count - max(1, stream.count / 2))
            return ("a stream cut to \(stream.count) bytes", nil)
        case .truncateOne:
            try stream.truncate(to: stream.count - 1)
            return ("a stream one byte short (\(stream.count) bytes)", nil)
        case .truncateHeader:
            try stream.truncate(to: min(4, stream.count - 1))
            return ("a stream cut to its first \(stream.count) bytes", nil)
        case .corrupt:
            // Flip bytes in the middle of the stream: past any header a driver checks, before any trailer.
            try stream.invert(at: stream.count / 2, length: 4)
            return ("a stream with bytes \(stream.count / 2)..\(stream.count / 2 + 3) inverted", nil)
        case .header:
            let n = Int(min(16, stream.count))
            try stream.invert(at: 0, length: n)
            return ("a stream with its first \(n) bytes inverted", nil)
        case .garbage, .overlong, .refusedWrite:
            // The stream's length, none of its bytes. (`resumeDamaged` writes past the end for the last two.)
            let garbage = SavedStream([UInt8](repeating: 0xa5, count: Int(min(stream.count, 1 << 20))))
            return ("\(garbage.count) bytes of garbage (0xa5) from byte 0", garbage)
        }
    }

    static func resumeDamaged(_ ctx: CaseContext, _ p: ResumeDamagedCheck) throws -> CheckOutcome {
        let stream = try ctx.sharedStream()
        guard stream.count >= 2 else { throw Blocked(reason: "the saved stream is too short to damage") }
        let damage = p.damage
        let resume = try ctx.role("resume")
        let exit = p.exit == .initial ? ctx.machine.initial.name : try ctx.role("resume-exit")
        var refused: WriteRefusal?
        let what: String
        if damage == .overlong || damage == .refusedWrite {
            // The complete stream in the pieces it was saved in, then extra bytes in a write of their own.
            let fd = try ctx.enter(resume, loadResume: .nothing)
            if let e = try ctx.write(stream, to: fd, segments: ctx.cache.transactions) {
                throw Blocked(reason: "a write of the device's own stream failed with \(e)", cause: .roundTrip)
            }
            let extra = SavedStream([UInt8](repeating: 0x5a, count: 4096))
            extra.label = "4096 bytes of 0x5a past the end"
            refused = try ctx.write(extra, to: fd, segments: [4096])
            what = "its complete stream followed by 4096 more bytes"
            if damage == .refusedWrite, refused == nil {
                return .pass(
                    "no write was refused (the 4096 bytes past the end were accepted: see the trailing-bytes rule), "
                        + "so no exit had to fail")
            }
        } else {
            let (damaged, text) = try Self.damage(stream, damage)
            what = text
            refused = try ctx.feedStream(damaged, segments: [4096])
        }
        let answer = try ctx.request(exit)
        let label = "\(resume)->\(exit)"
        let refusal = refused.map { " (a write was refused with \($0))" } ?? ""
        switch p.expect {
        case .stopFails:
            if !answer.succeeded { return .pass("\(label) failed with \(answer.errno!) after \(what)\(refusal)") }
            if damage == .overlong, let e = refused {
                return .pass(
                    "the bytes past the end were refused with \(e) (what follows a refused write is the "
                        + "refused-write rule's to judge)")
            }
            return .violated(
                expected: "\(label) fails", actual: "success\(refusal)",
                message: "the device accepted \(what)")
        case .stateAfterFailure:
            guard !answer.succeeded else {
                throw Blocked(reason: "the device accepted \(what)", cause: .resumeAccepted(damage: damage))
            }
            let now = try ctx.readState()
            var allowed = [try ctx.value(of: resume), try ctx.value(of: try ctx.role("error"))]
            for extra in p.alsoError {
                switch extra {
                case .state(let name): allowed.append(try ctx.value(of: name))
                case .value(let n): allowed.append(n)
                }
            }
            if let now, allowed.contains(now) {
                return .pass("after the failed resume the device is in \(ctx.name(of: now))")
            }
            return .violated(
                expected: "\(resume) or \(try ctx.role("error"))",
                actual: "state \(now.map(ctx.name(of:)) ?? "unreadable")",
                message: "after a failed resume the device reports an unexpected state")
        case .resetRecovers:
            guard !answer.succeeded else {
                throw Blocked(reason: "the device accepted \(what)", cause: .resumeAccepted(damage: damage))
            }
            return try ErrorChecks.resetReachesInitial(
                ctx, passed: { "reset after the failed resume reached \($0)" },
                failure: "reset did not recover the device after a failed resume")
        }
    }
}
