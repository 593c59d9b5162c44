/// One request the runner makes of a device. Every target (the reference device, a faulty device, an external
/// adapter, the Linux kernel) answers the same requests, so one runner, one transcript format and one replay
/// mechanism serve them all.
///
/// The v2 requests mirror `VFIO_DEVICE_FEATURE` and the migration data fd; the v1 requests mirror accesses to the
/// migration region (`struct vfio_device_migration_info` and its data section).
package enum DeviceOperation: Codable, Hashable, Sendable {
    // MARK: v2 (VFIO_DEVICE_FEATURE based)

    /// `VFIO_DEVICE_FEATURE` with `GET` on `VFIO_DEVICE_FEATURE_MIGRATION`: the advertised migration flags.
    case getMigrationFlags
    /// A raw `VFIO_DEVICE_FEATURE` call: `flags` holds the feature index and the GET/SET/PROBE bits;
    /// `payload` follows the 8-byte header (so `argsz` is `8 + payload.count`).
    case feature(flags: UInt32, payload: [UInt8])
    /// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE` with `GET`.
    case getState
    /// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE` with `SET` of the raw `device_state` value.
    case setState(UInt32)
    /// `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE` with `GET`: the estimated STOP_COPY stream length.
    case getDataSize
    /// `read()` of at most `count` bytes from a migration data fd.
    case read(fd: Int32, count: Int)
    /// `write()` of `bytes` to a migration data fd.
    case write(fd: Int32, bytes: [UInt8])
    /// `close()` of a migration data fd.
    case close(fd: Int32)
    /// `VFIO_MIG_GET_PRECOPY_INFO` on a migration data fd.
    case precopyInfo(fd: Int32)
    /// Another system call on a migration data fd (``DataFDCall``).
    case dataFD(fd: Int32, call: DataFDCall)
    /// `VFIO_DEVICE_FEATURE_DMA_LOGGING_START` (SET of feature 6): `page_size` is the hint, `ranges` the IOVA ranges
    /// to track. The answer is ``DeviceOutcome/value(_:)`` with the page size the device wrote back.
    case dmaLoggingStart(pageSize: UInt64, ranges: [DMARange])
    /// `VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP` (SET of feature 7).
    case dmaLoggingStop
    /// `VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT` (GET of feature 8) over `[iova, iova + length)` at `pageSize`, with
    /// `bitmap` as the user's buffer before the call (one bit per page, u64 words, little endian). The answer is
    /// ``DeviceOutcome/bytes(_:)`` with the buffer after the call.
    case dmaLoggingReport(iova: UInt64, length: UInt64, pageSize: UInt64, bitmap: [UInt8])

    // MARK: two devices

    /// An operation on the run's peer device (`--peer`): a second device of the same kind, which resumes the
    /// source's stream.
    indirect case onPeer(DeviceOperation)
    /// An operation on the run's foreign device (`--foreign-peer`): a device of another type or configuration,
    /// whose stream the device under test must not load.
    indirect case onForeign(DeviceOperation)

    // MARK: both generations

    /// `VFIO_DEVICE_RESET`.
    case reset
    /// Closes the device (its device fd: the kernel releases the device, and a migration data fd still open then
    /// moves no more data) and opens it again as the target first opened it. The device comes back in its initial
    /// state with no session. A target that cannot close and open its device answers ``Errno/ENOSYS``.
    case reopen
    /// A read of `width` bytes (1, 2 or 4) of PCI config space (the config region), at `offset`.
    case configRead(offset: UInt64, width: Int)
    /// `VFIO_DEVICE_SET_IRQS` with `VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER` and count 0 on the
    /// interrupt index `index`: disables that interrupt type.
    case disableInterrupts(index: UInt32)
    /// Another access to the device (``DeviceAccess``).
    case access(DeviceAccess)

    // MARK: v1 (migration region)

    /// A read of `width` bytes (4 or 8) at `offset` of the migration region.
    case regionRead(offset: UInt64, width: Int)
    /// A write of `width` bytes (4 or 8) at `offset` of the migration region.
    case regionWrite(offset: UInt64, width: Int, value: UInt64)
    /// A read of `count` bytes of the region's data section, at region offset `offset`.
    case dataRead(offset: UInt64, count: Int)
    /// A write of `bytes` into the region's data section, at region offset `offset`.
    case dataWrite(offset: UInt64, bytes: [UInt8])
    /// `VFIO_DEVICE_GET_REGION_INFO` of the migration region: the answer is ``DeviceOutcome/value(_:)`` with the
    /// region's `flags` (``RegionV1/flagMmap`` set when it can be mmapped, by that flag or a sparse mmap
    /// capability). A target that cannot tell answers ``Errno/ENOSYS``.
    case regionInfo

    /// The request kind: the name of transcripts, deadlines (`--timeout KIND=S`) and the adapter protocol's `op`.
    package enum Kind: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
        case getMigrationFlags = "get-migration-flags"
        case feature
        case getState = "get-state"
        case setState = "set-state"
        case getDataSize = "get-data-size"
        case read
        case write
        case close
        case precopyInfo = "precopy-info"
        case dmaLoggingStart = "dma-logging-start"
        case dmaLoggingStop = "dma-logging-stop"
        case dmaLoggingReport = "dma-logging-report"
        case reset
        case reopen
        case configRead = "config-read"
        case disableInterrupts = "disable-interrupts"
        case regionRead = "region-read"
        case regionWrite = "region-write"
        case dataRead = "data-read"
        case dataWrite = "data-write"
        case regionInfo = "region-info"
        case dataFDFlags = "data-fd-fd-flags"
        case dataFDStatusFlags = "data-fd-status-flags"
        case dataFDSeek = "data-fd-seek"
        case dataFDPread = "data-fd-pread"
        case dataFDPwrite = "data-fd-pwrite"
        case dataFDPoll = "data-fd-poll"
        case dataFDPrecopyInfo = "data-fd-precopy-info"
        case dataFDIoctl = "data-fd-ioctl"
        case accessConfigWrite = "access-config-write"
        case accessBarRead = "access-bar-read"
        case accessEnableInterrupts = "access-enable-interrupts"

        package var description: String { rawValue }

        /// The case's position in ``allCases`` (its declaration order): a kind without payloads is stored as
        /// that one byte, so this reads it instead of comparing raw-value strings.
        package var ordinal: Int { Int(unsafeBitCast(self, to: UInt8.self)) }

        // Equality and hashing by the case, not by the raw value (which the standard library's defaults for a
        // raw-representable type use): kinds key the per-operation tallies and deadlines.
        package static func == (a: Kind, b: Kind) -> Bool { a.ordinal == b.ordinal }
        package func hash(into hasher: inout Hasher) { hasher.combine(ordinal) }
    }

    /// The request's kind; an operation on a peer has the kind of the operation itself.
    package var kind: Kind {
        switch self {
        case .getMigrationFlags: return .getMigrationFlags
        case .feature: return .feature
        case .getState: return .getState
        case .setState: return .setState
        case .getDataSize: return .getDataSize
        case .read: return .read
        case .write: return .write
        case .close: return .close
        case .precopyInfo: return .precopyInfo
        case .dataFD(_, let call): return call.kind
        case .dmaLoggingStart: return .dmaLoggingStart
        case .dmaLoggingStop: return .dmaLoggingStop
        case .dmaLoggingReport: return .dmaLoggingReport
        case .onPeer(let op), .onForeign(let op): return op.kind
        case .reset: return .reset
        case .reopen: return .reopen
        case .configRead: return .configRead
        case .disableInterrupts: return .disableInterrupts
        case .access(let a): return a.kind
        case .regionRead: return .regionRead
        case .regionWrite: return .regionWrite
        case .dataRead: return .dataRead
        case .dataWrite: return .dataWrite
        case .regionInfo: return .regionInfo
        }
    }
}

