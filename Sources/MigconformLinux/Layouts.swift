// The VFIO uAPI as bytes: ioctl request numbers, constants, and every structure the Linux backend passes to the
// kernel, each with an explicit little-endian encoder and decoder. Nothing here touches the kernel, so the layouts
// are checked by unit tests on any platform. Values follow the research notes (reference/uapi-notes.md), which
// give the numbers of `<linux/vfio.h>` for x86_64.

import MigconformDevice

// MARK: - ioctl request numbers

/// The VFIO ioctl request numbers: `_IO(VFIO_TYPE, VFIO_BASE + n)` in `<linux/vfio.h>`.
///
/// VFIO encodes neither a direction nor a size in its requests (the `_IO()` form), so a request is just
/// `VFIO_TYPE << 8 | (VFIO_BASE + n)`. The same number means different things on different fd kinds:
/// 0x3B75 is `VFIO_DEVICE_FEATURE` on a device fd and `VFIO_IOMMU_DIRTY_PAGES` on a container fd.
package enum VFIOIoctl {
    /// `VFIO_TYPE`, the ioctl type byte: the character `;` (0x3B).
    package static let type: UInt = 0x3B
    /// `VFIO_BASE`: the first VFIO command number (100).
    package static let base: UInt = 100

    /// The request number of VFIO command `VFIO_BASE + n`.
    package static func request(_ n: UInt) -> UInt { (type << 8) | (base + n) }

    /// `VFIO_GET_API_VERSION` (container fd): answers `VFIO_API_VERSION`.
    package static let getAPIVersion = request(0)
    /// `VFIO_CHECK_EXTENSION` (container fd): answers nonzero when an IOMMU model is available.
    package static let checkExtension = request(1)
    /// `VFIO_SET_IOMMU` (container fd): selects the IOMMU model (an integer argument).
    package static let setIOMMU = request(2)
    /// `VFIO_GROUP_GET_STATUS` (group fd): `struct vfio_group_status`.
    package static let groupGetStatus = request(3)
    /// `VFIO_GROUP_SET_CONTAINER` (group fd): a pointer to the container fd.
    package static let groupSetContainer = request(4)
    /// `VFIO_GROUP_UNSET_CONTAINER` (group fd).
    package static let groupUnsetContainer = request(5)
    /// `VFIO_GROUP_GET_DEVICE_FD` (group fd): a NUL-terminated device name; answers a new device fd.
    package static let groupGetDeviceFD = request(6)
    /// `VFIO_DEVICE_GET_INFO` (device fd): `struct vfio_device_info`.
    package static let deviceGetInfo = request(7)
    /// `VFIO_DEVICE_GET_REGION_INFO` (device fd): `struct vfio_region_info` and its capability chain.
    package static let deviceGetRegionInfo = request(8)
    /// `VFIO_DEVICE_GET_IRQ_INFO` (device fd): `struct vfio_irq_info`.
    package static let deviceGetIRQInfo = request(9)
    /// `VFIO_DEVICE_SET_IRQS` (device fd): `struct vfio_irq_set`.
    package static let deviceSetIRQs = request(10)
    /// `VFIO_DEVICE_RESET` (device fd): no argument.
    package static let deviceReset = request(11)
    /// `VFIO_IOMMU_MAP_DMA` (type1 container fd): `struct vfio_iommu_type1_dma_map`.
    package static let iommuMapDMA = request(13)
    /// `VFIO_DEVICE_FEATURE` (device fd): `struct vfio_device_feature` and its payload.
    package static let deviceFeature = request(17)
    /// `VFIO_DEVICE_BIND_IOMMUFD` (device cdev fd): `struct vfio_device_bind_iommufd`.
    package static let deviceBindIOMMUFD = request(18)
    /// `VFIO_MIG_GET_PRECOPY_INFO` (migration data fd): `struct vfio_precopy_info`.
    package static let migGetPrecopyInfo = request(21)
}

// MARK: - constants

