import MigconformDevice
import MigconformSpec

/// v1: how the fields of `struct vfio_device_migration_info` may be accessed.
enum V1RegionChecks {
    static func run(_ ctx: CaseContext, _ p: RegionAccessCheck) throws -> CheckOutcome {
        switch p.expect {
        case .nativeWidth: return try nativeWidth(ctx)
        case .saveFieldsRepeatable: return try saveFieldsRepeatable(ctx)
        case .dataOffsetPageAligned: return try dataOffsetPageAligned(ctx)
        }
    }

    /// Accesses of device_state at other than its width (1, 2 and 8 bytes) or alignment (4 bytes at offset 2) fail.
    static func nativeWidth(_ ctx: CaseContext) throws -> CheckOutcome {
        let initial = ctx.machine.initial
        try ctx.enter(initial.name)
        guard case .value(let word) = try ctx.op(.regionRead(offset: RegionV1.deviceState, width: 4)) else {
            throw Blocked(reason: "device_state does not read at its own width")
        }
        let accesses: [(DeviceOperation, String)] = [
            (.regionRead(offset: RegionV1.deviceState, width: 1), "a 1-byte read of device_state"),
            (.regionRead(offset: RegionV1.deviceState, width: 2), "a 2-byte read of device_state"),
            (.regionRead(offset: RegionV1.deviceState, width: 8), "an 8-byte read at device_state"),
            (.regionRead(offset: RegionV1.deviceState + 2, width: 4), "a 4-byte read at offset 2"),
            // The low half of the current word: accepted by mistake, it leaves the state as it was.
            (
                .regionWrite(offset: RegionV1.deviceState, width: 2, value: word & 0xffff),
                "a 2-byte write of device_state"
            ),
        ]
        var seen: [String] = []
        for (op, what) in accesses {
            let out = try ctx.op(op)
            guard let e = out.errno else {
                return .violated(
                    expected: "\(what) fails", actual: describe(out),
                    message: "\(what) succeeded: the field is accessed only at its native width and "
                        + "alignment")
            }
            seen.append("\(what): \(e)")
        }
        guard try ctx.readState() == initial.value else {
            throw Blocked(reason: "device_state changed during the accesses")
        }
        return .pass(seen.joined(separator: "; "))
    }

    /// In the save state with data pending, data_offset and data_size read twice describe the same buffer: the same
    /// numbers, and pending_bytes has not fallen by more than that one buffer (a device that moved on to a second
    /// buffer of the same size shows only there).
    static func saveFieldsRepeatable(_ ctx: CaseContext) throws -> CheckOutcome {
        let save = try ctx.role("save")
        let stream = V1Stream(ctx)
        let (pending, fromReset) = try stream.enterWithPending(save)
        let offset1 = try stream.dataOffset(pending: pending)
        let size1 = try stream.field(RegionV1.dataSize)
        let offset2 = try stream.dataOffset(pending: pending)
        let size2 = try stream.field(RegionV1.dataSize)
        guard let offset1, let size1, let offset2, let size2 else {
            throw Blocked(reason: "a read of data_offset or data_size failed")
        }
        guard offset1 == offset2 && size1 == size2 else {
            return .violated(
                expected: "data_offset \(offset1) and data_size \(size1) again",
                actual: "data_offset \(offset2) and data_size \(size2)",
                message: "a second read of data_offset moved on to another buffer before this one "
                    + "was read")
        }
        guard let after = try stream.field(RegionV1.pendingBytes) else {
            throw Blocked(reason: "pending_bytes does not read after data_offset")
        }
        if pending >= after && pending - after > size1 {
            return .violated(
                expected: "pending_bytes down by at most data_size (\(size1)) from \(pending)",
                actual: "pending_bytes \(after)",
                message: "the second read of data_offset took another buffer's worth of pending data")
        }
        return .pass(
            "data_offset \(offset1) and data_size \(size1), twice; pending_bytes \(pending), then \(after)"
                + V1Stream.reenteredNote(fromReset))
    }

    /// In a region that can be mmapped, data_offset read in the save state is a multiple of the page size.
    static func dataOffsetPageAligned(_ ctx: CaseContext) throws -> CheckOutcome {
        let save = try ctx.role("save")
        try ctx.enter(save, fresh: true)
        let info = try ctx.op(.regionInfo)
        if info.errno == .ENOSYS { return .notApplicable("the target cannot tell whether the region can be mmapped") }
        guard case .value(let flags) = info else {
            throw Blocked(reason: "the migration region's info is not available: \(describe(info))")
        }
        guard flags & RegionV1.flagMmap != 0 else {
            return .notApplicable("the migration region cannot be mmapped (flags 0x\(String(flags, radix: 16)))")
        }
        // data_offset as a migration reads it: after pending_bytes, with data pending.
        let stream = V1Stream(ctx)
        let (pending, _) = try stream.enterWithPending(save)
        guard let offset = try stream.dataOffset(pending: pending) else {
            throw Blocked(reason: "data_offset does not read in \(save)")
        }
        guard offset % RegionV1.pageSize == 0 else {
            return .violated(
                expected: "data_offset a multiple of \(RegionV1.pageSize)",
                actual: "data_offset \(offset)",
                message: "the region can be mmapped, but its data section starts at \(offset), "
                    + "which is not page aligned")
        }
        return .pass("the region can be mmapped; data_offset \(offset) is page aligned")
    }
}
