import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// UTC timestamps as reports and journals write them: RFC 3339 with milliseconds, `2026-11-22T02:11:00.123Z`.
///
/// Formatted from `gmtime_r` directly: a journal stamps every device operation, and building a date formatter
/// for each one cost more than the operation itself.
package enum Timestamp {
    /// `date` in UTC, to the millisecond.
    package static func iso8601(_ date: Date = Date()) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var millis = Int(((seconds - Double(whole)) * 1000).rounded(.down))
        if millis >= 1000 {
            whole += 1
            millis -= 1000
        }
        let m = Int32(millis)
        let fraction = m >= 100 ? String(m) : m >= 10 ? "0" + String(m) : "00" + String(m)
        return recent.prefix(of: whole) + fraction + "Z"
    }

    /// The text up to the second's dot, remembered for the last second asked: a run stamps many records a second.
    private final class Recent: @unchecked Sendable {
        private let lock = NSLock()
        private var second = time_t.min
        private var text = ""
        func prefix(of whole: time_t) -> String {
            lock.lock()
            defer { lock.unlock() }
            if whole != second {
                second = whole
                text = Timestamp.prefix(whole)
            }
            return text
        }
    }
    private static let recent = Recent()

    /// `2026-11-22T02:11:00.` for a time in whole seconds since 1970.
    static func prefix(_ time: time_t) -> String {
        var whole = time
        var t = tm()
        gmtime_r(&whole, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2))."
    }
}
