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
        switch op {
        case .onPeer(let inner): return "peer: " + operation(inner, byteCount: byteCount)
        case .onForeign(let inner): return "foreign: " + operation(inner, byteCount: byteCount)
        case .getMigrationFlags: return "get-migration-flags"
        case .feature(let flags, let payload):
            var s = "feature \(featureRequest(flags))"
            if !payload.isEmpty { s += " payload=" + bytes(payload, total: payload.count) }
            return s
        case .getState: return "get-state"
        case .setState(let v): return "set-state \(stateName(v))"
        case .getDataSize: return "get-data-size"
        case .read(let fd, let count): return "read fd=\(fd) count=\(count)"
        case .write(let fd, let b): return "write fd=\(fd) " + bytes(b, total: byteCount ?? b.count)
        case .close(let fd): return "close fd=\(fd)"
        case .precopyInfo(let fd): return "precopy-info fd=\(fd)"
        case .dataFD(let fd, let call): return ([call.name, "fd=\(fd)"] + call.arguments).joined(separator: " ")
        case .reset: return "reset"
        case .reopen: return "reopen"
        case .configRead(let offset, let width):
            return "config-read offset=0x\(String(offset, radix: 16)) (\(widthName(width)))"
        case .disableInterrupts(let index): return "disable-interrupts \(interruptIndex(index))"
        case .access(.configWrite(let offset, let width, let value)):
            return "config-write offset=0x\(String(offset, radix: 16)) (\(widthName(width))) "
                + "= 0x\(String(value, radix: 16))"
        case .access(.barRead(let index, let offset, let width)):
            return "bar-read BAR\(index) offset=0x\(String(offset, radix: 16)) (\(widthName(width)))"
        case .access(.enableInterrupts(let index)): return "enable-interrupts \(interruptIndex(index)) (eventfd)"
        case .regionRead(let offset, let width):
            return "region-read \(regionField(offset)) (\(widthName(width)))"
        case .regionWrite(let offset, let width, let value):
            return "region-write \(regionField(offset)) (\(widthName(width))) = \(regionValue(offset, value))"
        case .dataRead(let offset, let count):
            return "data-read offset=0x\(String(offset, radix: 16)) count=\(count)"
        case .dataWrite(let offset, let b):
            return "data-write offset=0x\(String(offset, radix: 16)) " + bytes(b, total: byteCount ?? b.count)
        case .regionInfo: return "region-info"
        case .dmaLoggingStart(let pageSize, let ranges):
            return "dma-logging-start page_size=\(pageSize) " + dmaRanges(ranges)
        case .dmaLoggingStop: return "dma-logging-stop"
        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            return "dma-logging-report iova=0x\(String(iova, radix: 16)) length=0x\(String(length, radix: 16)) "
                + "page_size=\(pageSize) bitmap=\(bitmap.count) bytes, \(setBits(bitmap)) bits set"
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
        if op.peerRole != nil { return self.outcome(outcome, of: op.local, byteCount: byteCount) }
        switch outcome {
        case .done: return "ok"
        case .failed(let e): return e.name
        case .state(let s, let fd): return "ok state=\(stateName(s)) data_fd=\(fd)"
        case .precopy(let initial, let dirty): return "ok initial_bytes=\(initial) dirty_bytes=\(dirty)"
        case .bytes(let b):
            switch op {
            case .feature: return b.isEmpty ? "ok" : "ok payload=" + bytes(b, total: b.count)
            case .dmaLoggingReport: return "ok bitmap \(setBits(b)) of \(b.count * 8) bits set"
            case .dataFD(_, .precopyInfo):
                guard let i = DataFD.PrecopyInfo(b) else { return "ok " + bytes(b, total: b.count) }
                return "ok argsz=\(i.argsz) flags=0x\(String(i.flags, radix: 16)) initial_bytes=\(i.initialBytes) "
                    + "dirty_bytes=\(i.dirtyBytes)"
            default:
                let n = byteCount ?? b.count
                if n == 0 { return "ok 0 bytes (end of stream)" }
                return "ok " + bytes(b, total: n)
            }
        case .value(let v):
            switch op {
            case .getMigrationFlags: return "ok flags=" + migrationFlags(v)
            case .getDataSize: return "ok size=\(v)"
            case .write, .dataWrite: return "ok written=\(v)"
            case .regionRead(let offset, _): return "ok " + regionValue(offset, v)
            case .configRead: return "ok 0x\(String(v, radix: 16))"
            case .regionInfo: return "ok flags=" + regionFlags(v)
            case .dmaLoggingStart: return "ok page_size=\(v)"
            case .dataFD(_, .poll): return "ok revents=0x\(String(v, radix: 16))"
            case .dataFD(_, .fdFlags), .dataFD(_, .statusFlags): return "ok flags=0x\(String(v, radix: 16))"
            default: return "ok value=\(v)"
            }
        }
    }

    /// A v2 `device_state` value by name (`RUNNING_P2P`), or its number when it names no state.
    package static func stateName(_ raw: UInt32) -> String {
        raw < MigrationState.count ? MigrationState.names[Int(raw)] : "\(raw)"
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
        let shown = b.prefix(shownBytes)
        let more = total > shown.count ? "..." : ""
        return "\(total) byte\(total == 1 ? "" : "s")" + (shown.isEmpty ? "" : " " + hex(Array(shown)) + more)
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
