import Foundation
import MigconformBase

/// The run was asked to stop (SIGINT, SIGTERM) while an operation was in flight.
package struct OperationInterrupted: Error, CustomStringConvertible, Sendable {
    package var operation: String
    package var reason: String
    /// Given up before it was issued (the case in flight was stopped): the device never saw it, so no transcript
    /// records it.
    package var notIssued = false
    package var description: String {
        notIssued ? "\(reason): \(operation) not issued" : "\(reason) while waiting for \(operation)"
    }
}

/// A device whose every operation has a deadline. Each call runs on a worker thread while the caller waits at
/// most the operation's deadline; a call that does not come back in time is abandoned on its worker (a thread
/// stuck in an ioctl cannot be killed) and the caller gets `TransportError(timedOut: true)` naming the
/// operation.
///
/// After a timeout the device may not be touched until ``recover()`` says it can: the abandoned call may still
/// hold it. Recovery waits briefly for the stuck call, then asks the device to recover itself
/// (``MigrationDevice/recoverAfterTimeout()``, for adapters that restart their process), then opens a fresh
/// device with the `reopen` factory (simulated targets); when none of these works the device is **wedged** and
/// every later call fails at once.
///
/// A device that ``MigrationDevice/answersPromptly`` (an in-process simulator) is called directly instead: it
/// cannot hang, and the hand-off to the worker and back would cost a hundred times the call.
///
/// A device whose calls are system calls that a signal interrupts (``MigrationDevice/callsInterruptible``: a
/// kernel VFIO device) is called on the caller's thread too, while a ``Watchdog`` thread only watches: arming
/// and disarming it take a lock and no wake-up, and a call past its deadline is interrupted with a signal and
/// fails as timed out. A call that a signal cannot free (a driver waiting uninterruptibly) is abandoned after
/// ``watchdogGrace`` seconds through ``onAbandoned``.
///
/// It also remembers which session fds are open, so the end of a run can close them.
package final class DeadlineDevice: MigrationDevice, DeviceWrapper {
    /// Why the device cannot be used any more, once it is wedged.
    package private(set) var wedged: String?
    /// The run's deadlines, handed on to a device that keeps its own (``MigrationDevice/ownDeadlines``).
    package var deadlines: Deadlines {
        didSet { inner.adopt(deadlines) }
    }
    /// How much longer than a deadline the wait lasts for a device that keeps the same deadline itself, so that
    /// its own timeout (an adapter killed and restarted cleanly) comes first.
    package static let ownDeadlineMargin: Double = 2
    /// Opens a fresh device to replace one that hung (nil: the target cannot be reopened).
    package var reopen: (() throws -> MigrationDevice)?
    /// How long recovery waits for an abandoned call to come back on its own.
    package var recoveryGrace: Double = 1.0
    /// Every operation that timed out, in order (`set-state PRE_COPY after 2.0 s`).
    package private(set) var timeouts: [String] = []
    /// How many times a fresh device replaced one that hung.
    package private(set) var reopenCount = 0
    /// Session fds handed out by the device and not closed yet.
    package private(set) var openFDs: Set<Int32> = []
    /// Nanoseconds spent inside the device's calls (without the watch around them), summed; calls to a device
    /// that answers promptly are not watched and not counted here.
    package private(set) var callNanos: UInt64 = 0

    private var inner: MigrationDevice {
        didSet {
            inner.adopt(deadlines)
            promptly = inner.answersPromptly
            if !inner.callsInterruptible { watchdog = nil }
        }
    }
    /// For a device whose calls a signal interrupts: the thread that watches calls made on the caller's thread.
    private var watchdog: Watchdog?
    /// Called (on the watchdog's thread) when a call made on the caller's thread outlived its deadline and did not
    /// come back when interrupted: the caller's thread is lost with it, and whoever set this must end the run
    /// (the run command rebuilds the report from the journal).
    package var onAbandoned: ((String) -> Void)? {
        get { watchdog?.onAbandoned }
        set { watchdog?.onAbandoned = newValue }
    }
    /// How long after its deadline an interrupted call may take to come back before it is abandoned.
    package var watchdogGrace: Double {
        get { watchdog?.grace ?? 0 }
        set { watchdog?.grace = newValue }
    }
    /// The device behind answers promptly: calls skip the worker.
    private var promptly: Bool
    private var worker: Worker
    /// The call that did not return in time, while it has not returned.
    private var stuck: (job: Job, operation: String)?
    private let lock = NSLock()
    private var interruptReason: String?
    private var interruptSerial = 0
    /// Set by ``interrupt(_:)`` while a case runs (``caseWillRun()``), until it ends: every further call of the
    /// case is given up before it is issued, so a check that let the interrupted call pass does not go on with the
    /// rest of its case. Outside cases (discovery, positioning, the cleanup) a stop gives up only the call in
    /// flight, and the runner stops at the next case.
    private var interruptPending: String?
    private var caseRunning = false

    package init(
        _ device: MigrationDevice, deadlines: Deadlines = .standard,
        reopen: (() throws -> MigrationDevice)? = nil
    ) {
        inner = device
        promptly = device.answersPromptly
        self.deadlines = deadlines
        self.reopen = reopen
        worker = Worker()
        if device.callsInterruptible && !device.answersPromptly { watchdog = Watchdog() }
        device.adopt(deadlines)
    }

    /// The device currently behind the deadlines (a fresh one after a reopen).
    package var device: MigrationDevice { inner }
    package var wrapped: MigrationDevice { inner }
    package var generation: ProtocolGeneration { inner.generation }
    package var identity: DeviceIdentity { inner.identity }
    package var answersPromptly: Bool { promptly }

    /// True while an abandoned call has not returned: the device must be recovered before its next use.
    package var needsRecovery: Bool {
        if let s = stuck, !s.job.isDone { return true }
        return stuck != nil
    }

    package func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if let w = wedged { throw TransportError("the device is wedged (\(w)); \(operation.kind) not issued") }
        if let s = stuck {
            throw TransportError(
                "\(s.operation) has not been recovered from; \(operation.kind) not issued",
                timedOut: true)
        }
        if promptly {
            // Nothing to watch: the call cannot block, so it runs here, without the hand-off to the worker, and
            // untimed: with nothing around it, the recorder's time of the operation is the call's
            // (``callNanos``), and two clock reads would cost more than a simulated call.
            let outcome = try inner.perform(operation)
            track(operation, outcome)
            return outcome
        }
        if let reason = lock.withLock({ interruptPending }) {
            throw OperationInterrupted(operation: operation.description, reason: reason, notIssued: true)
        }
        let seconds = deadlines.seconds(for: operation) + (inner.ownDeadlines == nil ? 0 : Self.ownDeadlineMargin)
        if let watchdog { return try watched(operation, seconds: seconds, by: watchdog) }
        let job = Job()
        let device = inner
        worker.submit {
            let t0 = MonotonicClock.nanoseconds()
            let r: Result<DeviceOutcome, Error>
            do { r = .success(try device.perform(operation)) } catch { r = .failure(error) }
            job.nanos = MonotonicClock.nanoseconds() - t0
            job.finish(r)
        }
        let serial = lock.withLock { interruptSerial }
        let end = MonotonicClock.nanoseconds() + Watchdog.nanos(seconds)
        while !job.wait(until: min(end, MonotonicClock.nanoseconds() + 50_000_000)) {
            if let reason = lock.withLock({ interruptSerial != serial ? interruptReason : nil }) {
                stuck = (job, operation.description)
                throw OperationInterrupted(operation: operation.description, reason: reason)
            }
            if MonotonicClock.nanoseconds() >= end {
                let what = "\(operation.description) did not return within \(Self.format(seconds)) s"
                stuck = (job, operation.description)
                timeouts.append(what)
                throw TransportError(what, timedOut: true)
            }
        }
        let result = job.result!
        callNanos += job.nanos
        if case .failure(let error) = result, let t = error as? TransportError, t.timedOut {
            // The device enforces its own deadline (an adapter): it answered, but the operation is lost.
            stuck = (job, operation.description)
            timeouts.append(t.message)
        }
        let outcome = try result.get()
        track(operation, outcome)
        return outcome
    }

    /// Calls the device on this thread while the watchdog watches the deadline: no hand-off, no wake-up; when
    /// the deadline passes (or the run is interrupted) the watchdog interrupts the call with a signal.
    private func watched(_ operation: DeviceOperation, seconds: Double, by watchdog: Watchdog) throws -> DeviceOutcome {
        watchdog.arm(seconds: seconds, what: operation.description)
        let t0 = MonotonicClock.nanoseconds()
        let result = Result { try inner.perform(operation) }
        callNanos += MonotonicClock.nanoseconds() - t0
        let fired = watchdog.disarm()
        if case .success(let outcome) = result { track(operation, outcome) }
        switch fired {
        case nil: return try result.get()
        case .interrupted(let reason)?:
            throw OperationInterrupted(operation: operation.description, reason: reason)
        case .deadline?:
            let what = "\(operation.description) did not return within \(Self.format(seconds)) s"
            timeouts.append(what)
            throw TransportError(what, timedOut: true)
        }
    }

    /// Makes a waiting call give up at once with ``OperationInterrupted`` (from a signal handler's queue).
    package func interrupt(_ reason: String) {
        lock.withLock {
            interruptReason = reason
            interruptSerial += 1
            if caseRunning { interruptPending = reason }
        }
        watchdog?.interrupt(reason)
    }

    /// A case starts running: a stop from now on gives up the rest of its calls.
    package func caseWillRun() {
        lock.withLock { caseRunning = true }
    }

    /// The case ended: calls go through again (the runner stops before the next case).
    package func caseDidRun() {
        lock.withLock {
            caseRunning = false
            interruptPending = nil
        }
    }

    /// What ``recover()`` found.
    package enum Recovery: Equatable, Sendable {
        /// Nothing was stuck, or the stuck call came back by itself.
        case ready
        /// The device recovered itself (``MigrationDevice/recoverAfterTimeout()``).
        case recovered
        /// A fresh device replaced the one that hung.
        case reopened
        /// The device cannot be used any more; why.
        case wedged(String)
    }

    /// After a timeout or an interruption: makes the device usable again, or marks it wedged.
    @discardableResult
    package func recover() -> Recovery {
        if let w = wedged { return .wedged(w) }
        guard let s = stuck else { return .ready }
        if s.job.isDone || s.job.wait(until: MonotonicClock.nanoseconds() + UInt64(recoveryGrace * 1e9)) {
            // The call came back. A device that timed out on its own must still say it is usable again.
            if case .failure(let e)? = s.job.result, let t = e as? TransportError, t.timedOut {
                if inner.recoverAfterTimeout() {
                    stuck = nil
                    return .recovered
                }
            } else {
                stuck = nil
                return .ready
            }
        } else if inner.recoverAfterTimeout(),
            s.job.wait(until: MonotonicClock.nanoseconds() + UInt64(recoveryGrace * 1e9))
        {
            stuck = nil
            return .recovered
        }
        if let reopen {
            do {
                let fresh = try reopen()
                inner = fresh
                worker.retire() // the old worker may stay blocked forever; it is left behind
                worker = Worker()
                stuck = nil
                openFDs = []
                reopenCount += 1
                return .reopened
            } catch {
                wedged = "\(s.operation) did not return and the target could not be reopened: \(error)"
                return .wedged(wedged!)
            }
        }
        wedged = "\(s.operation) did not return and the target cannot be reopened"
        return .wedged(wedged!)
    }

    package func shutdown() {
        // A device with a call still blocked in it is left alone: shutting it down could block as well.
        if stuck == nil && wedged == nil { inner.shutdown() }
    }

    package func recoverAfterTimeout() -> Bool {
        if case .wedged = recover() { return false }
        return true
    }

    deinit {
        worker.retire()
        watchdog?.retire()
    }

    private func track(_ op: DeviceOperation, _ outcome: DeviceOutcome) {
        // The peers' fds are theirs: a number here would name another file of the device under test.
        switch op {
        case .onPeer, .onForeign: return
        default: break
        }
        if case .state(_, let fd) = outcome, fd >= 0 { openFDs.insert(fd) }
        if case .close(let fd) = op { openFDs.remove(fd) }
        if case .reset = op, outcome.succeeded { /* a reset ends sessions, but their fds stay open */  }
        if case .reopen = op, outcome.succeeded { /* so does a reopen of the device */  }
    }

    static func format(_ s: Double) -> String {
        s == s.rounded() ? String(format: "%.0f", s) : String(format: "%.2f", s)
    }
}

