import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformSpec

/// What a check found.
public enum CheckOutcome: Sendable {
    /// The device did what the rule asks.
    case pass(String)
    /// The device did not: what the rule expected, what happened.
    case violated(expected: String, actual: String, message: String)
    /// A precondition failed (an arc needed to set the case up did not work): the case says nothing.
    case blocked(String)
    /// The device could not be put in the situation the rule is about.
    case notApplicable(String)
}

/// Thrown inside a check when a precondition fails; becomes ``CheckOutcome/blocked(_:)``. `cause` names the
/// observation that made the case impossible, when one did: the runner reports it under its own rule.
struct Blocked: Error {
    var reason: String
    var cause: Finding.Subject?
    init(reason: String, cause: Finding.Subject? = nil) { self.reason = reason; self.cause = cause }
}

/// A device answer that breaks a rule, seen by the run's oracle while any case was positioned, set up, checked or
/// cleaned up. The runner judges it under the rule it breaks (the case of that rule with the same binding), not
/// under the case that happened to see it.
struct Finding {
    /// What was observed, in terms of the spec's check kinds (so that the spec, not Swift code, names the rule).
    enum Subject: Equatable {
        /// A single-step request failed, or succeeded and left the device elsewhere (`arc` rules, `state`).
        case arcState(from: String, to: String)
        /// A reset from a known state did not reach the initial state (`reset` rules, `state`).
        case resetState(from: String)
        /// A reset in the error state did not leave it (`error-sticky` rules, `reset-recovers`).
        case errorReset
        /// ENOMSG or another error where the save stream must end permanently (`stream-end` rules).
        case streamEnd
        /// A resume write was refused, and leaving the resume state still succeeded (`resume-damaged`,
        /// damage `refused-write`).
        case refusedWrite
        /// The state changed with no request (`invariant`, `no-spontaneous-change`).
        case spontaneousChange
        /// After a failed exit from the resume state the device reports a state the uAPI does not allow
        /// (`resume-damaged`, `state-after-failure`).
        case failedResumeState
        /// The device does not load its own stream (`round-trip` rules); only ever a cause of a block.
        case roundTrip
        /// The device accepted a damaged stream (`resume-damaged` with that damage, `stop-fails`); only ever a cause.
        case resumeAccepted(damage: String)
        /// The case of a rule of this check kind (and `expect`, and binding, where given) that already judges what
        /// blocked this one; only ever a cause.
        case check(CheckKind, expect: String? = nil, from: String? = nil, to: String? = nil)
    }
    var subject: Subject
    var expected: String
    var actual: String
    var message: String
}

/// What a state request answered.
struct SetAnswer {
    var errno: Errno?
    /// The data fd the request returned (v2), -1 when none.
    var fd: Int32
    var succeeded: Bool { errno == nil }
}

/// The state the device is in, as far as the run knows (nil: unknown, reset before going anywhere), and what the
/// oracle needs to judge the next answer; shared from case to case, as the device is.
final class DevicePosition {
    var known: String?
    /// The state value the device must report while nothing asks it to move (v2), and whether it comes from a
    /// request that has not been read back yet (a wrong landing is the arc's fault, not a spontaneous change).
    var settled: UInt32?
    var settledByRequest = false
    /// The request behind `settledByRequest`, from a known state: a wrong landing is judged under its arc.
    var lastRequest: (from: String, to: String)?
    /// A reset was issued and its result has not been read yet: from this known state, or from one the run did not
    /// know (empty).
    var resetFrom: String?
    /// A write of the open resume session was refused (the exit from the resume state must then fail).
    var refusedResumeWrite: Errno?
    /// The last exit from the resume state failed and the state has not been read since: the states the device
    /// may then report (the resume state, the error state, the steps of the requested path).
    var failedResumeExit: [String]?

    /// Forgets everything (a transport failure: the device may be anywhere).
    func forget() {
        known = nil; settled = nil; settledByRequest = false; resetFrom = nil; failedResumeExit = nil
    }
}

/// A valid save stream of the device under test, captured once per run and reused wherever a case must leave
/// the resume state normally (which needs a complete stream to have been written).
final class StreamCache {
    var stream: SavedStream?
    /// Streams longer than this are spooled to a file instead of memory.
    var spoolThreshold = SavedStream.defaultSpoolThreshold
    /// Where spool files go (nil: ``SavedStream/spoolDirectory``, else the temporary folder).
    var spoolDirectory: String?
    /// The sizes of the reads (v2) or transactions (v1) the device produced its stream in; resumes write the
    /// stream back in the same pieces (the v1 header asks for that).
    var transactions: [Int] = [1 << 16]
    /// Why no valid stream can be had, once that is known.
    var unloadable: String?
    /// The run's path questions, asked of one machine throughout.
    private var distances: Distances?
    func distances(_ machine: Machine) -> Distances {
        if let d = distances, d.machine.spec.id == machine.spec.id, d.machine.features == machine.features { return d }
        let d = Distances(machine)
        distances = d
        return d
    }
}

