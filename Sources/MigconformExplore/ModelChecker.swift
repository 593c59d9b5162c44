import MigconformDevice
import MigconformSpec

/// The spec's state machine as an executable model of a v2 device: it predicts what each ``Action`` must do, runs
/// it on the device, and reports the first mismatch. The model follows the device wherever the spec allows a choice
/// (a failed resume may stay in RESUMING or enter ERROR).
package final class ModelChecker {
    /// What the model knows about the data session.
    package enum Resume: Hashable, Sendable { case empty, valid, partial, invalid }
    package struct State: Hashable, Sendable {
        package var state: String
        /// A saving session is open and live; `saving` holds whether its bytes were all read since it opened.
        package var saving = false
        package var resuming: Resume?
        /// An ended session's fd is still open.
        package var stale = false
    }

    package let machine: Machine
    /// The device the checker talks to (replaced by a fresh one where the explorer can open one).
    var device: RecordingDevice
    let error: String
    let save: String?, resume: String?
    let unadvertised: [State]
    /// The model state after the last step.
    package private(set) var model: State
    var fd: Int32?
    var staleFD: Int32?
    var sessionBytes: [UInt8] = []
    /// The last complete save stream seen: what `writeSaved` writes.
    package var savedStream: [UInt8]?
    var resumeFD: Int32?

    package init(machine: Machine, device: RecordingDevice) {
        self.machine = machine
        self.device = device
        self.error = machine.spec.stateName(forRole: "error") ?? "ERROR"
        self.save = machine.spec.stateName(forRole: "save")
        self.resume = machine.spec.stateName(forRole: "resume")
        self.unadvertised = []
        self.model = State(state: machine.initial.name)
    }

    func value(_ name: String) -> UInt32 { machine.spec.state(named: name)!.value }
    func name(_ v: UInt32?) -> String { v.map { machine.spec.state(value: $0)?.name ?? String($0) } ?? "unreadable" }

    func get() throws -> UInt32? {
        if case .state(let s, _) = try device.perform(.getState) { return s }
        return nil
    }

    /// Resets the device and the model (the start of every sequence).
    package func start() throws -> Violation? {
        closeFDs()
        _ = try device.perform(.reset)
        model = State(state: machine.initial.name)
        let now = try get()
        if now != value(machine.initial.name) {
            return Violation(
                kind: .resetState, step: -1, action: .reset, expected: machine.initial.name, actual: name(now))
        }
        return nil
    }

    func closeFDs() {
        for f in [fd, staleFD, resumeFD].compactMap({ $0 }) { _ = try? device.perform(.close(fd: f)) }
        fd = nil
        staleFD = nil
        resumeFD = nil
    }

    /// Runs a whole sequence from reset; returns the first violation.
    package func run(_ actions: [Action]) throws -> Violation? {
        if let v = try start() { return v }
        for (i, a) in actions.enumerated() {
            if var v = try step(a) {
                v.step = i
                return v
            }
        }
        return nil
    }

    /// The actions that make sense in the current model state.
    package func actions(rejected: [(UInt32, String)], allowForbidden: Bool) -> [Action] {
        var out: [Action] = []
        if model.state != error {
            for s in machine.settableStates where allowForbidden || !machine.isForbidden(from: model.state, to: s.name)
            {
                out.append(.set(s.name))
            }
        } else {
            out.append(.set(machine.initial.name))
        }
        out += rejected.map { .setRaw($0.0, label: $0.1) }
        out.append(.reset)
        if fd != nil || staleFD != nil { out += [.read(bytes: 4096), .drain] }
        if fd != nil || resumeFD != nil { out.append(.close) }
        if resumeFD != nil && model.resuming != nil {
            if savedStream != nil { out += [.writeSaved, .writePartial] }
            out.append(.writeGarbage)
        }
        return out
    }

    /// Runs one action and checks it against the model.
    package func step(_ action: Action) throws -> Violation? {
        func violation(_ kind: ViolationKind, _ expected: String, _ actual: String) -> Violation {
            Violation(kind: kind, step: 0, action: action, expected: expected, actual: actual)
        }
        switch action {
        case .set(let target):
            let from = model.state
            let answer = try device.perform(.setState(value(target)))
            let now = try get()
            if from == error {
                if answer.succeeded || now != value(error) {
                    return violation(.errorSticky, "refused, state \(error)", "\(describe(answer)), state \(name(now))")
                }
                return nil
            }
            if from == target {
                guard case .state(_, let f) = answer, f == -1, now == value(target) else {
                    return violation(.sameState, "success without effect", "\(describe(answer)), state \(name(now))")
                }
                return nil
            }
            if machine.isForbidden(from: from, to: target) {
                if answer.succeeded || now != value(from) {
                    return violation(.forbidden, "refused, state \(from)", "\(describe(answer)), state \(name(now))")
                }
                return nil
            }
            guard let path = machine.path(from: from, to: target) else { return nil }
            let single = path.count == 1
            let leavesResume = from == resume
            if leavesResume && model.resuming != .valid {
                // Incomplete or invalid data: leaving RESUMING must fail, ending in RESUMING or ERROR.
                if answer.succeeded {
                    return violation(
                        model.resuming == .invalid ? .resumeCorrupt : .resumeIncomplete,
                        "\(from)->\(target) refused (\(model.resuming.map { "\($0)" } ?? "no") data written)",
                        "success, state \(name(now))")
                }
                guard let now, now == value(from) || now == value(error) else {
                    return violation(.resumeFailedState, "\(from) or \(error)", "state \(name(now))")
                }
                if now == value(error) {
                    model = State(state: error)
                    endSessions()
                }
                return nil
            }
            guard case .state(_, let f) = answer else {
                if leavesResume {
                    return violation(.roundTrip, "\(from)->\(target) after a complete stream", "\(describe(answer))")
                }
                return violation(
                    single ? .arcState : .combinationState, "success, state \(target)",
                    "\(describe(answer)), state \(name(now))")
            }
            if now == value(error) {
                return violation(.errorOnlyAfterFailure, "state \(target) after a successful request", "state \(error)")
            }
            if now != value(target) {
                return violation(single ? .arcState : .combinationState, "state \(target)", "state \(name(now))")
            }
            let opens = path.last!.session.opensSession
            if opens != (f >= 0) {
                return violation(
                    single ? .arcDataFD : .combinationDataFD, opens ? "a new data_fd" : "data_fd -1", "data_fd \(f)")
            }
            // Sessions along the path.
            for arc in path {
                switch arc.session {
                case .ends: endSessions()
                case .opensSave, .opensResume: endSessions()
                default: break
                }
            }
            model.state = target
            if let last = path.last, last.session == .opensSave {
                fd = f
                model.saving = true
                sessionBytes = []
            }
            if let last = path.last, last.session == .opensResume {
                resumeFD = f
                model.resuming = .empty
            }
            return nil
        case .setRaw(let v, let label):
            let from = model.state
            let answer = try device.perform(.setState(v))
            let now = try get()
            if answer.succeeded || now != value(from) {
                return violation(
                    from == error ? .errorSticky : .rejectedValue(label: label), "refused, state \(from)",
                    "\(describe(answer)), state \(name(now))")
            }
            return nil
        case .reset:
            let from = model.state
            _ = try device.perform(.reset)
            let now = try get()
            endSessions()
            model = State(state: machine.initial.name, stale: staleFD != nil)
            if now != value(machine.initial.name) {
                return violation(from == error ? .errorReset : .resetState, machine.initial.name, "state \(name(now))")
            }
            if let s = staleFD, fd == nil {
                let r = try device.perform(.read(fd: s, count: 64))
                if case .bytes(let b) = r, !b.isEmpty {
                    return violation(.resetEndsSession, "end of stream or an error on the old fd", "\(b.count) bytes")
                }
            }
            return nil
        case .read(let count):
            return try read(count: count, drain: false, violation: violation)
        case .drain:
            return try read(count: 1 << 16, drain: true, violation: violation)
        case .writeSaved, .writePartial, .writeGarbage:
            guard let r = resumeFD else { return nil }
            let bytes: [UInt8]
            switch action {
            case .writeSaved: bytes = savedStream ?? []
            case .writePartial: bytes = Array((savedStream ?? []).prefix((savedStream?.count ?? 0) / 2))
            default: bytes = [UInt8](repeating: 0xa5, count: 64)
            }
            var refused = false
            var offset = 0
            while offset < bytes.count {
                let piece = Array(bytes[offset..<min(bytes.count, offset + (1 << 16))])
                guard case .value(let n) = try device.perform(.write(fd: r, bytes: piece)), n > 0 else {
                    refused = true
                    break
                }
                offset += Int(n)
            }
            let before = model.resuming
            switch (action, before) {
            case (.writeSaved, .empty?) where !refused: model.resuming = .valid
            case (.writePartial, .empty?) where !refused: model.resuming = .partial
            default: model.resuming = .invalid
            }
            if action == .writeSaved && before == .empty && refused {
                return violation(.roundTrip, "the device takes back its own stream", "a write was refused")
            }
            return nil
        case .close:
            if let f = fd ?? resumeFD { _ = try device.perform(.close(fd: f)) }
            if fd != nil {
                fd = nil
                model.saving = false
            } else if resumeFD != nil {
                resumeFD = nil
            } // the data written so far stays with the device
            return nil
        }
    }

    /// The session the model tracks ends: its fd becomes stale (kept open, to be read once more).
    func endSessions() {
        if let f = fd {
            if let s = staleFD { _ = try? device.perform(.close(fd: s)) }
            staleFD = f
            fd = nil
        }
        if let r = resumeFD {
            _ = try? device.perform(.close(fd: r))
            resumeFD = nil
        }
        model.saving = false
        model.resuming = nil
        model.stale = staleFD != nil
    }

    func read(count: Int, drain: Bool, violation: (ViolationKind, String, String) -> Violation) throws -> Violation? {
        if let f = fd {
            let inSave = model.state == save
            var total = 0
            while true {
                let r = try device.perform(.read(fd: f, count: count))
                switch r {
                case .bytes(let b) where b.isEmpty:
                    if inSave { savedStream = sessionBytes }
                    return nil
                case .bytes(let b):
                    sessionBytes += b
                    total += b.count
                    if !drain || total > 1 << 30 { return nil }
                case .failed(.ENOMSG):
                    if inSave {
                        return violation(.streamEnd, "0 bytes at the end of the \(model.state) stream", "ENOMSG")
                    }
                    return nil
                default:
                    return nil
                }
            }
        }
        if let s = staleFD {
            let r = try device.perform(.read(fd: s, count: count))
            if case .bytes(let b) = r, !b.isEmpty {
                return violation(
                    .sessionEnded, "end of stream or an error on an ended session's fd", "\(b.count) bytes")
            }
        }
        return nil
    }
}

func describe(_ outcome: DeviceOutcome) -> String {
    switch outcome {
    case .done: return "success"
    case .value(let v): return "success (\(v))"
    case .state(_, let fd): return "success (data_fd \(fd))"
    case .bytes(let b): return "\(b.count) bytes"
    case .precopy(let i, let d): return "initial \(i), dirty \(d)"
    case .failed(let e): return e.name
    }
}
