// The lab probe: a small program for the mtty lab guest that exercises the Linux backend (MigconformLinux) on a
// real kernel device without the runner: inventory, open, a save -> resume round trip, a rejected request, a
// reset, and the kernel's health before and after. It writes report.json and report.md into the output folder.
//
//   labprobe vfio:/dev/vfio/<group>/<uuid> <out-dir>
//
// The lab builds it with swiftc against the MigconformDevice and MigconformLinux sources (Tests/Lab/mtty-lab.sh);
// it is a stand-in until `migconform run` is available in the guest, and a quick check of the backend after.

import Foundation
import MigconformDevice
import MigconformLinux

struct Step: Codable {
    var operation: String
    var outcome: String
    var micros: UInt64
}

struct ProbeReport: Codable {
    var target: String
    var identity: DeviceIdentity?
    var generation: String?
    var openError: String?
    var inventory: [VFIOInventory.Entry]
    var inventoryProblem: String?
    var steps: [Step]
    var checks: [String: Bool]
    var kernelProblems: [String]
    var kernelLimitations: [String]
}

func describe(_ outcome: DeviceOutcome) -> String {
    switch outcome {
    case .done: return "done"
    case .value(let v): return "value \(v) (0x\(String(v, radix: 16)))"
    case .state(let s, let fd): return "state \(MigrationState(rawValue: s)) data_fd \(fd)"
    case .bytes(let b): return "\(b.count) bytes"
    case .precopy(let i, let d): return "precopy initial \(i) dirty \(d)"
    case .failed(let e): return "failed \(e.name)"
    }
}

