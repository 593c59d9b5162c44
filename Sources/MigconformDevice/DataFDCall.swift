/// A system call on a migration data fd beyond `read`, `write` and `close`: the fd's own properties (close-on-exec,
/// access mode, no seeking), `poll`, and ioctls (`VFIO_MIG_GET_PRECOPY_INFO` with a chosen `argsz`, an unknown
/// request). Carried by ``DeviceOperation/dataFD(fd:call:)``.
///
/// A device that cannot perform a call at all (a simulator without such a notion, an adapter of an older protocol
/// version) answers ``Errno/ENOSYS``, which no kernel returns for these calls: the check is then NOT_APPLICABLE.
package enum DataFDCall: Codable, Hashable, Sendable {
    /// `fcntl(F_GETFD)`: the answer is ``DeviceOutcome/value(_:)`` with the fd flags (`FD_CLOEXEC` is 1).
    case fdFlags
    /// `fcntl(F_GETFL)`: the answer is the file status flags; `O_ACCMODE` (3) holds the access mode.
    case statusFlags
    /// `lseek(fd, offset, SEEK_SET)`: the new offset as a value.
    case seek(offset: Int64)
    /// `pread` of `count` bytes at `offset`.
    case pread(count: Int, offset: Int64)
    /// `pwrite` of `bytes` at `offset`: the count written as a value.
    case pwrite(bytes: [UInt8], offset: Int64)
    /// `poll` for `POLLIN | POLLOUT` with a timeout of 0: `revents` as a value (0 when nothing is ready).
    case poll
    /// `VFIO_MIG_GET_PRECOPY_INFO` with a 24-byte `struct vfio_precopy_info` holding `argsz` and `flags`: the
    /// answer is ``DeviceOutcome/bytes(_:)`` with the 24 bytes after the call (argsz, flags, initial_bytes,
    /// dirty_bytes, little endian).
    case precopyInfo(argsz: UInt32, flags: UInt32)
    /// `ioctl(fd, request)` with no argument: a request the fd does not know must fail.
    case ioctl(request: UInt32)

    /// The name of the call in transcripts and the adapter protocol.
    package var name: String {
        switch self {
        case .fdFlags: return "fd-flags"
        case .statusFlags: return "status-flags"
        case .seek: return "seek"
        case .pread: return "pread"
        case .pwrite: return "pwrite"
        case .poll: return "poll"
        case .precopyInfo: return "precopy-info"
        case .ioctl: return "ioctl"
        }
    }

    /// The operation kind of the call (`data-fd-` and its name).
    package var kind: DeviceOperation.Kind {
        switch self {
        case .fdFlags: return .dataFDFlags
        case .statusFlags: return .dataFDStatusFlags
        case .seek: return .dataFDSeek
        case .pread: return .dataFDPread
        case .pwrite: return .dataFDPwrite
        case .poll: return .dataFDPoll
        case .precopyInfo: return .dataFDPrecopyInfo
        case .ioctl: return .dataFDIoctl
        }
    }

    /// Its arguments, as `key=value` words for transcripts.
    package var arguments: [String] {
        switch self {
        case .fdFlags, .statusFlags, .poll: return []
        case .seek(let offset): return ["offset=\(offset)"]
        case .pread(let count, let offset): return ["count=\(count)", "offset=\(offset)"]
        case .pwrite(let bytes, let offset): return ["bytes=\(bytes.count)", "offset=\(offset)"]
        case .precopyInfo(let argsz, let flags): return ["argsz=\(argsz)", "flags=0x\(String(flags, radix: 16))"]
        case .ioctl(let request): return ["request=0x\(String(request, radix: 16))"]
        }
    }
}

