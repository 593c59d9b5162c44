import Foundation
import MigconformDevice
import MigconformReport
import MigconformRun

/// Progress of a run on stderr, so that a run is never silent.
///
/// On a terminal: one line rewritten in place, `[n/N] CASE-ID`, n counting the cases as they start (so it only
/// goes up, whatever order the tour takes them in), with the bytes moved so far in a long transfer. The line is
/// redrawn at most ten times a second: on a serial console every byte costs, and a fast device runs hundreds of
/// cases a second; a case still running when its turn to be drawn comes is drawn by the ticker.
/// Not on a terminal (a CI log, a file): a line whenever nothing was written to stderr for `interval` seconds
/// (10 by default), from a thread of its own, so that a long transfer or a device operation that hangs until its
/// deadline still shows: `migconform: [17/197] V2-ROUND-TRIP: 42 s in this case, 1.3 GiB moved`.
final class RunProgress: RunObserver, Sendable {
    let tty: Bool
    let interval: Double

    /// Everything the run's thread and the ticker share.
    private struct State {
        var total: Int
        var started = 0
        var current = ""
        var caseStart = ChildProcessClock.now()
        var bytes: UInt64 = 0
        /// Bytes a large transfer moved that its summary entry has not counted yet.
        var unrecorded: UInt64 = 0
        var lastRedraw = -1.0
        /// A line not drawn yet because the last one is too recent (on a terminal).
        var pending: String?
        var running = false
    }
    /// The least time between two redraws of the terminal line, in seconds.
    static let redrawInterval = 0.1
    private let state: Guarded<State>

    var total: Int { state.withLock { $0.total } }

    init(total: Int, tty: Bool = Terminal.stderrIsTTY, interval: Double = RunProgress.defaultInterval) {
        state = Guarded(State(total: total))
        self.tty = tty
        self.interval = interval
    }

    /// 10 s, or MIGCONFORM_PROGRESS_SECONDS (at least 1).
    static var defaultInterval: Double {
        ProcessInfo.processInfo.environment["MIGCONFORM_PROGRESS_SECONDS"].flatMap(Double.init).map { max(1, $0) } ?? 10
    }

    /// A case starts (every case of the plan, once, in the order they run); `total` is the number of cases.
    func caseStarting(_ id: String, of total: Int) {
        let tty = self.tty
        let line: String? = state.withLock { s in
            s.total = total
            s.started = min(total, s.started + 1)
            s.current = id
            let now = ChildProcessClock.now()
            s.caseStart = now
            s.bytes = 0
            s.unrecorded = 0
            guard tty else { return nil }
            let line = "[\(s.started)/\(total)] \(id)"
            guard now - s.lastRedraw >= Self.redrawInterval else {
                s.pending = line
                return nil
            }
            s.lastRedraw = now
            s.pending = nil
            return line
        }
        if let line { Terminal.progress(line) }
    }

    /// Draws the line a terminal is owed, when the last redraw is old enough (the ticker's turn). Drawn under
    /// the lock, so that once ``stop()`` returned no line comes after the run's last words.
    private func drawDue() {
        state.withLock { s in
            let now = ChildProcessClock.now()
            guard s.running, let line = s.pending, now - s.lastRedraw >= Self.redrawInterval else { return }
            s.lastRedraw = now
            s.pending = nil
            Terminal.progress(line)
        }
    }

    func operationDidEnd(_ entry: TranscriptEntry) {
        guard let n = entry.byteCount, n > 0 else { return }
        moved {
            $0.bytes += UInt64(n)
            $0.unrecorded = 0
        }
    }

    func transferDidMove(bytes n: UInt64) {
        moved { $0.unrecorded = n }
    }

    /// Counts bytes moved (under the lock) and redraws the terminal line at most four times a second.
    private func moved(_ count: (inout State) -> Void) {
        let tty = self.tty
        let redraw: String? = state.withLock { s in
            count(&s)
            let now = ChildProcessClock.now()
            guard tty, now - s.lastRedraw >= 0.25, s.bytes + s.unrecorded >= 1 << 20 else { return nil }
            s.lastRedraw = now
            s.pending = nil
            return "[\(s.started)/\(s.total)] \(s.current): \(Self.movedText(s, now))"
        }
        if let redraw { Terminal.progress(redraw) }
    }

    /// `1.3 GiB moved, 850.2 MiB/s`.
    private static func movedText(_ s: State, _ now: Double) -> String {
        let all = s.bytes + s.unrecorded
        let seconds = now - s.caseStart
        return "\(Self.size(all)) moved" + (seconds >= 0.5 ? ", \(Self.size(UInt64(Double(all) / seconds)))/s" : "")
    }

    /// The line the ticker prints.
    func statusLine() -> String {
        state.withLock { s in
            let seconds = Int(ChildProcessClock.now() - s.caseStart)
            guard !s.current.isEmpty else {
                return "migconform: discovering the device's features and planning the run"
            }
            var line = "migconform: [\(s.started)/\(s.total)] \(s.current): \(seconds) s in this case"
            if s.bytes + s.unrecorded > 0 { line += ", " + Self.movedText(s, ChildProcessClock.now()) }
            return line
        }
    }

    /// Starts the ticker: on a terminal it draws the line the throttle held back; elsewhere it prints the status
    /// line when stderr was quiet for `interval`.
    func start() {
        state.withLock { $0.running = true }
        let t = Thread { [self] in
            while state.withLock({ $0.running }) {
                if tty {
                    usleep(UInt32(Self.redrawInterval * 1e6))
                    drawDue()
                    continue
                }
                usleep(200_000)
                if ChildProcessClock.now() - Terminal.lastErrorWrite >= interval - 0.25 {
                    Terminal.err(statusLine())
                }
            }
        }
        t.name = "migconform progress"
        t.start()
    }

    func stop() {
        state.withLock {
            $0.running = false
            $0.pending = nil
        }
    }

    static func size(_ n: UInt64) -> String {
        if n >= 1 << 30 { return String(format: "%.1f GiB", Double(n) / Double(1 << 30)) }
        if n >= 1 << 20 { return String(format: "%.1f MiB", Double(n) / Double(1 << 20)) }
        if n >= 1 << 10 { return String(format: "%.1f KiB", Double(n) / Double(1 << 10)) }
        return "\(n) B"
    }
}
