// The system-call layer of the Linux backend: open, ioctl, pread/pwrite, read/write/close, each answering the errno
// of a failure. The ioctl goes through the CVFIOShim C target (ioctl(2) is variadic). Everything here is plain
// POSIX, so the v1 region layer can be exercised against a regular file on any system.

import CVFIOShim
import MigconformDevice

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin wrappers over the C calls: every failure comes back as the `errno` the kernel set.
enum Sys {
    static var lastErrno: Errno { Errno(rawValue: errno) }

    static func open(_ path: String, _ flags: Int32) -> VFIOResult<Int32> {
        let fd = path.withCString { sysOpen($0, flags | O_CLOEXEC) }
        return fd >= 0 ? .success(fd) : .failure(lastErrno)
    }
    static func close(_ fd: Int32) -> Errno? {
        sysClose(fd) == 0 ? nil : lastErrno
    }
    /// An ioctl whose argument is a buffer the kernel reads and writes back.
    static func ioctl(_ fd: Int32, _ request: UInt, _ buffer: inout [UInt8]) -> VFIOResult<Int32> {
        let rc = buffer.withUnsafeMutableBytes { cvfio_ioctl_ptr(fd, request, $0.baseAddress) }
        return rc >= 0 ? .success(rc) : .failure(lastErrno)
    }
    /// An ioctl without an argument.
    static func ioctl(_ fd: Int32, _ request: UInt) -> VFIOResult<Int32> {
        let rc = cvfio_ioctl_none(fd, request)
        return rc >= 0 ? .success(rc) : .failure(lastErrno)
    }
    /// An ioctl with an integer argument.
    static func ioctl(_ fd: Int32, _ request: UInt, value: UInt) -> VFIOResult<Int32> {
        let rc = cvfio_ioctl_int(fd, request, value)
        return rc >= 0 ? .success(rc) : .failure(lastErrno)
    }
    /// One read(2) of at most `count` bytes: exactly what the kernel answered, no retry loop.
    static func read(_ fd: Int32, count: Int) -> VFIOResult<[UInt8]> {
        var buffer = [UInt8](repeating: 0, count: max(count, 0))
        let n = buffer.withUnsafeMutableBytes { sysRead(fd, $0.baseAddress, count) }
        guard n >= 0 else { return .failure(lastErrno) }
        return .success(Array(buffer.prefix(n)))
    }
    /// One read(2) of at most `count` bytes into `scratch` (grown when too small, kept for the next read): only
    /// the bytes read are copied out, so a large read size costs no allocation or page touching per call.
    static func read(_ fd: Int32, count: Int, scratch: inout UnsafeMutableRawBufferPointer) -> VFIOResult<[UInt8]> {
        let n0 = max(count, 0)
        if scratch.count < n0 {
            scratch.deallocate()
            scratch = .allocate(byteCount: n0, alignment: 4096)
        }
        let n = sysRead(fd, scratch.baseAddress, n0)
        guard n >= 0 else { return .failure(lastErrno) }
        return .success([UInt8](UnsafeRawBufferPointer(rebasing: scratch[0..<n])))
    }
    /// One write(2): answers the count the kernel accepted.
    static func write(_ fd: Int32, _ bytes: [UInt8]) -> VFIOResult<Int> {
        let n = bytes.withUnsafeBytes { sysWrite(fd, $0.baseAddress, bytes.count) }
        return n >= 0 ? .success(n) : .failure(lastErrno)
    }
    static func pread(_ fd: Int32, count: Int, at offset: UInt64) -> VFIOResult<[UInt8]> {
        guard offset <= UInt64(Int64.max) else { return .failure(.EINVAL) }
        var buffer = [UInt8](repeating: 0, count: max(count, 0))
        let n = buffer.withUnsafeMutableBytes { sysPread(fd, $0.baseAddress, count, off_t(offset)) }
        guard n >= 0 else { return .failure(lastErrno) }
        return .success(Array(buffer.prefix(n)))
    }
    /// `O_RDWR`, for files opened by the other modules' code.
    static let readWrite = O_RDWR
    /// The size of a regular file (`lseek` to the end), or nil.
    static func fileSize(_ fd: Int32) -> UInt64? {
        let end = lseek(fd, 0, SEEK_END)
        return end >= 0 ? UInt64(end) : nil
    }
    static func pwrite(_ fd: Int32, _ bytes: [UInt8], at offset: UInt64) -> VFIOResult<Int> {
        guard offset <= UInt64(Int64.max) else { return .failure(.EINVAL) }
        let n = bytes.withUnsafeBytes { sysPwrite(fd, $0.baseAddress, bytes.count, off_t(offset)) }
        return n >= 0 ? .success(n) : .failure(lastErrno)
    }
}

