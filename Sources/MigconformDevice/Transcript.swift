import Foundation
import MigconformBase

/// One device operation as it happened: what was asked, what came back, and how long it took.
package struct TranscriptEntry: Codable, Hashable, Sendable {
    /// Position in the case's transcript, from 0.
    package var step: Int
    package var operation: DeviceOperation
    /// Nil when the operation never completed (a transport failure or a timeout).
    package var outcome: DeviceOutcome?
    /// What went wrong with the channel, when the outcome is nil.
    package var transportError: String?
    /// Wall time of the call, in microseconds.
    package var micros: UInt64
    /// For data transfers: how many bytes were moved (transcripts keep only the first bytes of large buffers).
    package var byteCount: Int?
    /// For a write whose bytes the transcript does not keep whole: where they came from, by name
    /// (`saved stream (4128 bytes) cut to 2064 bytes: bytes 0..2063`).
    package var data: String?

    package init(
        step: Int, operation: DeviceOperation, outcome: DeviceOutcome?, transportError: String? = nil,
        micros: UInt64, byteCount: Int? = nil, data: String? = nil
    ) {
        self.step = step
        self.operation = operation
        self.outcome = outcome
        self.transportError = transportError
        self.micros = micros
        self.byteCount = byteCount
        self.data = data
    }
}