/// One call handed to a worker, and its result once it returns.
final class Job: @unchecked Sendable {
    private let cond = NSCondition()
    private(set) var result: Result<DeviceOutcome, Error>?
    /// How long the call took on the worker (set before ``finish(_:)``).
    var nanos: UInt64 = 0

    var isDone: Bool { cond.withLock { result != nil } }

    func finish(_ r: Result<DeviceOutcome, Error>) {
        cond.withLock {
            result = r
            cond.broadcast()
        }
    }

    /// Waits until the call returned or the uptime `deadline` (nanoseconds) passed; true when it returned.
    func wait(until deadline: UInt64) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        while result == nil {
            let now = MonotonicClock.nanoseconds()
            if now >= deadline { return false }
            _ = cond.wait(until: Date(timeIntervalSinceNow: Double(deadline - now) / 1e9))
        }
        return true
    }
}

/// A thread that runs submitted calls one after another. One per device: a worker whose call hangs is left
/// behind with it.
final class Worker: @unchecked Sendable {
    private let cond = NSCondition()
    private var queue: [() -> Void] = []
    private var retired = false

    init() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "migconform-device"
        thread.stackSize = 1 << 20
        thread.start()
    }

    func submit(_ work: @escaping () -> Void) {
        cond.withLock {
            queue.append(work)
            cond.signal()
        }
    }

    /// Lets the thread end once its queue is empty.
    func retire() {
        cond.withLock {
            retired = true
            cond.signal()
        }
    }

    private func loop() {
        while true {
            cond.lock()
            while queue.isEmpty && !retired { cond.wait() }
            if queue.isEmpty {
                cond.unlock()
                return
            }
            let work = queue.removeFirst()
            cond.unlock()
            work()
        }
    }
}