/// Constants of `<linux/vfio.h>` that the backend needs besides the migration numbers in `MigconformDevice`.
package enum VFIOConstant {
    /// `VFIO_API_VERSION`: what `VFIO_GET_API_VERSION` answers (0).
    package static let apiVersion: Int32 = 0
    /// `VFIO_TYPE1_IOMMU` (1).
    package static let type1IOMMU: UInt = 1
    /// `VFIO_TYPE1v2_IOMMU` (3): the IOMMU model the backend selects on a container.
    package static let type1v2IOMMU: UInt = 3

    /// `VFIO_GROUP_FLAGS_VIABLE` (1 << 0): every device of the group is bound to a VFIO driver (or none).
    package static let groupViable: UInt32 = 1 << 0
    /// `VFIO_GROUP_FLAGS_CONTAINER_SET` (1 << 1).
    package static let groupContainerSet: UInt32 = 1 << 1

    /// `VFIO_DEVICE_FLAGS_RESET` (1 << 0): the device supports `VFIO_DEVICE_RESET`.
    package static let deviceFlagReset: UInt32 = 1 << 0
    /// `VFIO_DEVICE_FLAGS_PCI` (1 << 1): a PCI device (or a device that presents itself as one, like mtty).
    package static let deviceFlagPCI: UInt32 = 1 << 1
    /// `VFIO_DEVICE_FLAGS_CAPS` (1 << 7): the device info carries a capability chain.
    package static let deviceFlagCaps: UInt32 = 1 << 7

    /// `VFIO_REGION_INFO_FLAG_READ` (1 << 0).
    package static let regionFlagRead: UInt32 = 1 << 0
    /// `VFIO_REGION_INFO_FLAG_WRITE` (1 << 1).
    package static let regionFlagWrite: UInt32 = 1 << 1
    /// `VFIO_REGION_INFO_FLAG_MMAP` (1 << 2).
    package static let regionFlagMmap: UInt32 = 1 << 2
    /// `VFIO_REGION_INFO_FLAG_CAPS` (1 << 3): the region info carries a capability chain.
    package static let regionFlagCaps: UInt32 = 1 << 3

    /// `VFIO_REGION_INFO_CAP_SPARSE_MMAP` (1): the parts of a region that can be mmapped.
    package static let regionCapSparseMmap: UInt16 = 1
    /// `VFIO_REGION_INFO_CAP_TYPE` (2): the capability that gives a device-specific region's type and subtype.
    package static let regionCapType: UInt16 = 2
    /// `VFIO_REGION_TYPE_MIGRATION` (3; `..._DEPRECATED` since Linux 5.18): the v1 migration region type.
    package static let regionTypeMigration: UInt32 = 3
    /// `VFIO_REGION_SUBTYPE_MIGRATION` (1; `..._DEPRECATED` since Linux 5.18).
    package static let regionSubtypeMigration: UInt32 = 1

    /// `VFIO_PCI_CONFIG_REGION_INDEX` (7): the PCI config space region of a vfio-pci style device.
    package static let pciConfigRegionIndex: UInt32 = 7
    /// `VFIO_PCI_NUM_REGIONS` (9): the fixed PCI regions (BAR0-5, ROM, config, VGA); device-specific ones follow.
    package static let pciNumRegions: UInt32 = 9

    /// `VFIO_IRQ_SET_DATA_NONE` (1 << 0).
    package static let irqSetDataNone: UInt32 = 1 << 0
    /// `VFIO_IRQ_SET_DATA_BOOL` (1 << 1).
    package static let irqSetDataBool: UInt32 = 1 << 1
    /// `VFIO_IRQ_SET_DATA_EVENTFD` (1 << 2).
    package static let irqSetDataEventFD: UInt32 = 1 << 2
    /// `VFIO_IRQ_SET_ACTION_MASK` (1 << 3).
    package static let irqSetActionMask: UInt32 = 1 << 3
    /// `VFIO_IRQ_SET_ACTION_UNMASK` (1 << 4).
    package static let irqSetActionUnmask: UInt32 = 1 << 4
    /// `VFIO_IRQ_SET_ACTION_TRIGGER` (1 << 5).
    package static let irqSetActionTrigger: UInt32 = 1 << 5
}

// MARK: - byte helpers

