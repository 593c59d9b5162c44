import MigconformCases
import MigconformDevice
import MigconformSpec

/// What replaying one case of a report showed.
package struct ReplayOutcome: Sendable {
    /// The case's result now.
    package var now: CaseResult
    /// The case that was run to see it: the case itself, or the one during which its violation was seen.
    package var ran: String
    /// The recorded failure (FAIL, WARN, TIMEOUT, ERROR) happened again, with the same verdict.
    package var reproduced: Bool
    /// Other cases the run judged failing: rules the replayed case saw broken (a block's cause among them).
    package var elsewhere: [CaseResult] = []
}

/// Runs one case of a report again on a device: the case itself from a reset, or, for a violation seen while
/// another case ran (`seenIn`), that case, whose run judges the violation under this case's rule again.
package enum Replay {
    package static let failing: Set<Verdict> = [.fail, .warn, .timeout, .error]

    /// `peer` and `foreign` are the other devices of the two-device rules, when the replay has them.
    package static func run(
        _ recorded: CaseResult, of report: RunReport, spec: Spec, device: MigrationDevice,
        target: String, peer: (target: String, device: MigrationDevice)? = nil,
        foreign: (target: String, device: MigrationDevice)? = nil
    ) throws -> ReplayOutcome? {
        let ran = recorded.seenIn?.first ?? recorded.id
        // The case itself and the one that saw its violation; host health speaks for a whole run.
        let hostHealth = spec.rules.first { $0.id == recorded.ruleID }?.check.judgedAtEndOfRun == true
        let only = hostHealth ? [] : Array(Set([recorded.id, ran]))
        let options = RunOptions(
            target: target,
            expansion: ExpansionOptions(
                only: only, variants: Set(report.run.variants),
                allowedHazards: Set(report.run.allowedHazards)))
        let again = try Runner(spec: spec, device: device, options: options, peer: peer, foreign: foreign).run()
        guard let now = again.cases.first(where: { $0.id == recorded.id }) else { return nil }
        let reproduced = failing.contains(recorded.deviceVerdict) && now.deviceVerdict == recorded.deviceVerdict
        let elsewhere = again.cases.filter { $0.id != recorded.id && failing.contains($0.verdict) }
        return ReplayOutcome(now: now, ran: ran, reproduced: reproduced, elsewhere: elsewhere)
    }
}

