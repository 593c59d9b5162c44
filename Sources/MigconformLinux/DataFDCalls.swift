// System calls on a migration data fd beyond read/write/close: fcntl, lseek, pread/pwrite, poll and ioctls, each
// one real call answered with the errno the kernel set.

import CVFIOShim
import MigconformDevice

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

enum DataFDCalls {
    /// Performs `call` on `fd`, an fd the device handed out and has not closed.
    static func perform(_ call: DataFDCall, on fd: Int32) -> DeviceOutcome {
        func fail() -> DeviceOutcome { .failed(Sys.lastErrno) }
        switch call {
        case .fdFlags:
            let v = fcntl(fd, F_GETFD)
            return v >= 0 ? .value(UInt64(v)) : fail()
        case .statusFlags:
            let v = fcntl(fd, F_GETFL)
            return v >= 0 ? .value(UInt64(v)) : fail()
        case .seek(let offset):
            let v = lseek(fd, off_t(offset), SEEK_SET)
            return v >= 0 ? .value(UInt64(v)) : fail()
        case .pread(let count, let offset):
            guard count >= 0, count <= 1 << 20 else { return .failed(.EINVAL) }
            var buffer = [UInt8](repeating: 0, count: count)
            let n = buffer.withUnsafeMutableBytes { cPread(fd, $0.baseAddress, count, off_t(offset)) }
            return n >= 0 ? .bytes(Array(buffer.prefix(n))) : fail()
        case .pwrite(let bytes, let offset):
            let n = bytes.withUnsafeBytes { cPwrite(fd, $0.baseAddress, bytes.count, off_t(offset)) }
            return n >= 0 ? .value(UInt64(n)) : fail()
        case .poll:
            var p = pollfd(fd: fd, events: Int16(POLLIN | POLLOUT), revents: 0)
            let n = cPoll(&p)
            return n >= 0 ? .value(UInt64(UInt16(bitPattern: p.revents))) : fail()
        case .precopyInfo(let argsz, let flags):
            // The full structure is always passed: only argsz says it is shorter.
            var buffer = DataFD.PrecopyInfo(argsz: argsz, flags: flags, initialBytes: 0, dirtyBytes: 0).bytes
            switch Sys.ioctl(fd, VFIOIoctl.migGetPrecopyInfo, &buffer) {
            case .failure(let e): return .failed(e)
            case .success: return .bytes(buffer)
            }
        case .ioctl(let request):
            switch Sys.ioctl(fd, UInt(request)) {
            case .failure(let e): return .failed(e)
            case .success(let rc): return .value(UInt64(rc))
            }
        }
    }
}

// The C library's names, under names that the enum's own members cannot shadow.
private func cPread(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int, _ o: off_t) -> Int { pread(fd, p, n, o) }
private func cPwrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int, _ o: off_t) -> Int { pwrite(fd, p, n, o) }
private func cPoll(_ p: UnsafeMutablePointer<pollfd>) -> Int32 { poll(p, 1, 0) }