/// A structure the backend exchanges with the kernel, encoded little-endian at fixed offsets.
package protocol VFIOLayout {
    /// The size in bytes of the fixed part.
    static var size: Int { get }
    /// The bytes to hand to the kernel.
    func encoded() -> [UInt8]
    /// Reads the structure back from what the kernel wrote. Throws when `bytes` is shorter than ``size``.
    init(decoding bytes: [UInt8]) throws
}

/// A buffer too short for the structure it should hold.
package struct VFIOLayoutError: Error, CustomStringConvertible, Equatable {
    package var structure: String
    package var needed: Int
    package var got: Int
    package var description: String { "\(structure) needs \(needed) bytes, got \(got)" }
}

/// Little-endian stores and loads at explicit offsets.
enum LE {
    static func put16(_ v: UInt16, _ b: inout [UInt8], at o: Int) {
        b[o] = UInt8(v & 0xff)
        b[o + 1] = UInt8(v >> 8)
    }
    static func put32(_ v: UInt32, _ b: inout [UInt8], at o: Int) {
        for i in 0..<4 { b[o + i] = UInt8((v >> (8 * UInt32(i))) & 0xff) }
    }
    static func put64(_ v: UInt64, _ b: inout [UInt8], at o: Int) {
        for i in 0..<8 { b[o + i] = UInt8((v >> (8 * UInt64(i))) & 0xff) }
    }
    static func get16(_ b: [UInt8], at o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
    static func get32(_ b: [UInt8], at o: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[o + $1]) << (8 * UInt32($1)) }
    }
    static func get64(_ b: [UInt8], at o: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[o + $1]) << (8 * UInt64($1)) }
    }
    /// An unsigned value of `width` bytes (1...8).
    static func getN(_ b: [UInt8], width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(b[$1]) << (8 * UInt64($1)) }
    }
    static func putN(_ v: UInt64, width: Int) -> [UInt8] {
        (0..<width).map { UInt8((v >> (8 * UInt64($0))) & 0xff) }
    }
    static func check(_ b: [UInt8], _ size: Int, _ name: String) throws {
        if b.count < size { throw VFIOLayoutError(structure: name, needed: size, got: b.count) }
    }
}

// MARK: - structures

/// `struct vfio_device_feature`: `argsz` (u32 @0), `flags` (u32 @4: feature index in the low 16 bits, and the
/// GET/SET/PROBE bits), then the feature's payload from offset 8.
package struct VFIODeviceFeature: VFIOLayout, Equatable {
    package static let size = 8
    package var argsz: UInt32
    package var flags: UInt32
    package var payload: [UInt8]

    /// A call with `argsz` set to the header plus the payload.
    package init(flags: UInt32, payload: [UInt8] = []) {
        self.argsz = UInt32(VFIODeviceFeature.size + payload.count)
        self.flags = flags
        self.payload = payload
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_device_feature")
        argsz = LE.get32(b, at: 0)
        flags = LE.get32(b, at: 4)
        payload = Array(b[Self.size...])
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(argsz, &b, at: 0)
        LE.put32(flags, &b, at: 4)
        return b + payload
    }
    /// The feature index (`flags & VFIO_DEVICE_FEATURE_MASK`).
    package var index: UInt32 { flags & FeatureRequest.mask }
}

/// `struct vfio_device_feature_migration`: the `flags` word (`__aligned_u64` @0) answered by a GET of
/// `VFIO_DEVICE_FEATURE_MIGRATION`.
package struct VFIOFeatureMigration: VFIOLayout, Equatable {
    package static let size = 8
    package var flags: UInt64
    package init(flags: UInt64) { self.flags = flags }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_device_feature_migration")
        flags = LE.get64(b, at: 0)
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put64(flags, &b, at: 0)
        return b
    }
}

/// `struct vfio_device_feature_mig_state`: `device_state` (u32 @0) and `data_fd` (s32 @4), the payload of
/// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`.
package struct VFIOFeatureMigState: VFIOLayout, Equatable {
    package static let size = 8
    package var deviceState: UInt32
    package var dataFD: Int32
    package init(deviceState: UInt32, dataFD: Int32 = -1) {
        self.deviceState = deviceState
        self.dataFD = dataFD
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_device_feature_mig_state")
        deviceState = LE.get32(b, at: 0)
        dataFD = Int32(bitPattern: LE.get32(b, at: 4))
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(deviceState, &b, at: 0)
        LE.put32(UInt32(bitPattern: dataFD), &b, at: 4)
        return b
    }
}

