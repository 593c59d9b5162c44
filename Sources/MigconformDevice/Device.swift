/// The migration protocol generation a device speaks.
public enum ProtocolGeneration: String, Codable, Sendable {
    /// The region-based protocol of Linux 5.8 to 5.17 (`VFIO_REGION_TYPE_MIGRATION`).
    case v1
    /// The `VFIO_DEVICE_FEATURE` state machine of Linux 5.18 and later.
    case v2
}

/// Who a device is: what a report records so that a reader knows what was tested.
public struct DeviceIdentity: Codable, Hashable, Sendable {
    /// The kind of target: `reference`, `fault`, `vfio`, `exec`, or what an adapter reports.
    public var targetKind: String
    /// A driver or implementation name (`mtty`, `mlx5_vfio_pci`, `migconform-reference`).
    public var driver: String
    /// A human-readable description (PCI ids, mdev type, fault name).
    public var detail: String
    /// The kernel release the device runs under, when it is a kernel device.
    public var kernelRelease: String?
    /// Further facts, as key/value pairs (PCI vendor/device ids, mdev type, adapter version).
    public var extra: [String: String]

    public init(targetKind: String, driver: String, detail: String, kernelRelease: String? = nil,
                extra: [String: String] = [:]) {
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
public protocol MigrationDevice: AnyObject {
    /// Which protocol generation this device speaks.
    var generation: ProtocolGeneration { get }
    /// Who the device is.
    var identity: DeviceIdentity { get }
    /// Performs one request.
    func perform(_ operation: DeviceOperation) throws -> DeviceOutcome
    /// Releases the device (closes fds, ends adapter processes). Called once at the end of a run.
    func shutdown()
}

extension MigrationDevice {
    public func shutdown() {}
}

/// The channel to a device failed; the device's behaviour is unknown. Never a device verdict.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// True when the operation did not finish before its deadline.
    public var timedOut: Bool
    public init(_ message: String, timedOut: Bool = false) {
        self.message = message
        self.timedOut = timedOut
    }
    public var description: String { message }
}
