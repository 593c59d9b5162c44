import Foundation
import MigconformDevice

/// Opening a VFIO device failed: which path, which step, the errno when there is one, and what to do about it.
package struct VFIOTargetError: Error, CustomStringConvertible, Equatable {
    /// The path being opened (the part of the target URI after `vfio:`, or a file on the way).
    package var path: String
    /// The step that failed, in words ("open the group", "VFIO_GROUP_GET_DEVICE_FD").
    package var step: String
    /// The errno of the failed call, when a call failed.
    package var errno: Errno?
    /// What went wrong, when it is more than the errno.
    package var detail: String?
    /// How to fix it.
    package var hint: String?

    package init(path: String, step: String, errno: Errno? = nil, detail: String? = nil, hint: String? = nil) {
        self.path = path
        self.step = step
        self.errno = errno
        self.detail = detail
        self.hint = hint
    }

    package var description: String {
        var s = "vfio:\(path): \(step) failed"
        if let errno { s += " (\(errno.name))" }
        if let detail { s += ": \(detail)" }
        if let hint { s += ". \(hint)" }
        return s
    }
}

/// Where a `vfio:` target lives: a device in an IOMMU group (`/dev/vfio/<group>/<device-name>`) or a device
/// cdev (`/dev/vfio/devices/vfioN`, kernels with iommufd).
package enum VFIOTargetPath: Equatable, Sendable {
    /// The group/container path: `groupPath` is `/dev/vfio/<group>`, `deviceName` a PCI address or an mdev UUID.
    case group(groupPath: String, group: String, deviceName: String)
    /// The cdev path: `/dev/vfio/devices/vfioN`.
    case cdev(path: String, name: String)

    /// The device's name: the PCI address or mdev UUID, or `vfioN` for a cdev.
    package var deviceName: String {
        switch self {
        case .group(_, _, let name): return name
        case .cdev(_, let name): return name
        }
    }

    /// The path as written in a target URI (after `vfio:`).
    package var uriPath: String {
        switch self {
        case .group(let g, _, let name): return "\(g)/\(name)"
        case .cdev(let path, _): return path
        }
    }

    /// Parses the part of a `vfio:` URI after the scheme (a leading `vfio:` is accepted too).
    /// `/dev` may be another folder (`devRoot`), for tests.
    package static func parse(_ uriPath: String, devRoot: String = "/dev") throws -> VFIOTargetPath {
        var path = uriPath
        if path.hasPrefix("vfio:") { path.removeFirst(5) }
        let vfioDir = devRoot.hasSuffix("/") ? devRoot + "vfio" : devRoot + "/vfio"
        let example =
            "vfio:/dev/vfio/<group>/<device> (e.g. vfio:/dev/vfio/12/0000:3b:00.1, "
            + "vfio:/dev/vfio/0/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001) or vfio:/dev/vfio/devices/vfio0"
        func bad(_ detail: String, _ hint: String? = nil) -> VFIOTargetError {
            VFIOTargetError(
                path: uriPath, step: "parse the target", detail: detail,
                hint: hint ?? "expected \(example); `migconform devices` lists this host's devices")
        }
        guard !path.isEmpty else { throw bad("the path is empty") }
        guard path.hasPrefix(vfioDir + "/") else { throw bad("the path is not under \(vfioDir)/") }
        let rest = path.dropFirst(vfioDir.count + 1).split(separator: "/", omittingEmptySubsequences: false)
            .map(String.init)
        if rest.first == "devices" {
            guard rest.count == 2, let name = rest.last, name.hasPrefix("vfio"),
                UInt32(name.dropFirst(4)) != nil
            else {
                throw bad("a device cdev is \(vfioDir)/devices/vfio<N>")
            }
            return .cdev(path: path, name: name)
        }
        guard let group = rest.first, !group.isEmpty else { throw bad("no group number after \(vfioDir)/") }
        let digits = group.hasPrefix("noiommu-") ? String(group.dropFirst(8)) : group
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else {
            throw bad("'\(group)' is not an IOMMU group number")
        }
        guard rest.count >= 2, !rest[1].isEmpty else {
            throw bad(
                "\(vfioDir)/\(group) names a group, not a device",
                "add the device name: vfio:\(vfioDir)/\(group)/<PCI address or mdev UUID> "
                    + "(the group's devices are in /sys/kernel/iommu_groups/\(digits)/devices)")
        }
        guard rest.count == 2 else { throw bad("a device name cannot contain '/'") }
        return .group(groupPath: "\(vfioDir)/\(group)", group: group, deviceName: rest[1])
    }
}

