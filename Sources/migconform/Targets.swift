import Foundation
import MigconformDevice
import MigconformLinux
import MigconformReference
import MigconformSpec

/// Target URIs: how the command line names a device.
///
///     ref:v2?features=stop-copy,p2p,pre-copy&state-size=64KiB   the reference device (v2), any profile
///     ref:v1                                                    the reference device (v1 region protocol)
///     vfio:/dev/vfio/<group>/<device-name>                      a kernel device, group path
///     vfio:/dev/vfio/devices/vfioN                              a kernel device, cdev path
///     exec:<command line>                                       an adapter process (Specs/ADAPTER.md), run by
///                                                               /bin/sh -c
enum Targets {
    static let summary = """
        TARGETS:
          ref:v2[?features=stop-copy,p2p,pre-copy][&state-size=SIZE][&data-size=yes|no]
                [&error-on-bad-resume=yes|no][&dma-logging=yes|no][&precopy-info-v2=yes|no]
                                      the built-in reference device, v2 (default: every feature, yes, yes,
                                      yes, no; precopy-info-v2: feature 12 of Linux 7.1)
          ref:v1[?state-size=SIZE][&mmap=yes|no]
                                      the built-in reference device, v1 region protocol (mmap: whether its
                                      migration region can be mmapped; default yes)
          fault:NAME[?features=...][&state-size=SIZE]
                                      a reference device with one deliberate fault (list: migconform
                                      faults); features= only for v2 faults. SIZE: 4096, 64KiB, 4GiB, ... up
                                      to 1TiB
          vfio:/dev/vfio/GROUP/NAME   a VFIO device of this kernel (NAME: PCI address or mdev UUID)
          vfio:/dev/vfio/devices/vfioN  the same through the iommufd cdev
          exec:COMMAND LINE           an external adapter speaking JSON lines on stdin/stdout
                                      (Specs/ADAPTER.md), run with /bin/sh -c; e.g. exec:ssh lab migconform
                                      adapter --target vfio:...
                                      deadlines: the run's (--timeout), from MIGCONFORM_ADAPTER_TIMEOUT
                                      (every kind but reset), MIGCONFORM_ADAPTER_RESET_TIMEOUT,
                                      MIGCONFORM_ADAPTER_HELLO_TIMEOUT (30 s)
        """

