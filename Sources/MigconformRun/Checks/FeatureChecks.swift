import MigconformDevice
import MigconformSpec

/// Feature discovery: the migration flags word and raw `VFIO_DEVICE_FEATURE` calls.
enum FeatureChecks {
    static func migrationFlags(_ ctx: CaseContext, _ p: MigrationFlagsCheck) throws -> CheckOutcome {
        let outcome = try ctx.op(.getMigrationFlags)
        guard case .value(let flags) = outcome else {
            if p.expect != .getSucceeds {
                throw Blocked(
                    reason: "GET of VFIO_DEVICE_FEATURE_MIGRATION failed with \(describe(outcome))",
                    cause: .check(.migrationFlags(.getSucceeds)))
            }
            return .violated(
                expected: "GET succeeds with a flags word", actual: describe(outcome),
                message: "GET of VFIO_DEVICE_FEATURE_MIGRATION failed")
        }
        let hex = "0x" + String(flags, radix: 16)
        switch p.expect {
        case .getSucceeds:
            return .pass("flags \(hex)")
        case .includesMandatory:
            let missing = ctx.spec.features.filter { $0.mandatory && $0.flag != nil && flags & $0.flag! == 0 }
            if missing.isEmpty { return .pass("flags \(hex) include every mandatory flag") }
            return .violated(
                expected: "flags include \(missing.map(\.name).joined(separator: ", "))",
                actual: "flags \(hex)", message: "a mandatory migration flag is missing")
        case .definedCombination:
            let known = ctx.spec.features.compactMap(\.flag).reduce(0, |)
            let named = Set(ctx.spec.features.filter { $0.flag != nil && flags & $0.flag! == $0.flag! }.map(\.name))
            let defined = ctx.spec.profiles.contains { Set($0.features) == named }
            if flags & ~known == 0 && defined { return .pass("flags \(hex) are a defined combination") }
            return .violated(
                expected: "one of: " + ctx.spec.profiles.map(\.name).joined(separator: ", "),
                actual: "flags \(hex)", message: "the advertised flags are not a defined combination")
        }
    }

    static func feature(_ ctx: CaseContext, _ p: FeatureCheck) throws -> CheckOutcome {
        if let from = ctx.testCase.from { try ctx.enter(from) }
        if p.from == .error {
            let error = try ctx.role("error")
            guard try ErrorChecks.driveIntoError(ctx) else {
                return .notApplicable(
                    "a failed resume did not put the device in \(error), so the error state could not be reached")
            }
        }
        var flags = UInt32(truncatingIfNeeded: p.feature) & FeatureRequest.mask
        for op in p.ops {
            switch op {
            case .get: flags |= FeatureRequest.get
            case .set: flags |= FeatureRequest.set
            case .probe: flags |= FeatureRequest.probe
            }
        }
        flags |= p.extraFlags
        let payload = [UInt8](repeating: 0, count: p.payload)
        let outcome = try ctx.op(.feature(flags: flags, payload: payload))
        let what = "VFIO_DEVICE_FEATURE flags 0x\(String(flags, radix: 16)) argsz \(8 + payload.count)"
        if p.expect == .success {
            if outcome.succeeded { return .pass("\(what) succeeded") }
            return .violated(expected: "success", actual: describe(outcome), message: "\(what) failed")
        }
        return ctx.refusal(outcome, what, ifAccepted: "\(what) succeeded")
    }
}

/// A short text of an outcome for expected/actual lines.
func describe(_ outcome: DeviceOutcome) -> String {
    switch outcome {
    case .done: return "success"
    case .value(let v): return "success (\(v))"
    case .state(let s, let fd): return "success (state \(s), data_fd \(fd))"
    case .bytes(let b): return b.isEmpty ? "end of stream (0 bytes)" : "\(b.count) bytes"
    case .precopy(let i, let d): return "initial_bytes \(i), dirty_bytes \(d)"
    case .failed(let e): return e.name
    }
}
