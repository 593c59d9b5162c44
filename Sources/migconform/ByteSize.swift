/// Byte sizes on the command line and in target URIs: `4096`, `4096B`, `64KiB`, `1MiB`, `4GiB`, `1TiB`.
/// The one parser every option and URI key uses; a number that does not fit, or exceeds `max`, is refused rather
/// than wrapped or trapped.
enum ByteSize {
    /// The largest size a reference device's state may have: 1 TiB. Its stream is generated, not held in memory,
    /// but the runner saves it to spool files, and lengths are computed in 64 bits with room to spare.
    static let maxStateSize: UInt64 = 1 << 40

    static let units: [(suffix: String, shift: UInt64)] = [
        ("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10), ("B", 0),
    ]

    /// Why `text` is not a size of at most `max` bytes, or nil when it is.
    enum Problem: Error, Equatable {
        case notASize
        case tooLarge
    }

    /// The number of bytes `text` names, at most `max`.
    static func parse(_ text: String, max: UInt64 = maxStateSize) -> Result<UInt64, Problem> {
        var digits = Substring(text)
        var shift: UInt64 = 0
        for unit in units where text.hasSuffix(unit.suffix) {
            digits = digits.dropLast(unit.suffix.count)
            shift = unit.shift
            break
        }
        guard !digits.isEmpty, digits.count <= 40, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }) else {
            return .failure(.notASize)
        }
        guard let n = UInt64(digits) else { return .failure(.tooLarge) }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: UInt64(1) << shift)
        if overflow || bytes > max { return .failure(.tooLarge) }
        return .success(bytes)
    }

    /// A size as the help texts write it.
    static func describe(_ bytes: UInt64) -> String {
        for unit in units
        where unit.shift > 0 && bytes >= (UInt64(1) << unit.shift) && bytes % (UInt64(1) << unit.shift) == 0 {
            return "\(bytes >> unit.shift) \(unit.suffix)"
        }
        return "\(bytes) B"
    }
}