    static func open(_ uri: String) throws -> MigrationDevice {
        guard let colon = uri.firstIndex(of: ":") else {
            throw usage(uri, "no scheme: use ref:, fault:, vfio: or exec: (see --help)")
        }
        let scheme = String(uri[..<colon])
        let rest = String(uri[uri.index(after: colon)...])
        switch scheme {
        case "ref":
            let (kind, query) = try splitQuery(rest, uri: uri)
            switch kind {
            case "v2": return ReferenceDeviceV2(try v2Configuration(query, uri: uri))
            case "v1": return ReferenceDeviceV1(try v1Configuration(query, uri: uri))
            default: throw usage(uri, "the reference device is ref:v2 or ref:v1")
            }
        case "fault":
            let (name, query) = try splitQuery(rest, uri: uri)
            guard let entry = FaultCatalogue.entry(named: name) else {
                throw usage(uri, "no fault named '\(excerpt(name))' (see 'migconform faults')")
            }
            var flags: MigrationFlags?
            var size: UInt64?
            let keys = entry.generation == .v2 ? ["features", "state-size"] : ["state-size"]
            for (key, value) in query {
                switch key {
                case "features" where entry.generation == .v2:
                    flags = try v2Configuration([("features", value)], uri: uri).flags
                case "state-size": size = try Self.size(value, key: key, uri: uri)
                case "features":
                    throw usage(
                        uri, "fault '\(name)' is a v1 device: it has no v2 features; its only key is state-size")
                default: throw unknownKey(key, uri: uri, keys: keys)
                }
            }
            return entry.makeDevice(flags: flags, stateSize: size)
        case "vfio":
            do { return try VFIOTarget.open(rest) } catch let e as VFIOTargetError {
                // A URI that is not a device path is a usage error, like any malformed target; the path is said
                // once, in front.
                var said = "\(e)"
                if said.hasPrefix("vfio:\(e.path): ") { said.removeFirst("vfio:\(e.path): ".count) }
                if e.step == "parse the target" {
                    throw ExitFailure(
                        code: ExitCode.usage,
                        message: "target '\(excerpt(uri))': \(e.detail ?? said)\(e.hint.map { ". \($0)" } ?? "")")
                }
                let more = e.path == rest || "vfio:\(e.path)" == rest ? said : "\(e)"
                throw ExitFailure(code: ExitCode.target, message: "cannot open \(excerpt(uri)): \(more)")
            } catch {
                throw ExitFailure(code: ExitCode.target, message: "cannot open \(excerpt(uri)): \(error)")
            }
        case "exec":
            guard !rest.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ExitFailure(
                    code: ExitCode.usage,
                    message: "target '\(uri)': exec: needs a command line, e.g. exec:python3 adapter.py")
            }
            do { return try ExecDevice(command: rest, deadlines: try execDeadlines()) } catch let e as ExitFailure {
                throw e
            } catch {
                throw ExitFailure(code: ExitCode.target, message: "cannot open \(uri): \(error)")
            }
        default:
            throw ExitFailure(
                code: ExitCode.usage,
                message: "target '\(excerpt(uri))': unknown scheme '\(excerpt(scheme))' (known: ref, fault, vfio, exec)"
            )
        }
    }

    /// Deadlines of `exec:` targets, from the environment (seconds; fractions allowed).
    static func execDeadlines() throws -> Deadlines {
        var d = Deadlines.standard
        let env = ProcessInfo.processInfo.environment
        func seconds(_ name: String) throws -> Double? {
            guard let text = env[name] else { return nil }
            guard let s = Double(text), s > 0, s.isFinite else {
                throw ExitFailure(
                    code: ExitCode.usage, message: "\(name)='\(text)': expected a positive number of seconds")
            }
            return s
        }
        if let s = try seconds("MIGCONFORM_ADAPTER_TIMEOUT") { d.setAll(exceptReset: s) }
        if let s = try seconds("MIGCONFORM_ADAPTER_RESET_TIMEOUT") { d.byKind[.reset] = s }
        if let s = try seconds("MIGCONFORM_ADAPTER_HELLO_TIMEOUT") { d.hello = s }
        return d
    }

    /// The keys each reference device takes, with the values each allows.
    static let v2Keys = [
        "features", "state-size", "data-size", "error-on-bad-resume", "dma-logging", "precopy-info-v2",
    ]
    static let v1Keys = ["state-size", "mmap"]
    static let featureNames = ["stop-copy", "p2p", "pre-copy"]

    static func usage(_ uri: String, _ message: String) -> ExitFailure {
        ExitFailure(code: ExitCode.usage, message: "target '\(excerpt(uri))': \(message)")
    }

    /// At most 80 characters of a piece of a URI, for messages (a URI can be a hundred thousand characters).
    static func excerpt(_ text: String) -> String {
        text.count <= 80 ? text : "\(text.prefix(60))…(\(text.count) characters)"
    }

    static func unknownKey(_ key: String, uri: String, keys: [String]) -> ExitFailure {
        usage(uri, "unknown key '\(excerpt(key))' (keys: \(keys.joined(separator: ", ")))")
    }

    /// Splits `NAME?key=value&key=value`. An empty query, an empty pair, a pair without `=` or with an empty key
    /// or value, and a key given twice are usage errors.
    static func splitQuery(_ s: String, uri: String) throws -> (String, [(String, String)]) {
        guard let q = s.firstIndex(of: "?") else { return (s, []) }
        let query = s[s.index(after: q)...]
        let form = "key=value pairs joined by '&'"
        if query.isEmpty { throw usage(uri, "an empty query after '?': drop the '?' or give \(form)") }
        var items: [(String, String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            if pair.isEmpty { throw usage(uri, "an empty pair in the query (a stray '&'): give \(form)") }
            guard let eq = pair.firstIndex(of: "=") else {
                throw usage(uri, "'\(excerpt(String(pair)))' has no value: give \(form)")
            }
            let key = String(pair[..<eq])
            let value = String(pair[pair.index(after: eq)...])
            if key.isEmpty { throw usage(uri, "'\(excerpt(String(pair)))' has no key: give \(form)") }
            if value.isEmpty { throw usage(uri, "key '\(excerpt(key))' has an empty value") }
            if items.contains(where: { $0.0 == key }) { throw usage(uri, "key '\(excerpt(key))' is given twice") }
            items.append((key, value))
        }
        return (String(s[..<q]), items)
    }

    /// `yes` or `no`.
    static func yesNo(_ value: String, key: String, uri: String) throws -> Bool {
        switch value {
        case "yes": return true
        case "no": return false
        default: throw usage(uri, "\(key)='\(excerpt(value))': the values are yes and no")
        }
    }

    static func v2Configuration(_ query: [(String, String)], uri: String) throws -> ReferenceDeviceV2.Configuration {
        var config = ReferenceDeviceV2.Configuration()
        for (key, value) in query {
            switch key {
            case "features":
                var flags: MigrationFlags = []
                var seen: Set<String> = []
                for name in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let allowed = "features are a comma-separated list of \(featureNames.joined(separator: ", "))"
                    if !seen.insert(String(name)).inserted, !name.isEmpty {
                        throw usage(uri, "feature '\(excerpt(String(name)))' is listed more than once; \(allowed)")
                    }
                    switch name {
                    case "stop-copy": flags.insert(.stopCopy)
                    case "p2p": flags.insert(.p2p)
                    case "pre-copy": flags.insert(.preCopy)
                    case "": throw usage(uri, "an empty feature name (a stray ','); \(allowed)")
                    default: throw usage(uri, "unknown feature '\(excerpt(String(name)))'; \(allowed)")
                    }
                }
                config.flags = flags
            case "state-size": config.stateSize = try size(value, key: key, uri: uri)
            case "data-size": config.dataSizeFeature = try yesNo(value, key: key, uri: uri)
            case "error-on-bad-resume": config.errorOnBadResume = try yesNo(value, key: key, uri: uri)
            case "dma-logging": config.dmaLogging = try yesNo(value, key: key, uri: uri)
            case "precopy-info-v2": config.precopyInfoV2 = try yesNo(value, key: key, uri: uri)
            default: throw unknownKey(key, uri: uri, keys: v2Keys)
            }
        }
        return config
    }

    static func v1Configuration(_ query: [(String, String)], uri: String) throws -> ReferenceDeviceV1.Configuration {
        var config = ReferenceDeviceV1.Configuration()
        for (key, value) in query {
            switch key {
            case "state-size": config.stateSize = try size(value, key: key, uri: uri)
            case "mmap": config.mmapCapable = try yesNo(value, key: key, uri: uri)
            default: throw unknownKey(key, uri: uri, keys: v1Keys)
            }
        }
        return config
    }

    /// `4096`, `64KiB`, `1MiB`, `4GiB`, up to ``ByteSize/maxStateSize``.
    static func size(_ text: String, key: String, uri: String) throws -> UInt64 {
        switch ByteSize.parse(text) {
        case .success(let n): return n
        case .failure(let problem):
            let most = ByteSize.describe(ByteSize.maxStateSize)
            let why =
                problem == .tooLarge
                ? "is more than \(most), the largest state size"
                : "is not a size (e.g. 4096, 64KiB, 4GiB; at most \(most))"
            throw usage(uri, "\(key)='\(excerpt(text))' \(why)")
        }
    }

    /// The facts of an identity that make two devices of one kind: the driver, and the type and configuration
    /// facts a target reports (mdev type, PCI ids, migration flags, a built-in device's flags and state size).
    /// Instance facts (a PCI address, an mdev UUID, an IOMMU group) are not among them, nor a built-in device's
    /// fault: a `fault:` device is a reference device with a bug, of the reference's kind.
    static let kindKeys = [
        "mdevType", "pciVendor", "pciDevice", "pciSubsystemVendor", "pciSubsystemDevice", "migrationFlags",
        "protocol", "flags", "state-size", "dma-logging",
    ]

    /// Whether two identities are one kernel device (the same PCI function or mdev, however its path was spelled).
    /// Built-in and adapter targets open a new instance each time.
    static func sameDevice(_ a: DeviceIdentity, _ b: DeviceIdentity) -> Bool {
        guard a.targetKind == "vfio", b.targetKind == "vfio", let x = a.extra["deviceName"] else { return false }
        return x == b.extra["deviceName"]
    }

    /// How `b` differs in kind from `a` (`state-size 12288, not 4096`), or nil when no fact both report differs
    /// (a driver is compared only where both name one: an adapter may not know it).
    static func kindDifference(_ a: DeviceIdentity, _ b: DeviceIdentity) -> String? {
        func family(_ driver: String) -> String? {
            if ["", "unknown", "unbound"].contains(driver) { return nil }
            return driver == "migconform-fault" ? "migconform-reference" : driver
        }
        if let x = family(a.driver), let y = family(b.driver), x != y { return "driver \(b.driver), not \(a.driver)" }
        for key in kindKeys {
            if let x = a.extra[key], let y = b.extra[key], x != y { return "\(key) \(y), not \(x)" }
        }
        return nil
    }

    /// `--peer` of the commands that expand and plan without running (`list`, `plan`).
    static let expandedPeer = Option(
        "--peer", "URI",
        help: "As for run: the two-device rules are expanded as a run with this peer would run them (the "
            + "device is opened and checked as run checks it). A ref:v2 or v2 fault: target brings its own.")
    /// `--foreign-peer` of the commands that expand and plan without running.
    static let expandedForeignPeer = Option(
        "--foreign-peer", "URI",
        help: "As for run: the rule for a foreign device's stream is expanded as a run with it would run it "
            + "(the device is opened and checked as run checks it). A ref:v2 or v2 fault: target brings its own.")

    /// Opens the devices given with `--peer` (role `peer`) and `--foreign-peer` (role `foreign`) and checks them
    /// against the target `device` at `uri`: another device than the target's own; the same protocol generation; a
    /// peer of the target's kind (the two-device rules judge the target by what the peer does with its stream, so a
    /// peer of another kind would make them blame it). A foreign device that reports the target's kind is taken
    /// with a note: it may differ in what neither reports (firmware, a device profile). Each device
    /// goes into `others` as soon as it is open, for the caller to shut down, also when this throws.
    static func openGiven(
        peer: String?, foreign: String?, target uri: String, device: MigrationDevice,
        into others: inout [String: (target: String, device: MigrationDevice)]
    ) throws {
        for (option, role, given) in [("--peer", "peer", peer), ("--foreign-peer", "foreign", foreign)] {
            guard let given else { continue }
            let other = try open(given)
            others[role] = (given, other)
            guard other.generation == device.generation else {
                throw ExitFailure(
                    code: ExitCode.usage,
                    message: "\(option) \(given) speaks \(other.generation.rawValue), but \(uri) speaks "
                        + device.generation.rawValue)
            }
            if sameDevice(device.identity, other.identity) {
                throw ExitFailure(
                    code: ExitCode.usage,
                    message: "\(option) \(given) is the device \(uri) opens: the two-device rules need a second device")
            }
            let difference = kindDifference(device.identity, other.identity)
            if role == "peer", let difference {
                throw ExitFailure(
                    code: ExitCode.usage,
                    message:
                        "\(option) \(given) is not a device of the same kind as \(uri) (\(difference)): the peer "
                        + "rules need another instance of the same driver, type and configuration")
            }
            if role == "foreign", difference == nil {
                Terminal.errMessage(
                    "migconform: note: ",
                    "\(option) \(given) reports the same driver, type and configuration as \(uri); if it differs in "
                        + "nothing either reports, V2-PEER-FOREIGN-REFUSED warns about a stream it has no reason to "
                        + "refuse")
            }
        }
    }

    /// ``environment(for:spec:peer:foreign:)`` for a command that expands and plans without running: the given
    /// devices are opened and checked as a run checks them (``openGiven(peer:foreign:target:device:into:)``), then
    /// closed.
    static func checkedEnvironment(
        for uri: String, device: MigrationDevice, spec: Spec, peer: String?, foreign: String?
    ) throws -> Set<String> {
        var given: [String: (target: String, device: MigrationDevice)] = [:]
        defer { for (_, o) in given { o.device.shutdown() } }
        try openGiven(peer: peer, foreign: foreign, target: uri, device: device, into: &given)
        return environment(for: uri, spec: spec, peer: peer, foreign: foreign)
    }

    /// The second devices a run against `uri` would have, as the names the rules' `requires` use (`peer`,
    /// `foreign-peer`): those given on the command line and those the target brings (``ownPeers(for:spec:)``). For
    /// commands that only expand and plan: they open none of them.
    static func environment(for uri: String, spec: Spec, peer: String?, foreign: String?) -> Set<String> {
        var roles = Set(ownPeers(for: uri, spec: spec).map(\.role))
        if peer != nil { roles.insert("peer") }
        if foreign != nil { roles.insert("foreign") }
        return Set(roles.map { $0 == "peer" ? "peer" : "foreign-peer" })
    }

    /// The devices a built-in v2 target (`ref:v2...`, a v2 `fault:NAME...`) brings for the two-device rules of
    /// `spec`, by role, when the command names none: the peer (`peer`) is another instance of the same target URI
    /// (for a fault, another device with that fault), the foreign device (`foreign`) a reference device of another
    /// state size, whose stream the target must refuse. Only roles some rule of the spec needs; none for other
    /// targets, which need a second machine or device to be given.
    static func ownPeers(for uri: String, spec: Spec) -> [(role: String, uri: String)] {
        guard let colon = uri.firstIndex(of: ":") else { return [] }
        let scheme = uri[..<colon]
        guard let (kind, query) = try? splitQuery(String(uri[uri.index(after: colon)...]), uri: uri) else { return [] }
        switch scheme {
        case "ref" where kind == "v2": break
        case "fault" where FaultCatalogue.entry(named: kind)?.generation == .v2: break
        default: return []
        }
        let needed = Set(spec.rules.flatMap(\.requires))
        var out: [(role: String, uri: String)] = []
        if needed.contains("peer") { out.append(("peer", uri)) }
        if needed.contains("foreign-peer") {
            // The reference device resumes only a stream of its own state size.
            let size = query.first { $0.0 == "state-size" }.flatMap { try? Self.size($0.1, key: $0.0, uri: uri) }
            out.append(("foreign", size == 12 * 1024 ? "ref:v2?state-size=8KiB" : "ref:v2?state-size=12KiB"))
        }
        return out
    }

    /// Two catalogue devices with the same fault, used as target and peer, share what the fault shares between
    /// instances of a driver.
    static func link(_ device: MigrationDevice, _ peer: MigrationDevice?) {
        guard let a = device as? FaultyDeviceV2, let b = peer as? FaultyDeviceV2 else { return }
        a.sibling = b
        b.sibling = a
    }
}