/// Everything a check needs to talk to the device in terms of the spec: requests by state name, positioning,
/// and the data streams of either protocol generation. Every operation goes through the recorder.
final class CaseContext {
    let device: RecordingDevice
    let machine: Machine
    let testCase: TestCase
    let generation: ProtocolGeneration
    /// fds this case received; closed when the case ends.
    var openedFDs: [Int32] = []
    /// The resume session this case opened, and whether a complete valid stream was written into it.
    var resumeFD: Int32?
    var resumeLoaded = false
    let cache: StreamCache

    /// Where the device is, as far as the run knows, shared from case to case.
    let position: DevicePosition
    /// Rule violations the oracle saw during this case (any phase), in order.
    var findings: [Finding] = []

    init(device: RecordingDevice, machine: Machine, testCase: TestCase, cache: StreamCache = StreamCache(),
         position: DevicePosition = DevicePosition()) {
        self.cache = cache
        self.position = position
        self.device = device
        self.machine = machine
        self.testCase = testCase
        self.generation = device.device.generation
    }

    var spec: Spec { machine.spec }
    /// The device under test runs only when called (an in-process simulator): nothing changes between calls.
    var answersPromptly: Bool { device.device.underlying.answersPromptly }
    var rule: Rule { testCase.rule }
    var check: Check { rule.check }

    // MARK: - Names

    func value(of name: String) throws -> UInt32 {
        guard let s = spec.state(named: name) else { throw Blocked(reason: "spec has no state \(name)") }
        return s.value
    }

    func name(of value: UInt32) -> String { spec.state(value: value)?.name ?? String(value) }

