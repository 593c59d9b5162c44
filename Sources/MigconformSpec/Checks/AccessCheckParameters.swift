// Device access, the host, DMA logging and peers. Executors: `AccessChecks`, `DMALoggingChecks`, `PeerChecks` in
// MigconformRun; `host-health` is judged by `Runner` at the end of the run.

/// `device-access`: access that must keep working in given states.
package struct DeviceAccessCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case configRead = "config-read"
        case interruptsDisable = "interrupts-disable"
        case configWrite = "config-write"
        case barRead = "bar-read"
        case interruptsEnable = "interrupts-enable"
    }
    package var expect: Expect
    /// State names, or `every-settable-state` (the default).
    package var states: [String]

    package static let kind = CheckKind.deviceAccess
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true), .list("in")] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        states = a.strings("in") ?? ["every-settable-state"]
    }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `host-health`: no new taint, WARNING or BUG across the run.
package struct HostHealthCheck: CheckParameters {
    package static let kind = CheckKind.hostHealth
    package static var schema: [ParameterSpec] { [] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {}
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { true }
}

/// `dma-logging`: the device's DMA log and the core's limits on its requests.
package struct DMALoggingCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case probeConsistent = "probe-consistent"
        case startPageSize = "start-page-size"
        case secondStartFails = "second-start-fails"
        case reportBeforeStartFails = "report-before-start-fails"
        case reportOnlySets = "report-only-sets"
        case reportPageSizes = "report-page-sizes"
        case coreLimit = "core-limit"
        case survivesArcs = "survives-arcs"
        case noNewDirtyInStop = "no-new-dirty-in-stop"
    }
    /// A limit of the VFIO core on a START request.
    package enum Limit: String, Sendable, CaseIterable {
        case zeroRanges = "zero-ranges"
        case tooManyRanges = "too-many-ranges"
        case unaligned, overflow, overlap
    }
    package var expect: Expect
    package var limits: [Limit]
    package var pageShifts: [Int]
    /// State names (`no-new-dirty-in-stop`).
    package var states: [String]

    package static let kind = CheckKind.dmaLogging
    package static var schema: [ParameterSpec] {
        [
            .oneOf("expect", Expect.self, required: true), .list("limits", of: Limit.self),
            .list("page-shifts", integers: Limits.dmaPageShift), .list("in"),
        ]
    }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        limits = a.choices("limits") ?? []
        pageShifts = a.ints("page-shifts") ?? [12]
        states = a.strings("in") ?? []
    }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `peer`: two devices.
package struct PeerCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case resumeOnPeer = "resume-on-peer"
        case twoDeviceOrder = "two-device-order"
        case foreignRefused = "foreign-refused"
    }
    package var expect: Expect

    package static let kind = CheckKind.peer
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}
