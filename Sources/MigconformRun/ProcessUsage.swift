#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the process has used so far, every thread counted (`getrusage(RUSAGE_SELF)`): the CPU time in user space
/// and in the kernel, page faults and context switches. Two readings bracket a stretch of the run; their
/// difference tells time spent computing from time spent in the kernel or waiting.
package struct ProcessUsage: Codable, Sendable, Equatable {
    /// CPU time in user space, in microseconds (`ru_utime`).
    package var user: UInt64
    /// CPU time in the kernel on the process's behalf, device calls included, in microseconds (`ru_stime`).
    package var system: UInt64
    /// Page faults served without I/O (`ru_minflt`): each is a trip into the kernel, dear in an emulated guest.
    package var minorFaults: UInt64
    /// Times a thread gave up the CPU to wait (`ru_nvcsw`) or was made to (`ru_nivcsw`).
    package var contextSwitches: UInt64

    package init(user: UInt64 = 0, system: UInt64 = 0, minorFaults: UInt64 = 0, contextSwitches: UInt64 = 0) {
        self.user = user
        self.system = system
        self.minorFaults = minorFaults
        self.contextSwitches = contextSwitches
    }

    #if canImport(Glibc)
        private static let selfWho = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
        private static let selfWho = RUSAGE_SELF
    #endif

    /// The process's usage now.
    package static func now() -> ProcessUsage {
        var u = rusage()
        guard getrusage(Self.selfWho, &u) == 0 else { return ProcessUsage() }
        func micros(_ t: timeval) -> UInt64 { UInt64(max(0, t.tv_sec)) * 1_000_000 + UInt64(max(0, t.tv_usec)) }
        return ProcessUsage(
            user: micros(u.ru_utime), system: micros(u.ru_stime), minorFaults: UInt64(max(0, u.ru_minflt)),
            contextSwitches: UInt64(max(0, u.ru_nvcsw)) + UInt64(max(0, u.ru_nivcsw)))
    }

    /// `CPU 0.224s user + 0.050s kernel, 182 page faults, 35 context switches`.
    package var summary: String {
        func s(_ us: UInt64) -> String { String(format: "%.3fs", Double(us) / 1e6) }
        return
            "CPU \(s(user)) user + \(s(system)) kernel, \(minorFaults) page faults, \(contextSwitches) context switches"
    }

    /// What was used between `earlier` and this reading.
    package func since(_ earlier: ProcessUsage) -> ProcessUsage {
        func d(_ a: UInt64, _ b: UInt64) -> UInt64 { a > b ? a - b : 0 }
        return ProcessUsage(
            user: d(user, earlier.user), system: d(system, earlier.system),
            minorFaults: d(minorFaults, earlier.minorFaults),
            contextSwitches: d(contextSwitches, earlier.contextSwitches))
    }
}
