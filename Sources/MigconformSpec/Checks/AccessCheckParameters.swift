// Device access, the host, DMA logging and peers. Executors: `AccessChecks`, `DMALoggingChecks`, `PeerChecks` in
// MigconformRun; `host-health` is judged by `Runner` at the end of the run.

/// `device-access`: access that must keep working in given states.
public struct DeviceAccessCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case configRead = "config-read", interruptsDisable = "interrupts-disable", configWrite = "config-write"
        case barRead = "bar-read", interruptsEnable = "interrupts-enable"
    }
    public var expect: Expect
    /// State names, or `every-settable-state` (the default).
    public var states: [String]

    public static let kind = CheckKind.deviceAccess
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true), .list("in")] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        states = a.strings("in") ?? ["every-settable-state"]
    }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `host-health`: no new taint, WARNING or BUG across the run.
public struct HostHealthCheck: CheckParameters {
    public static let kind = CheckKind.hostHealth
    public static var schema: [ParameterSpec] { [] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {}
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { true }
}

/// `dma-logging`: the device's DMA log and the core's limits on its requests.
public struct DMALoggingCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case probeConsistent = "probe-consistent", startPageSize = "start-page-size"
        case secondStartFails = "second-start-fails", reportBeforeStartFails = "report-before-start-fails"
        case reportOnlySets = "report-only-sets", reportPageSizes = "report-page-sizes", coreLimit = "core-limit"
        case survivesArcs = "survives-arcs", noNewDirtyInStop = "no-new-dirty-in-stop"
    }
    /// A limit of the VFIO core on a START request.
    public enum Limit: String, Sendable, CaseIterable {
        case zeroRanges = "zero-ranges", tooManyRanges = "too-many-ranges", unaligned, overflow, overlap
    }
    public var expect: Expect
    public var limits: [Limit]
    public var pageShifts: [Int]
    /// State names (`no-new-dirty-in-stop`).
    public var states: [String]

    public static let kind = CheckKind.dmaLogging
    public static var schema: [ParameterSpec] {
        [.oneOf("expect", Expect.self, required: true), .list("limits", of: Limit.self),
         .list("page-shifts", integers: Limits.dmaPageShift), .list("in")]
    }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        limits = a.choices("limits") ?? []
        pageShifts = a.ints("page-shifts") ?? [12]
        states = a.strings("in") ?? []
    }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}

/// `peer`: two devices.
public struct PeerCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case resumeOnPeer = "resume-on-peer", twoDeviceOrder = "two-device-order", foreignRefused = "foreign-refused"
    }
    public var expect: Expect

    public static let kind = CheckKind.peer
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}
