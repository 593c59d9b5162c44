import Foundation
import MigconformDevice

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The kernel's health at one moment: the taint mask (`/proc/sys/kernel/tainted`) and the kernel log records that
/// look like trouble (WARNING, BUG, Oops, soft lockup, hung task, panic), read from `/dev/kmsg` without blocking,
/// or from `dmesg` when `/dev/kmsg` cannot be read. Two snapshots, one before and one after a run (or a case),
/// tell what the run did to the kernel: a driver that WARNs or locks up has failed in a way no errno shows.
///
/// When neither the log nor the taint mask can be read, the snapshot says so in ``limitations`` and
/// ``newProblems(since:)`` can only report what it could see.
package struct KernelHealth: Equatable, Sendable {
    /// One kernel log record: its position (the `/dev/kmsg` sequence number, or the `dmesg` timestamp in
    /// microseconds) and its text.
    package struct LogLine: Equatable, Sendable {
        package var position: UInt64
        package var text: String
        package init(position: UInt64, text: String) {
            self.position = position
            self.text = text
        }
    }

    /// The taint mask, when readable.
    package var tainted: UInt64?
    /// Where the log came from: `/dev/kmsg` (or the path given), `dmesg`, or `none`.
    package var logSource: String
    /// The position of the newest record seen (nil when the log was unreadable or empty).
    package var lastPosition: UInt64?
    /// The records that look like trouble (the newest 500 at most).
    package var problemLines: [LogLine]
    /// What could not be read, in words.
    package var limitations: [String]

    package init(
        tainted: UInt64?, logSource: String, lastPosition: UInt64?, problemLines: [LogLine],
        limitations: [String] = []
    ) {
        self.tainted = tainted
        self.logSource = logSource
        self.lastPosition = lastPosition
        self.problemLines = problemLines
        self.limitations = limitations
    }

    /// Reads the taint mask and the kernel log now.
    package static func snapshot() -> KernelHealth {
        snapshot(kmsgPath: "/dev/kmsg", taintedPath: "/proc/sys/kernel/tainted", dmesgFallback: true)
    }

    /// ``snapshot()`` from other files: `kmsgPath` may be a regular file in `/dev/kmsg` record format
    /// (`prio,seq,usec,flags;text`, continuation lines starting with a space).
    package static func snapshot(kmsgPath: String, taintedPath: String, dmesgFallback: Bool = false) -> KernelHealth {
        var limitations: [String] = []
        var tainted: UInt64?
        if let text = VFIOSysfs.text(taintedPath), let v = UInt64(text) {
            tainted = v
        } else {
            limitations.append("\(taintedPath) is unreadable: taint changes cannot be detected")
        }

        switch readKmsg(kmsgPath) {
        case .success(let records):
            return KernelHealth(
                tainted: tainted, logSource: kmsgPath, lastPosition: records.last?.position,
                problemLines: Array(records.filter { isProblem($0.text) }.suffix(500)),
                limitations: limitations)
        case .failure(let e):
            let why = "\(kmsgPath) is unreadable (\(e.name))"
            if dmesgFallback, let records = readDmesg() {
                limitations.append(why + "; read the log with dmesg instead")
                return KernelHealth(
                    tainted: tainted, logSource: "dmesg", lastPosition: records.last?.position,
                    problemLines: Array(records.filter { isProblem($0.text) }.suffix(500)),
                    limitations: limitations)
            }
            limitations.append(
                why + (dmesgFallback ? " and dmesg failed" : "")
                    + ": new kernel warnings cannot be detected")
            return KernelHealth(
                tainted: tainted, logSource: "none", lastPosition: nil, problemLines: [],
                limitations: limitations)
        }
    }

    /// What went wrong in the kernel between `earlier` and this snapshot: new taint bits, and trouble records
    /// logged after `earlier`'s newest record. Empty when nothing new was seen (see ``limitations`` for what
    /// could not be seen).
    package func newProblems(since earlier: KernelHealth) -> [String] {
        var problems: [String] = []
        if let now = tainted, let before = earlier.tainted, now & ~before != 0 {
            problems.append(
                "kernel taint changed from \(before) to \(now): newly set "
                    + KernelHealth.describeTaint(now & ~before))
        }
        if logSource == earlier.logSource, logSource != "none" {
            let after = earlier.lastPosition
            for line in problemLines where after == nil || line.position > after! {
                problems.append("kernel log: " + line.text)
            }
        }
        return problems
    }

    /// Whether a kernel log line reports trouble: `WARNING`, `BUG` or `Oops` as words, or one of the phrases of a
    /// lockup, a stall, a panic or a protection fault. One pass over the line's bytes, no `Regex` and no
    /// substring search per pattern: every line of the kernel log is tested at the start and at the end of a
    /// run, and a slow guest feels each instruction. Patterns are matched as bytes (a phrase followed by a
    /// combining mark still matches); a word's neighbours are letters, digits, `_` or any non-ASCII byte.
    package static func isProblem(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { line in
            guard let base = line.baseAddress else { return false }
            for i in 0..<line.count where startsPattern[Int(base[i])] {
                for p in problemPatterns where p.bytes[0] == base[i] {
                    guard i + p.bytes.count <= line.count,
                        memcmp(base + i, p.bytes, p.bytes.count) == 0
                    else { continue }
                    if !p.word { return true }
                    let before = i == 0 || !isWordByte(base[i - 1])
                    let after = i + p.bytes.count == line.count || !isWordByte(base[i + p.bytes.count])
                    if before && after { return true }
                }
            }
            return false
        }
    }

    /// What ``isProblem(_:)`` looks for; a `word` stands alone (no letter, digit or underscore beside it, a
    /// regex's `\bword\b`).
    private static let problemPatterns: [(bytes: [UInt8], word: Bool)] =
        ["WARNING", "BUG", "Oops"].map { (Array($0.utf8), true) }
        + [
            "soft lockup", "hard LOCKUP", "blocked for more than", "Kernel panic", "general protection fault",
            "RCU stall", "rcu_sched detected stalls",
        ].map { (Array($0.utf8), false) }
    /// The bytes a pattern begins with: only there is a match tried.
    private static let startsPattern: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for p in problemPatterns { table[Int(p.bytes[0])] = true }
        return table
    }()

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
    }

    /// The letters of the taint bits (`W` a warning, `D` an oops, `L` a soft lockup, ...), with their meaning.
    package static func describeTaint(_ mask: UInt64) -> String {
        let table: [(Int, String)] = [
            (0, "P proprietary module"), (1, "F module force-loaded"), (2, "S unsafe SMP / out of spec"),
            (3, "R module force-unloaded"), (4, "M machine check"), (5, "B bad page"), (6, "U taint requested by user"),
            (7, "D kernel died (oops or BUG)"), (8, "A ACPI table overridden"), (9, "W a warning was issued"),
            (10, "C staging driver"), (11, "I firmware workaround"), (12, "O out-of-tree module"),
            (13, "E unsigned module"), (14, "L soft lockup"), (15, "K live-patched"), (16, "X auxiliary"),
            (17, "T structural randomization"), (18, "N in-kernel test"), (19, "J fwctl"),
        ]
        var parts: [String] = []
        for (bit, name) in table where mask & (1 << UInt64(bit)) != 0 { parts.append(name) }
        let known = table.reduce(UInt64(0)) { $0 | (1 << UInt64($1.0)) }
        if mask & ~known != 0 { parts.append("bits 0x" + String(mask & ~known, radix: 16)) }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }

    /// Parses `/dev/kmsg` records (one per line; continuation lines start with a space and are skipped).
    package static func parseKmsg(_ text: String) -> [LogLine] {
        var lines: [LogLine] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard !raw.hasPrefix(" "), let semi = raw.firstIndex(of: ";") else { continue }
            let fields = raw[..<semi].split(separator: ",")
            guard fields.count >= 2, let seq = UInt64(fields[1]) else { continue }
            lines.append(LogLine(position: seq, text: String(raw[raw.index(after: semi)...])))
        }
        return lines
    }

    /// Parses `dmesg` output (`[   12.345678] text`): the position is the timestamp in microseconds.
    package static func parseDmesg(_ text: String) -> [LogLine] {
        var lines: [LogLine] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard raw.hasPrefix("["), let close = raw.firstIndex(of: "]") else { continue }
            let stamp = raw[raw.index(after: raw.startIndex)..<close].trimmingCharacters(in: .whitespaces)
            guard let seconds = Double(stamp) else { continue }
            let body = raw[raw.index(after: close)...].drop(while: { $0 == " " })
            lines.append(LogLine(position: UInt64(seconds * 1_000_000), text: String(body)))
        }
        return lines
    }

    private static func readKmsg(_ path: String) -> VFIOResult<[LogLine]> {
        let fd: Int32
        switch Sys.open(path, O_RDONLY | O_NONBLOCK) {
        case .success(let f): fd = f
        case .failure(let e): return .failure(e)
        }
        defer { _ = Sys.close(fd) }
        var bytes: [UInt8] = []
        // One buffer for every read: /dev/kmsg answers a record a read, hundreds of them.
        var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 16)
        defer { scratch.deallocate() }
        // /dev/kmsg answers one record per read, EAGAIN at the end; a regular file answers chunks, then 0.
        readLoop: while bytes.count < 16 << 20 {
            switch Sys.read(fd, count: 16384, scratch: &scratch) {
            case .success(let chunk):
                if chunk.isEmpty { break readLoop }
                bytes += chunk
            case .failure(let e):
                if e == .EAGAIN { break readLoop }
                if e.rawValue == EPIPE { continue } // records overwritten while reading: go on
                if e == .EINTR { continue }
                if bytes.isEmpty { return .failure(e) }
                break readLoop
            }
        }
        return .success(parseKmsg(String(decoding: bytes, as: UTF8.self)))
    }

    private static func readDmesg() -> [LogLine]? {
        #if os(Linux)
            for candidate in ["/usr/bin/dmesg", "/bin/dmesg"]
            where FileManager.default.isExecutableFile(atPath: candidate) {
                guard let r = try? ChildProcess.run(candidate, [], stdout: .capture, stderr: .null, timeout: 30),
                    r.termination.exitStatus == 0
                else { continue }
                let data = r.output
                return parseDmesg(String(decoding: data, as: UTF8.self))
            }
        #endif
        return nil
    }
}
