import MigconformDevice

/// A correct v2 migration device, modelled as the kernel's VFIO core plus a well-written driver, for any valid
/// feature profile. It is written from the uAPI text, independently of the spec files, so that running the spec
/// against it checks the spec as much as the device.
///
/// The class is open to the fault catalogue: each fault overrides one hook to break one behaviour.
package class ReferenceDeviceV2: MigrationDevice {
    /// What the device advertises and how big its state is.
    package struct Configuration: Sendable {
        package var flags: MigrationFlags
        /// Bytes of internal device state carried by the stream.
        package var stateSize: UInt64
        /// Whether `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE` is implemented (Linux 6.2+).
        package var dataSizeFeature: Bool
        /// Whether a resume stream found invalid leaves the device in ERROR (the uAPI allows either).
        package var errorOnBadResume: Bool
        /// Share of the state offered as initial bytes in PRE_COPY (0...1).
        package var preCopyShare: Double
        package var seed: UInt64
        /// Whether DMA logging (features 6, 7 and 8) is implemented.
        package var dmaLogging: Bool
        /// Whether `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (feature 12, Linux 7.1) is implemented.
        package var precopyInfoV2 = false

        package init(
            flags: MigrationFlags = [.stopCopy, .p2p, .preCopy], stateSize: UInt64 = 4096,
            dataSizeFeature: Bool = true, errorOnBadResume: Bool = true, preCopyShare: Double = 0.5,
            seed: UInt64 = 0x6d69_6763, dmaLogging: Bool = true
        ) {
            self.flags = flags
            self.stateSize = stateSize
            self.dataSizeFeature = dataSizeFeature
            self.errorOnBadResume = errorOnBadResume
            self.preCopyShare = preCopyShare
            self.seed = seed
            self.dmaLogging = dmaLogging
        }
    }

    /// A data transfer session and its fd.
    package final class Session {
        package enum Direction { case save, resume }
        package let fd: Int32
        package let direction: Direction
        /// False once the session ended (arc out of it, reset): the fd then reads end of stream.
        package var live = true
        var writer: StreamWriter?
        var reader = StreamReader()
        /// The stream offset up to which PRE_COPY offers data.
        var preCopyLimit: UInt64 = 0
        init(fd: Int32, direction: Direction) {
            self.fd = fd
            self.direction = direction
        }
    }

    package let configuration: Configuration
    package let generation = ProtocolGeneration.v2
    package var identity: DeviceIdentity {
        DeviceIdentity(
            targetKind: "reference", driver: "migconform-reference", detail: "reference v2 device",
            extra: [
                "flags": String(configuration.flags.rawValue), "state-size": String(configuration.stateSize),
                "dma-logging": configuration.dmaLogging ? "yes" : "no",
            ])
    }
    /// An in-process simulator: every operation returns at once (a fault that hangs says otherwise).
    package var answersPromptly: Bool { true }
    /// Not system calls: a signal does not interrupt them (subclasses that wait in one say so).
    package var callsInterruptible: Bool { false }

    /// The current `device_state`.
    package var state = MigrationState.running
    /// Open fds by number (sessions stay here until closed, even after they end).
    package var fds: [Int32: Session] = [:]
    /// The session the device is currently streaming, if any.
    package var activeSession: Session?
    private var nextFD: Int32 = 100

    /// The DMA log: whether logging is started, the page size the device chose, the ranges it tracks, and the
    /// pages (by IOVA, at the device's page size) written since the last report.
    package var loggingStarted = false
    package var loggingPageSize: UInt64 = DMALogging.minimumPageSize
    package var loggingRanges: [DMARange] = []
    package var dirtyPages: Set<UInt64> = []
    /// User space opted in to the flags of `struct vfio_precopy_info` (SET of feature 12).
    package var precopyFlagsOptIn = false

    package init(_ configuration: Configuration = Configuration()) { self.configuration = configuration }

    // MARK: - Requests

    package func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        switch operation {
        case .getMigrationFlags: return migrationFlags()
        case .feature(let flags, let payload): return feature(flags: flags, payload: payload)
        case .getState: return .state(reportedState().rawValue, dataFD: -1)
        case .setState(let value): return setState(value)
        case .getDataSize:
            guard configuration.dataSizeFeature else { return .failed(.ENOTTY) }
            return .value(ReferenceStream.length(payloadSize: configuration.stateSize))
        case .read(let fd, let count): return read(fd: fd, count: count)
        case .write(let fd, let bytes): return write(fd: fd, bytes: bytes)
        case .close(let fd):
            guard fds.removeValue(forKey: fd) != nil else { return .failed(.EBADF) }
            return .done
        case .precopyInfo(let fd): return precopyInfo(fd: fd)
        case .dataFD(let fd, let call): return dataFD(fd: fd, call: call)
        case .dmaLoggingStart(let pageSize, let ranges):
            guard configuration.dmaLogging else { return .failed(.ENOTTY) }
            if let e = DMALogCore.checkStart(pageSize: pageSize, ranges: ranges) { return .failed(e) }
            return loggingStart(pageSize: pageSize, ranges: ranges)
        case .dmaLoggingStop:
            guard configuration.dmaLogging else { return .failed(.ENOTTY) }
            return loggingStop()
        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            guard configuration.dmaLogging else { return .failed(.ENOTTY) }
            if let e = DMALogCore.checkReport(iova: iova, length: length, pageSize: pageSize, bitmap: bitmap) {
                return .failed(e)
            }
            return loggingReport(iova: iova, length: length, pageSize: pageSize, bitmap: bitmap)
        case .reset:
            resetDevice()
            return .done
        case .reopen:
            reopenDevice()
            return .done
        case .configRead(let offset, let width): return configRead(offset: offset, width: width)
        case .disableInterrupts: return .done
        case .access(let a): return access(a)
        case .regionRead, .regionWrite, .dataRead, .dataWrite, .regionInfo:
            // A v2 device has no v1 migration region.
            return .failed(.EINVAL)
        case .onPeer, .onForeign:
            throw TransportError("\(operation.kind) for another device reached the reference device itself")
        }
    }

    /// The state a GET reports. A hook for faults that misreport.
    package func reportedState() -> MigrationState { state }

    package func migrationFlags() -> DeviceOutcome { .value(configuration.flags.rawValue) }

    /// `VFIO_DEVICE_FEATURE` as the core validates it, then as the driver answers.
    package func feature(flags: UInt32, payload: [UInt8]) -> DeviceOutcome {
        let known = FeatureRequest.mask | FeatureRequest.get | FeatureRequest.set | FeatureRequest.probe
        if flags & ~known != 0 { return .failed(.EINVAL) }
        let get = flags & FeatureRequest.get != 0
        let set = flags & FeatureRequest.set != 0
        let probe = flags & FeatureRequest.probe != 0
        if get && set && !probe { return .failed(.EINVAL) }
        let index = flags & FeatureRequest.mask
        let ops: (get: Bool, set: Bool)
        switch index {
        case FeatureRequest.migration: ops = (true, false)
        case FeatureRequest.migDeviceState: ops = (true, true)
        case FeatureRequest.migDataSize where configuration.dataSizeFeature: ops = (true, false)
        case FeatureRequest.migDataSize: return .failed(.ENOTTY)
        case DMALogging.start, DMALogging.stop:
            guard configuration.dmaLogging else { return .failed(.ENOTTY) }
            ops = (false, true)
        case DMALogging.report:
            guard configuration.dmaLogging else { return .failed(.ENOTTY) }
            ops = (true, false)
        case DataFD.precopyInfoV2Feature where configuration.precopyInfoV2:
            guard configuration.flags.contains(.preCopy) else { return .failed(.EINVAL) }
            ops = (false, true)
        default: return .failed(.EINVAL)
        }
        if (get && !ops.get) || (set && !ops.set) { return .failed(.EINVAL) }
        if probe { return .done }
        if index == DMALogging.stop, set { return loggingStop() }
        if index == DataFD.precopyInfoV2Feature, set {
            precopyFlagsOptIn = true
            return .done
        }
        // START and REPORT carry user pointers, which a simulated device cannot follow.
        if index == DMALogging.start || index == DMALogging.report { return .failed(.EFAULT) }
        if !get && !set { return .failed(.EINVAL) }
        if payload.count < 8 { return .failed(.EINVAL) }
        switch (index, get) {
        case (FeatureRequest.migration, true):
            guard case .value(let f) = migrationFlags() else { return .failed(.EIO) }
            return .bytes(ReferenceStream.le(f))
        case (FeatureRequest.migDataSize, true):
            return .bytes(ReferenceStream.le(ReferenceStream.length(payloadSize: configuration.stateSize)))
        case (FeatureRequest.migDeviceState, true):
            return .bytes(
                Array(ReferenceStream.le(UInt64(reportedState().rawValue)).prefix(4)) + [0xff, 0xff, 0xff, 0xff])
        default:
            let value = UInt32(truncatingIfNeeded: ReferenceStream.readLE(payload[0..<4]))
            switch setState(value) {
            case .state(let s, let fd):
                return .bytes(
                    Array(ReferenceStream.le(UInt64(s)).prefix(4))
                        + Array(ReferenceStream.le(UInt64(UInt32(bitPattern: fd))).prefix(4)))
            case let other: return other
            }
        }
    }

    // MARK: - The state machine

    /// Whether the device supports a state at all (ERROR is always "supported" but never settable).
    package func supports(_ s: MigrationState) -> Bool {
        let f = configuration.flags
        switch s {
        case .stop, .running, .stopCopy, .resuming: return f.contains(.stopCopy)
        case .runningP2P: return f.contains([.stopCopy, .p2p])
        case .preCopy: return f.contains([.stopCopy, .preCopy])
        case .preCopyP2P: return f.contains([.stopCopy, .p2p, .preCopy])
        default: return false
        }
    }

    /// The next hop from `current` towards `target` on a device with every optional state, or nil when the
    /// request is one the uAPI blocks. Written from the uAPI's arc list: P2P states sit between RUNNING and STOP,
    /// the saving group is entered only by its opening arcs, and STOP_COPY never returns to PRE_COPY.
    package func nextHop(from current: MigrationState, to target: MigrationState) -> MigrationState? {
        if current == target { return target }
        switch current {
        case .stop:
            return target == .stopCopy || target == .resuming ? target : .runningP2P
        case .running:
            return target == .preCopy ? .preCopy : .runningP2P
        case .runningP2P:
            switch target {
            case .stop, .stopCopy, .resuming: return .stop
            case .running, .preCopy: return .running
            default: return .preCopyP2P
            }
        case .preCopy:
            return target == .preCopyP2P || target == .stopCopy ? .preCopyP2P : .running
        case .preCopyP2P:
            switch target {
            case .preCopy, .stopCopy: return target
            default: return .runningP2P
            }
        case .stopCopy:
            return target == .preCopy || target == .preCopyP2P ? nil : .stop
        case .resuming:
            return .stop
        default:
            return nil
        }
    }

    /// The next hop this device takes, skipping states it does not support.
    func step(from current: MigrationState, to target: MigrationState) -> MigrationState? {
        var next = nextHop(from: current, to: target)
        while let n = next, !supports(n) { next = nextHop(from: n, to: target) }
        return next
    }

    /// `SET` of `MIG_DEVICE_STATE`: validate, then walk the path one arc at a time.
    package func setState(_ value: UInt32) -> DeviceOutcome {
        let target = MigrationState(rawValue: value)
        guard value < MigrationState.count, target != .error, supports(target) else { return .failed(.EINVAL) }
        if state == .error { return .failed(.EINVAL) }
        var returnedFD: Int32 = -1
        while state != target {
            guard let next = step(from: state, to: target) else { return .failed(.EINVAL) }
            switch performArc(from: state, to: next) {
            case .success(let fd):
                state = next
                if let fd { returnedFD = fd }
            case .failure(let errno):
                return .failed(errno)
            }
        }
        return .state(value, dataFD: returnedFD)
    }

    /// Carries out one single-step arc: what the driver does. Returns the new fd when the arc opens a session.
    package func performArc(from: MigrationState, to: MigrationState) -> Result<Int32?, Errno> {
        func saving(_ s: MigrationState) -> Bool { s == .preCopy || s == .preCopyP2P || s == .stopCopy }
        switch (saving(from), saving(to)) {
        case (false, true):
            return .success(openSession(.save, preCopy: to != .stopCopy).fd)
        case (true, false):
            endSession()
            return .success(nil)
        case (true, true):
            return .success(nil) // the saving group shares one session
        case (false, false):
            if to == .resuming { return .success(openSession(.resume, preCopy: false).fd) }
            if from == .resuming { return finishResume() }
            return .success(nil)
        }
    }

    /// Whether a resume stream must declare this device's own state size: a stream of a device of another
    /// configuration is not one this device can load.
    package var checksStreamSize: Bool { true }

    /// Opens a session and hands out its fd.
    package func openSession(_ direction: Session.Direction, preCopy: Bool) -> Session {
        endSession()
        let session = Session(fd: allocateFD(), direction: direction)
        if direction == .resume && checksStreamSize { session.reader.expectedPayloadSize = configuration.stateSize }
        if direction == .save {
            let writer = StreamWriter(payloadSize: configuration.stateSize, seed: configuration.seed)
            session.writer = writer
            let share = UInt64(Double(configuration.stateSize) * configuration.preCopyShare)
            session.preCopyLimit = preCopy ? UInt64(ReferenceStream.headerSize) + share : 0
        }
        fds[session.fd] = session
        activeSession = session
        return session
    }

    package func allocateFD() -> Int32 {
        defer { nextFD += 1 }
        return nextFD
    }

    /// Ends the active session: its fd reads end of stream from now on.
    package func endSession() {
        activeSession?.live = false
        activeSession = nil
    }

    /// RESUMING -> STOP: load the stream, or fail when it is incomplete or invalid.
    package func finishResume() -> Result<Int32?, Errno> {
        // No session, or one whose stream does not check out, cannot be loaded.
        let problem: StreamReader.Problem? = activeSession.map { $0.reader.verdict() } ?? .truncated
        endSession()
        if problem != nil {
            if configuration.errorOnBadResume { state = .error }
            return .failure(.EINVAL)
        }
        return .success(nil)
    }

    /// `VFIO_DEVICE_RESET`: back to RUNNING, every session ended.
    package func resetDevice() {
        endSession()
        state = .running
    }

    /// The device fd closed and opened again: the release ends the session (its fd, still open, moves no more
    /// data) and stops DMA logging; the device is opened in RUNNING.
    package func reopenDevice() {
        endSession()
        state = .running
        loggingStarted = false
        loggingRanges = []
        dirtyPages = []
    }

    // MARK: - DMA logging

    /// START after the core's checks: the driver picks its page size (the hint when it is a power of two of at
    /// least 4 KiB and at most 1 GiB, else 4 KiB) and refuses a second START.
    package func loggingStart(pageSize: UInt64, ranges: [DMARange]) -> DeviceOutcome {
        if loggingStarted { return .failed(.EBUSY) }
        let usable = pageSize >= DMALogging.minimumPageSize && pageSize <= 1 << 30 && pageSize & (pageSize - 1) == 0
        loggingPageSize = usable ? pageSize : DMALogging.minimumPageSize
        loggingRanges = ranges
        loggingStarted = true
        dirtyPages = []
        return .value(loggingPageSize)
    }

    package func loggingStop() -> DeviceOutcome {
        loggingStarted = false
        loggingRanges = []
        dirtyPages = []
        return .done
    }

    /// REPORT: sets the bit of every reporting page that holds a page written since the last report, clears those
    /// records, and leaves every other bit of the caller's bitmap as it was.
    package func loggingReport(iova: UInt64, length: UInt64, pageSize: UInt64, bitmap: [UInt8]) -> DeviceOutcome {
        guard loggingStarted else { return .failed(.EINVAL) }
        var out = bitmap
        for page in dirtyPages.sorted() {
            let end = page + loggingPageSize
            guard end > iova, page < iova + length else { continue }
            var at = max(page, iova)
            while at < min(end, iova + length) {
                let bit = (at - iova) / pageSize
                out[Int(bit / 8)] |= UInt8(1) << (bit % 8)
                at = (at / pageSize + 1) * pageSize
            }
            dirtyPages.remove(page)
        }
        return .bytes(out)
    }

    /// Records a DMA write of the device to `[iova, iova + length)`: what tests use to dirty pages. Writes outside
    /// the tracked ranges, or while logging is stopped, are not recorded.
    package func dirty(iova: UInt64, length: UInt64) {
        guard loggingStarted, length > 0 else { return }
        var page = iova / loggingPageSize * loggingPageSize
        while page < iova + length {
            if loggingRanges.contains(where: { page + loggingPageSize > $0.iova && page < $0.iova + $0.length }) {
                dirtyPages.insert(page)
            }
            page += loggingPageSize
        }
    }

    // MARK: - Data fds

    package func read(fd: Int32, count: Int) -> DeviceOutcome {
        guard let session = fds[fd] else { return .failed(.EBADF) }
        guard session.direction == .save else { return .failed(.EBADF) }
        guard session.live, var writer = session.writer else { return .bytes([]) }
        if count < 0 { return .failed(.EINVAL) }
        var limit = writer.remaining
        if state == .preCopy || state == .preCopyP2P {
            guard writer.offset < session.preCopyLimit else { return .failed(.ENOMSG) }
            limit = session.preCopyLimit - writer.offset
        }
        let out = writer.next(Int(min(UInt64(count), limit)))
        session.writer = writer
        return .bytes(out)
    }

    package func write(fd: Int32, bytes: [UInt8]) -> DeviceOutcome {
        guard let session = fds[fd] else { return .failed(.EBADF) }
        guard session.direction == .resume else { return .failed(.EBADF) }
        guard session.live else { return .failed(.EINVAL) }
        guard session.reader.accept(bytes) else { return .failed(.EINVAL) }
        return .value(UInt64(bytes.count))
    }

    package func precopyInfo(fd: Int32) -> DeviceOutcome {
        guard let session = fds[fd] else { return .failed(.EBADF) }
        guard session.direction == .save, session.live, state == .preCopy || state == .preCopyP2P,
            let writer = session.writer
        else { return .failed(.EINVAL) }
        let initial = session.preCopyLimit > writer.offset ? session.preCopyLimit - writer.offset : 0
        return .precopy(initialBytes: initial, dirtyBytes: 0)
    }

    /// Config writes, BAR reads and interrupt triggers (see `ReferenceDataFD.swift`).
    package func access(_ a: DeviceAccess) -> DeviceOutcome { referenceAccess(a) }

    /// A system call on a data fd beyond read and write (see `ReferenceDataFD.swift`).
    package func dataFD(fd: Int32, call: DataFDCall) -> DeviceOutcome { referenceDataFD(fd: fd, call: call) }

    /// PCI config space: a fixed header, readable in every state.
    package func configRead(offset: UInt64, width: Int) -> DeviceOutcome {
        guard [1, 2, 4].contains(width), offset + UInt64(width) <= 256 else { return .failed(.EINVAL) }
        let header: [UInt8] = [0x34, 0x12, 0xe8, 0x11] // vendor 0x1234, device 0x11e8
        var v: UInt64 = 0
        for i in 0..<width {
            let at = Int(offset) + i
            v |= UInt64(at < header.count ? header[at] : 0) << (8 * i)
        }
        return .value(v)
    }
}

