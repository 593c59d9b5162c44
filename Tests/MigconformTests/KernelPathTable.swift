/// What `vfio_mig_get_next_state()` (drivers/vfio/vfio_main.c) does for a SET of `to` from `from`, for each
/// flag set a device can advertise, worked out from the kernel's state table and written down here so that the
/// test needs nothing outside the repository.
///
/// One line per pair, `FROM TO: outcome`, under `flags NAMES`. Outcomes: `refused` (EINVAL), `hang` (a loop on
/// kernels with the pre-copy arcs but without the later fix, EINVAL once fixed), `stay` (no arc), or the states
/// the kernel steps through in order, `+fd` when the SET returns a new data fd.
enum KernelPathTable {
    static let text = """
        flags stop-copy
        STOP ERROR: refused
        STOP STOP: stay
        STOP RUNNING: RUNNING
        STOP STOP_COPY: STOP_COPY +fd
        STOP RESUMING: RESUMING +fd
        STOP RUNNING_P2P: refused
        STOP PRE_COPY: refused
        STOP PRE_COPY_P2P: refused
        RUNNING ERROR: refused
        RUNNING STOP: STOP
        RUNNING RUNNING: stay
        RUNNING STOP_COPY: STOP STOP_COPY +fd
        RUNNING RESUMING: STOP RESUMING +fd
        RUNNING RUNNING_P2P: refused
        RUNNING PRE_COPY: refused
        RUNNING PRE_COPY_P2P: refused
        STOP_COPY ERROR: refused
        STOP_COPY STOP: STOP
        STOP_COPY RUNNING: STOP RUNNING
        STOP_COPY STOP_COPY: stay
        STOP_COPY RESUMING: STOP RESUMING +fd
        STOP_COPY RUNNING_P2P: refused
        STOP_COPY PRE_COPY: refused
        STOP_COPY PRE_COPY_P2P: refused
        RESUMING ERROR: refused
        RESUMING STOP: STOP
        RESUMING RUNNING: STOP RUNNING
        RESUMING STOP_COPY: STOP STOP_COPY +fd
        RESUMING RESUMING: stay
        RESUMING RUNNING_P2P: refused
        RESUMING PRE_COPY: refused
        RESUMING PRE_COPY_P2P: refused

        flags stop-copy,p2p
        STOP ERROR: refused
        STOP STOP: stay
        STOP RUNNING: RUNNING_P2P RUNNING
        STOP STOP_COPY: STOP_COPY +fd
        STOP RESUMING: RESUMING +fd
        STOP RUNNING_P2P: RUNNING_P2P
        STOP PRE_COPY: refused
        STOP PRE_COPY_P2P: refused
        RUNNING ERROR: refused
        RUNNING STOP: RUNNING_P2P STOP
        RUNNING RUNNING: stay
        RUNNING STOP_COPY: RUNNING_P2P STOP STOP_COPY +fd
        RUNNING RESUMING: RUNNING_P2P STOP RESUMING +fd
        RUNNING RUNNING_P2P: RUNNING_P2P
        RUNNING PRE_COPY: refused
        RUNNING PRE_COPY_P2P: refused
        STOP_COPY ERROR: refused
        STOP_COPY STOP: STOP
        STOP_COPY RUNNING: STOP RUNNING_P2P RUNNING
        STOP_COPY STOP_COPY: stay
        STOP_COPY RESUMING: STOP RESUMING +fd
        STOP_COPY RUNNING_P2P: STOP RUNNING_P2P
        STOP_COPY PRE_COPY: refused
        STOP_COPY PRE_COPY_P2P: refused
        RESUMING ERROR: refused
        RESUMING STOP: STOP
        RESUMING RUNNING: STOP RUNNING_P2P RUNNING
        RESUMING STOP_COPY: STOP STOP_COPY +fd
        RESUMING RESUMING: stay
        RESUMING RUNNING_P2P: STOP RUNNING_P2P
        RESUMING PRE_COPY: refused
        RESUMING PRE_COPY_P2P: refused
        RUNNING_P2P ERROR: refused
        RUNNING_P2P STOP: STOP
        RUNNING_P2P RUNNING: RUNNING
        RUNNING_P2P STOP_COPY: STOP STOP_COPY +fd
        RUNNING_P2P RESUMING: STOP RESUMING +fd
        RUNNING_P2P RUNNING_P2P: stay
        RUNNING_P2P PRE_COPY: refused
        RUNNING_P2P PRE_COPY_P2P: refused

        flags stop-copy,pre-copy
        STOP ERROR: refused
        STOP STOP: stay
        STOP RUNNING: RUNNING
        STOP STOP_COPY: STOP_COPY +fd
        STOP RESUMING: RESUMING +fd
        STOP RUNNING_P2P: refused
        STOP PRE_COPY: RUNNING PRE_COPY +fd
        STOP PRE_COPY_P2P: refused
        RUNNING ERROR: refused
        RUNNING STOP: STOP
        RUNNING RUNNING: stay
        RUNNING STOP_COPY: STOP STOP_COPY +fd
        RUNNING RESUMING: STOP RESUMING +fd
        RUNNING RUNNING_P2P: refused
        RUNNING PRE_COPY: PRE_COPY +fd
        RUNNING PRE_COPY_P2P: refused
        STOP_COPY ERROR: refused
        STOP_COPY STOP: STOP
        STOP_COPY RUNNING: STOP RUNNING
        STOP_COPY STOP_COPY: stay
        STOP_COPY RESUMING: STOP RESUMING +fd
        STOP_COPY RUNNING_P2P: refused
        STOP_COPY PRE_COPY: hang
        STOP_COPY PRE_COPY_P2P: refused
        RESUMING ERROR: refused
        RESUMING STOP: STOP
        RESUMING RUNNING: STOP RUNNING
        RESUMING STOP_COPY: STOP STOP_COPY +fd
        RESUMING RESUMING: stay
        RESUMING RUNNING_P2P: refused
        RESUMING PRE_COPY: STOP RUNNING PRE_COPY +fd
        RESUMING PRE_COPY_P2P: refused
        PRE_COPY ERROR: refused
        PRE_COPY STOP: RUNNING STOP
        PRE_COPY RUNNING: RUNNING
        PRE_COPY STOP_COPY: STOP_COPY
        PRE_COPY RESUMING: RUNNING STOP RESUMING +fd
        PRE_COPY RUNNING_P2P: refused
        PRE_COPY PRE_COPY: stay
        PRE_COPY PRE_COPY_P2P: refused

        flags stop-copy,p2p,pre-copy
        STOP ERROR: refused
        STOP STOP: stay
        STOP RUNNING: RUNNING_P2P RUNNING
        STOP STOP_COPY: STOP_COPY +fd
        STOP RESUMING: RESUMING +fd
        STOP RUNNING_P2P: RUNNING_P2P
        STOP PRE_COPY: RUNNING_P2P RUNNING PRE_COPY +fd
        STOP PRE_COPY_P2P: RUNNING_P2P PRE_COPY_P2P +fd
        RUNNING ERROR: refused
        RUNNING STOP: RUNNING_P2P STOP
        RUNNING RUNNING: stay
        RUNNING STOP_COPY: RUNNING_P2P STOP STOP_COPY +fd
        RUNNING RESUMING: RUNNING_P2P STOP RESUMING +fd
        RUNNING RUNNING_P2P: RUNNING_P2P
        RUNNING PRE_COPY: PRE_COPY +fd
        RUNNING PRE_COPY_P2P: RUNNING_P2P PRE_COPY_P2P +fd
        STOP_COPY ERROR: refused
        STOP_COPY STOP: STOP
        STOP_COPY RUNNING: STOP RUNNING_P2P RUNNING
        STOP_COPY STOP_COPY: stay
        STOP_COPY RESUMING: STOP RESUMING +fd
        STOP_COPY RUNNING_P2P: STOP RUNNING_P2P
        STOP_COPY PRE_COPY: hang
        STOP_COPY PRE_COPY_P2P: hang
        RESUMING ERROR: refused
        RESUMING STOP: STOP
        RESUMING RUNNING: STOP RUNNING_P2P RUNNING
        RESUMING STOP_COPY: STOP STOP_COPY +fd
        RESUMING RESUMING: stay
        RESUMING RUNNING_P2P: STOP RUNNING_P2P
        RESUMING PRE_COPY: STOP RUNNING_P2P RUNNING PRE_COPY +fd
        RESUMING PRE_COPY_P2P: STOP RUNNING_P2P PRE_COPY_P2P +fd
        RUNNING_P2P ERROR: refused
        RUNNING_P2P STOP: STOP
        RUNNING_P2P RUNNING: RUNNING
        RUNNING_P2P STOP_COPY: STOP STOP_COPY +fd
        RUNNING_P2P RESUMING: STOP RESUMING +fd
        RUNNING_P2P RUNNING_P2P: stay
        RUNNING_P2P PRE_COPY: RUNNING PRE_COPY +fd
        RUNNING_P2P PRE_COPY_P2P: PRE_COPY_P2P +fd
        PRE_COPY ERROR: refused
        PRE_COPY STOP: RUNNING RUNNING_P2P STOP
        PRE_COPY RUNNING: RUNNING
        PRE_COPY STOP_COPY: PRE_COPY_P2P STOP_COPY
        PRE_COPY RESUMING: RUNNING RUNNING_P2P STOP RESUMING +fd
        PRE_COPY RUNNING_P2P: RUNNING RUNNING_P2P
        PRE_COPY PRE_COPY: stay
        PRE_COPY PRE_COPY_P2P: PRE_COPY_P2P
        PRE_COPY_P2P ERROR: refused
        PRE_COPY_P2P STOP: RUNNING_P2P STOP
        PRE_COPY_P2P RUNNING: RUNNING_P2P RUNNING
        PRE_COPY_P2P STOP_COPY: STOP_COPY
        PRE_COPY_P2P RESUMING: RUNNING_P2P STOP RESUMING +fd
        PRE_COPY_P2P RUNNING_P2P: RUNNING_P2P
        PRE_COPY_P2P PRE_COPY: PRE_COPY
        PRE_COPY_P2P PRE_COPY_P2P: stay
        """
}
