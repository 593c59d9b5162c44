import Foundation
import MigconformDevice
import MigconformReport
import MigconformRun

/// Progress of a run on stderr, so that a run is never silent.
///
/// On a terminal: one line rewritten in place, `[n/N] CASE-ID`, n counting the cases as they start (so it only
/// goes up, whatever order the tour takes them in), with the bytes moved so far in a long transfer.
/// Not on a terminal (a CI log, a file): a line whenever nothing was written to stderr for `interval` seconds
/// (10 by default), from a thread of its own, so that a long transfer or a device operation that hangs until its
/// deadline still shows: `migconform: [17/197] V2-ROUND-TRIP: 42 s in this case, 1.3 GiB moved`.
final class RunProgress: RunObserver, @unchecked Sendable {
    private(set) var total: Int
    let tty: Bool
    let interval: Double
    private let lock = NSLock()
    private var started = 0
    private var current = ""
    private var caseStart = ChildProcessClock.now()
    private var bytes: UInt64 = 0
    /// Bytes a large transfer moved that its summary entry has not counted yet.
    private var unrecorded: UInt64 = 0
    private var lastRedraw = 0.0
    private var running = false
    private var thread: Thread?

    init(total: Int, tty: Bool = Terminal.stderrIsTTY, interval: Double = RunProgress.defaultInterval) {
        self.total = total
        self.tty = tty
        self.interval = interval
    }

    /// 10 s, or MIGCONFORM_PROGRESS_SECONDS (at least 1).
    static var defaultInterval: Double {
        ProcessInfo.processInfo.environment["MIGCONFORM_PROGRESS_SECONDS"].flatMap(Double.init).map { max(1, $0) } ?? 10
    }

    /// A case starts (every case of the plan, once, in the order they run); `total` is the number of cases.
    func caseStarting(_ id: String, of total: Int) {
        let line: String = lock.withLock {
            self.total = total
            started = min(total, started + 1)
            current = id
            caseStart = ChildProcessClock.now()
            bytes = 0
            unrecorded = 0
            return "[\(started)/\(total)] \(id)"
        }
        if tty { Terminal.progress(line) }
    }

    func operationDidEnd(_ entry: TranscriptEntry) {
        guard let n = entry.byteCount, n > 0 else { return }
        moved { bytes += UInt64(n); unrecorded = 0 }
    }

    func transferDidMove(bytes n: UInt64) {
        moved { unrecorded = n }
    }

    /// Counts bytes moved (under the lock) and redraws the terminal line at most four times a second.
    private func moved(_ count: () -> Void) {
        let redraw: String? = lock.withLock {
            count()
            let now = ChildProcessClock.now()
            guard tty, now - lastRedraw >= 0.25, bytes + unrecorded >= 1 << 20 else { return nil }
            lastRedraw = now
            return "[\(started)/\(total)] \(current): \(movedText(now))"
        }
        if let redraw { Terminal.progress(redraw) }
    }

    /// `1.3 GiB moved, 850.2 MiB/s` (under the lock).
    private func movedText(_ now: Double) -> String {
        let all = bytes + unrecorded
        let seconds = now - caseStart
        return "\(Self.size(all)) moved" + (seconds >= 0.5 ? ", \(Self.size(UInt64(Double(all) / seconds)))/s" : "")
    }

    /// The line the ticker prints.
    func statusLine() -> String {
        lock.withLock {
            let seconds = Int(ChildProcessClock.now() - caseStart)
            guard !current.isEmpty else { return "migconform: discovering the device's features and planning the run" }
            var line = "migconform: [\(started)/\(total)] \(current): \(seconds) s in this case"
            if bytes + unrecorded > 0 { line += ", " + movedText(ChildProcessClock.now()) }
            return line
        }
    }

    /// Starts the ticker (not on a terminal).
    func start() {
        guard !tty else { return }
        lock.withLock { running = true }
        let t = Thread { [self] in
            while lock.withLock({ running }) {
                usleep(200_000)
                if ChildProcessClock.now() - Terminal.lastErrorWrite >= interval - 0.25 {
                    Terminal.err(statusLine())
                }
            }
        }
        t.name = "migconform progress"
        thread = t
        t.start()
    }

    func stop() {
        lock.withLock { running = false }
    }

    static func size(_ n: UInt64) -> String {
        if n >= 1 << 30 { return String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
        if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
        if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / Double(1 << 10)) }
        return "\(n) B"
    }
}
