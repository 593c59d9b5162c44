import Foundation
import Testing

@testable import MigconformDevice
@testable import MigconformLinux

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A folder under the system's temporary folder, removed by the caller.
private func tempFolder(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "migconform-linux-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent,
        withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

private func link(_ path: String, to destination: String) throws {
    try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent,
        withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: destination)
}

@Suite("LinuxBackend: ioctl numbers and constants")
struct LinuxBackendIoctlTests {
    @Test("request numbers match the uAPI table (x86_64, _IO form)")
    func requestNumbers() {
        let table: [(UInt, UInt)] = [
            (VFIOIoctl.getAPIVersion, 0x3B64), (VFIOIoctl.checkExtension, 0x3B65), (VFIOIoctl.setIOMMU, 0x3B66),
            (VFIOIoctl.groupGetStatus, 0x3B67), (VFIOIoctl.groupSetContainer, 0x3B68),
            (VFIOIoctl.groupUnsetContainer, 0x3B69), (VFIOIoctl.groupGetDeviceFD, 0x3B6A),
            (VFIOIoctl.deviceGetInfo, 0x3B6B), (VFIOIoctl.deviceGetRegionInfo, 0x3B6C),
            (VFIOIoctl.deviceGetIRQInfo, 0x3B6D), (VFIOIoctl.deviceSetIRQs, 0x3B6E), (VFIOIoctl.deviceReset, 0x3B6F),
            (VFIOIoctl.deviceFeature, 0x3B75), (VFIOIoctl.deviceBindIOMMUFD, 0x3B76),
            (VFIOIoctl.migGetPrecopyInfo, 0x3B79),
        ]
        for (value, expected) in table { #expect(value == expected) }
        #expect(VFIOIoctl.type == UInt(UInt8(ascii: ";")))
    }

    @Test("constants")
    func constants() {
        #expect(VFIOConstant.apiVersion == 0)
        #expect(VFIOConstant.type1v2IOMMU == 3)
        #expect(VFIOConstant.pciConfigRegionIndex == 7)
        #expect(VFIOConstant.regionCapType == 2)
        #expect(VFIOConstant.regionTypeMigration == 3 && VFIOConstant.regionSubtypeMigration == 1)
        #expect(VFIOConstant.irqSetDataNone | VFIOConstant.irqSetActionTrigger == 0x21)
        // feature request words quoted in the notes
        #expect(VFIODeviceFeature(flags: FeatureRequest.get | FeatureRequest.migration).flags == 0x0001_0001)
        #expect(FeatureRequest.set | FeatureRequest.migDeviceState == 0x0002_0002)
        #expect(
            FeatureRequest.probe | FeatureRequest.get | FeatureRequest.set | FeatureRequest.migDeviceState
                == 0x0007_0002)
        #expect(FeatureRequest.get | FeatureRequest.migDataSize == 0x0001_0009)
    }
}

@Suite("LinuxBackend: structure encodings")
struct LinuxBackendLayoutTests {
    @Test("vfio_device_feature + vfio_device_feature_mig_state")
    func featureMigState() throws {
        let payload = VFIOFeatureMigState(deviceState: 3, dataFD: -1).encoded()
        #expect(payload == [3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
        let call = VFIODeviceFeature(flags: FeatureRequest.set | FeatureRequest.migDeviceState, payload: payload)
        #expect(call.encoded() == [16, 0, 0, 0, 2, 0, 2, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
        let back = try VFIODeviceFeature(decoding: call.encoded())
        #expect(back == call && back.index == 2)
        let answered = try VFIOFeatureMigState(decoding: [4, 0, 0, 0, 7, 0, 0, 0])
        #expect(answered == VFIOFeatureMigState(deviceState: 4, dataFD: 7))
    }

    @Test("vfio_device_feature_migration and mig_data_size are little-endian u64")
    func u64Payloads() throws {
        #expect(VFIOFeatureMigration(flags: 0x7).encoded() == [7, 0, 0, 0, 0, 0, 0, 0])
        #expect(try VFIOFeatureMigration(decoding: [0x7, 0, 0, 0, 0, 0, 0, 0x80]).flags == 0x8000_0000_0000_0007)
        #expect(VFIOFeatureMigDataSize(stopCopyLength: 0x0102).encoded() == [2, 1, 0, 0, 0, 0, 0, 0])
        #expect(try VFIOFeatureMigDataSize(decoding: [96, 0, 0, 0, 0, 0, 0, 0]).stopCopyLength == 96)
    }

