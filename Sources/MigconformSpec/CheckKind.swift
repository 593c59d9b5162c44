/// The runner's vocabulary: every check a rule can ask for. A new rule that uses an existing kind needs no code;
/// a new kind needs an executor in `MigconformRun` and an entry here (its parameter schema).
public enum CheckKind: String, Sendable, CaseIterable {
    /// `VFIO_DEVICE_FEATURE_MIGRATION` GET and what the flags word may hold.
    case migrationFlags = "migration-flags"
    /// One raw `VFIO_DEVICE_FEATURE` call (GET/SET/PROBE of a feature index), expected to succeed or fail.
    case feature
    /// Every single-step arc of the device's profile, from a fresh positioning into its source state.
    case arc
    /// Every ordered pair of settable states that is more than one arc apart (v2 combination transitions).
    case combination
    /// A request for the state the device is already in.
    case sameState = "same-state"
    /// Requests for values that must be refused; the state must not change and the device must stay usable.
    case rejectedValue = "rejected-value"
    /// Requests the path rules forbid (v2 STOP_COPY to PRE_COPY states).
    case forbiddenArc = "forbidden-arc"
    /// `VFIO_DEVICE_RESET` from every settable state.
    case reset
    /// The error state: refuses every request and is left only through reset.
    case errorSticky = "error-sticky"
    /// The save stream in STOP_COPY ends with a permanent end of stream.
    case streamEnd = "stream-end"
    /// Arcs that keep the session: the same fd goes on streaming, no new fd.
    case sessionKept = "session-kept"
    /// Arcs (and reset) that end the session: the old fd no longer moves data.
    case sessionEnded = "session-ended"
    /// `VFIO_MIG_GET_PRECOPY_INFO` semantics.
    case precopyInfo = "precopy-info"
    /// Save, then resume the same bytes written in the given segment sizes.
    case roundTrip = "round-trip"
    /// Resume a damaged stream (truncated, corrupted, overlong) and check the device's answer.
    case resumeDamaged = "resume-damaged"
    /// Properties that must hold after every step (no spontaneous change; ERROR only after a failed request).
    case invariant
    /// v1: reserved bits 3-31 of `device_state` are ignored and preserved.
    case reservedBits = "reserved-bits"
    /// v1: the save protocol of the migration region (pending_bytes, data_offset, data_size).
    case saveProtocol = "save-protocol"
    /// Access that must keep working in given states (config space reads, interrupt configuration).
    case deviceAccess = "device-access"
    /// The host kernel stays healthy (no new taint, WARNING or BUG) across the run.
    case hostHealth = "host-health"
    /// DMA logging (`VFIO_DEVICE_FEATURE_DMA_LOGGING_START`/`_STOP`/`_REPORT`): the device's log and the core's
    /// limits on its requests.
    case dmaLogging = "dma-logging"
    /// Two devices: the stream of the device under test resumed on a peer of the same kind, the order user space
    /// follows with several devices, and a stream from a foreign device offered to the device under test.
    case peer
    /// The data fd as a file: close-on-exec, access mode, no seeking, ioctls it refuses, `poll` at the ends of the
    /// stream, two saves from STOP compared.
    case dataFD = "data-fd"
    /// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (feature 12, Linux 7.1) and the flags of `struct vfio_precopy_info`.
    case precopyInfoV2 = "precopy-info-v2"
    /// v1: the fields of the migration region at their native width only; data_offset and data_size read twice.
    case regionAccess = "region-access"

