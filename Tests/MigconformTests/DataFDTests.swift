import Foundation
import Testing

@testable import MigconformDevice
@testable import MigconformLinux
@testable import MigconformReference

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Data fd calls")
struct DataFDTests {
    /// The real system calls, on a pipe: a stream like a data fd.
    @Test func realCallsOnAPipe() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        #expect(fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0)
        #expect(DataFDCalls.perform(.fdFlags, on: ends[0]) == .value(DataFD.closeOnExec))
        #expect(DataFDCalls.perform(.statusFlags, on: ends[1]) == .value(DataFD.writeOnly))
        #expect(DataFDCalls.perform(.seek(offset: 0), on: ends[0]) == .failed(.ESPIPE))
        #expect(DataFDCalls.perform(.pread(count: 4, offset: 0), on: ends[0]) == .failed(.ESPIPE))
        #expect(DataFDCalls.perform(.pwrite(bytes: [1], offset: 0), on: ends[1]) == .failed(.ESPIPE))
        #expect(DataFDCalls.perform(.ioctl(request: DataFD.unknownIoctl), on: ends[0]) == .failed(.ENOTTY))
        #expect(DataFDCalls.perform(.poll, on: ends[0]) == .value(0))
        #expect(write(ends[1], "x", 1) == 1)
        #expect(DataFDCalls.perform(.poll, on: ends[0]) == .value(DataFD.pollIn))
        #expect(DataFDCalls.perform(.precopyInfo(argsz: 24, flags: 0), on: ends[0]) == .failed(.ENOTTY))
    }

    @Test func theReferenceDeviceAnswersLikeTheKernel() throws {
        var config = ReferenceDeviceV2.Configuration()
        config.precopyInfoV2 = true
        let device = ReferenceDeviceV2(config)
        guard case .state(_, let fd) = try device.perform(.setState(MigrationState.preCopy.rawValue)) else {
            Issue.record("no pre-copy session")
            return
        }
        #expect(try device.perform(.dataFD(fd: fd, call: .statusFlags)) == .value(DataFD.readOnly))
        #expect(try device.perform(.dataFD(fd: fd, call: .precopyInfo(argsz: 20, flags: 0))) == .failed(.EINVAL))
        // Before the opt-in the flags come back as they went in; after it only defined ones.
        let before = try device.perform(.dataFD(fd: fd, call: .precopyInfo(argsz: 24, flags: 0x8000_0000)))
        #expect(before.bytes.flatMap(DataFD.PrecopyInfo.init)?.flags == 0x8000_0000)
        let set = FeatureRequest.set | DataFD.precopyInfoV2Feature
        #expect(try device.perform(.feature(flags: FeatureRequest.probe | set, payload: [])) == .done)
        #expect(try device.perform(.feature(flags: set, payload: [])) == .done)
        let after = try device.perform(.dataFD(fd: fd, call: .precopyInfo(argsz: 24, flags: 0x8000_0000)))
        #expect(after.bytes.flatMap(DataFD.PrecopyInfo.init)?.flags == 0)
        // At the temporary end of the pre-copy stream nothing is readable.
        #expect(try device.perform(.dataFD(fd: fd, call: .poll)) == .value(DataFD.pollIn))
        _ = try device.perform(.read(fd: fd, count: 1 << 20))
        #expect(try device.perform(.read(fd: fd, count: 16)) == .failed(.ENOMSG))
        #expect(try device.perform(.dataFD(fd: fd, call: .poll)) == .value(0))
        #expect(try device.perform(.dataFD(fd: 999, call: .poll)) == .failed(.EBADF))
    }
}

extension DeviceOutcome {
    var bytes: [UInt8]? {
        if case .bytes(let b) = self { return b }
        return nil
    }
}
