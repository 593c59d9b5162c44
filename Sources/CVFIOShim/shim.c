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

#if defined(__linux__)
#include <sys/eventfd.h>
int cvfio_eventfd(void) { return eventfd(0, EFD_CLOEXEC); }
#else
#include <errno.h>
int cvfio_eventfd(void) { errno = ENOSYS; return -1; }
#endif
