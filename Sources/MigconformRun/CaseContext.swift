import Foundation
import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformSpec

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a state request answered.
struct SetAnswer {
    var errno: Errno?
    /// The data fd the request returned (v2), -1 when none.
    var fd: Int32
    var succeeded: Bool { errno == nil }
}

/// Everything a check needs to talk to the device in terms of the spec: requests by state name, positioning,
/// and the data streams of either protocol generation. Every operation goes through the recorder.
final class CaseContext {
    let device: RecordingDevice
    let machine: Machine
    let testCase: TestCase
    /// What differs between the protocol generations.
    let dialect: any Dialect
    /// fds this case received; closed when the case ends.
    var openedFDs: [Int32] = []
    /// The resume session this case opened, and whether a complete valid stream was written into it.
    var resumeFD: Int32?
    var resumeLoaded = false
    /// The resume session was entered for the case to leave normally, and the device's own stream is still to be
    /// written into it: that happens before a request to leave the resume state (``loadOwedResume()``), so a case
    /// that stays there, or ends there and is reset, moves no stream (``ResumeLoad/whenLeaving``).
    var resumeOwed = false
    let cache: StreamCache

    /// Where the device is, as far as the run knows, shared from case to case.
    let position: DevicePosition
    /// Rule violations the oracle saw during this case (any phase), in order.
    var findings: [Finding] = []
    /// The recorder's count of transport failures when the case began: after one, answers may come from a device
    /// opened afresh, and the oracle judges nothing more.
    let transportFailuresAtStart: Int

    init(
        device: RecordingDevice, machine: Machine, testCase: TestCase, cache: StreamCache = StreamCache(),
        position: DevicePosition = DevicePosition()
    ) {
        self.cache = cache
        self.position = position
        self.device = device
        self.machine = machine
        self.testCase = testCase
        self.dialect = device.device.generation.dialect
        self.transportFailuresAtStart = device.transportFailures
    }

    var spec: Spec { machine.spec }
    /// The device under test runs only when called (an in-process simulator): nothing changes between calls.
    var answersPromptly: Bool { device.device.underlying.answersPromptly }
    var rule: Rule { testCase.rule }
    var check: Check { rule.check }

    // MARK: - Names

    func value(of name: String) throws -> UInt32 {
        guard let s = machine.state(named: name) else { throw Blocked(reason: "spec has no state \(name)") }
        return s.value
    }

    func name(of value: UInt32) -> String { machine.state(value: value)?.name ?? String(value) }

    func role(_ role: String) throws -> String {
        guard let name = machine.stateName(forRole: role) else { throw Blocked(reason: "spec names no \(role) state") }
        return name
    }

    /// Whether an errno is one the rule accepts (any errno when the rule lists none).
    func acceptable(_ e: Errno) -> Bool {
        rule.accept.isEmpty || rule.accept.contains(e.name)
    }
    var acceptText: String { rule.accept.isEmpty ? "an error" : rule.accept.joined(separator: " or ") }

    /// The verdict on an operation the rule says must fail: a pass on an errno it accepts. `what` names the
    /// operation (`the second START`), `ifAccepted` is the message when it succeeded, `expected` what was expected
    /// then (default: a failure with an accepted errno).
    func refusal(_ outcome: DeviceOutcome, _ what: String, ifAccepted: String, expected: String? = nil) -> CheckOutcome
    {
        guard let e = outcome.errno else {
            return .violated(
                expected: expected ?? "failure with \(acceptText)", actual: describe(outcome), message: ifAccepted)
        }
        if acceptable(e) { return .pass("\(what) failed with \(e)") }
        return .violated(
            expected: "failure with \(acceptText)", actual: e.name, message: "\(what) failed with an unexpected errno")
    }

    // MARK: - Operations

    /// Issues one operation and lets the oracle judge the answer (see ``judge(_:_:)``).
    @discardableResult
    func op(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if let route { return try device.perform(route(operation)) }
        let outcome = try device.perform(operation)
        judge(operation, outcome)
        return outcome
    }

