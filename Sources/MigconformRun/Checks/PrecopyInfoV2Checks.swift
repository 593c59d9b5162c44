import MigconformDevice
import MigconformSpec

/// `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (feature 12, Linux 7.1): the opt-in to the flags output of
/// `struct vfio_precopy_info`. The rules need the spec feature `precopy-info-v2`, found by PROBE: before Linux 7.1
/// they are NOT_APPLICABLE. No check reads `flags` before the opt-in.
enum PrecopyInfoV2Checks {
    static let feature = DataFD.precopyInfoV2Feature

    static func run(_ ctx: CaseContext, _ p: PrecopyInfoV2Check) throws -> CheckOutcome {
        switch p.expect {
        case .refusedWithoutPreCopy: return try refusedWithoutPreCopy(ctx)
        case .setOnly:
            let probeGet = try ctx.op(.feature(flags: FeatureRequest.probe | FeatureRequest.get | feature, payload: []))
            if probeGet.succeeded {
                return .violated(
                    expected: "PROBE for GET of feature 12 fails", actual: describe(probeGet),
                    message: "feature 12 claims GET, which it does not have")
            }
            let get = try ctx.op(
                .feature(
                    flags: FeatureRequest.get | feature,
                    payload: [UInt8](repeating: 0, count: 8)))
            return ctx.refusal(get, "GET of feature 12", ifAccepted: "GET of feature 12 succeeded; it is SET only")
        case .optIn:
            let probe = try ctx.op(.feature(flags: FeatureRequest.probe | FeatureRequest.set | feature, payload: []))
            let set = try ctx.op(.feature(flags: FeatureRequest.set | feature, payload: []))
            if probe.succeeded && set.succeeded { return .pass("PROBE for SET and SET of feature 12 succeeded") }
            return .violated(
                expected: "PROBE for SET and SET of feature 12 succeed",
                actual: "PROBE: \(describe(probe)), SET: \(describe(set))",
                message: "feature 12 is present, but cannot be set")
        case .flagsDefined, .reinit:
            return try afterOptIn(ctx, reinit: p.expect == .reinit)
        }
    }

    /// After the opt-in, read the pre-copy stream to its temporary end, asking PRECOPY_INFO before each read with an
    /// undefined bit set in the flags passed in: the answer's flags hold only defined bits; on REINIT, dirty_bytes
    /// starts again at zero.
    static func afterOptIn(_ ctx: CaseContext, reinit: Bool) throws -> CheckOutcome {
        let pre = try ctx.role("pre-copy")
        let fd = try ctx.enterForDataFD(pre)
        let set = try ctx.op(.feature(flags: FeatureRequest.set | feature, payload: []))
        guard set.succeeded else {
            throw Blocked(
                reason: "SET of feature 12 failed with \(describe(set))",
                cause: .check(.precopyInfoV2(.optIn)))
        }
        let junk: UInt32 = 0x8000_0000
        var reinits = 0
        var reads = 0
        for _ in 0..<10_000 {
            let out = try ctx.op(.dataFD(fd: fd, call: .precopyInfo(argsz: DataFD.precopyInfoSize, flags: junk)))
            if let na = try DataFDChecks.unsupported(ctx, fd, out, "VFIO_MIG_GET_PRECOPY_INFO with flags") {
                return na
            }
            guard case .bytes(let b) = out, let info = DataFD.PrecopyInfo(b) else {
                throw Blocked(
                    reason: "PRECOPY_INFO failed with \(describe(out))",
                    cause: .check(.precopyInfo(.supported)))
            }
            if !reinit, info.flags & ~DataFD.definedPrecopyFlags != 0 {
                return .violated(
                    expected: "flags within 0x\(String(DataFD.definedPrecopyFlags, radix: 16))",
                    actual: "flags 0x\(String(info.flags, radix: 16))",
                    message: "after the opt-in PRECOPY_INFO reports undefined flags"
                        + (info.flags & junk != 0 ? " (the bit passed in came back)" : ""))
            }
            if reinit, info.flags & DataFD.reinit != 0 {
                reinits += 1
                if info.dirtyBytes != 0 {
                    return .violated(
                        expected: "dirty_bytes 0 with REINIT", actual: "dirty_bytes \(info.dirtyBytes)",
                        message: "REINIT reported while dirty_bytes did not start again at zero")
                }
            }
            let read = try ctx.op(.read(fd: fd, count: 4096))
            guard case .bytes(let data) = read, !data.isEmpty else { break }
            reads += 1
        }
        let over = reads == 1 ? "1 read" : "\(reads) reads"
        if reinit {
            return .pass(
                reinits == 0
                    ? "no REINIT reported over \(over) (the device did not re-initialise)"
                    : "REINIT reported \(reinits) times, each with dirty_bytes 0")
        }
        return .pass("after the opt-in, PRECOPY_INFO reported only defined flags over \(over)")
    }

    /// A device without PRE_COPY refuses SET of feature 12 (on a kernel before 7.1 the feature is unknown anyway).
    static func refusedWithoutPreCopy(_ ctx: CaseContext) throws -> CheckOutcome {
        if ctx.machine.features.contains("pre-copy") {
            return .notApplicable("the device has PRE_COPY")
        }
        let set = try ctx.op(.feature(flags: FeatureRequest.set | feature, payload: []))
        return ctx.refusal(
            set, "SET of feature 12 on a device without PRE_COPY",
            ifAccepted: "a device without PRE_COPY accepted the PRECOPY_INFOv2 opt-in")
    }
}