    func role(_ role: String) throws -> String {
        guard let name = spec.stateName(forRole: role) else { throw Blocked(reason: "spec names no \(role) state") }
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
    func refusal(_ outcome: DeviceOutcome, _ what: String, ifAccepted: String, expected: String? = nil) -> CheckOutcome {
        guard let e = outcome.errno else {
            return .violated(expected: expected ?? "failure with \(acceptText)", actual: describe(outcome), message: ifAccepted)
        }
        if acceptable(e) { return .pass("\(what) failed with \(e)") }
        return .violated(expected: "failure with \(acceptText)", actual: e.name, message: "\(what) failed with an unexpected errno")
    }

    // MARK: - Operations

    /// Issues one operation and lets the oracle judge the answer (see ``judge(_:_:)``).
    @discardableResult
    func op(_ operation: DeviceOperation) throws -> DeviceOutcome {
        let outcome = try device.perform(operation)
        judge(operation, outcome)
        return outcome
    }

    func found(_ subject: Finding.Subject, expected: String, actual: String, _ message: String) {
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
        case .setState(let value):
            position.resetFrom = nil
            position.failedResumeExit = nil
            if outcome.succeeded { position.settled = value; position.settledByRequest = true } else { position.settled = nil }
        case .regionWrite(let offset, _, _) where offset == RegionV1.deviceState:
            position.resetFrom = nil
            position.settled = nil
        case .getState:
            guard case .state(let value, _) = outcome else { position.settled = nil; return }
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
                let subject: Finding.Subject = source == spec.stateName(forRole: "error") ? .errorReset : .resetState(from: source)
                found(subject, expected: "state \(initial.name) after the reset", actual: "state \(now)",
                      "a reset from \(from.isEmpty ? "a state the run had not read (\(now) after it)" : from) left the device "
                      + "in \(now), not \(initial.name)")
            }
        }
        if let allowed = position.failedResumeExit {
            position.failedResumeExit = nil
            if generation == .v2, !allowed.contains(now) {
                found(.failedResumeState, expected: allowed.joined(separator: " or "), actual: "state \(now)",
                      "after a failed exit from the resume state the device reports \(now)")
            }
        }
        if generation == .v2, let settled = position.settled, settled != value, position.settledByRequest,
           let request = position.lastRequest, request.to == name(of: settled) {
            // A request that succeeded and left the device elsewhere: its arc, or its combination, is at fault.
            let single = machine.arcs.contains { $0.from == request.from && $0.to == request.to }
            let subject: Finding.Subject = single ? .arcState(from: request.from, to: request.to)
                : .check(.combination, expect: "state", from: request.from, to: request.to)
            found(subject, expected: "state \(request.to)", actual: "state \(now)",
                  "\(request.from)->\(request.to) succeeded but left the device in \(now)")
        }
        if generation == .v2, let settled = position.settled, settled != value, !position.settledByRequest {
            found(.spontaneousChange, expected: "state \(name(of: settled)) (nothing asked it to move)", actual: "state \(now)",
                  "the device moved from \(name(of: settled)) to \(now) with no request")
        }
        position.settled = value
        position.settledByRequest = false
        position.lastRequest = nil
    }

    /// Resets the device; true when the reset succeeded.
    @discardableResult
    func reset() throws -> Bool {
        let outcome = try op(.reset)   // the oracle judges the reset from where the device was known to be
        position.known = nil
        return outcome.succeeded
    }

    /// Notes what the device reported, for positioning the next step from there.
    func observe(_ value: UInt32?) {
        let name = value.flatMap { spec.state(value: $0)?.name }
        position.known = name.flatMap { machine.isSettable($0) ? $0 : nil }
    }

    /// The device state as a GET (v2) or a read of `device_state` (v1, state bits only) reports it.
    func readState() throws -> UInt32? {
        switch generation {
        case .v2:
            if case .state(let s, _) = try op(.getState) { observe(s); return s }
            observe(nil)
            return nil
        case .v1:
            if case .value(let v) = try op(.regionRead(offset: RegionV1.deviceState, width: 4)) {
                let s = UInt32(truncatingIfNeeded: v) & RegionV1.stateMask
                observe(s)
                return s
            }
            observe(nil)
            return nil
        }
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
        let resume = spec.stateName(forRole: "resume")
        let leavingResume = position.known != nil && position.known == resume && spec.state(value: value)?.name != resume
        let from = position.known
        let answer = try send(value)
        if let from, answer.succeeded, let to = spec.state(value: value)?.name, to != from { position.lastRequest = (from, to) }
        if leavingResume {
            if answer.succeeded, let e = position.refusedResumeWrite {
                found(.refusedWrite, expected: "leaving \(resume ?? "the resume state") fails after a refused write",
                      actual: "a write failed with \(e), then \(resume ?? "")->\(name(of: value)) succeeded",
                      "the device refused resume data, then accepted the end of the resume")
            }
            position.refusedResumeWrite = nil
            let steps = resume.flatMap { machine.path(from: $0, to: name(of: value)) }?.map(\.to) ?? []
            position.failedResumeExit = answer.succeeded ? nil
                : [resume, spec.stateName(forRole: "error")].compactMap { $0 } + steps.dropLast()
        }
        // After a success the device is where it was asked to be; after a refusal only a read can tell.
        if answer.succeeded { observe(value) } else { position.known = nil }
        if answer.succeeded, spec.state(value: value)?.name == resume {
            resumeFD = answer.fd >= 0 ? answer.fd : nil   // v1 has no fd: the region is the session
            resumeLoaded = false
            position.refusedResumeWrite = nil
        }
        return answer
    }

    private func send(_ value: UInt32) throws -> SetAnswer {
        switch generation {
        case .v2:
            let outcome = try op(.setState(value))
            switch outcome {
            case .state(_, let fd):
                if fd >= 0 { openedFDs.append(fd) }
                return SetAnswer(errno: nil, fd: fd)
            case .failed(let e): return SetAnswer(errno: e, fd: -1)
            default: return SetAnswer(errno: nil, fd: -1)
            }
        case .v1:
            let current = try readRawStateV1() ?? 0
            let word = value > RegionV1.stateMask ? value : (current & ~RegionV1.stateMask) | value
            let outcome = try op(.regionWrite(offset: RegionV1.deviceState, width: 4, value: UInt64(word)))
            return SetAnswer(errno: outcome.errno, fd: -1)
        }
    }

    func request(_ name: String) throws -> SetAnswer { try request(try value(of: name)) }

    /// Brings the device to `state`, from where it is: by single-step arcs from the state the run last saw it in,
    /// or after a reset when that is unknown. With `fresh`, the last arc opens a new session there, whose fd is
    /// returned. Entering the resume state always opens a fresh session and writes a complete, valid stream into it
    /// (unless `loadResume` is false), so that the case can leave it normally. Throws ``Blocked`` when a step fails:
    /// the case then says nothing about its own rule.
    @discardableResult
    func enter(_ state: String, fresh: Bool = false, loadResume: Bool = true) throws -> Int32? {
        let resume = spec.stateName(forRole: "resume")
        var stream: SavedStream?
        if loadResume && state == resume { stream = try validStream() }
        let needsFresh = fresh || state == resume
        let distances = cache.distances(machine)
        func route(from start: String) -> [Arc]? {
            needsFresh && distances.sessionStates.contains(state) ? distances.freshPath(start, state) : machine.walk(from: start, to: state)
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
                    $0 == spec.stateName(forRole: "error") ? .errorReset : .resetState(from: $0)
                }
                throw Blocked(reason: "reset left the device in \(afterReset.map(name(of:)) ?? "an unreadable state"), not \(initial)",
                              cause: cause)
            }
            start = initial
            path = route(from: initial)
        }
        // A state the profile cannot reach: the device's flags lack a mandatory one (the flags rules judge that).
        guard let path, let start else {
            throw Blocked(reason: "no way to \(state) on this profile", cause: .check(.migrationFlags, expect: "includes-mandatory"))
        }
        let fd = try walk(path, from: start)
        if let stream, let e = try write(stream, to: fd, segments: cache.transactions) {
            throw Blocked(reason: "writing a valid stream in \(state) failed with \(e)")
        }
        if stream != nil { resumeLoaded = true }
        return fd
    }

    /// The device's own save stream, from the run's cache or captured now. The first capture is proved by a
    /// round trip: a device that cannot load its own stream blocks every case that must leave the resume state
    /// (the round-trip rules report the fault itself).
    func validStream() throws -> SavedStream {
        if let problem = cache.unloadable { throw Blocked(reason: problem, cause: .roundTrip) }
        if let s = cache.stream { return s }
        let s: SavedStream
        do { s = try captureStream() } catch let b as Blocked {
            throw Blocked(reason: "no valid save stream to resume with: \(b.reason)", cause: b.cause)
        }
        let resume = try role("resume"), exit = try role("resume-exit")
        let refused = try feedStream(s, segments: cache.transactions)
        let answer = try request(exit)
        if refused != nil || !answer.succeeded {
            cache.unloadable = "the device does not load its own stream (\(resume)->\(exit) after writing it: "
                + (refused.map { "a write failed with \($0)" } ?? "failed with \(answer.errno!)") + "; see the round-trip rules)"
            throw Blocked(reason: cache.unloadable!, cause: .roundTrip)
        }
        cache.stream = s
        return s
    }

    /// Walks `path` one arc (one request) at a time, checking each arrives; returns the open session's fd.
    func walk(_ path: [Arc], from start: String, fd initialFD: Int32? = nil) throws -> Int32? {
        var fd = initialFD
        for arc in path {
            let answer = try request(arc.to)
            let subject = Finding.Subject.arcState(from: arc.from, to: arc.to)
            guard answer.succeeded else {
                found(subject, expected: "success, then state \(arc.to)", actual: "failed with \(answer.errno!)",
                      "arc \(arc.from)->\(arc.to) was refused")
                throw Blocked(reason: "arc \(arc.from)->\(arc.to) failed with \(answer.errno!) while setting up", cause: subject)
            }
            let now = try readState()
            guard now == (try value(of: arc.to)) else {
                let where_ = now.map(name(of:)) ?? "an unreadable state"
                found(subject, expected: "state \(arc.to)", actual: "state \(where_)",
                      "arc \(arc.from)->\(arc.to) succeeded but left the device in \(where_)")
                throw Blocked(reason: "arc \(arc.from)->\(arc.to) left the device in \(where_)", cause: subject)
            }
            switch arc.session {
            case .opensSave, .opensResume: fd = answer.fd >= 0 ? answer.fd : (generation == .v1 ? -1 : nil)
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
        settleResume()
        for fd in openedFDs { _ = try? op(.close(fd: fd)) }
        openedFDs.removeAll()
        let endsWithReset: Set<CheckKind> = [.errorSticky, .resumeDamaged]
        if endsWithReset.contains(check.kind) || position.known == nil || (try? readState()) == nil || position.known == nil {
            _ = try? reset()
        }
    }

    /// When the device sits in the resume state with its session still empty, writes a valid stream there so the
    /// next step can walk out of it; without one at hand, forgets the position (the next move resets).
    func settleResume() {
        guard position.known != nil, position.known == spec.stateName(forRole: "resume"), !resumeLoaded else { return }
        if resumeFD != nil || generation == .v1, let stream = cache.stream,
           (try? write(stream, to: resumeFD, segments: cache.transactions)) == .some(nil) {
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
        let rounded = stated > UInt64(SavedStream.chunkSize) ? UInt64(SavedStream.chunkSize) : (stated + page - 1) / page * page
        return Int(max(rounded, page))
    }

    /// A new, empty stream buffer that spools where this run spools.
    func newStream() -> SavedStream {
        SavedStream(spoolThreshold: cache.spoolThreshold, directory: cache.spoolDirectory)
    }

    /// Reads a v2 saving fd until end of stream (0 bytes) or ENOMSG (`stopAtENOMSG`), appending what it reads to
    /// `sink`. Reads sized from what the device says it holds (``streamSizing()``) unless `chunk` is given: a
    /// large stream costs few operations, a small one no large buffer.
    func drain(fd: Int32, stopAtENOMSG: Bool, chunk given: Int? = nil, into sink: SavedStream) throws -> DeviceOutcome {
        let (limit, sized) = streamSizing()
        var chunk = given ?? sized
        // A stream the device says is large is recorded as one summary entry, not one entry per read.
        device.beginTransfer("the stream read from fd \(fd)", bytes: statedSize ?? 0)
        defer { device.endTransfer() }
        while true {
            let outcome = try op(.read(fd: fd, count: chunk))
            switch outcome {
            case .bytes(let b) where b.isEmpty: return outcome
            case .bytes(let b):
                // A read that came back full: there is more than the device said; larger reads, up to the bulk size.
                if given == nil, b.count == chunk { chunk = min(chunk * 2, max(chunk, SavedStream.chunkSize)) }
                try sink.append(b)
                if sink.count > limit { return .failed(.EFBIG) }
            case .failed(.ENOMSG) where stopAtENOMSG: return outcome
            case .failed(let e) where !stopAtENOMSG:
                found(.streamEnd, expected: "the stream ends with read() returning 0",
                      actual: "read failed with \(e) after \(sink.count) bytes",
                      e == .ENOMSG ? "ENOMSG where the end of the stream is permanent" : "reading the saving fd failed")
                return outcome
            default: return outcome
            }
        }
    }

    /// Saves the device's whole state and returns the stream (v2: through STOP_COPY; v1: the stop-and-copy phase).
    /// Leaves the device in the save state. A large stream is spooled to a file as it arrives, never held whole.
    func captureStream(viaPreCopy: Bool = false) throws -> SavedStream {
        let stream = newStream()
        switch generation {
        case .v2:
            let save = try role("save")
            var fd: Int32?
            if viaPreCopy {
                let pre = try role("pre-copy")
                fd = try enter(pre, fresh: true)
                guard let f = fd else {
                    throw Blocked(reason: "entering \(pre) gave no data fd", cause: .check(.arc, expect: "data-fd", to: pre))
                }
                let end = try drain(fd: f, stopAtENOMSG: true, into: stream)
                if let e = end.errno, e != .ENOMSG { throw Blocked(reason: "pre-copy read failed with \(e)") }
                guard let path = machine.path(from: pre, to: save) else { throw Blocked(reason: "no path \(pre)->\(save)") }
                fd = try walk(path, from: pre, fd: f)
            } else {
                fd = try enter(save, fresh: true)
            }
            guard let f = fd, f >= 0 else {
                throw Blocked(reason: "entering \(save) gave no data fd", cause: .check(.arc, expect: "data-fd", to: save))
            }
            let end = try drain(fd: f, stopAtENOMSG: false, into: stream)
            if let e = end.errno { throw Blocked(reason: "reading the \(save) stream failed with \(e)", cause: .streamEnd) }
            // The stream goes back in the pieces it came out in, as a migration's destination writes what the
            // source read (and then no piece is copied on the way).
            if !viaPreCopy, !stream.pieceSizes.isEmpty { cache.transactions = stream.pieceSizes }
            stream.label = "the saved stream (\(stream.count) bytes\(viaPreCopy ? ", read partly in \(try role("pre-copy"))" : ""))"
        case .v1:
            // The v1 region protocol moves the stream in the device's own transactions; it stays in memory.
            try enter(try role("save"), fresh: true)
            var sizes: [Int] = []
            do { try stream.append(try V1Stream(self).save(transactions: &sizes)) } catch let n as NotDrained {
                throw Blocked(reason: "the saving phase did not drain after \(n.iterations) iterations",
                              cause: .check(.saveProtocol, expect: "drains"))
            }
            cache.transactions = sizes.isEmpty ? [1 << 16] : sizes
        }
        return stream
    }

    /// Resets, enters the resume state and writes `stream` in pieces of the given sizes (cycled).
    /// Returns the first write errno, if a write was refused.
    func feedStream(_ stream: SavedStream, segments: [Int]) throws -> Errno? {
        let fd = try enter(try role("resume"), loadResume: false)
        return try write(stream, to: fd, segments: segments)
    }

    /// ``feedStream(_:segments:)`` for a few bytes held in memory.
    func feedStream(_ bytes: [UInt8], segments: [Int]) throws -> Errno? {
        try feedStream(SavedStream(bytes), segments: segments)
    }

    /// How far the requested write sizes are followed on a large stream: for the first ``patternWrites`` writes
    /// and at most ``patternBytes`` bytes; the rest goes in ``SavedStream/chunkSize`` writes. Every stream the
    /// default reference device saves fits in the window, so small streams go exactly as asked; a stream of
    /// gigabytes still has its segment boundaries exercised without billions of one-byte writes.
    static let patternWrites = 8192
    static let patternBytes: UInt64 = 64 << 20

    /// A short description of how `write` segments a stream of `count` bytes: `segments [1]`, or
    /// `segments [1] for the first 8192 bytes (8192 writes), then writes of up to 8 MiB`.
    static func segmentation(_ segments: [Int], count: UInt64) -> String {
        var writes = 0, covered: UInt64 = 0, i = 0
        while covered < count && writes < patternWrites && covered < patternBytes {
            covered += UInt64(max(1, segments[i % segments.count])); i += 1; writes += 1
        }
        if covered >= count { return "segments \(segments)" }
        return "segments \(segments) for the first \(covered) bytes (\(writes) writes), then writes of up to \(SavedStream.chunkSize >> 20) MiB"
    }

    /// Writes a resume stream in pieces of the given sizes (cycled); returns the errno of the first refused write.
    func write(_ stream: SavedStream, to fd: Int32?, segments: [Int]) throws -> Errno? {
        let resume = try role("resume")
        switch generation {
        case .v2:
            guard let f = fd, f >= 0 else { throw Blocked(reason: "entering \(resume) gave no data fd") }
            let total = stream.count
            var offset: UInt64 = 0, i = 0, writes = 0
            // A large stream is recorded as one summary entry, not one entry per write.
            device.beginTransfer("\(stream.label ?? "a stream of \(total) bytes") written to fd \(f)", bytes: total)
            defer { device.endTransfer() }
            while offset < total {
                let patterned = writes < Self.patternWrites && offset < Self.patternBytes
                let size = patterned ? max(1, segments[i % segments.count]) : stream.bulkSize(at: offset)
                if patterned { i += 1 }
                let piece = try stream.read(at: offset, count: Int(min(UInt64(size), total - offset)))
                writes += 1
                // Named only where the transcript keeps not the bytes but a name (writes of more than 64 bytes).
                if piece.count > 64, let label = stream.label {
                    device.nextData = "\(label): bytes \(offset)..\(offset + UInt64(piece.count) - 1)"
                }
                var outcome = try op(.write(fd: f, bytes: piece))
                var written = 0
                while true {
                    guard case .value(let n) = outcome, n > 0 else {
                        position.refusedResumeWrite = outcome.errno ?? .EIO
                        return outcome.errno ?? .EIO
                    }
                    written += Int(n)
                    if written >= piece.count { break }
                    if piece.count - written > 64, let label = stream.label {
                        device.nextData = "\(label): bytes \(offset + UInt64(written))..\(offset + UInt64(piece.count) - 1)"
                    }
                    outcome = try op(.write(fd: f, bytes: Array(piece[written...])))
                }
                offset += UInt64(piece.count)
            }
            return nil
        case .v1:
            return try V1Stream(self).resume(try stream.read(at: 0, count: Int(stream.count)), segments: segments)
        }
    }
}

/// A save stream as the runner holds it between saving and resuming: in memory while it is small, and in a spool
/// file once it grows past a threshold, so that a device with gigabytes of state costs the runner a few
/// buffers of ``chunkSize`` bytes, not the whole stream.
///
/// The spool file is unlinked as soon as it is created: it disappears when the stream is released or the process
/// ends, however the run ends. Its reads and writes go through a ``SpoolIO`` thread, so that copying a chunk to
/// or from the file overlaps the device's work on the next one.
public final class SavedStream {
    /// Bytes moved per device read or write of bulk data.
    public static let chunkSize = 8 << 20
    /// Streams up to this size stay in memory.
    public static let defaultSpoolThreshold: UInt64 = 64 << 20
    /// Where spool files go when a run does not say (nil: the temporary folder). The command line points it at
    /// the run folder before a run starts.
    nonisolated(unsafe) public static var spoolDirectory: String?

    /// Length of the stream in bytes.
    public private(set) var count: UInt64 = 0
    /// What the stream is, by name, for transcripts that do not keep its bytes (`the saved stream (4128 bytes)
    /// cut to 2064 bytes`).
    public var label: String?
    /// The spool file's name while it existed (for messages), nil while the stream is in memory.
    public private(set) var spoolPath: String?
    public var isSpooled: Bool { io != nil }
    /// The sizes of the appends a stream held in memory was built from, in order (empty once spooled).
    public var pieceSizes: [Int] { pieces.map(\.count) }

    /// The stream in memory, in the pieces it arrived in (appending keeps the caller's array, copying nothing);
    /// `starts[i]` is the stream offset of `pieces[i]`.
    private var pieces: [[UInt8]] = []
    private var starts: [UInt64] = []
    private var io: SpoolIO?
    private var discards = false
    private let spoolThreshold: UInt64
    private let directory: String?

    public init(spoolThreshold: UInt64 = SavedStream.defaultSpoolThreshold, directory: String? = nil) {
        self.spoolThreshold = spoolThreshold
        self.directory = directory
    }

    /// A sink that keeps only the length of what is appended (a stream read to be measured, not resumed).
    public static func counting() -> SavedStream {
        let s = SavedStream(spoolThreshold: .max)
        s.discards = true
        return s
    }

    /// A stream held in memory with these bytes.
    public convenience init(_ bytes: [UInt8]) {
        self.init(spoolThreshold: .max)
        if !bytes.isEmpty { pieces = [bytes]; starts = [0] }
        count = UInt64(bytes.count)
    }

    deinit { io?.finish() }

    /// Appends bytes at the end, moving the stream to a spool file when it grows past the threshold. A spooled
    /// append returns once the bytes are queued; a write that failed is reported by a later call.
    public func append(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        if discards { count += UInt64(bytes.count); return }
        if io == nil && count + UInt64(bytes.count) > spoolThreshold {
            try spool()
        }
        if let io {
            try io.write(bytes, at: count)
        } else {
            pieces.append(bytes)
            starts.append(count)
        }
        count += UInt64(bytes.count)
    }

    /// `count` bytes from `offset` (fewer at the end). Reading a spooled stream front to back in equal pieces
    /// has the next piece read ahead while the caller works on this one.
    public func read(at offset: UInt64, count wanted: Int) throws -> [UInt8] {
        guard offset < count, wanted > 0, !discards else { return [] }
        let n = Int(min(UInt64(wanted), count - offset))
        guard let io else { return held(at: offset, count: n) }
        let bytes = try io.read(at: offset, count: n)
        let next = offset + UInt64(n)
        if n >= SpoolIO.readAheadMinimum && next < count {
            io.readAhead(at: next, count: Int(min(UInt64(n), count - next)))
        }
        return bytes
    }

    /// The whole stream as one array (for small streams and tests).
    public func bytes() throws -> [UInt8] { try read(at: 0, count: Int(count)) }

    /// Shortens the stream to `length` bytes.
    public func truncate(to length: UInt64) throws {
        guard length < count else { return }
        if let io {
            try io.truncate(to: length)
        } else {
            let i = piece(containing: length - (length > 0 ? 1 : 0))
            let keep = Int(length - starts[i])
            pieces.removeSubrange((i + 1)...)
            starts.removeSubrange((i + 1)...)
            pieces[i].removeSubrange(keep...)
            if pieces[i].isEmpty { pieces.removeLast(); starts.removeLast() }
        }
        count = length
    }

    /// Flips every bit of the bytes in `offset ..< offset + length` (clipped to the stream).
    public func invert(at offset: UInt64, length: Int) throws {
        var bytes = try read(at: offset, count: length)
        guard !bytes.isEmpty else { return }
        for i in bytes.indices { bytes[i] ^= 0xff }
        if let io {
            try io.overwrite(bytes, at: offset)
        } else {
            for (k, byte) in bytes.enumerated() {
                let at = offset + UInt64(k)
                let i = piece(containing: at)
                pieces[i][Int(at - starts[i])] = byte
            }
        }
    }

    /// How much a bulk write from `offset` takes: up to the end of the piece held in memory there (so the next
    /// write is a whole piece, handed over without a copy), at most ``chunkSize``.
    public func bulkSize(at offset: UInt64) -> Int {
        guard io == nil, offset < count, !pieces.isEmpty else { return Self.chunkSize }
        let i = piece(containing: offset)
        return min(Self.chunkSize, Int(starts[i] + UInt64(pieces[i].count) - offset))
    }

    /// The index of the piece holding stream offset `offset` (which is below ``count``).
    private func piece(containing offset: UInt64) -> Int {
        var low = 0, high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// `n` bytes at `offset` of a stream in memory: the piece itself when the read is exactly one piece.
    private func held(at offset: UInt64, count n: Int) -> [UInt8] {
        var i = piece(containing: offset)
        var at = Int(offset - starts[i])
        if at == 0 && pieces[i].count == n { return pieces[i] }
        if at + n <= pieces[i].count { return Array(pieces[i][at..<at + n]) }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        while out.count < n {
            let take = min(n - out.count, pieces[i].count - at)
            out += pieces[i][at..<at + take]
            i += 1
            at = 0
        }
        return out
    }

    /// Moves the bytes held in memory to a new, already unlinked file.
    private func spool() throws {
        let dir = directory ?? SavedStream.spoolDirectory ?? FileManager.default.temporaryDirectory.path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var template = Array((dir + "/.migconform-stream-XXXXXX").utf8CString)
        let f = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let path = String(cString: template)
        guard f >= 0 else { throw SpoolError(path: path, what: "cannot create", errno: errno) }
        unlink(path)
        spoolPath = path
        let io = SpoolIO(fd: f, path: path)
        self.io = io
        let held = zip(starts, pieces)
        pieces = []
        starts = []
        for (offset, bytes) in held { try io.write(bytes, at: offset) }
    }
}

/// The spool file's I/O thread: writes are queued and done in order (at most ``queueDepth`` waiting, so memory
/// stays bounded), and one read may be requested ahead of need. Every call that reads or changes the file
/// waits for the queued writes first, and the first failure is reported by the next call.
final class SpoolIO: @unchecked Sendable {
    /// Writes that may wait in the queue before ``write(_:at:)`` blocks.
    static let queueDepth = 2
    /// Reads smaller than this are not read ahead.
    static let readAheadMinimum = 1 << 20

    let fd: Int32
    let path: String
    private let cond = NSCondition()
    private var writes: [(offset: UInt64, bytes: [UInt8])] = []
    private var writing = false
    private var ahead: (offset: UInt64, count: Int)?
    private var aheadResult: Result<[UInt8], SpoolError>?
    private var reading = false
    private var failure: SpoolError?
    private var closed = false

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        let thread = Thread { [self] in self.loop() }
        thread.name = "migconform-spool"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { close(fd) }

    /// Queues `bytes` for writing at `offset`.
    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        try cond.withLock {
            while writes.count >= Self.queueDepth && failure == nil { cond.wait() }
            if let f = failure { throw f }
            dropAhead()
            writes.append((offset, bytes))
            cond.broadcast()
        }
    }

    /// `count` bytes at `offset`, from the read ahead when it was for exactly these, else read now.
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        let cached: Result<[UInt8], SpoolError>? = try cond.withLock {
            try drainLocked()
            guard let a = ahead, a.offset == offset, a.count == count else { dropAhead(); return nil }
            while aheadResult == nil { cond.wait() }
            let r = aheadResult
            ahead = nil; aheadResult = nil
            return r
        }
        if let cached { return try cached.get() }
        return try Self.readFile(fd, path: path, at: offset, count: count).get()
    }

    /// Asks for `count` bytes at `offset` to be read in the background.
    func readAhead(at offset: UInt64, count: Int) {
        cond.withLock {
            guard ahead == nil, failure == nil else { return }
            ahead = (offset, count)
            aheadResult = nil
            cond.broadcast()
        }
    }

    func truncate(to length: UInt64) throws {
        try cond.withLock {
            try drainLocked()
            dropAhead()
            guard ftruncate(fd, off_t(length)) == 0 else { throw SpoolError(path: path, what: "cannot truncate", errno: errno) }
        }
    }

    /// Writes `bytes` at `offset` now (after the queued writes).
    func overwrite(_ bytes: [UInt8], at offset: UInt64) throws {
        try cond.withLock {
            try drainLocked()
            dropAhead()
        }
        if let e = Self.writeFile(fd, path: path, bytes, at: offset) { throw e }
    }

    /// Waits until no write is queued or in progress; throws the first failure.
    private func drainLocked() throws {
        while (!writes.isEmpty || writing) && failure == nil { cond.wait() }
        if let f = failure { throw f }
    }

    /// Forgets a read ahead (its bytes may be stale); waits for one in progress.
    private func dropAhead() {
        while reading { cond.wait() }
        ahead = nil
        aheadResult = nil
    }

    private func loop() {
        while true {
            cond.lock()
            while !closed && writes.isEmpty && !(ahead != nil && aheadResult == nil) { cond.wait() }
            if closed { cond.unlock(); return }
            if !writes.isEmpty {
                let w = writes[0]
                writing = true
                cond.unlock()
                let error = Self.writeFile(fd, path: path, w.bytes, at: w.offset)
                cond.withLock {
                    writes.removeFirst()
                    writing = false
                    if let error, failure == nil { failure = error }
                    cond.broadcast()
                }
            } else if let a = ahead {
                reading = true
                cond.unlock()
                let result = Self.readFile(fd, path: path, at: a.offset, count: a.count)
                cond.withLock {
                    reading = false
                    if ahead?.offset == a.offset && ahead?.count == a.count { aheadResult = result }
                    cond.broadcast()
                }
            } else {
                cond.unlock()
            }
        }
    }

    /// Lets the thread end; the file closes when the last reference goes.
    func finish() {
        cond.withLock { closed = true; cond.broadcast() }
    }

    static func readFile(_ fd: Int32, path: String, at offset: UInt64, count n: Int) -> Result<[UInt8], SpoolError> {
        var failure: SpoolError?
        let bytes = [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            var done = 0
            while done < n {
                let r = pread(fd, buffer.baseAddress! + done, n - done, off_t(offset) + off_t(done))
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else { failure = SpoolError(path: path, what: "cannot read", errno: r < 0 ? errno : EIO); break }
                done += r
            }
            initialized = done
        }
        if let failure { return .failure(failure) }
        return .success(bytes)
    }

    static func writeFile(_ fd: Int32, path: String, _ bytes: [UInt8], at offset: UInt64) -> SpoolError? {
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let r = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else { return SpoolError(path: path, what: "cannot write", errno: r < 0 ? errno : EIO) }
                done += r
            }
            return nil
        }
    }
}

/// The spool file of a large stream could not be used (a full disk, a folder that cannot be written): the
/// runner's failure, not the device's.
public struct SpoolError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var what: String
    public var errno: Int32
    public var description: String { "spool file \(path): \(what): \(String(cString: strerror(errno)))" }
}
