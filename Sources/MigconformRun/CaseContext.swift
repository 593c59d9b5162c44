import Foundation
import MigconformCases
import MigconformDevice
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

/// Thrown inside a check when a precondition fails; becomes ``CheckOutcome/blocked(_:)``.
struct Blocked: Error { var reason: String }

/// What a state request answered.
struct SetAnswer {
    var errno: Errno?
    /// The data fd the request returned (v2), -1 when none.
    var fd: Int32
    var succeeded: Bool { errno == nil }
}

/// A valid save stream of the device under test, captured once per run and reused wherever a case must leave
/// the resume state normally (which needs a complete stream to have been written).
final class StreamCache {
    var stream: [UInt8]?
    /// v1: the transaction sizes the device produced the stream in (the v1 header asks resumes to keep them).
    var transactions: [Int] = [1 << 16]
    /// Why no valid stream can be had, once that is known.
    var unloadable: String?
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
    let cache: StreamCache

    init(device: RecordingDevice, machine: Machine, testCase: TestCase, cache: StreamCache = StreamCache()) {
        self.cache = cache
        self.device = device
        self.machine = machine
        self.testCase = testCase
        self.generation = device.device.generation
    }

    var spec: Spec { machine.spec }
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

    // MARK: - Operations

    @discardableResult
    func op(_ operation: DeviceOperation) throws -> DeviceOutcome { try device.perform(operation) }

    /// Resets the device; true when the reset succeeded.
    @discardableResult
    func reset() throws -> Bool { try op(.reset).succeeded }

