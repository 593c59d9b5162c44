// Expand: rules x the device profile -> concrete cases.
