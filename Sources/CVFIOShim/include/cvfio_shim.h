#ifndef CVFIO_SHIM_H
#define CVFIO_SHIM_H
/* ioctl(2) is variadic, which Swift cannot call directly: these wrappers give it fixed signatures. */
int cvfio_ioctl_none(int fd, unsigned long request);
int cvfio_ioctl_ptr(int fd, unsigned long request, void *arg);
int cvfio_ioctl_int(int fd, unsigned long request, unsigned long arg);
/* One number of this system's <linux/vfio.h>: a constant, a request, a structure's size or a field's offset. */
struct cvfio_header_fact {
    const char *name;
    unsigned long long value;
};
/* The header's numbers the suite also writes down (none without the header); *count is set to how many. */
const struct cvfio_header_fact *cvfio_header_facts(int *count);
/* eventfd(0, EFD_CLOEXEC), which the Swift Glibc module does not export; -1 with errno set on failure. */
int cvfio_eventfd(void);
#endif