    @Test("vfio_precopy_info: 24 bytes, u64 at 8 and 16")
    func precopyInfo() throws {
        let info = VFIOPrecopyInfo(initialBytes: 0x1122, dirtyBytes: 0x0100_0000_0000_0033)
        let bytes = info.encoded()
        #expect(bytes.count == 24)
        #expect(
            bytes == [
                24, 0, 0, 0, 0, 0, 0, 0,
                0x22, 0x11, 0, 0, 0, 0, 0, 0,
                0x33, 0, 0, 0, 0, 0, 0, 0x01,
            ])
        #expect(try VFIOPrecopyInfo(decoding: bytes) == info)
    }

    @Test("vfio_device_info, vfio_region_info")
    func infos() throws {
        #expect(VFIODeviceInfo().encoded() == [24, 0, 0, 0] + [UInt8](repeating: 0, count: 20))
        let device = try VFIODeviceInfo(decoding: [24, 0, 0, 0, 0x83, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0])
        #expect(device.flags == 0x83 && device.numRegions == 9 && device.numIRQs == 5 && device.capOffset == 0)
        #expect(device.flags & VFIOConstant.deviceFlagReset != 0 && device.flags & VFIOConstant.deviceFlagPCI != 0)

        let region = VFIORegionInfo(
            argsz: 32, flags: 0xb, index: 7, capOffset: 32, regionSize: 0x100,
            offset: 7 << 40)
        let bytes = region.encoded()
        #expect(
            bytes == [
                32, 0, 0, 0, 0x0b, 0, 0, 0, 7, 0, 0, 0, 32, 0, 0, 0,
                0, 1, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 7, 0, 0,
            ])
        #expect(try VFIORegionInfo(decoding: bytes) == region)
        #expect(VFIORegionInfo(index: 3).encoded().prefix(12) == [32, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0])
    }

    @Test("capability header and region type capability")
    func capabilities() throws {
        #expect(VFIOCapabilityHeader(id: 2, version: 1, next: 0x30).encoded() == [2, 0, 1, 0, 0x30, 0, 0, 0])
        let type = VFIORegionInfoCapType(next: 0, type: 3, subtype: 1)
        #expect(type.encoded() == [2, 0, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0])
        #expect(try VFIORegionInfoCapType(decoding: type.encoded()).isMigrationV1)
        #expect(!VFIORegionInfoCapType(type: 0x8086_0000, subtype: 1).isMigrationV1)
    }

    @Test("a capability chain is walked to the migration region type; bad chains end with an error")
    func chainWalk() throws {
        // region info (32 bytes) -> an unrelated capability at 32 (id 1, 16 bytes) -> the type capability at 48
        var buffer = VFIORegionInfo(
            argsz: 64, flags: VFIOConstant.regionFlagCaps, index: 9, capOffset: 32,
            regionSize: 0x1000, offset: 9 << 40
        ).encoded()
        buffer += VFIOCapabilityHeader(id: 1, version: 1, next: 48).encoded() + [UInt8](repeating: 0, count: 8)
        buffer += VFIORegionInfoCapType(next: 0, type: 3, subtype: 1).encoded()
        let info = try VFIORegionInfo(decoding: buffer)
        let chain = try VFIOCapabilityHeader.chain(in: buffer, first: info.capOffset)
        #expect(chain.map(\.offset) == [32, 48])
        #expect(chain.map(\.header.id) == [1, 2])
        #expect(VFIODeviceFile.regionType(info: info, buffer: buffer)?.isMigrationV1 == true)

        // a loop, a pointer past the end, a pointer into the info header
        var loop = buffer
        LE.put32(32, &loop, at: 48 + 4)
        #expect(throws: VFIOLayoutError.self) { try VFIOCapabilityHeader.chain(in: loop, first: 32) }
        #expect(throws: VFIOLayoutError.self) { try VFIOCapabilityHeader.chain(in: buffer, first: 60) }
        #expect(throws: VFIOLayoutError.self) { try VFIOCapabilityHeader.chain(in: buffer, first: 4) }
        // without the CAPS flag there is no type
        var noCaps = info
        noCaps.flags = 0
        #expect(VFIODeviceFile.regionType(info: noCaps, buffer: buffer) == nil)
    }

    @Test("vfio_irq_set: disable = DATA_NONE|ACTION_TRIGGER, count 0")
    func irqSet() throws {
        let set = VFIOIRQSet.disable(index: 2)
        #expect(set.encoded() == [20, 0, 0, 0, 0x21, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let withData = VFIOIRQSet(
            flags: VFIOConstant.irqSetDataEventFD | VFIOConstant.irqSetActionTrigger, index: 0,
            start: 0, count: 1, data: [9, 0, 0, 0])
        #expect(withData.encoded().count == 24 && withData.argsz == 24)
        #expect(try VFIOIRQSet(decoding: withData.encoded()) == withData)
    }

    @Test("vfio_group_status, vfio_device_bind_iommufd")
    func groupAndBind() throws {
        #expect(VFIOGroupStatus().encoded() == [8, 0, 0, 0, 0, 0, 0, 0])
        let status = try VFIOGroupStatus(decoding: [8, 0, 0, 0, 3, 0, 0, 0])
        #expect(status.viable && status.containerSet)
        #expect(!(try VFIOGroupStatus(decoding: [8, 0, 0, 0, 2, 0, 0, 0])).viable)
        #expect(VFIODeviceBindIOMMUFD(iommufd: 5).encoded() == [16, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0])
        let answered = try VFIODeviceBindIOMMUFD(decoding: [16, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0x2a, 0, 0, 0])
        #expect(answered.outDevID == 42 && answered.iommufd == 5)
    }

    @Test("vfio_device_migration_info (v1) at the offsets of RegionV1")
    func migrationInfoV1() throws {
        let info = VFIODeviceMigrationInfoV1(
            deviceState: 0x8000_0003, reserved: 0, pendingBytes: 0x10,
            dataOffset: 0x1000, dataSize: 0x20)
        let b = info.encoded()
        #expect(b.count == 32 && VFIODeviceMigrationInfoV1.size == 32)
        #expect(b[0..<4] == [3, 0, 0, 0x80])
        #expect(b[8..<16] == [0x10, 0, 0, 0, 0, 0, 0, 0])
        #expect(b[16..<24] == [0, 0x10, 0, 0, 0, 0, 0, 0])
        #expect(b[24..<32] == [0x20, 0, 0, 0, 0, 0, 0, 0])
        #expect(try VFIODeviceMigrationInfoV1(decoding: b) == info)
    }

    @Test("short buffers are refused")
    func shortBuffers() {
        #expect(throws: VFIOLayoutError.self) { try VFIOPrecopyInfo(decoding: [UInt8](repeating: 0, count: 23)) }
        #expect(throws: VFIOLayoutError.self) { try VFIOFeatureMigState(decoding: [1, 0, 0, 0]) }
        #expect(throws: VFIOLayoutError.self) { try VFIORegionInfo(decoding: []) }
        #expect(throws: VFIOLayoutError.self) { try VFIODeviceFeature(decoding: [8, 0, 0]) }
    }
}

