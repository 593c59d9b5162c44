import Foundation
import MigconformDevice

/// The VFIO devices of a host, for `migconform devices`: PCI devices bound to vfio-pci or a VFIO variant driver
/// and mediated (mdev) devices, read from sysfs (`/sys/bus/pci/devices`, `/sys/bus/mdev/devices`), each with its
/// IOMMU group and, when it can be opened, the migration flags it advertises (`VFIO_DEVICE_FEATURE_MIGRATION`).
package enum VFIOInventory {
    /// One device.
    package struct Entry: Codable, Equatable, Sendable {
        /// `pci` or `mdev`.
        package var bus: String
        /// The PCI address or the mdev UUID.
        package var name: String
        /// The IOMMU group number, when sysfs gives one.
        package var group: String?
        /// The target URI that opens the device (`vfio:/dev/vfio/12/0000:3b:00.1`), when it has a group.
        package var target: String?
        /// The device cdev (`/dev/vfio/devices/vfio0`), on kernels with iommufd.
        package var cdev: String?
        /// The bound driver (`vfio-pci`, `mlx5_vfio_pci`, `mtty`).
        package var driver: String
        /// Driver, PCI ids or mdev type, kernel release.
        package var identity: DeviceIdentity
        /// The protocol generation found on opening: `v2`, `v1`, or nil when not opened or without migration.
        package var generation: String?
        /// The advertised v2 migration flags, when the device was opened and answered.
        package var migrationFlags: UInt64?
        /// `0x7 (STOP_COPY|P2P|PRE_COPY)`, or what was found instead.
        package var migration: String
        /// Why the device could not be opened or asked, when it could not.
        package var problem: String?
    }

    /// What a scan found.
    package struct Inventory: Codable, Equatable, Sendable {
        package var entries: [Entry]
        /// Why there is nothing to list at all (no `/dev/vfio`, VFIO module not loaded), in words with the fix.
        package var problem: String?
        /// Remarks that are not problems (no device bound to a VFIO driver yet, how to bind one).
        package var notes: [String]
        /// The devices that advertise migration.
        package var migratable: [Entry] { entries.filter { $0.generation != nil } }
    }

    /// Scans sysfs and `/dev`. With `openDevices`, each device with a group is opened (group/container path) to
    /// ask for its migration flags, then closed; a device in use elsewhere is reported as busy, not opened.
    package static func scan(
        sysfsRoot: String = "/sys", devRoot: String = "/dev", openDevices: Bool = true
    )
        -> Inventory
    {
        let fm = FileManager.default
        var entries: [Entry] = []
        var notes: [String] = []
        var problem: String?

        let vfioDir = devRoot + "/vfio"
        let vfioModule = fm.fileExists(atPath: sysfsRoot + "/module/vfio")
        if !fm.fileExists(atPath: vfioDir) {
            problem =
                vfioModule
                ? "\(vfioDir) does not exist although the vfio module is loaded: is devtmpfs mounted on \(devRoot)?"
                : "no VFIO on this host: \(vfioDir) does not exist and the vfio module is not loaded "
                    + "(modprobe vfio-pci, then bind a device to vfio-pci; for the mtty sample: modprobe mdev mtty)"
        } else if !fm.fileExists(atPath: vfioDir + "/vfio") {
            notes.append(
                "\(vfioDir)/vfio (the container) is missing: the group path needs CONFIG_VFIO_CONTAINER; "
                    + "only device cdevs can be used")
        }

        // PCI devices bound to a VFIO driver
        let pciDir = sysfsRoot + "/bus/pci/devices"
        for address in ((try? fm.contentsOfDirectory(atPath: pciDir)) ?? []).sorted() {
            let dir = pciDir + "/" + address
            guard let driver = VFIOSysfs.linkName(dir + "/driver") else { continue }
            let hasVFIODev = fm.fileExists(atPath: dir + "/vfio-dev")
            guard driver == "vfio-pci" || driver.contains("vfio") || hasVFIODev else { continue }
            var entry = makeEntry(
                bus: "pci", name: address, dir: dir, driver: driver, sysfsRoot: sysfsRoot,
                devRoot: devRoot)
            if hasVFIODev, let cdev = (try? fm.contentsOfDirectory(atPath: dir + "/vfio-dev"))?.first {
                entry.cdev = devRoot + "/vfio/devices/" + cdev
            }
            entries.append(entry)
        }

        // mediated devices
        let mdevDir = sysfsRoot + "/bus/mdev/devices"
        for uuid in ((try? fm.contentsOfDirectory(atPath: mdevDir)) ?? []).sorted() {
            let dir = mdevDir + "/" + uuid
            let driver = VFIOSysfs.linkName(dir + "/driver") ?? "unbound"
            entries.append(
                makeEntry(
                    bus: "mdev", name: uuid, dir: dir, driver: driver, sysfsRoot: sysfsRoot,
                    devRoot: devRoot))
        }

        if entries.isEmpty && problem == nil {
            notes.append(
                "no device is bound to vfio-pci or a VFIO variant driver, and there is no mdev device: "
                    + "bind one (echo vfio-pci > /sys/bus/pci/devices/<address>/driver_override, then "
                    + "echo <address> > /sys/bus/pci/drivers_probe) or create an mdev")
        }

        #if os(Linux)
            if openDevices && problem == nil {
                for i in entries.indices { ask(&entries[i], sysfsRoot: sysfsRoot, devRoot: devRoot) }
            }
        #endif
        return Inventory(entries: entries, problem: problem, notes: notes)
    }

    private static func makeEntry(
        bus: String, name: String, dir: String, driver: String, sysfsRoot: String,
        devRoot: String
    ) -> Entry {
        let group = VFIOSysfs.linkName(dir + "/iommu_group")
        var target: String?
        if let group {
            let plain = "\(devRoot)/vfio/\(group)"
            let noiommu = "\(devRoot)/vfio/noiommu-\(group)"
            let groupPath = FileManager.default.fileExists(atPath: noiommu) ? noiommu : plain
            target = "vfio:\(groupPath)/\(name)"
        }
        let identity = VFIOSysfs.identity(deviceName: name, sysfsRoot: sysfsRoot)
        return Entry(
            bus: bus, name: name, group: group, target: target, cdev: nil, driver: driver,
            identity: identity, generation: nil, migrationFlags: nil,
            migration: group == nil ? "unknown (no IOMMU group)" : "not asked", problem: nil)
    }

    #if os(Linux)
        /// Opens the device, asks for its migration support, closes it again.
        private static func ask(_ entry: inout Entry, sysfsRoot: String, devRoot: String) {
            guard let target = entry.target ?? entry.cdev.map({ "vfio:" + $0 }) else { return }
            do {
                let device = try VFIOTarget.open(target, sysfsRoot: sysfsRoot, devRoot: devRoot)
                defer { device.shutdown() }
                entry.generation = device.generation.rawValue
                if device.generation == .v2, case .value(let flags)? = try? device.perform(.getMigrationFlags) {
                    entry.migrationFlags = flags
                    entry.migration = VFIOSysfs.describe(flags: flags)
                } else {
                    entry.migration = "v1 migration region"
                }
            } catch let e as VFIOTargetError {
                if e.step == "discover migration" {
                    entry.migration = "none"
                } else {
                    entry.migration = "unknown"
                    entry.problem = e.description
                }
            } catch {
                entry.migration = "unknown"
                entry.problem = "\(error)"
            }
        }
    #endif
}
