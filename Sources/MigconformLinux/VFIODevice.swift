import MigconformDevice

/// A kernel VFIO device that speaks the v2 migration protocol: `VFIO_DEVICE_FEATURE` with
/// `VFIO_DEVICE_FEATURE_MIGRATION` / `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE` / `VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`,
/// migration data fds, and `VFIO_MIG_GET_PRECOPY_INFO` (Linux 5.18 and later).
///
/// Every operation is one real system call, answered as the kernel answered it: a failure is
/// `.failed(errno)`, never an exception. The data fds that a SET hands out are real fds of this process; the device
/// keeps track of them, refuses (with `EBADF`, without a system call) to touch an fd number it did not hand out or
/// already closed (the number may belong to another file by then), and closes what is left in ``shutdown()``.
///
/// Open one with ``VFIOTarget/open(_:)``, which also chooses between this and ``VFIORegionV1Device``.
package final class VFIODevice: MigrationDevice {
    package let generation: ProtocolGeneration = .v2
    package let identity: DeviceIdentity
    /// The device fd and what keeps it open.
    package let file: VFIODeviceFile
    private var dataFDs = Set<Int32>()
    private var configRegion: VFIORegionInfo?
    /// The buffer data fds are read into, reused for the device's life.
    private var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 4096)

    init(file: VFIODeviceFile, identity: DeviceIdentity) {
        self.file = file
        self.identity = identity
    }

    deinit {
        shutdown()
        scratch.deallocate()
    }

    /// Each operation is one system call: a signal interrupts it while it waits.
    package var callsInterruptible: Bool { true }

    /// The data fds handed out by SET and not closed yet, in ascending order.
    package var openDataFDs: [Int32] { dataFDs.sorted() }

    package func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        guard !file.isClosed else { throw TransportError("\(file.path): the device was already shut down") }
        switch operation {
        case .getMigrationFlags:
            return featureGet(FeatureRequest.migration) { .value(try VFIOFeatureMigration(decoding: $0).flags) }

        case .feature(let flags, let payload):
            switch file.feature(flags: flags, payload: payload) {
            case .failure(let e): return .failed(e)
            case .success(let back):
                // A raw SET of MIG_DEVICE_STATE can open a session: track its fd like setState does.
                if flags & FeatureRequest.mask == FeatureRequest.migDeviceState, flags & FeatureRequest.set != 0,
                    flags & FeatureRequest.probe == 0, let mig = try? VFIOFeatureMigState(decoding: back),
                    mig.dataFD >= 0
                {
                    dataFDs.insert(mig.dataFD)
                }
                return .bytes(back)
            }

        case .getState:
            return featureGet(FeatureRequest.migDeviceState) {
                let mig = try VFIOFeatureMigState(decoding: $0)
                return .state(mig.deviceState, dataFD: mig.dataFD)
            }

        case .setState(let value):
            // After a failed SET the kernel copies the *requested* state back: only the errno means anything.
            let payload = VFIOFeatureMigState(deviceState: value, dataFD: -1).encoded()
            switch file.feature(flags: FeatureRequest.set | FeatureRequest.migDeviceState, payload: payload) {
            case .failure(let e): return .failed(e)
            case .success(let back):
                guard let mig = try? VFIOFeatureMigState(decoding: back) else { return .failed(.EIO) }
                if mig.dataFD >= 0 { dataFDs.insert(mig.dataFD) }
                return .state(mig.deviceState, dataFD: mig.dataFD)
            }

        case .getDataSize:
            return featureGet(FeatureRequest.migDataSize) {
                .value(try VFIOFeatureMigDataSize(decoding: $0).stopCopyLength)
            }

        case .read(let fd, let count):
            guard dataFDs.contains(fd) else { return .failed(.EBADF) }
            guard count >= 0, count <= 1 << 30 else { return .failed(.EINVAL) }
            switch Sys.read(fd, count: count, scratch: &scratch) {
            case .success(let bytes): return .bytes(bytes)
            case .failure(let e): return .failed(e)
            }

        case .write(let fd, let bytes):
            guard dataFDs.contains(fd) else { return .failed(.EBADF) }
            switch Sys.write(fd, bytes) {
            case .success(let n): return .value(UInt64(n))
            case .failure(let e): return .failed(e)
            }

        case .close(let fd):
            guard dataFDs.remove(fd) != nil else { return .failed(.EBADF) }
            if let e = Sys.close(fd) { return .failed(e) }
            return .done

        case .precopyInfo(let fd):
            guard dataFDs.contains(fd) else { return .failed(.EBADF) }
            var buffer = VFIOPrecopyInfo().encoded()
            switch Sys.ioctl(fd, VFIOIoctl.migGetPrecopyInfo, &buffer) {
            case .failure(let e): return .failed(e)
            case .success:
                guard let info = try? VFIOPrecopyInfo(decoding: buffer) else { return .failed(.EIO) }
                return .precopy(initialBytes: info.initialBytes, dirtyBytes: info.dirtyBytes)
            }

        case .dataFD(let fd, let call):
            guard dataFDs.contains(fd) else { return .failed(.EBADF) }
            return DataFDCalls.perform(call, on: fd)

        case .reopen:
            // The data fds stay open in this process, as a user's would: the release of the device ends them.
            configRegion = nil
            return file.reopen()
        case .reset, .configRead, .disableInterrupts, .access:
            return file.performDeviceCall(operation, config: &configRegion)

        case .dmaLoggingStart(let pageSize, let ranges):
            let result = file.feature(
                flags: FeatureRequest.set | DMALogging.start, data: VFIODMALoggingControl.encode(ranges)
            ) {
                VFIODMALoggingControl.encode(pageSize: pageSize, count: ranges.count, ranges: $0)
            }
            switch result {
            case .failure(let e): return .failed(e)
            case .success(let back): return .value(LE.get64(back.payload, at: 0))
            }

        case .dmaLoggingStop:
            switch file.feature(flags: FeatureRequest.set | DMALogging.stop, payload: []) {
            case .failure(let e): return .failed(e)
            case .success: return .done
            }

        case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
            let result = file.feature(flags: FeatureRequest.get | DMALogging.report, data: bitmap) {
                VFIODMALoggingReport.encode(iova: iova, length: length, pageSize: pageSize, bitmap: $0)
            }
            switch result {
            case .failure(let e): return .failed(e)
            case .success(let back): return .bytes(back.data)
            }

        case .onPeer, .onForeign:
            throw TransportError("\(operation.kind) for another device reached \(file.name) itself")

        case .regionRead, .regionWrite, .dataRead, .dataWrite, .regionInfo:
            throw TransportError("\(operation.kind) is a v1 (migration region) request; \(file.name) speaks v2")
        }
    }

    /// Closes every data fd still open, then the device (and its group and container, or iommufd).
    package func shutdown() {
        for fd in dataFDs.sorted() { _ = Sys.close(fd) }
        dataFDs = []
        file.close()
    }

    private func featureGet(_ index: UInt32, _ decode: ([UInt8]) throws -> DeviceOutcome) -> DeviceOutcome {
        switch file.feature(flags: FeatureRequest.get | index, payload: [UInt8](repeating: 0, count: 8)) {
        case .failure(let e): return .failed(e)
        case .success(let back): return (try? decode(back)) ?? .failed(.EIO)
        }
    }
}