@Suite("LinuxBackend: errno mapping")
struct LinuxBackendErrnoTests {
    @Test("the C library's numbers carry the uAPI's names")
    func names() {
        let pairs: [(Int32, String)] = [
            (EPERM, "EPERM"), (ENOENT, "ENOENT"), (EINTR, "EINTR"), (EIO, "EIO"), (ENXIO, "ENXIO"), (E2BIG, "E2BIG"),
            (EBADF, "EBADF"), (EAGAIN, "EAGAIN"), (ENOMEM, "ENOMEM"), (EACCES, "EACCES"), (EFAULT, "EFAULT"),
            (EBUSY, "EBUSY"), (ENODEV, "ENODEV"), (EINVAL, "EINVAL"), (ENOTTY, "ENOTTY"), (EFBIG, "EFBIG"),
            (ENOSPC, "ENOSPC"), (ESPIPE, "ESPIPE"), (ENOMSG, "ENOMSG"), (ENODATA, "ENODATA"),
            (EOVERFLOW, "EOVERFLOW"), (EOPNOTSUPP, "EOPNOTSUPP"), (ETIMEDOUT, "ETIMEDOUT"),
        ]
        for (number, name) in pairs {
            #expect(Errno(rawValue: number).name == name)
            #expect(Errno(name: name)?.rawValue == number)
        }
        #expect(Errno(rawValue: 999).name == "E999")
    }

    @Test("a failed call answers the errno the kernel set")
    func systemCallErrno() {
        #expect(Sys.open("/nonexistent/migconform", Sys.readWrite).errno == .ENOENT)
        #expect(Sys.ioctl(-1, VFIOIoctl.deviceReset).errno == .EBADF)
    }
}

@Suite("LinuxBackend: v1 region backend on a file stand-in")
struct LinuxBackendRegionV1Tests {
    private func makeRegion() throws -> (String, String) {
        let dir = try tempFolder("v1")
        let path = dir + "/region"
        var bytes = VFIODeviceMigrationInfoV1(
            deviceState: RegionV1.running | 0x100, pendingBytes: 0x1234,
            dataOffset: 4096, dataSize: 0
        ).encoded()
        bytes += [UInt8](repeating: 0, count: 4096 - bytes.count)
        bytes += Array("device state bytes".utf8) + [UInt8](repeating: 0, count: 64)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return (dir, path)
    }

    @Test("register reads and writes at native width, little-endian, at the field offsets")
    func registers() throws {
        let (dir, path) = try makeRegion()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let device = try VFIORegionV1Device.standIn(path: path)
        #expect(device.generation == .v1)
        #expect(try device.perform(.regionRead(offset: RegionV1.deviceState, width: 4)) == .value(0x101))
        #expect(try device.perform(.regionRead(offset: RegionV1.pendingBytes, width: 8)) == .value(0x1234))
        #expect(try device.perform(.regionRead(offset: RegionV1.dataOffset, width: 8)) == .value(4096))
        // read-modify-write of device_state keeps the reserved bits
        #expect(try device.perform(.regionWrite(offset: RegionV1.deviceState, width: 4, value: 0x100 | 0x2)) == .done)
        #expect(try device.perform(.regionWrite(offset: RegionV1.dataSize, width: 8, value: 0x0102_0304)) == .done)
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(file[0..<4] == [0x02, 0x01, 0, 0])
        #expect(file[24..<32] == [4, 3, 2, 1, 0, 0, 0, 0])
        #expect(try device.perform(.regionRead(offset: RegionV1.deviceState, width: 4)) == .value(0x102))
        // widths outside 1...8 are refused without a call
        #expect(try device.perform(.regionRead(offset: 0, width: 16)) == .failed(.EINVAL))
        // a read past the end of the file is short: EIO
        #expect(try device.perform(.regionRead(offset: 1 << 20, width: 4)) == .failed(.EIO))
        // a file has no region info: whether a kernel would let it be mmapped cannot be told
        #expect(try device.perform(.regionInfo) == .failed(.ENOSYS))
        device.shutdown()
    }