/// `struct vfio_device_feature_mig_data_size`: `stop_copy_length` (`__aligned_u64` @0), the payload of
/// `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`.
package struct VFIOFeatureMigDataSize: VFIOLayout, Equatable {
    package static let size = 8
    package var stopCopyLength: UInt64
    package init(stopCopyLength: UInt64) { self.stopCopyLength = stopCopyLength }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_device_feature_mig_data_size")
        stopCopyLength = LE.get64(b, at: 0)
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put64(stopCopyLength, &b, at: 0)
        return b
    }
}

/// `struct vfio_precopy_info`: `argsz` (u32 @0), `flags` (u32 @4, none defined), `initial_bytes`
/// (`__aligned_u64` @8), `dirty_bytes` (`__aligned_u64` @16); 24 bytes, for `VFIO_MIG_GET_PRECOPY_INFO`.
package struct VFIOPrecopyInfo: VFIOLayout, Equatable {
    package static let size = 24
    package var argsz: UInt32
    package var flags: UInt32
    package var initialBytes: UInt64
    package var dirtyBytes: UInt64
    package init(
        argsz: UInt32 = UInt32(VFIOPrecopyInfo.size), flags: UInt32 = 0, initialBytes: UInt64 = 0,
        dirtyBytes: UInt64 = 0
    ) {
        self.argsz = argsz
        self.flags = flags
        self.initialBytes = initialBytes
        self.dirtyBytes = dirtyBytes
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_precopy_info")
        argsz = LE.get32(b, at: 0)
        flags = LE.get32(b, at: 4)
        initialBytes = LE.get64(b, at: 8)
        dirtyBytes = LE.get64(b, at: 16)
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(argsz, &b, at: 0)
        LE.put32(flags, &b, at: 4)
        LE.put64(initialBytes, &b, at: 8)
        LE.put64(dirtyBytes, &b, at: 16)
        return b
    }
}

/// `struct vfio_device_info`: `argsz` @0, `flags` @4, `num_regions` @8, `num_irqs` @12, `cap_offset` @16, and
/// a pad word @20 in newer headers (all u32); 24 bytes as sent, 16 the minimum the kernel reads.
package struct VFIODeviceInfo: VFIOLayout, Equatable {
    package static let size = 24
    package var argsz: UInt32
    package var flags: UInt32
    package var numRegions: UInt32
    package var numIRQs: UInt32
    package var capOffset: UInt32
    package init(
        argsz: UInt32 = UInt32(VFIODeviceInfo.size), flags: UInt32 = 0, numRegions: UInt32 = 0,
        numIRQs: UInt32 = 0, capOffset: UInt32 = 0
    ) {
        self.argsz = argsz
        self.flags = flags
        self.numRegions = numRegions
        self.numIRQs = numIRQs
        self.capOffset = capOffset
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, 16, "vfio_device_info")
        argsz = LE.get32(b, at: 0)
        flags = LE.get32(b, at: 4)
        numRegions = LE.get32(b, at: 8)
        numIRQs = LE.get32(b, at: 12)
        capOffset = b.count >= 20 ? LE.get32(b, at: 16) : 0
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(argsz, &b, at: 0)
        LE.put32(flags, &b, at: 4)
        LE.put32(numRegions, &b, at: 8)
        LE.put32(numIRQs, &b, at: 12)
        LE.put32(capOffset, &b, at: 16)
        return b
    }
}

