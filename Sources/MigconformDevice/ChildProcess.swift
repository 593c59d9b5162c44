#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Every child process this program starts goes through here: posix_spawn(2), pipes made close-on-exec, and
/// waitpid(2) for the end. Nothing needs a run loop, a socket or a network interface (Foundation's `Process` wakes
/// its run loop through sockets on the loopback address, so it hangs in a guest whose `lo` is down), and a signal
/// arriving meanwhile only interrupts a wait, which is resumed.
///
/// The child gets the default action for the signals this program ignores or catches (SIGPIPE, SIGINT, SIGTERM,
/// SIGHUP, SIGQUIT) and an empty signal mask, whatever this process has set for itself.
package enum ChildProcess {
    /// Why a child could not be started or waited for.
    package struct Failure: Error, CustomStringConvertible, Sendable {
        package var message: String
        package init(_ message: String) { self.message = message }
        package var description: String { message }
    }

    /// Where one of the child's standard streams goes.
    package enum Stream: Sendable {
        /// The same file as this process's.
        case inherit
        /// /dev/null.
        case null
        /// Collected into ``Result/output`` (stdout) or ``Result/errorOutput`` (stderr).
        case capture
        /// This descriptor of this process (dup2'd onto the child's stream).
        case descriptor(Int32)
    }

    /// How a child ended.
    package struct Termination: Equatable, Sendable, CustomStringConvertible {
        /// The raw wait status.
        package var status: Int32
        package init(status: Int32) { self.status = status }
        /// The signal that killed it, or nil when it exited.
        package var signal: Int32? { status & 0x7f == 0 ? nil : status & 0x7f }
        /// Its exit status, or nil when a signal killed it.
        package var exitStatus: Int32? { signal == nil ? (status >> 8) & 0xff : nil }
        /// Exit status, or 128 + the signal (as a shell reports it).
        package var shellStatus: Int32 { exitStatus ?? 128 + (signal ?? 0) }
        /// `exited with status 3`, `was killed by signal 9 (SIGKILL)`.
        package var description: String {
            guard let s = signal else { return "exited with status \(exitStatus!)" }
            let names: [Int32: String] = [
                SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGTERM: "SIGTERM",
                SIGBUS: "SIGBUS", SIGPIPE: "SIGPIPE", SIGINT: "SIGINT", SIGHUP: "SIGHUP",
            ]
            return "was killed by signal \(s)" + (names[s].map { " (\($0))" } ?? "")
        }
    }

    /// What ``run(_:_:environment:stdin:stdout:stderr:timeout:)`` gives back.
    package struct Result: Sendable {
        package var termination: Termination
        /// stdout, when captured.
        package var output: [UInt8]
        /// stderr, when captured.
        package var errorOutput: [UInt8]
        /// True when the deadline passed and the child was killed.
        package var timedOut: Bool
    }

    /// Signals a child starts with the default action for.
    static let defaultedSignals: [Int32] = [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// A pipe whose ends are close-on-exec and numbered 3 or above (so that dup2 onto 0, 1, 2 always copies).
    package static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        #if os(Linux)
            // Close-on-exec from the start, so that a child another thread spawns meanwhile cannot inherit these ends.
            let made = linuxPipe2(&fds, O_CLOEXEC)
        #else
            let made = sysPipe(&fds)
            for fd in fds where made == 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        #endif
        guard made == 0 else { throw Failure("cannot create a pipe: \(String(cString: strerror(errno)))") }
        for i in 0..<2 where fds[i] < 3 {
            let moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)
            close(fds[i])
            fds[i] = moved
        }
        guard fds[0] >= 3, fds[1] >= 3 else {
            for fd in fds where fd >= 0 { close(fd) }
            throw Failure("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// Starts `path` with `arguments` (argv[0] is `path`). `stdin`, `stdout`, `stderr`: a descriptor of this process
    /// to dup2 onto the child's, or nil to leave the child this process's own. `environment` nil passes this
    /// process's. `newProcessGroup` puts the child in a process group of its own (which a terminal's Ctrl-C then
    /// does not reach, and which can be signalled as a whole). Returns the child's pid; the caller reaps it.
    package static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil,
        newProcessGroup: Bool = false
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            if let fd { posix_spawn_file_actions_adddup2(&actions, fd, target) }
        }
        // Nothing else this process has open reaches the child (a journal, another child's pipe, a file another
        // thread is writing, which the child would otherwise keep busy), where the C library can say so.
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in defaultedSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let env = environment.map { $0.map { "\($0.key)=\($0.value)" } } ?? currentEnvironment()
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw Failure("posix_spawn \(path): \(String(cString: strerror(rc)))") }
        return child
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up when the program runs so that
    /// the binary still starts on an older C library (where descriptors not marked close-on-exec are inherited).
    private static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            #if os(Linux)
                guard let handle = dlopen(nil, RTLD_NOW),
                    let sym = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np")
                else {
                    return nil
                }
                return unsafeBitCast(
                    sym, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
            #else
                return nil
            #endif
        }()

    /// Waits for `pid` to end (resuming after signals) and reaps it.
    package static func wait(_ pid: pid_t) throws -> Termination {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { return Termination(status: status) }
            if r < 0 && errno == EINTR { continue }
            throw Failure("waitpid \(pid): \(String(cString: strerror(errno)))")
        }
    }

    /// The child's end when it has ended, without waiting; nil while it runs.
    package static func poll(_ pid: pid_t) throws -> Termination? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return Termination(status: status) }
            if r == 0 { return nil }
            if r < 0 && errno == EINTR { continue }
            throw Failure("waitpid \(pid): \(String(cString: strerror(errno)))")
        }
    }

    /// Runs `path` with `arguments` to its end and returns how it ended and what it wrote to the streams captured.
    /// With a `timeout` (seconds) a child still running then is killed (SIGKILL) and reaped.
    package static func run(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil,
        stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit,
        timeout: Double? = nil
    ) throws -> Result {
        var opened: [Int32] = [] // descriptors of this side to close once spawned (the child's ends, /dev/null)
        var captured: [Int32: Int] = [:] // read ends of captures -> 1 (stdout) or 2 (stderr)
        defer { for fd in opened { close(fd) } }
        func childEnd(_ s: Stream, _ number: Int, writing: Bool) throws -> Int32? {
            switch s {
            case .inherit: return nil
            case .descriptor(let fd): return fd
            case .null:
                let fd = open("/dev/null", (writing ? O_WRONLY : O_RDONLY) | O_CLOEXEC)
                guard fd >= 0 else { throw Failure("cannot open /dev/null: \(String(cString: strerror(errno)))") }
                opened.append(fd)
                return fd
            case .capture:
                let p = try pipe()
                opened.append(p.write)
                captured[p.read] = number
                return p.write
            }
        }
        let pid: pid_t
        do {
            let i = try childEnd(stdin == .capture ? .null : stdin, 0, writing: false)
            let o = try childEnd(stdout, 1, writing: true)
            let e = try childEnd(stderr, 2, writing: true)
            pid = try spawn(path, arguments, environment: environment, stdin: i, stdout: o, stderr: e)
        } catch {
            for fd in captured.keys { close(fd) }
            throw error
        }
        for fd in opened { close(fd) }
        opened = []

        let end = timeout.map { now() + $0 }
        var output: [UInt8] = []
        var errorOutput: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var timedOut = false
        // Read the captured streams to their end (the child exits, or closes them), within the deadline.
        while !captured.isEmpty {
            var fds = captured.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            var ms: Int32 = -1
            if let end {
                let left = end - now()
                if left <= 0 {
                    timedOut = true
                    break
                }
                ms = Int32(min(max(left * 1000, 1), 60_000).rounded(.up))
            }
            let n = sysPoll(&fds, nfds_t(fds.count), ms)
            if n < 0 && errno != EINTR { break }
            for p in fds where p.revents != 0 {
                let r = chunk.withUnsafeMutableBytes { sysRead(p.fd, $0.baseAddress, $0.count) }
                if r > 0 {
                    if captured[p.fd] == 1 { output += chunk[0..<r] } else { errorOutput += chunk[0..<r] }
                } else if r == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(p.fd)
                    captured[p.fd] = nil
                }
            }
        }
        for fd in captured.keys { close(fd) }
        // Then the child's end, within what is left of the deadline.
        var ended: Termination?
        if !timedOut, let end {
            while true {
                ended = try poll(pid)
                if ended != nil { break }
                if now() >= end {
                    timedOut = true
                    break
                }
                usleep(2_000)
            }
        }
        if timedOut {
            _ = sysKill(pid, SIGKILL)
        }
        let termination = try ended ?? wait(pid)
        return Result(termination: termination, output: output, errorOutput: errorOutput, timedOut: timedOut)
    }

    /// The full path of `name` in the directories of `searchPath` (normally `$PATH`), when one has it executable.
    package static func find(_ name: String, in searchPath: [String]) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in searchPath where !dir.isEmpty {
            let candidate = dir + "/" + name
            var st = stat()
            if access(candidate, X_OK) == 0, stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
                return candidate
            }
        }
        return nil
    }

    /// Monotonic seconds.
    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func currentEnvironment() -> [String] {
        var out: [String] = []
        var p = environ
        while let entry = p.pointee {
            out.append(String(cString: entry))
            p += 1
        }
        return out
    }
}

extension ChildProcess.Stream: Equatable {}

#if canImport(Glibc) || canImport(Musl)
    private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { read(fd, p, n) }
    private func sysKill(_ pid: pid_t, _ sig: Int32) -> Int32 { kill(pid, sig) }
    private func sysPoll(_ fds: UnsafeMutablePointer<pollfd>, _ n: nfds_t, _ ms: Int32) -> Int32 { poll(fds, n, ms) }
#else
    private func sysRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int { Darwin.read(fd, p, n) }
    private func sysKill(_ pid: pid_t, _ sig: Int32) -> Int32 { Darwin.kill(pid, sig) }
    private func sysPoll(_ fds: UnsafeMutablePointer<pollfd>, _ n: nfds_t, _ ms: Int32) -> Int32 {
        Darwin.poll(fds, n, ms)
    }
    private func sysPipe(_ fds: UnsafeMutablePointer<Int32>) -> Int32 { Darwin.pipe(fds) }
#endif

#if os(Linux)
    /// pipe2(2): the C library has it, but its header declares it only for _GNU_SOURCE, which the module map does not set.
    @_silgen_name("pipe2")
    private func linuxPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32
#endif