/// The numbers of the data fd calls that the runner and the devices share.
package enum DataFD {
    /// `FD_CLOEXEC` in the answer of ``DataFDCall/fdFlags``.
    package static let closeOnExec: UInt64 = 1
    /// `O_ACCMODE` and its values in the answer of ``DataFDCall/statusFlags``.
    package static let accessMode: UInt64 = 3
    package static let readOnly: UInt64 = 0
    package static let writeOnly: UInt64 = 1
    /// `POLLIN` and `POLLOUT` in the answer of ``DataFDCall/poll``.
    package static let pollIn: UInt64 = 0x1
    package static let pollOut: UInt64 = 0x4
    /// `sizeof(struct vfio_precopy_info)`: the smallest `argsz` the ioctl accepts.
    package static let precopyInfoSize: UInt32 = 24
    /// `VFIO_PRECOPY_INFO_REINIT` (Linux 7.1): new initial data is on the stream.
    package static let reinit: UInt32 = 1
    /// The flags of `struct vfio_precopy_info` defined so far.
    package static let definedPrecopyFlags: UInt32 = reinit
    /// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (Linux 7.1): SET, no payload, opts in to the flags output.
    package static let precopyInfoV2Feature: UInt32 = 12
    /// `_IO(VFIO_TYPE, VFIO_BASE + 155)`: a VFIO ioctl number no kernel defines.
    package static let unknownIoctl: UInt32 = 0x3bff

    /// The answer of ``DataFDCall/precopyInfo(argsz:flags:)`` read back.
    package struct PrecopyInfo: Hashable, Sendable {
        package var argsz: UInt32, flags: UInt32, initialBytes: UInt64, dirtyBytes: UInt64
        package init(argsz: UInt32, flags: UInt32, initialBytes: UInt64, dirtyBytes: UInt64) {
            self.argsz = argsz
            self.flags = flags
            self.initialBytes = initialBytes
            self.dirtyBytes = dirtyBytes
        }
        /// Reads 24 bytes; nil when there are fewer.
        package init?(_ bytes: [UInt8]) {
            guard bytes.count >= 24 else { return nil }
            func le(_ at: Int, _ n: Int) -> UInt64 {
                (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
            }
            self.init(argsz: UInt32(le(0, 4)), flags: UInt32(le(4, 4)), initialBytes: le(8, 8), dirtyBytes: le(16, 8))
        }
        package var bytes: [UInt8] {
            func le(_ v: UInt64, _ n: Int) -> [UInt8] {
                (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
            }
            return le(UInt64(argsz), 4) + le(UInt64(flags), 4) + le(initialBytes, 8) + le(dirtyBytes, 8)
        }
    }
}

extension DataFDCall {
    /// Every call name, for decoders.
    package static let names = ["fd-flags", "status-flags", "seek", "pread", "pwrite", "poll", "precopy-info", "ioctl"]

    /// The call's integer arguments by name (`offset`, `count`, `argsz`, `flags`, `request`); `pwrite` also has
    /// ``payload``.
    package var numbers: [(String, Int64)] {
        switch self {
        case .fdFlags, .statusFlags, .poll: return []
        case .seek(let offset): return [("offset", offset)]
        case .pread(let count, let offset): return [("count", Int64(count)), ("offset", offset)]
        case .pwrite(_, let offset): return [("offset", offset)]
        case .precopyInfo(let argsz, let flags): return [("argsz", Int64(argsz)), ("flags", Int64(flags))]
        case .ioctl(let request): return [("request", Int64(request))]
        }
    }

    /// The bytes of a `pwrite`.
    package var payload: [UInt8]? {
        if case .pwrite(let b, _) = self { return b }
        return nil
    }

    /// The call named `name`, its arguments looked up with `number` and `payload`; nil when one is missing or out
    /// of range.
    package init?(name: String, number: (String) -> Int64?, payload: [UInt8]?) {
        func u32(_ key: String) -> UInt32? { number(key).flatMap { UInt32(exactly: $0) } }
        switch name {
        case "fd-flags": self = .fdFlags
        case "status-flags": self = .statusFlags
        case "poll": self = .poll
        case "seek":
            guard let o = number("offset") else { return nil }
            self = .seek(offset: o)
        case "pread":
            guard let c = number("count"), let n = Int(exactly: c), n >= 0, n <= 1 << 20,
                let o = number("offset")
            else { return nil }
            self = .pread(count: n, offset: o)
        case "pwrite":
            guard let b = payload, let o = number("offset") else { return nil }
            self = .pwrite(bytes: b, offset: o)
        case "precopy-info":
            guard let a = u32("argsz"), let f = u32("flags") else { return nil }
            self = .precopyInfo(argsz: a, flags: f)
        case "ioctl":
            guard let r = u32("request") else { return nil }
            self = .ioctl(request: r)
        default: return nil
        }
    }
}
