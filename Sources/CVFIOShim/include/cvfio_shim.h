#ifndef CVFIO_SHIM_H
#define CVFIO_SHIM_H
/* ioctl(2) is variadic, which Swift cannot call directly: these wrappers give it fixed signatures. */
int cvfio_ioctl_none(int fd, unsigned long request);
int cvfio_ioctl_ptr(int fd, unsigned long request, void *arg);
int cvfio_ioctl_int(int fd, unsigned long request, unsigned long arg);
/* eventfd(0, EFD_CLOEXEC), which the Swift Glibc module does not export; -1 with errno set on failure. */
int cvfio_eventfd(void);
#endif