extension DeviceOperation {
    /// Which device the operation is for: `nil` for the device under test, `peer` or `foreign`.
    package var peerRole: String? {
        switch self {
        case .onPeer: return "peer"
        case .onForeign: return "foreign"
        default: return nil
        }
    }
    /// The operation without its routing to a peer.
    package var local: DeviceOperation {
        switch self {
        case .onPeer(let op), .onForeign(let op): return op.local
        default: return self
        }
    }
}

/// One IOVA range of `struct vfio_device_feature_dma_logging_range`.
package struct DMARange: Codable, Hashable, Sendable {
    package var iova: UInt64
    package var length: UInt64
    package init(iova: UInt64, length: UInt64) {
        self.iova = iova
        self.length = length
    }
}

/// The numbers of the DMA logging uAPI that the runner and the devices share.
package enum DMALogging {
    package static let start: UInt32 = 6
    package static let stop: UInt32 = 7
    package static let report: UInt32 = 8
    /// The smallest page size a REPORT may ask for; the core refuses smaller ones.
    package static let minimumPageSize: UInt64 = 4096
    /// The ranges the core accepts in one START: as many as fit in a 4 KiB page (16 bytes each).
    package static let maximumRanges = 256
    /// Bytes of bitmap a REPORT of `length` bytes at `pageSize` needs: one bit per page, in whole u64 words.
    package static func bitmapBytes(length: UInt64, pageSize: UInt64) -> Int {
        guard pageSize > 0 else { return 0 }
        let pages = length / pageSize + (length % pageSize == 0 ? 0 : 1)
        return Int((pages + 63) / 64 * 8)
    }
    /// The IOVA window the runner tracks: 2 MiB at 4 GiB. Kernel targets map a buffer there before logging.
    package static let window = DMARange(iova: 1 << 32, length: 2 << 20)
}

/// What a device answered to one ``DeviceOperation``.
package enum DeviceOutcome: Codable, Hashable, Sendable {
    /// Success with nothing to return (`close`, `reset`, a SET feature call, a v1 write).
    case done
    /// Success with a number (migration flags, data size, a register value, a byte count written).
    case value(UInt64)
    /// Success of a MIG_DEVICE_STATE GET or SET: the `device_state` and `data_fd` copied back.
    case state(UInt32, dataFD: Int32)
    /// Success with bytes (a data read; an empty array is end of stream). For a raw feature call: the payload.
    case bytes([UInt8])
    /// Success of `VFIO_MIG_GET_PRECOPY_INFO`.
    case precopy(initialBytes: UInt64, dirtyBytes: UInt64)
    /// The call failed with this errno.
    case failed(Errno)

    /// The errno, when the call failed.
    package var errno: Errno? {
        if case .failed(let e) = self { return e }
        return nil
    }
    /// True when the call succeeded.
    package var succeeded: Bool { errno == nil }
}
