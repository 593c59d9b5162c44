import Foundation
import MigconformDevice
import MigconformRun

/// The journal's records (`run`, `case-start`, `case-end`, `op`, `op-end`, `run-end`), written without `JSONEncoder`:
/// the same bytes it writes (keys sorted, no spaces, slashes not escaped), at a fraction of the cost. A journal
/// writes them for every case and operation, so on a fast device they are most of what the journal costs.
enum JournalLines {
    /// The run record (``RunJournal/RunRecord``). Throws only for run facts JSONEncoder refuses too
    /// (``DocumentJSON/runInfo(_:into:)``).
    static func runRecord(_ r: RunJournal.RunRecord, into w: inout DocumentJSON.Writer) throws {
        w.open()
        w.array("hazardsSkipped", r.hazardsSkipped, DocumentJSON.skippedHazard)
        w.number("journalVersion", r.journalVersion)
        w.array("plan", r.plan) { p, w in plannedCase(p, into: &w) }
        w.key("run")
        try DocumentJSON.runInfo(r.run, into: &w)
        w.string("time", r.time)
        w.string("type", r.type)
        w.close()
    }

    /// The run-end record (``RunJournal/RunEndRecord``); throws as ``runRecord(_:into:)`` does.
    static func runEnd(time: String, run: RunInfo, plan: PlanCost?, into w: inout DocumentJSON.Writer) throws {
        w.open()
        w.member("plan", plan, DocumentJSON.planCost)
        w.key("run")
        try DocumentJSON.runInfo(run, into: &w)
        w.string("time", time)
        w.string("type", "run-end")
        w.close()
    }

    /// A case of the plan as its Codable form encodes it.
    static func plannedCase(_ p: PlannedCase, into w: inout DocumentJSON.Writer) {
        w.open()
        w.string("cite", p.cite)
        w.string("id", p.id)
        w.string("level", p.level.rawValue)
        w.string("notRun", p.notRun?.rawValue)
        w.number("otherShard", p.otherShard)
        w.string("reason", p.reason)
        w.string("ruleID", p.ruleID)
        w.string("statement", p.statement)
        w.close()
    }

    /// The `op` record: an operation about to be issued.
    static func op(
        time: String, index: Int?, phase: String?, operation: DeviceOperation, byteCount: Int?,
        text: String
    ) -> String {
        op(time: time, index: index, phase: phase, operation: operation, byteCount: byteCount, text: text).line
    }

    /// The `op` record, with the encoding of its operation for the entry that will answer it.
    static func op(
        time: String, index: Int?, phase: String?, operation: DeviceOperation, byteCount: Int?,
        text: String
    ) -> (line: String, encoded: DocumentJSON.EncodedOperation) {
        var w = DocumentJSON.Writer()
        w.open()
        w.number("byteCount", byteCount)
        w.number("index", index)
        w.key("operation")
        let start = w.bytes.count
        DocumentJSON.operation(operation, into: &w)
        let json = Array(w.bytes[start..<w.bytes.count])
        w.string("phase", phase)
        w.string("text", text)
        w.string("time", time)
        w.string("type", "op")
        w.close()
        return (w.text, DocumentJSON.EncodedOperation(operation: operation, json: json, text: text))
    }

    /// One transcript entry, as ``EntryDocument`` encodes it.
    static func entry(_ e: TranscriptEntry) -> String { entry(e, known: nil) }

    /// One transcript entry, reusing the encoding of its operation when `known` is that operation's.
    static func entry(_ e: TranscriptEntry, known: DocumentJSON.EncodedOperation?) -> String {
        var w = DocumentJSON.Writer()
        DocumentJSON.entry(e, known: known, into: &w)
        return w.text
    }

    /// The `op-end` record: what came back.
    static func opEnd(index: Int?, phase: String?, entry e: TranscriptEntry) -> String {
        var w = DocumentJSON.Writer()
        opEnd(index: index, phase: phase, into: &w) { DocumentJSON.entry(e, into: &$0) }
        return w.text
    }

    /// Appends the `op-end` record, its entry written by `entry`.
    static func opEnd(
        index: Int?, phase: String?, into w: inout DocumentJSON.Writer, entry: (inout DocumentJSON.Writer) -> Void
    ) {
        w.open()
        w.key("entry")
        entry(&w)
        w.number("index", index)
        w.string("phase", phase)
        w.string("type", "op-end")
        w.close()
    }

    /// The `case-start` record.
    static func caseStart(time: String, index: Int, id: String, attempt: Int) -> String {
        var w = DocumentJSON.Writer()
        caseStart(time: time, index: index, id: id, attempt: attempt, into: &w)
        return w.text
    }

    static func caseStart(time: String, index: Int, id: String, attempt: Int, into w: inout DocumentJSON.Writer) {
        w.open()
        w.number("attempt", attempt)
        w.string("id", id)
        w.number("index", index)
        w.string("time", time)
        w.string("type", "case-start")
        w.close()
    }

    /// A case's result as ``CaseDocument`` encodes it.
    static func caseDocument(_ c: CaseResult) -> String {
        var w = DocumentJSON.Writer()
        DocumentJSON.caseDocument(c, into: &w)
        return w.text
    }

    /// The `case-end` record (also an amended result).
    static func caseEnd(time: String, index: Int, result: String) -> String {
        var w = DocumentJSON.Writer()
        caseEnd(time: time, index: index, into: &w) { $0.bytes.append(utf8: result) }
        return w.text
    }

    /// Appends the `case-end` record, its result written by `result`.
    static func caseEnd(
        time: String, index: Int, into w: inout DocumentJSON.Writer, result: (inout DocumentJSON.Writer) -> Void
    ) {
        w.open()
        w.number("index", index)
        w.key("result")
        result(&w)
        w.string("time", time)
        w.string("type", "case-end")
        w.close()
    }
}
