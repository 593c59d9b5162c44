// The reference device.