    /// Where operations go instead of the device under test while ``via(_:_:)`` runs: the peer or the foreign
    /// device, by the wrapping of their operations. The oracle judges the device under test only, and looks away.
    private(set) var route: ((DeviceOperation) -> DeviceOperation)?

    /// Runs `body` with every operation of this context sent to another device through `wrap`: the same stream
    /// reads and writes (sized, spooled, summarised in the transcript) serve the peers as the device under test.
    func via<T>(_ wrap: @escaping (DeviceOperation) -> DeviceOperation, _ body: () throws -> T) rethrows -> T {
        let saved = route
        route = wrap
        defer { route = saved }
        return try body()
    }

    func found(_ subject: Finding.Subject, expected: String, actual: String, _ message: String) {
        guard route == nil, device.transportFailures == transportFailuresAtStart else { return }
        findings.append(Finding(subject: subject, expected: expected, actual: actual, message: message))
    }

    /// The oracle: every answer, in every phase of every case, is held against what the spec's machine allows.
    /// Resets must reach the initial state; a state read while nothing asked the device to move must be the one
    /// it was in (v2); after a failed exit from the resume state only the resume or error state may be reported.
    func judge(_ operation: DeviceOperation, _ outcome: DeviceOutcome) {
        switch operation {
        case .reset:
            position.resetFrom = position.known ?? ""
            position.settled = nil
            position.failedResumeExit = nil
        case .reopen:
            // Opened afresh, as after a reset, the device is wherever it came back: the lifecycle rules judge that;
            // the next step reads it or resets it, and no session of before counts any more.
            position.forget()
            position.refusedResumeWrite = nil
        case .setState(let value):
            position.resetFrom = nil
            position.failedResumeExit = nil
            if outcome.succeeded {
                position.settled = value
                position.settledByRequest = true
            } else {
                position.settled = nil
            }
        case .regionWrite(let offset, _, _) where offset == RegionV1.deviceState:
            position.resetFrom = nil
            position.settled = nil
        case .getState:
            guard case .state(let value, _) = outcome else {
                position.settled = nil
                return
            }
            judgeState(value)
        case .regionRead(let offset, _) where offset == RegionV1.deviceState:
            guard case .value(let v) = outcome else { return }
            judgeState(UInt32(truncatingIfNeeded: v) & RegionV1.stateMask)
        default: break
        }
    }

    private func judgeState(_ value: UInt32) {
        let now = name(of: value)
        if let from = position.resetFrom {
            position.resetFrom = nil
            let initial = machine.initial
            if value != initial.value {
                // From a state the run did not know, the likeliest is the one the device still reports.
                let source = from.isEmpty ? now : from
                let subject: Finding.Subject =
                    source == machine.stateName(forRole: "error") ? .errorReset : .resetState(from: source)
                found(
                    subject, expected: "state \(initial.name) after the reset", actual: "state \(now)",
                    "a reset from \(from.isEmpty ? "a state the run had not read (\(now) after it)" : from) left the device "
                        + "in \(now), not \(initial.name)")
            }
        }
        if let allowed = position.failedResumeExit {
            position.failedResumeExit = nil
            if dialect.judgesSettledStates, !allowed.contains(now) {
                found(
                    .failedResumeState, expected: allowed.joined(separator: " or "), actual: "state \(now)",
                    "after a failed exit from the resume state the device reports \(now)")
            }
        }
        if dialect.judgesSettledStates, let settled = position.settled, settled != value, position.settledByRequest,
            let request = position.lastRequest, request.to == name(of: settled)
        {
            // A request that succeeded and left the device elsewhere: its arc, or its combination, is at fault.
            let subject = requestSubject(from: request.from, to: request.to)
            found(
                subject, expected: "state \(request.to)", actual: "state \(now)",
                "\(request.from)->\(request.to) succeeded but left the device in \(now)")
        }
        if dialect.judgesSettledStates, let settled = position.settled, settled != value, !position.settledByRequest {
            found(
                .spontaneousChange, expected: "state \(name(of: settled)) (nothing asked it to move)",
                actual: "state \(now)",
                "the device moved from \(name(of: settled)) to \(now) with no request")
        }
        position.settled = value
        position.settledByRequest = false
        position.lastRequest = nil
    }

