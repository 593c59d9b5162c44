import Foundation
import MigconformDevice
import MigconformRun

/// The `report.json` encoding of a ``RunReport``: pretty-printed, keys sorted, and with transcripts written for
/// people to read. Each device operation is an object naming its kind (`{"op": "set-state", "deviceState": 5,
/// "state": "RUNNING_P2P"}`), each outcome names its result (`{"result": "failed", "errno": "EINVAL"}`), bulk
/// bytes are hexadecimal strings, and every transcript entry carries its one-line rendering in `text`.
/// Everything else is the result model's own Codable form. See `Reports/README.md` for the schema.
///
/// Decoding also accepts operations and outcomes in the result model's synthesized Codable form.
package enum ReportJSON {
    /// Encodes a report as `report.json` bytes (UTF-8, ending with a newline): the bytes of
    /// ``encodeWithJSONEncoder(_:)``, written by ``DocumentJSON`` without JSONEncoder. Throws only for run facts
    /// JSONEncoder refuses too (deadlines that are not finite).
    package static func encode(_ report: RunReport) throws -> Data {
        var w = DocumentJSON.Writer(pretty: true)
        w.open()
        w.array("cases", report.cases) { c, w in DocumentJSON.caseDocument(c, into: &w) }
        w.object("files", report.files) { $1.bytes.appendQuoted($0) }
        w.array("hazardsSkipped", report.hazardsSkipped, DocumentJSON.skippedHazard)
        w.member("plan", report.plan, DocumentJSON.planCost)
        w.key("run")
        try DocumentJSON.runInfo(report.run, into: &w)
        w.number("schemaVersion", report.schemaVersion)
        w.key("summary")
        DocumentJSON.runSummary(report.summary, into: &w)
        w.close()
        w.append("\n")
        return Data(w.bytes.all)
    }

    /// Encodes a report with JSONEncoder alone: the reference for ``encode(_:)``, and several times slower.
    package static func encodeWithJSONEncoder(_ report: RunReport) throws -> Data {
        var data = try DocumentJSON.makeEncoder(pretty: true).encode(ReportDocument(report))
        data.append(0x0A)
        return data
    }

    /// Decodes `report.json` bytes. Throws `DecodingError` on a wrong shape; ``ReportReader`` adds the file name
    /// and checks the schema version first.
    package static func decode(_ data: Data) throws -> RunReport {
        try JSONDecoder().decode(ReportDocument.self, from: data).report
    }
}

// MARK: - Mirror of the result model, differing only in how transcripts and reproducers are written.

struct ReportDocument: Codable {
    var schemaVersion: Int
    var run: RunInfo
    var summary: RunSummary
    var plan: PlanCost?
    var hazardsSkipped: [SkippedHazard]
    var cases: [CaseDocument]
    var files: [String: String]

    init(_ r: RunReport) {
        schemaVersion = r.schemaVersion
        run = r.run
        summary = r.summary
        plan = r.plan
        hazardsSkipped = r.hazardsSkipped
        cases = r.cases.map(CaseDocument.init)
        files = r.files
    }

    var report: RunReport {
        var r = RunReport(
            run: run, cases: cases.map { $0.result }, plan: plan, hazardsSkipped: hazardsSkipped,
            files: files)
        r.schemaVersion = schemaVersion
        r.summary = summary
        return r
    }
}

struct CaseDocument: Codable {
    var id: String
    var ruleID: String
    var level: Level
    var statement: String
    var cite: String
    var verdict: Verdict
    var message: String
    var expected: String?
    var actual: String?
    var durationMicros: UInt64
    var transcript: [EntryDocument]
    var reproducer: [EntryDocument]?
    var rawVerdict: Verdict?
    var expectation: String?
    var attempts: Int?
    var unfinished: Bool?
    var otherShard: Int?
    var notRun: NotRunReason?
    var blockedBy: String?
    var seenIn: [String]?