/// Opens `vfio:` targets: real kernel devices, through the group/container path or the iommufd cdev path, and
/// chooses the protocol generation by asking the device.
package enum VFIOTarget {
    /// Opens `vfio:/dev/vfio/<group>/<device-name>` or `vfio:/dev/vfio/devices/vfioN` (pass the part after
    /// `vfio:`). The device speaks v2 when a GET of `VFIO_DEVICE_FEATURE_MIGRATION` succeeds, else v1 when it has a
    /// migration region, else opening fails. Errors (``VFIOTargetError``) name the path, the step and the fix.
    package static func open(_ uriPath: String) throws -> MigrationDevice {
        try open(uriPath, sysfsRoot: "/sys")
    }

    /// ``open(_:)`` with another sysfs root (for the identity facts) and `/dev` folder.
    package static func open(_ uriPath: String, sysfsRoot: String, devRoot: String = "/dev") throws -> MigrationDevice {
        let target = try VFIOTargetPath.parse(uriPath, devRoot: devRoot)
        #if os(Linux)
            let file = try openFile(target, sysfsRoot: sysfsRoot)
            var identity = VFIOSysfs.identity(
                deviceName: resolvedName(target, sysfsRoot: sysfsRoot),
                sysfsRoot: sysfsRoot)
            identity.extra["path"] = target.uriPath
            identity.extra["dmaMapping"] = file.dmaMapping
            // Ask for the device info first, as every VFIO user does (QEMU included): some drivers (mtty) learn their
            // interrupt count only from this call and refuse VFIO_DEVICE_SET_IRQS before it.
            if case .success(let info) = file.deviceInfo() {
                identity.extra["deviceFlags"] = VFIOSysfs.describe(deviceFlags: info.flags)
                identity.extra["regions"] = String(info.numRegions)
                identity.extra["irqs"] = String(info.numIRQs)
            }
            let flagsCall = file.feature(
                flags: FeatureRequest.get | FeatureRequest.migration,
                payload: [UInt8](repeating: 0, count: 8))
            switch flagsCall {
            case .success(let back):
                let flags = (try? VFIOFeatureMigration(decoding: back).flags) ?? 0
                identity.extra["migrationFlags"] = VFIOSysfs.describe(flags: flags)
                identity.extra["protocol"] = "v2"
                return VFIODevice(file: file, identity: identity)
            case .failure(let e):
                if let region = file.findMigrationRegionV1() {
                    identity.extra["protocol"] = "v1"
                    identity.extra["migrationRegion"] = "index \(region.index), size \(region.regionSize)"
                    return VFIORegionV1Device(file: file, region: region, identity: identity)
                }
                file.close()
                throw VFIOTargetError(
                    path: target.uriPath, step: "discover migration",
                    detail: "device \(target.deviceName) does not advertise migration "
                        + "(VFIO_DEVICE_FEATURE_MIGRATION: \(e.name); no v1 migration region)",
                    hint: "its driver has no migration support; migrating needs a variant driver "
                        + "(mlx5_vfio_pci, hisi_acc_vfio_pci, ...) or an mdev driver with migration ops")
            }
        #else
            throw VFIOTargetError(path: target.uriPath, step: "open", detail: "VFIO devices exist only on Linux")
        #endif
    }

    /// The name sysfs knows the device by (a cdev's `vfioN` resolves to its PCI address).
    static func resolvedName(_ target: VFIOTargetPath, sysfsRoot: String) -> String {
        switch target {
        case .group(_, _, let name): return name
        case .cdev(_, let name):
            let link = "\(sysfsRoot)/class/vfio-dev/\(name)/device"
            if let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: link) {
                return (dest as NSString).lastPathComponent
            }
            return name
        }
    }

    #if os(Linux)
        /// Opens the device fd (and what it needs) without asking about migration.
        package static func openFile(_ target: VFIOTargetPath, sysfsRoot: String = "/sys") throws -> VFIODeviceFile {
            switch target {
            case .group(let groupPath, let group, let name):
                return try openThroughGroup(groupPath: groupPath, group: group, deviceName: name, sysfsRoot: sysfsRoot)
            case .cdev(let path, let name):
                return try openCdev(path: path, name: name)
            }
        }

        /// Opens `path` read-write; a failure is thrown as `refusal` words it for the errno.
        private static func openReadWrite(_ path: String, _ refusal: (Errno) -> VFIOTargetError) throws -> Int32 {
            switch Sys.open(path, Sys.readWrite) {
            case .success(let fd): return fd
            case .failure(let e): throw refusal(e)
            }
        }

        private static func openThroughGroup(
            groupPath: String, group: String, deviceName: String,
            sysfsRoot: String
        ) throws -> VFIODeviceFile {
            let uri = "\(groupPath)/\(deviceName)"
            let vfioDir = (groupPath as NSString).deletingLastPathComponent
            let containerPath = vfioDir + "/vfio"
            let groupNumber = group.hasPrefix("noiommu-") ? String(group.dropFirst(8)) : group
            func err(
                _ step: String, _ e: Errno? = nil, _ detail: String? = nil, _ hint: String? = nil
            ) -> VFIOTargetError {
                VFIOTargetError(path: uri, step: step, errno: e, detail: detail, hint: hint)
            }
            let permissionHint =
                "run as root, or give your user the VFIO files (chown $USER \(groupPath); "
                + "\(containerPath) is usually world-writable)"

            // the container
            let container = try openReadWrite(containerPath) { e in
                switch e {
                case .ENOENT:
                    return err(
                        "open the container \(containerPath)", e, nil,
                        "VFIO is not loaded: modprobe vfio-pci (or vfio and vfio_iommu_type1 for mdev devices)")
                case .EACCES, .EPERM: return err("open the container \(containerPath)", e, nil, permissionHint)
                default: return err("open the container \(containerPath)", e)
                }
            }
            var keep: [Int32] = [container]
            func bail(_ error: VFIOTargetError) -> VFIOTargetError {
                for fd in keep.reversed() { _ = Sys.close(fd) }
                return error
            }
            switch Sys.ioctl(container, VFIOIoctl.getAPIVersion) {
            case .success(let v) where v == VFIOConstant.apiVersion: break
            case .success(let v):
                throw bail(
                    err(
                        "VFIO_GET_API_VERSION", nil,
                        "the kernel answers API version \(v); this tool knows "
                            + "version \(VFIOConstant.apiVersion)"))
            case .failure(let e): throw bail(err("VFIO_GET_API_VERSION on \(containerPath)", e))
            }

            // the group
            let groupFD = try openReadWrite(groupPath) { e in
                switch e {
                case .ENOENT:
                    return bail(
                        err(
                            "open the group", e, "no such group: \(groupPath) does not exist",
                            "bind the device to vfio-pci (or its VFIO variant driver) first; "
                                + "`migconform devices` lists the groups VFIO devices are in"))
                case .EACCES, .EPERM:
                    return bail(err("open the group", e, "permission denied on \(groupPath)", permissionHint))
                case .EBUSY:
                    return bail(
                        err(
                            "open the group", e, "\(groupPath) is already open",
                            "another process (a VM, another migconform) holds the group; stop it first"))
                default: return bail(err("open the group \(groupPath)", e))
                }
            }
            keep.append(groupFD)
            var status = VFIOGroupStatus().encoded()
            if case .failure(let e) = Sys.ioctl(groupFD, VFIOIoctl.groupGetStatus, &status) {
                throw bail(err("VFIO_GROUP_GET_STATUS", e))
            }
            let groupStatus = try VFIOGroupStatus(decoding: status)
            guard groupStatus.viable else {
                throw bail(
                    err(
                        "check the group", nil, "group \(group) is not viable",
                        "bind every device of the group to vfio-pci (or unbind it from its driver): "
                            + "ls \(sysfsRoot)/kernel/iommu_groups/\(groupNumber)/devices"))
            }
            var containerArg = [UInt8](repeating: 0, count: 4)
            LE.put32(UInt32(bitPattern: container), &containerArg, at: 0)
            if case .failure(let e) = Sys.ioctl(groupFD, VFIOIoctl.groupSetContainer, &containerArg) {
                throw bail(err("VFIO_GROUP_SET_CONTAINER", e))
            }
            switch Sys.ioctl(container, VFIOIoctl.checkExtension, value: VFIOConstant.type1v2IOMMU) {
            case .success(let yes) where yes > 0: break
            case .success, .failure:
                throw bail(
                    err(
                        "VFIO_CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU)", nil, "the container offers no type1v2 IOMMU",
                        "load vfio_iommu_type1 (modprobe vfio_iommu_type1)"))
            }
            if case .failure(let e) = Sys.ioctl(container, VFIOIoctl.setIOMMU, value: VFIOConstant.type1v2IOMMU) {
                throw bail(
                    err(
                        "VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)", e, nil,
                        "check dmesg; the IOMMU may not support this group (is the IOMMU on: intel_iommu=on?)"))
            }

            // the device
            var nameBytes = Array(deviceName.utf8) + [0]
            switch Sys.ioctl(groupFD, VFIOIoctl.groupGetDeviceFD, &nameBytes) {
            case .success(let fd):
                let file = VFIODeviceFile(fd: fd, name: deviceName, path: uri, companions: keep)
                file.mapDMAWindow(container: container)
                file.opener = {
                    var again = Array(deviceName.utf8) + [0]
                    return Sys.ioctl(groupFD, VFIOIoctl.groupGetDeviceFD, &again)
                }
                return file
            case .failure(let e):
                let members =
                    (try? FileManager.default.contentsOfDirectory(
                        atPath: "\(sysfsRoot)/kernel/iommu_groups/\(groupNumber)/devices"))?.sorted() ?? []
                let detail: String
                if e == .EBUSY {
                    detail = "\(deviceName) is already open"
                } else if members.isEmpty {
                    detail = "no device \(deviceName) in group \(group)"
                } else {
                    detail = "no device \(deviceName) in group \(group) (it holds: \(members.joined(separator: ", ")))"
                }
                throw bail(
                    err(
                        "VFIO_GROUP_GET_DEVICE_FD", e, detail,
                        e == .EBUSY ? "another process has the device open" : "use one of the group's devices"))
            }
        }

        private static func openCdev(path: String, name: String) throws -> VFIODeviceFile {
            func err(
                _ step: String, _ e: Errno? = nil, _ detail: String? = nil, _ hint: String? = nil
            ) -> VFIOTargetError {
                VFIOTargetError(path: path, step: step, errno: e, detail: detail, hint: hint)
            }
            let deviceFD = try openReadWrite(path) { e in
                switch e {
                case .ENOENT:
                    return err(
                        "open the device cdev", e, "\(path) does not exist",
                        "this kernel may lack iommufd (CONFIG_IOMMUFD, CONFIG_VFIO_DEVICE_CDEV); "
                            + "use the group path vfio:/dev/vfio/<group>/<device>")
                case .EACCES, .EPERM:
                    return err("open the device cdev", e, nil, "run as root, or chown $USER \(path) /dev/iommu")
                default: return err("open the device cdev", e)
                }
            }
            let iommuPath = ((path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
            let iommuDev = (iommuPath as NSString).deletingLastPathComponent + "/iommu"
            let iommufd = try openReadWrite(iommuDev) { e in
                _ = Sys.close(deviceFD)
                return err("open \(iommuDev)", e, nil, e == .ENOENT ? "load iommufd (modprobe iommufd)" : nil)
            }
            var bind = VFIODeviceBindIOMMUFD(iommufd: iommufd).encoded()
            if case .failure(let e) = Sys.ioctl(deviceFD, VFIOIoctl.deviceBindIOMMUFD, &bind) {
                _ = Sys.close(deviceFD)
                _ = Sys.close(iommufd)
                throw err(
                    "VFIO_DEVICE_BIND_IOMMUFD", e, nil,
                    e == .EBUSY ? "the device is in use (bound through its group or by another process)" : nil)
            }
            let file = VFIODeviceFile(fd: deviceFD, name: name, path: path, companions: [iommufd])
            file.opener = {
                switch Sys.open(path, Sys.readWrite) {
                case .failure(let e): return .failure(e)
                case .success(let fd):
                    var bind = VFIODeviceBindIOMMUFD(iommufd: iommufd).encoded()
                    if case .failure(let e) = Sys.ioctl(fd, VFIOIoctl.deviceBindIOMMUFD, &bind) {
                        _ = Sys.close(fd)
                        return .failure(e)
                    }
                    return .success(fd)
                }
            }
            return file
        }
    #endif
}

/// Facts about devices read from sysfs: driver, PCI ids, mdev type, IOMMU group.
enum VFIOSysfs {
    /// `0000:00:1f.3`: domain, bus, device in hex, function 0 to 7.
    static func isPCIAddress(_ s: String) -> Bool {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let dot = parts[2].firstIndex(of: ".") else { return false }
        let function = parts[2][parts[2].index(after: dot)...]
        return isHex(parts[0], count: 4) && isHex(parts[1], count: 2) && isHex(parts[2][..<dot], count: 2)
            && function.count == 1 && ("0"..."7").contains(function.first!)
    }

    /// `8-4-4-4-12` hex digits, as an mdev is named.
    static func isUUID(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 5 && zip(parts, [8, 4, 4, 4, 12]).allSatisfy { isHex($0, count: $1) }
    }

    private static func isHex(_ s: Substring, count: Int) -> Bool {
        s.count == count && s.allSatisfy { $0.isASCII && $0.isHexDigit }
    }

    static func linkName(_ path: String) -> String? {
        guard let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return nil }
        return (dest as NSString).lastPathComponent
    }
    static func text(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path),
            let s = String(data: data, encoding: .utf8)
        else { return nil }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What a report records about a device, from sysfs; the kernel release from uname.
    static func identity(deviceName: String, sysfsRoot: String) -> DeviceIdentity {
        var extra: [String: String] = ["deviceName": deviceName]
        var driver = "unknown"
        var detail = deviceName
        if isUUID(deviceName) {
            let dir = "\(sysfsRoot)/bus/mdev/devices/\(deviceName)"
            driver = linkName(dir + "/driver") ?? "unbound"
            let type = linkName(dir + "/mdev_type")
            let typeName = text(dir + "/mdev_type/name")
            if let type { extra["mdevType"] = type }
            if let parent = parentName(dir) { extra["mdevParent"] = parent }
            if let group = linkName(dir + "/iommu_group") { extra["iommuGroup"] = group }
            detail = "mdev \(type ?? "?")" + (typeName.map { " (\($0))" } ?? "") + " \(deviceName)"
        } else {
            let dir = "\(sysfsRoot)/bus/pci/devices/\(deviceName)"
            driver = linkName(dir + "/driver") ?? "unbound"
            let vendor = text(dir + "/vendor")
            let device = text(dir + "/device")
            if let vendor { extra["pciVendor"] = vendor }
            if let device { extra["pciDevice"] = device }
            if let v = text(dir + "/subsystem_vendor") { extra["pciSubsystemVendor"] = v }
            if let d = text(dir + "/subsystem_device") { extra["pciSubsystemDevice"] = d }
            if let c = text(dir + "/class") { extra["pciClass"] = c }
            if let group = linkName(dir + "/iommu_group") { extra["iommuGroup"] = group }
            func hex(_ s: String?) -> String { (s ?? "????").replacingOccurrences(of: "0x", with: "") }
            detail = "PCI \(hex(vendor)):\(hex(device)) at \(deviceName)"
        }
        return DeviceIdentity(
            targetKind: "vfio", driver: driver, detail: detail, kernelRelease: kernelRelease(),
            extra: extra)
    }

    /// The folder that holds a device folder, resolved (for an mdev: its parent device).
    private static func parentName(_ dir: String) -> String? {
        let resolved = (dir as NSString).resolvingSymlinksInPath
        guard resolved != dir else { return nil }
        return ((resolved as NSString).deletingLastPathComponent as NSString).lastPathComponent
    }

    static func kernelRelease() -> String? {
        var u = utsname()
        guard uname(&u) == 0 else { return nil }
        return withUnsafeBytes(of: &u.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// `0x3 (RESET|PCI)`: the `vfio_device_info.flags` bits.
    static func describe(deviceFlags flags: UInt32) -> String {
        let names = ["RESET", "PCI", "PLATFORM", "AMBA", "CCW", "AP", "FSL_MC", "CAPS", "CDX"]
        var parts: [String] = []
        for (bit, name) in names.enumerated() where flags & (1 << UInt32(bit)) != 0 { parts.append(name) }
        let unknown = flags & ~UInt32((1 << names.count) - 1)
        if unknown != 0 { parts.append("0x" + String(unknown, radix: 16)) }
        return "0x" + String(flags, radix: 16) + " (" + (parts.isEmpty ? "none" : parts.joined(separator: "|")) + ")"
    }

    /// `0x7 (STOP_COPY|P2P|PRE_COPY)`.
    static func describe(flags: UInt64) -> String {
        var names: [String] = []
        if flags & MigrationFlags.stopCopy.rawValue != 0 { names.append("STOP_COPY") }
        if flags & MigrationFlags.p2p.rawValue != 0 { names.append("P2P") }
        if flags & MigrationFlags.preCopy.rawValue != 0 { names.append("PRE_COPY") }
        let unknown =
            flags
            & ~(MigrationFlags.stopCopy.rawValue | MigrationFlags.p2p.rawValue
            | MigrationFlags.preCopy.rawValue)
        if unknown != 0 { names.append("0x" + String(unknown, radix: 16)) }
        return "0x" + String(flags, radix: 16) + " (" + (names.isEmpty ? "none" : names.joined(separator: "|")) + ")"
    }
}
