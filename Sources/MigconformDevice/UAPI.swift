// Numbers of the Linux VFIO migration uAPI (include/uapi/linux/vfio.h), written out here so that the core builds
// on any platform. Sources: Linux uAPI header, `enum vfio_device_mig_state`, `struct vfio_device_feature`,
// `struct vfio_device_feature_migration`, and the v1 `struct vfio_device_migration_info` (Linux 5.8 to 5.17).

/// A v2 `device_state` value (`enum vfio_device_mig_state`).
package struct MigrationState: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    package var rawValue: UInt32
    package init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `VFIO_DEVICE_STATE_ERROR` (0): the device failed an arc and must be reset.
    package static let error = MigrationState(rawValue: 0)
    /// `VFIO_DEVICE_STATE_STOP` (1).
    package static let stop = MigrationState(rawValue: 1)
    /// `VFIO_DEVICE_STATE_RUNNING` (2): the state after open and after reset.
    package static let running = MigrationState(rawValue: 2)
    /// `VFIO_DEVICE_STATE_STOP_COPY` (3).
    package static let stopCopy = MigrationState(rawValue: 3)
    /// `VFIO_DEVICE_STATE_RESUMING` (4).
    package static let resuming = MigrationState(rawValue: 4)
    /// `VFIO_DEVICE_STATE_RUNNING_P2P` (5), needs `VFIO_MIGRATION_P2P`.
    package static let runningP2P = MigrationState(rawValue: 5)
    /// `VFIO_DEVICE_STATE_PRE_COPY` (6), needs `VFIO_MIGRATION_PRE_COPY`.
    package static let preCopy = MigrationState(rawValue: 6)
    /// `VFIO_DEVICE_STATE_PRE_COPY_P2P` (7), needs both optional flags.
    package static let preCopyP2P = MigrationState(rawValue: 7)
    /// `VFIO_DEVICE_STATE_NR` (8): one past the last defined state.
    package static let count: UInt32 = 8

    package static let names = [
        "ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P", "PRE_COPY",
        "PRE_COPY_P2P",
    ]
    package var description: String {
        rawValue < MigrationState.count ? MigrationState.names[Int(rawValue)] : "\(rawValue)"
    }
}

/// The flags word of `VFIO_DEVICE_FEATURE_MIGRATION` (`struct vfio_device_feature_migration`).
package struct MigrationFlags: OptionSet, Hashable, Codable, Sendable {
    package var rawValue: UInt64
    package init(rawValue: UInt64) { self.rawValue = rawValue }
    /// `VFIO_MIGRATION_STOP_COPY` (1 << 0): mandatory.
    package static let stopCopy = MigrationFlags(rawValue: 1 << 0)
    /// `VFIO_MIGRATION_P2P` (1 << 1): RUNNING_P2P (and PRE_COPY_P2P with PRE_COPY).
    package static let p2p = MigrationFlags(rawValue: 1 << 1)
    /// `VFIO_MIGRATION_PRE_COPY` (1 << 2): PRE_COPY, since Linux 6.2.
    package static let preCopy = MigrationFlags(rawValue: 1 << 2)
}

/// `VFIO_DEVICE_FEATURE` request words (`struct vfio_device_feature.flags`).
package enum FeatureRequest {
    /// `VFIO_DEVICE_FEATURE_MASK`: the low 16 bits hold the feature index.
    package static let mask: UInt32 = 0xffff
    /// `VFIO_DEVICE_FEATURE_GET` (1 << 16).
    package static let get: UInt32 = 1 << 16
    /// `VFIO_DEVICE_FEATURE_SET` (1 << 17).
    package static let set: UInt32 = 1 << 17
    /// `VFIO_DEVICE_FEATURE_PROBE` (1 << 18).
    package static let probe: UInt32 = 1 << 18

    /// `VFIO_DEVICE_FEATURE_MIGRATION` (1).
    package static let migration: UInt32 = 1
    /// `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE` (2).
    package static let migDeviceState: UInt32 = 2
    /// `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE` (9).
    package static let migDataSize: UInt32 = 9
}

/// The v1 migration region: `struct vfio_device_migration_info` at offset 0 and its `device_state` bits.
package enum RegionV1 {
    /// Offset of `device_state` (u32, read/write).
    package static let deviceState: UInt64 = 0
    /// Offset of `reserved` (u32): reads return zero, writes are ignored.
    package static let reserved: UInt64 = 4
    /// Offset of `pending_bytes` (u64, read only).
    package static let pendingBytes: UInt64 = 8
    /// Offset of `data_offset` (u64, read only).
    package static let dataOffset: UInt64 = 16
    /// Offset of `data_size` (u64, read/write).
    package static let dataSize: UInt64 = 24
    /// Size of `struct vfio_device_migration_info`.
    package static let headerSize: UInt64 = 32

    /// `VFIO_DEVICE_STATE_RUNNING` (v1: 1 << 0).
    package static let running: UInt32 = 1 << 0
    /// `VFIO_DEVICE_STATE_SAVING` (v1: 1 << 1).
    package static let saving: UInt32 = 1 << 1
    /// `VFIO_DEVICE_STATE_RESUMING` (v1: 1 << 2).
    package static let resuming: UInt32 = 1 << 2
    /// `VFIO_DEVICE_STATE_MASK` (v1: 0x7): bits 3 to 31 are reserved.
    package static let stateMask: UInt32 = 0x7
    /// The error encoding, `VFIO_DEVICE_STATE_SAVING | VFIO_DEVICE_STATE_RESUMING` (110b).
    package static let error: UInt32 = 0x6

    /// `VFIO_REGION_INFO_FLAG_READ` (1 << 0) in the answer of ``DeviceOperation/regionInfo``.
    package static let flagRead: UInt64 = 1 << 0
    /// `VFIO_REGION_INFO_FLAG_WRITE` (1 << 1).
    package static let flagWrite: UInt64 = 1 << 1
    /// `VFIO_REGION_INFO_FLAG_MMAP` (1 << 2): the region (or the parts a sparse mmap capability names) can be mmapped.
    package static let flagMmap: UInt64 = 1 << 2
    /// The page size data_offset is aligned to when the region can be mmapped.
    package static let pageSize: UInt64 = 4096
}