/// The checks the kernel's VFIO core makes on DMA logging requests before a driver sees them (`vfio_main.c`).
package enum DMALogCore {
    /// START: at least one range and at most a page of them, each aligned to the page size, none overflowing the
    /// address space, none overlapping another.
    package static func checkStart(pageSize: UInt64, ranges: [DMARange]) -> Errno? {
        if ranges.isEmpty { return .EINVAL }
        if ranges.count > DMALogging.maximumRanges { return .E2BIG }
        var seen: [DMARange] = []
        for r in ranges {
            if pageSize == 0 || r.iova % pageSize != 0 || r.length % pageSize != 0 { return .EINVAL }
            if r.iova.addingReportingOverflow(r.length).overflow { return .EOVERFLOW }
            let last = r.iova &+ r.length &- 1
            if seen.contains(where: { r.iova <= $0.iova &+ $0.length &- 1 && $0.iova <= last }) { return .EINVAL }
            seen.append(r)
        }
        return nil
    }

    /// REPORT: a power-of-two page size of at least 4 KiB, a range that does not overflow, and a bitmap large
    /// enough for it (the kernel faults on a short user buffer).
    package static func checkReport(iova: UInt64, length: UInt64, pageSize: UInt64, bitmap: [UInt8]) -> Errno? {
        if pageSize < DMALogging.minimumPageSize || pageSize & (pageSize - 1) != 0 { return .EINVAL }
        if iova.addingReportingOverflow(length).overflow { return .EOVERFLOW }
        if bitmap.count < DMALogging.bitmapBytes(length: length, pageSize: pageSize) { return .EFAULT }
        return nil
    }
}
