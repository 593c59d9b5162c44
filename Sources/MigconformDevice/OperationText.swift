/// The one text of device operations and outcomes: short, one-line ASCII, as every transcript, message and report
/// shows them (`set-state RUNNING_P2P`, `read fd=7 count=4096`, `ok state=STOP data_fd=-1`, `EINVAL`).
///
/// v2 `device_state` values print with their names (`MigrationState`), v1 register values with their bit names,
/// errnos with their C names, and bulk data as a length and its first bytes.
package enum OperationText {
    /// The number of leading bytes of a buffer that a rendering shows.
    package static let shownBytes = 8

    /// An operation: `set-state RUNNING_P2P`, `read fd=7 count=4096`, `region-read pending_bytes (u64)`.
    /// `byteCount` is the real length of a written buffer when the transcript kept only its first bytes.
    package static func operation(_ op: DeviceOperation, byteCount: Int? = nil) -> String {
        var s = ""
        operation(op, byteCount: byteCount, into: &s)
        return s
    }

    /// Writes ``operation(_:byteCount:)``'s text to `out`.
    package static func operation(
        _ op: DeviceOperation, byteCount: Int? = nil, into out: inout some TextSink
    ) {
        switch op {
        case .onPeer(let inner):
            out.write(plain: "peer: ")
            operation(inner, byteCount: byteCount, into: &out)
        case .onForeign(let inner):
            out.write(plain: "foreign: ")
            operation(inner, byteCount: byteCount, into: &out)
        case .getMigrationFlags: out.write(plain: "get-migration-flags")
        case .feature(let flags, let payload):
            out.write(plain: "feature ")
            featureRequest(flags, into: &out)
            if !payload.isEmpty {
                out.write(plain: " payload=")
                bytes(payload, total: payload.count, into: &out)
            }
        case .getState: out.write(plain: "get-state")
        case .setState(let v):
            out.write(plain: "set-state ")
            stateName(v, into: &out)
        case .getDataSize: out.write(plain: "get-data-size")
        case .read(let fd, let count):
            out.write(plain: "read fd=")
            out.write(decimal: fd)
            out.write(plain: " count=")
            out.write(decimal: count)
        case .write(let fd, let b):
            out.write(plain: "write fd=")
            out.write(decimal: fd)
            out.write(plain: " ")
            bytes(b, total: byteCount ?? b.count, into: &out)
        case .close(let fd):
            out.write(plain: "close fd=")
            out.write(decimal: fd)
        case .precopyInfo(let fd):
            out.write(plain: "precopy-info fd=")
            out.write(decimal: fd)
        case .dataFD(let fd, let call):
            out.write(call.name)
            out.write(plain: " fd=")
            out.write(decimal: fd)
            for argument in call.arguments {
                out.write(plain: " ")
                out.write(argument)
            }
        case .reset: out.write(plain: "reset")
        case .reopen: out.write(plain: "reopen")
        case .configRead(let offset, let width):
            out.write(plain: "config-read offset=0x")
            out.write(hex: offset)
            widthNote(width, into: &out)
        case .disableInterrupts(let index):
            out.write(plain: "disable-interrupts ")
            interruptIndex(index, into: &out)
        case .access(.configWrite(let offset, let width, let value)):
            out.write(plain: "config-write offset=0x")
            out.write(hex: offset)
            widthNote(width, into: &out)
            out.write(plain: " = 0x")
            out.write(hex: value)
        case .access(.barRead(let index, let offset, let width)):
            out.write(plain: "bar-read BAR")
            out.write(decimal: index)
            out.write(plain: " offset=0x")
            out.write(hex: offset)
            widthNote(width, into: &out)
        case .access(.enableInterrupts(let index)):
            out.write(plain: "enable-interrupts ")
            interruptIndex(index, into: &out)
            out.write(plain: " (eventfd)")
        case .regionRead(let offset, let width):
            out.write(plain: "region-read ")
            regionField(offset, into: &out)
            widthNote(width, into: &out)
        case .regionWrite(let offset, let width, let value):
            out.write(plain: "region-write ")
            regionField(offset, into: &out)
            widthNote(width, into: &out)
            out.write(plain: " = ")
            regionValue(offset, value, into: &out)
        case .dataRead(let offset, let count):
            out.write(plain: "data-read offset=0x")
            out.write(hex: offset)
            out.write(plain: " count=")
            out.write(decimal: count)
        case .dataWrite(let offset, let b):
            out.write(plain: "data-write offset=0x")
            out.write(hex: offset)
            out.write(plain: " ")
            bytes(b, total: byteCount ?? b.count, into: &out)
        case .regionInfo: out.write(plain: "region-info")
        case .dmaLoggingStart(let pageSize, let ranges):
            out.write(plain: "dma-logging-start page_size=")
            out.write(decimal: pageSize)
            out.write(plain: " ")
            dmaRanges(ranges, into: &out)
        case .dmaLoggingStop: out.write(plain: "dma-logging-stop")
        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            out.write(plain: "dma-logging-report iova=0x")
            out.write(hex: iova)
            out.write(plain: " length=0x")
            out.write(hex: length)
            out.write(plain: " page_size=")
            out.write(decimal: pageSize)
            out.write(plain: " bitmap=")
            out.write(decimal: bitmap.count)
            out.write(plain: " bytes, ")
            out.write(decimal: setBits(bitmap))
            out.write(plain: " bits set")
        }
    }

    /// Migration region flags as `0x7 (READ|WRITE|MMAP)`.
    static func regionFlags(_ v: UInt64) -> String {
        var s = ""
        regionFlags(v, into: &s)
        return s
    }

    static func regionFlags(_ v: UInt64, into out: inout some TextSink) {
        out.write(plain: "0x")
        out.write(hex: v)
        var bar = false
        for (flag, name): (UInt64, StaticString) in [
            (RegionV1.flagRead, "READ"), (RegionV1.flagWrite, "WRITE"), (RegionV1.flagMmap, "MMAP"),
        ] where v & flag != 0 {
            out.write(plain: bar ? "|" : " (")
            out.write(plain: name)
            bar = true
        }
        if bar { out.write(plain: ")") }
    }

    /// IOVA ranges as `[0x100000000+0x200000]`, or their count and the first when there are many.
    static func dmaRanges(_ ranges: [DMARange]) -> String {
        var s = ""
        dmaRanges(ranges, into: &s)
        return s
    }

    static func dmaRanges(_ ranges: [DMARange], into out: inout some TextSink) {
        func one(_ r: DMARange) {
            out.write(plain: "0x")
            out.write(hex: r.iova)
            out.write(plain: "+0x")
            out.write(hex: r.length)
        }
        if ranges.isEmpty { return out.write(plain: "ranges=[] (none)") }
        if ranges.count <= 4 {
            out.write(plain: "ranges=[")
            for (i, r) in ranges.enumerated() {
                if i > 0 { out.write(plain: ", ") }
                one(r)
            }
            return out.write(plain: "]")
        }
        out.write(plain: "ranges=")
        out.write(decimal: ranges.count)
        out.write(plain: " [")
        one(ranges[0])
        out.write(plain: ", ..., ")
        one(ranges[ranges.count - 1])
        out.write(plain: "]")
    }

    static func setBits(_ bitmap: [UInt8]) -> Int { bitmap.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// An outcome, read in the light of the operation it answers: `ok state=STOP data_fd=-1`, `EINVAL`,
    /// `ok flags=0x3 (STOP_COPY|P2P)`, `ok 0 bytes (end of stream)`.
    package static func outcome(_ outcome: DeviceOutcome, of op: DeviceOperation, byteCount: Int? = nil) -> String {
        var s = ""
        self.outcome(outcome, of: op, byteCount: byteCount, into: &s)
        return s
    }

    /// Writes ``outcome(_:of:byteCount:)``'s text to `out`.
    package static func outcome(
        _ outcome: DeviceOutcome, of op: DeviceOperation, byteCount: Int? = nil, into out: inout some TextSink
    ) {
        switch op {
        // An answer from a peer reads as the answer to the operation itself.
        case .onPeer(let inner), .onForeign(let inner):
            return self.outcome(outcome, of: inner, byteCount: byteCount, into: &out)
        default: break
        }
        switch outcome {
        case .done: out.write(plain: "ok")
        case .failed(let e):
            if let name = errnoName(e) { out.write(plain: name) } else { out.write(e.name) }
        case .state(let s, let fd):
            out.write(plain: "ok state=")
            stateName(s, into: &out)
            out.write(plain: " data_fd=")
            out.write(decimal: fd)
        case .precopy(let initial, let dirty):
            out.write(plain: "ok initial_bytes=")
            out.write(decimal: initial)
            out.write(plain: " dirty_bytes=")
            out.write(decimal: dirty)
        case .bytes(let b):
            switch op {
            case .feature:
                out.write(plain: "ok")
                if !b.isEmpty {
                    out.write(plain: " payload=")
                    bytes(b, total: b.count, into: &out)
                }
            case .dmaLoggingReport:
                out.write(plain: "ok bitmap ")
                out.write(decimal: setBits(b))
                out.write(plain: " of ")
                out.write(decimal: b.count * 8)
                out.write(plain: " bits set")
            case .dataFD(_, .precopyInfo):
                guard let i = DataFD.PrecopyInfo(b) else {
                    out.write(plain: "ok ")
                    return bytes(b, total: b.count, into: &out)
                }
                out.write(plain: "ok argsz=")
                out.write(decimal: i.argsz)
                out.write(plain: " flags=0x")
                out.write(hex: i.flags)
                out.write(plain: " initial_bytes=")
                out.write(decimal: i.initialBytes)
                out.write(plain: " dirty_bytes=")
                out.write(decimal: i.dirtyBytes)
            default:
                let n = byteCount ?? b.count
                if n == 0 { return out.write(plain: "ok 0 bytes (end of stream)") }
                out.write(plain: "ok ")
                bytes(b, total: n, into: &out)
            }
        case .value(let v):
            switch op {
            case .getMigrationFlags:
                out.write(plain: "ok flags=")
                migrationFlags(v, into: &out)
            case .getDataSize:
                out.write(plain: "ok size=")
                out.write(decimal: v)
            case .write, .dataWrite:
                out.write(plain: "ok written=")
                out.write(decimal: v)
            case .regionRead(let offset, _):
                out.write(plain: "ok ")
                regionValue(offset, v, into: &out)
            case .configRead:
                out.write(plain: "ok 0x")
                out.write(hex: v)
            case .regionInfo:
                out.write(plain: "ok flags=")
                regionFlags(v, into: &out)
            case .dmaLoggingStart:
                out.write(plain: "ok page_size=")
                out.write(decimal: v)
            case .dataFD(_, .poll):
                out.write(plain: "ok revents=0x")
                out.write(hex: v)
            case .dataFD(_, .fdFlags), .dataFD(_, .statusFlags):
                out.write(plain: "ok flags=0x")
                out.write(hex: v)
            default:
                out.write(plain: "ok value=")
                out.write(decimal: v)
            }
        }
    }

    /// A v2 `device_state` value by name (`RUNNING_P2P`), or its number when it names no state.
    package static func stateName(_ raw: UInt32) -> String {
        raw < MigrationState.count ? MigrationState.names[Int(raw)] : "\(raw)"
    }

    static func stateName(_ raw: UInt32, into out: inout some TextSink) {
        if let name = stateNameText(raw) { out.write(plain: name) } else { out.write(decimal: raw) }
    }

    /// ``MigrationState/names``'s name of a v2 `device_state` value, nil when it names no state: written without
    /// a string made or escaped.
    package static func stateNameText(_ raw: UInt32) -> StaticString? {
        switch raw {
        case 0: return "ERROR"
        case 1: return "STOP"
        case 2: return "RUNNING"
        case 3: return "STOP_COPY"
        case 4: return "RESUMING"
        case 5: return "RUNNING_P2P"
        case 6: return "PRE_COPY"
        case 7: return "PRE_COPY_P2P"
        default: return nil
        }
    }

    /// ``Errno/name`` of the errnos that name themselves, nil for the others: written without a dictionary
    /// lookup or a string made.
    package static func errnoName(_ e: Errno) -> StaticString? {
        switch e.rawValue {
        case 1: return "EPERM"
        case 2: return "ENOENT"
        case 4: return "EINTR"
        case 5: return "EIO"
        case 6: return "ENXIO"
        case 7: return "E2BIG"
        case 9: return "EBADF"
        case 11: return "EAGAIN"
        case 12: return "ENOMEM"
        case 13: return "EACCES"
        case 14: return "EFAULT"
        case 16: return "EBUSY"
        case 19: return "ENODEV"
        case 22: return "EINVAL"
        case 25: return "ENOTTY"
        case 27: return "EFBIG"
        case 28: return "ENOSPC"
        case 29: return "ESPIPE"
        case 38: return "ENOSYS"
        case 42: return "ENOMSG"
        case 61: return "ENODATA"
        case 75: return "EOVERFLOW"
        case 95: return "EOPNOTSUPP"
        case 110: return "ETIMEDOUT"
        default: return nil
        }
    }

    /// A v1 `device_state` register value with its bit names: `0x3 (SAVING|RUNNING)`, `0x0 (STOP)`; reserved
    /// bits 3 to 31 print separately.
    package static func v1State(_ value: UInt64) -> String {
        var s = ""
        v1State(value, into: &s)
        return s
    }

    static func v1State(_ value: UInt64, into out: inout some TextSink) {
        let low = UInt32(truncatingIfNeeded: value) & RegionV1.stateMask
        out.write(plain: "0x")
        out.write(hex: value)
        out.write(plain: " (")
        if low == 0 { out.write(plain: "STOP") }
        var bar = false
        for (bit, name): (UInt32, StaticString) in [
            (RegionV1.saving, "SAVING"), (RegionV1.resuming, "RESUMING"), (RegionV1.running, "RUNNING"),
        ] where low & bit != 0 {
            if bar { out.write(plain: "|") }
            out.write(plain: name)
            bar = true
        }
        let reserved = value & ~UInt64(RegionV1.stateMask)
        if reserved != 0 {
            out.write(plain: ", reserved bits 0x")
            out.write(hex: reserved)
        }
        out.write(plain: ")")
    }

    /// A v2 migration flags word with its flag names: `0x7 (STOP_COPY|P2P|PRE_COPY)`.
    package static func migrationFlags(_ value: UInt64) -> String {
        var s = ""
        migrationFlags(value, into: &s)
        return s
    }

    static func migrationFlags(_ value: UInt64, into out: inout some TextSink) {
        out.write(plain: "0x")
        out.write(hex: value)
        out.write(plain: " (")
        var rest = value
        var bar = false
        for (flag, name): (MigrationFlags, StaticString) in [
            (.stopCopy, "STOP_COPY"), (.p2p, "P2P"), (.preCopy, "PRE_COPY"),
        ]
        where value & flag.rawValue != 0 {
            if bar { out.write(plain: "|") }
            out.write(plain: name)
            rest &= ~flag.rawValue
            bar = true
        }
        if rest != 0 {
            if bar { out.write(plain: "|") }
            out.write(plain: "0x")
            out.write(hex: rest)
        } else if !bar {
            out.write(plain: "none")
        }
        out.write(plain: ")")
    }

    /// A `VFIO_DEVICE_FEATURE` flags word: `GET|PROBE MIGRATION`.
    package static func featureRequest(_ flags: UInt32) -> String {
        var s = ""
        featureRequest(flags, into: &s)
        return s
    }

    static func featureRequest(_ flags: UInt32, into out: inout some TextSink) {
        var bar = false
        for (bit, name): (UInt32, StaticString) in [
            (FeatureRequest.get, "GET"), (FeatureRequest.set, "SET"), (FeatureRequest.probe, "PROBE"),
        ] where flags & bit != 0 {
            if bar { out.write(plain: "|") }
            out.write(plain: name)
            bar = true
        }
        let other = flags & ~(FeatureRequest.mask | FeatureRequest.get | FeatureRequest.set | FeatureRequest.probe)
        if other != 0 {
            if bar { out.write(plain: "|") }
            out.write(plain: "0x")
            out.write(hex: other)
        } else if !bar {
            out.write(plain: "NONE")
        }
        let index = flags & FeatureRequest.mask
        switch index {
        case FeatureRequest.migration: out.write(plain: " MIGRATION")
        case FeatureRequest.migDeviceState: out.write(plain: " MIG_DEVICE_STATE")
        case FeatureRequest.migDataSize: out.write(plain: " MIG_DATA_SIZE")
        default:
            out.write(plain: " feature-")
            out.write(decimal: index)
        }
    }

    /// The name of a field of the v1 migration region at `offset`, or the offset in hex.
    package static func regionField(_ offset: UInt64) -> String {
        var s = ""
        regionField(offset, into: &s)
        return s
    }

    static func regionField(_ offset: UInt64, into out: inout some TextSink) {
        if let name = regionFieldName(offset) { return out.write(plain: name) }
        out.write(plain: "offset=0x")
        out.write(hex: offset)
    }

    /// The name of the field of the v1 migration region at `offset`, nil at an offset that starts none.
    package static func regionFieldName(_ offset: UInt64) -> StaticString? {
        switch offset {
        case RegionV1.deviceState: return "device_state"
        case RegionV1.reserved: return "reserved"
        case RegionV1.pendingBytes: return "pending_bytes"
        case RegionV1.dataOffset: return "data_offset"
        case RegionV1.dataSize: return "data_size"
        default: return nil
        }
    }

    static func regionValue(_ offset: UInt64, _ value: UInt64, into out: inout some TextSink) {
        switch offset {
        case RegionV1.deviceState: v1State(value, into: &out)
        case RegionV1.reserved, RegionV1.dataOffset:
            out.write(plain: "0x")
            out.write(hex: value)
        default: out.write(decimal: value)
        }
    }

    /// ` (u32)`: the width of an access, after what it reads or writes.
    static func widthNote(_ width: Int, into out: inout some TextSink) {
        switch width {
        case 1: out.write(plain: " (u8)")
        case 2: out.write(plain: " (u16)")
        case 4: out.write(plain: " (u32)")
        case 8: out.write(plain: " (u64)")
        default:
            out.write(plain: " (")
            out.write(decimal: width)
            out.write(plain: " bytes)")
        }
    }

    /// A VFIO PCI interrupt index by name: `MSI-X (index 2)`.
    package static func interruptIndex(_ index: UInt32) -> String {
        var s = ""
        interruptIndex(index, into: &s)
        return s
    }

    static func interruptIndex(_ index: UInt32, into out: inout some TextSink) {
        switch index {
        case 0: out.write(plain: "INTx (index ")
        case 1: out.write(plain: "MSI (index ")
        case 2: out.write(plain: "MSI-X (index ")
        case 3: out.write(plain: "ERR (index ")
        case 4: out.write(plain: "REQ (index ")
        default:
            out.write(plain: "index ")
            return out.write(decimal: index)
        }
        out.write(decimal: index)
        out.write(plain: ")")
    }

    /// `16 bytes 0a0b0c0d0e0f1011...`: the length, then the first bytes in hex.
    static func bytes(_ b: [UInt8], total: Int) -> String {
        var s = ""
        bytes(b, total: total, into: &s)
        return s
    }

    static func bytes(_ b: [UInt8], total: Int, into out: inout some TextSink) {
        let shown = b.prefix(shownBytes)
        out.write(decimal: total)
        out.write(plain: total == 1 ? " byte" : " bytes")
        guard !shown.isEmpty else { return }
        out.write(plain: " ")
        out.write(hexBytes: shown)
        if total > shown.count { out.write(plain: "...") }
    }

    /// Bytes as lowercase hex without separators.
    package static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension DeviceOperation.Kind {
    /// ``rawValue`` without a string made: what a JSON writer copies as it is.
    package var staticName: StaticString {
        switch self {
        case .getMigrationFlags: return "get-migration-flags"
        case .feature: return "feature"
        case .getState: return "get-state"
        case .setState: return "set-state"
        case .getDataSize: return "get-data-size"
        case .read: return "read"
        case .write: return "write"
        case .close: return "close"
        case .precopyInfo: return "precopy-info"
        case .dmaLoggingStart: return "dma-logging-start"
        case .dmaLoggingStop: return "dma-logging-stop"
        case .dmaLoggingReport: return "dma-logging-report"
        case .reset: return "reset"
        case .reopen: return "reopen"
        case .configRead: return "config-read"
        case .disableInterrupts: return "disable-interrupts"
        case .regionRead: return "region-read"
        case .regionWrite: return "region-write"
        case .dataRead: return "data-read"
        case .dataWrite: return "data-write"
        case .regionInfo: return "region-info"
        case .dataFDFlags: return "data-fd-fd-flags"
        case .dataFDStatusFlags: return "data-fd-status-flags"
        case .dataFDSeek: return "data-fd-seek"
        case .dataFDPread: return "data-fd-pread"
        case .dataFDPwrite: return "data-fd-pwrite"
        case .dataFDPoll: return "data-fd-poll"
        case .dataFDPrecopyInfo: return "data-fd-precopy-info"
        case .dataFDIoctl: return "data-fd-ioctl"
        case .accessConfigWrite: return "access-config-write"
        case .accessBarRead: return "access-bar-read"
        case .accessEnableInterrupts: return "access-enable-interrupts"
        }
    }
}

/// Where operation text is written: a `String`, or a buffer that takes the text without making a string of it
/// first (a journal writes it straight into a JSON string literal).
///
/// Numbers come as 64-bit integers, not as any `BinaryInteger`: the writers of this module are not specialized for
/// a sink of another, and a generic integer there would be handled through its witness table digit by digit.
package protocol TextSink {
    mutating func write(_ s: String)
    /// Text that is the same everywhere it goes (ASCII without quotes, backslashes or control characters): a
    /// JSON string literal takes it as it is, without looking for bytes to escape.
    mutating func write(plain s: StaticString)
    /// `String(v)`.
    mutating func write(decimal v: Int64)
    /// `String(v)`.
    mutating func write(decimal v: UInt64)
    /// `String(v, radix: 16)`.
    mutating func write(hex v: UInt64)
    /// The bytes as lowercase hex without separators (``OperationText/hex(_:)``).
    mutating func write(hexBytes: ArraySlice<UInt8>)
}

extension TextSink {
    package mutating func write(plain s: StaticString) { write(s.description) }
    package mutating func write(decimal v: Int64) { write(String(v)) }
    package mutating func write(decimal v: UInt64) { write(String(v)) }
    package mutating func write(hex v: UInt64) { write(String(v, radix: 16)) }
    package mutating func write(hexBytes: ArraySlice<UInt8>) { write(OperationText.hex(Array(hexBytes))) }

    /// `String(v)` of an integer of another width.
    @inline(__always) package mutating func write<N: FixedWidthInteger>(decimal v: N) {
        if N.isSigned { write(decimal: Int64(v)) } else { write(decimal: UInt64(v)) }
    }
    /// `String(v, radix: 16)` of an unsigned integer of another width.
    @inline(__always) package mutating func write<N: FixedWidthInteger & UnsignedInteger>(hex v: N) {
        write(hex: UInt64(v))
    }
}

extension String: TextSink {}

extension DeviceOperation: CustomStringConvertible {
    /// `set-state RUNNING_P2P`, `read fd=7 count=4096`, `peer: reset`.
    package var description: String { OperationText.operation(self) }
}

extension DeviceOutcome: CustomStringConvertible {
    /// The outcome without the request it answers: `ok`, `ok value=4096`, `ok state=STOP data_fd=-1`, `EINVAL`.
    package var description: String { OperationText.outcome(self, of: .getState) }

    /// The outcome read in the light of the request it answers: `ok flags=0x3 (STOP_COPY|P2P)`.
    package func description(answering op: DeviceOperation, byteCount: Int? = nil) -> String {
        OperationText.outcome(self, of: op, byteCount: byteCount)
    }
}