// The C library's names, under names that do not collide with the wrappers above.
private func sysOpen(_ path: UnsafePointer<CChar>, _ flags: Int32) -> Int32 { open(path, flags) }
private func sysClose(_ fd: Int32) -> Int32 { close(fd) }
private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { read(fd, p, n) }
private func sysWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int { write(fd, p, n) }
private func sysPread(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int, _ o: off_t) -> Int { pread(fd, p, n, o) }
private func sysPwrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int, _ o: off_t) -> Int { pwrite(fd, p, n, o) }

/// An open VFIO device fd (a `struct file` of the vfio device) and the fds that keep it usable: the group and
/// its container on the group path, or the iommufd on the cdev path. Closing it closes them all, device first.
package final class VFIODeviceFile {
    /// The device fd (another number after ``reopen()``).
    package private(set) var fd: Int32
    /// The device's name: a PCI address, an mdev UUID, or `vfioN` for a cdev.
    package let name: String
    /// The path the device was opened through (`/dev/vfio/12/0000:3b:00.1`, `/dev/vfio/devices/vfio0`).
    package let path: String
    private var companions: [Int32]
    package private(set) var isClosed = false
    /// What became of the DMA mapping of the runner's IOVA window (``DMALogging/window``), for the report.
    package internal(set) var dmaMapping = "not mapped: the device was not opened through a type1 container"
    /// The memory mapped at the window, kept until the device is closed.
    private var dmaBuffer: UnsafeMutableRawPointer?
    /// Opens the device fd again through the companions, as it was first opened: `VFIO_GROUP_GET_DEVICE_FD` on
    /// the group, or the cdev opened and bound to the iommufd again. Nil when the device cannot be reopened.
    var opener: (() -> VFIOResult<Int32>)?

    init(fd: Int32, name: String, path: String, companions: [Int32] = []) {
        self.fd = fd
        self.name = name
        self.path = path
        self.companions = companions
    }

    deinit { close() }

    /// Closes the device fd, then the group, container or iommufd behind it.
    package func close() {
        guard !isClosed else { return }
        isClosed = true
        _ = Sys.close(fd)
        for c in companions.reversed() { _ = Sys.close(c) }
        companions = []
        dmaBuffer?.deallocate()
        dmaBuffer = nil
    }

    /// Closes the device fd alone (the kernel releases the device: its driver closes it, and its migration data
    /// fds move no more data) and opens it again; the group and container, or the iommufd, stay open. `ENOSYS`
    /// when the device has no way to be opened again; when opening fails the device fd is gone and every later
    /// call on it fails with `EBADF`.
    func reopen() -> DeviceOutcome {
        guard !isClosed, let opener else { return .failed(.ENOSYS) }
        // Linux releases the fd even when close(2) reports an error: the device is closed either way.
        _ = Sys.close(fd)
        fd = -1
        switch opener() {
        case .success(let new):
            fd = new
            return .done
        case .failure(let e): return .failed(e)
        }
    }

    /// Maps a buffer at the runner's IOVA window through the type1 `container` (`VFIO_IOMMU_MAP_DMA`), so that the
    /// DMA logging ranges name memory the device may reach. Records the result in ``dmaMapping``; never fails.
    func mapDMAWindow(container: Int32) {
        let w = DMALogging.window
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Int(w.length), alignment: 1 << 21)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: Int(w.length))
        var arg = VFIODMAMap.encode(vaddr: UInt64(UInt(bitPattern: buffer)), iova: w.iova, length: w.length)
        switch Sys.ioctl(container, VFIOIoctl.iommuMapDMA, &arg) {
        case .success:
            dmaBuffer = buffer
            dmaMapping = "mapped \(w.length >> 20) MiB at IOVA 0x\(String(w.iova, radix: 16)) (VFIO_IOMMU_MAP_DMA)"
        case .failure(let e):
            buffer.deallocate()
            dmaMapping = "not mapped: VFIO_IOMMU_MAP_DMA at IOVA 0x\(String(w.iova, radix: 16)) failed with \(e.name)"
        }
    }

    /// A `VFIO_DEVICE_FEATURE` whose payload holds a pointer to `data`: `payload` is built from the address of a
    /// copy of `data`, which the kernel may read and write; answers the payload and the copy as the kernel left them.
    func feature(
        flags: UInt32, data: [UInt8],
        payload: (UInt64) -> [UInt8]
    ) -> VFIOResult<(payload: [UInt8], data: [UInt8])> {
        var copy = data
        let result = copy.withUnsafeMutableBytes { raw -> VFIOResult<[UInt8]> in
            feature(flags: flags, payload: payload(UInt64(UInt(bitPattern: raw.baseAddress))))
        }
        return result.map { ($0, copy) }
    }

    /// `VFIO_DEVICE_FEATURE` with a payload: answers the payload as the kernel left it.
    func feature(flags: UInt32, payload: [UInt8]) -> VFIOResult<[UInt8]> {
        var buffer = VFIODeviceFeature(flags: flags, payload: payload).encoded()
        return Sys.ioctl(fd, VFIOIoctl.deviceFeature, &buffer).map { _ in Array(buffer[VFIODeviceFeature.size...]) }
    }

    /// `VFIO_DEVICE_GET_INFO`.
    func deviceInfo() -> VFIOResult<VFIODeviceInfo> {
        var buffer = VFIODeviceInfo().encoded()
        return Sys.ioctl(fd, VFIOIoctl.deviceGetInfo, &buffer).flatMap { _ in
            (try? VFIODeviceInfo(decoding: buffer)).map { .success($0) } ?? .failure(.EIO)
        }
    }

    /// `VFIO_DEVICE_GET_REGION_INFO` for `index`, with the whole buffer the kernel filled (capability chain
    /// included: when the kernel asks for a larger `argsz`, the call is repeated with that size).
    func regionInfo(index: UInt32) -> VFIOResult<(info: VFIORegionInfo, buffer: [UInt8])> {
        var buffer = VFIORegionInfo(index: index).encoded()
        if case .failure(let e) = Sys.ioctl(fd, VFIOIoctl.deviceGetRegionInfo, &buffer) { return .failure(e) }
        guard var info = try? VFIORegionInfo(decoding: buffer) else { return .failure(.EIO) }
        if info.argsz > UInt32(VFIORegionInfo.size), info.argsz <= 1 << 20 {
            buffer =
                VFIORegionInfo(argsz: info.argsz, index: index).encoded()
                + [UInt8](repeating: 0, count: Int(info.argsz) - VFIORegionInfo.size)
            if case .failure(let e) = Sys.ioctl(fd, VFIOIoctl.deviceGetRegionInfo, &buffer) { return .failure(e) }
            guard let again = try? VFIORegionInfo(decoding: buffer) else { return .failure(.EIO) }
            info = again
        }
        return .success((info, buffer))
    }

    /// The region type capability (`VFIO_REGION_INFO_CAP_TYPE`) of a region, when it has one.
    func regionType(index: UInt32) -> VFIOResult<VFIORegionInfoCapType?> {
        regionInfo(index: index).map { info, buffer in
            VFIODeviceFile.regionType(info: info, buffer: buffer)
        }
    }

    static func regionType(info: VFIORegionInfo, buffer: [UInt8]) -> VFIORegionInfoCapType? {
        guard info.flags & VFIOConstant.regionFlagCaps != 0, info.capOffset != 0,
            let chain = try? VFIOCapabilityHeader.chain(in: buffer, first: info.capOffset)
        else { return nil }
        for (offset, header) in chain where header.id == VFIOConstant.regionCapType {
            guard offset + VFIORegionInfoCapType.size <= buffer.count else { continue }
            return try? VFIORegionInfoCapType(decoding: Array(buffer[offset..<(offset + VFIORegionInfoCapType.size)]))
        }
        return nil
    }

    /// Whether a region's capability chain holds a sparse mmap capability (`VFIO_REGION_INFO_CAP_SPARSE_MMAP`).
    static func hasSparseMmap(info: VFIORegionInfo, buffer: [UInt8]) -> Bool {
        guard info.flags & VFIOConstant.regionFlagCaps != 0, info.capOffset != 0,
            let chain = try? VFIOCapabilityHeader.chain(in: buffer, first: info.capOffset)
        else { return false }
        return chain.contains { $0.header.id == VFIOConstant.regionCapSparseMmap }
    }

    /// Finds the v1 migration region (type 3, subtype 1) by walking every region's capability chain. Its flags
    /// have `VFIO_REGION_INFO_FLAG_MMAP` set also when a sparse mmap capability makes part of it mappable.
    func findMigrationRegionV1() -> VFIORegionInfo? {
        guard case .success(let device) = deviceInfo() else { return nil }
        for index in 0..<min(device.numRegions, 64) {
            guard case .success(let (info, buffer)) = regionInfo(index: index),
                let type = VFIODeviceFile.regionType(info: info, buffer: buffer), type.isMigrationV1
            else { continue }
            var found = info
            if VFIODeviceFile.hasSparseMmap(info: info, buffer: buffer) { found.flags |= VFIOConstant.regionFlagMmap }
            return found
        }
        return nil
    }

    /// A read of `width` bytes (1 to 8) at `offset` of the config region (`VFIO_PCI_CONFIG_REGION_INDEX`).
    func configRead(offset: UInt64, width: Int, region: inout VFIORegionInfo?) -> DeviceOutcome {
        guard (1...8).contains(width) else { return .failed(.EINVAL) }
        if region == nil {
            switch regionInfo(index: VFIOConstant.pciConfigRegionIndex) {
            case .success(let (info, _)): region = info
            case .failure(let e): return .failed(e)
            }
        }
        let (sum, overflow) = region!.offset.addingReportingOverflow(offset)
        if overflow { return .failed(.EINVAL) }
        switch Sys.pread(fd, count: width, at: sum) {
        case .success(let bytes) where bytes.count == width: return .value(LE.getN(bytes, width: width))
        case .success: return .failed(.EIO)
        case .failure(let e): return .failed(e)
        }
    }

    /// `VFIO_DEVICE_SET_IRQS` with DATA_NONE | ACTION_TRIGGER and count 0 on `index`.
    func disableInterrupts(index: UInt32) -> DeviceOutcome {
        var buffer = VFIOIRQSet.disable(index: index).encoded()
        switch Sys.ioctl(fd, VFIOIoctl.deviceSetIRQs, &buffer) {
        case .success: return .done
        case .failure(let e): return .failed(e)
        }
    }

    /// `VFIO_DEVICE_RESET`.
    func reset() -> DeviceOutcome {
        switch Sys.ioctl(fd, VFIOIoctl.deviceReset) {
        case .success: return .done
        case .failure(let e): return .failed(e)
        }
    }

    /// The requests both protocol generations answer the same way, on the device fd itself: reset, config reads,
    /// interrupts and device accesses. ENOSYS for any other request (the callers send none).
    func performDeviceCall(_ operation: DeviceOperation, config: inout VFIORegionInfo?) -> DeviceOutcome {
        switch operation {
        case .reset: return reset()
        case .configRead(let offset, let width): return configRead(offset: offset, width: width, region: &config)
        case .disableInterrupts(let index): return disableInterrupts(index: index)
        case .access(let a): return DeviceAccessCalls.perform(a, on: self, config: &config)
        default: return .failed(.ENOSYS) // not a call on the device fd itself
        }
    }
}

/// The answer of one system call: its value, or the `errno` it failed with. (`Result` with the errno as the
/// failure, without asking `Errno` to be an `Error`.)
package enum VFIOResult<Value> {
    case success(Value)
    case failure(Errno)

    package func map<T>(_ transform: (Value) -> T) -> VFIOResult<T> {
        switch self {
        case .success(let v): return .success(transform(v))
        case .failure(let e): return .failure(e)
        }
    }
    package func flatMap<T>(_ transform: (Value) -> VFIOResult<T>) -> VFIOResult<T> {
        switch self {
        case .success(let v): return transform(v)
        case .failure(let e): return .failure(e)
        }
    }
    /// The errno, when the call failed.
    package var errno: Errno? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