    @Test("data section reads and writes; device-fd requests fail as a file answers; v2 requests are refused")
    func dataAndOthers() throws {
        let (dir, path) = try makeRegion()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let device = try VFIORegionV1Device.standIn(path: path)
        #expect(try device.perform(.dataRead(offset: 4096, count: 12)) == .bytes(Array("device state".utf8)))
        #expect(try device.perform(.dataWrite(offset: 4096 + 100, bytes: [1, 2, 3])) == .value(3))
        #expect(try device.perform(.dataRead(offset: 4096 + 100, count: 3)) == .bytes([1, 2, 3]))
        #expect(try device.perform(.reset) == .failed(.ENOTTY))
        #expect(try device.perform(.disableInterrupts(index: 0)) == .failed(.ENOTTY))
        #expect(try device.perform(.configRead(offset: 0, width: 4)) == .failed(.ENOTTY))
        #expect(throws: TransportError.self) { try device.perform(.getState) }
        #expect(throws: TransportError.self) { try device.perform(.setState(1)) }
        device.shutdown()
        #expect(throws: TransportError.self) { try device.perform(.regionRead(offset: 0, width: 4)) }
    }

    @Test("a region window at a nonzero offset adds the region offset")
    func windowOffset() throws {
        let (dir, path) = try makeRegion()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard case .success(let fd) = Sys.open(path, Sys.readWrite) else {
            Issue.record("open")
            return
        }
        defer { _ = Sys.close(fd) }
        let window = VFIORegionWindow(fd: fd, regionOffset: 4096, regionSize: 64)
        #expect(window.read(at: 0, width: 4).errno == nil)
        if case .success(let v) = window.read(at: 0, width: 2) { #expect(v == 0x6564) } // "de"
        #expect(window.read(at: UInt64.max, width: 4).errno == .EINVAL)
    }

    @Test("a missing stand-in file is an open error naming the path")
    func missing() {
        #expect {
            _ = try VFIORegionV1Device.standIn(path: "/nonexistent/region")
        } throws: { error in
            guard let e = error as? VFIOTargetError else { return false }
            return e.errno == .ENOENT && e.description.contains("/nonexistent/region")
        }
    }
}

@Suite("LinuxBackend: v2 device without a kernel")
struct LinuxBackendV2DeviceTests {
    @Test("requests reach the fd (a file answers ENOTTY); unknown data fds are refused without a call")
    func onAFile() throws {
        let dir = try tempFolder("v2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/dev", contents: Data())
        guard case .success(let fd) = Sys.open(dir + "/dev", Sys.readWrite) else {
            Issue.record("open")
            return
        }
        let device = VFIODevice(
            file: VFIODeviceFile(fd: fd, name: "file", path: dir + "/dev"),
            identity: DeviceIdentity(targetKind: "vfio", driver: "file", detail: "a file"))
        #expect(device.generation == .v2)
        #expect(try device.perform(.getMigrationFlags) == .failed(.ENOTTY))
        #expect(try device.perform(.setState(1)) == .failed(.ENOTTY))
        #expect(try device.perform(.feature(flags: FeatureRequest.probe | 2, payload: [])) == .failed(.ENOTTY))
        #expect(try device.perform(.reset) == .failed(.ENOTTY))
        // fd numbers the device did not hand out: never touched (0 is this process's standard input)
        #expect(try device.perform(.read(fd: 0, count: 1)) == .failed(.EBADF))
        #expect(try device.perform(.write(fd: 0, bytes: [1])) == .failed(.EBADF))
        #expect(try device.perform(.close(fd: 0)) == .failed(.EBADF))
        #expect(try device.perform(.precopyInfo(fd: 0)) == .failed(.EBADF))
        #expect(device.openDataFDs.isEmpty)
        #expect(throws: TransportError.self) { try device.perform(.regionRead(offset: 0, width: 4)) }
        device.shutdown()
        #expect(device.file.isClosed)
        #expect(throws: TransportError.self) { try device.perform(.getState) }
    }

    @Test("reopen closes the device fd and opens it again through the opener; ENOSYS without one")
    func reopen() throws {
        let dir = try tempFolder("reopen")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/dev", contents: Data())
        guard case .success(let fd) = Sys.open(dir + "/dev", Sys.readWrite) else {
            Issue.record("open")
            return
        }
        let file = VFIODeviceFile(fd: fd, name: "file", path: dir + "/dev")
        let device = VFIODevice(
            file: file,
            identity: DeviceIdentity(targetKind: "vfio", driver: "file", detail: "a file"))
        #expect(try device.perform(.reopen) == .failed(.ENOSYS))
        #expect(file.fd == fd)
        var opened = 0
        file.opener = {
            opened += 1
            return Sys.open(dir + "/dev", Sys.readWrite)
        }
        #expect(try device.perform(.reopen) == .done)
        #expect(opened == 1 && file.fd >= 0)
        #expect(try device.perform(.reset) == .failed(.ENOTTY)) // the new fd is the one requests reach
        file.opener = { .failure(.EBUSY) }
        #expect(try device.perform(.reopen) == .failed(.EBUSY))
        #expect(file.fd == -1)
        #expect(try device.perform(.reset) == .failed(.EBADF))
        device.shutdown()
    }
}