@main
struct LabProbe {
    static func main() throws {
        let args = CommandLine.arguments
        guard args.count == 3 else {
            FileHandle.standardError.write(
                "usage: labprobe vfio:/dev/vfio/<group>/<device> <out-dir>\n".data(using: .utf8)!)
            exit(2)
        }
        let target = args[1]
        let out = args[2]
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let before = KernelHealth.snapshot()
        let inventory = VFIOInventory.scan(openDevices: true)
        var report = ProbeReport(
            target: target, identity: nil, generation: nil, openError: nil,
            inventory: inventory.entries, inventoryProblem: inventory.problem, steps: [],
            checks: [:], kernelProblems: [], kernelLimitations: before.limitations)
        var ok = true
        do {
            let device = try VFIOTarget.open(String(target.dropFirst("vfio:".count)))
            report.identity = device.identity
            report.generation = device.generation.rawValue
            func op(_ o: DeviceOperation) -> DeviceOutcome {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let r = (try? device.perform(o)) ?? .failed(Errno(rawValue: -1))
                report.steps.append(
                    Step(
                        operation: "\(o.kind) \(argsOf(o))", outcome: describe(r),
                        micros: (DispatchTime.now().uptimeNanoseconds - t0) / 1000))
                print("probe: \(o.kind) \(argsOf(o)) -> \(describe(r))")
                return r
            }
            func check(_ name: String, _ pass: Bool) {
                report.checks[name] = pass
                print("probe: check \(name): \(pass ? "ok" : "FAILED")")
                if !pass { ok = false }
            }
            func readAll(_ fd: Int32, stopOnENOMSG: Bool) -> [UInt8] {
                var stream: [UInt8] = []
                for _ in 0..<10_000 {
                    switch op(.read(fd: fd, count: 4096)) {
                    case .bytes(let b) where !b.isEmpty: stream += b
                    default: return stream
                    }
                }
                return stream
            }
            if case .value(let flags) = op(.getMigrationFlags) { check("flags include STOP_COPY", flags & 1 != 0) }
            check("starts RUNNING", op(.getState) == .state(MigrationState.running.rawValue, dataFD: -1))
            _ = op(.getDataSize)
            _ = op(.configRead(offset: 0, width: 4))
            check("ERROR is rejected", op(.setState(MigrationState.error.rawValue)).errno != nil)
            check("still RUNNING", op(.getState) == .state(MigrationState.running.rawValue, dataFD: -1))
            // save: RUNNING -> PRE_COPY -> STOP_COPY
            var saved: [UInt8] = []
            if case .state(_, let fd) = op(.setState(MigrationState.preCopy.rawValue)), fd >= 0 {
                _ = op(.precopyInfo(fd: fd))
                saved += readAll(fd, stopOnENOMSG: true)
                _ = op(.precopyInfo(fd: fd))
                check(
                    "PRE_COPY -> STOP_COPY keeps the fd",
                    op(.setState(MigrationState.stopCopy.rawValue)) == .state(3, dataFD: -1))
                saved += readAll(fd, stopOnENOMSG: false)
                check("read after end of stream is EOF", op(.read(fd: fd, count: 16)) == .bytes([]))
                _ = op(.close(fd: fd))
            } else {
                check("RUNNING -> PRE_COPY opens a session", false)
            }
            check("STOP_COPY -> STOP", op(.setState(MigrationState.stop.rawValue)) == .state(1, dataFD: -1))
            // resume the saved stream
            if case .state(_, let fd) = op(.setState(MigrationState.resuming.rawValue)), fd >= 0 {
                var at = 0
                while at < saved.count {
                    let chunk = Array(saved[at..<min(at + 7, saved.count)]) // odd segmentation on purpose
                    guard case .value(let n) = op(.write(fd: fd, bytes: chunk)), n > 0 else { break }
                    at += Int(n)
                }
                check("resume stream accepted", op(.setState(MigrationState.stop.rawValue)) == .state(1, dataFD: -1))
                _ = op(.close(fd: fd))
            } else {
                check("STOP -> RESUMING opens a session", false)
            }
            check("back to RUNNING", op(.setState(MigrationState.running.rawValue)).succeeded)
            _ = op(.disableInterrupts(index: 0))
            check("reset succeeds", op(.reset) == .done)
            check("RUNNING after reset", op(.getState) == .state(MigrationState.running.rawValue, dataFD: -1))
            check("stale fd refused", op(.read(fd: 1234, count: 1)) == .failed(.EBADF))
            device.shutdown()
        } catch {
            report.openError = "\(error)"
            print("probe: open failed: \(error)")
            ok = false
        }
        let after = KernelHealth.snapshot()
        report.kernelProblems = after.newProblems(since: before)
        report.kernelLimitations = after.limitations
        for p in report.kernelProblems { print("probe: kernel: \(p)") }

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: out + "/report.json"))
        var md = "# Lab probe: \(target)\n\n"
        md +=
            "- identity: \(report.identity.map { "\($0.driver), \($0.detail), kernel \($0.kernelRelease ?? "?")" } ?? "-")\n"
        md += "- generation: \(report.generation ?? "-")\n"
        if let e = report.openError { md += "- open error: \(e)\n" }
        md +=
            "- inventory: \(report.inventory.map { "\($0.name) \($0.driver) \($0.migration)" }.joined(separator: "; "))\n"
        md +=
            "- kernel problems: \(report.kernelProblems.isEmpty ? "none" : report.kernelProblems.joined(separator: " | "))\n\n"
        md += "| check | result |\n|---|---|\n"
        for (k, v) in report.checks.sorted(by: { $0.key < $1.key }) { md += "| \(k) | \(v ? "ok" : "FAILED") |\n" }
        md += "\n| # | operation | outcome | µs |\n|---|---|---|---|\n"
        for (i, s) in report.steps.enumerated() { md += "| \(i) | \(s.operation) | \(s.outcome) | \(s.micros) |\n" }
        try md.write(toFile: out + "/report.md", atomically: true, encoding: .utf8)
        exit(ok && report.kernelProblems.isEmpty ? 0 : 1)
    }

    static func argsOf(_ o: DeviceOperation) -> String {
        switch o {
        case .setState(let s): return "\(MigrationState(rawValue: s))"
        case .read(let fd, let n): return "fd \(fd) count \(n)"
        case .write(let fd, let b): return "fd \(fd) \(b.count) bytes"
        case .close(let fd), .precopyInfo(let fd): return "fd \(fd)"
        case .configRead(let off, let w): return "offset \(off) width \(w)"
        case .disableInterrupts(let i): return "index \(i)"
        default: return ""
        }
    }
}
