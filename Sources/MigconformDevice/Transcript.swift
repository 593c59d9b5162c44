import Foundation

/// One device operation as it happened: what was asked, what came back, and how long it took.
public struct TranscriptEntry: Codable, Hashable, Sendable {
    /// Position in the case's transcript, from 0.
    public var step: Int
    public var operation: DeviceOperation
    /// Nil when the operation never completed (a transport failure or a timeout).
    public var outcome: DeviceOutcome?
    /// What went wrong with the channel, when the outcome is nil.
    public var transportError: String?
    /// Wall time of the call, in microseconds.
    public var micros: UInt64
    /// For data transfers: how many bytes were moved (transcripts keep only the first bytes of large buffers).
    public var byteCount: Int?
    /// For a write whose bytes the transcript does not keep whole: where they came from, by name
    /// (`saved stream (4128 bytes) cut to 2064 bytes: bytes 0..2063`).
    public var data: String?

    public init(step: Int, operation: DeviceOperation, outcome: DeviceOutcome?, transportError: String? = nil,
                micros: UInt64, byteCount: Int? = nil, data: String? = nil) {
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
public final class RecordingDevice {
    public let device: MigrationDevice
    public private(set) var entries: [TranscriptEntry] = []
    /// Called before each operation is issued (the journal hooks in here).
    public var willPerform: ((DeviceOperation) -> Void)?
    /// Called after each operation with its transcript entry (also when it failed with a transport error).
    public var didPerform: ((TranscriptEntry) -> Void)?
    /// Total operations issued through this recorder, across all transcripts.
    public private(set) var operationCount = 0
    /// Every operation since the last reset, across cases: what a reproducer of the device's present state replays.
    /// Empty once it would have grown past ``historyLimit`` (then no faithful history is at hand).
    public private(set) var sinceReset: [TranscriptEntry] = []
    public private(set) var historyComplete = false
    public static let historyLimit = 20_000
    /// Names the bytes of the next write, when its buffer is too large for the transcript to keep.
    public var nextData: String?
    /// Every operation issued, by kind: count, summed nanoseconds and bytes moved.
    public private(set) var totals: [DeviceOperation.Kind: (count: Int, nanos: UInt64, bytes: UInt64)] = [:]

    public init(_ device: MigrationDevice) { self.device = device }

    /// Starts a new transcript, returning the previous one.
    @discardableResult
    public func takeTranscript() -> [TranscriptEntry] {
        defer { entries = [] }
        return entries
    }

    /// Performs an operation on the device and records it.
    public func perform(_ op: DeviceOperation) throws -> DeviceOutcome {
        willPerform?(op)
        operationCount += 1
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let outcome = try device.perform(op)
            let nanos = DispatchTime.now().uptimeNanoseconds - start
            let micros = nanos / 1000
            tally(op.kind, nanos, byteCount(op, outcome))
            var data: String?
            if case .write(_, let b) = op, b.count > 64 { data = nextData }
            nextData = nil
            entries.append(TranscriptEntry(step: entries.count, operation: redact(op), outcome: redact(outcome),
                                           micros: micros, byteCount: byteCount(op, outcome), data: data))
            remember(entries[entries.count - 1])
            if let didPerform { didPerform(entries[entries.count - 1]) }
            return outcome
        } catch {
            let nanos = DispatchTime.now().uptimeNanoseconds - start
            let micros = nanos / 1000
            tally(op.kind, nanos, nil)
            nextData = nil
            entries.append(TranscriptEntry(step: entries.count, operation: redact(op), outcome: nil,
                                           transportError: "\(error)", micros: micros))
            remember(entries[entries.count - 1])
            didPerform?(entries[entries.count - 1])
            throw error
        }
    }

    private func tally(_ kind: DeviceOperation.Kind, _ nanos: UInt64, _ bytes: Int?) {
        var t = totals[kind] ?? (0, 0, 0)
        t.count += 1; t.nanos += nanos; t.bytes += UInt64(bytes ?? 0)
        totals[kind] = t
    }

    private func remember(_ entry: TranscriptEntry) {
        if entry.operation == .reset { sinceReset = []; historyComplete = true }
        guard historyComplete else { return }
        if sinceReset.count >= Self.historyLimit { sinceReset = []; historyComplete = false; return }
        var e = entry
        e.step = sinceReset.count
        sinceReset.append(e)
    }

    private func byteCount(_ op: DeviceOperation, _ outcome: DeviceOutcome) -> Int? {
        switch (op, outcome) {
        case (.write(_, let b), _), (.dataWrite(_, let b), _): return b.count
        case (.read, .bytes(let b)), (.dataRead, .bytes(let b)): return b.count
        default: return nil
        }
    }

    /// Transcripts keep byte counts, not bulk data: a large stream would swamp the report.
    private func redact(_ op: DeviceOperation) -> DeviceOperation {
        switch op {
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