    /// The rule a request from `from` to `to` answers to: its arc's when the machine has that arc, the combination
    /// rule's otherwise (the kernel walks a combination through states between).
    func requestSubject(from: String, to: String) -> Finding.Subject {
        machine.arcs.contains { $0.from == from && $0.to == to }
            ? .arcState(from: from, to: to) : .check(.combination(.state), from: from, to: to)
    }

    /// Requests `to` from `from`, where the device is, and reads the state back: throws ``Blocked`` naming the
    /// request's rule (``requestSubject(from:to:)``) when it fails or lands elsewhere. A state that does not read
    /// names none: it is no evidence against the request.
    @discardableResult
    func requestReaching(_ to: String, from: String) throws -> SetAnswer {
        let answer = try request(to)
        guard answer.succeeded else {
            throw Blocked(
                reason: "\(from)->\(to) failed with \(answer.errno!)", cause: requestSubject(from: from, to: to))
        }
        let now = try readState()
        guard now == (try value(of: to)) else {
            throw Blocked(
                reason: now == nil
                    ? "the state after \(from)->\(to) does not read" : "\(from)->\(to) did not reach \(to)",
                cause: now == nil ? nil : requestSubject(from: from, to: to))
        }
        return answer
    }

    /// Resets the device; true when the reset succeeded.
    @discardableResult
    func reset() throws -> Bool {
        let outcome = try op(.reset) // the oracle judges the reset from where the device was known to be
        position.known = nil
        resumeOwed = false
        return outcome.succeeded
    }

    /// Notes what the device reported, for positioning the next step from there.
    func observe(_ value: UInt32?) {
        let name = value.flatMap { machine.state(value: $0)?.name }
        position.known = name.flatMap { machine.isSettable($0) ? $0 : nil }
    }

    /// The device state as a GET (v2) or a read of `device_state` (v1, state bits only) reports it.
    func readState() throws -> UInt32? {
        let s = dialect.state(in: try op(dialect.readState))
        observe(s)
        return s
    }

    /// The raw 32-bit `device_state` register (v1).
    func readRawStateV1() throws -> UInt32? {
        if case .value(let v) = try op(.regionRead(offset: RegionV1.deviceState, width: 4)) {
            return UInt32(truncatingIfNeeded: v)
        }
        return nil
    }

    /// Requests a state value: a SET (v2), or a read-modify-write of the state bits of `device_state` (v1).
    func request(_ value: UInt32) throws -> SetAnswer {
        let resume = machine.stateName(forRole: "resume")
        let leavingResume =
            position.known != nil && position.known == resume && machine.state(value: value)?.name != resume
        // The owed stream goes in before any request to leave the resume state, refused ones too: what a driver
        // does with its loaded data when it refuses a request is part of what the request's rule checks.
        if leavingResume, resumeOwed { try loadOwedResume() }
        let from = position.known
        let answer = try dialect.send(value, self)
        if let from, answer.succeeded, let to = machine.state(value: value)?.name, to != from {
            position.lastRequest = (from, to)
        }
        if leavingResume {
            if answer.succeeded, let e = position.refusedResumeWrite {
                found(
                    .refusedWrite, expected: "leaving \(resume ?? "the resume state") fails after a refused write",
                    actual: "a write failed with \(e), then \(resume ?? "")->\(name(of: value)) succeeded",
                    "the device refused resume data, then accepted the end of the resume")
            }
            position.refusedResumeWrite = nil
            let steps = resume.flatMap { machine.path(from: $0, to: name(of: value)) }?.map(\.to) ?? []
            position.failedResumeExit =
                answer.succeeded
                ? nil
                : [resume, machine.stateName(forRole: "error")].compactMap { $0 } + steps.dropLast()
        }
        // After a success the device is where it was asked to be; after a refusal only a read can tell.
        if answer.succeeded { observe(value) } else { position.known = nil }
        if answer.succeeded, machine.state(value: value)?.name == resume {
            resumeFD = answer.fd >= 0 ? answer.fd : nil // v1 has no fd: the region is the session
            resumeLoaded = false
            resumeOwed = false
            position.refusedResumeWrite = nil
        }
        return answer
    }