/// `struct vfio_region_info`: `argsz` @0, `flags` @4, `index` @8, `cap_offset` @12 (u32), `size` @16 and
/// `offset` @24 (u64); 32 bytes. When `flags` has `VFIO_REGION_INFO_FLAG_CAPS` and the kernel answers a larger
/// `argsz`, a capability chain follows: call again with a buffer of that size.
package struct VFIORegionInfo: VFIOLayout, Equatable {
    package static let size = 32
    package var argsz: UInt32
    package var flags: UInt32
    package var index: UInt32
    package var capOffset: UInt32
    package var regionSize: UInt64
    /// Where the region starts in the device fd's file offsets.
    package var offset: UInt64
    package init(
        argsz: UInt32 = UInt32(VFIORegionInfo.size), flags: UInt32 = 0, index: UInt32, capOffset: UInt32 = 0,
        regionSize: UInt64 = 0, offset: UInt64 = 0
    ) {
        self.argsz = argsz
        self.flags = flags
        self.index = index
        self.capOffset = capOffset
        self.regionSize = regionSize
        self.offset = offset
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_region_info")
        argsz = LE.get32(b, at: 0)
        flags = LE.get32(b, at: 4)
        index = LE.get32(b, at: 8)
        capOffset = LE.get32(b, at: 12)
        regionSize = LE.get64(b, at: 16)
        offset = LE.get64(b, at: 24)
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(argsz, &b, at: 0)
        LE.put32(flags, &b, at: 4)
        LE.put32(index, &b, at: 8)
        LE.put32(capOffset, &b, at: 12)
        LE.put64(regionSize, &b, at: 16)
        LE.put64(offset, &b, at: 24)
        return b
    }
}

/// `struct vfio_info_cap_header`: `id` (u16 @0), `version` (u16 @2), `next` (u32 @4: the offset of the next
/// capability from the start of the info structure, 0 at the end of the chain); 8 bytes.
package struct VFIOCapabilityHeader: VFIOLayout, Equatable {
    package static let size = 8
    package var id: UInt16
    package var version: UInt16
    package var next: UInt32
    package init(id: UInt16, version: UInt16, next: UInt32) {
        self.id = id
        self.version = version
        self.next = next
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_info_cap_header")
        id = LE.get16(b, at: 0)
        version = LE.get16(b, at: 2)
        next = LE.get32(b, at: 4)
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put16(id, &b, at: 0)
        LE.put16(version, &b, at: 2)
        LE.put32(next, &b, at: 4)
        return b
    }

    /// Walks a capability chain inside `info` (a whole info buffer as the kernel filled it), starting at
    /// `first` (the info's `cap_offset`). Answers each capability's offset and header. A chain that points outside
    /// the buffer, backwards, or in a loop ends the walk with an error rather than looping.
    package static func chain(in info: [UInt8], first: UInt32) throws -> [(offset: Int, header: VFIOCapabilityHeader)] {
        var result: [(offset: Int, header: VFIOCapabilityHeader)] = []
        var at = Int(first)
        var seen = Set<Int>()
        while at != 0 {
            guard at >= 8, at + size <= info.count, !seen.contains(at) else {
                throw VFIOLayoutError(
                    structure: "capability chain (bad offset \(at))", needed: at + size,
                    got: info.count)
            }
            seen.insert(at)
            let header = try VFIOCapabilityHeader(decoding: Array(info[at..<(at + size)]))
            result.append((at, header))
            at = Int(header.next)
        }
        return result
    }
}

/// `struct vfio_region_info_cap_type`: a capability header (id `VFIO_REGION_INFO_CAP_TYPE`) then `type` (u32 @8)
/// and `subtype` (u32 @12); 16 bytes. The v1 migration region is type 3, subtype 1.
package struct VFIORegionInfoCapType: VFIOLayout, Equatable {
    package static let size = 16
    package var header: VFIOCapabilityHeader
    package var type: UInt32
    package var subtype: UInt32
    package init(next: UInt32 = 0, type: UInt32, subtype: UInt32) {
        self.header = VFIOCapabilityHeader(id: VFIOConstant.regionCapType, version: 1, next: next)
        self.type = type
        self.subtype = subtype
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_region_info_cap_type")
        header = try VFIOCapabilityHeader(decoding: b)
        type = LE.get32(b, at: 8)
        subtype = LE.get32(b, at: 12)
    }
    package func encoded() -> [UInt8] {
        var b = header.encoded() + [UInt8](repeating: 0, count: 8)
        LE.put32(type, &b, at: 8)
        LE.put32(subtype, &b, at: 12)
        return b
    }
    /// True for the v1 migration region (`VFIO_REGION_TYPE_MIGRATION` / `VFIO_REGION_SUBTYPE_MIGRATION`).
    package var isMigrationV1: Bool {
        type == VFIOConstant.regionTypeMigration && subtype == VFIOConstant.regionSubtypeMigration
    }
}

