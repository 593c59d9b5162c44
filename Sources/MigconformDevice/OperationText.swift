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
    package static func operation(_ op: DeviceOperation, byteCount: Int? = nil, into out: inout some TextSink) {
        switch op {
        case .onPeer(let inner):
            out.write("peer: ")
            operation(inner, byteCount: byteCount, into: &out)
        case .onForeign(let inner):
            out.write("foreign: ")
            operation(inner, byteCount: byteCount, into: &out)
        case .getMigrationFlags: out.write("get-migration-flags")
        case .feature(let flags, let payload):
            out.write("feature ")
            out.write(featureRequest(flags))
            if !payload.isEmpty {
                out.write(" payload=")
                bytes(payload, total: payload.count, into: &out)
            }
        case .getState: out.write("get-state")
        case .setState(let v):
            out.write("set-state ")
            stateName(v, into: &out)
        case .getDataSize: out.write("get-data-size")
        case .read(let fd, let count):
            out.write("read fd=")
            out.write(decimal: fd)
            out.write(" count=")
            out.write(decimal: count)
        case .write(let fd, let b):
            out.write("write fd=")
            out.write(decimal: fd)
            out.write(" ")
            bytes(b, total: byteCount ?? b.count, into: &out)
        case .close(let fd):
            out.write("close fd=")
            out.write(decimal: fd)
        case .precopyInfo(let fd):
            out.write("precopy-info fd=")
            out.write(decimal: fd)
        case .dataFD(let fd, let call): out.write(([call.name, "fd=\(fd)"] + call.arguments).joined(separator: " "))
        case .reset: out.write("reset")
        case .reopen: out.write("reopen")
        case .configRead(let offset, let width):
            out.write("config-read offset=0x")
            out.write(hex: offset)
            out.write(" (\(widthName(width)))")
        case .disableInterrupts(let index): out.write("disable-interrupts \(interruptIndex(index))")
        case .access(.configWrite(let offset, let width, let value)):
            out.write("config-write offset=0x")
            out.write(hex: offset)
            out.write(" (\(widthName(width))) = 0x")
            out.write(hex: value)
        case .access(.barRead(let index, let offset, let width)):
            out.write("bar-read BAR")
            out.write(decimal: index)
            out.write(" offset=0x")
            out.write(hex: offset)
            out.write(" (\(widthName(width)))")
        case .access(.enableInterrupts(let index)): out.write("enable-interrupts \(interruptIndex(index)) (eventfd)")
        case .regionRead(let offset, let width):
            out.write("region-read \(regionField(offset)) (\(widthName(width)))")
        case .regionWrite(let offset, let width, let value):
            out.write("region-write \(regionField(offset)) (\(widthName(width))) = \(regionValue(offset, value))")
        case .dataRead(let offset, let count):
            out.write("data-read offset=0x")
            out.write(hex: offset)
            out.write(" count=")
            out.write(decimal: count)
        case .dataWrite(let offset, let b):
            out.write("data-write offset=0x")
            out.write(hex: offset)
            out.write(" ")
            bytes(b, total: byteCount ?? b.count, into: &out)
        case .regionInfo: out.write("region-info")
        case .dmaLoggingStart(let pageSize, let ranges):
            out.write("dma-logging-start page_size=\(pageSize) " + dmaRanges(ranges))
        case .dmaLoggingStop: out.write("dma-logging-stop")
        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            out.write(
                "dma-logging-report iova=0x\(String(iova, radix: 16)) length=0x\(String(length, radix: 16)) "
                    + "page_size=\(pageSize) bitmap=\(bitmap.count) bytes, \(setBits(bitmap)) bits set")
        }
    }

    /// Migration region flags as `0x7 (READ|WRITE|MMAP)`.
    static func regionFlags(_ v: UInt64) -> String {
        let names = [(RegionV1.flagRead, "READ"), (RegionV1.flagWrite, "WRITE"), (RegionV1.flagMmap, "MMAP")]
        let set = names.filter { v & $0.0 != 0 }.map(\.1)
        return "0x\(String(v, radix: 16))" + (set.isEmpty ? "" : " (" + set.joined(separator: "|") + ")")
    }

    /// IOVA ranges as `[0x100000000+0x200000]`, or their count and the first when there are many.
    static func dmaRanges(_ ranges: [DMARange]) -> String {
        func one(_ r: DMARange) -> String { "0x\(String(r.iova, radix: 16))+0x\(String(r.length, radix: 16))" }
        if ranges.isEmpty { return "ranges=[] (none)" }
        if ranges.count <= 4 { return "ranges=[" + ranges.map(one).joined(separator: ", ") + "]" }
        return "ranges=\(ranges.count) [\(one(ranges[0])), ..., \(one(ranges[ranges.count - 1]))]"
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
        if op.peerRole != nil { return self.outcome(outcome, of: op.local, byteCount: byteCount, into: &out) }
        switch outcome {
        case .done: out.write("ok")
        case .failed(let e): out.write(e.name)
        case .state(let s, let fd):
            out.write("ok state=")
            stateName(s, into: &out)
            out.write(" data_fd=")
            out.write(decimal: fd)
        case .precopy(let initial, let dirty):
            out.write("ok initial_bytes=")
            out.write(decimal: initial)
            out.write(" dirty_bytes=")
            out.write(decimal: dirty)
        case .bytes(let b):
            switch op {
            case .feature:
                out.write("ok")
                if !b.isEmpty {
                    out.write(" payload=")
                    bytes(b, total: b.count, into: &out)
                }
            case .dmaLoggingReport: out.write("ok bitmap \(setBits(b)) of \(b.count * 8) bits set")
            case .dataFD(_, .precopyInfo):
                guard let i = DataFD.PrecopyInfo(b) else {
                    out.write("ok ")
                    return bytes(b, total: b.count, into: &out)
                }
                out.write(
                    "ok argsz=\(i.argsz) flags=0x\(String(i.flags, radix: 16)) initial_bytes=\(i.initialBytes) "
                        + "dirty_bytes=\(i.dirtyBytes)")
            default:
                let n = byteCount ?? b.count
                if n == 0 { return out.write("ok 0 bytes (end of stream)") }
                out.write("ok ")
                bytes(b, total: n, into: &out)
            }
        case .value(let v):
            switch op {
            case .getMigrationFlags: out.write("ok flags=" + migrationFlags(v))
            case .getDataSize:
                out.write("ok size=")
                out.write(decimal: v)
            case .write, .dataWrite:
                out.write("ok written=")
                out.write(decimal: v)
            case .regionRead(let offset, _): out.write("ok " + regionValue(offset, v))
            case .configRead:
                out.write("ok 0x")
                out.write(hex: v)
            case .regionInfo: out.write("ok flags=" + regionFlags(v))
            case .dmaLoggingStart:
                out.write("ok page_size=")
                out.write(decimal: v)
            case .dataFD(_, .poll):
                out.write("ok revents=0x")
                out.write(hex: v)
            case .dataFD(_, .fdFlags), .dataFD(_, .statusFlags):
                out.write("ok flags=0x")
                out.write(hex: v)
            default:
                out.write("ok value=")
                out.write(decimal: v)
            }
        }
    }

    /// A v2 `device_state` value by name (`RUNNING_P2P`), or its number when it names no state.
    package static func stateName(_ raw: UInt32) -> String {
        raw < MigrationState.count ? MigrationState.names[Int(raw)] : "\(raw)"
    }

    static func stateName(_ raw: UInt32, into out: inout some TextSink) {
        if raw < MigrationState.count { out.write(MigrationState.names[Int(raw)]) } else { out.write(decimal: raw) }
    }

    /// A v1 `device_state` register value with its bit names: `0x3 (SAVING|RUNNING)`, `0x0 (STOP)`; reserved
    /// bits 3 to 31 print separately.
    package static func v1State(_ value: UInt64) -> String {
        let low = UInt32(truncatingIfNeeded: value) & RegionV1.stateMask
        var names: [String] = []
        if low & RegionV1.saving != 0 { names.append("SAVING") }
        if low & RegionV1.resuming != 0 { names.append("RESUMING") }
        if low & RegionV1.running != 0 { names.append("RUNNING") }
        var s = "0x\(String(value, radix: 16)) (\(names.isEmpty ? "STOP" : names.joined(separator: "|"))"
        let reserved = value & ~UInt64(RegionV1.stateMask)
        if reserved != 0 { s += ", reserved bits 0x\(String(reserved, radix: 16))" }
        return s + ")"
    }

    /// A v2 migration flags word with its flag names: `0x7 (STOP_COPY|P2P|PRE_COPY)`.
    package static func migrationFlags(_ value: UInt64) -> String {
        let known: [(UInt64, String)] = [
            (MigrationFlags.stopCopy.rawValue, "STOP_COPY"),
            (MigrationFlags.p2p.rawValue, "P2P"),
            (MigrationFlags.preCopy.rawValue, "PRE_COPY"),
        ]
        var names = known.filter { value & $0.0 != 0 }.map { $0.1 }
        let rest = known.reduce(value) { $0 & ~$1.0 }
        if rest != 0 { names.append("0x\(String(rest, radix: 16))") }
        return "0x\(String(value, radix: 16)) (\(names.isEmpty ? "none" : names.joined(separator: "|")))"
    }

    /// A `VFIO_DEVICE_FEATURE` flags word: `GET|PROBE MIGRATION`.
    package static func featureRequest(_ flags: UInt32) -> String {
        var bits: [String] = []
        if flags & FeatureRequest.get != 0 { bits.append("GET") }
        if flags & FeatureRequest.set != 0 { bits.append("SET") }
        if flags & FeatureRequest.probe != 0 { bits.append("PROBE") }
        let other = flags & ~(FeatureRequest.mask | FeatureRequest.get | FeatureRequest.set | FeatureRequest.probe)
        if other != 0 { bits.append("0x\(String(other, radix: 16))") }
        let index = flags & FeatureRequest.mask
        let name: String
        switch index {
        case FeatureRequest.migration: name = "MIGRATION"
        case FeatureRequest.migDeviceState: name = "MIG_DEVICE_STATE"
        case FeatureRequest.migDataSize: name = "MIG_DATA_SIZE"
        default: name = "feature-\(index)"
        }
        return (bits.isEmpty ? "NONE" : bits.joined(separator: "|")) + " " + name
    }

    /// The name of a field of the v1 migration region at `offset`, or the offset in hex.
    package static func regionField(_ offset: UInt64) -> String {
        switch offset {
        case RegionV1.deviceState: return "device_state"
        case RegionV1.reserved: return "reserved"
        case RegionV1.pendingBytes: return "pending_bytes"
        case RegionV1.dataOffset: return "data_offset"
        case RegionV1.dataSize: return "data_size"
        default: return "offset=0x\(String(offset, radix: 16))"
        }
    }

    static func regionValue(_ offset: UInt64, _ value: UInt64) -> String {
        switch offset {
        case RegionV1.deviceState: return v1State(value)
        case RegionV1.reserved: return "0x\(String(value, radix: 16))"
        case RegionV1.dataOffset: return "0x\(String(value, radix: 16))"
        default: return "\(value)"
        }
    }

    static func widthName(_ width: Int) -> String {
        switch width {
        case 1: return "u8"
        case 2: return "u16"
        case 4: return "u32"
        case 8: return "u64"
        default: return "\(width) bytes"
        }
    }

    /// A VFIO PCI interrupt index by name: `MSI-X (index 2)`.
    package static func interruptIndex(_ index: UInt32) -> String {
        let names = ["INTx", "MSI", "MSI-X", "ERR", "REQ"]
        return index < names.count ? "\(names[Int(index)]) (index \(index))" : "index \(index)"
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
        out.write(total == 1 ? " byte" : " bytes")
        guard !shown.isEmpty else { return }
        out.write(" ")
        out.write(hexBytes: shown)
        if total > shown.count { out.write("...") }
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

/// Where operation text is written: a `String`, or a buffer that takes the text without making a string of it
/// first (a journal writes it straight into a JSON string literal).
package protocol TextSink {
    mutating func write(_ s: String)
    /// `String(v)`.
    mutating func write<N: BinaryInteger>(decimal v: N)
    /// `String(v, radix: 16)`.
    mutating func write<N: BinaryInteger>(hex v: N)
    /// The bytes as lowercase hex without separators (``OperationText/hex(_:)``).
    mutating func write(hexBytes: ArraySlice<UInt8>)
}

extension TextSink {
    package mutating func write<N: BinaryInteger>(decimal v: N) { write(String(v)) }
    package mutating func write<N: BinaryInteger>(hex v: N) { write(String(v, radix: 16)) }
    package mutating func write(hexBytes: ArraySlice<UInt8>) { write(OperationText.hex(Array(hexBytes))) }
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
