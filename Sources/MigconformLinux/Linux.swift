// The Linux VFIO backend.
