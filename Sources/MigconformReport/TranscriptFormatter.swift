import MigconformDevice
import MigconformRun

/// Renders device operations and their outcomes as short, one-line ASCII text, the form every human-readable
/// report uses for transcripts:
///
///     set-state RUNNING_P2P -> ok state=RUNNING_P2P data_fd=-1 (12 us)
///     region-write device_state (u32) = 0x3 (SAVING|RUNNING) -> EINVAL (8 us)
///
/// v2 `device_state` values print with their names (`MigrationState`), v1 register values with their bit names,
/// errnos with their C names, and bulk data as a length and its first bytes.
package enum TranscriptFormatter {
    /// The number of leading bytes of a buffer that a rendering shows.
    package static let shownBytes = OperationText.shownBytes

    /// One transcript entry: the operation, its outcome (or why there was none) and its duration.
    package static func line(_ entry: TranscriptEntry) -> String {
        "\(text(entry)) (\(PlainText.duration(micros: entry.micros)))"
    }

    /// One transcript entry without its duration: `set-state STOP -> ok state=STOP data_fd=-1`.
    package static func text(_ entry: TranscriptEntry) -> String {
        var s = ""
        text(entry, operationText: nil, into: &s)
        return s
    }

    /// Writes ``text(_:)`` to `out`, with the text of the operation when it is already made.
    static func text(_ entry: TranscriptEntry, operationText: String?, into out: inout some TextSink) {
        operationAndData(entry, operationText: operationText, into: &out)
        if let outcome = entry.outcome {
            out.write(plain: " -> ")
            OperationText.outcome(outcome, of: entry.operation, byteCount: entry.byteCount, into: &out)
            return
        }
        out.write(plain: " -> no answer: ")
        if let error = entry.transportError { out.write(PlainText.line(error)) } else { out.write(plain: "no answer") }
    }

    /// A reproducer step: the entry as the transcript shows it, or only the operation for a positioning step whose
    /// answer was not recorded.
    package static func step(_ entry: TranscriptEntry) -> String {
        var s = ""
        step(entry, operationText: nil, into: &s)
        return s
    }

    /// Writes ``step(_:)`` to `out`, with the text of the operation when it is already made.
    static func step(_ entry: TranscriptEntry, operationText: String?, into out: inout some TextSink) {
        guard entry.outcome == nil, entry.transportError == nil else {
            return text(entry, operationText: operationText, into: &out)
        }
        operationAndData(entry, operationText: operationText, into: &out)
    }

    /// The operation (its text when already made) and the entry's data note: what a line and a step begin with.
    private static func operationAndData(
        _ entry: TranscriptEntry, operationText: String?, into out: inout some TextSink
    ) {
        if let operationText {
            out.write(operationText)
        } else {
            OperationText.operation(entry.operation, byteCount: entry.byteCount, into: &out)
        }
        if let data = entry.data {
            out.write(plain: " (")
            out.write(PlainText.line(data))
            out.write(plain: ")")
        }
    }

    /// An operation: `set-state RUNNING_P2P`, `read fd=7 count=4096` (``OperationText``).
    /// `byteCount` is the real length of a written buffer when the transcript kept only its first bytes.
    package static func operation(_ op: DeviceOperation, byteCount: Int? = nil) -> String {
        OperationText.operation(op, byteCount: byteCount)
    }

    /// An outcome, read in the light of the operation it answers (``OperationText``).
    package static func outcome(_ outcome: DeviceOutcome, of op: DeviceOperation, byteCount: Int? = nil) -> String {
        OperationText.outcome(outcome, of: op, byteCount: byteCount)
    }

    package static func stateName(_ raw: UInt32) -> String { OperationText.stateName(raw) }
    package static func v1State(_ value: UInt64) -> String { OperationText.v1State(value) }
    package static func migrationFlags(_ value: UInt64) -> String { OperationText.migrationFlags(value) }
    package static func featureRequest(_ flags: UInt32) -> String { OperationText.featureRequest(flags) }
    package static func regionField(_ offset: UInt64) -> String { OperationText.regionField(offset) }
    package static func interruptIndex(_ index: UInt32) -> String { OperationText.interruptIndex(index) }
}

extension TranscriptFormatter {
    /// The plain-text lines that describe a finding: expected, actual, message, the transcript and the reproducer
    /// (the details JUnit and LAVA attach to a non-passing case).
    package static func findingLines(_ c: CaseResult) -> [String] {
        var lines: [String] = []
        if let e = c.expected { lines.append("Expected: \(e)") }
        if let a = c.actual { lines.append("Actual: \(a)") }
        lines.append("Message: \(c.message)")
        if !c.transcript.isEmpty {
            lines.append("Transcript:")
            lines += c.transcript.map { "  \($0.step + 1). \(line($0))" }
        }
        if let rep = c.reproducer, !rep.isEmpty {
            lines.append("Reproducer (from reset):")
            lines += rep.enumerated().map { "  \($0.offset + 1). \(step($0.element))" }
        }
        return lines
    }
}
