import MigconformDevice

extension ReferenceDeviceV2 {
    /// A data fd as the kernel makes one: close-on-exec, read-only for saving and write-only for resuming, a
    /// stream (no seeking), readable in `poll` when a read would not block or fail with ENOMSG, and an ioctl
    /// handler that knows only `VFIO_MIG_GET_PRECOPY_INFO`.
    package func referenceDataFD(fd: Int32, call: DataFDCall) -> DeviceOutcome {
        guard let session = fds[fd] else { return .failed(.EBADF) }
        switch call {
        case .fdFlags: return .value(DataFD.closeOnExec)
        case .statusFlags: return .value(session.direction == .save ? DataFD.readOnly : DataFD.writeOnly)
        case .seek, .pread, .pwrite: return .failed(.ESPIPE)
        case .poll:
            guard session.direction == .save else { return .value(DataFD.pollOut) }
            return .value(preCopyIdle(session) ? 0 : DataFD.pollIn)
        case .ioctl: return .failed(.ENOTTY)
        case .precopyInfo(let argsz, let flags):
            guard session.direction == .save else { return .failed(.ENOTTY) }
            if argsz < DataFD.precopyInfoSize { return .failed(.EINVAL) }
            guard case .precopy(let initial, let dirty) = precopyInfo(fd: fd) else { return precopyInfo(fd: fd) }
            // Without the opt-in the flags are not an output: they come back as they went in.
            let out = precopyFlagsOptIn ? precopyFlags(session) : flags
            return .bytes(DataFD.PrecopyInfo(argsz: argsz, flags: out, initialBytes: initial, dirtyBytes: dirty).bytes)
        }
    }

    /// A live saving session in a pre-copy state at its temporary end: a read would fail with ENOMSG.
    func preCopyIdle(_ session: Session) -> Bool {
        guard session.live, state == .preCopy || state == .preCopyP2P, let writer = session.writer else { return false }
        return writer.offset >= session.preCopyLimit
    }

    /// The output flags of PRECOPY_INFO after the opt-in: this device never re-initialises.
    func precopyFlags(_ session: Session) -> UInt32 { 0 }
}

extension ReferenceDeviceV2 {
    /// Device access that works in every state: config writes (the fixed header ignores them), one 4 KiB BAR 0
    /// reading zeros, an INTx or MSI trigger.
    package func referenceAccess(_ a: DeviceAccess) -> DeviceOutcome {
        switch a {
        case .configWrite(let offset, let width, _):
            guard [1, 2, 4].contains(width), offset + UInt64(width) <= 256 else { return .failed(.EINVAL) }
            return .done
        case .barRead(let index, let offset, let width):
            guard index == 0 else { return .failed(.ENXIO) }
            guard [1, 2, 4].contains(width), offset + UInt64(width) <= 4096 else { return .failed(.EINVAL) }
            return .value(0)
        case .enableInterrupts(let index):
            return index < 2 ? .done : .failed(.EINVAL)
        }
    }
}
