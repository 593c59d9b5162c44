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
///     exec:<command line>                                       an adapter process (Specs/ADAPTER.md), run by /bin/sh -c
enum Targets {
    static let summary = """
    TARGETS:
      ref:v2[?features=stop-copy,p2p,pre-copy][&state-size=SIZE][&data-size=no][&error-on-bad-resume=no]
                                  the built-in reference device, v2 (default: every feature)
      ref:v1[?state-size=SIZE]    the built-in reference device, v1 region protocol
      fault:NAME[?features=...]   a reference device with one deliberate fault (list: migconform faults)
      vfio:/dev/vfio/GROUP/NAME   a VFIO device of this kernel (NAME: PCI address or mdev UUID)
      vfio:/dev/vfio/devices/vfioN  the same through the iommufd cdev
      exec:COMMAND LINE           an external adapter speaking JSON lines on stdin/stdout (Specs/ADAPTER.md),
                                  run with /bin/sh -c; e.g. exec:ssh lab migconform adapter --target vfio:...
                                  deadlines: MIGCONFORM_ADAPTER_TIMEOUT (default 10 s per operation),
                                  MIGCONFORM_ADAPTER_RESET_TIMEOUT (60 s), MIGCONFORM_ADAPTER_HELLO_TIMEOUT (30 s)
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
        case "fault":
            let (name, query) = splitQuery(rest)
            guard let entry = FaultCatalogue.entry(named: name) else {
                throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': no fault named '\(name)' (see 'migconform faults')")
            }
            var flags: MigrationFlags?
            var size: UInt64?
            for (key, value) in query {
                switch key {
                case "features": flags = try v2Configuration(["features": value], uri: uri).flags
                case "state-size": size = try Self.size(value, uri: uri)
                default: throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': unknown parameter '\(key)'")
                }
            }
            return entry.makeDevice(flags: flags, stateSize: size)
        case "vfio":
            do { return try VFIOTarget.open(rest) } catch {
                throw ExitFailure(code: ExitCode.target, message: "cannot open \(uri): \(error)")
            }
        case "exec":
            guard !rest.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': exec: needs a command line, e.g. exec:python3 adapter.py")
            }
            do { return try ExecDevice(command: rest, deadlines: try execDeadlines()) } catch let e as ExitFailure {
                throw e
            } catch {
                throw ExitFailure(code: ExitCode.target, message: "cannot open \(uri): \(error)")
            }
        default:
            throw ExitFailure(code: ExitCode.usage, message: "target '\(uri)': unknown scheme '\(scheme)' (known: ref, vfio, exec)")
        }
    }

    /// Deadlines of `exec:` targets, from the environment (seconds; fractions allowed).
    static func execDeadlines() throws -> ExecDeadlines {
        var d = ExecDeadlines()
        let env = ProcessInfo.processInfo.environment
        func seconds(_ name: String) throws -> Double? {
            guard let text = env[name] else { return nil }
            guard let s = Double(text), s > 0, s.isFinite else {
                throw ExitFailure(code: ExitCode.usage, message: "\(name)='\(text)': expected a positive number of seconds")
            }
            return s
        }
        if let s = try seconds("MIGCONFORM_ADAPTER_TIMEOUT") { d.operation = s }
        if let s = try seconds("MIGCONFORM_ADAPTER_RESET_TIMEOUT") { d.reset = s }
        if let s = try seconds("MIGCONFORM_ADAPTER_HELLO_TIMEOUT") { d.hello = s }
        return d
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
