/// Whether an answer fits the request it answers: the result kind the operation can have, and each number within
/// its field's range. An adapter is a process of its own; what it writes is checked here before any part of the
/// runner does arithmetic with it, so that a wrong answer is a transport error naming the request, never a trap,
/// an endless loop or a silent pass. (`failed` with an errno fits every request: it is the device's answer.)
package enum AnswerJudge {
    /// The largest byte count or size an answer may report (stream lengths, PRE_COPY sizes): 2^50 bytes (1 PiB),
    /// far beyond any device state, and small enough that sums and doublings of it cannot overflow.
    package static let maxSize: UInt64 = 1 << 50

    /// Why `outcome` cannot be the answer to `operation`, or nil when it can.
    package static func problem(_ outcome: DeviceOutcome, for operation: DeviceOperation) -> String? {
        if case .failed = outcome { return nil }
        if operation.peerRole != nil { return problem(outcome, for: operation.local) }
        switch (operation, outcome) {
        case (.getMigrationFlags, .value), (.getState, .state), (.setState, .state), (.close, .done),
            (.reset, .done), (.reopen, .done), (.disableInterrupts, .done), (.regionWrite, .done), (.dataWrite, .done),
            (.feature, .done), (.dmaLoggingStop, .done), (.dmaLoggingStart, .value):
            return nil
        case (.dmaLoggingReport(_, _, _, let bitmap), .bytes(let b)):
            return b.count == bitmap.count
                ? nil
                : "a bitmap of \(b.count) bytes, where the request gave \(bitmap.count)"
        case (.feature(_, let payload), .bytes(let b)):
            return b.count <= payload.count
                ? nil
                : "\(b.count) bytes of payload, more than the \(payload.count) the request gave room for"
        case (.getDataSize, .value(let n)):
            return n <= maxSize ? nil : "a data size of \(n) bytes, more than \(maxSize) (2^50)"
        case (.read(_, let count), .bytes(let b)):
            return b.count <= max(count, 0) ? nil : "\(b.count) bytes, more than the \(count) asked for"
        case (.write(_, let bytes), .value(let n)):
            return n <= UInt64(bytes.count) ? nil : "\(n) bytes written, more than the \(bytes.count) given"
        case (.dataWrite(_, let bytes), .value(let n)):
            return n <= UInt64(bytes.count) ? nil : "\(n) bytes written, more than the \(bytes.count) given"
        case (.precopyInfo, .precopy(let initial, let dirty)):
            if initial > maxSize { return "initial_bytes \(initial), more than \(maxSize) (2^50)" }
            if dirty > maxSize { return "dirty_bytes \(dirty), more than \(maxSize) (2^50)" }
            return nil
        case (.configRead(_, let width), .value(let v)), (.regionRead(_, let width), .value(let v)):
            guard (1...8).contains(width) else { return nil }
            return width == 8 || v >> (8 * UInt64(width)) == 0
                ? nil
                : "the value \(v), which does not fit in the \(width) bytes read"
        case (.regionInfo, .value(let v)):
            return v >> 32 == 0 ? nil : "region flags \(v), which do not fit in the 32 bits of vfio_region_info.flags"
        case (.access(.barRead(_, _, let width)), .value(let v)):
            return width >= 8 || v >> (8 * UInt64(max(width, 0))) == 0
                ? nil
                : "the value \(v), which does not fit in the \(width) bytes read"
        case (.access(.configWrite), .done), (.access(.enableInterrupts), .done):
            return nil
        case (.dataFD(_, .pread(let count, _)), .bytes(let b)):
            return b.count <= count ? nil : "\(b.count) bytes, more than the \(count) asked for"
        case (.dataFD(_, .precopyInfo), .bytes(let b)):
            return b.count == 24 ? nil : "\(b.count) bytes, where struct vfio_precopy_info has 24"
        case (.dataFD(_, .pwrite(let bytes, _)), .value(let n)):
            return n <= UInt64(bytes.count) ? nil : "\(n) bytes written, more than the \(bytes.count) given"
        case (.dataFD(_, let call), .value):
            if case .pread = call { break }
            if case .precopyInfo = call { break }
            return nil
        case (.dataRead(_, let count), .bytes(let b)):
            return b.count <= max(count, 0) ? nil : "\(b.count) bytes, more than the \(count) asked for"
        default:
            break
        }
        if case .onPeer = operation { return nil }
        if case .onForeign = operation { return nil }
        return "a '\(kind(outcome))' result, where \(operation.kind) is answered with \(expected(operation)) or failed"
    }

    /// The result kinds an operation is answered with (besides `failed`), in words.
    static func expected(_ operation: DeviceOperation) -> String {
        switch operation {
        case .getMigrationFlags, .getDataSize, .configRead, .regionRead: return "value"
        case .regionInfo: return "value (the region's flags)"
        case .getState, .setState: return "state"
        case .read, .dataRead: return "bytes"
        case .write: return "value (the bytes written)"
        case .precopyInfo: return "precopy"
        case .access(.barRead): return "value"
        case .access: return "done"
        case .dataFD(_, .pread): return "bytes"
        case .dataFD(_, .precopyInfo): return "bytes (24)"
        case .dataFD: return "value"
        case .feature: return "done or bytes"
        case .dataWrite: return "done or value (the bytes written)"
        case .close, .reset, .reopen, .disableInterrupts, .regionWrite, .dmaLoggingStop: return "done"
        case .dmaLoggingStart: return "value (the page size written back)"
        case .dmaLoggingReport: return "bytes (the bitmap)"
        case .onPeer, .onForeign: return "what the peer's operation is answered with"
        }
    }

    /// The protocol's name of an outcome's result kind.
    package static func kind(_ outcome: DeviceOutcome) -> String {
        switch outcome {
        case .done: return "done"
        case .value: return "value"
        case .state: return "state"
        case .bytes: return "bytes"
        case .precopy: return "precopy"
        case .failed: return "failed"
        }
    }
}
