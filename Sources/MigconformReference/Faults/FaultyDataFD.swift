import MigconformDevice

extension FaultyDeviceV2 {
    /// The data fd calls of the faults that break them; every other call as the reference device answers it.
    func faultyDataFD(fd: Int32, call: DataFDCall) -> DeviceOutcome {
        let correct = referenceDataFD(fd: fd, call: call)
        guard let session = fds[fd] else { return correct }
        switch (fault, call) {
        case (.dataFDNotCloseOnExec, .fdFlags): return .value(0)
        case (.dataFDReadWrite, .statusFlags): return .value(2) // O_RDWR
        case (.dataFDSeekable, .seek(let offset)): return .value(UInt64(max(offset, 0)))
        case (.dataFDSeekable, .pread): return .bytes([])
        case (.dataFDSeekable, .pwrite(let bytes, _)): return .value(UInt64(bytes.count)) // dropped
        case (.dataFDAcceptsUnknownIoctl, .ioctl): return .value(0)
        case (.precopyInfoShortArgszAccepted, .precopyInfo(let argsz, let flags)) where argsz < DataFD.precopyInfoSize:
            return referenceDataFD(fd: fd, call: .precopyInfo(argsz: DataFD.precopyInfoSize, flags: flags))
        case (.pollNotReadableAtEnd, .poll) where session.direction == .save && state == .stopCopy:
            return .value(0)
        case (.pollReadableWhenIdle, .poll) where session.direction == .save:
            return .value(DataFD.pollIn)
        case (.precopyV2FlagsEchoed, .precopyInfo(let argsz, let flags)):
            // Opted in, but the flags passed in come back as they went.
            guard case .bytes(let b) = correct, var info = DataFD.PrecopyInfo(b) else { return correct }
            info.flags = flags
            info.argsz = argsz
            return .bytes(info.bytes)
        default: return correct
        }
    }
}
