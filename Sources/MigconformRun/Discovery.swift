import MigconformDevice
import MigconformSpec

/// What the device advertises, in the spec's feature names.
package struct DeviceProfile: Sendable {
    package var features: Set<String>
    /// The raw migration flags word (v2), when the GET worked.
    package var migrationFlags: UInt64?
    /// Problems met while discovering (shown in the report, never fatal).
    package var notes: [String]
}

/// Finds out which of the spec's features a device has: flag features from the migration flags word, probe
/// features by `VFIO_DEVICE_FEATURE` PROBE, and environment features from the target itself.
package enum Discovery {
    /// `environment`: environment features the runner itself provides (`peer`, `foreign-peer`).
    package static func discover(
        _ spec: Spec, device: RecordingDevice, environment: Set<String> = []
    ) throws -> DeviceProfile {
        var features: Set<String> = []
        var flagsWord: UInt64?
        var notes: [String] = []
        if device.device.generation.dialect.advertisesFeatures {
            switch try device.perform(.getMigrationFlags) {
            case .value(let flags):
                flagsWord = flags
                for f in spec.features { if let bit = f.flag, flags & bit == bit { features.insert(f.name) } }
            case .failed(let e): notes.append("GET VFIO_DEVICE_FEATURE_MIGRATION failed with \(e)")
            default: notes.append("GET VFIO_DEVICE_FEATURE_MIGRATION gave an unexpected answer")
            }
            for f in spec.features {
                guard let index = f.probe else { continue }
                // PROBE for GET, and for SET where GET is not offered (a SET-only feature such as 12). An answer
                // that neither offers nor refuses the feature is asked again once; then the run cannot say which
                // rules apply, and does not start.
                let probe = FeatureRequest.probe | index
                var answers: [DeviceOutcome] = []
                for _ in 0..<2 {
                    answers = [try device.perform(.feature(flags: probe | FeatureRequest.get, payload: []))]
                    if !answers[0].succeeded {
                        answers.append(try device.perform(.feature(flags: probe | FeatureRequest.set, payload: [])))
                    }
                    if answers.contains(where: \.succeeded) || answers.allSatisfy({ absent.contains($0.errno) }) {
                        break
                    }
                }
                if answers.contains(where: \.succeeded) {
                    features.insert(f.name)
                } else if !answers.allSatisfy({ absent.contains($0.errno) }) {
                    throw TargetMismatch(
                        message: "a PROBE of VFIO_DEVICE_FEATURE \(index) (\(f.name)) answered "
                            + answers.map(describe).joined(separator: ", then ")
                            + ", twice: whether the device has the feature cannot be told (only "
                            + absent.compactMap { $0?.name }.sorted().joined(separator: ", ")
                            + " say it has not), so neither can which rules apply")
                } else if answers.contains(where: { $0.errno == .ENOSYS }) {
                    notes.append("the target cannot PROBE VFIO_DEVICE_FEATURE \(index) (\(f.name)): it answered ENOSYS")
                }
            }
        }
        for f in spec.features where f.flag == nil && f.probe == nil {
            if environment.contains(f.name) || environmentFeature(f.name, device: device.device.underlying) {
                features.insert(f.name)
            } else if f.mandatory {
                features.insert(f.name)
            }
        }
        return DeviceProfile(features: features, migrationFlags: flagsWord, notes: notes)
    }

    /// The answers to a PROBE that say the device has no such feature, or not that operation of it: ENOTTY (the
    /// kernel's and the drivers' answer for a feature they do not know), EINVAL (an operation the feature does not
    /// offer), EOPNOTSUPP, and ENOSYS (a target that cannot make the call at all, noted in the profile).
    static let absent: [Errno?] = [.ENOTTY, .EINVAL, .EOPNOTSUPP, .ENOSYS]

    /// Environment features: facts about the target rather than something the device advertises.
    static func environmentFeature(_ name: String, device: MigrationDevice) -> Bool {
        switch name {
        case "host-kernel": return device.traits.mayHarmHost || device is HostHealthReporting
        default: return false
        }
    }
}
