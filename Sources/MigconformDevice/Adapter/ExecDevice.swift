import Foundation

/// A device behind an external adapter process (`exec:<command line>`): the command runs under `/bin/sh -c`,
/// and each ``DeviceOperation`` becomes one request line on its stdin, answered by one response line on its stdout
/// (see ``AdapterCodec`` and `Specs/ADAPTER.md`).
///
/// Every request has a deadline. A broken conversation (an adapter that exits, writes something that is not a
/// response, answers with the wrong id, or misses the deadline) throws ``TransportError`` (with `timedOut` for a
/// deadline), after the adapter has been killed and reaped and a fresh one started, so that the next operation
/// finds a working adapter in its initial state and the run goes on where it can.
package final class ExecDevice: MigrationDevice {
    /// The command line, as given.
    package let command: String
    /// The deadline of each request (``Deadlines/hello`` for `hello`, ``Deadlines/bye`` for the exit after `bye`);
    /// the runner replaces them with the run's (``adopt(_:)``).
    package var deadlines: Deadlines {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
    private var current: Deadlines
    package var ownDeadlines: Deadlines? { deadlines }
    /// Behind another process, whatever the adapter's device is; the host it runs on may be harmed when it
    /// reports a kernel device.
    package var traits: DeviceTraits {
        DeviceTraits(
            mayHarmHost: identity.traits.mayHarmHost, journalsEachOperation: true, isSimulated: false,
            canReopen: true)
    }
    package func adopt(_ deadlines: Deadlines) { self.deadlines = deadlines }
    package let generation: ProtocolGeneration
    /// The identity the adapter reported, with the command and protocol version added to `extra`.
    package let identity: DeviceIdentity
    /// How many times the adapter was started again after a failure.
    package private(set) var restarts = 0
    /// The process id of the running adapter, if one runs.
    package var processID: Int32? { process?.pid }

    private let environment: [String: String]?
    private var process: AdapterProcess?
    private var nextID = 1
    /// Consecutive failed attempts to start the adapter; after ``maxStartFailures`` the device stops trying.
    private var startFailures = 0
    private static let maxStartFailures = 3
    private var lastStartError: String?
    /// The adapter an operation is waiting on, while it waits (guarded by `lock`): another thread may kill it.
    private var inFlight: AdapterProcess?
    private let lock = NSLock()
    private var killRequested = false
    /// The protocol version the adapter answered `hello` with.
    private var adapterVersion = AdapterProtocol.version
    /// Set by ``shutdown()``: no operation, and no restart, after it.
    private var closed = false

    /// Starts the adapter and greets it. Throws ``TransportError`` when it cannot be started or its `hello` fails.
    package init(
        command: String, deadlines: Deadlines = .standard,
        environment: [String: String]? = nil
    ) throws {
        self.command = command
        self.current = deadlines
        self.environment = environment
        let (process, hello) = try ExecDevice.start(
            command: command, environment: environment, deadlines: deadlines,
            firstID: 0)
        self.process = process
        self.generation = hello.generation
        self.identity = ExecDevice.decorate(hello, command: command)
        self.adapterVersion = hello.protocolVersion
        if generation == .v1 { try confirmV1() }
    }

    /// An adapter that says v1 must answer v1 requests: a read of `device_state` (offset 0 of the migration
    /// region, 4 bytes) has a value on every v1 device, in every state. One that cannot (a v2 device behind a
    /// wrong hello) would otherwise run the v1 spec with every case blocked.
    private func confirmV1() throws {
        let outcome: DeviceOutcome
        do { outcome = try perform(.regionRead(offset: 0, width: 4)) } catch {
            shutdown()
            throw error
        }
        guard case .value = outcome else {
            shutdown()
            // Worded as AnswerJudge words an answer that does not fit its request.
            let answer = outcome.errno.map { "failed with \($0.name)" } ?? "a '\(AnswerJudge.kind(outcome))' result"
            throw TransportError(
                "adapter '\(command)' says v1 in its hello, but its answer to a read of device_state "
                    + "(region-read at 0x0, 4 bytes) is \(answer): it does not answer "
                    + "v1 requests (a v2 device says \"generation\": \"v2\")")
        }
    }

    deinit { shutdown() }

    private static func decorate(_ hello: AdapterHello, command: String) -> DeviceIdentity {
        var identity = hello.identity
        identity.extra["adapter-command"] = command
        identity.extra["adapter-protocol"] = String(hello.protocolVersion)
        return identity
    }

    /// Spawns the adapter and exchanges `hello` (request id `firstID`).
    private static func start(
        command: String, environment: [String: String]?, deadlines: Deadlines,
        firstID: Int
    ) throws -> (AdapterProcess, AdapterHello) {
        let process = try AdapterProcess(command: command, environment: environment)
        let line = AdapterCodec.encode(
            .hello(protocolVersion: AdapterProtocol.version, client: "migconform"), id: firstID)
        func fail(_ what: String, exiting: Bool = false) -> TransportError {
            // An adapter that closed its output is probably exiting: let it, to report its exit status.
            let how = exiting ? process.waitForExit(grace: 1) : process.kill()
            process.collectStderr(for: 0.2)
            var m = "adapter '\(command)': hello (id \(firstID)) \(what); the adapter \(how)"
            if let tail = process.stderrSummary() { m += "; its stderr ends: \(tail)" }
            return TransportError(m, timedOut: false)
        }
        switch process.exchange(line, within: deadlines.hello) {
        case .line(let text):
            let decoded: (id: Int?, response: AdapterResponse)
            do { decoded = try AdapterCodec.decodeResponse(text) } catch {
                throw fail("got a malformed response: \(error)")
            }
            guard decoded.id == firstID else {
                throw fail("got a response with id \(decoded.id.map(String.init) ?? "missing"), not \(firstID)")
            }
            switch decoded.response {
            case .hello(let h):
                guard AdapterProtocol.accepted.contains(h.protocolVersion) else {
                    throw fail(
                        "answered with protocol version \(h.protocolVersion); this migconform speaks version \(AdapterProtocol.version)"
                    )
                }
                return (process, h)
            case .error(let message, _): throw fail("was refused: \(message)")
            case .outcome: throw fail("got an operation result instead of a hello response")
            }
        case .timedOut: throw fail("got no answer within \(format(deadlines.hello))")
        case .endOfFile, .brokenPipe: throw fail("got no answer: the adapter closed its output", exiting: true)
        case .overlong(let n): throw fail("got a line of more than \(n) bytes")
        }
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.3g s", seconds)
    }

    // MARK: - Operations

    package func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        // A version-1 adapter knows no data fd calls: the device cannot perform them.
        if case .dataFD = operation.local, adapterVersion < 2 { return .failed(.ENOSYS) }
        if case .access = operation.local, adapterVersion < 2 { return .failed(.ENOSYS) }
        if case .regionInfo = operation.local, adapterVersion < 3 { return .failed(.ENOSYS) }
        if case .reopen = operation.local, adapterVersion < 3 { return .failed(.ENOSYS) }
        let id = nextID
        nextID += 1
        let name = "\(operation) (id \(id))"
        if closed { throw TransportError("adapter '\(command)': \(name) after shutdown: the adapter was ended") }
        guard let process = try runningProcess(for: name) else {
            throw TransportError(
                "adapter '\(command)': cannot send \(name): \(lastStartError ?? "the adapter is not running")")
        }
        let seconds = deadlines.seconds(for: operation)
        lock.withLock { inFlight = process }
        let result = process.exchange(AdapterCodec.encode(.operation(operation), id: id), within: seconds)
        // Cleared before any reaping below, so that recoverAfterTimeout() never signals a pid that was reused.
        let killedFromOutside = lock.withLock { () -> Bool in
            inFlight = nil
            defer { killRequested = false }
            return killRequested
        }
        if killedFromOutside {
            throw failure("\(name) was abandoned by the caller's own deadline", process: process, timedOut: true)
        }
        switch result {
        case .line(let text):
            let decoded: (id: Int?, response: AdapterResponse)
            do { decoded = try AdapterCodec.decodeResponse(text) } catch {
                throw failure("\(name) got a malformed response: \(error)", process: process, outOfStep: true)
            }
            guard decoded.id == id else {
                throw failure(
                    "\(name) got a response with id \(decoded.id.map(String.init) ?? "missing"): \(AdapterCodec.excerpt(text))",
                    process: process, outOfStep: true)
            }
            switch decoded.response {
            case .outcome(let outcome):
                // In step, but not an answer to this request: the adapter stays, the operation is an error.
                if let problem = AnswerJudge.problem(outcome, for: operation) {
                    throw TransportError(
                        "adapter '\(command)': \(name) got an answer that does not fit the request: "
                            + "\(problem): \(AdapterCodec.excerpt(text))")
                }
                return outcome
            case .error(let message, let timedOut):
                // The adapter itself is fine and in step; the request could not be carried out.
                throw TransportError(
                    "adapter '\(command)': \(name) failed in the adapter: \(message)", timedOut: timedOut)
            case .hello:
                throw failure("\(name) got a hello response instead of a result", process: process, outOfStep: true)
            }
        case .timedOut(let writing):
            throw failure(
                "\(name) got no answer within \(ExecDevice.format(seconds))"
                    + (writing ? " (the adapter did not even read the whole request)" : ""),
                process: process, timedOut: true)
        case .endOfFile:
            throw failure("\(name) got no answer: the adapter closed its output", process: process)
        case .brokenPipe:
            throw failure("\(name) could not be sent: the adapter stopped reading its input", process: process)
        case .overlong(let n):
            throw failure("\(name) got a response line of more than \(n) bytes", process: process, outOfStep: true)
        }
    }

    /// The adapter process, starting a new one when the last one was ended by a failure.
    private func runningProcess(for what: String) throws -> AdapterProcess? {
        if let p = process { return p }
        guard startFailures < ExecDevice.maxStartFailures else { return nil }
        _ = try restart()
        return process
    }

    /// Ends the failed adapter, starts a new one, and builds the error to throw for the failed request.
    /// An adapter that missed its deadline or is out of step (`outOfStep`: garbage, a wrong id) is killed at once;
    /// one that closed its output is given a moment to exit by itself, so that its exit status can be reported.
    private func failure(
        _ what: String, process: AdapterProcess, timedOut: Bool = false,
        outOfStep: Bool = false
    ) -> TransportError {
        let oldPID = process.pid
        let how = timedOut || outOfStep ? process.kill() : process.waitForExit(grace: 1)
        process.collectStderr(for: 0.2)
        var message = "adapter '\(command)': \(what); the adapter (pid \(oldPID)) "
        message += timedOut || outOfStep ? "was killed with SIGKILL" : how
        if let tail = process.stderrSummary() { message += "; its stderr ends: \(tail)" }
        self.process = nil
        do {
            let pid = try restart()
            message += "; adapter restarted (pid \(pid))"
        } catch {
            message += "; restarting it failed: \(error)"
        }
        return TransportError(message, timedOut: timedOut)
    }

    /// Starts a fresh adapter and checks that it is the same kind of device. Returns its pid.
    private func restart() throws -> Int32 {
        let id = nextID
        nextID += 1
        do {
            let (p, hello) = try ExecDevice.start(
                command: command, environment: environment, deadlines: deadlines, firstID: id)
            guard hello.generation == generation else {
                p.kill()
                throw TransportError(
                    "the restarted adapter speaks \(hello.generation.rawValue), the first one spoke \(generation.rawValue)"
                )
            }
            process = p
            restarts += 1
            startFailures = 0
            lastStartError = nil
            return p.pid
        } catch {
            startFailures += 1
            lastStartError =
                "\(error)"
                + (startFailures >= ExecDevice.maxStartFailures
                    ? " (gave up after \(startFailures) failed starts)" : "")
            throw error
        }
    }

    /// Called by a runner whose own deadline for an operation passed (possibly from another thread while the
    /// operation still waits here): kills the adapter so that the waiting operation returns at once and a fresh
    /// adapter is started. True when an adapter is (or will be) ready for the next operation.
    package func recoverAfterTimeout() -> Bool {
        let signalled = lock.withLock { () -> Bool in
            guard let p = inFlight else { return false }
            killRequested = true
            p.signalGroup(SIGKILL)
            return true
        }
        if signalled { return true }
        if closed { return false }
        if process != nil { return true }
        return (try? restart()) != nil
    }

    /// Says `bye`, closes the adapter's stdin, waits briefly for it to exit, and kills it if it does not.
    package func shutdown() {
        closed = true
        guard let p = process else { return }
        process = nil
        let id = nextID
        nextID += 1
        _ = p.exchange(AdapterCodec.encode(.bye, id: id), within: min(deadlines.bye, deadlines.fallback))
        p.closeInput()
        p.waitForExit(grace: deadlines.bye)
    }
}
