// Device access beyond the migration uAPI, each one real system call on the device fd: a pwrite into the config
// region, a pread of a BAR region, VFIO_DEVICE_SET_IRQS with an eventfd.

import CVFIOShim
import MigconformDevice

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

enum DeviceAccessCalls {
    static func perform(_ a: DeviceAccess, on file: VFIODeviceFile, config: inout VFIORegionInfo?) -> DeviceOutcome {
        switch a {
        case .configWrite(let offset, let width, let value):
            guard (1...8).contains(width) else { return .failed(.EINVAL) }
            if config == nil {
                switch file.regionInfo(index: VFIOConstant.pciConfigRegionIndex) {
                case .success(let (info, _)): config = info
                case .failure(let e): return .failed(e)
                }
            }
            let (at, overflow) = config!.offset.addingReportingOverflow(offset)
            if overflow { return .failed(.EINVAL) }
            let bytes = (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
            switch Sys.pwrite(file.fd, bytes, at: at) {
            case .success(let n): return n == width ? .done : .failed(.EIO)
            case .failure(let e): return .failed(e)
            }
        case .barRead(let index, let offset, let width):
            guard index <= 5, (1...8).contains(width) else { return .failed(.EINVAL) }
            let info: VFIORegionInfo
            switch file.regionInfo(index: index) {
            case .success(let (i, _)): info = i
            case .failure(let e): return .failed(e == .EINVAL ? .ENXIO : e)
            }
            // A BAR the device does not have, or cannot read, is not a refusal of this state.
            guard info.regionSize > 0, info.flags & VFIOConstant.regionFlagRead != 0 else { return .failed(.ENXIO) }
            let (at, overflow) = info.offset.addingReportingOverflow(offset)
            if overflow { return .failed(.EINVAL) }
            switch Sys.pread(file.fd, count: width, at: at) {
            case .success(let b) where b.count == width: return .value(LE.getN(b, width: width))
            case .success: return .failed(.EIO)
            case .failure(let e): return .failed(e)
            }
        case .enableInterrupts(let index):
            let event = cvfio_eventfd()
            guard event >= 0 else { return .failed(Sys.lastErrno) }
            // The kernel takes its own reference to the eventfd: ours is closed at once.
            defer { _ = Sys.close(event) }
            var fdBytes = [UInt8](repeating: 0, count: 4)
            LE.put32(UInt32(bitPattern: event), &fdBytes, at: 0)
            let set = VFIOIRQSet(
                flags: VFIOConstant.irqSetDataEventFD | VFIOConstant.irqSetActionTrigger, index: index,
                start: 0, count: 1, data: fdBytes)
            var buffer = set.encoded()
            switch Sys.ioctl(file.fd, VFIOIoctl.deviceSetIRQs, &buffer) {
            case .success: return .done
            case .failure(let e): return .failed(e)
            }
        }
    }
}