    func request(_ name: String) throws -> SetAnswer { try request(try value(of: name)) }

    /// Enters `state` afresh and returns the data fd its session gives; throws ``Blocked`` (on the arc's data fd
    /// check) when it gives none.
    func enterForDataFD(_ state: String, loadResume: ResumeLoad = .now) throws -> Int32 {
        guard let fd = try enter(state, fresh: true, loadResume: loadResume), fd >= 0 else {
            throw Blocked(reason: "entering \(state) gave no data fd", cause: .check(.arc(.dataFD), to: state))
        }
        return fd
    }

    /// What entering the resume state writes into the fresh session it opens.
    enum ResumeLoad {
        /// Nothing: the case writes its own stream, or probes the session empty.
        case nothing
        /// The device's own valid stream, at once: the case meets a resume with its stream loaded, as a
        /// migration's destination is (a driver may behave differently once data is in).
        case now
        /// The device's own valid stream, before a request to leave the resume state (``resumeOwed``): only for
        /// checks of what cannot depend on the session's data (the fd's own flags), so that a large state moves
        /// no stream for them.
        case whenLeaving
    }

    /// Brings the device to `state`, from where it is: by single-step arcs from the state the run last saw it in,
    /// or after a reset when that is unknown. With `fresh`, the last arc opens a new session there, whose fd is
    /// returned. Entering the resume state always opens a fresh session, and gives it a complete, valid stream as
    /// `loadResume` says, so that the case can leave it normally. Throws ``Blocked`` when a step fails: the case
    /// then says nothing about its own rule.
    @discardableResult
    func enter(_ state: String, fresh: Bool = false, loadResume: ResumeLoad = .now) throws -> Int32? {
        let resume = machine.stateName(forRole: "resume")
        let load = state == resume ? loadResume : .nothing
        // The stream is at hand before the walk: capturing it the first time moves the device.
        let stream = load == .nothing ? nil : try validStream()
        let needsFresh = fresh || state == resume
        let distances = cache.distances(machine)
        func route(from start: String) -> [Arc]? {
            needsFresh && distances.sessionStates.contains(state)
                ? distances.freshPath(start, state) : machine.walk(from: start, to: state)
        }
        var start = position.known
        var path = start.flatMap(route(from:))
        if path == nil {
            let before = position.known
            guard try reset() else { throw Blocked(reason: "reset failed") }
            let initial = machine.initial.name
            let afterReset = try readState()
            guard afterReset == machine.initial.value else {
                let source = before ?? afterReset.map(name(of:))
                let cause: Finding.Subject? = source.map {
                    $0 == machine.stateName(forRole: "error") ? .errorReset : .resetState(from: $0)
                }
                throw Blocked(
                    reason:
                        "reset left the device in \(afterReset.map(name(of:)) ?? "an unreadable state"), not \(initial)",
                    cause: cause)
            }
            start = initial
            path = route(from: initial)
        }
        // A state the profile cannot reach: the device's flags lack a mandatory one, they could not be read, or the
        // spec's machine has no way there. The flags rules judge the flags from what the device answers; this is
        // no evidence of its own, so it blocks with no cause.
        guard let path, let start else {
            throw Blocked(
                reason: "no way to \(state) on this profile"
                    + (cache.migrationFlagsRead ? "" : " (the device's migration flags could not be read)"))
        }
        let fd = try walk(path, from: start)
        switch load {
        case .nothing: break
        case .whenLeaving: resumeOwed = true
        case .now:
            if let stream, let e = try write(stream, to: fd, segments: cache.transactions) {
                throw Blocked(reason: "writing a valid stream in \(state) failed with \(e)")
            }
            resumeLoaded = true
        }
        return fd
    }

