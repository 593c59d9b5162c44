import Foundation
import MigconformDevice
import MigconformRun

/// The report's documents (``CaseDocument``, ``EntryDocument``, ``OperationDocument``, ``OutcomeDocument``) written
/// without `JSONEncoder`: the bytes it writes (keys sorted, strings escaped alike, slashes not escaped), compact as
/// the journal writes them or pretty-printed as `report.json` holds them, at a fraction of the cost.
enum DocumentJSON {
    /// Growable bytes whose appends cost a copy and little else (`Array.append(contentsOf:)` costs about a hundred
    /// instructions a call, and a journal record makes dozens). Methods read the properties into locals once:
    /// every access to a class's stored property may be checked for exclusivity.
    final class Bytes {
        private(set) var base: UnsafeMutablePointer<UInt8>
        private(set) var count = 0
        private var capacity: Int

        init(capacity: Int = 256) {
            self.capacity = max(capacity, 16)
            base = .allocate(capacity: self.capacity)
        }
        deinit { base.deallocate() }

        /// Room for `n` more bytes; returns where they go.
        @inline(__always) private func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
            let count = self.count
            if count + n > capacity { grow(count + n) }
            return base + count
        }
        private func grow(_ needed: Int) {
            capacity = max(needed, capacity * 2)
            let new = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
            new.update(from: base, count: count)
            base.deallocate()
            base = new
        }
        /// Copies `n` bytes: up to sixteen with two loads and two stores that may overlap, more with `memcpy`, whose
        /// call costs more than the copy of a key or a name.
        @inline(__always) private static func copy(
            _ to: UnsafeMutablePointer<UInt8>, _ from: UnsafePointer<UInt8>, _ n: Int
        ) {
            let src = UnsafeRawPointer(from)
            let dst = UnsafeMutableRawPointer(to)
            if n >= 8 && n <= 16 {
                let head = src.loadUnaligned(as: UInt64.self)
                let tail = src.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                dst.storeBytes(of: head, as: UInt64.self)
                dst.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
            } else if n >= 4 && n < 8 {
                let head = src.loadUnaligned(as: UInt32.self)
                let tail = src.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
                dst.storeBytes(of: head, as: UInt32.self)
                dst.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
            } else if n < 4 {
                for i in 0..<n { to[i] = from[i] }
            } else {
                dst.copyMemory(from: src, byteCount: n)
            }
        }
        /// Ends what was written from `reserve`'s pointer at `end`.
        @inline(__always) private func commit(_ end: UnsafeMutablePointer<UInt8>) { count = end - base }

        func removeAll() { count = 0 }
        @inline(__always) func append(_ b: UInt8) {
            let p = reserve(1)
            p.pointee = b
            commit(p + 1)
        }
        func append(_ p: UnsafeRawBufferPointer) {
            guard let from = p.baseAddress, p.count > 0 else { return }
            let to = reserve(p.count)
            Self.copy(to, from.assumingMemoryBound(to: UInt8.self), p.count)
            commit(to + p.count)
        }
        func append(_ p: UnsafeBufferPointer<UInt8>) { append(UnsafeRawBufferPointer(p)) }
        func append(_ s: StaticString) {
            guard s.hasPointerRepresentation else { return s.withUTF8Buffer { append($0) } }
            let n = s.utf8CodeUnitCount
            let p = reserve(n)
            Self.copy(p, s.utf8Start, n)
            commit(p + n)
        }
        func append(utf8 s: String) {
            var s = s
            s.withUTF8 { append($0) }
        }
        func append(contentsOf bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }
        /// `n` spaces.
        func appendSpaces(_ n: Int) {
            guard n > 0 else { return }
            let p = reserve(n + 7)
            Self.spaces(p, n)
            commit(p + n)
        }
        /// Writes `n` spaces at `p` eight at a time, without a call to `memset` for a handful of bytes: the room
        /// reserved there must reach `n` rounded up to eight.
        @inline(__always) private static func spaces(_ p: UnsafeMutablePointer<UInt8>, _ n: Int) {
            var i = 0
            while i < n {
                UnsafeMutableRawPointer(p + i).storeBytes(of: 0x2020_2020_2020_2020 as UInt64, as: UInt64.self)
                i += 8
            }
        }
        /// The end of a pretty object or array: a line break (two when it is `empty`), `indent` spaces and the
        /// bracket.
        func appendClose(_ bracket: UInt8, empty: Bool, indent: Int) {
            var p = reserve(indent + 10)
            p.pointee = 0x0A
            if empty {
                p[1] = 0x0A
                p += 1
            }
            Self.spaces(p + 1, indent)
            p += indent + 1
            p.pointee = bracket
            commit(p + 1)
        }
        /// The bytes in `range` (valid until the next append).
        subscript(range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
        }
        var all: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

