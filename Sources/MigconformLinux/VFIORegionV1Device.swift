import MigconformDevice

/// A window onto one VFIO region: accesses at region offset `x` are `pread`/`pwrite` at file offset
/// `regionOffset + x` of the device fd (the layout `VFIO_DEVICE_GET_REGION_INFO` describes with its `offset`).
///
/// A regular file can stand in for a device fd: same offsets, same calls. The v1 backend's tests run that way.
package struct VFIORegionWindow: Equatable, Sendable {
    /// The fd the region is read and written through.
    package var fd: Int32
    /// Where the region starts in the fd's file offsets (`vfio_region_info.offset`).
    package var regionOffset: UInt64
    /// The region's size (`vfio_region_info.size`), for reporting; accesses are not clipped to it.
    package var regionSize: UInt64

    package init(fd: Int32, regionOffset: UInt64, regionSize: UInt64) {
        self.fd = fd
        self.regionOffset = regionOffset
        self.regionSize = regionSize
    }

    private func absolute(_ offset: UInt64) -> UInt64? {
        let (sum, overflow) = regionOffset.addingReportingOverflow(offset)
        return overflow ? nil : sum
    }

    /// A register read of `width` bytes (the v1 fields are 4 or 8 wide), little-endian. A short read is `EIO`.
    package func read(at offset: UInt64, width: Int) -> VFIOResult<UInt64> {
        guard (1...8).contains(width), let at = absolute(offset) else { return .failure(.EINVAL) }
        return Sys.pread(fd, count: width, at: at).flatMap {
            $0.count == width ? .success(LE.getN($0, width: width)) : .failure(.EIO)
        }
    }

    /// A register write of the low `width` bytes of `value`, little-endian. A short write is `EIO`.
    package func write(at offset: UInt64, width: Int, value: UInt64) -> VFIOResult<Void> {
        guard (1...8).contains(width), let at = absolute(offset) else { return .failure(.EINVAL) }
        return Sys.pwrite(fd, LE.putN(value, width: width), at: at).flatMap {
            $0 == width ? .success(()) : .failure(.EIO)
        }
    }

    /// One `pread` of at most `count` bytes of the data section (what the kernel answered, short or not).
    package func readBytes(at offset: UInt64, count: Int) -> VFIOResult<[UInt8]> {
        guard count >= 0, count <= 1 << 30, let at = absolute(offset) else { return .failure(.EINVAL) }
        return Sys.pread(fd, count: count, at: at)
    }

    /// One `pwrite` of `bytes` into the data section: answers the count accepted.
    package func writeBytes(at offset: UInt64, _ bytes: [UInt8]) -> VFIOResult<Int> {
        guard let at = absolute(offset) else { return .failure(.EINVAL) }
        return Sys.pwrite(fd, bytes, at: at)
    }
}

/// A kernel VFIO device that speaks the v1 migration protocol (Linux 5.8 to 5.17): a migration region
/// (`VFIO_REGION_TYPE_MIGRATION` / `VFIO_REGION_SUBTYPE_MIGRATION`) holding `struct vfio_device_migration_info`
/// at offset 0 and a data section at `data_offset`.
///
/// Register accesses (`regionRead`/`regionWrite`) are single `pread`/`pwrite` calls of the requested width at the
/// region's offset plus the field's offset; data accesses move the bytes as asked. Reset, config reads and
/// interrupt changes go to the device fd as for v2. No mainline kernel implements this region, so
/// ``standIn(path:)`` opens a regular file in its place (the file is the region, at offset 0).
package final class VFIORegionV1Device: MigrationDevice {
    package let generation: ProtocolGeneration = .v1
    package let identity: DeviceIdentity
    /// The device fd (or the stand-in file) and what keeps it open.
    package let file: VFIODeviceFile
    /// The migration region.
    package let region: VFIORegionWindow
    /// The migration region's `vfio_region_info.flags` (MMAP also set for a sparse mmap capability); nil for a
    /// stand-in file, which has no region info.
    package let regionFlags: UInt32?
    private var configRegion: VFIORegionInfo?

    init(file: VFIODeviceFile, region: VFIORegionInfo, identity: DeviceIdentity, hasRegionInfo: Bool = true) {
        self.file = file
        self.region = VFIORegionWindow(fd: file.fd, regionOffset: region.offset, regionSize: region.regionSize)
        self.regionFlags = hasRegionInfo ? region.flags : nil
        self.identity = identity
    }

    deinit { shutdown() }

    /// Opens a regular file as a stand-in migration region (offset 0, the file's size as the region size).
    /// Reset, config reads and interrupt requests reach the file's fd too and fail as a file answers (`ENOTTY`).
    package static func standIn(path: String, identity: DeviceIdentity? = nil) throws -> VFIORegionV1Device {
        let fd: Int32
        switch Sys.open(path, Sys.readWrite) {
        case .success(let f): fd = f
        case .failure(let e):
            throw VFIOTargetError(
                path: path, step: "open the stand-in region file", errno: e,
                hint: "create the file first (32 bytes of header and a data section)")
        }
        let file = VFIODeviceFile(fd: fd, name: path, path: path)
        let size = Sys.fileSize(fd) ?? 0
        let id =
            identity
            ?? DeviceIdentity(
                targetKind: "vfio", driver: "region-file",
                detail: "v1 migration region stand-in \(path)",
                extra: ["regionFile": path])
        return VFIORegionV1Device(
            file: file, region: VFIORegionInfo(index: 0, regionSize: size, offset: 0),
            identity: id, hasRegionInfo: false)
    }

    package func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        guard !file.isClosed else { throw TransportError("\(file.path): the device was already shut down") }
        switch operation {
        case .regionRead(let offset, let width):
            switch region.read(at: offset, width: width) {
            case .success(let v): return .value(v)
            case .failure(let e): return .failed(e)
            }
        case .regionWrite(let offset, let width, let value):
            switch region.write(at: offset, width: width, value: value) {
            case .success: return .done
            case .failure(let e): return .failed(e)
            }
        case .dataRead(let offset, let count):
            switch region.readBytes(at: offset, count: count) {
            case .success(let b): return .bytes(b)
            case .failure(let e): return .failed(e)
            }
        case .dataWrite(let offset, let bytes):
            switch region.writeBytes(at: offset, bytes) {
            case .success(let n): return .value(UInt64(n))
            case .failure(let e): return .failed(e)
            }
        case .regionInfo:
            // A stand-in file cannot tell whether a kernel would let the region be mmapped.
            return regionFlags.map { .value(UInt64($0)) } ?? .failed(.ENOSYS)
        case .reopen:
            // The v1 rules do not close and open the device.
            return .failed(.ENOSYS)
        case .reset, .configRead, .disableInterrupts, .access:
            return file.performDeviceCall(operation, config: &configRegion)
        case .getMigrationFlags, .feature, .getState, .setState, .getDataSize, .read, .write, .close, .precopyInfo,
            .dataFD, .dmaLoggingStart, .dmaLoggingStop, .dmaLoggingReport,
            .onPeer, .onForeign:
            throw TransportError("\(operation.kind) is a v2 (VFIO_DEVICE_FEATURE) request; \(file.name) speaks v1")
        }
    }

    /// Closes the device (and its group and container, or iommufd), or the stand-in file.
    package func shutdown() { file.close() }
}
