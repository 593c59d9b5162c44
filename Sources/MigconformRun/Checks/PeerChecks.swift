import MigconformDevice
import MigconformSpec

/// Two devices: what a migration does that one device talking to itself cannot show. The peer (`--peer`) is a
/// second device of the same kind, the foreign device (`--foreign-peer`) one of another type or configuration. Their
/// operations go through the case's transcript like the device's own (``DeviceOperation/onPeer(_:)``); the oracle
/// judges the device under test only. Every case leaves the peers reset.
enum PeerChecks {
    static func run(_ ctx: CaseContext, _ p: PeerCheck) throws -> CheckOutcome {
        switch p.expect {
        case .resumeOnPeer: return try resumeOnPeer(ctx)
        case .twoDeviceOrder: return try twoDeviceOrder(ctx)
        case .foreignRefused: return try foreignRefused(ctx)
        }
    }

    /// One of the other devices, by the wrapping of its operations.
    struct Other: Sendable {
        let name: String
        let wrap: @Sendable (DeviceOperation) -> DeviceOperation
        static let peer = Other(name: "peer", wrap: { .onPeer($0) })
        static let foreign = Other(name: "foreign device", wrap: { .onForeign($0) })

        func op(_ ctx: CaseContext, _ operation: DeviceOperation) throws -> DeviceOutcome {
            try ctx.op(wrap(operation))
        }

        /// A SET of `device_state`; the fd it handed out, or how it was refused.
        func set(_ ctx: CaseContext, _ state: String) throws -> Result<Int32, SetRefusal> {
            let request = DeviceOperation.setState(try ctx.value(of: state))
            let outcome = try op(ctx, request)
            switch outcome {
            case .state(_, let fd): return .success(fd)
            case .failed(let e): return .failure(.errno(e))
            default: return .failure(.notAState(OperationText.outcome(outcome, of: request)))
            }
        }

        /// A refused SET, in words that name only what the other device answered. Reads after "failed with".
        enum SetRefusal: Error, CustomStringConvertible {
            case errno(Errno)
            /// An answer that is no state at all (the channel's, or a broken driver's).
            case notAState(String)
            var description: String {
                switch self {
                case .errno(let e): return e.description
                case .notAState(let answer): return "an answer that is not a state (\(answer))"
                }
            }
        }

        /// Resets the device; throws ``Blocked`` when it fails (nothing can be said about the rule then).
        func reset(_ ctx: CaseContext) throws {
            let outcome = try op(ctx, .reset)
            guard outcome.succeeded else {
                throw Blocked(reason: "reset of the \(name) failed with \(describe(outcome))")
            }
        }

        /// Its STOP_COPY stream, read from a fresh session entered from reset; the session is closed after it.
        func save(_ ctx: CaseContext) throws -> SavedStream {
            try reset(ctx)
            let save = try ctx.role("save")
            guard case .success(let fd) = try set(ctx, save), fd >= 0 else {
                throw Blocked(reason: "the \(name) did not enter \(save) with a data fd")
            }
            defer { _ = try? op(ctx, .close(fd: fd)) }
            return try read(ctx, fd: fd)
        }

        /// Reads a saving fd of the device to its end, as the device under test's streams are read: sized from
        /// what it says it holds, spooled when large, one summary entry in the transcript.
        func read(_ ctx: CaseContext, fd: Int32) throws -> SavedStream {
            let stream = ctx.newStream()
            let end = try ctx.via(wrap) { try ctx.drain(fd: fd, stopAtENOMSG: false, into: stream) }
            guard case .bytes = end else {
                throw Blocked(reason: "reading the \(name)'s stream failed with \(describe(end))")
            }
            stream.label = "the \(name)'s stream (\(stream.count) bytes)"
            return stream
        }

        /// Writes `stream` into a resume session of the device (entered from where it is); answers the errno of
        /// the first refused write, or nil. The fd is closed after the exit from the resume state.
        func load(_ ctx: CaseContext, _ stream: SavedStream, fd: Int32) throws -> WriteRefusal? {
            try ctx.via(wrap) { try ctx.write(stream, to: fd, segments: [SavedStream.chunkSize]) }
        }
    }

    /// The stream the device under test saves, resumed on the peer: RESUMING -> STOP succeeds there.
    static func resumeOnPeer(_ ctx: CaseContext) throws -> CheckOutcome {
        let peer = Other.peer
        let resume = try ctx.role("resume")
        let exit = try ctx.role("resume-exit")
        let stream = try ctx.validStream()
        try peer.reset(ctx)
        defer { _ = try? peer.op(ctx, .reset) }
        guard case .success(let fd) = try peer.set(ctx, resume), fd >= 0 else {
            throw Blocked(reason: "the peer did not enter \(resume) with a data fd")
        }
        defer { _ = try? peer.op(ctx, .close(fd: fd)) }
        if let e = try peer.load(ctx, stream, fd: fd) {
            return .violated(
                expected: "the peer takes the \(stream.count)-byte stream", actual: "a write failed with \(e)",
                message: "the peer refused the stream the device under test saved")
        }
        switch try peer.set(ctx, exit) {
        case .success: return .pass("the peer loaded the \(stream.count)-byte stream and reached \(exit)")
        case .failure(let e):
            return .violated(
                expected: "\(resume)->\(exit) succeeds on the peer", actual: "failed with \(e)",
                message: "the peer did not load the stream of a device of its own kind")
        }
    }

