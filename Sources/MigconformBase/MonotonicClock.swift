#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The clock every duration of a run is measured with: `CLOCK_MONOTONIC`, read through the vDSO. A device
/// operation reads it twice, so it is read directly, without the conversions `DispatchTime.now()` adds to each
/// reading.
package enum MonotonicClock {
    /// Nanoseconds since an arbitrary point fixed at boot.
    @inline(__always) package static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