/// Wraps a device and records every operation issued through it, in order. The runner talks to devices only
/// through a recorder, so every case carries the exact sequence that produced its verdict.
package final class RecordingDevice {
    package let device: MigrationDevice
    package private(set) var entries: [TranscriptEntry] = []
    /// Called before each operation is issued (the journal hooks in here).
    package var willPerform: ((DeviceOperation) -> Void)?
    /// Called after each operation with its transcript entry (also when it failed with a transport error).
    package var didPerform: ((TranscriptEntry) -> Void)?
    /// Total operations issued through this recorder, across all transcripts.
    package private(set) var operationCount = 0
    /// Every operation since the last reset, across cases: what a reproducer of the device's present state replays.
    /// Empty once it would have grown past ``historyLimit`` (then no faithful history is at hand). Assembled when
    /// asked (a violation needs it) from the transcripts it spans, which it shares instead of copying.
    package var sinceReset: [TranscriptEntry] {
        guard historyComplete else { return [] }
        var out: [TranscriptEntry] = []
        out.reserveCapacity(historyCount)
        for part in earlierHistory { out += part }
        out += entries[historyStart...]
        for k in out.indices { out[k].step = k }
        return out
    }
    package private(set) var historyComplete = false
    /// Every operation from the last reset before the current transcript began to the last one issued: what a
    /// reproducer of what the current transcript saw replays, even when the transcript itself resets the device
    /// after seeing it. Nil when no faithful history is at hand (it grew past ``historyLimit``).
    package var sinceTranscriptBegan: [TranscriptEntry]? {
        guard historyAtStartComplete && historyComplete else { return nil }
        var out: [TranscriptEntry] = []
        for part in resetInTranscript ? historyAtStart : earlierHistory { out += part }
        out += entries
        for k in out.indices { out[k].step = k }
        return out
    }
    /// The history as it stood when the current transcript began, kept only once a reset in the transcript would
    /// drop it (holding it always costs the recorder's appends a copy), and whether it was whole then.
    private var historyAtStart: [ArraySlice<TranscriptEntry>] = []
    private var resetInTranscript = false
    private var historyAtStartComplete = false
    /// The parts of transcripts already taken that belong to the history, in order.
    private var earlierHistory: [ArraySlice<TranscriptEntry>] = []
    /// Where the history starts in the current transcript.
    private var historyStart = 0
    private var historyCount = 0
    package static let historyLimit = 20_000
    /// Names the bytes of the next write, when its buffer is too large for the transcript to keep.
    package var nextData: String?
    /// Every operation issued, by kind: count, summed nanoseconds and bytes moved.
    package var totals: [DeviceOperation.Kind: (count: Int, nanos: UInt64, bytes: UInt64)] {
        var out: [DeviceOperation.Kind: (count: Int, nanos: UInt64, bytes: UInt64)] = [:]
        for kind in DeviceOperation.Kind.allCases where tallies[kind.ordinal].count > 0 {
            out[kind] = tallies[kind.ordinal]
        }
        return out
    }
    /// ``totals`` by ``DeviceOperation/Kind/ordinal``: one array slot per kind, so counting costs no hashing.
    private var tallies = [(count: Int, nanos: UInt64, bytes: UInt64)](
        repeating: (0, 0, 0), count: DeviceOperation.Kind.allCases.count)
    /// Nanoseconds every operation took, summed (``totals`` by kind).
    package private(set) var operationNanos: UInt64 = 0
    /// Nanoseconds spent in ``pause(microseconds:)``.
    package private(set) var pausedNanos: UInt64 = 0
    /// Failures of the channel to the device so far (``TransportError``), and the last one: a caller that let one
    /// pass (a cleanup's `try?`) still learns that nothing after it was the device's own answer.
    package private(set) var transportFailures = 0
    package private(set) var lastTransportFailure: TransportError?
    private func note(_ error: Error) {
        guard let t = error as? TransportError else { return }
        transportFailures += 1
        lastTransportFailure = t
    }

    /// Waits between two operations, for a rule that gives the driver's own work time to show; counted apart from
    /// the operations and from the runner's own time.
    package func pause(microseconds: UInt32) {
        let start = MonotonicClock.nanoseconds()
        usleep(microseconds)
        pausedNanos += MonotonicClock.nanoseconds() - start
    }
    /// Called during a summarised transfer with the bytes moved since its last entry (progress).
    package var didMove: ((UInt64) -> Void)?
    /// Transfers of at least this many bytes are summarised (``beginTransfer(_:bytes:)``).
    package static let summaryThreshold: UInt64 = 1 << 20

    /// A large transfer under way: its reads or writes that move bytes are summed up in one entry.
    private struct Transfer {
        var label: String
        var first: DeviceOperation?
        var count = 0
        var bytes: UInt64 = 0
        var nanos: UInt64 = 0
        var checksum = TransferChecksum()
    }
    private var transfer: Transfer?

    package init(_ device: MigrationDevice) { self.device = device }

    /// Starts a new transcript, returning the previous one.
    @discardableResult
    package func takeTranscript() -> [TranscriptEntry] {
        if historyComplete && historyStart < entries.count { earlierHistory.append(entries[historyStart...]) }
        historyStart = 0
        historyAtStart = []
        resetInTranscript = false
        historyAtStartComplete = historyComplete
        defer { entries = [] }
        return entries
    }

    /// The reads or writes that follow, until ``endTransfer()``, move one stream of `bytes` bytes: when that is
    /// at least ``summaryThreshold``, each run of them that moves bytes is recorded as one entry (operations,
    /// bytes, checksum, time) instead of one entry each; any other answer is recorded as itself.
    package func beginTransfer(_ label: String, bytes: UInt64) {
        endTransfer()
        if bytes >= Self.summaryThreshold { transfer = Transfer(label: label) }
    }

    /// Ends the transfer, recording the summary of what it moved since the last entry.
    package func endTransfer() {
        flushTransfer()
        transfer = nil
    }

    private func flushTransfer() {
        guard var t = transfer, let first = t.first else { return }
        let entry = TranscriptEntry(
            step: entries.count, operation: redact(first), outcome: nil, micros: t.nanos / 1000,
            byteCount: Int(clamping: t.bytes),
            data: "\(t.label): \(t.count) \(first.kind)s, \(t.bytes) bytes, checksum "
                + "\(t.checksum.hex), \(String(format: "%.3f", Double(t.nanos) / 1e9)) s")
        var summary = entry
        summary.outcome = .value(t.bytes)
        entries.append(summary)
        remember(summary)
        didPerform?(summary)
        t.first = nil
        t.count = 0
        t.bytes = 0
        t.nanos = 0
        t.checksum = TransferChecksum()
        transfer = t
    }

    /// Performs an operation on the device and records it.
    package func perform(_ op: DeviceOperation) throws -> DeviceOutcome {
        if transfer != nil, let outcome = try summarised(op) { return outcome }
        willPerform?(op)
        operationCount += 1
        let start = MonotonicClock.nanoseconds()
        do {
            let outcome = try device.perform(op)
            let nanos = MonotonicClock.nanoseconds() - start
            let micros = nanos / 1000
            let moved = byteCount(op, outcome)
            tally(op.kind, nanos, moved)
            var data: String?
            if let n = moved, n > 64, isWrite(op) { data = nextData }
            nextData = nil
            let entry = TranscriptEntry(
                step: entries.count, operation: redact(op), outcome: redact(outcome),
                micros: micros, byteCount: moved, data: data)
            entries.append(entry)
            remember(entry)
            didPerform?(entry)
            return outcome
        } catch let i as OperationInterrupted where i.notIssued {
            // The device never saw it: not an operation of the transcript, nor of a reproducer.
            operationCount -= 1
            nextData = nil
            throw i
        } catch {
            let nanos = MonotonicClock.nanoseconds() - start
            let micros = nanos / 1000
            note(error)
            tally(op.kind, nanos, nil)
            nextData = nil
            entries.append(
                TranscriptEntry(
                    step: entries.count, operation: redact(op), outcome: nil,
                    transportError: "\(error)", micros: micros))
            remember(entries[entries.count - 1])
            didPerform?(entries[entries.count - 1])
            throw error
        }
    }

    /// An operation of a summarised transfer: issued, and added to the summary when it moved bytes; nil when it
    /// is not a transfer's read or write (it is then performed and recorded as usual).
    private func summarised(_ op: DeviceOperation) throws -> DeviceOutcome? {
        switch unwrapped(op) {
        case .read, .write: break
        default:
            flushTransfer()
            return nil
        }
        // The journal learns that a transfer is under way from its first operation.
        let announced = transfer!.first == nil
        if announced { willPerform?(op) }
        operationCount += 1
        let start = MonotonicClock.nanoseconds()
        let outcome: DeviceOutcome
        do { outcome = try device.perform(op) } catch {
            // The transport failed: what moved so far is summed up, then the failed operation is recorded alone.
            let nanos = MonotonicClock.nanoseconds() - start
            note(error)
            nextData = nil
            flushTransfer()
            if !announced { willPerform?(op) }
            tally(op.kind, nanos, nil)
            entries.append(
                TranscriptEntry(
                    step: entries.count, operation: redact(op), outcome: nil,
                    transportError: "\(error)", micros: nanos / 1000))
            remember(entries[entries.count - 1])
            didPerform?(entries[entries.count - 1])
            throw error
        }
        let nanos = MonotonicClock.nanoseconds() - start
        var moved: (bytes: [UInt8], count: Int)?
        switch (unwrapped(op), outcome) {
        case (.write(_, let b), .value(let n)) where n > 0 && n <= UInt64(b.count): moved = (b, Int(n))
        case (.read, .bytes(let b)) where !b.isEmpty: moved = (b, b.count)
        default: break
        }
        guard let (bytes, count) = moved else {
            // Not a transfer of bytes (a refusal, the end of the stream): summed up so far, then recorded alone.
            operationCount -= 1
            nextData = nil
            flushTransfer()
            if !announced { willPerform?(op) }
            operationCount += 1
            tally(op.kind, nanos, byteCount(op, outcome))
            entries.append(
                TranscriptEntry(
                    step: entries.count, operation: redact(op), outcome: redact(outcome),
                    micros: nanos / 1000, byteCount: byteCount(op, outcome)))
            remember(entries[entries.count - 1])
            didPerform?(entries[entries.count - 1])
            return outcome
        }
        nextData = nil
        tally(op.kind, nanos, byteCount(op, outcome))
        if transfer!.first == nil { transfer!.first = op }
        transfer!.count += 1
        transfer!.bytes += UInt64(count)
        transfer!.nanos += nanos
        bytes.withUnsafeBytes { transfer!.checksum.add(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        didMove?(transfer!.bytes)
        return outcome
    }

    private func tally(_ kind: DeviceOperation.Kind, _ nanos: UInt64, _ bytes: Int?) {
        operationNanos += nanos
        let i = kind.ordinal
        tallies[i].count += 1
        tallies[i].nanos += nanos
        tallies[i].bytes += UInt64(bytes ?? 0)
    }

    /// Counts the entry just appended to ``entries`` into the history since the last reset (a reset starts it).
    private func remember(_ entry: TranscriptEntry) {
        if case .reset = entry.operation {
            if !resetInTranscript {
                resetInTranscript = true
                historyAtStart = earlierHistory
            }
            earlierHistory.removeAll()
            historyStart = entries.count - 1
            historyCount = 0
            historyComplete = true
        }
        guard historyComplete else { return }
        if historyCount >= Self.historyLimit {
            earlierHistory.removeAll()
            historyComplete = false
            // The history from before the transcript, not yet kept by a reset in it, is gone with it.
            if !resetInTranscript { historyAtStartComplete = false }
            return
        }
        historyCount += 1
    }

    /// A `write` to a data fd, the device's own or a peer's.
    private func isWrite(_ op: DeviceOperation) -> Bool {
        switch op {
        case .write: return true
        case .onPeer(let o), .onForeign(let o): return isWrite(o)
        default: return false
        }
    }

    /// The operation itself, out of the wrapping that sends it to a peer or the foreign device.
    private func unwrapped(_ op: DeviceOperation) -> DeviceOperation {
        switch op {
        case .onPeer(let o), .onForeign(let o): return unwrapped(o)
        default: return op
        }
    }

    private func byteCount(_ op: DeviceOperation, _ outcome: DeviceOutcome) -> Int? {
        switch (op, outcome) {
        case (.write(_, let b), _), (.dataWrite(_, let b), _): return b.count
        case (.read, .bytes(let b)), (.dataRead, .bytes(let b)): return b.count
        case (.onPeer(let o), _), (.onForeign(let o), _): return byteCount(o, outcome)
        default: return nil
        }
    }

    /// Transcripts keep byte counts, not bulk data: a large stream would swamp the report.
    private func redact(_ op: DeviceOperation) -> DeviceOperation {
        switch op {
        case .onPeer(let o): return .onPeer(redact(o))
        case .onForeign(let o): return .onForeign(redact(o))
        case .write(let fd, let bytes) where bytes.count > 64:
            return .write(fd: fd, bytes: Array(bytes.prefix(16)))
        case .dataWrite(let off, let bytes) where bytes.count > 64:
            return .dataWrite(offset: off, bytes: Array(bytes.prefix(16)))
        default: return op
        }
    }
    private func redact(_ outcome: DeviceOutcome) -> DeviceOutcome {
        if case .bytes(let b) = outcome, b.count > 64 { return .bytes(Array(b.prefix(16))) }
        return outcome
    }
}

/// A checksum of the bytes a transfer moved, in the order they moved (a ``StripeChecksum``, so it keeps up with a
/// copy): two transfers of the same bytes have the same checksum, however they were cut into calls.
package struct TransferChecksum: Sendable {
    private var sum = StripeChecksum(seed: 0x7472_616E_7366_6572)

    package init() {}

    package mutating func add(_ raw: UnsafeRawBufferPointer) { sum.add(raw) }

    /// The checksum as 16 hex digits.
    package var hex: String {
        let s = String(sum.value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
