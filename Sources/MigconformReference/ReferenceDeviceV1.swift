import MigconformDevice

/// A correct v1 migration device: the `vfio_device_migration_info` register file at offset 0 of a migration
/// region, a data section behind it, and the five valid states of the v1 header, fully interconnected.
/// Written from the v1 header text and the list discussion (seed 001), independently of the spec files.
package class ReferenceDeviceV1: MigrationDevice {
    package struct Configuration: Sendable {
        package var stateSize: UInt64
        /// Share of the state readable in pre-copy (011b) before stop-and-copy.
        package var preCopyShare: Double
        /// Size of the data window at `data_offset`.
        package var window: Int
        package var seed: UInt64
        /// The migration region can be mmapped (`VFIO_REGION_INFO_FLAG_MMAP` in its region info).
        package var mmapCapable: Bool
        /// Where the data section starts in the region (`data_offset`): page aligned by default.
        package var dataOffset: UInt64
        package init(
            stateSize: UInt64 = 4096, preCopyShare: Double = 0.5, window: Int = 1024, seed: UInt64 = 0x7631,
            mmapCapable: Bool = true, dataOffset: UInt64 = ReferenceDeviceV1.dataOffset
        ) {
            self.stateSize = stateSize
            self.preCopyShare = preCopyShare
            self.window = window
            self.seed = seed
            self.mmapCapable = mmapCapable
            self.dataOffset = dataOffset
        }
    }

    /// The default `data_offset`: one page, past the register file.
    package static let dataOffset: UInt64 = 4096

    package let configuration: Configuration
    package let generation = ProtocolGeneration.v1
    package var identity: DeviceIdentity {
        DeviceIdentity(
            targetKind: "reference", driver: "migconform-reference", detail: "reference v1 device (migration region)",
            extra: ["state-size": String(configuration.stateSize)])
    }
    /// An in-process simulator: every operation returns at once.
    package var answersPromptly: Bool { true }

    /// The whole `device_state` word, reserved bits included.
    package var deviceState: UInt32 = RegionV1.running
    var writer: StreamWriter?
    var preCopyLimit: UInt64 = 0
    var reader: StreamReader?
    /// The data section; `dataSize` bytes of it are the current chunk.
    var section: [UInt8]
    var dataSize: UInt64 = 0
    /// The current chunk was read from the data section (or there is none): the next read of data_offset prepares
    /// a new one. Until then data_offset and data_size describe the same buffer however often they are read.
    var chunkConsumed = true

    package init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.section = [UInt8](repeating: 0, count: configuration.window)
    }

    var bits: UInt32 { deviceState & RegionV1.stateMask }
    /// Where the data section starts (``Configuration/dataOffset``).
    var dataOffset: UInt64 { configuration.dataOffset }

    package func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        switch operation {
        case .regionRead(let offset, let width): return regionRead(offset: offset, width: width)
        case .regionWrite(let offset, let width, let value):
            return regionWrite(offset: offset, width: width, value: value)
        case .dataRead(let offset, let count):
            guard offset >= dataOffset, Int(offset - dataOffset) + count <= section.count else {
                return .failed(.EINVAL)
            }
            chunkConsumed = true
            let start = Int(offset - dataOffset)
            return .bytes(Array(section[start..<start + count]))
        case .dataWrite(let offset, let bytes):
            guard offset >= dataOffset, Int(offset - dataOffset) + bytes.count <= section.count else {
                return .failed(.EINVAL)
            }
            let start = Int(offset - dataOffset)
            section.replaceSubrange(start..<start + bytes.count, with: bytes)
            return .done
        case .reset:
            resetDevice()
            return .done
        case .reopen:
            // The v1 rules do not close and open the device.
            return .failed(.ENOSYS)
        case .configRead(let offset, let width):
            guard [1, 2, 4].contains(width), offset + UInt64(width) <= 256 else { return .failed(.EINVAL) }
            let header: [UInt8] = [0x34, 0x12, 0xe9, 0x11]
            var v: UInt64 = 0
            for i in 0..<width where Int(offset) + i < header.count { v |= UInt64(header[Int(offset) + i]) << (8 * i) }
            return .value(v)
        case .disableInterrupts: return .done
        case .regionInfo:
            let rw = RegionV1.flagRead | RegionV1.flagWrite
            return .value(configuration.mmapCapable ? rw | RegionV1.flagMmap : rw)
        case .getMigrationFlags, .feature, .getState, .setState, .getDataSize, .precopyInfo, .dmaLoggingStart,
            .dmaLoggingStop,
            .dmaLoggingReport, .onPeer, .onForeign:
            return .failed(.ENOTTY) // no v2 migration feature on a v1 device
        case .access:
            return .failed(.ENOSYS) // no v1 rule asks for them
        case .read, .write, .close, .dataFD:
            return .failed(.EBADF)
        }
    }

    package func resetDevice() {
        deviceState = RegionV1.running
        writer = nil
        reader = nil
        dataSize = 0
    }

    /// Bytes the saving phase can hand out now.
    var pending: UInt64 {
        guard let w = writer else { return 0 }
        if bits == RegionV1.saving | RegionV1.running {
            return preCopyLimit > w.offset ? preCopyLimit - w.offset : 0
        }
        return bits & RegionV1.saving != 0 ? w.remaining : 0
    }

    package func regionRead(offset: UInt64, width: Int) -> DeviceOutcome {
        switch (offset, width) {
        case (RegionV1.deviceState, 4): return .value(UInt64(deviceState))
        case (RegionV1.reserved, 4): return .value(0)
        case (RegionV1.pendingBytes, 8): return .value(pending)
        case (RegionV1.dataOffset, 8):
            // Reading data_offset asks for the next chunk (save) or where to put one (resume).
            if bits & RegionV1.saving != 0, var w = writer, bits != RegionV1.error, chunkConsumed || dataSize == 0 {
                let chunk = w.next(Int(min(pending, UInt64(section.count))))
                writer = w
                section.replaceSubrange(0..<chunk.count, with: chunk)
                dataSize = UInt64(chunk.count)
                chunkConsumed = false
            }
            return .value(dataOffset)
        case (RegionV1.dataSize, 8): return .value(dataSize)
        default: return .failed(.EINVAL) // only native width and alignment
        }
    }

    package func regionWrite(offset: UInt64, width: Int, value: UInt64) -> DeviceOutcome {
        switch (offset, width) {
        case (RegionV1.deviceState, 4): return writeState(UInt32(truncatingIfNeeded: value))
        case (RegionV1.reserved, 4): return .done // ignored
        case (RegionV1.dataSize, 8):
            guard bits == RegionV1.resuming, var r = reader else { return .failed(.EINVAL) }
            guard value <= UInt64(section.count) else { return .failed(.EINVAL) }
            guard r.accept(Array(section[0..<Int(value)])) else {
                reader = r
                return .failed(.EINVAL)
            }
            reader = r
            return .done
        default: return .failed(.EINVAL)
        }
    }

    /// Whether a 3-bit state is one of the five valid ones (101b, 110b and 111b are not).
    package static func isValid(_ b: UInt32) -> Bool { b <= 4 }

    package func writeState(_ word: UInt32) -> DeviceOutcome {
        let new = word & RegionV1.stateMask
        if bits == RegionV1.error { return .failed(.EINVAL) } // only reset leaves the error state
        guard Self.isValid(new) else { return .failed(.EINVAL) }
        let old = bits
        let wasSaving = old & RegionV1.saving != 0
        let willSave = new & RegionV1.saving != 0
        if old == RegionV1.resuming && new != RegionV1.resuming {
            let problem: StreamReader.Problem? = reader.map { $0.verdict() } ?? .truncated
            reader = nil
            if problem != nil {
                deviceState = (deviceState & ~RegionV1.stateMask) | RegionV1.error
                return .failed(.EINVAL)
            }
        }
        if !wasSaving && willSave {
            writer = StreamWriter(payloadSize: configuration.stateSize, seed: configuration.seed)
            let share = UInt64(Double(configuration.stateSize) * configuration.preCopyShare)
            preCopyLimit = new == RegionV1.saving | RegionV1.running ? UInt64(ReferenceStream.headerSize) + share : 0
            dataSize = 0
        } else if wasSaving && !willSave {
            writer = nil
            dataSize = 0
        }
        if new == RegionV1.resuming && old != RegionV1.resuming { reader = StreamReader() }
        deviceState = (word & ~RegionV1.stateMask) | new
        return .done
    }
}
