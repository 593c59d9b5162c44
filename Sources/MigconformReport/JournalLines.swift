import MigconformDevice
import MigconformRun

/// The journal's two records per device operation (`op`, `op-end`), written without `JSONEncoder`: the same
/// bytes it writes (keys sorted, no spaces, slashes not escaped), at a fraction of the cost. A journal writes two
/// of these for every operation, so on a fast device they are most of what the journal costs.
enum JournalLines {
    /// One JSON object being assembled: keys with their values already encoded, as UTF-8 bytes (String
    /// concatenation per field cost more than the rest of a record).
    struct Object {
        private var keys: [String] = []
        private var spans: [Range<Int>] = []
        private var values: [UInt8] = []

        init() { values.reserveCapacity(128) }

        private mutating func add(_ key: String, _ write: (inout [UInt8]) -> Void) {
            let start = values.count
            write(&values)
            keys.append(key)
            spans.append(start..<values.count)
        }
        mutating func raw(_ key: String, _ json: String) { add(key) { $0.append(contentsOf: json.utf8) } }
        mutating func string(_ key: String, _ value: String) { add(key) { JournalLines.quote(value, into: &$0) } }
        mutating func number<N: BinaryInteger>(_ key: String, _ value: N) {
            add(key) { $0.append(contentsOf: String(value).utf8) }
        }
        mutating func number<N: BinaryInteger>(_ key: String, _ value: N?) { if let value { number(key, value) } }
        mutating func string(_ key: String, _ value: String?) { if let value { string(key, value) } }

