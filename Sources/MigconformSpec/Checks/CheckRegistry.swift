/// The runner's vocabulary: every check a rule can ask for.
///
/// The registry of check kinds. A kind is a parameter type conforming to ``CheckParameters`` (its schema, its
/// decoding, its facts) in a file of its own under `Checks/`, named in this file only: a case of ``CheckKind``, a
/// case of ``Check``, and a line in each of ``parametersType``, ``decode(_:)`` and ``Check/parameters``. The compiler
/// then lists every switch that still lacks it: the quantifier (`Expander.bind`), the planner's shape
/// (`CaseShape.of`), the whole-state transfers it needs (`TransferNeed.of`), the executor (`CheckExecutor.run`). README.md, "How to add a check kind".
package enum CheckKind: String, Sendable, CaseIterable {
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
    /// The device closed and opened again: the state it comes back in, the data fd of the session before.
    case lifecycle

    /// The kind's parameter type.
    package var parametersType: any CheckParameters.Type {
        switch self {
        case .migrationFlags: return MigrationFlagsCheck.self
        case .feature: return FeatureCheck.self
        case .arc: return ArcCheck.self
        case .combination: return CombinationCheck.self
        case .sameState: return SameStateCheck.self
        case .rejectedValue: return RejectedValueCheck.self
        case .forbiddenArc: return ForbiddenArcCheck.self
        case .reset: return ResetCheck.self
        case .errorSticky: return ErrorStickyCheck.self
        case .streamEnd: return StreamEndCheck.self
        case .sessionKept: return SessionKeptCheck.self
        case .sessionEnded: return SessionEndedCheck.self
        case .precopyInfo: return PrecopyInfoCheck.self
        case .roundTrip: return RoundTripCheck.self
        case .resumeDamaged: return ResumeDamagedCheck.self
        case .invariant: return InvariantCheck.self
        case .reservedBits: return ReservedBitsCheck.self
        case .saveProtocol: return SaveProtocolCheck.self
        case .deviceAccess: return DeviceAccessCheck.self
        case .hostHealth: return HostHealthCheck.self
        case .dmaLogging: return DMALoggingCheck.self
        case .peer: return PeerCheck.self
        case .dataFD: return DataFDCheck.self
        case .precopyInfoV2: return PrecopyInfoV2Check.self
        case .regionAccess: return RegionAccessCheck.self
        case .lifecycle: return LifecycleCheck.self
        }
    }

    /// The parameters the kind takes.
    package var parameters: [ParameterSpec] { parametersType.schema }

    /// The typed check of this kind from parameters already validated against ``parameters``.
    package func decode(_ arguments: CheckArguments) throws(CheckArguments.Missing) -> Check {
        switch self {
        case .migrationFlags: return .migrationFlags(try MigrationFlagsCheck(arguments))
        case .feature: return .feature(try FeatureCheck(arguments))
        case .arc: return .arc(try ArcCheck(arguments))
        case .combination: return .combination(try CombinationCheck(arguments))
        case .sameState: return .sameState(try SameStateCheck(arguments))
        case .rejectedValue: return .rejectedValue(try RejectedValueCheck(arguments))
        case .forbiddenArc: return .forbiddenArc(try ForbiddenArcCheck(arguments))
        case .reset: return .reset(try ResetCheck(arguments))
        case .errorSticky: return .errorSticky(try ErrorStickyCheck(arguments))
        case .streamEnd: return .streamEnd(try StreamEndCheck(arguments))
        case .sessionKept: return .sessionKept(try SessionKeptCheck(arguments))
        case .sessionEnded: return .sessionEnded(try SessionEndedCheck(arguments))
        case .precopyInfo: return .precopyInfo(try PrecopyInfoCheck(arguments))
        case .roundTrip: return .roundTrip(try RoundTripCheck(arguments))
        case .resumeDamaged: return .resumeDamaged(try ResumeDamagedCheck(arguments))
        case .invariant: return .invariant(try InvariantCheck(arguments))
        case .reservedBits: return .reservedBits(try ReservedBitsCheck(arguments))
        case .saveProtocol: return .saveProtocol(try SaveProtocolCheck(arguments))
        case .deviceAccess: return .deviceAccess(try DeviceAccessCheck(arguments))
        case .hostHealth: return .hostHealth(try HostHealthCheck(arguments))
        case .dmaLogging: return .dmaLogging(try DMALoggingCheck(arguments))
        case .peer: return .peer(try PeerCheck(arguments))
        case .dataFD: return .dataFD(try DataFDCheck(arguments))
        case .precopyInfoV2: return .precopyInfoV2(try PrecopyInfoV2Check(arguments))
        case .regionAccess: return .regionAccess(try RegionAccessCheck(arguments))
        case .lifecycle: return .lifecycle(try LifecycleCheck(arguments))
        }
    }
}