    init(_ c: CaseResult) {
        id = c.id
        ruleID = c.ruleID
        level = c.level
        statement = c.statement
        cite = c.cite
        verdict = c.verdict
        message = c.message
        expected = c.expected
        actual = c.actual
        durationMicros = c.durationMicros
        transcript = c.transcript.map(EntryDocument.init)
        reproducer = c.reproducer?.map(EntryDocument.init)
        rawVerdict = c.rawVerdict
        expectation = c.expectation
        attempts = c.attempts
        unfinished = c.unfinished
        otherShard = c.otherShard
        notRun = c.notRun
        blockedBy = c.blockedBy
        seenIn = c.seenIn
    }

    var result: CaseResult {
        var r = CaseResult(
            id: id, ruleID: ruleID, level: level, statement: statement, cite: cite, verdict: verdict,
            message: message, expected: expected, actual: actual, durationMicros: durationMicros,
            transcript: transcript.map { $0.entry }, reproducer: reproducer?.map { $0.entry },
            rawVerdict: rawVerdict, expectation: expectation, attempts: attempts, unfinished: unfinished,
            otherShard: otherShard)
        r.notRun = notRun ?? (verdict == .skipped ? NotRunReason(skipMessage: message) : nil)
        r.blockedBy = blockedBy
        r.seenIn = seenIn
        return r
    }
}

struct EntryDocument: Codable {
    var entry: TranscriptEntry

    init(_ entry: TranscriptEntry) { self.entry = entry }

    enum CodingKeys: String, CodingKey {
        case step, operation, outcome, transportError, micros, byteCount, data, text
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entry.step, forKey: .step)
        try c.encode(OperationDocument(entry.operation), forKey: .operation)
        try c.encodeIfPresent(entry.outcome.map { OutcomeDocument($0) }, forKey: .outcome)
        try c.encodeIfPresent(entry.transportError, forKey: .transportError)
        try c.encode(entry.micros, forKey: .micros)
        try c.encodeIfPresent(entry.byteCount, forKey: .byteCount)
        try c.encodeIfPresent(entry.data, forKey: .data)
        try c.encode(TranscriptFormatter.step(entry), forKey: .text)
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Reports of schema 1 before reproducers carried answers list bare operations there.
        guard c.contains(.step) else {
            entry = TranscriptEntry(
                step: 0, operation: try OperationDocument(from: decoder).operation, outcome: nil, micros: 0)
            return
        }
        entry = TranscriptEntry(
            step: try c.decode(Int.self, forKey: .step),
            operation: try c.decode(OperationDocument.self, forKey: .operation).operation,
            outcome: try c.decodeIfPresent(OutcomeDocument.self, forKey: .outcome)?.outcome,
            transportError: try c.decodeIfPresent(String.self, forKey: .transportError),
            micros: try c.decode(UInt64.self, forKey: .micros),
            byteCount: try c.decodeIfPresent(Int.self, forKey: .byteCount),
            data: try c.decodeIfPresent(String.self, forKey: .data))
    }
}

struct OperationDocument: Codable {
    var operation: DeviceOperation

    init(_ operation: DeviceOperation) { self.operation = operation }

