import CVFIOShim
import Testing

@testable import MigconformDevice
@testable import MigconformLinux

/// The numbers the Linux backend writes down (UAPI.swift, Layouts.swift) against this system's `<linux/vfio.h>`,
/// read through the C shim: request numbers, constants, structure sizes and field offsets. Facts of a uAPI newer
/// than the installed header are not in it and are not compared.
@Suite struct HeaderFactsTests {
    static func headerFacts() -> [String: UInt64] {
        var count: Int32 = 0
        guard let facts = cvfio_header_facts(&count), count > 0 else { return [:] }
        var out: [String: UInt64] = [:]
        for f in UnsafeBufferPointer(start: facts, count: Int(count)) {
            out[String(cString: f.name)] = UInt64(f.value)
        }
        return out
    }

    /// Ours, by the header's names.
    static let ours: [String: UInt64] = [
        "VFIO_API_VERSION": UInt64(VFIOConstant.apiVersion),
        "VFIO_TYPE1_IOMMU": UInt64(VFIOConstant.type1IOMMU),
        "VFIO_TYPE1v2_IOMMU": UInt64(VFIOConstant.type1v2IOMMU),
        "VFIO_TYPE": UInt64(VFIOIoctl.type), "VFIO_BASE": UInt64(VFIOIoctl.base),
        "VFIO_GET_API_VERSION": UInt64(VFIOIoctl.getAPIVersion),
        "VFIO_CHECK_EXTENSION": UInt64(VFIOIoctl.checkExtension),
        "VFIO_SET_IOMMU": UInt64(VFIOIoctl.setIOMMU),
        "VFIO_GROUP_GET_STATUS": UInt64(VFIOIoctl.groupGetStatus),
        "VFIO_GROUP_SET_CONTAINER": UInt64(VFIOIoctl.groupSetContainer),
        "VFIO_GROUP_UNSET_CONTAINER": UInt64(VFIOIoctl.groupUnsetContainer),
        "VFIO_GROUP_GET_DEVICE_FD": UInt64(VFIOIoctl.groupGetDeviceFD),
        "VFIO_DEVICE_GET_INFO": UInt64(VFIOIoctl.deviceGetInfo),
        "VFIO_DEVICE_GET_REGION_INFO": UInt64(VFIOIoctl.deviceGetRegionInfo),
        "VFIO_DEVICE_GET_IRQ_INFO": UInt64(VFIOIoctl.deviceGetIRQInfo),
        "VFIO_DEVICE_SET_IRQS": UInt64(VFIOIoctl.deviceSetIRQs),
        "VFIO_DEVICE_RESET": UInt64(VFIOIoctl.deviceReset),
        "VFIO_IOMMU_MAP_DMA": UInt64(VFIOIoctl.iommuMapDMA),
        "VFIO_DEVICE_FEATURE": UInt64(VFIOIoctl.deviceFeature),
        "VFIO_DEVICE_BIND_IOMMUFD": UInt64(VFIOIoctl.deviceBindIOMMUFD),
        "VFIO_MIG_GET_PRECOPY_INFO": UInt64(VFIOIoctl.migGetPrecopyInfo),
        "VFIO_GROUP_FLAGS_VIABLE": UInt64(VFIOConstant.groupViable),
        "VFIO_GROUP_FLAGS_CONTAINER_SET": UInt64(VFIOConstant.groupContainerSet),
        "VFIO_DEVICE_FLAGS_RESET": UInt64(VFIOConstant.deviceFlagReset),
        "VFIO_DEVICE_FLAGS_PCI": UInt64(VFIOConstant.deviceFlagPCI),
        "VFIO_DEVICE_FLAGS_CAPS": UInt64(VFIOConstant.deviceFlagCaps),
        "VFIO_REGION_INFO_FLAG_READ": UInt64(VFIOConstant.regionFlagRead),
        "VFIO_REGION_INFO_FLAG_WRITE": UInt64(VFIOConstant.regionFlagWrite),
        "VFIO_REGION_INFO_FLAG_MMAP": UInt64(VFIOConstant.regionFlagMmap),
        "VFIO_REGION_INFO_FLAG_CAPS": UInt64(VFIOConstant.regionFlagCaps),
        "VFIO_REGION_INFO_CAP_TYPE": UInt64(VFIOConstant.regionCapType),
        "VFIO_PCI_CONFIG_REGION_INDEX": UInt64(VFIOConstant.pciConfigRegionIndex),
        "VFIO_PCI_NUM_REGIONS": UInt64(VFIOConstant.pciNumRegions),
        "VFIO_IRQ_SET_DATA_NONE": UInt64(VFIOConstant.irqSetDataNone),
        "VFIO_IRQ_SET_DATA_BOOL": UInt64(VFIOConstant.irqSetDataBool),
        "VFIO_IRQ_SET_DATA_EVENTFD": UInt64(VFIOConstant.irqSetDataEventFD),
        "VFIO_IRQ_SET_ACTION_MASK": UInt64(VFIOConstant.irqSetActionMask),
        "VFIO_IRQ_SET_ACTION_UNMASK": UInt64(VFIOConstant.irqSetActionUnmask),
        "VFIO_IRQ_SET_ACTION_TRIGGER": UInt64(VFIOConstant.irqSetActionTrigger),
        "VFIO_REGION_TYPE_MIGRATION_DEPRECATED": UInt64(VFIOConstant.regionTypeMigration),
        "VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED": UInt64(VFIOConstant.regionSubtypeMigration),
        "VFIO_DEVICE_STATE_V1_RUNNING": UInt64(RegionV1.running),
        "VFIO_DEVICE_STATE_V1_SAVING": UInt64(RegionV1.saving),
        "VFIO_DEVICE_STATE_V1_RESUMING": UInt64(RegionV1.resuming),
        "VFIO_DEVICE_FEATURE_MASK": UInt64(FeatureRequest.mask),
        "VFIO_DEVICE_FEATURE_GET": UInt64(FeatureRequest.get),
        "VFIO_DEVICE_FEATURE_SET": UInt64(FeatureRequest.set),
        "VFIO_DEVICE_FEATURE_PROBE": UInt64(FeatureRequest.probe),
        "VFIO_DEVICE_FEATURE_MIGRATION": UInt64(FeatureRequest.migration),
        "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE": UInt64(FeatureRequest.migDeviceState),
        "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE": UInt64(FeatureRequest.migDataSize),
        "VFIO_DEVICE_FEATURE_DMA_LOGGING_START": UInt64(DMALogging.start),
        "VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP": UInt64(DMALogging.stop),
        "VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT": UInt64(DMALogging.report),
        "VFIO_MIGRATION_STOP_COPY": UInt64(MigrationFlags.stopCopy.rawValue),
        "VFIO_MIGRATION_P2P": UInt64(MigrationFlags.p2p.rawValue),
        "VFIO_MIGRATION_PRE_COPY": UInt64(MigrationFlags.preCopy.rawValue),
        "VFIO_DEVICE_STATE_ERROR": UInt64(MigrationState.error.rawValue),
        "VFIO_DEVICE_STATE_STOP": UInt64(MigrationState.stop.rawValue),
        "VFIO_DEVICE_STATE_RUNNING": UInt64(MigrationState.running.rawValue),
        "VFIO_DEVICE_STATE_STOP_COPY": UInt64(MigrationState.stopCopy.rawValue),
        "VFIO_DEVICE_STATE_RESUMING": UInt64(MigrationState.resuming.rawValue),
        "VFIO_DEVICE_STATE_RUNNING_P2P": UInt64(MigrationState.runningP2P.rawValue),
        "VFIO_DEVICE_STATE_PRE_COPY": UInt64(MigrationState.preCopy.rawValue),
        "VFIO_DEVICE_STATE_PRE_COPY_P2P": UInt64(MigrationState.preCopyP2P.rawValue),
        "sizeof vfio_group_status": UInt64(VFIOGroupStatus.size),
        "sizeof vfio_region_info": UInt64(VFIORegionInfo.size),
        "sizeof vfio_info_cap_header": UInt64(VFIOCapabilityHeader.size),
        "sizeof vfio_region_info_cap_type": UInt64(VFIORegionInfoCapType.size),
        "sizeof vfio_irq_set": UInt64(VFIOIRQSet.size),
        "sizeof vfio_iommu_type1_dma_map": UInt64(VFIODMAMap.size),
        "sizeof vfio_device_migration_info": UInt64(VFIODeviceMigrationInfoV1.size),
        "sizeof vfio_device_feature": UInt64(VFIODeviceFeature.size),
        "sizeof vfio_device_feature_migration": UInt64(VFIOFeatureMigration.size),
        "sizeof vfio_device_feature_mig_state": UInt64(VFIOFeatureMigState.size),
        "sizeof vfio_device_feature_mig_data_size": UInt64(VFIOFeatureMigDataSize.size),
        "sizeof vfio_precopy_info": UInt64(VFIOPrecopyInfo.size),
        "sizeof vfio_device_bind_iommufd": UInt64(VFIODeviceBindIOMMUFD.size),
        "sizeof vfio_device_feature_dma_logging_control": UInt64(VFIODMALoggingControl.size),
        "sizeof vfio_device_feature_dma_logging_range": 16,
        "sizeof vfio_device_feature_dma_logging_report": UInt64(VFIODMALoggingReport.size),
        // Offsets the Layouts' doc comments state and their encoders use.
        "offsetof vfio_device_info.num_regions": 8, "offsetof vfio_device_info.num_irqs": 12,
        "offsetof vfio_device_info.cap_offset": 16,
        "offsetof vfio_region_info.index": 8, "offsetof vfio_region_info.cap_offset": 12,
        "offsetof vfio_region_info.size": 16, "offsetof vfio_region_info.offset": 24,
        "offsetof vfio_info_cap_header.next": 4, "offsetof vfio_region_info_cap_type.type": 8,
        "offsetof vfio_region_info_cap_type.subtype": 12, "offsetof vfio_irq_set.count": 16,
        "offsetof vfio_iommu_type1_dma_map.vaddr": 8, "offsetof vfio_iommu_type1_dma_map.iova": 16,
        "offsetof vfio_iommu_type1_dma_map.size": 24,
        "offsetof vfio_device_migration_info.pending_bytes": RegionV1.pendingBytes,
        "offsetof vfio_device_migration_info.data_offset": RegionV1.dataOffset,
        "offsetof vfio_device_migration_info.data_size": RegionV1.dataSize,
        "offsetof vfio_device_feature.data": UInt64(VFIODeviceFeature.size),
        "offsetof vfio_device_feature_mig_state.data_fd": 4,
        "offsetof vfio_precopy_info.initial_bytes": 8, "offsetof vfio_precopy_info.dirty_bytes": 16,
        "offsetof vfio_device_bind_iommufd.iommufd": 8, "offsetof vfio_device_bind_iommufd.out_devid": 12,
        "offsetof vfio_device_feature_dma_logging_control.num_ranges": 8,
        "offsetof vfio_device_feature_dma_logging_control.ranges": 16,
        "offsetof vfio_device_feature_dma_logging_report.page_size": 16,
        "offsetof vfio_device_feature_dma_logging_report.bitmap": 24,
    ]

    static let header = headerFacts()

    @Test(.enabled(if: !header.isEmpty, "no <linux/vfio.h> on this system"))
    func everyNumberTheHeaderHasIsOurs() {
        for (name, value) in Self.header.sorted(by: { $0.key < $1.key }) {
            guard let mine = Self.ours[name] else {
                Issue.record("the shim exports \(name), which this test does not compare")
                continue
            }
            #expect(mine == value, "\(name): the header says \(value), the suite \(mine)")
        }
        // The uAPI of Linux 5.18 (the v2 protocol, feature ioctl, DMA logging) is the oldest header the suite
        // builds against: at least these are always compared.
        #expect(Self.header.count >= 90, "only \(Self.header.count) numbers came from the header")
    }
}