        /// An object member's key, `"key":`, after a comma unless it is the first.
        func appendKey(_ k: StaticString, first: Bool) {
            commit(startMember(k, first: first, indent: nil, room: 0))
        }

        /// A pretty object member's key on a line of its own, `indent` spaces in, after a comma unless it is
        /// the first: `,\n    "key" : `.
        func appendKey(_ k: StaticString, first: Bool, indent: Int) {
            commit(startMember(k, first: first, indent: indent, room: 0))
        }

        /// A member whose value needs no escapes (``TextSink/write(plain:)``): its key as ``appendKey(_:first:)``
        /// writes it (pretty when `indent` is given) and the value as a JSON string literal, in one reservation.
        func appendMember(_ k: StaticString, plain v: StaticString, first: Bool, indent: Int?) {
            guard v.hasPointerRepresentation else {
                commit(startMember(k, first: first, indent: indent, room: 0))
                return appendQuoted(plain: v)
            }
            let n = v.utf8CodeUnitCount
            let p = startMember(k, first: first, indent: indent, room: n + 2)
            p.pointee = 0x22
            Self.copy(p + 1, v.utf8Start, n)
            p[n + 1] = 0x22
            commit(p + n + 2)
        }

        /// Reserves room for a key and `room` bytes of its value, writes the key (pretty, on a line `indent`
        /// spaces in, when `indent` is given) and returns where the value goes; the caller commits.
        @inline(__always) private func startMember(
            _ k: StaticString, first: Bool, indent: Int?, room: Int
        ) -> UnsafeMutablePointer<UInt8> {
            let n = k.utf8CodeUnitCount
            let spaces = indent ?? 0
            var p = reserve(n + spaces + 14 + room)
            if !first {
                p.pointee = 0x2C
                p += 1
            }
            if indent != nil {
                p.pointee = 0x0A
                Self.spaces(p + 1, spaces)
                p += spaces + 1
            }
            p.pointee = 0x22
            Self.copy(p + 1, k.utf8Start, n)
            p += n + 1
            guard indent != nil else {
                p[0] = 0x22
                p[1] = 0x3A
                return p + 2
            }
            // `" : `
            UnsafeMutableRawPointer(p).storeBytes(of: 0x203A_2022 as UInt32, as: UInt32.self)
            return p + 4
        }

        /// Text that needs no escapes (``TextSink/write(plain:)``) as a JSON string literal, copied as it is.
        func appendQuoted(plain s: StaticString) {
            guard s.hasPointerRepresentation else {
                append(0x22)
                append(s)
                return append(0x22)
            }
            let n = s.utf8CodeUnitCount
            let p = reserve(n + 2)
            p.pointee = 0x22
            Self.copy(p + 1, s.utf8Start, n)
            p[n + 1] = 0x22
            commit(p + n + 2)
        }

        /// `s` as a JSON string literal (``JSONValue/quote(_:into:)``).
        func appendQuoted(_ s: String) {
            append(0x22)
            appendEscaped(s)
            append(0x22)
        }

        /// `s` as the inside of a JSON string literal: copied as it is unless it needs escapes.
        func appendEscaped(_ s: String) {
            var s = s
            let clean = s.withUTF8 { buf -> Bool in
                guard Self.plain(buf) else { return false }
                append(UnsafeRawBufferPointer(buf))
                return true
            }
            if !clean {
                var out: [UInt8] = []
                JSONValue.quote(s, into: &out)
                out.withUnsafeBytes { append(UnsafeRawBufferPointer(rebasing: $0.dropFirst().dropLast())) }
            }
        }