    /// Writes the stream the resume session is owed (``resumeOwed``); throws ``Blocked`` when the device refuses it.
    func loadOwedResume() throws {
        guard resumeOwed else { return }
        resumeOwed = false
        let resume = machine.stateName(forRole: "resume") ?? "the resume state"
        if let e = try write(try validStream(), to: resumeFD, segments: cache.transactions) {
            throw Blocked(reason: "writing a valid stream in \(resume) failed with \(e)")
        }
        resumeLoaded = true
    }

    /// The device's own save stream, from the run's cache or captured now. The first capture is proved by a
    /// round trip: a device that cannot load its own stream blocks every case that must leave the resume state
    /// (the round-trip rules report the fault itself).
    func validStream() throws -> SavedStream {
        if let problem = cache.unloadable { throw Blocked(reason: problem, cause: .roundTrip) }
        if let s = cache.stream { return s }
        let s: SavedStream
        do { s = try captureStream(readOften: true) } catch let b as Blocked {
            throw Blocked(reason: "no valid save stream to resume with: \(b.reason)", cause: b.cause)
        }
        let resume = try role("resume")
        let exit = try role("resume-exit")
        let refused = try feedStream(s, segments: cache.transactions)
        let answer = try request(exit)
        if refused != nil || !answer.succeeded {
            cache.unloadable =
                "the device does not load its own stream (\(resume)->\(exit) after writing it: "
                + (refused.map { "a write failed with \($0)" } ?? "failed with \(answer.errno!)")
                + "; see the round-trip rules)"
            throw Blocked(reason: cache.unloadable!, cause: .roundTrip)
        }
        cache.stream = s
        cache.streamSavedIn = testCase.id
        return s
    }

    /// The run's shared stream (``validStream()``) for a case that judges what the device does with a stream of
    /// its own; when the device does not load its own stream, one saved for the case, so the case still judges it.
    func sharedStream() throws -> SavedStream {
        do { return try validStream() } catch let b as Blocked {
            guard cache.unloadable != nil else { throw b }
            return try captureStream()
        }
    }

    /// Walks `path` one arc (one request) at a time, checking each arrives; returns the open session's fd.
    func walk(_ path: [Arc], from start: String, fd initialFD: Int32? = nil) throws -> Int32? {
        var fd = initialFD
        for arc in path {
            let answer = try request(arc.to)
            let subject = Finding.Subject.arcState(from: arc.from, to: arc.to)
            guard answer.succeeded else {
                found(
                    subject, expected: "success, then state \(arc.to)", actual: "failed with \(answer.errno!)",
                    "arc \(arc.from)->\(arc.to) was refused")
                throw Blocked(
                    reason: "arc \(arc.from)->\(arc.to) failed with \(answer.errno!) while setting up", cause: subject)
            }
            let now = try readState()
            guard now == (try value(of: arc.to)) else {
                let where_ = now.map(name(of:)) ?? "an unreadable state"
                found(
                    subject, expected: "state \(arc.to)", actual: "state \(where_)",
                    "arc \(arc.from)->\(arc.to) succeeded but left the device in \(where_)")
                throw Blocked(reason: "arc \(arc.from)->\(arc.to) left the device in \(where_)", cause: subject)
            }
            switch arc.session {
            case .opensSave, .opensResume: fd = answer.fd >= 0 ? answer.fd : (dialect.hasDataFD ? nil : -1)
            case .ends: fd = nil
            case .keeps, .none: break
            }
        }
        return fd
    }

    /// Closes the fds this case received. A case that leaves the device outside the settable states (the error
    /// state), or whose check ends in a failed resume, ends with a reset, so nothing it left behind leaks into the
    /// next case; otherwise the next case starts where this one ended.
    func closeAll() {
        // Left in the resume state with nothing loaded, the device is reset rather than given a whole stream that
        // the next case may not need (`TransferNeed`: arriving in the resume state costs no transfer).
        settleResume(load: false)
        for fd in openedFDs { _ = try? op(.close(fd: fd)) }
        openedFDs.removeAll()
        if check.endsWithReset || position.known == nil || (try? readState()) == nil || position.known == nil {
            _ = try? reset()
        }
    }