/// `struct vfio_irq_set`: `argsz` @0, `flags` @4, `index` @8, `start` @12, `count` @16 (u32), then `data`
/// from offset 20 (eventfds or bools, per the DATA flag; none for `VFIO_IRQ_SET_DATA_NONE`).
package struct VFIOIRQSet: VFIOLayout, Equatable {
    package static let size = 20
    package var argsz: UInt32
    package var flags: UInt32
    package var index: UInt32
    package var start: UInt32
    package var count: UInt32
    package var data: [UInt8]
    package init(flags: UInt32, index: UInt32, start: UInt32 = 0, count: UInt32 = 0, data: [UInt8] = []) {
        self.argsz = UInt32(VFIOIRQSet.size + data.count)
        self.flags = flags
        self.index = index
        self.start = start
        self.count = count
        self.data = data
    }
    /// `DATA_NONE | ACTION_TRIGGER` with count 0: turns interrupt type `index` off.
    package static func disable(index: UInt32) -> VFIOIRQSet {
        VFIOIRQSet(flags: VFIOConstant.irqSetDataNone | VFIOConstant.irqSetActionTrigger, index: index)
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_irq_set")
        argsz = LE.get32(b, at: 0)
        flags = LE.get32(b, at: 4)
        index = LE.get32(b, at: 8)
        start = LE.get32(b, at: 12)
        count = LE.get32(b, at: 16)
        data = Array(b[Self.size...])
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(argsz, &b, at: 0)
        LE.put32(flags, &b, at: 4)
        LE.put32(index, &b, at: 8)
        LE.put32(start, &b, at: 12)
        LE.put32(count, &b, at: 16)
        return b + data
    }
}

/// `struct vfio_group_status`: `argsz` (u32 @0) and `flags` (u32 @4: `VFIO_GROUP_FLAGS_VIABLE`,
/// `VFIO_GROUP_FLAGS_CONTAINER_SET`); 8 bytes, for `VFIO_GROUP_GET_STATUS`.
package struct VFIOGroupStatus: VFIOLayout, Equatable {
    package static let size = 8
    package var argsz: UInt32
    package var flags: UInt32
    package init(argsz: UInt32 = UInt32(VFIOGroupStatus.size), flags: UInt32 = 0) {
        self.argsz = argsz
        self.flags = flags
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_group_status")
        argsz = LE.get32(b, at: 0)
        flags = LE.get32(b, at: 4)
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(argsz, &b, at: 0)
        LE.put32(flags, &b, at: 4)
        return b
    }
    package var viable: Bool { flags & VFIOConstant.groupViable != 0 }
    package var containerSet: Bool { flags & VFIOConstant.groupContainerSet != 0 }
}

/// `struct vfio_device_bind_iommufd`: `argsz` (u32 @0), `flags` (u32 @4), `iommufd` (s32 @8), `out_devid`
/// (u32 @12, written by the kernel); 16 bytes, for `VFIO_DEVICE_BIND_IOMMUFD` on a `/dev/vfio/devices/vfioN` fd.
package struct VFIODeviceBindIOMMUFD: VFIOLayout, Equatable {
    package static let size = 16
    package var argsz: UInt32
    package var flags: UInt32
    package var iommufd: Int32
    package var outDevID: UInt32
    package init(iommufd: Int32, flags: UInt32 = 0) {
        self.argsz = UInt32(VFIODeviceBindIOMMUFD.size)
        self.flags = flags
        self.iommufd = iommufd
        self.outDevID = 0
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_device_bind_iommufd")
        argsz = LE.get32(b, at: 0)
        flags = LE.get32(b, at: 4)
        iommufd = Int32(bitPattern: LE.get32(b, at: 8))
        outDevID = LE.get32(b, at: 12)
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(argsz, &b, at: 0)
        LE.put32(flags, &b, at: 4)
        LE.put32(UInt32(bitPattern: iommufd), &b, at: 8)
        LE.put32(outDevID, &b, at: 12)
        return b
    }
}

