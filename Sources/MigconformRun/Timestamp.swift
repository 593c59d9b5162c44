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
public enum Timestamp {
    /// `date` in UTC, to the millisecond.
    public static func iso8601(_ date: Date = Date()) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var millis = Int(((seconds - Double(whole)) * 1000).rounded(.down))
        if millis >= 1000 { whole += 1; millis -= 1000 }
        var t = tm()
        gmtime_r(&whole, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T"
            + "\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
