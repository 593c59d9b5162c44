// The Linux VFIO backend: real kernel devices behind the `MigrationDevice` protocol.
//
//   Layouts.swift            ioctl numbers, constants and byte-exact encoders/decoders of the uAPI structures
//   DeviceFile.swift         system calls (through the CVFIOShim ioctl wrappers) and an open device fd
//   VFIODevice.swift         the v2 protocol (VFIO_DEVICE_FEATURE, migration data fds)
//   VFIORegionV1Device.swift the v1 protocol (the migration region), testable against a regular file
//   VFIOTarget.swift         `vfio:` target paths: parsing, opening (group/container or iommufd cdev), discovery
//   VFIOInventory.swift      the host's VFIO devices, for `migconform devices`
//   KernelHealth.swift       taint mask and kernel log trouble, before and after a run