@Suite("LinuxBackend: target paths")
struct LinuxBackendTargetTests {
    @Test("group and cdev paths parse")
    func good() throws {
        #expect(
            try VFIOTargetPath.parse("/dev/vfio/12/0000:3b:00.1")
                == .group(groupPath: "/dev/vfio/12", group: "12", deviceName: "0000:3b:00.1"))
        #expect(
            try VFIOTargetPath.parse("vfio:/dev/vfio/0/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001").deviceName
                == "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001")
        #expect(
            try VFIOTargetPath.parse("/dev/vfio/noiommu-3/0000:00:04.0")
                == .group(groupPath: "/dev/vfio/noiommu-3", group: "noiommu-3", deviceName: "0000:00:04.0"))
        #expect(
            try VFIOTargetPath.parse("/dev/vfio/devices/vfio4")
                == .cdev(
                    path: "/dev/vfio/devices/vfio4",
                    name: "vfio4"))
        #expect(try VFIOTargetPath.parse("/tmp/d/vfio/7/x", devRoot: "/tmp/d").uriPath == "/tmp/d/vfio/7/x")
    }

    @Test(
        "bad paths say what is wrong and what is expected",
        arguments: [
            ("", "empty"), ("/dev/vfio", "not under"), ("/sys/bus/pci/devices/0000:3b:00.1", "not under"),
            ("/dev/vfio/12", "names a group"), ("/dev/vfio/12/", "names a group"),
            ("/dev/vfio/abc/dev", "not an IOMMU group"),
            ("/dev/vfio/devices/foo", "vfio<N>"), ("/dev/vfio/devices/vfio1/x", "vfio<N>"), ("/dev/vfio/1/a/b", "'/'"),
        ])
    func bad(path: String, fragment: String) {
        #expect {
            _ = try VFIOTargetPath.parse(path)
        } throws: { error in
            guard let e = error as? VFIOTargetError else { return false }
            return e.step == "parse the target" && e.description.contains(fragment) && e.hint != nil
        }
    }

    @Test("a group path without VFIO names the container step and suggests loading the module")
    func noVFIO() throws {
        let dir = try tempFolder("novfio")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/dev", withIntermediateDirectories: true)
        #expect {
            _ = try VFIOTarget.open(dir + "/dev/vfio/12/0000:3b:00.1", sysfsRoot: dir + "/sys", devRoot: dir + "/dev")
        } throws: { error in
            guard let e = error as? VFIOTargetError else { return false }
            return e.errno == .ENOENT && e.step.contains("container") && (e.hint ?? "").contains("modprobe")
                && e.description.contains("0000:3b:00.1")
        }
    }

    @Test("the migration flags print by name")
    func flagNames() {
        #expect(VFIOSysfs.describe(flags: 7) == "0x7 (STOP_COPY|P2P|PRE_COPY)")
        #expect(VFIOSysfs.describe(flags: 0x11) == "0x11 (STOP_COPY|0x10)")
        #expect(VFIOSysfs.describe(flags: 0) == "0x0 (none)")
        #expect(VFIOSysfs.describe(deviceFlags: 0x83) == "0x83 (RESET|PCI|CAPS)")
        #expect(VFIOSysfs.describe(deviceFlags: 0x2) == "0x2 (PCI)")
    }
}

@Suite("LinuxBackend: inventory on a fake sysfs")
struct LinuxBackendInventoryTests {
    private func fakeHost() throws -> String {
        let root = try tempFolder("inventory")
        let sys = root + "/sys"
        let dev = root + "/dev"
        // a VF bound to a variant driver, in group 12
        let vf = sys + "/bus/pci/devices/0000:3b:00.1"
        try link(vf + "/driver", to: "../../../../bus/pci/drivers/mlx5_vfio_pci")
        try link(vf + "/iommu_group", to: "../../../../kernel/iommu_groups/12")
        try write("0x15b3\n", to: vf + "/vendor")
        try write("0x101e\n", to: vf + "/device")
        // a NIC on its normal driver: not listed
        let nic = sys + "/bus/pci/devices/0000:00:19.0"
        try link(nic + "/driver", to: "../../../../bus/pci/drivers/e1000e")
        try write("0x8086\n", to: nic + "/vendor")
        // an unbound device: not listed
        try write("0x8086\n", to: sys + "/bus/pci/devices/0000:00:1f.0/vendor")
        // an mtty mdev in group 0
        let mdev = sys + "/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
        try link(mdev + "/driver", to: "../../../bus/mdev/drivers/mtty")
        try link(mdev + "/iommu_group", to: "../../../kernel/iommu_groups/0")
        try write("Dual port serial\n", to: sys + "/types/mtty-2/name")
        try link(mdev + "/mdev_type", to: sys + "/types/mtty-2")
        try write("", to: sys + "/module/vfio/refcnt")
        for f in ["vfio/vfio", "vfio/12", "vfio/0"] { try write("", to: dev + "/" + f) }
        return root
    }

