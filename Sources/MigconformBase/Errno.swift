/// A POSIX error number as a device operation returned it, printed by its C name.
///
/// Only the values the migration uAPI and its drivers produce are named; any other number prints as `E<n>`.
package struct Errno: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible, Error {
    package var rawValue: Int32
    package init(rawValue: Int32) { self.rawValue = rawValue }

    /// `EPERM`: operation not permitted.
    package static let EPERM = Errno(rawValue: 1)
    /// `ENOENT`: no such file or directory.
    package static let ENOENT = Errno(rawValue: 2)
    /// `EINTR`: interrupted system call.
    package static let EINTR = Errno(rawValue: 4)
    /// `EIO`: input/output error.
    package static let EIO = Errno(rawValue: 5)
    /// `ENXIO`: no such device or address.
    package static let ENXIO = Errno(rawValue: 6)
    /// `E2BIG`: argument list too long.
    package static let E2BIG = Errno(rawValue: 7)
    /// `EBADF`: bad file descriptor.
    package static let EBADF = Errno(rawValue: 9)
    /// `EAGAIN`: resource temporarily unavailable.
    package static let EAGAIN = Errno(rawValue: 11)
    /// `ENOMEM`: cannot allocate memory.
    package static let ENOMEM = Errno(rawValue: 12)
    /// `EACCES`: permission denied.
    package static let EACCES = Errno(rawValue: 13)
    /// `EFAULT`: bad address.
    package static let EFAULT = Errno(rawValue: 14)
    /// `EBUSY`: device or resource busy.
    package static let EBUSY = Errno(rawValue: 16)
    /// `ENODEV`: no such device.
    package static let ENODEV = Errno(rawValue: 19)
    /// `EINVAL`: invalid argument.
    package static let EINVAL = Errno(rawValue: 22)
    /// `EFBIG`: file too large.
    package static let EFBIG = Errno(rawValue: 27)
    /// `ENOSPC`: no space left on device.
    package static let ENOSPC = Errno(rawValue: 28)
    /// `ESPIPE`: illegal seek.
    package static let ESPIPE = Errno(rawValue: 29)
    /// `ENOTTY`: inappropriate ioctl for device.
    package static let ENOTTY = Errno(rawValue: 25)
    /// `ENOSYS`: not implemented. From a device boundary (not a system call): the device cannot perform the
    /// operation at all (see ``DataFDCall``); checks then judge nothing (NOT_APPLICABLE).
    package static let ENOSYS = Errno(rawValue: 38)
    /// `ENOMSG`: no message of desired type (the temporary end of a PRE_COPY stream).
    package static let ENOMSG = Errno(rawValue: 42)
    /// `ENODATA`: no data available.
    package static let ENODATA = Errno(rawValue: 61)
    /// `EOVERFLOW`: value too large for defined data type.
    package static let EOVERFLOW = Errno(rawValue: 75)
    /// `EOPNOTSUPP`: operation not supported.
    package static let EOPNOTSUPP = Errno(rawValue: 95)
    /// `ETIMEDOUT`: connection timed out.
    package static let ETIMEDOUT = Errno(rawValue: 110)

    /// The one name table, in numeric order: behind `name`, `init(name:)` and the names a spec's `accept` may use.
    private static let table: [(number: Int32, name: String)] = [
        (1, "EPERM"), (2, "ENOENT"), (4, "EINTR"), (5, "EIO"), (6, "ENXIO"), (7, "E2BIG"), (9, "EBADF"),
        (11, "EAGAIN"), (12, "ENOMEM"), (13, "EACCES"), (14, "EFAULT"), (16, "EBUSY"), (19, "ENODEV"),
        (22, "EINVAL"), (25, "ENOTTY"), (27, "EFBIG"), (28, "ENOSPC"), (29, "ESPIPE"), (38, "ENOSYS"), (42, "ENOMSG"),
        (61, "ENODATA"), (75, "EOVERFLOW"), (95, "EOPNOTSUPP"), (110, "ETIMEDOUT"),
    ]
    private static let names = Dictionary(uniqueKeysWithValues: table.map { ($0.number, $0.name) })
    private static let numbers = Dictionary(uniqueKeysWithValues: table.map { ($0.name, $0.number) })

    /// Every errno known by name, in numeric order.
    package static let known: [Errno] = table.map { Errno(rawValue: $0.number) }

    /// The C name (`EINVAL`), or `E<n>` for a number without one here.
    package var name: String { Errno.names[rawValue] ?? "E\(rawValue)" }
    package var description: String { name }

    /// Looks an errno up by its C name (`"EINVAL"`) or by number (`"22"`).
    package init?(name: String) {
        if let number = Errno.numbers[name] {
            self.init(rawValue: number)
            return
        }
        if let n = Int32(name), n > 0 {
            self.init(rawValue: n)
            return
        }
        if name.hasPrefix("E"), let n = Int32(name.dropFirst()), n > 0 {
            self.init(rawValue: n)
            return
        }
        return nil
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int32.self) {
            self.init(rawValue: n)
            return
        }
        let s = try c.decode(String.self)
        guard let e = Errno(name: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown errno '\(s)'")
        }
        self = e
    }
    package func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}