    enum CodingKeys: String, CodingKey {
        case op, value, deviceState, state, fd, count, bytes, flags, request, payload, offset, width, field, index,
            interrupt, pageSize, ranges, iova, length, bitmap, device, call, access
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(operation.kind, forKey: .op)
        // An operation on a peer is written as the operation itself, with the device it was for.
        if let role = operation.peerRole { try c.encode(role, forKey: .device) }
        switch operation.local {
        case .onPeer, .onForeign: break
        case .getMigrationFlags, .getState, .getDataSize, .reset, .reopen: break
        case .feature(let flags, let payload):
            try c.encode(flags, forKey: .flags)
            try c.encode(TranscriptFormatter.featureRequest(flags), forKey: .request)
            try c.encode(PlainText.hex(payload), forKey: .payload)
        case .setState(let v):
            try c.encode(v, forKey: .deviceState)
            if v < MigrationState.count { try c.encode(TranscriptFormatter.stateName(v), forKey: .state) }
        case .read(let fd, let count):
            try c.encode(fd, forKey: .fd)
            try c.encode(count, forKey: .count)
        case .write(let fd, let bytes):
            try c.encode(fd, forKey: .fd)
            try c.encode(PlainText.hex(bytes), forKey: .bytes)
        case .close(let fd), .precopyInfo(let fd):
            try c.encode(fd, forKey: .fd)
        case .dataFD(let fd, let call):
            try c.encode(fd, forKey: .fd)
            try c.encode(DataFDCallDocument(call), forKey: .call)
        case .access(let a):
            try c.encode(DeviceAccessDocument(a), forKey: .access)
        case .configRead(let offset, let width):
            try c.encode(offset, forKey: .offset)
            try c.encode(width, forKey: .width)
        case .disableInterrupts(let index):
            try c.encode(index, forKey: .index)
            try c.encode(TranscriptFormatter.interruptIndex(index), forKey: .interrupt)
        case .regionRead(let offset, let width):
            try c.encode(offset, forKey: .offset)
            try c.encode(width, forKey: .width)
            try c.encode(TranscriptFormatter.regionField(offset), forKey: .field)
        case .regionWrite(let offset, let width, let value):
            try c.encode(offset, forKey: .offset)
            try c.encode(width, forKey: .width)
            try c.encode(value, forKey: .value)
            try c.encode(TranscriptFormatter.regionField(offset), forKey: .field)
        case .dataRead(let offset, let count):
            try c.encode(offset, forKey: .offset)
            try c.encode(count, forKey: .count)
        case .dataWrite(let offset, let bytes):
            try c.encode(offset, forKey: .offset)
            try c.encode(PlainText.hex(bytes), forKey: .bytes)
        case .dmaLoggingStart(let pageSize, let ranges):
            try c.encode(pageSize, forKey: .pageSize)
            try c.encode(ranges, forKey: .ranges)
        case .dmaLoggingStop, .regionInfo: break
        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            try c.encode(iova, forKey: .iova)
            try c.encode(length, forKey: .length)
            try c.encode(pageSize, forKey: .pageSize)
            try c.encode(PlainText.hex(bitmap), forKey: .bitmap)
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let local = try Self.decodeLocal(decoder)
        switch try c.decodeIfPresent(String.self, forKey: .device) {
        case "peer": operation = .onPeer(local)
        case "foreign": operation = .onForeign(local)
        default: operation = local
        }
    }

    static func decodeLocal(_ decoder: Decoder) throws -> DeviceOperation {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.op) else {
            return try DeviceOperation(from: decoder) // the synthesized form
        }
        let operation: DeviceOperation
        let kind = try c.decode(String.self, forKey: .op)
        func hex(_ key: CodingKeys) throws -> [UInt8] {
            let s = try c.decode(String.self, forKey: key)
            guard let b = PlainText.bytes(fromHex: s) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not hexadecimal bytes")
            }
            return b
        }
        switch kind {
        case "get-migration-flags": operation = .getMigrationFlags
        case "feature":
            operation = .feature(flags: try c.decode(UInt32.self, forKey: .flags), payload: try hex(.payload))
        case "get-state": operation = .getState
        case "set-state": operation = .setState(try c.decode(UInt32.self, forKey: .deviceState))
        case "get-data-size": operation = .getDataSize
        case "read":
            operation = .read(fd: try c.decode(Int32.self, forKey: .fd), count: try c.decode(Int.self, forKey: .count))
        case "write": operation = .write(fd: try c.decode(Int32.self, forKey: .fd), bytes: try hex(.bytes))
        case "close": operation = .close(fd: try c.decode(Int32.self, forKey: .fd))
        case "precopy-info": operation = .precopyInfo(fd: try c.decode(Int32.self, forKey: .fd))
        case "reset": operation = .reset
        case "reopen": operation = .reopen
        case "config-read":
            operation = .configRead(
                offset: try c.decode(UInt64.self, forKey: .offset),
                width: try c.decode(Int.self, forKey: .width))
        case "disable-interrupts": operation = .disableInterrupts(index: try c.decode(UInt32.self, forKey: .index))
        case "region-read":
            operation = .regionRead(
                offset: try c.decode(UInt64.self, forKey: .offset),
                width: try c.decode(Int.self, forKey: .width))
        case "region-write":
            operation = .regionWrite(
                offset: try c.decode(UInt64.self, forKey: .offset),
                width: try c.decode(Int.self, forKey: .width),
                value: try c.decode(UInt64.self, forKey: .value))
        case "data-read":
            operation = .dataRead(
                offset: try c.decode(UInt64.self, forKey: .offset),
                count: try c.decode(Int.self, forKey: .count))
        case "data-write":
            operation = .dataWrite(offset: try c.decode(UInt64.self, forKey: .offset), bytes: try hex(.bytes))
        case "dma-logging-start":
            operation = .dmaLoggingStart(
                pageSize: try c.decode(UInt64.self, forKey: .pageSize),
                ranges: try c.decode([DMARange].self, forKey: .ranges))
        case "dma-logging-stop": operation = .dmaLoggingStop
        case "region-info": operation = .regionInfo
        case "dma-logging-report":
            operation = .dmaLoggingReport(
                iova: try c.decode(UInt64.self, forKey: .iova),
                length: try c.decode(UInt64.self, forKey: .length),
                pageSize: try c.decode(UInt64.self, forKey: .pageSize), bitmap: try hex(.bitmap))
        case _ where kind.hasPrefix("access-"):
            guard let a = try c.decode(DeviceAccessDocument.self, forKey: .access).access else {
                throw DecodingError.dataCorruptedError(forKey: .access, in: c, debugDescription: "not a device access")
            }
            operation = .access(a)
        case _ where kind.hasPrefix("data-fd-"):
            guard let call = try c.decode(DataFDCallDocument.self, forKey: .call).call else {
                throw DecodingError.dataCorruptedError(forKey: .call, in: c, debugDescription: "not a data fd call")
            }
            operation = .dataFD(fd: try c.decode(Int32.self, forKey: .fd), call: call)
        default:
            throw DecodingError.dataCorruptedError(forKey: .op, in: c, debugDescription: "unknown operation '\(kind)'")
        }
        return operation
    }
}