/// Watches one call at a time made on another thread, without being told when each call starts and ends: arming
/// and disarming only take a lock, and the watchdog looks when the earliest deadline it knows of has passed. A
/// call past its deadline (or when the run is interrupted) is interrupted with SIGURG, whose handler does nothing
/// and is installed without SA_RESTART, so a waiting system call fails with EINTR; the signal is repeated until the
/// call comes back. A call that has not come back `grace` seconds later is abandoned (``onAbandoned``).
final class Watchdog: @unchecked Sendable {
    enum Fired: Equatable {
        case deadline
        case interrupted(String)
    }

    private let cond = NSCondition()
    private var serial = 0
    private var armed: (serial: Int, deadline: UInt64, thread: pthread_t, what: String)?
    private var fired: Fired?
    private var pendingInterrupt: String?
    /// When the thread looks next (uptime nanoseconds; UInt64.max: when told).
    private var wakeAt = UInt64.max
    /// The shortest deadline armed so far (nanoseconds): the thread looks at least that often, so that arming a
    /// call, whose deadline is never sooner than that, needs no wake-up (no hand-off to the thread per call).
    private var shortest = UInt64.max
    private var abandoned = -1
    private var retired = false
    var grace: Double = 5
    var onAbandoned: ((String) -> Void)?

