#include "cvfio_shim.h"
#if defined(__linux__)
#include <sys/ioctl.h>
int cvfio_ioctl_none(int fd, unsigned long request) { return ioctl(fd, request); }
int cvfio_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int cvfio_ioctl_int(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
#else
#include <errno.h>
int cvfio_ioctl_none(int fd, unsigned long request) { (void)fd; (void)request; errno = ENOTTY; return -1; }
int cvfio_ioctl_ptr(int fd, unsigned long request, void *arg) { (void)fd; (void)request; (void)arg; errno = ENOTTY; return -1; }
int cvfio_ioctl_int(int fd, unsigned long request, unsigned long arg) { (void)fd; (void)request; (void)arg; errno = ENOTTY; return -1; }
#endif

/* The numbers of <linux/vfio.h> that the Swift side (UAPI.swift, Layouts.swift) restates, for a test to compare.
 * Facts of a newer uAPI than the system header are left out, guarded by a macro of the same uAPI. */
#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/vfio.h>)
#include <stddef.h>
#include <linux/vfio.h>
#define CVFIO_HAVE_HEADER 1
#endif
#endif

#ifdef CVFIO_HAVE_HEADER
#define FACT(x) { #x, (unsigned long long)(x) }
#define SIZE(s) { "sizeof " #s, sizeof(struct s) }
#define OFFSET(s, f) { "offsetof " #s "." #f, offsetof(struct s, f) }
static const struct cvfio_header_fact facts[] = {
    FACT(VFIO_API_VERSION), FACT(VFIO_TYPE1_IOMMU), FACT(VFIO_TYPE1v2_IOMMU), FACT(VFIO_TYPE), FACT(VFIO_BASE),
    FACT(VFIO_GET_API_VERSION), FACT(VFIO_CHECK_EXTENSION), FACT(VFIO_SET_IOMMU), FACT(VFIO_GROUP_GET_STATUS),
    FACT(VFIO_GROUP_SET_CONTAINER), FACT(VFIO_GROUP_UNSET_CONTAINER), FACT(VFIO_GROUP_GET_DEVICE_FD),
    FACT(VFIO_DEVICE_GET_INFO), FACT(VFIO_DEVICE_GET_REGION_INFO), FACT(VFIO_DEVICE_GET_IRQ_INFO),
    FACT(VFIO_DEVICE_SET_IRQS), FACT(VFIO_DEVICE_RESET), FACT(VFIO_IOMMU_MAP_DMA),
    FACT(VFIO_GROUP_FLAGS_VIABLE), FACT(VFIO_GROUP_FLAGS_CONTAINER_SET),
    FACT(VFIO_DEVICE_FLAGS_RESET), FACT(VFIO_DEVICE_FLAGS_PCI), FACT(VFIO_DEVICE_FLAGS_CAPS),
    FACT(VFIO_REGION_INFO_FLAG_READ), FACT(VFIO_REGION_INFO_FLAG_WRITE), FACT(VFIO_REGION_INFO_FLAG_MMAP),
    FACT(VFIO_REGION_INFO_FLAG_CAPS), FACT(VFIO_REGION_INFO_CAP_TYPE), FACT(VFIO_PCI_CONFIG_REGION_INDEX),
    FACT(VFIO_PCI_NUM_REGIONS),
    FACT(VFIO_IRQ_SET_DATA_NONE), FACT(VFIO_IRQ_SET_DATA_BOOL), FACT(VFIO_IRQ_SET_DATA_EVENTFD),
    FACT(VFIO_IRQ_SET_ACTION_MASK), FACT(VFIO_IRQ_SET_ACTION_UNMASK), FACT(VFIO_IRQ_SET_ACTION_TRIGGER),
    SIZE(vfio_group_status), SIZE(vfio_region_info), SIZE(vfio_info_cap_header), SIZE(vfio_region_info_cap_type),
    SIZE(vfio_irq_set), SIZE(vfio_iommu_type1_dma_map),
    OFFSET(vfio_device_info, num_regions), OFFSET(vfio_device_info, num_irqs), OFFSET(vfio_device_info, cap_offset),
    OFFSET(vfio_region_info, index), OFFSET(vfio_region_info, cap_offset), OFFSET(vfio_region_info, size),
    OFFSET(vfio_region_info, offset), OFFSET(vfio_info_cap_header, next), OFFSET(vfio_region_info_cap_type, type),
    OFFSET(vfio_region_info_cap_type, subtype), OFFSET(vfio_irq_set, count),
    OFFSET(vfio_iommu_type1_dma_map, vaddr), OFFSET(vfio_iommu_type1_dma_map, iova),
    OFFSET(vfio_iommu_type1_dma_map, size),
#ifdef VFIO_DEVICE_STATE_V1_RUNNING
    FACT(VFIO_DEVICE_STATE_V1_RUNNING), FACT(VFIO_DEVICE_STATE_V1_SAVING), FACT(VFIO_DEVICE_STATE_V1_RESUMING),
    FACT(VFIO_REGION_TYPE_MIGRATION_DEPRECATED), FACT(VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED),
    SIZE(vfio_device_migration_info), OFFSET(vfio_device_migration_info, pending_bytes),
    OFFSET(vfio_device_migration_info, data_offset), OFFSET(vfio_device_migration_info, data_size),
#endif
#ifdef VFIO_DEVICE_FEATURE
    FACT(VFIO_DEVICE_FEATURE), FACT(VFIO_DEVICE_FEATURE_MASK), FACT(VFIO_DEVICE_FEATURE_GET),
    FACT(VFIO_DEVICE_FEATURE_SET), FACT(VFIO_DEVICE_FEATURE_PROBE), SIZE(vfio_device_feature),
    OFFSET(vfio_device_feature, data),
#endif
#ifdef VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE
    FACT(VFIO_DEVICE_FEATURE_MIGRATION), FACT(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE),
    FACT(VFIO_MIGRATION_STOP_COPY), FACT(VFIO_MIGRATION_P2P),
    FACT(VFIO_DEVICE_STATE_ERROR), FACT(VFIO_DEVICE_STATE_STOP), FACT(VFIO_DEVICE_STATE_RUNNING),
    FACT(VFIO_DEVICE_STATE_STOP_COPY), FACT(VFIO_DEVICE_STATE_RESUMING), FACT(VFIO_DEVICE_STATE_RUNNING_P2P),
    SIZE(vfio_device_feature_migration), SIZE(vfio_device_feature_mig_state),
    OFFSET(vfio_device_feature_mig_state, data_fd),
#endif
#ifdef VFIO_MIGRATION_PRE_COPY
    FACT(VFIO_MIGRATION_PRE_COPY), FACT(VFIO_DEVICE_STATE_PRE_COPY), FACT(VFIO_DEVICE_STATE_PRE_COPY_P2P),
#endif
#ifdef VFIO_MIG_GET_PRECOPY_INFO
    FACT(VFIO_MIG_GET_PRECOPY_INFO), SIZE(vfio_precopy_info), OFFSET(vfio_precopy_info, initial_bytes),
    OFFSET(vfio_precopy_info, dirty_bytes),
#endif
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
    FACT(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE), SIZE(vfio_device_feature_mig_data_size),
#endif
#ifdef VFIO_DEVICE_BIND_IOMMUFD
    FACT(VFIO_DEVICE_BIND_IOMMUFD), SIZE(vfio_device_bind_iommufd), OFFSET(vfio_device_bind_iommufd, iommufd),
    OFFSET(vfio_device_bind_iommufd, out_devid),
#endif
#ifdef VFIO_DEVICE_FEATURE_DMA_LOGGING_START
    FACT(VFIO_DEVICE_FEATURE_DMA_LOGGING_START), FACT(VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP),
    FACT(VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT), SIZE(vfio_device_feature_dma_logging_control),
    SIZE(vfio_device_feature_dma_logging_range), SIZE(vfio_device_feature_dma_logging_report),
    OFFSET(vfio_device_feature_dma_logging_control, num_ranges),
    OFFSET(vfio_device_feature_dma_logging_control, ranges),
    OFFSET(vfio_device_feature_dma_logging_report, page_size),
    OFFSET(vfio_device_feature_dma_logging_report, bitmap),
#endif
};

const struct cvfio_header_fact *cvfio_header_facts(int *count) {
    *count = (int)(sizeof(facts) / sizeof(facts[0]));
    return facts;
}
#else
const struct cvfio_header_fact *cvfio_header_facts(int *count) {
    *count = 0;
    return 0;
}
#endif

#if defined(__linux__)
#include <sys/eventfd.h>
int cvfio_eventfd(void) { return eventfd(0, EFD_CLOEXEC); }
#else
#include <errno.h>
int cvfio_eventfd(void) { errno = ENOSYS; return -1; }
#endif