    @Test("lists VFIO-bound PCI devices and mdevs with group, target and identity")
    func listing() throws {
        let root = try fakeHost()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let inventory = VFIOInventory.scan(sysfsRoot: root + "/sys", devRoot: root + "/dev", openDevices: false)
        #expect(inventory.problem == nil)
        #expect(inventory.entries.map(\.name) == ["0000:3b:00.1", "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"])
        let vf = inventory.entries[0]
        #expect(vf.bus == "pci" && vf.driver == "mlx5_vfio_pci" && vf.group == "12")
        #expect(vf.target == "vfio:\(root)/dev/vfio/12/0000:3b:00.1")
        #expect(vf.identity.targetKind == "vfio" && vf.identity.driver == "mlx5_vfio_pci")
        #expect(vf.identity.extra["pciVendor"] == "0x15b3" && vf.identity.extra["pciDevice"] == "0x101e")
        #expect(vf.identity.detail == "PCI 15b3:101e at 0000:3b:00.1")
        #expect(vf.migration == "not asked" && vf.generation == nil)
        let m = inventory.entries[1]
        #expect(m.bus == "mdev" && m.driver == "mtty" && m.group == "0")
        #expect(m.identity.extra["mdevType"] == "mtty-2")
        #expect(m.identity.detail.contains("mtty-2 (Dual port serial)"))
        #expect(inventory.migratable.isEmpty)
    }

    @Test("no /dev/vfio and no module: a problem with the fix")
    func noVFIO() throws {
        let root = try tempFolder("bare")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let inventory = VFIOInventory.scan(sysfsRoot: root + "/sys", devRoot: root + "/dev")
        #expect(inventory.entries.isEmpty)
        #expect(inventory.problem?.contains("not loaded") == true)
        #expect(inventory.problem?.contains("modprobe vfio-pci") == true)
    }

    @Test("VFIO loaded but nothing bound: a note, not a problem")
    func nothingBound() throws {
        let root = try tempFolder("empty")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write("", to: root + "/dev/vfio/vfio")
        try write("", to: root + "/sys/module/vfio/refcnt")
        let inventory = VFIOInventory.scan(sysfsRoot: root + "/sys", devRoot: root + "/dev", openDevices: false)
        #expect(inventory.problem == nil)
        #expect(inventory.notes.contains { $0.contains("driver_override") })
    }

    @Test("the inventory encodes as JSON")
    func json() throws {
        let root = try fakeHost()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let inventory = VFIOInventory.scan(sysfsRoot: root + "/sys", devRoot: root + "/dev", openDevices: false)
        let data = try JSONEncoder().encode(inventory)
        #expect(try JSONDecoder().decode(VFIOInventory.Inventory.self, from: data) == inventory)
    }
}

@Suite("LinuxBackend: kernel health")
struct LinuxBackendKernelHealthTests {
    private let older = """
        6,100,5000000,-;vfio-pci 0000:3b:00.1: enabling device
         SUBSYSTEM=pci
        4,101,5000100,-;mtty: loading out-of-tree module taints kernel.
        4,102,5000200,-;WARNING: CPU: 0 PID: 1 at old/place.c:1 old_warning+0x1/0x2

        """
    private let newer = """
        4,103,6000000,-;WARNING: CPU: 0 PID: 77 at drivers/vfio/vfio_main.c:1 vfio_mig_get_next_state+0x5/0x10
        3,104,6000100,-;watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [migconform:77]
        6,105,6000200,-;a DEBUG line that is fine
        1,106,6000300,-;Oops: general protection fault, probably for non-canonical address

        """