    /// When the device sits in the resume state with its session still empty, writes a valid stream there so the
    /// next step can walk out of it; without one at hand, or without `load`, forgets the position (the next move
    /// resets).
    func settleResume(load: Bool = true) {
        guard position.known != nil, position.known == machine.stateName(forRole: "resume"), !resumeLoaded else {
            return
        }
        resumeOwed = false
        if load, resumeFD != nil || !dialect.hasDataFD, let stream = cache.stream,
            (try? write(stream, to: resumeFD, segments: cache.transactions)) == .some(nil)
        {
            resumeLoaded = true
        } else {
            position.known = nil
        }
    }

    // MARK: - Streams

    /// Bound on a save stream, so a device that never ends its stream cannot keep the runner forever.
    var streamLimit: UInt64 { streamSizing().limit }

    /// The size a device stated for its stream when ``streamSizing()`` asked (nil: it stated none).
    private(set) var statedSize: UInt64?

    /// The bound on a save stream and the size of the reads that drain it, from what the device says it will
    /// send (MIG_DATA_SIZE): reads of the stated size rounded up to a page, at most ``SavedStream/chunkSize``, so
    /// a small stream costs no large buffer. A device that says nothing gets the bulk size.
    func streamSizing() -> (limit: UInt64, chunk: Int) {
        statedSize = nil
        if case .value(let n)? = try? op(.getDataSize), n > 0 {
            statedSize = n
            // Twice the estimate and a megabyte, saturating: a device may answer any 64-bit number.
            let (twice, over) = n.multipliedReportingOverflow(by: 2)
            let limit = over ? UInt64.max : twice.addingReportingOverflow(1 << 20).overflow ? .max : twice + (1 << 20)
            return (limit, Self.readSize(n))
        }
        return (1 << 36, SavedStream.chunkSize)
    }

    /// A read size for `stated` bytes: a whole number of pages, at least one, at most ``SavedStream/chunkSize``.
    static func readSize(_ stated: UInt64) -> Int {
        let page: UInt64 = 4096
        let rounded =
            stated > UInt64(SavedStream.chunkSize) ? UInt64(SavedStream.chunkSize) : (stated + page - 1) / page * page
        return Int(max(rounded, page))
    }

    /// A new, empty stream buffer that spools where this run spools; `readOften` keeps its spool file in the page
    /// cache throughout (see ``SavedStream``).
    func newStream(readOften: Bool = false) -> SavedStream {
        SavedStream(
            spoolThreshold: cache.spoolThreshold, directory: cache.spoolDirectory,
            directAfter: readOften ? nil : SpoolFile.defaultDirectAfter)
    }

    /// Reads a v2 saving fd until end of stream (0 bytes) or ENOMSG (`stopAtENOMSG`), appending what it reads to
    /// `sink`. Reads sized from what the device says it holds (``streamSizing()``) unless `chunk` is given: a
    /// large stream costs few operations, a small one no large buffer.
    func drain(fd: Int32, stopAtENOMSG: Bool, chunk given: Int? = nil, into sink: SavedStream) throws -> DeviceOutcome {
        try drain(fd: fd, stopAtENOMSG: stopAtENOMSG, chunk: given, after: sink.count) { _, piece in
            try sink.append(piece)
        }.end
    }