struct OutcomeDocument: Codable {
    var outcome: DeviceOutcome

    init(_ outcome: DeviceOutcome) { self.outcome = outcome }

    enum CodingKeys: String, CodingKey {
        case result, value, deviceState, state, dataFD, bytes, initialBytes, dirtyBytes, errno
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch outcome {
        case .done:
            try c.encode("done", forKey: .result)
        case .value(let v):
            try c.encode("value", forKey: .result)
            try c.encode(v, forKey: .value)
        case .state(let s, let fd):
            try c.encode("state", forKey: .result)
            try c.encode(s, forKey: .deviceState)
            if s < MigrationState.count { try c.encode(TranscriptFormatter.stateName(s), forKey: .state) }
            try c.encode(fd, forKey: .dataFD)
        case .bytes(let b):
            try c.encode("bytes", forKey: .result)
            try c.encode(PlainText.hex(b), forKey: .bytes)
        case .precopy(let initial, let dirty):
            try c.encode("precopy", forKey: .result)
            try c.encode(initial, forKey: .initialBytes)
            try c.encode(dirty, forKey: .dirtyBytes)
        case .failed(let e):
            try c.encode("failed", forKey: .result)
            try c.encode(e, forKey: .errno)
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.result) else {
            outcome = try DeviceOutcome(from: decoder) // the synthesized form
            return
        }
        let kind = try c.decode(String.self, forKey: .result)
        switch kind {
        case "done": outcome = .done
        case "value": outcome = .value(try c.decode(UInt64.self, forKey: .value))
        case "state":
            outcome = .state(
                try c.decode(UInt32.self, forKey: .deviceState),
                dataFD: try c.decode(Int32.self, forKey: .dataFD))
        case "bytes":
            let s = try c.decode(String.self, forKey: .bytes)
            guard let b = PlainText.bytes(fromHex: s) else {
                throw DecodingError.dataCorruptedError(forKey: .bytes, in: c, debugDescription: "not hexadecimal bytes")
            }
            outcome = .bytes(b)
        case "precopy":
            outcome = .precopy(
                initialBytes: try c.decode(UInt64.self, forKey: .initialBytes),
                dirtyBytes: try c.decode(UInt64.self, forKey: .dirtyBytes))
        case "failed": outcome = .failed(try c.decode(Errno.self, forKey: .errno))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .result, in: c,
                debugDescription: "unknown result '\(kind)'")
        }
    }
}