    @Test("trouble records after the earlier snapshot and new taint bits are reported")
    func newProblems() throws {
        let dir = try tempFolder("kmsg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(older, to: dir + "/kmsg")
        try write("4096\n", to: dir + "/tainted")
        let before = KernelHealth.snapshot(kmsgPath: dir + "/kmsg", taintedPath: dir + "/tainted")
        #expect(before.lastPosition == 102 && before.tainted == 4096 && before.limitations.isEmpty)
        #expect(before.problemLines.map(\.position) == [102])

        try write(older + newer, to: dir + "/kmsg")
        try write("20992\n", to: dir + "/tainted") // 4096 | W (512) | L (16384)
        let after = KernelHealth.snapshot(kmsgPath: dir + "/kmsg", taintedPath: dir + "/tainted")
        let problems = after.newProblems(since: before)
        #expect(problems.count == 4)
        #expect(problems[0].contains("W a warning was issued") && problems[0].contains("L soft lockup"))
        #expect(!problems[0].contains("O out-of-tree"))
        #expect(problems[1].contains("vfio_mig_get_next_state"))
        #expect(problems[2].contains("soft lockup"))
        #expect(problems[3].contains("Oops"))
        #expect(after.newProblems(since: after).isEmpty)
    }

    @Test("an unreadable log and taint file are limitations, not problems")
    func unreadable() {
        let health = KernelHealth.snapshot(kmsgPath: "/nonexistent/kmsg", taintedPath: "/nonexistent/tainted")
        #expect(health.logSource == "none" && health.tainted == nil)
        #expect(health.limitations.count == 2)
        #expect(health.limitations.contains { $0.contains("cannot be detected") && $0.contains("ENOENT") })
        #expect(health.newProblems(since: health).isEmpty)
    }

    @Test("record parsing: kmsg and dmesg formats")
    func parsing() {
        let k = KernelHealth.parseKmsg("6,7,100,-;hello; world\n SUBSYSTEM=x\ngarbage\n")
        #expect(k == [KernelHealth.LogLine(position: 7, text: "hello; world")])
        let d = KernelHealth.parseDmesg("[    1.500000] first\n[12345.000001] BUG: second\nnoise\n")
        #expect(d.map(\.position) == [1_500_000, 12_345_000_001])
        #expect(d.map(\.text) == ["first", "BUG: second"])
        #expect(KernelHealth.isProblem("BUG: unable to handle page fault"))
        #expect(!KernelHealth.isProblem("DEBUGFS enabled"))
        // Words only as words; the phrases anywhere.
        #expect(KernelHealth.isProblem("WARNING: CPU: 0 PID: 1 at drivers/vfio/vfio_main.c:42"))
        #expect(KernelHealth.isProblem("------------[ cut here ]------------ WARNING"))
        #expect(!KernelHealth.isProblem("NOWARNINGS here") && !KernelHealth.isProblem("BUGS_ON=1"))
        #expect(!KernelHealth.isProblem("Oopsie") && KernelHealth.isProblem("Oops: 0002 [#1] SMP"))
        #expect(KernelHealth.isProblem("watchdog: BUG: soft lockup - CPU#0 stuck for 22s!"))
        #expect(KernelHealth.isProblem("INFO: task x:1 blocked for more than 120 seconds."))
        #expect(KernelHealth.isProblem("rcu: INFO: rcu_sched detected stalls on CPUs/tasks:"))
        // a rejected candidate does not end the search; a pattern may end the line; non-ASCII neighbours join a word
        #expect(KernelHealth.isProblem("XBUG BUG") && KernelHealth.isProblem("DEBUG_WARNING, WARNING"))
        #expect(KernelHealth.isProblem("watchdog: soft lockup") && KernelHealth.isProblem("Oops"))
        #expect(!KernelHealth.isProblem("éBUG") && !KernelHealth.isProblem("BUGé") && KernelHealth.isProblem("é BUG"))
        #expect(!KernelHealth.isProblem("") && !KernelHealth.isProblem("B") && !KernelHealth.isProblem("soft lockuq"))
        #expect(!KernelHealth.isProblem(""))
        #expect(KernelHealth.describeTaint(0) == "nothing")
    }

    @Test("the real snapshot never crashes, whatever this host allows")
    func realSnapshot() {
        let health = KernelHealth.snapshot()
        #expect(health.logSource == "/dev/kmsg" || health.logSource == "dmesg" || !health.limitations.isEmpty)
    }
}

@Suite("Linux backend: DMA logging and mapping layouts")
struct DMALayoutTests {
    @Test func theStructsHaveTheUAPIOffsets() {
        let control = VFIODMALoggingControl.encode(pageSize: 4096, count: 3, ranges: 0x1122_3344_5566_7788)
        #expect(control.count == 24)
        #expect(LE.get64(control, at: 0) == 4096)
        #expect(LE.get32(control, at: 8) == 3)
        #expect(LE.get32(control, at: 12) == 0)
        #expect(LE.get64(control, at: 16) == 0x1122_3344_5566_7788)
        let ranges = VFIODMALoggingControl.encode([
            DMARange(iova: 1 << 32, length: 1 << 21), DMARange(iova: 7, length: 9),
        ])
        #expect(ranges.count == 32)
        #expect(LE.get64(ranges, at: 16) == 7 && LE.get64(ranges, at: 24) == 9)
        let report = VFIODMALoggingReport.encode(iova: 1, length: 2, pageSize: 3, bitmap: 4)
        #expect(report.count == 32)
        #expect([0, 8, 16, 24].map { LE.get64(report, at: $0) } == [1, 2, 3, 4])
        let map = VFIODMAMap.encode(vaddr: 0xaaaa_0000, iova: 1 << 32, length: 2 << 20)
        #expect(LE.get32(map, at: 0) == 32 && LE.get32(map, at: 4) == 3)
        #expect([8, 16, 24].map { LE.get64(map, at: $0) } == [0xaaaa_0000, 1 << 32, 2 << 20])
        // VFIO_IOMMU_MAP_DMA is _IO(';', 100 + 13).
        #expect(VFIOIoctl.iommuMapDMA == 0x3B71)
    }
}

@Suite("Linux backend: driver reach from tracefs text")
struct DriverReachTests {
    @Test func theModulesFunctionsAndTheOnesEntered() {
        let listing = """
            vfio_device_fops_read [vfio]
            mtty_probe [mtty]
            mtty_set_state [mtty]
            mtty_read [mtty]
            mtty_read [mtty]
            printk
            """
        #expect(DriverReach.functions(of: "mtty", in: listing) == ["mtty_probe", "mtty_set_state", "mtty_read"])
        let trace = """
            # tracer: function
            #
            #           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
            #              | |         |   |||||     |         |
              migconform-81      [000] .....    12.345678: mtty_set_state <-vfio_ioctl_device_feature_mig_device_state
              migconform-81      [000] .....    12.345699: mtty_read <-vfio_device_fops_read
            """
        #expect(DriverReach.entered(in: trace) == ["mtty_set_state", "mtty_read"])
    }

