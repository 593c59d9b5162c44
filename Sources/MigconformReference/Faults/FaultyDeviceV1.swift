import MigconformDevice

/// The ways ``FaultyDeviceV1`` can break the v1 region protocol, one per value.
package enum V1Fault: String, CaseIterable, Sendable {
    case accepts101 = "v1-accepts-101"
    case accepts110 = "v1-accepts-110"
    case accepts111 = "v1-accepts-111"
    case writeLeavesError = "v1-write-leaves-error"
    case resetToStop = "v1-reset-to-stop"
    case resetKeepsError = "v1-reset-keeps-error"
    case clobbersReservedBits = "v1-clobbers-reserved-bits"
    case rejectsReservedBits = "v1-rejects-reserved-bits"
    case reservedFieldEchoes = "v1-reserved-field-echoes"
    case pendingSideEffect = "v1-pending-side-effect"
    case dataOffsetZero = "v1-data-offset-zero"
    case neverDrains = "v1-never-drains"
    case missingDocumentedArc = "v1-missing-documented-arc"
    case missingOtherArc = "v1-missing-other-arc"
    case sameStateRefused = "v1-same-state-refused"
    case acceptsTruncated = "v1-accepts-truncated"
    case rejectsOwnStream = "v1-rejects-own-stream"
    case failedResumeReports111 = "v1-failed-resume-reports-111"
    case failedResumeReportsRunning = "v1-failed-resume-reports-running"
    case drifts = "v1-drifts"
    case errorAfterSuccess = "v1-error-after-success"
    case configDead = "v1-config-dead"
    case narrowAccessAccepted = "v1-narrow-access-accepted"
    case dataOffsetAdvances = "v1-data-offset-advances"
    case dataOffsetUnaligned = "v1-data-offset-unaligned"
}

/// The reference v1 device with exactly one behaviour broken.
package final class FaultyDeviceV1: ReferenceDeviceV1 {
    package let fault: V1Fault
    private var reservedShadow: UInt64 = 0
    private var pendingReads: UInt64 = 0
    private var consecutiveStateReads = 0
    private var ignoredReset = false

    package init(_ fault: V1Fault, _ configuration: Configuration = Configuration()) {
        self.fault = fault
        var configuration = configuration
        // The data section right behind the register file, in a region that can be mmapped.
        if fault == .dataOffsetUnaligned {
            configuration.mmapCapable = true
            configuration.dataOffset = RegionV1.headerSize
        }
        super.init(configuration)
    }

    package override var identity: DeviceIdentity {
        DeviceIdentity(
            targetKind: "fault", driver: "migconform-fault", detail: "reference v1 device with fault \(fault.rawValue)",
            extra: ["fault": fault.rawValue])
    }

    package override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if case .regionRead(RegionV1.deviceState, 4) = operation {
            consecutiveStateReads += 1
        } else {
            consecutiveStateReads = 0
        }
        switch (fault, operation) {
        case (.drifts, .regionRead(RegionV1.deviceState, 4)) where consecutiveStateReads >= 5 && bits == 0:
            deviceState = (deviceState & ~RegionV1.stateMask) | RegionV1.running // STOPPED wakes up by itself
        case (.resetToStop, .reset) where bits == RegionV1.resuming:
            resetDevice()
            deviceState = 0
            return .done
        case (.resetKeepsError, .reset) where bits == RegionV1.error && !ignoredReset:
            ignoredReset = true // the first reset after entering the error state does nothing
            return .done
        case (.resetKeepsError, .reset):
            ignoredReset = false
        case (.configDead, .configRead) where bits == RegionV1.resuming:
            return .value(0xffff)
        default: break
        }
        return try super.perform(operation)
    }

    package override func regionRead(offset: UInt64, width: Int) -> DeviceOutcome {
        switch (fault, offset) {
        case (.reservedFieldEchoes, RegionV1.reserved): return .value(reservedShadow)
        case (.pendingSideEffect, RegionV1.pendingBytes):
            if case .value(let p) = super.regionRead(offset: offset, width: width) {
                pendingReads += 1
                return .value(p > pendingReads ? p - pendingReads : p)
            }
        case (.narrowAccessAccepted, RegionV1.deviceState) where width != 4:
            // Any width: the low bytes of the word.
            guard case .value(let v) = super.regionRead(offset: offset, width: 4) else { return .failed(.EIO) }
            return .value(width >= 8 ? v : v & ((1 << (8 * UInt64(max(width, 0)))) - 1))
        case (.dataOffsetAdvances, RegionV1.dataOffset):
            chunkConsumed = true // every read moves on to the next buffer
            return super.regionRead(offset: offset, width: width)
        case (.dataOffsetZero, RegionV1.dataOffset):
            _ = super.regionRead(offset: offset, width: width)
            return .value(0)
        case (.neverDrains, RegionV1.pendingBytes) where bits == RegionV1.saving:
            if case .value(let p) = super.regionRead(offset: offset, width: width) { return .value(max(p, 1)) }
        default: break
        }
        return super.regionRead(offset: offset, width: width)
    }

    package override func regionWrite(offset: UInt64, width: Int, value: UInt64) -> DeviceOutcome {
        if fault == .reservedFieldEchoes, offset == RegionV1.reserved {
            reservedShadow = value
            return .done
        }
        if fault == .neverDrains, offset == RegionV1.dataSize {
            return super.regionWrite(offset: offset, width: width, value: value)
        }
        return super.regionWrite(offset: offset, width: width, value: value)
    }

    package override func writeState(_ word: UInt32) -> DeviceOutcome {
        let new = word & RegionV1.stateMask
        let old = bits
        switch fault {
        case .accepts101 where new == 5, .accepts111 where new == 7,
            .accepts110 where new == RegionV1.error && old != RegionV1.error:
            deviceState = (deviceState & ~RegionV1.stateMask) | new
            return .done
        case .writeLeavesError where old == RegionV1.error && ReferenceDeviceV1.isValid(new):
            deviceState = RegionV1.running
            return super.writeState(word)
        case .clobbersReservedBits:
            let outcome = super.writeState(word)
            deviceState &= RegionV1.stateMask
            return outcome
        case .rejectsReservedBits where word & ~RegionV1.stateMask != 0:
            return .failed(.EINVAL)
        case .missingDocumentedArc where old == 3 && new == 2:
            return .failed(.EINVAL)
        case .missingOtherArc where old == 0 && new == 1:
            return .failed(.EINVAL)
        case .sameStateRefused where old == new:
            return .failed(.EINVAL)
        case .acceptsTruncated
        where old == RegionV1.resuming && new != RegionV1.resuming && ReferenceDeviceV1.isValid(new):
            reader = nil
            deviceState = (deviceState & ~RegionV1.stateMask) | new
            return .done
        case .rejectsOwnStream
        where old == RegionV1.resuming && new != RegionV1.resuming && ReferenceDeviceV1.isValid(new):
            reader = nil
            deviceState = (deviceState & ~RegionV1.stateMask) | RegionV1.error
            return .failed(.EINVAL)
        case .failedResumeReports111, .failedResumeReportsRunning:
            let outcome = super.writeState(word)
            if outcome.errno != nil && bits == RegionV1.error {
                deviceState =
                    (deviceState & ~RegionV1.stateMask) | (fault == .failedResumeReports111 ? 7 : RegionV1.running)
            }
            return outcome
        case .errorAfterSuccess where old == 0 && new == 3:
            let outcome = super.writeState(word)
            deviceState = (deviceState & ~RegionV1.stateMask) | RegionV1.error
            return outcome
        default:
            return super.writeState(word)
        }
    }
}
