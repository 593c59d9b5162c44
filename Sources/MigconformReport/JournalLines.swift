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
                while j > 0 && keys[order[j]] < keys[order[j - 1]] { order.swapAt(j, j - 1); j -= 1 }
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

    /// A JSON string literal as `JSONEncoder` writes it (with `.withoutEscapingSlashes`).
    static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        quote(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal.
    static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var plain = s
        let clean = plain.withUTF8 { buf -> Bool in
            // Most strings need no escape: copied as they are.
            guard !buf.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            out.append(contentsOf: buf)
            return true
        }
        if !clean {
            for u in s.unicodeScalars {
                switch u {
                case "\"": out.append(contentsOf: [0x5C, 0x22])
                case "\\": out.append(contentsOf: [0x5C, 0x5C])
                case "\n": out.append(contentsOf: [0x5C, 0x6E])
                case "\r": out.append(contentsOf: [0x5C, 0x72])
                case "\t": out.append(contentsOf: [0x5C, 0x74])
                case "\u{08}": out.append(contentsOf: [0x5C, 0x62])
                case "\u{0C}": out.append(contentsOf: [0x5C, 0x66])
                default:
                    if u.value < 0x20 {
                        let h = String(u.value, radix: 16)
                        out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - h.count) + h).utf8)
                    } else {
                        out.append(contentsOf: String(u).utf8)
                    }
                }
            }
        }
        out.append(0x22)
    }

    static func operation(_ op: DeviceOperation) -> String {
        var o = Object()
        o.string("op", op.kind)
        // An operation on a peer is written as the operation itself, with the device it was for.
        if let role = op.peerRole { o.string("device", role) }
        switch op.local {
        case .onPeer, .onForeign: break
        case .getMigrationFlags, .getState, .getDataSize, .reset, .dmaLoggingStop: break
        case .dmaLoggingStart(let pageSize, let ranges):
            o.number("pageSize", pageSize)
            o.raw("ranges", "[" + ranges.map { "{\"iova\":\($0.iova),\"length\":\($0.length)}" }.joined(separator: ",") + "]")
        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            o.number("iova", iova); o.number("length", length); o.number("pageSize", pageSize)
            o.string("bitmap", PlainText.hex(bitmap))
        case .feature(let flags, let payload):
            o.number("flags", flags)
            o.string("request", TranscriptFormatter.featureRequest(flags))
            o.string("payload", PlainText.hex(payload))
        case .setState(let v):
            o.number("deviceState", v)
            if v < MigrationState.count { o.string("state", TranscriptFormatter.stateName(v)) }
        case .read(let fd, let count):
            o.number("fd", fd); o.number("count", count)
        case .write(let fd, let bytes):
            o.number("fd", fd); o.string("bytes", PlainText.hex(bytes))
        case .close(let fd), .precopyInfo(let fd):
            o.number("fd", fd)
        case .configRead(let offset, let width):
            o.number("offset", offset); o.number("width", width)
        case .disableInterrupts(let index):
            o.number("index", index)
            o.string("interrupt", TranscriptFormatter.interruptIndex(index))
        case .regionRead(let offset, let width):
            o.number("offset", offset); o.number("width", width)
            o.string("field", TranscriptFormatter.regionField(offset))
        case .regionWrite(let offset, let width, let value):
            o.number("offset", offset); o.number("width", width); o.number("value", value)
            o.string("field", TranscriptFormatter.regionField(offset))
        case .dataRead(let offset, let count):
            o.number("offset", offset); o.number("count", count)
        case .dataWrite(let offset, let bytes):
            o.number("offset", offset); o.string("bytes", PlainText.hex(bytes))
        }
        return o.json
    }

    static func outcome(_ outcome: DeviceOutcome) -> String {
        var o = Object()
        switch outcome {
        case .done: o.string("result", "done")
        case .value(let v): o.string("result", "value"); o.number("value", v)
        case .state(let s, let fd):
            o.string("result", "state"); o.number("deviceState", s)
            if s < MigrationState.count { o.string("state", TranscriptFormatter.stateName(s)) }
            o.number("dataFD", fd)
        case .bytes(let b): o.string("result", "bytes"); o.string("bytes", PlainText.hex(b))
        case .precopy(let initial, let dirty):
            o.string("result", "precopy"); o.number("initialBytes", initial); o.number("dirtyBytes", dirty)
        case .failed(let e): o.string("result", "failed"); o.string("errno", e.name)
        }
        return o.json
    }

    /// The `op` record: an operation about to be issued.
    static func op(time: String, index: Int?, phase: String?, operation: DeviceOperation, byteCount: Int?,
                   text: String) -> String {
        var o = Object()
        o.string("type", "op"); o.string("time", time); o.number("index", index); o.string("phase", phase)
        o.raw("operation", Self.operation(operation)); o.number("byteCount", byteCount); o.string("text", text)
        return o.json
    }

    /// One transcript entry, as ``EntryDocument`` encodes it.
    static func entry(_ e: TranscriptEntry) -> String {
        var entry = Object()
        entry.number("step", e.step)
        entry.raw("operation", operation(e.operation))
        if let out = e.outcome { entry.raw("outcome", outcome(out)) }
        entry.string("transportError", e.transportError)
        entry.number("micros", e.micros)
        entry.number("byteCount", e.byteCount)
        entry.string("data", e.data)
        entry.string("text", TranscriptFormatter.step(e))
        return entry.json
    }

    /// The `op-end` record: what came back (`entry`: the entry already encoded by ``entry(_:)``).
    static func opEnd(index: Int?, phase: String?, entryJSON: String) -> String {
        var o = Object()
        o.string("type", "op-end"); o.number("index", index); o.string("phase", phase); o.raw("entry", entryJSON)
        return o.json
    }

    static func opEnd(index: Int?, phase: String?, entry e: TranscriptEntry) -> String {
        opEnd(index: index, phase: phase, entryJSON: entry(e))
    }

    /// The `case-start` record.
    static func caseStart(time: String, index: Int, id: String, attempt: Int) -> String {
        var o = Object()
        o.string("type", "case-start"); o.string("time", time); o.number("index", index); o.string("id", id)
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
        o.string("id", c.id); o.string("ruleID", c.ruleID); o.string("level", c.level)
        o.string("statement", c.statement); o.string("cite", c.cite); o.string("verdict", c.verdict.rawValue)
        o.string("message", c.message); o.string("expected", c.expected); o.string("actual", c.actual)
        o.number("durationMicros", c.durationMicros)
        o.raw("transcript", list(c.transcript))
        if let r = c.reproducer { o.raw("reproducer", list(r)) }
        o.string("rawVerdict", c.rawVerdict?.rawValue); o.string("expectation", c.expectation)
        o.number("attempts", c.attempts)
        if let u = c.unfinished { o.raw("unfinished", u ? "true" : "false") }
        o.number("otherShard", c.otherShard); o.string("notRun", c.notRun?.rawValue)
        o.string("blockedBy", c.blockedBy)
        if let seen = c.seenIn { o.raw("seenIn", "[" + seen.map(quote).joined(separator: ",") + "]") }
        return o.json
    }

    /// The `case-end` record (also an amended result).
    static func caseEnd(time: String, index: Int, result: String) -> String {
        var o = Object()
        o.string("type", "case-end"); o.string("time", time); o.number("index", index); o.raw("result", result)
        return o.json
    }
}