    /// The device state as a GET (v2) or a read of `device_state` (v1, state bits only) reports it.
    func readState() throws -> UInt32? {
        switch generation {
        case .v2:
            if case .state(let s, _) = try op(.getState) { return s }
            return nil
        case .v1:
            if case .value(let v) = try op(.regionRead(offset: RegionV1.deviceState, width: 4)) {
                return UInt32(truncatingIfNeeded: v) & RegionV1.stateMask
            }
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

    /// Resets the device and walks single-step arcs to `state`. Returns the fd of the session open there, if any.
    /// Entering the resume state also writes a complete, valid stream (unless `loadResume` is false), so that the
    /// case can leave it normally. Throws ``Blocked`` when a step fails: the case then says nothing about its rule.
    @discardableResult
    func enter(_ state: String, loadResume: Bool = true) throws -> Int32? {
        var stream: [UInt8]?
        if loadResume && state == spec.stateName(forRole: "resume") { stream = try validStream() }
        guard try reset() else { throw Blocked(reason: "reset failed") }
        let start = machine.initial.name
        let afterReset = try readState()
        guard afterReset == machine.initial.value else {
            throw Blocked(reason: "reset left the device in \(afterReset.map(name(of:)) ?? "an unreadable state"), not \(start)")
        }
        guard let path = machine.path(from: start, to: state) else {
            throw Blocked(reason: "no path from \(start) to \(state) on this profile")
        }
        let fd = try walk(path, from: start)
        if let stream, let e = try write(stream, to: fd, segments: cache.transactions) {
            throw Blocked(reason: "writing a valid stream in \(state) failed with \(e)")
        }
        return fd
    }

    /// The device's own save stream, from the run's cache or captured now. The first capture is proved by a
    /// round trip: a device that cannot load its own stream blocks every case that must leave the resume state
    /// (the round-trip rules report the fault itself).
    func validStream() throws -> [UInt8] {
        if let problem = cache.unloadable { throw Blocked(reason: problem) }
        if let s = cache.stream { return s }
        let s: [UInt8]
        do { s = try captureStream() } catch let b as Blocked {
            cache.unloadable = "no valid save stream to resume with: \(b.reason)"
            throw Blocked(reason: cache.unloadable!)
        }
        let resume = try role("resume"), exit = try role("resume-exit")
        let refused = try feedStream(s, segments: cache.transactions)
        let answer = try request(exit)
        if refused != nil || !answer.succeeded {
            cache.unloadable = "the device does not load its own stream (\(resume)->\(exit) after writing it: "
                + (refused.map { "a write failed with \($0)" } ?? "failed with \(answer.errno!)") + "; see the round-trip rules)"
            throw Blocked(reason: cache.unloadable!)
        }
        cache.stream = s
        return s
    }

    /// Walks `path` one arc (one request) at a time, checking each arrives; returns the open session's fd.
    func walk(_ path: [Arc], from start: String, fd initialFD: Int32? = nil) throws -> Int32? {
        var fd = initialFD
        for arc in path {
            let answer = try request(arc.to)
            guard answer.succeeded else {
                throw Blocked(reason: "arc \(arc.from)->\(arc.to) failed with \(answer.errno!) while setting up")
            }
            let now = try readState()
            guard now == (try value(of: arc.to)) else {
                throw Blocked(reason: "arc \(arc.from)->\(arc.to) left the device in \(now.map(name(of:)) ?? "an unreadable state")")
            }
            switch arc.session {
            case .opensSave, .opensResume: fd = answer.fd >= 0 ? answer.fd : (generation == .v1 ? -1 : nil)
            case .ends: fd = nil
            case .keeps, .none: break
            }
        }
        return fd
    }

    /// Closes the fds this case received and resets the device, so that whatever the case left behind (the error
    /// state, an open session) cannot leak into the next case, even on a device whose reset misbehaves once.
    func closeAll() {
        for fd in openedFDs { _ = try? op(.close(fd: fd)) }
        openedFDs.removeAll()
        _ = try? op(.reset)
    }

    // MARK: - Streams

    /// Bound on a save stream, so a device that never ends its stream cannot keep the runner forever.
    var streamLimit: UInt64 {
        if case .value(let n)? = try? op(.getDataSize), n > 0 { return n * 2 + (1 << 20) }
        return 1 << 32
    }

    /// Reads a v2 saving fd until end of stream (0 bytes) or ENOMSG (`stopAtENOMSG`).
    func drain(fd: Int32, stopAtENOMSG: Bool, chunk: Int = 1 << 16, into sink: inout [UInt8]) throws -> DeviceOutcome {
        let limit = streamLimit
        var total: UInt64 = 0
        while true {
            let outcome = try op(.read(fd: fd, count: chunk))
            switch outcome {
            case .bytes(let b) where b.isEmpty: return outcome
            case .bytes(let b):
                sink += b
                total += UInt64(b.count)
                if total > limit { return .failed(.EFBIG) }
            case .failed(.ENOMSG) where stopAtENOMSG: return outcome
            default: return outcome
            }
        }
    }

    /// Saves the device's whole state and returns the stream (v2: through STOP_COPY; v1: the stop-and-copy phase).
    /// Leaves the device in the save state.
    func captureStream(viaPreCopy: Bool = false) throws -> [UInt8] {
        var stream: [UInt8] = []
        switch generation {
        case .v2:
            let save = try role("save")
            var fd: Int32?
            if viaPreCopy {
                let pre = try role("pre-copy")
                fd = try enter(pre)
                guard let f = fd else { throw Blocked(reason: "entering \(pre) gave no data fd") }
                let end = try drain(fd: f, stopAtENOMSG: true, chunk: 4096, into: &stream)
                if let e = end.errno, e != .ENOMSG { throw Blocked(reason: "pre-copy read failed with \(e)") }
                guard let path = machine.path(from: pre, to: save) else { throw Blocked(reason: "no path \(pre)->\(save)") }
                fd = try walk(path, from: pre, fd: f)
            } else {
                fd = try enter(save)
            }
            guard let f = fd, f >= 0 else { throw Blocked(reason: "entering \(save) gave no data fd") }
            let end = try drain(fd: f, stopAtENOMSG: false, into: &stream)
            if let e = end.errno { throw Blocked(reason: "reading the \(save) stream failed with \(e)") }
        case .v1:
            try enter(try role("save"))
            var sizes: [Int] = []
            do { stream = try V1Stream(self).save(transactions: &sizes) } catch let n as NotDrained {
                throw Blocked(reason: "the saving phase did not drain after \(n.iterations) iterations (see the drain rule)")
            }
            cache.transactions = sizes.isEmpty ? [1 << 16] : sizes
        }
        return stream
    }

    /// Resets, enters the resume state and writes `stream` in pieces of the given sizes (cycled).
    /// Returns the first write errno, if a write was refused.
    func feedStream(_ stream: [UInt8], segments: [Int]) throws -> Errno? {
        let fd = try enter(try role("resume"), loadResume: false)
        return try write(stream, to: fd, segments: segments)
    }

    /// Writes a resume stream in pieces of the given sizes (cycled); returns the errno of the first refused write.
    func write(_ stream: [UInt8], to fd: Int32?, segments: [Int]) throws -> Errno? {
        let resume = try role("resume")
        switch generation {
        case .v2:
            guard let f = fd, f >= 0 else { throw Blocked(reason: "entering \(resume) gave no data fd") }
            var offset = 0, i = 0
            var refused: Errno?
            while offset < stream.count {
                let size = max(1, segments[i % segments.count]); i += 1
                let piece = Array(stream[offset..<min(stream.count, offset + size)])
                var written = 0
                while written < piece.count {
                    let outcome = try op(.write(fd: f, bytes: Array(piece[written...])))
                    guard case .value(let n) = outcome, n > 0 else {
                        refused = refused ?? outcome.errno ?? .EIO
                        break
                    }
                    written += Int(n)
                }
                if refused != nil { break }
                offset += piece.count
            }
            return refused
        case .v1:
            return try V1Stream(self).resume(stream, segments: segments)
        }
    }
}