    init() {
        Self.installHandler
        let thread = Thread { [self] in self.loop() }
        thread.name = "migconform-watchdog"
        thread.stackSize = 1 << 18
        thread.start()
    }

    /// Seconds as nanoseconds, at most about 146 years (a deadline of any size never overflows).
    static func nanos(_ seconds: Double) -> UInt64 {
        seconds * 1e9 < Double(UInt64(1) << 62) ? UInt64(max(0, seconds * 1e9)) : UInt64(1) << 62
    }

    private static let installHandler: Void = {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGURG, &action, nil)
    }()

    /// The last thread that armed the watch: SIGURG is unblocked there (dispatch's threads block signals).
    private var unblocked: pthread_t?

    func arm(seconds: Double, what: String) {
        let span = Self.nanos(seconds)
        let deadline = MonotonicClock.nanoseconds() + span
        let me = pthread_self()
        if unblocked.map({ pthread_equal($0, me) == 0 }) ?? true {
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGURG)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            unblocked = me
        }
        cond.lock()
        serial += 1
        fired = nil
        armed = (serial, deadline, me, what)
        if span < shortest { shortest = span }
        if deadline < wakeAt { cond.signal() } // the watchdog would look too late: only for a new shortest
        cond.unlock()
    }

    /// Ends the watch of the current call; what fired while it ran, if anything.
    func disarm() -> Fired? {
        cond.lock()
        defer { cond.unlock() }
        armed = nil
        return fired
    }

    func interrupt(_ reason: String) {
        cond.withLock {
            pendingInterrupt = reason
            cond.signal()
        }
    }

    /// Lets the thread end.
    func retire() {
        cond.withLock {
            retired = true
            cond.signal()
        }
    }

    private func loop() {
        cond.lock()
        while !retired {
            let now = MonotonicClock.nanoseconds()
            if let reason = pendingInterrupt {
                pendingInterrupt = nil
                if let a = armed, fired == nil {
                    fired = .interrupted(reason)
                    pthread_kill(a.thread, SIGURG)
                }
            }
            if let a = armed, now >= a.deadline {
                if fired == nil { fired = .deadline }
                pthread_kill(a.thread, SIGURG)
                if now >= a.deadline + UInt64(grace * 1e9), abandoned != a.serial {
                    abandoned = a.serial
                    let what = "\(a.what) did not return when interrupted"
                    if let onAbandoned {
                        cond.unlock()
                        onAbandoned(what)
                        cond.lock()
                        continue
                    }
                }
                wakeAt = now + 50_000_000
            } else if let a = armed, fired != nil {
                pthread_kill(a.thread, SIGURG) // interrupted: repeat until the call comes back
                wakeAt = now + 50_000_000
            } else {
                // Soon enough for any call armed before then: its deadline is at least `shortest` away.
                let next = shortest == UInt64.max ? UInt64.max : now &+ min(shortest, UInt64.max - now)
                wakeAt = min(armed?.deadline ?? UInt64.max, next)
            }
            if wakeAt == UInt64.max {
                cond.wait()
            } else if wakeAt > now {
                _ = cond.wait(until: Date(timeIntervalSinceNow: Double(wakeAt - now) / 1e9))
            }
        }
        cond.unlock()
    }
}
