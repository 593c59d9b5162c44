/// Who a device is: what a report records so that a reader knows what was tested.
package struct DeviceIdentity: Codable, Hashable, Sendable {
    /// The kind of target: `reference`, `fault`, `vfio`, `exec`, or what an adapter reports.
    package var targetKind: String
    /// A driver or implementation name (`mtty`, `mlx5_vfio_pci`, `migconform-reference`).
    package var driver: String
    /// A human-readable description (PCI ids, mdev type, fault name).
    package var detail: String
    /// The kernel release the device runs under, when it is a kernel device.
    package var kernelRelease: String?
    /// Further facts, as key/value pairs (PCI vendor/device ids, mdev type, adapter version).
    package var extra: [String: String]

    package init(
        targetKind: String, driver: String, detail: String, kernelRelease: String? = nil,
        extra: [String: String] = [:]
    ) {
        self.targetKind = targetKind
        self.driver = driver
        self.detail = detail
        self.kernelRelease = kernelRelease
        self.extra = extra
    }
}

/// A device under test. One method: perform a request, answer with an outcome. A device never throws for what the
/// device itself did (that is a ``DeviceOutcome/failed(_:)``); it throws ``TransportError`` only when the channel
/// to the device broke (an adapter crashed, a response could not be parsed), which the runner turns into ERROR.
package protocol MigrationDevice: AnyObject {
    /// Which protocol generation this device speaks.
    var generation: ProtocolGeneration { get }
    /// Who the device is.
    var identity: DeviceIdentity { get }
    /// Performs one request.
    func perform(_ operation: DeviceOperation) throws -> DeviceOutcome
    /// Releases the device (closes fds, ends adapter processes). Called once at the end of a run.
    func shutdown()
    /// Called after an operation did not return before its deadline, possibly from another thread while that
    /// operation is still blocked. A device that can make itself usable again (an adapter that restarts its
    /// process, a simulator) does so and returns true; the default is false: a kernel thread stuck in an ioctl
    /// cannot be freed, and the runner then treats the device as wedged.
    func recoverAfterTimeout() -> Bool
    /// True when every operation returns at once and cannot block: an in-process simulator. The runner then calls
    /// the device directly, on the caller's thread, with no deadline to watch. The default is false: a kernel
    /// device or an adapter process can hang, and each of its operations runs under a deadline.
    var answersPromptly: Bool { get }
    /// True when every operation is a system call that a signal interrupts while it waits (it then fails with
    /// EINTR): the runner calls the device on its own thread and a watchdog thread only watches the deadline,
    /// instead of handing every operation to another thread and back. The default is false.
    var callsInterruptible: Bool { get }
    /// The deadlines the device keeps itself (an adapter, which can restart its process cleanly when one
    /// passes), or nil. The runner starts from these, and waits a little longer than they say.
    var ownDeadlines: Deadlines? { get }
    /// Takes the run's deadlines; only a device with ``ownDeadlines`` uses them.
    func adopt(_ deadlines: Deadlines)
    /// What kind of target the device is; by default the traits of its identity's kind (a wrapper: of the device
    /// it wraps).
    var traits: DeviceTraits { get }
    /// The device itself, below any wrappers (deadlines): ask it, not a wrapper, what else it can do. By default
    /// the device; a ``DeviceWrapper`` answers with its wrapped device's (a requirement, not a cast: a dynamic
    /// cast to a protocol searches the binary's conformances).
    var underlying: MigrationDevice { get }
}

extension MigrationDevice {
    package func shutdown() {}
    package func recoverAfterTimeout() -> Bool { false }
    package var answersPromptly: Bool { false }
    package var callsInterruptible: Bool { false }
    package var ownDeadlines: Deadlines? { nil }
    package func adopt(_ deadlines: Deadlines) {}
    package var traits: DeviceTraits { identity.traits }
    package var underlying: MigrationDevice { self }
}

extension MigrationDevice where Self: DeviceWrapper {
    package var traits: DeviceTraits { wrapped.traits }
    package var underlying: MigrationDevice { wrapped.underlying }
}

/// A device that passes every request on to another device (to add deadlines, for example).
package protocol DeviceWrapper: AnyObject {
    /// The device requests are passed to.
    var wrapped: MigrationDevice { get }
}

/// The channel to a device failed; the device's behaviour is unknown. Never a device verdict.
package struct TransportError: Error, CustomStringConvertible, Sendable {
    package var message: String
    /// True when the operation did not finish before its deadline.
    package var timedOut: Bool
    package init(_ message: String, timedOut: Bool = false) {
        self.message = message
        self.timedOut = timedOut
    }
    package var description: String { message }
}

/// A device that can say whether its host kernel suffered during the run (taint, WARNING, BUG). Kernel targets
/// answer from the kernel's own records; simulated devices may model it.
package protocol HostHealthReporting: AnyObject {
    /// Problems since the device was opened, one line each; empty when the host is healthy.
    func hostProblems() -> [String]
}

/// What a kind of target is, beyond its name: the facts the commands, the runner and the reports act on, so that
/// none of them compares target kind names.
package struct DeviceTraits: Sendable, Hashable {
    /// Requests reach this host's kernel and can hang a kernel thread or warn: the spec's hazards apply and the
    /// host's kernel health is watched.
    package var mayHarmHost: Bool
    /// A crash of the target can take the machine down: the journal reaches the disk before every operation.
    package var journalsEachOperation: Bool
    /// Built in and simulated: its target URI opens the same device again, afresh, at any time.
    package var isSimulated: Bool
    /// Opening the target again gives a usable device after one hung (a kernel device stuck in an ioctl does not).
    package var canReopen: Bool

    package init(mayHarmHost: Bool, journalsEachOperation: Bool, isSimulated: Bool, canReopen: Bool) {
        self.mayHarmHost = mayHarmHost
        self.journalsEachOperation = journalsEachOperation
        self.isSimulated = isSimulated
        self.canReopen = canReopen
    }

    /// The reference device and the catalogue's faults.
    package static let simulated = DeviceTraits(
        mayHarmHost: false, journalsEachOperation: false, isSimulated: true,
        canReopen: true)
    /// A device of this host's kernel.
    package static let hostKernel = DeviceTraits(
        mayHarmHost: true, journalsEachOperation: true, isSimulated: false,
        canReopen: false)
    /// A device behind another process.
    package static let external = DeviceTraits(
        mayHarmHost: false, journalsEachOperation: true, isSimulated: false,
        canReopen: true)

    /// The traits of each target kind, for a kind a report or an adapter's `hello` names; any other kind is
    /// ``external``. A new kind of target adds its line here.
    static let byKind: [String: DeviceTraits] = [
        "reference": .simulated, "fault": .simulated, "vfio": .hostKernel, "exec": .external,
    ]

    /// The traits of the target kind `kind` (``DeviceIdentity/targetKind``).
    package init(kind: String) { self = DeviceTraits.byKind[kind] ?? .external }
}

extension DeviceIdentity {
    /// The traits of the identity's target kind.
    package var traits: DeviceTraits { DeviceTraits(kind: targetKind) }
}