/// A rule's check: its kind with its parameters, decoded once when the spec is loaded.
package enum Check: Sendable, Equatable {
    case migrationFlags(MigrationFlagsCheck)
    case feature(FeatureCheck)
    case arc(ArcCheck)
    case combination(CombinationCheck)
    case sameState(SameStateCheck)
    case rejectedValue(RejectedValueCheck)
    case forbiddenArc(ForbiddenArcCheck)
    case reset(ResetCheck)
    case errorSticky(ErrorStickyCheck)
    case streamEnd(StreamEndCheck)
    case sessionKept(SessionKeptCheck)
    case sessionEnded(SessionEndedCheck)
    case precopyInfo(PrecopyInfoCheck)
    case roundTrip(RoundTripCheck)
    case resumeDamaged(ResumeDamagedCheck)
    case invariant(InvariantCheck)
    case reservedBits(ReservedBitsCheck)
    case saveProtocol(SaveProtocolCheck)
    case deviceAccess(DeviceAccessCheck)
    case hostHealth(HostHealthCheck)
    case dmaLogging(DMALoggingCheck)
    case peer(PeerCheck)
    case dataFD(DataFDCheck)
    case precopyInfoV2(PrecopyInfoV2Check)
    case regionAccess(RegionAccessCheck)
    case lifecycle(LifecycleCheck)

    /// The parameters, as the kind-independent facts they state.
    package var parameters: any CheckParameters {
        switch self {
        case .migrationFlags(let p): return p
        case .feature(let p): return p
        case .arc(let p): return p
        case .combination(let p): return p
        case .sameState(let p): return p
        case .rejectedValue(let p): return p
        case .forbiddenArc(let p): return p
        case .reset(let p): return p
        case .errorSticky(let p): return p
        case .streamEnd(let p): return p
        case .sessionKept(let p): return p
        case .sessionEnded(let p): return p
        case .precopyInfo(let p): return p
        case .roundTrip(let p): return p
        case .resumeDamaged(let p): return p
        case .invariant(let p): return p
        case .reservedBits(let p): return p
        case .saveProtocol(let p): return p
        case .deviceAccess(let p): return p
        case .hostHealth(let p): return p
        case .dmaLogging(let p): return p
        case .peer(let p): return p
        case .dataFD(let p): return p
        case .precopyInfoV2(let p): return p
        case .regionAccess(let p): return p
        case .lifecycle(let p): return p
        }
    }

    package var kind: CheckKind { type(of: parameters).kind }
    /// The case reads or writes the data fd: started in a state with a session, it needs a fresh one.
    package var usesDataFD: Bool { parameters.usesDataFD }
    /// The runner resets the device after the case (it may leave the error state or a failed resume behind).
    package var endsWithReset: Bool { parameters.endsWithReset }
    /// The runner judges the case itself, after every other case.
    package var judgedAtEndOfRun: Bool { parameters.judgedAtEndOfRun }
}

/// The parameters of one check kind: their schema, their decoding and the facts of the kind the runner and the
/// planner rely on. Every requirement is stated by every kind; none has a default.
package protocol CheckParameters: Sendable, Equatable {
    static var kind: CheckKind { get }
    /// What the loader validates a check's members against (and names in its messages).
    static var schema: [ParameterSpec] { get }
    /// Decodes members already validated against ``schema``.
    init(_ arguments: CheckArguments) throws(CheckArguments.Missing)
    /// The case reads or writes the data fd.
    var usesDataFD: Bool { get }
    /// The runner resets the device after the case (it may leave the error state or a failed resume behind).
    var endsWithReset: Bool { get }
    /// The runner judges the case itself, after every other case: it looks at the whole run (host health).
    var judgedAtEndOfRun: Bool { get }
}