    /// ``drain(fd:stopAtENOMSG:chunk:into:)`` that hands each piece read to `take` with its offset in the stream,
    /// keeping nothing; `after` bytes of the stream were read before. Returns the last outcome and the stream's
    /// length so far.
    func drain(
        fd: Int32, stopAtENOMSG: Bool, chunk given: Int? = nil, after start: UInt64 = 0,
        each take: (UInt64, [UInt8]) throws -> Void
    ) throws -> (end: DeviceOutcome, count: UInt64) {
        let (limit, sized) = streamSizing()
        var chunk = given ?? sized
        var count = start
        // A stream the device says is large is recorded as one summary entry, not one entry per read.
        device.beginTransfer("the stream read from fd \(fd)", bytes: statedSize ?? 0)
        defer { device.endTransfer() }
        while true {
            let outcome = try op(.read(fd: fd, count: chunk))
            switch outcome {
            case .bytes(let b) where b.isEmpty: return (outcome, count)
            case .bytes(let b):
                // A read that came back full: there is more than the device said; larger reads, up to the bulk size.
                if given == nil, b.count == chunk { chunk = min(chunk * 2, max(chunk, SavedStream.chunkSize)) }
                try take(count, b)
                count += UInt64(b.count)
                if count > limit { return (.failed(.EFBIG), count) }
            case .failed(.ENOMSG) where stopAtENOMSG: return (outcome, count)
            case .failed(let e) where !stopAtENOMSG:
                found(
                    .streamEnd, expected: "the stream ends with read() returning 0",
                    actual: "read failed with \(e) after \(count) bytes",
                    e == .ENOMSG ? "ENOMSG where the end of the stream is permanent" : "reading the saving fd failed")
                return (outcome, count)
            default: return (outcome, count)
            }
        }
    }

    /// Saves the device's whole state and returns the stream (v2: through STOP_COPY; v1: the stop-and-copy phase).
    /// Leaves the device in the save state. A large stream is spooled to a file as it arrives, never held whole.
    /// `readOften`: the stream will be resumed many times (the run's shared stream).
    func captureStream(viaPreCopy: Bool = false, readOften: Bool = false) throws -> SavedStream {
        let stream = newStream(readOften: readOften)
        try dialect.captureStream(into: stream, viaPreCopy: viaPreCopy, self)
        return stream
    }

    /// Resets, enters the resume state and writes `stream` in pieces of the given sizes (cycled).
    /// Returns the first write errno, if a write was refused.
    func feedStream(_ stream: SavedStream, segments: [Int]) throws -> WriteRefusal? {
        let fd = try enter(try role("resume"), loadResume: .nothing)
        return try write(stream, to: fd, segments: segments)
    }

    /// ``feedStream(_:segments:)`` for a few bytes held in memory.
    func feedStream(_ bytes: [UInt8], segments: [Int]) throws -> WriteRefusal? {
        try feedStream(SavedStream(bytes), segments: segments)
    }

    /// How far the requested write sizes are followed on a large stream: for the first ``patternWrites`` writes
    /// and at most ``patternBytes`` bytes; the rest goes in ``SavedStream/chunkSize`` writes. Every stream the
    /// default reference device saves fits in the window, so small streams go exactly as asked; a stream of
    /// gigabytes still has its segment boundaries exercised without billions of one-byte writes.
    static let patternWrites = 8192
    static let patternBytes: UInt64 = 64 << 20

    /// A short description of how `write` segments a stream of `count` bytes: `segments [1]`, or
    /// `segments [1] for the first 8192 bytes (8192 writes), then writes of up to 1 MiB`.
    static func segmentation(_ segments: [Int], count: UInt64) -> String {
        var writes = 0
        var covered: UInt64 = 0
        var i = 0
        while covered < count && writes < patternWrites && covered < patternBytes {
            covered += UInt64(max(1, segments[i % segments.count]))
            i += 1
            writes += 1
        }
        // Written out by hand: interpolating the array would reflect on it, which costs more than the case.
        let list = "[" + segments.map { String($0) }.joined(separator: ", ") + "]"
        if covered >= count { return "segments \(list)" }
        return
            "segments \(list) for the first \(covered) bytes (\(writes) writes), then writes of up to \(SavedStream.chunkSize >> 20) MiB"
    }

    /// Writes a resume stream in pieces of the given sizes (cycled); returns how the first refused write was refused.
    func write(_ stream: SavedStream, to fd: Int32?, segments: [Int]) throws -> WriteRefusal? {
        try dialect.write(stream, to: fd, segments: segments, self)
    }
}