/// Sends the operations of a reproducer to a device again, exactly as recorded, and holds each answer against the
/// recorded one: what a failure that depends on what earlier cases did needs, since running its case again from a
/// reset does not repeat them. Data fds are numbered afresh by the device: a number the record names is the one the
/// device handed out at the same step now.
package enum SequenceReplay {
    package struct Outcome: Sendable {
        /// Operations sent.
        package var sent: Int
        /// The first step whose answer differs from the record (numbered from 1, as `report.md` numbers a
        /// reproducer): its text, what was recorded, what came now.
        package var divergence: (step: Int, operation: String, recorded: String, now: String)?
        /// Why the sequence cannot be sent as recorded (nil when it was sent).
        package var unsendable: String?
        /// Bytes written into a resume session were the record's own, not saved again now: a failure in what the
        /// device saved would answer the same on any device.
        package var recordedData = false
    }

    /// The device's saved stream (STOP_COPY from reset), saved again from another device like the target: what a
    /// write the record keeps only in part wrote, when its data note names a range of that stream. Nil when it
    /// cannot be had.
    package typealias SavedStreamSource = () throws -> [UInt8]?

    /// `others`: the roles (`peer`, `foreign`) the device, a ``PeeredDevice``, has a device for; the record's
    /// operations on them go there.
    /// `resumeState`: the value of the resume state, whose sessions take stream data.
    package static func run(
        _ entries: [TranscriptEntry], on device: MigrationDevice, savedStream: SavedStreamSource? = nil,
        others: Set<String> = [], resumeState: UInt32? = nil
    ) throws -> Outcome {
        for (k, e) in entries.enumerated() {
            if let why = whyUnsendable(e, rebuilding: savedStream != nil, others: others) {
                return Outcome(sent: 0, unsendable: "step \(k + 1) \(why)")
            }
        }
        var stream: [UInt8]??
        // Each device numbers its fds on its own: one map for each, and the resume sessions' fds of each.
        var fds: [Lane: [Int32: Int32]] = [:]
        var resumeFDs: [Lane: Set<Int32>] = [:]
        var recordedData = false
        for (k, e) in entries.enumerated() {
            let lane = Lane(e.operation)
            var op = mapped(e.operation, fds[lane] ?? [:])
            if case .write(let recordedFD, let kept) = Lane.inner(e.operation) {
                let intoResume = resumeFDs[lane]?.contains(recordedFD) == true
                if let range = savedStreamRange(e), (e.byteCount ?? 0) > kept.count {
                    if stream == nil { stream = .some(try savedStream?()) }
                    guard let whole = stream ?? nil, range.total == whole.count, range.last < whole.count,
                        whole[range.first...range.last].starts(with: kept),
                        case .write(let fd, _) = Lane.inner(op)
                    else {
                        return Outcome(
                            sent: k,
                            divergence: (
                                k + 1, OperationText.operation(e.operation, byteCount: e.byteCount),
                                "the saved stream of \(range.total) bytes",
                                "a saved stream that differs (its length or first bytes)"
                            ))
                    }
                    op = lane.wrap(.write(fd: fd, bytes: Array(whole[range.first...range.last])))
                } else if intoResume && !kept.isEmpty {
                    recordedData = true
                }
            }
            let now: DeviceOutcome
            do { now = try device.perform(op) } catch {
                return Outcome(
                    sent: k + 1,
                    divergence: (
                        k + 1, OperationText.operation(e.operation, byteCount: e.byteCount), answer(e.outcome, e),
                        "no answer: \(error)"
                    ))
            }
            if case .state(let state, let recordedFD) = e.outcome, case .state(_, let fd) = now, recordedFD >= 0,
                fd >= 0
            {
                fds[lane, default: [:]][recordedFD] = fd
                if state == resumeState { resumeFDs[lane, default: []].insert(recordedFD) }
            }
            guard same(e, now) else {
                return Outcome(
                    sent: k + 1,
                    divergence: (
                        k + 1, OperationText.operation(e.operation, byteCount: e.byteCount), answer(e.outcome, e),
                        answer(now, e)
                    ))
            }
        }
        return Outcome(sent: entries.count, recordedData: recordedData)
    }

    /// Why a recorded entry cannot be sent again as it was: bytes the record does not keep, a device that is not
    /// the target, an operation that never got an answer.
    /// With `rebuilding`, a write of a range of the saved stream (``savedStreamRange(_:)``) can be sent.
    package static func whyUnsendable(
        _ e: TranscriptEntry, rebuilding: Bool = false, others: Set<String> = []
    ) -> String? {
        switch Lane(e.operation) {
        case .peer where !others.contains("peer"): return "is an operation on a peer, which replay does not have"
        case .foreign where !others.contains("foreign"):
            return "is an operation on a foreign device, which replay does not have"
        default: break
        }
        switch Lane.inner(e.operation) {
        case .write(_, let b) where (e.byteCount ?? b.count) > b.count:
            if rebuilding && savedStreamRange(e) != nil { break }
            return "wrote \(e.byteCount!) bytes, of which the report keeps the first \(b.count)"
        case .dataWrite(_, let b) where (e.byteCount ?? b.count) > b.count:
            return "wrote \(e.byteCount!) bytes, of which the report keeps the first \(b.count)"
        default: break
        }
        if e.outcome == nil { return "got no answer when it was recorded (\(e.transportError ?? "no answer"))" }
        if case .read(_, let n) = Lane.inner(e.operation), let moved = e.byteCount, moved > 0, case .value = e.outcome,
            n > 0
        {
            return "is a summary of a transfer of \(moved) bytes, not one operation"
        }
        return nil
    }

    /// The range of the device's saved stream a write wrote, from its data note
    /// (`the saved stream (4128 bytes): bytes 0..4127`); nil for any other source (a stream read partly in
    /// pre-copy, a cut or patched view, another device's stream).
    static func savedStreamRange(_ e: TranscriptEntry) -> (total: Int, first: Int, last: Int)? {
        guard let note = e.data, note.hasPrefix("the saved stream ("), let close = note.firstIndex(of: ")") else {
            return nil
        }
        let head = note[note.index(note.startIndex, offsetBy: 18)..<close]
        guard head.hasSuffix(" bytes"), let total = Int(head.dropLast(6)) else { return nil }
        let tail = note[note.index(after: close)...]
        guard tail.hasPrefix(": bytes ") else { return nil }
        let bounds = tail.dropFirst(8).split(separator: ".", omittingEmptySubsequences: true)
        guard bounds.count == 2, let first = Int(bounds[0]), let last = Int(bounds[1]), first <= last,
            last - first + 1 == e.byteCount
        else { return nil }
        return (total, first, last)
    }

    /// Saves `device`'s stream from reset through the states of `path` (the spec's, from the initial state to its
    /// save state), read to its end (at most 1 GiB), the session closed and the device reset after. Nil when a step
    /// fails.
    package static func saveStream(_ device: MigrationDevice, path: [UInt32]) throws -> [UInt8]? {
        guard let last = path.last, try device.perform(.reset).errno == nil else { return nil }
        for state in path.dropLast() where try device.perform(.setState(state)).errno != nil { return nil }
        guard case .state(_, let fd) = try device.perform(.setState(last)), fd >= 0 else { return nil }
        defer {
            _ = try? device.perform(.close(fd: fd))
            _ = try? device.perform(.reset)
        }
        var out: [UInt8] = []
        while out.count <= 1 << 30 {
            guard case .bytes(let b) = try device.perform(.read(fd: fd, count: 1 << 20)) else { return nil }
            if b.isEmpty { return out }
            out += b
        }
        return nil
    }

    /// Which device an operation goes to.
    enum Lane: Hashable {
        case device, peer, foreign
        init(_ op: DeviceOperation) {
            switch op {
            case .onPeer: self = .peer
            case .onForeign: self = .foreign
            default: self = .device
            }
        }
        /// The operation out of its wrapping.
        static func inner(_ op: DeviceOperation) -> DeviceOperation {
            switch op {
            case .onPeer(let o), .onForeign(let o): return o
            default: return op
            }
        }
        func wrap(_ op: DeviceOperation) -> DeviceOperation {
            switch self {
            case .device: return op
            case .peer: return .onPeer(op)
            case .foreign: return .onForeign(op)
            }
        }
    }

    /// The operation with the record's fd numbers replaced by the ones its device handed out now.
    static func mapped(_ op: DeviceOperation, _ fds: [Int32: Int32]) -> DeviceOperation {
        func m(_ fd: Int32) -> Int32 { fds[fd] ?? fd }
        switch op {
        case .onPeer(let o): return .onPeer(mapped(o, fds))
        case .onForeign(let o): return .onForeign(mapped(o, fds))
        case .read(let fd, let count): return .read(fd: m(fd), count: count)
        case .write(let fd, let bytes): return .write(fd: m(fd), bytes: bytes)
        case .close(let fd): return .close(fd: m(fd))
        case .precopyInfo(let fd): return .precopyInfo(fd: m(fd))
        case .dataFD(let fd, let call): return .dataFD(fd: m(fd), call: call)
        default: return op
        }
    }

    /// Answers alike but for the numbers of new data fds (both a new fd, or both none), and, for bytes the record
    /// keeps only the first of, as far as it keeps them and in their number.
    static func same(_ recorded: TranscriptEntry, _ now: DeviceOutcome) -> Bool {
        switch (recorded.outcome, now) {
        case (.state(let a, let fa)?, .state(let b, let fb)): return a == b && (fa >= 0) == (fb >= 0)
        case (.bytes(let kept)?, .bytes(let b)) where (recorded.byteCount ?? kept.count) > kept.count:
            return b.count == recorded.byteCount && b.prefix(kept.count).elementsEqual(kept)
        default: return recorded.outcome == now
        }
    }

    static func answer(_ o: DeviceOutcome?, _ e: TranscriptEntry) -> String {
        o.map { OperationText.outcome($0, of: e.operation, byteCount: e.byteCount) } ?? "no answer"
    }
}