    /// The parameters the kind takes.
    public var parameters: [ParameterSpec] {
        switch self {
        case .migrationFlags:
            return [.oneOf("expect", ["get-succeeds", "includes-mandatory", "defined-combination"], required: true)]
        case .feature:
            return [.integer("feature", in: Limits.featureIndex, required: true),
                    .list("ops", of: ["get", "set", "probe"], required: true),
                    .integer("payload", in: Limits.featurePayload),
                    .integer("extra-flags", in: Limits.flagsWord),
                    .oneOf("expect", ["success", "failure"], required: true),
                    .oneOf("from", ["initial", "every-settable-state", "error"])]
        case .arc:
            return [.oneOf("expect", ["state", "data-fd", "get-fd", "fd-direction"], required: true), .list("tags", of: nil),
                    .list("exclude-tags", of: nil)]
        case .combination:
            return [.oneOf("expect", ["state", "data-fd"], required: true)]
        case .sameState:
            return []
        case .rejectedValue:
            return [.values("values"), .boolean("unadvertised"), .boolean("raw-write")]
        case .forbiddenArc:
            return []
        case .reset:
            return [.oneOf("expect", ["state", "session-ended"], required: true)]
        case .errorSticky:
            return [.oneOf("expect", ["requests-refused", "reset-recovers"], required: true)]
        case .streamEnd:
            return [.integer("extra-reads", in: Limits.extraReads)]
        case .sessionKept:
            return []
        case .sessionEnded:
            return [.oneOf("after", ["arc", "reset"], required: true)]
        case .precopyInfo:
            return [.oneOf("expect", ["supported", "initial-nonzero", "initial-decreases", "enomsg-at-end",
                                      "refused-outside-precopy", "dirty-zero-at-start", "zero-at-temporary-end",
                                      "supported-in-p2p"], required: true)]
        case .roundTrip:
            return [.list("segments", of: nil, integers: Limits.segment),
                    .oneOf("via", ["stop-copy", "pre-copy"])]
        case .resumeDamaged:
            return [.oneOf("damage", ["truncate", "truncate-one", "truncate-header", "corrupt", "header", "garbage",
                                      "overlong", "refused-write"], required: true),
                    .oneOf("expect", ["stop-fails", "state-after-failure", "reset-recovers"], required: true),
                    .oneOf("exit", ["resume-exit", "initial"]),
                    .values("also-error")]
        case .invariant:
            return [.oneOf("name", ["no-spontaneous-change", "error-only-after-failure"], required: true)]
        case .reservedBits:
            return [.oneOf("expect", ["ignored", "preserved", "reserved-field"], required: true)]
        case .saveProtocol:
            return [.oneOf("expect", ["pending-idempotent", "data-offset-nonzero", "drains"], required: true),
                    .integer("max-iterations", in: Limits.maxIterations)]
        case .deviceAccess:
            return [.oneOf("expect", ["config-read", "interrupts-disable", "config-write", "bar-read",
                                      "interrupts-enable"], required: true),
                    .list("in", of: nil)]
        case .hostHealth:
            return []
        case .peer:
            return [.oneOf("expect", ["resume-on-peer", "two-device-order", "foreign-refused"], required: true)]
        case .dataFD:
            return [.oneOf("expect", ["close-on-exec", "access-mode", "not-seekable", "unknown-ioctl",
                                      "precopy-info-refused", "short-argsz", "poll-at-end", "poll-at-temporary-end",
                                      "save-repeatable"], required: true),
                    .list("in", of: nil)]
        case .precopyInfoV2:
            return [.oneOf("expect", ["set-only", "opt-in", "flags-defined", "reinit", "refused-without-pre-copy"],
                           required: true)]
        case .regionAccess:
            return [.oneOf("expect", ["native-width", "save-fields-repeatable"], required: true)]
        case .dmaLogging:
            return [.oneOf("expect", DMALoggingExpectation.all, required: true),
                    .list("limits", of: ["zero-ranges", "too-many-ranges", "unaligned", "overflow", "overlap"]),
                    .list("page-shifts", of: nil, integers: Limits.dmaPageShift),
                    .list("in", of: nil)]
        }
    }
}

/// The schema of one check parameter.
public struct ParameterSpec: Sendable {
    public enum Shape: Sendable {
        /// One of a fixed set of strings.
        case oneOf([String])
        /// A list of strings (optionally from a fixed set) or, with a range, of integers in that range.
        case list([String]?, integers: ClosedRange<Int64>?)
        /// A list whose items are state names or integers.
        case values
        /// An integer in the range.
        case integer(ClosedRange<Int64>)
        case boolean
    }
    public var name: String
    public var shape: Shape
    public var required: Bool

    public static func oneOf(_ name: String, _ choices: [String], required: Bool = false) -> ParameterSpec {
        ParameterSpec(name: name, shape: .oneOf(choices), required: required)
    }
    public static func list(_ name: String, of choices: [String]?, integers: ClosedRange<Int64>? = nil,
                            required: Bool = false) -> ParameterSpec {
        ParameterSpec(name: name, shape: .list(choices, integers: integers), required: required)
    }
    public static func values(_ name: String) -> ParameterSpec { ParameterSpec(name: name, shape: .values, required: false) }
    public static func integer(_ name: String, in range: ClosedRange<Int64>, required: Bool = false) -> ParameterSpec {
        ParameterSpec(name: name, shape: .integer(range), required: required)
    }
    public static func boolean(_ name: String) -> ParameterSpec { ParameterSpec(name: name, shape: .boolean, required: false) }
}

/// The documented range of every number a spec may hold (Specs/README.md, "Limits"). The loader refuses anything
/// outside them, so that no executor has to clamp a value and `check-spec` refuses what `run` could not do.
public enum Limits {
    /// `feature`: the feature index, the low 16 bits of `vfio_device_feature.flags` (`VFIO_DEVICE_FEATURE_MASK`).
    public static let featureIndex: ClosedRange<Int64> = 0...0xffff
    /// `feature` `payload`: bytes after the 8-byte header; the largest migration payload is 16 bytes, and a page
    /// leaves room for any other feature's struct.
    public static let featurePayload: ClosedRange<Int64> = 0...4096
    /// `feature` `extra-flags`: bits of the 32-bit flags word.
    public static let flagsWord: ClosedRange<Int64> = 0...0xffff_ffff
    /// `stream-end` `extra-reads`: reads after the end of stream.
    public static let extraReads: ClosedRange<Int64> = 0...256
    /// `save-protocol` `max-iterations`.
    public static let maxIterations: ClosedRange<Int64> = 1...1_000_000
    /// One `round-trip` write size: one byte up to the 64 MiB the adapter protocol carries in one write.
    public static let segment: ClosedRange<Int64> = 1...(64 << 20)
    /// `dma-logging` `page-shifts`: a REPORT page size as a power of two, from 4 KiB (the core's smallest) to 1 GiB.
    public static let dmaPageShift: ClosedRange<Int64> = 12...30
    /// Items of any list in a check (`segments`, `values`, `ops`, `tags`, `in`).
    public static let listItems = 1024
    /// A spec file's size in bytes; a larger file is refused before it is parsed.
    public static let specFileBytes = 1 << 20
}

/// What a `dma-logging` check verifies.
public enum DMALoggingExpectation {
    public static let all = ["probe-consistent", "start-page-size", "second-start-fails", "report-before-start-fails",
                             "report-only-sets", "report-page-sizes", "core-limit", "survives-arcs",
                             "no-new-dirty-in-stop"]
}