        /// True when no byte needs an escape in a JSON string: none below 0x20, no quote, no backslash. Eight
        /// bytes at a time.
        private static func plain(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
            guard let start = buf.baseAddress else { return true }
            let raw = UnsafeRawPointer(start)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            var i = 0
            while i + 8 <= buf.count {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let quote = w ^ (ones &* 0x22)
                let backslash = w ^ (ones &* 0x5C)
                // A byte below 0x20, or one that is zero after the xor: the classic "has a byte less than n" test.
                let hit = ((w &- ones &* 0x20) & ~w) | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                if hit & highs != 0 { return false }
                i += 8
            }
            while i < buf.count {
                let b = start[i]
                if b < 0x20 || b == 0x22 || b == 0x5C { return false }
                i += 1
            }
            return true
        }

        /// An integer in decimal, as `String(v)` writes it: the digits counted by comparisons, and written two at
        /// a time from a table of the pairs.
        func appendDecimal<N: BinaryInteger>(_ v: N) {
            var n = UInt64(truncatingIfNeeded: v.magnitude)
            var digits = 1
            var bound: UInt64 = 10
            while n >= bound && digits < 20 {
                digits += 1
                bound &*= 10
            }
            var p = reserve(digits + 1)
            if v < 0 {
                p.pointee = 0x2D
                p += 1
            }
            let end = p + digits
            var i = end
            let pairs = Self.digitPairs.utf8Start
            while n >= 100 {
                let pair = Int(n % 100) &* 2
                n /= 100
                i -= 2
                i[0] = pairs[pair]
                i[1] = pairs[pair &+ 1]
            }
            if n >= 10 {
                let pair = Int(n) &* 2
                i[-2] = pairs[pair]
                i[-1] = pairs[pair &+ 1]
            } else {
                i[-1] = 0x30 &+ UInt8(truncatingIfNeeded: n)
            }
            commit(end)
        }
        private static let digitPairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """

        /// An integer in lowercase hex, as `String(v, radix: 16)` writes it.
        func appendHex<N: BinaryInteger>(_ v: N) {
            var n = UInt64(truncatingIfNeeded: v.magnitude)
            let digits = max(1, (64 - n.leadingZeroBitCount + 3) / 4)
            var p = reserve(digits + 1)
            if v < 0 {
                p.pointee = 0x2D
                p += 1
            }
            let end = p + digits
            var i = end
            repeat {
                i -= 1
                i.pointee = Self.hexDigit(n & 0xF)
                n >>= 4
            } while n > 0
            commit(end)
        }

        /// Bytes as lowercase hex digits without separators (``PlainText/hex(_:)``).
        func appendHex(bytes: some Collection<UInt8>) {
            var p = reserve(bytes.count * 2)
            for b in bytes {
                p[0] = Self.hexDigit(UInt64(b >> 4))
                p[1] = Self.hexDigit(UInt64(b & 0xF))
                p += 2
            }
            commit(p)
        }

        @inline(__always) private static func hexDigit(_ d: UInt64) -> UInt8 {
            UInt8(truncatingIfNeeded: d < 10 ? 0x30 + d : 0x57 + d)
        }
    }

    /// Text written into a JSON string literal (the caller writes its quotes), escaped as it comes.
    struct StringLiteral: TextSink {
        let bytes: Bytes
        mutating func write(_ s: String) { bytes.appendEscaped(s) }
        mutating func write(plain s: StaticString) { bytes.append(s) }
        mutating func write(decimal v: Int64) { bytes.appendDecimal(v) }
        mutating func write(decimal v: UInt64) { bytes.appendDecimal(v) }
        mutating func write(hex v: UInt64) { bytes.appendHex(v) }
        mutating func write(hexBytes: ArraySlice<UInt8>) { bytes.appendHex(bytes: hexBytes) }
    }

    /// A JSON object written member by member in the order given (the callers give keys in sorted order, as
    /// JSONEncoder writes them), straight into one byte buffer: no intermediate strings, no sorting, and a
    /// journal reuses the buffer from record to record. Copies of a writer share its buffer.
    ///
    /// A pretty writer writes what JSONEncoder's `.prettyPrinted` writes: each member and element on a line of its
    /// own, indented two spaces a level, `" : "` after keys, and an empty object or array as its brackets on two
    /// lines with an empty line between.
    struct Writer {
        let bytes = Bytes()
        private var first = true
        let pretty: Bool
        /// Objects and arrays open around what is written next.
        private var depth = 0

        init(pretty: Bool = false) { self.pretty = pretty }

        /// Empties the buffer, keeping its capacity.
        mutating func reset() {
            bytes.removeAll()
            first = true
            depth = 0
        }
        mutating func open() {
            bytes.append(0x7B)
            first = true
            depth += 1
        }
        mutating func close() { end(0x7D) }
        /// Closes an object or array with `bracket`; `first` is still true when it is empty.
        private mutating func end(_ bracket: UInt8) {
            depth -= 1
            if pretty { bytes.appendClose(bracket, empty: first, indent: depth * 2) } else { bytes.append(bracket) }
            first = false
        }
        /// Starts a member or element on its own line, after a comma unless it is the first.
        private mutating func newLine() {
            if !first { bytes.append(0x2C) }
            bytes.append(0x0A)
            bytes.appendSpaces(depth * 2)
            first = false
        }
        mutating func key(_ k: StaticString) {
            if pretty { bytes.appendKey(k, first: first, indent: depth * 2) } else { bytes.appendKey(k, first: first) }
            first = false
        }
        mutating func string(_ k: StaticString, _ v: String) {
            key(k)
            bytes.appendQuoted(v)
        }
        mutating func string(_ k: StaticString, _ v: String?) { if let v { string(k, v) } }
        mutating func number<N: BinaryInteger>(_ k: StaticString, _ v: N) {
            key(k)
            bytes.appendDecimal(v)
        }
        mutating func number<N: BinaryInteger>(_ k: StaticString, _ v: N?) { if let v { number(k, v) } }
        mutating func bool(_ k: StaticString, _ v: Bool?) {
            guard let v else { return }
            key(k)
            v ? append("true") : append("false")
        }
        /// Bytes as a string of lowercase hex digits (``PlainText/hex(_:)``), which need no escaping.
        mutating func hex(_ k: StaticString, _ v: [UInt8]) {
            key(k)
            bytes.append(0x22)
            bytes.appendHex(bytes: v)
            bytes.append(0x22)
        }
        /// An array member, each element written by `element` (which opens and closes what it writes).
        mutating func array<T>(_ k: StaticString, _ items: [T], _ element: (T, inout Writer) -> Void) {
            key(k)
            bytes.append(0x5B)
            first = true
            depth += 1
            for item in items {
                if pretty {
                    newLine()
                } else if !first {
                    bytes.append(0x2C)
                }
                first = false
                element(item, &self)
            }
            end(0x5D)
        }
        /// A member whose value is JSON that JSONEncoder wrote with the same options as this writer, at the top
        /// level: indented to where it goes here.
        mutating func encoded(_ k: StaticString, _ json: Data) {
            key(k)
            guard pretty, depth > 0 else { return json.withUnsafeBytes { bytes.append($0) } }
            // JSON strings hold no raw newlines: every newline starts a line to indent, except the empty line of
            // an empty object or array.
            let indent = depth * 2
            json.withUnsafeBytes { raw in
                var start = 0
                for (i, b) in raw.enumerated() where b == 0x0A && (i + 1 == raw.count || raw[i + 1] != 0x0A) {
                    bytes.append(UnsafeRawBufferPointer(rebasing: raw[start...i]))
                    bytes.appendSpaces(indent)
                    start = i + 1
                }
                bytes.append(UnsafeRawBufferPointer(rebasing: raw[start...]))
            }
        }
        mutating func append(_ s: StaticString) { bytes.append(s) }

        var text: String { String(decoding: bytes.all, as: UTF8.self) }

        /// A member whose key is known only at run time (a dictionary's), escaped as any string is.
        mutating func key(string k: String) {
            if pretty {
                newLine()
            } else {
                if !first { bytes.append(0x2C) }
                first = false
            }
            bytes.appendQuoted(k)
            pretty ? bytes.append(" : " as StaticString) : bytes.append(0x3A)
        }
    }

    /// The operation as ``OperationDocument`` encodes it; each case lists its keys in sorted order.
    static func operation(_ op: DeviceOperation, into w: inout Writer) {
        // An operation on a peer is written as the operation itself, with the device it was for.
        switch op {
        case .onPeer(let inner): operation(inner, device: "peer", into: &w)
        case .onForeign(let inner): operation(inner, device: "foreign", into: &w)
        default: operation(op, device: nil, into: &w)
        }
    }

    /// ``operation(_:into:)`` of the operation on `device` (nil: the device under test), named without strings
    /// made or escaped.
    private static func operation(_ op: DeviceOperation, device: StaticString?, into w: inout Writer) {
        switch op {
        // Wrapped twice: the outer wrapping names the device.
        case .onPeer(let inner), .onForeign(let inner): return operation(inner, device: device, into: &w)
        default: break
        }
        let kind = op.kind.staticName
        w.open()
        switch op {
        case .onPeer, .onForeign, .getMigrationFlags, .getState, .getDataSize, .reset, .reopen, .dmaLoggingStop,
            .regionInfo:
            w.plain("device", device)
            w.plain("op", kind)
        case .dmaLoggingStart(let pageSize, let ranges):
            w.plain("device", device)
            w.plain("op", kind)
            w.number("pageSize", pageSize)
            w.array("ranges", ranges) { r, w in
                w.open()
                w.number("iova", r.iova)
                w.number("length", r.length)
                w.close()
            }
        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            w.hex("bitmap", bitmap)
            w.plain("device", device)
            w.number("iova", iova)
            w.number("length", length)
            w.plain("op", kind)
            w.number("pageSize", pageSize)
        case .feature(let flags, let payload):
            w.plain("device", device)
            w.number("flags", flags)
            w.plain("op", kind)
            w.hex("payload", payload)
            w.string("request", TranscriptFormatter.featureRequest(flags))
        case .setState(let v):
            w.plain("device", device)
            w.number("deviceState", v)
            w.plain("op", kind)
            w.plain("state", OperationText.stateNameText(v))
        case .read(let fd, let count):
            w.number("count", count)
            w.plain("device", device)
            w.number("fd", fd)
            w.plain("op", kind)
        case .write(let fd, let bytes):
            w.hex("bytes", bytes)
            w.plain("device", device)
            w.number("fd", fd)
            w.plain("op", kind)
        case .access(let a):
            w.key("access")
            access(a, into: &w)
            w.plain("device", device)
            w.plain("op", kind)
        case .dataFD(let fd, let call):
            w.key("call")
            dataFDCall(call, into: &w)
            w.plain("device", device)
            w.number("fd", fd)
            w.plain("op", kind)
        case .close(let fd), .precopyInfo(let fd):
            w.plain("device", device)
            w.number("fd", fd)
            w.plain("op", kind)
        case .configRead(let offset, let width):
            w.plain("device", device)
            w.number("offset", offset)
            w.plain("op", kind)
            w.number("width", width)
        case .disableInterrupts(let index):
            w.plain("device", device)
            w.number("index", index)
            w.string("interrupt", TranscriptFormatter.interruptIndex(index))
            w.plain("op", kind)
        case .regionRead(let offset, let width):
            w.plain("device", device)
            regionField(offset, into: &w)
            w.number("offset", offset)
            w.plain("op", kind)
            w.number("width", width)
        case .regionWrite(let offset, let width, let value):
            w.plain("device", device)
            regionField(offset, into: &w)
            w.number("offset", offset)
            w.plain("op", kind)
            w.number("value", value)
            w.number("width", width)
        case .dataRead(let offset, let count):
            w.number("count", count)
            w.plain("device", device)
            w.number("offset", offset)
            w.plain("op", kind)
        case .dataWrite(let offset, let bytes):
            w.hex("bytes", bytes)
            w.plain("device", device)
            w.number("offset", offset)
            w.plain("op", kind)
        }
        w.close()
    }

    /// A device access as ``DeviceAccessDocument`` encodes it. Its name is a fixed word without a slash (the
    /// vocabulary tests hold it to that), so the bytes are JSONEncoder's with or without escaped slashes.
    static func access(_ a: DeviceAccess, into w: inout Writer) {
        let d = DeviceAccessDocument(a)
        w.open()
        w.number("index", d.index)
        w.string("name", d.name)
        w.number("offset", d.offset)
        w.number("value", d.value)
        w.number("width", d.width)
        w.close()
    }

    /// A data fd call as ``DataFDCallDocument`` encodes it (its name, like an access's, has no slash).
    static func dataFDCall(_ call: DataFDCall, into w: inout Writer) {
        let d = DataFDCallDocument(call)
        w.open()
        w.number("argsz", d.argsz)
        w.string("bytes", d.bytes)
        w.number("count", d.count)
        w.number("flags", d.flags)
        w.string("name", d.name)
        w.number("offset", d.offset)
        w.number("request", d.request)
        w.close()
    }

    /// The outcome as ``OutcomeDocument`` encodes it, keys in sorted order.
    static func outcome(_ outcome: DeviceOutcome, into w: inout Writer) {
        w.open()
        switch outcome {
        case .done: w.plain("result", "done")
        case .value(let v):
            w.plain("result", "value")
            w.number("value", v)
        case .state(let s, let fd):
            w.number("dataFD", fd)
            w.number("deviceState", s)
            w.plain("result", "state")
            w.plain("state", OperationText.stateNameText(s))
        case .bytes(let b):
            w.hex("bytes", b)
            w.plain("result", "bytes")
        case .precopy(let initial, let dirty):
            w.number("dirtyBytes", dirty)
            w.number("initialBytes", initial)
            w.plain("result", "precopy")
        case .failed(let e):
            if let name = OperationText.errnoName(e) { w.plain("errno", name) } else { w.string("errno", e.name) }
            w.plain("result", "failed")
        }
        w.close()
    }

    /// The name of the v1 region field at `offset`, or the offset in hex (``TranscriptFormatter/regionField(_:)``).
    private static func regionField(_ offset: UInt64, into w: inout Writer) {
        guard let name = OperationText.regionFieldName(offset) else {
            return w.string("field", TranscriptFormatter.regionField(offset))
        }
        w.plain("field", name)
    }

    /// An operation already encoded for its `op` record: its JSON and its text, which the entry that answers it
    /// repeats (the entry's own operation must be this one).
    struct EncodedOperation {
        var operation: DeviceOperation
        var json: [UInt8]
        var text: String
    }

    /// Appends one transcript entry (``EntryDocument``'s keys, sorted); without `text` when `withText` is false
    /// (a journal's `case-end` record: a reader makes the text from the entry).
    static func entry(
        _ e: TranscriptEntry, known: EncodedOperation? = nil, withText: Bool = true, into w: inout Writer
    ) {
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
        if withText {
            w.key("text")
            w.bytes.append(0x22)
            var text = StringLiteral(bytes: w.bytes)
            TranscriptFormatter.step(e, operationText: reuse ? known!.text : nil, into: &text)
            w.bytes.append(0x22)
        }
        w.string("transportError", e.transportError)
        w.close()
    }

    /// The stored properties of ``CaseDocument`` that ``caseDocument(_:entry:into:)`` writes; a test compares
    /// this with the type itself, so that a property added there is not silently left out of the journal.
    static let caseDocumentFields = 20

    /// Appends a case's result as ``CaseDocument`` encodes it (keys sorted); `entry` appends one transcript entry
    /// (the journal passes the entries it already wrote for the case's operations).
    static func caseDocument(
        _ c: CaseResult, entry: (TranscriptEntry, inout Writer) -> Void = { entry($0, into: &$1) },
        into w: inout Writer
    ) {
        w.open()
        w.string("actual", c.actual)
        w.number("attempts", c.attempts)
        w.string("blockedBy", c.blockedBy)
        w.string("cite", c.cite)
        w.number("durationMicros", c.durationMicros)
        w.string("expectation", c.expectation)
        w.string("expected", c.expected)
        w.string("id", c.id)
        w.string("level", c.level.rawValue)
        w.string("message", c.message)
        w.string("notRun", c.notRun?.rawValue)
        w.number("otherShard", c.otherShard)
        w.string("rawVerdict", c.rawVerdict?.rawValue)
        if let r = c.reproducer { w.array("reproducer", r, entry) }
        w.string("ruleID", c.ruleID)
        if let seen = c.seenIn { w.array("seenIn", seen) { $1.bytes.appendQuoted($0) } }
        w.string("statement", c.statement)
        w.array("transcript", c.transcript, entry)
        w.bool("unfinished", c.unfinished)
        w.string("verdict", c.verdict.rawValue)
        w.close()
    }
}

extension DocumentJSON.Writer {
    /// A string member whose value needs no escapes (``TextSink/write(plain:)``), copied as it is; nothing when
    /// it is nil.
    mutating func plain(_ k: StaticString, _ v: StaticString?) {
        guard let v else { return }
        bytes.appendMember(k, plain: v, first: first, indent: pretty ? depth * 2 : nil)
        first = false
    }
}
