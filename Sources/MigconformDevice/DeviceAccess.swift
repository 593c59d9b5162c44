/// Device access beyond the migration uAPI that must keep working while migration states change: config space
/// writes, BAR reads, interrupt triggers. Carried by ``DeviceOperation/access(_:)``. A target that cannot make the
/// access answers ``Errno/ENOSYS`` (the rule is then NOT_APPLICABLE); a BAR the device does not have is `ENXIO`.
package enum DeviceAccess: Codable, Hashable, Sendable {
    /// A write of the low `width` bytes (1, 2 or 4) of `value` to PCI config space at `offset`.
    case configWrite(offset: UInt64, width: Int, value: UInt64)
    /// A read of `width` bytes (1, 2 or 4) at `offset` of BAR `index` (0 to 5).
    case barRead(index: UInt32, offset: UInt64, width: Int)
    /// `VFIO_DEVICE_SET_IRQS` with `DATA_EVENTFD | ACTION_TRIGGER`, start 0, count 1 on interrupt index `index`:
    /// an eventfd of the caller's signals that interrupt.
    case enableInterrupts(index: UInt32)

    /// The name of the access in transcripts and the adapter protocol.
    package var name: String {
        switch self {
        case .configWrite: return "config-write"
        case .barRead: return "bar-read"
        case .enableInterrupts: return "enable-interrupts"
        }
    }

    /// The operation kind of the access (`access-` and its name).
    package var kind: DeviceOperation.Kind {
        switch self {
        case .configWrite: return .accessConfigWrite
        case .barRead: return .accessBarRead
        case .enableInterrupts: return .accessEnableInterrupts
        }
    }

    /// Every access name, for decoders.
    package static let names = ["config-write", "bar-read", "enable-interrupts"]

    /// Its integer arguments by name (`offset`, `width`, `value`, `index`).
    package var numbers: [(String, UInt64)] {
        switch self {
        case .configWrite(let offset, let width, let value):
            return [("offset", offset), ("width", UInt64(max(width, 0))), ("value", value)]
        case .barRead(let index, let offset, let width):
            return [("index", UInt64(index)), ("offset", offset), ("width", UInt64(max(width, 0)))]
        case .enableInterrupts(let index): return [("index", UInt64(index))]
        }
    }

    /// The access named `name`, its arguments looked up with `number`; nil when one is missing or out of range.
    package init?(name: String, number: (String) -> UInt64?) {
        func width() -> Int? { number("width").flatMap { $0 <= 8 ? Int($0) : nil } }
        func u32(_ key: String) -> UInt32? { number(key).flatMap { UInt32(exactly: $0) } }
        switch name {
        case "config-write":
            guard let o = number("offset"), let w = width(), let v = number("value") else { return nil }
            self = .configWrite(offset: o, width: w, value: v)
        case "bar-read":
            guard let i = u32("index"), let o = number("offset"), let w = width() else { return nil }
            self = .barRead(index: i, offset: o, width: w)
        case "enable-interrupts":
            guard let i = u32("index") else { return nil }
            self = .enableInterrupts(index: i)
        default: return nil
        }
    }
}