    /// The order user space follows with several devices, interleaved on the two: each to RUNNING_P2P, each to
    /// STOP, each saves; then each resumes the other's stream, each RESUMING -> STOP, each to RUNNING_P2P, each to
    /// RUNNING.
    static func twoDeviceOrder(_ ctx: CaseContext) throws -> CheckOutcome {
        let peer = Other.peer
        let initial = ctx.machine.initial.name
        let p2p = "RUNNING_P2P"
        let stop = try ctx.role("resume-exit")
        let save = try ctx.role("save")
        let resume = try ctx.role("resume")
        // A device that cannot load its own stream, or refuses an arc, is judged by the rules about those; here
        // only what two devices add can break.
        _ = try ctx.validStream()
        try ctx.enter(initial)
        try peer.reset(ctx)
        defer { _ = try? peer.op(ctx, .reset) }
        var steps: [String] = []
        var failure: String?
        func both(_ state: String) throws -> (Int32, Int32)? {
            let from = ctx.position.known
            let a = try ctx.request(state)
            guard a.succeeded else {
                // Leaving the resume state with the peer's stream loaded: a refusal there is the device refusing
                // a stream of its own kind, which is what this order checks.
                if from == resume {
                    failure = "device under test: \(resume)->\(state) failed with \(a.errno!) after the peer's stream"
                    return nil
                }
                // Does the request work alone, from where it was made, with the peer reset? If not, it is the arc
                // (or combination) rules' business. The failed request may have left the device elsewhere.
                guard let from else {
                    throw Blocked(reason: "the device under test: ->\(state) failed with \(a.errno!)")
                }
                try peer.reset(ctx)
                try ctx.enter(from)
                let alone = try ctx.request(state)
                guard alone.succeeded else {
                    throw Blocked(
                        reason: "the device under test: \(from)->\(state) failed with \(a.errno!) beside the peer, "
                            + "and with \(alone.errno!) from \(from) with the peer reset",
                        cause: ctx.requestSubject(from: from, to: state))
                }
                failure =
                    "device under test: \(from)->\(state) failed with \(a.errno!) beside the peer; with the peer reset "
                    + "it succeeds"
                return nil
            }
            switch try peer.set(ctx, state) {
            case .failure(let e):
                failure = "peer: ->\(state) failed with \(e)"
                return nil
            case .success(let fd):
                steps.append(state)
                return (a.fd, fd)
            }
        }
        func violated() -> CheckOutcome {
            .violated(
                expected: "every step of the two-device order succeeds", actual: failure ?? "",
                message: "the two-device order broke after "
                    + (steps.isEmpty ? "no step" : steps.joined(separator: ", ")))
        }
        guard try both(p2p) != nil, try both(stop) != nil, let saving = try both(save) else { return violated() }
        guard saving.0 >= 0, saving.1 >= 0 else { throw Blocked(reason: "entering \(save) gave no data fd") }
        let mine = ctx.newStream()
        let end = try ctx.drain(fd: saving.0, stopAtENOMSG: false, into: mine)
        guard case .bytes = end else {
            throw Blocked(reason: "reading the device's stream failed with \(describe(end))")
        }
        let theirs = try peer.read(ctx, fd: saving.1)
        _ = try? peer.op(ctx, .close(fd: saving.1))
        guard try both(stop) != nil, let resuming = try both(resume) else { return violated() }
        guard resuming.0 >= 0, resuming.1 >= 0 else { throw Blocked(reason: "entering \(resume) gave no data fd") }
        // Each resumes the other's stream.
        if let e = try ctx.write(theirs, to: resuming.0, segments: [SavedStream.chunkSize]) {
            failure = "device under test: a write of the peer's stream failed with \(e)"
            return violated()
        }
        if let e = try peer.load(ctx, mine, fd: resuming.1) {
            failure = "peer: a write of the device's stream failed with \(e)"
            return violated()
        }
        for state in [stop, p2p, initial] where try both(state) == nil { return violated() }
        _ = try? peer.op(ctx, .close(fd: resuming.1))
        return .pass(
            "both devices went through " + steps.joined(separator: ", ") + ", each resuming the other's stream")
    }

    /// A stream saved by the foreign device, offered to the device under test: a write is refused or the exit
    /// from the resume state fails. (Once a write was refused, the exit must fail: the oracle judges that under
    /// the rule for refused writes.)
    static func foreignRefused(_ ctx: CaseContext) throws -> CheckOutcome {
        let foreign = Other.foreign
        let resume = try ctx.role("resume")
        let exit = try ctx.role("resume-exit")
        let stream = try foreign.save(ctx)
        _ = try? foreign.op(ctx, .reset)
        guard let fd = try ctx.enter(resume, fresh: true, loadResume: .nothing), fd >= 0 else {
            throw Blocked(reason: "entering \(resume) gave no data fd")
        }
        let refused = try ctx.write(stream, to: fd, segments: [SavedStream.chunkSize])
        let answer = try ctx.request(exit)
        _ = try ctx.reset()
        if let e = refused {
            return .pass(
                "a write of the foreign device's \(stream.count)-byte stream failed with \(e)"
                    + (answer.succeeded ? "" : "; \(resume)->\(exit) failed with \(answer.errno!)"))
        }
        if let e = answer.errno {
            return .pass("\(resume)->\(exit) failed with \(e) after the foreign device's stream")
        }
        return .violated(
            expected: "a write refused or \(resume)->\(exit) failing", actual: "\(resume)->\(exit) succeeded",
            message:
                "the device loaded a \(stream.count)-byte stream saved by a device of another type or configuration")
    }
}