/// `struct vfio_device_migration_info` (v1, Linux 5.8 to 5.17), at offset 0 of the migration region:
/// `device_state` (u32 @0), `reserved` (u32 @4), `pending_bytes` (u64 @8), `data_offset` (u64 @16),
/// `data_size` (u64 @24); 32 bytes. The offsets are ``RegionV1``'s.
package struct VFIODeviceMigrationInfoV1: VFIOLayout, Equatable {
    package static let size = Int(RegionV1.headerSize)
    package var deviceState: UInt32
    package var reserved: UInt32
    package var pendingBytes: UInt64
    package var dataOffset: UInt64
    package var dataSize: UInt64
    package init(
        deviceState: UInt32 = RegionV1.running, reserved: UInt32 = 0, pendingBytes: UInt64 = 0,
        dataOffset: UInt64 = 0, dataSize: UInt64 = 0
    ) {
        self.deviceState = deviceState
        self.reserved = reserved
        self.pendingBytes = pendingBytes
        self.dataOffset = dataOffset
        self.dataSize = dataSize
    }
    package init(decoding b: [UInt8]) throws {
        try LE.check(b, Self.size, "vfio_device_migration_info")
        deviceState = LE.get32(b, at: Int(RegionV1.deviceState))
        reserved = LE.get32(b, at: Int(RegionV1.reserved))
        pendingBytes = LE.get64(b, at: Int(RegionV1.pendingBytes))
        dataOffset = LE.get64(b, at: Int(RegionV1.dataOffset))
        dataSize = LE.get64(b, at: Int(RegionV1.dataSize))
    }
    package func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        LE.put32(deviceState, &b, at: Int(RegionV1.deviceState))
        LE.put32(reserved, &b, at: Int(RegionV1.reserved))
        LE.put64(pendingBytes, &b, at: Int(RegionV1.pendingBytes))
        LE.put64(dataOffset, &b, at: Int(RegionV1.dataOffset))
        LE.put64(dataSize, &b, at: Int(RegionV1.dataSize))
        return b
    }
}

// MARK: - DMA logging and mapping

/// `struct vfio_device_feature_dma_logging_control` (24 bytes): `page_size` @0, `num_ranges` @8, `__reserved` @12,
/// `ranges` (a user pointer to `struct vfio_device_feature_dma_logging_range`, 16 bytes each) @16.
package enum VFIODMALoggingControl {
    package static let size = 24
    package static func encode(pageSize: UInt64, count: Int, ranges pointer: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        LE.put64(pageSize, &b, at: 0)
        LE.put32(UInt32(truncatingIfNeeded: count), &b, at: 8)
        LE.put64(pointer, &b, at: 16)
        return b
    }
    /// The range array, `iova` @0 and `length` @8 of each entry.
    package static func encode(_ ranges: [DMARange]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: max(ranges.count, 1) * 16)
        for (i, r) in ranges.enumerated() {
            LE.put64(r.iova, &b, at: i * 16)
            LE.put64(r.length, &b, at: i * 16 + 8)
        }
        return b
    }
}

/// `struct vfio_device_feature_dma_logging_report` (32 bytes): `iova` @0, `length` @8, `page_size` @16, `bitmap`
/// (a user pointer to u64 words) @24.
package enum VFIODMALoggingReport {
    package static let size = 32
    package static func encode(iova: UInt64, length: UInt64, pageSize: UInt64, bitmap pointer: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        LE.put64(iova, &b, at: 0)
        LE.put64(length, &b, at: 8)
        LE.put64(pageSize, &b, at: 16)
        LE.put64(pointer, &b, at: 24)
        return b
    }
}

/// `struct vfio_iommu_type1_dma_map` (32 bytes): `argsz` @0, `flags` @4 (READ 1, WRITE 2), `vaddr` @8, `iova` @16,
/// `size` @24.
package enum VFIODMAMap {
    package static let size = 32
    package static func encode(vaddr: UInt64, iova: UInt64, length: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        LE.put32(UInt32(size), &b, at: 0)
        LE.put32(3, &b, at: 4)
        LE.put64(vaddr, &b, at: 8)
        LE.put64(iova, &b, at: 16)
        LE.put64(length, &b, at: 24)
        return b
    }
}