        var json: String {
            // Keys sorted as JSONEncoder sorts them (insertion sort: a record has a dozen fields at most).
            var order = Array(keys.indices)
            for i in order.indices.dropFirst() {
                var j = i
                while j > 0 && keys[order[j]] < keys[order[j - 1]] {
                    order.swapAt(j, j - 1)
                    j -= 1
                }
            }
            var out: [UInt8] = []
            out.reserveCapacity(values.count + keys.count * 16 + 2)
            out.append(0x7B)
            for (n, i) in order.enumerated() {
                if n > 0 { out.append(0x2C) }
                JournalLines.quote(keys[i], into: &out)
                out.append(0x3A)
                out.append(contentsOf: values[spans[i]])
            }
            out.append(0x7D)
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// A JSON string literal as `JSONEncoder` writes it (``JSONValue/quote(_:into:)``).
    static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        JSONValue.quote(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal.
    static func quote(_ s: String, into out: inout [UInt8]) { JSONValue.quote(s, into: &out) }

    /// A JSON object written member by member in the order given (the callers give keys in sorted order, as
    /// JSONEncoder writes them): no intermediate strings and no sorting for the records written per operation.
    struct Writer {
        var bytes: [UInt8] = []
        private var first = true

        init() { bytes.reserveCapacity(256) }

        mutating func open() {
            bytes.append(0x7B)
            first = true
        }
        mutating func close() {
            bytes.append(0x7D)
            first = false
        }
        mutating func key(_ k: StaticString) {
            if !first { bytes.append(0x2C) }
            first = false
            bytes.append(0x22)
            k.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(0x22)
            bytes.append(0x3A)
        }
        mutating func string(_ k: StaticString, _ v: String) {
            key(k)
            JournalLines.quote(v, into: &bytes)
        }
        /// A member whose value is JSON already.
        mutating func raw(_ k: StaticString, _ json: String) {
            key(k)
            bytes.append(contentsOf: json.utf8)
        }
        mutating func string(_ k: StaticString, _ v: String?) { if let v { string(k, v) } }
        mutating func number<N: BinaryInteger>(_ k: StaticString, _ v: N) {
            key(k)
            bytes.append(contentsOf: String(v).utf8)
        }
        mutating func number<N: BinaryInteger>(_ k: StaticString, _ v: N?) { if let v { number(k, v) } }
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    static func operation(_ op: DeviceOperation) -> String {
        var w = Writer()
        operation(op, into: &w)
        return w.text
    }

    /// The operation as ``OperationDocument`` encodes it; each case lists its keys in sorted order.
    static func operation(_ op: DeviceOperation, into w: inout Writer) {
        // An operation on a peer is written as the operation itself, with the device it was for.
        let role = op.peerRole
        let kind = op.kind.rawValue
        w.open()
        switch op.local {
        case .onPeer, .onForeign, .getMigrationFlags, .getState, .getDataSize, .reset, .reopen, .dmaLoggingStop,
            .regionInfo:
            w.string("device", role)
            w.string("op", kind)
        case .dmaLoggingStart(let pageSize, let ranges):
            w.string("device", role)
            w.string("op", kind)
            w.number("pageSize", pageSize)
            w.key("ranges")
            w.bytes.append(
                contentsOf: ("["
                    + ranges.map { "{\"iova\":\($0.iova),\"length\":\($0.length)}" }
                    .joined(separator: ",") + "]").utf8)
        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            w.string("bitmap", PlainText.hex(bitmap))
            w.string("device", role)
            w.number("iova", iova)
            w.number("length", length)
            w.string("op", kind)
            w.number("pageSize", pageSize)
        case .feature(let flags, let payload):
            w.string("device", role)
            w.number("flags", flags)
            w.string("op", kind)
            w.string("payload", PlainText.hex(payload))
            w.string("request", TranscriptFormatter.featureRequest(flags))
        case .setState(let v):
            w.string("device", role)
            w.number("deviceState", v)
            w.string("op", kind)
            if v < MigrationState.count { w.string("state", TranscriptFormatter.stateName(v)) }
        case .read(let fd, let count):
            w.number("count", count)
            w.string("device", role)
            w.number("fd", fd)
            w.string("op", kind)
        case .write(let fd, let bytes):
            w.string("bytes", PlainText.hex(bytes))
            w.string("device", role)
            w.number("fd", fd)
            w.string("op", kind)
        case .access(let a):
            w.raw("access", DeviceAccessDocument(a).json)
            w.string("device", role)
            w.string("op", kind)
        case .dataFD(let fd, let call):
            w.raw("call", DataFDCallDocument(call).json)
            w.string("device", role)
            w.number("fd", fd)
            w.string("op", kind)
        case .close(let fd), .precopyInfo(let fd):
            w.string("device", role)
            w.number("fd", fd)
            w.string("op", kind)
        case .configRead(let offset, let width):
            w.string("device", role)
            w.number("offset", offset)
            w.string("op", kind)
            w.number("width", width)
        case .disableInterrupts(let index):
            w.string("device", role)
            w.number("index", index)
            w.string("interrupt", TranscriptFormatter.interruptIndex(index))
            w.string("op", kind)
        case .regionRead(let offset, let width):
            w.string("device", role)
            w.string("field", TranscriptFormatter.regionField(offset))
            w.number("offset", offset)
            w.string("op", kind)
            w.number("width", width)
        case .regionWrite(let offset, let width, let value):
            w.string("device", role)
            w.string("field", TranscriptFormatter.regionField(offset))
            w.number("offset", offset)
            w.string("op", kind)
            w.number("value", value)
            w.number("width", width)
        case .dataRead(let offset, let count):
            w.number("count", count)
            w.string("device", role)
            w.number("offset", offset)
            w.string("op", kind)
        case .dataWrite(let offset, let bytes):
            w.string("bytes", PlainText.hex(bytes))
            w.string("device", role)
            w.number("offset", offset)
            w.string("op", kind)
        }
        w.close()
    }

    static func outcome(_ outcome: DeviceOutcome) -> String {
        var w = Writer()
        self.outcome(outcome, into: &w)
        return w.text
    }

    /// The outcome as ``OutcomeDocument`` encodes it, keys in sorted order.
    static func outcome(_ outcome: DeviceOutcome, into w: inout Writer) {
        w.open()
        switch outcome {
        case .done: w.string("result", "done")
        case .value(let v):
            w.string("result", "value")
            w.number("value", v)
        case .state(let s, let fd):
            w.number("dataFD", fd)
            w.number("deviceState", s)
            w.string("result", "state")
            if s < MigrationState.count { w.string("state", TranscriptFormatter.stateName(s)) }
        case .bytes(let b):
            w.string("bytes", PlainText.hex(b))
            w.string("result", "bytes")
        case .precopy(let initial, let dirty):
            w.number("dirtyBytes", dirty)
            w.number("initialBytes", initial)
            w.string("result", "precopy")
        case .failed(let e):
            w.string("errno", e.name)
            w.string("result", "failed")
        }
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
    ) -> (line: String, encoded: EncodedOperation) {
        var w = Writer()
        w.open()
        w.number("byteCount", byteCount)
        w.number("index", index)
        w.key("operation")
        let start = w.bytes.count
        Self.operation(operation, into: &w)
        let json = w.bytes[start...]
        w.string("phase", phase)
        w.string("text", text)
        w.string("time", time)
        w.string("type", "op")
        w.close()
        return (w.text, EncodedOperation(operation: operation, json: json, text: text))
    }

    /// One transcript entry, as ``EntryDocument`` encodes it.
    static func entry(_ e: TranscriptEntry) -> String { entry(e, known: nil) }

    /// An operation already encoded for its `op` record: its JSON and its text, which the entry that answers it
    /// repeats (the entry's own operation must be this one).
    struct EncodedOperation {
        var operation: DeviceOperation
        var json: ArraySlice<UInt8>
        var text: String
    }

    /// One transcript entry, reusing the encoding of its operation when `known` is that operation's.
    static func entry(_ e: TranscriptEntry, known: EncodedOperation?) -> String {
        var w = Writer()
        w.open()
        w.number("byteCount", e.byteCount)
        w.string("data", e.data)
        w.number("micros", e.micros)
        w.key("operation")
        let reuse = known.map { $0.operation == e.operation } ?? false
        if reuse { w.bytes.append(contentsOf: known!.json) } else { operation(e.operation, into: &w) }
        if let out = e.outcome {
            w.key("outcome")
            outcome(out, into: &w)
        }
        w.number("step", e.step)
        w.string(
            "text",
            reuse ? TranscriptFormatter.step(e, operationText: known!.text) : TranscriptFormatter.step(e))
        w.string("transportError", e.transportError)
        w.close()
        return w.text
    }

    /// The `op-end` record: what came back (`entry`: the entry already encoded by ``entry(_:)``).
    static func opEnd(index: Int?, phase: String?, entryJSON: String) -> String {
        var w = Writer()
        w.open()
        w.key("entry")
        w.bytes.append(contentsOf: entryJSON.utf8)
        w.number("index", index)
        w.string("phase", phase)
        w.string("type", "op-end")
        w.close()
        return w.text
    }

    static func opEnd(index: Int?, phase: String?, entry e: TranscriptEntry) -> String {
        opEnd(index: index, phase: phase, entryJSON: entry(e))
    }

    /// The `case-start` record.
    static func caseStart(time: String, index: Int, id: String, attempt: Int) -> String {
        var o = Object()
        o.string("type", "case-start")
        o.string("time", time)
        o.number("index", index)
        o.string("id", id)
        o.number("attempt", attempt)
        return o.json
    }

    /// The stored properties of ``CaseDocument`` that ``caseDocument(_:entry:)`` writes; a test compares this
    /// with the type itself, so that a property added there is not silently left out of the journal.
    static let caseDocumentFields = 20

    /// A case's result as ``CaseDocument`` encodes it; `entry` encodes one transcript entry (the journal passes
    /// the lines it already wrote for the case's operations).
    static func caseDocument(_ c: CaseResult, entry: (TranscriptEntry) -> String = entry) -> String {
        func list(_ entries: [TranscriptEntry]) -> String { "[" + entries.map(entry).joined(separator: ",") + "]" }
        var o = Object()
        o.string("id", c.id)
        o.string("ruleID", c.ruleID)
        o.string("level", c.level.rawValue)
        o.string("statement", c.statement)
        o.string("cite", c.cite)
        o.string("verdict", c.verdict.rawValue)
        o.string("message", c.message)
        o.string("expected", c.expected)
        o.string("actual", c.actual)
        o.number("durationMicros", c.durationMicros)
        o.raw("transcript", list(c.transcript))
        if let r = c.reproducer { o.raw("reproducer", list(r)) }
        o.string("rawVerdict", c.rawVerdict?.rawValue)
        o.string("expectation", c.expectation)
        o.number("attempts", c.attempts)
        if let u = c.unfinished { o.raw("unfinished", u ? "true" : "false") }
        o.number("otherShard", c.otherShard)
        o.string("notRun", c.notRun?.rawValue)
        o.string("blockedBy", c.blockedBy)
        if let seen = c.seenIn { o.raw("seenIn", "[" + seen.map(quote).joined(separator: ",") + "]") }
        return o.json
    }

    /// The `case-end` record (also an amended result).
    static func caseEnd(time: String, index: Int, result: String) -> String {
        var o = Object()
        o.string("type", "case-end")
        o.string("time", time)
        o.number("index", index)
        o.raw("result", result)
        return o.json
    }
}
