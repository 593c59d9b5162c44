import Foundation
import MigconformDevice
import MigconformLinux
import MigconformReference

/// Target URIs: how the command line names a device.
///
///     ref:v2?features=stop-copy,p2p,pre-copy&state-size=64KiB   the reference device (v2), any profile
///     ref:v1                                                    the reference device (v1 region protocol)
///     vfio:/dev/vfio/<group>/<device-name>                      a kernel device, group path
///     vfio:/dev/vfio/devices/vfioN                              a kernel device, cdev path
enum Targets {
    static let summary = """
    TARGETS:
      ref:v2[?features=stop-copy,p2p,pre-copy][&state-size=SIZE][&data-size=no][&error-on-bad-resume=no]
                                  the built-in reference device, v2 (default: every feature)
      ref:v1[?state-size=SIZE]    the built-in reference device, v1 region protocol
      vfio:/dev/vfio/GROUP/NAME   a VFIO device of this kernel (NAME: PCI address or mdev UUID)
      vfio:/dev/vfio/devices/vfioN  the same through the iommufd cdev
    """

    static func open(_ uri: String) throws -> MigrationDevice {
        guard let colon = uri.firstIndex(of: ":") else {
            throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)' has no scheme: use ref:, vfio: (see --help)")
        }
        let scheme = String(uri[..<colon])
        let rest = String(uri[uri.index(after: colon)...])
        switch scheme {
        case "ref":
            let (kind, query) = splitQuery(rest)
            switch kind {
            case "v2": return ReferenceDeviceV2(try v2Configuration(query, uri: uri))
            case "v1": return ReferenceDeviceV1(try v1Configuration(query, uri: uri))
            default: throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': the reference device is ref:v2 or ref:v1")
            }
        case "vfio":
            do { return try VFIOTarget.open(rest) } catch {
                throw ExitFailure(code: ExitCode.target, message: "cannot open \(uri): \(error)")
            }
        default:
            throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': unknown scheme '\(scheme)' (known: ref, vfio)")
        }
    }

    static func splitQuery(_ s: String) -> (String, [String: String]) {
        guard let q = s.firstIndex(of: "?") else { return (s, [:]) }
        var items: [String: String] = [:]
        for pair in s[s.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            items[kv[0]] = kv.count > 1 ? kv[1] : ""
        }
        return (String(s[..<q]), items)
    }

    static func v2Configuration(_ query: [String: String], uri: String) throws -> ReferenceDeviceV2.Configuration {
        var config = ReferenceDeviceV2.Configuration()
        for (key, value) in query {
            switch key {
            case "features":
                var flags: MigrationFlags = []
                for name in value.split(separator: ",") {
                    switch name {
                    case "stop-copy": flags.insert(.stopCopy)
                    case "p2p": flags.insert(.p2p)
                    case "pre-copy": flags.insert(.preCopy)
                    default: throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': unknown feature '\(name)' (stop-copy, p2p, pre-copy)")
                    }
                }
                config.flags = flags
            case "state-size": config.stateSize = try size(value, uri: uri)
            case "data-size": config.dataSizeFeature = value != "no"
            case "error-on-bad-resume": config.errorOnBadResume = value != "no"
            default: throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': unknown parameter '\(key)'")
            }
        }
        return config
    }

    static func v1Configuration(_ query: [String: String], uri: String) throws -> ReferenceDeviceV1.Configuration {
        var config = ReferenceDeviceV1.Configuration()
        for (key, value) in query {
            switch key {
            case "state-size": config.stateSize = try size(value, uri: uri)
            default: throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': unknown parameter '\(key)'")
            }
        }
        return config
    }

    /// `4096`, `64KiB`, `1MiB`, `4GiB`.
    static func size(_ text: String, uri: String) throws -> UInt64 {
        let units: [(String, UInt64)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let n = UInt64(text.dropLast(suffix.count)) { return n * factor }
        }
        if let n = UInt64(text) { return n }
        throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': '\(text)' is not a size (e.g. 4096, 64KiB, 4GiB)")
    }
}
