import Dispatch
import MigconformDevice

/// Follows the bytes a case moves through data reads and writes and reports them, at most every `interval`
/// seconds and only once a case has been moving data for that long: a long transfer shows bytes and rate, a short
/// one nothing.
public final class TransferProgress: RunObserver {
    /// Called with the case id, the bytes the case moved so far and the rate since the case started (bytes/s).
    public var report: (String, UInt64, Double) -> Void
    public let interval: Double
    private var caseID = ""
    private var bytes: UInt64 = 0
    private var started: UInt64 = 0
    private var last: UInt64 = 0

    public init(interval: Double = 0.5, report: @escaping (String, UInt64, Double) -> Void) {
        self.interval = interval
        self.report = report
    }

    public func caseWillStart(index: Int, id: String, attempt: Int) {
        caseID = id
        bytes = 0
        started = DispatchTime.now().uptimeNanoseconds
        last = started
    }

    public func operationDidEnd(_ entry: TranscriptEntry) {
        guard let n = entry.byteCount, n > 0 else { return }
        bytes += UInt64(n)
        let now = DispatchTime.now().uptimeNanoseconds
        guard Double(now - last) >= interval * 1e9 else { return }
        last = now
        report(caseID, bytes, Double(bytes) / (Double(now - started) / 1e9))
    }

    /// `1.50 GiB, 420 MiB/s`.
    public static func text(bytes: UInt64, rate: Double) -> String {
        func size(_ v: Double) -> String {
            if v >= Double(1 << 30) { return String(format: "%.2f GiB", v / Double(1 << 30)) }
            if v >= Double(1 << 20) { return String(format: "%.1f MiB", v / Double(1 << 20)) }
            return String(format: "%.0f KiB", v / 1024)
        }
        return "\(size(Double(bytes))) moved, \(size(rate))/s"
    }
}