    /// A folder posing as tracefs: its files are plain files, so the `:mod:` filter reads back as written (as a
    /// kernel reads back a filter no loaded function matches) and the functions come from the listing.
    private func fakeTracefs(listing: String, modules: [String]) throws -> (tracefs: String, modules: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tracefs-\(UUID().uuidString)").path
        let tracefs = root + "/tracing"
        try FileManager.default.createDirectory(atPath: tracefs, withIntermediateDirectories: true)
        for m in modules {
            try FileManager.default.createDirectory(atPath: root + "/module/" + m, withIntermediateDirectories: true)
        }
        let files = [
            "available_filter_functions": listing, "tracing_on": "1\n", "current_tracer": "function\n",
            "set_ftrace_filter": "someone_elses_filter\n", "trace": "an old trace\n",
        ]
        for (name, text) in files { try text.write(toFile: tracefs + "/" + name, atomically: false, encoding: .utf8) }
        return (tracefs, root + "/module")
    }

    private func contents(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "?" }

    @Test func startSetsTheFilterAndTheTracerAndFinishLeavesTracefsCleared() throws {
        let listing = "vfio_device_fops_read [vfio]\nmtty_probe [mtty]\nmtty_read [mtty]\n"
        let fake = try fakeTracefs(listing: listing, modules: ["mtty"])
        defer { try? FileManager.default.removeItem(atPath: (fake.tracefs as NSString).deletingLastPathComponent) }
        guard case .success(let reach) = DriverReach.start(module: "mtty", tracefs: fake.tracefs, modules: fake.modules)
        else {
            Issue.record("tracing did not start")
            return
        }
        #expect(contents(fake.tracefs + "/set_ftrace_filter") == ":mod:mtty\n")
        #expect(contents(fake.tracefs + "/current_tracer") == "function\n")
        #expect(contents(fake.tracefs + "/tracing_on") == "1\n")
        #expect(contents(fake.tracefs + "/trace") == "")
        try "  migconform-81 [000] ..... 12.3: mtty_read <-vfio_device_fops_read\n"
            .write(toFile: fake.tracefs + "/trace", atomically: false, encoding: .utf8)
        let result = reach.finish()
        #expect(result.functions == ["mtty_probe", "mtty_read"])
        #expect(result.reached == ["mtty_read"] && result.notReached == ["mtty_probe"])
        #expect(contents(fake.tracefs + "/set_ftrace_filter") == "")
        #expect(contents(fake.tracefs + "/current_tracer") == "nop\n")
        #expect(contents(fake.tracefs + "/tracing_on") == "0\n")
        #expect(contents(fake.tracefs + "/trace") == "")
    }

    @Test func aModuleNotLoadedLeavesTracefsUntouched() throws {
        let fake = try fakeTracefs(listing: "mtty_probe [mtty]\n", modules: [])
        defer { try? FileManager.default.removeItem(atPath: (fake.tracefs as NSString).deletingLastPathComponent) }
        guard case .failure(let e) = DriverReach.start(module: "mtty", tracefs: fake.tracefs, modules: fake.modules)
        else {
            Issue.record("tracing started for a module that is not loaded")
            return
        }
        #expect(e.description.contains("not loaded"))
        #expect(contents(fake.tracefs + "/set_ftrace_filter") == "someone_elses_filter\n")
        #expect(contents(fake.tracefs + "/current_tracer") == "function\n")
        #expect(contents(fake.tracefs + "/tracing_on") == "1\n")
    }

    @Test func aModuleWithoutTraceableFunctionsSaysWhyAndClearsItsFilter() throws {
        let fake = try fakeTracefs(listing: "vfio_device_fops_read [vfio]\nprintk\n", modules: ["mtty"])
        defer { try? FileManager.default.removeItem(atPath: (fake.tracefs as NSString).deletingLastPathComponent) }
        guard case .failure(let e) = DriverReach.start(module: "mtty", tracefs: fake.tracefs, modules: fake.modules)
        else {
            Issue.record("tracing started without a function of the module")
            return
        }
        #expect(e.description.contains("no traceable function of module mtty") && e.description.contains("vfio"))
        #expect(contents(fake.tracefs + "/set_ftrace_filter") == "")
        #expect(contents(fake.tracefs + "/current_tracer") == "nop\n")
    }

    @Test func withoutTracefsItSaysWhy() {
        guard case .failure(let e) = DriverReach.start(module: "mtty", tracefs: "/nonexistent-tracefs") else {
            Issue.record("tracing started without tracefs")
            return
        }
        #expect(e.description.contains("/nonexistent-tracefs"))
    }
}
