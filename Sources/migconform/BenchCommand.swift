import Foundation
import MigconformBase
import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformReference
import MigconformReport
import MigconformRun
import MigconformSpec

#if canImport(Glibc)
    import Glibc
#endif

/// `migconform bench`: what the suite itself costs, measured on this machine in one run. Planning time (shipped
/// specs and synthetic machines of growing size), runner overhead per device operation against direct calls to
/// the device object, full-suite wall time per v2 profile, and save/resume round-trip throughput and peak memory
/// for large device states beside a plain copy of the same bytes between two file descriptors.
enum BenchCommand: Command {

    /// The options, in the order the help lists them.
    enum Key {
        static let quick = Flag(
            "--quick",
            help: "Small sizes and few repetitions (seconds, for CI).")
        static let sizes = Option(
            "--sizes", "LIST",
            help:
                "Device state sizes for the round trip and the full runs (default 1GiB,4GiB; --quick: "
                + "64MiB,256MiB).")
        static let dir = Option(
            "--dir", "DIR",
            help: "Folder for spool files and the plain copy, made when missing (default: the temporary folder).")
        static let lab = Option(
            "--lab", "DIR",
            help:
                "A lab run folder (or report.json) whose device/runner split to show (default: the newest "
                + "Reports/lab-mtty-*, else Reports/mtty-6.12)."
        )
        static let child = Option(
            "--child", "KIND",
            help: "(internal) run one measurement in this process and print it as JSON.", hidden: true)
        static let size = Option(
            "--size", "SIZE",
            help: "(internal) the state size of a --child measurement.", hidden: true)
    }

    static let configuration = CommandConfiguration(
        name: "bench",
        abstract: "Measure what the suite costs: planning, runner overhead, suite time, round-trip throughput.",
        usage: "migconform bench [--quick] [--sizes 1GiB,4GiB] [--dir DIR]",
        discussion: "Build with 'swift build -c release' first: a debug build measures the compiler, not the suite. "
            + "Round trips and plain copies each run in a child process of this binary, so that each peak resident "
            + "memory figure (VmHWM) is its own.",
        options: [Key.quick, Key.sizes, Key.dir, Key.lab, Key.child, Key.size])

    static func run(_ a: ParsedArguments) throws -> Int32 {
        let dir = a[Key.dir] ?? FileManager.default.temporaryDirectory.path
        if let child = a[Key.child] {
            guard let text = a[Key.size], let size = parseSize(text) else {
                throw UsageError(message: "--child needs --size")
            }
            return try runChild(child, size: size, dir: dir)
        }
        let quick = a[Key.quick]
        var sizes: [UInt64] = quick ? [64 << 20, 256 << 20] : [1 << 30, 4 << 30]
        if let list = a[Key.sizes] {
            sizes = try list.split(separator: ",").map { s in
                guard let v = parseSize(String(s)) else {
                    throw UsageError(
                        message:
                            "--sizes: '\(s)' is not a size up to \(ByteSize.describe(ByteSize.maxStateSize)) (e.g. "
                            + "512MiB, 4GiB)"
                    )
                }
                return v
            }
        }
        if a[Key.dir] != nil { try makeFolder(dir) }
        #if DEBUG
            Terminal.err(
                "migconform bench: this is a debug build; for real numbers: swift build -c release, then "
                    + ".build/release/migconform bench"
            )
        #endif
        say("migconform bench\(quick ? " --quick" : "") on \(hostSummary())\n")
        lab(a[Key.lab])
        try planning(quick: quick)
        try overhead(quick: quick)
        try suites()
        try hashing(quick: quick)
        try roundTrips(sizes: sizes, dir: dir, repetitions: quick ? 2 : 5)
        try fullRuns(sizes: sizes, dir: dir)
        return ExitCode.ok
    }

    // MARK: - The lab

    /// The device/runner split of a run against a real device: `run.cost` of the newest lab report, or, for a
    /// report written before runs measured themselves, the transcripts' durations beside the run's start and end.
    static func lab(_ given: String?) {
        let fm = FileManager.default
        var path = given
        if path == nil {
            let labs = ((try? fm.contentsOfDirectory(atPath: "Reports")) ?? []).filter { $0.hasPrefix("lab-mtty-") }
                .sorted()
            // A lab folder keeps the run folder in run/ (older ones held its files at the top).
            let candidates = labs.reversed().flatMap { ["Reports/\($0)/run", "Reports/\($0)"] } + ["Reports/mtty-6.12"]
            for candidate in candidates where fm.fileExists(atPath: candidate + "/report.json") {
                path = candidate
                break
            }
        }
        guard let path, let report = try? ReportReader.load(path) else {
            say("Lab: no lab report found (Tests/Lab/mtty-lab.sh writes one; --lab DIR names one)\n")
            return
        }
        var rows: [[String]] = []
        let title = "Lab: \(report.run.target) (\(report.run.device.driver)), \(path)/report.json"
        if let c = report.run.cost {
            func s(_ us: UInt64) -> String { ms(Double(us) / 1e6) }
            rows = [
                ["wall", s(c.wall), ""], ["device (transcripts)", s(c.device), "\(c.operations) ops"],
                ["  inside the calls", s(c.deviceCalls), ""],
                ["  deadline watch", s(c.device - min(c.device, c.deviceCalls)), ""],
                ["journal", s(c.journal), ""], ["planning", s(c.planning), ""],
                ["pauses the rules ask for", c.waits.map(s) ?? "-", ""], ["runner", s(c.runner), ""],
                ["report files (after the run)", c.report.map(s) ?? "-", ""],
            ]
            if let command = c.command {
                rows.append(["setup (before the run)", c.setup.map(s) ?? "-", ""])
                if let t = c.tracing { rows.append(["driver tracing (--trace-module)", s(t), ""]) }
                rows.append(["the whole command", s(command), ""])
            }
            for k in c.byKind.sorted(by: { $0.value.micros > $1.value.micros }).prefix(4) {
                rows.append([
                    "  \(k.key)", s(k.value.micros),
                    "\(k.value.count) x \(us(Double(k.value.micros) / Double(max(k.value.count, 1)) / 1e6))",
                ])
            }
            table(title, ["where", "time", ""], rows)
            let waits = c.waits ?? 0
            let ratio = Double(c.wall) / Double(max(c.device, 1))
            say(
                String(
                    format: "wall / device time: %.2f (target <= 1.25: %@); without the pauses: %.2f\n", ratio,
                    met(ratio <= 1.25), Double(c.wall - min(c.wall, waits)) / Double(max(c.device, 1))))
            if let command = c.command {
                say(
                    String(
                        format: "the whole command / device time: %.2f\n", Double(command) / Double(max(c.device, 1))))
            }
        } else {
            let device = report.cases.reduce(0) { $0 + $1.transcript.reduce(0) { $0 + $1.micros } }
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let wall =
                f.date(from: report.run.ended).flatMap { e in
                    f.date(from: report.run.started).map { e.timeIntervalSince($0) }
                } ?? 0
            table(
                title + " (no run.cost: from the transcripts)", ["where", "time"],
                [["wall", ms(wall)], ["device (transcripts)", ms(Double(device) / 1e6)]])
            say(
                String(
                    format: "wall / device time: %.2f (target <= 1.25: %@)\n",
                    wall / max(Double(device) / 1e6, 1e-9), met(wall / max(Double(device) / 1e6, 1e-9) <= 1.25)))
        }
    }

    // MARK: - Planning

    /// The features of the full v2 profile, as discovery reports them for the reference device.
    static let fullV2: Set<String> = ["stop-copy", "p2p", "pre-copy", "data-size"]

    static func planning(quick: Bool) throws {
        let v2 = try SpecLocation.load(SpecLocation.defaultPath(for: .v2))
        let v1 = try SpecLocation.load(SpecLocation.defaultPath(for: .v1))
        var rows: [[String]] = []
        var machines: [(String, Spec, Set<String>)] = [
            ("\(v2.id) (" + fullV2.sorted().joined(separator: ",") + ")", v2, fullV2), ("\(v1.id)", v1, []),
        ]
        for n in [16, 64, 256] { machines.append(("synthetic, \(n) states", synthetic(states: n, base: v2), fullV2)) }
        for (label, spec, features) in machines {
            let reps = quick ? 1 : (spec.states.count > 100 ? 3 : 5)
            var cases = 0
            var arcs = 0
            var states = 0
            var times: [Double] = []
            for _ in 0..<reps {
                let t = try clock {
                    let m = Machine(spec: spec, features: features)
                    let expanded = Expander.expand(m)
                    let plan = Planner.plan(expanded, machine: m)
                    cases = plan.cases.count
                    arcs = m.arcs.count
                    states = m.settableStates.count
                }
                times.append(t)
            }
            var tourTime: Double?
            if !quick || spec.states.count < 100 {
                tourTime = try clock {
                    let m = Machine(spec: spec, features: features)
                    _ = TourPlanner.plan(Expander.expand(m), machine: m)
                }
            }
            rows.append([label, "\(states)", "\(arcs)", "\(cases)", ms(median(times)), tourTime.map(ms) ?? "-"])
        }
        table(
            "Planning (machine + expand + plan, median; tour: the 'migconform plan' tour with its lower bound, once)",
            ["machine", "states", "arcs", "cases", "expand+plan", "tour"], rows)
    }

    /// A v2-like machine of `n` requestable states: a ring of arcs both ways, one-way chords, some arcs that open
    /// or end a session, and a few forbidden pairs; the rules are the v2 spec's.
    static func synthetic(states n: Int, base: Spec) -> Spec {
        var spec = base
        func name(_ i: Int) -> String { "S\(i % n)" }
        spec.states = (0..<n).map {
            State(
                name: name($0), value: UInt32($0 + 1), kind: .valid, requires: [], group: nil,
                description: "synthetic state \($0)")
        }
        spec.states.append(State(name: "ERROR", value: 0, kind: .error, requires: [], group: nil, description: "error"))
        spec.states.append(
            State(
                name: "NR", value: UInt32(n + 1), kind: .outOfRange, requires: [], group: nil,
                description: "past the end"))
        spec.initialState = name(0)
        var arcs: [Arc] = []
        for i in 0..<n {
            let opens = (i + 1) % 8 == 3
            arcs.append(
                Arc(
                    from: name(i), to: name(i + 1), session: opens ? .opensSave : (i % 8 == 3 ? .ends : .none),
                    requires: [], unless: [], tags: []))
            arcs.append(Arc(from: name(i + 1), to: name(i), session: .none, requires: [], unless: [], tags: []))
            let chord = (i * 5 + 3) % n
            if chord != i && chord != (i + 1) % n && (chord + 1) % n != i {
                arcs.append(Arc(from: name(i), to: name(chord), session: .none, requires: [], unless: [], tags: []))
            }
        }
        spec.arcs = arcs
        spec.paths.forbidden = stride(from: 0, to: n, by: 16).map {
            ForbiddenPair(from: name($0), to: name($0 + 8), requires: [])
        }
        spec.roles = [
            "save": name(3), "pre-copy": name(3), "resume": name(5), "resume-exit": name(1), "error": "ERROR",
        ]
        spec.id = "synthetic-\(n)"
        return spec
    }

    // MARK: - Runner overhead

    /// Passes every request to the device and keeps a copy of it, to replay the same operations directly.
    final class CapturingDevice: MigrationDevice {
        let inner: MigrationDevice
        var operations: [DeviceOperation] = []
        init(_ inner: MigrationDevice) { self.inner = inner }
        var generation: ProtocolGeneration { inner.generation }
        var identity: DeviceIdentity { inner.identity }
        func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
            operations.append(operation)
            return try inner.perform(operation)
        }
    }

    /// Device state sizes the overhead is measured at: the default 4 KiB, where a reference device operation
    /// costs about a tenth of a microsecond (less than any kernel call), and 1 MiB, a small real device's state,
    /// where saves and resumes move data as they do on hardware.
    static let overheadStateSizes: [UInt64] = [4 << 10, 1 << 20, 16 << 20]

    static func overhead(quick: Bool) throws {
        let spec = try SpecLocation.load(SpecLocation.defaultPath(for: .v2))
        let reps = quick ? 3 : 9
        var rows: [[String]] = []
        var ratios: [String] = []
        var write: Double = 0
        var overheads: [(String, Double)] = []
        var pathOverheads: [(String, Double)] = []
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        for size in overheadStateSizes {
            let configuration = ReferenceDeviceV2.Configuration(stateSize: size)
            let options = RunOptions(target: "ref:v2?state-size=\(size)")
            let capture = CapturingDevice(ReferenceDeviceV2(configuration))
            _ = try Runner(spec: spec, device: capture, options: options).run()
            let ops = capture.operations
            var runTimes: [Double] = []
            var directTimes: [Double] = []
            var pathTimes: [Double] = []
            var writeTimes: [Double] = []
            for _ in 0..<reps {
                // The same operations through what the runner wraps around each one (the transcript recorder
                // and the deadline watch), a transcript taken every 20 operations as cases take theirs.
                let path = RecordingDevice(DeadlineDevice(ReferenceDeviceV2(configuration)))
                pathTimes.append(
                    try clock {
                        for (k, op) in ops.enumerated() {
                            _ = try path.perform(op)
                            if k % 20 == 19 { path.takeTranscript() }
                        }
                    })
                var report: RunReport?
                runTimes.append(
                    try clock {
                        report = try Runner(spec: spec, device: ReferenceDeviceV2(configuration), options: options)
                            .run()
                    })
                let device = ReferenceDeviceV2(configuration)
                directTimes.append(try clock { for op in ops { _ = try device.perform(op) } })
                if size == overheadStateSizes[0] {
                    writeTimes.append(
                        try clock {
                            try ReportWriter.write(
                                report!, to: folder, additionalFiles: RunFolderExtras.files(report!, spec: spec),
                                spec: spec)
                        })
                }
            }
            let run = median(runTimes)
            let direct = median(directTimes)
            let pathTime = median(pathTimes)
            if !writeTimes.isEmpty { write = median(writeTimes) }
            let n = Double(ops.count)
            let state = sizeText(size)
            rows.append([state, "full run (Runner.run)", "\(ops.count)", ms(run), us(run / n)])
            rows.append(["", "same operations, direct", "\(ops.count)", ms(direct), us(direct / n)])
            rows.append(["", "runner overhead", "", ms(run - direct), us((run - direct) / n)])
            rows.append(["", "same operations, recorded", "\(ops.count)", ms(pathTime), us(pathTime / n)])
            rows.append(["", "operation path overhead", "", ms(pathTime - direct), us((pathTime - direct) / n)])
            ratios.append(String(format: "%@: %.2f", unbroken(state), run / direct))
            overheads.append((state, (run - direct) / n))
            pathOverheads.append((state, (pathTime - direct) / n))
        }
        rows.append(["", "writing the report folder", "", ms(write), ""])
        let call = syscallCost()
        rows.append(["", "one system call (getppid)", "", "", us(call)])
        table(
            "Runner overhead: \(spec.id) on ref:v2 (every feature), median of \(reps)",
            ["state", "what", "device ops", "time", "per op"], rows)
        func per(_ v: [(String, Double)], _ f: String) -> String {
            v.map { String(format: "%@: " + f, unbroken($0.0), $0.1 / call) }.joined(separator: "; ")
        }
        let pathMet = pathOverheads.allSatisfy { $0.1 / call <= 2 }
        say("full run / direct calls, by state size: " + ratios.joined(separator: "; "))
        say("operation path overhead / one system call (target <= 2: \(met(pathMet))): " + per(pathOverheads, "%.1f"))
        say(
            "whole runner overhead (cases, checks, planning) per operation / one system call: "
                + per(overheads, "%.1f") + "\n")
    }

    /// The cost of one cheap system call on this machine (getppid, which the C library does not cache): the
    /// floor under any operation on a real device. Median of rounds of 100,000 calls.
    static func syscallCost() -> Double {
        var rounds: [Double] = []
        for _ in 0..<5 {
            let n = 100_000
            var sink: pid_t = 0
            let t0 = MonotonicClock.nanoseconds()
            for _ in 0..<n { sink &+= getppid() }
            let t = Double(MonotonicClock.nanoseconds() - t0) / 1e9
            if sink == 42 { Terminal.err("") }
            rounds.append(t / Double(n))
        }
        return median(rounds)
    }

    // MARK: - Suites

    static func suites() throws {
        let v2 = try SpecLocation.load(SpecLocation.defaultPath(for: .v2))
        let v1 = try SpecLocation.load(SpecLocation.defaultPath(for: .v1))
        var rows: [[String]] = []
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-bench-suite-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        func measure(
            _ label: String, _ spec: Spec, _ device: @autoclosure () -> MigrationDevice, _ target: String
        ) throws {
            var report: RunReport?
            let t = try clock {
                // With the peers `migconform run` opens for a built-in target.
                var others: [String: (target: String, device: MigrationDevice)] = [:]
                for (role, uri) in Targets.ownPeers(for: target, spec: spec) {
                    others[role] = (uri, try Targets.open(uri))
                }
                defer { for (_, o) in others { o.device.shutdown() } }
                report = try Runner(
                    spec: spec, device: device(), options: RunOptions(target: target), peer: others["peer"],
                    foreign: others["foreign"], openedByRun: Set(others.keys)
                ).run()
                try ReportWriter.write(
                    report!, to: folder, additionalFiles: RunFolderExtras.files(report!, spec: spec), spec: spec)
            }
            let r = report!
            rows.append([
                label, "\(r.summary.total)", "\(r.cases.reduce(0) { $0 + $1.transcript.count })",
                r.summary.verdict.rawValue, ms(t),
            ])
        }
        for p in v2.profiles {
            var flags: MigrationFlags = []
            if p.features.contains("stop-copy") { flags.insert(.stopCopy) }
            if p.features.contains("p2p") { flags.insert(.p2p) }
            if p.features.contains("pre-copy") { flags.insert(.preCopy) }
            try measure(
                "v2 \(p.name)", v2, ReferenceDeviceV2(.init(flags: flags)),
                "ref:v2?features=\(p.features.joined(separator: ","))")
        }
        try measure("v1", v1, ReferenceDeviceV1(), "ref:v1")
        table(
            "Full suite against the reference device (4 KiB state; run + report folder)",
            ["profile", "cases", "device ops", "verdict", "wall time"], rows)
    }

    /// Makes the `--dir` folder and its parents when missing; a folder it cannot make is an output failure.
    static func makeFolder(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw ExitFailure(code: ExitCode.output, message: "--dir \(dir): not a folder")
            }
            return
        }
        var path = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o755) == 0 || errno == EEXIST { continue }
            throw ExitFailure(
                code: ExitCode.output,
                message: "--dir \(dir): cannot make \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// SHA-256 throughput, on the processor's SHA extensions and by the portable rounds: the report hashes every
    /// file of its folder, and the spec is hashed when it is loaded.
    static func hashing(quick: Bool) throws {
        let bytes = [UInt8](repeating: 0x5A, count: (quick ? 8 : 64) << 20)
        func rate(_ accelerated: Bool) throws -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                best = min(
                    best,
                    try clock {
                        var h = SHA256(accelerated: accelerated)
                        bytes.withUnsafeBytes { h.update($0) }
                        _ = h.finalize()
                    })
            }
            return Double(bytes.count) / best
        }
        let portable = try rate(false)
        let line = "SHA-256 (the report's file hashes, the spec's): \(gib(portable)) portable"
        guard SHA256.acceleration else { return say(line + "; this processor has no SHA extensions\n") }
        let fast = try rate(true)
        say(line + String(format: ", %@ on the SHA extensions (%.1fx)\n", gib(fast), fast / portable))
    }

    // MARK: - Round trips

    struct ChildResult: Codable {
        var kind: String
        var bytes: UInt64
        var seconds: Double
        var peakRSS: UInt64
        var verdict: String?
        var transcriptEntries: Int?
        var spooled: Bool?
        /// A full run: bytes read and written by the device operations, and the report folder's size.
        var read: UInt64?
        var written: UInt64?
        var folderBytes: UInt64?
        var journalBytes: UInt64?
        var reportBytes: UInt64?
        /// A full run: the least its cases need moved (``TransferNeed/minimum(_:on:)``), in bytes.
        var minimum: UInt64?
    }

    /// A whole `migconform run` at each state size (each in its own process, with its journal and report folder):
    /// the bytes it moves in state-size units, its time beside plain copies of the same bytes, peak memory, folder.
    static func fullRuns(sizes: [UInt64], dir: String) throws {
        var rows: [[String]] = []
        var notes: [String] = []
        var checks: [(moved: Bool, copies: Bool, rss: Bool, folder: Bool)] = []
        for size in sizes {
            // The best of three plain copies after a warm-up one, as for the round trips: one copy alone says more
            // about what ran before it than about the machine.
            _ = try child("plain-copy", size: size, dir: dir)
            let plain = try (0..<3).map { _ in try child("plain-copy", size: size, dir: dir) }.min {
                $0.seconds < $1.seconds
            }!
            let run = try child("full-run", size: size, dir: dir)
            let moved = (run.read ?? 0) + (run.written ?? 0)
            // A plain copy moves the stream twice (into a file and out of it): two state-size transfers.
            let transfers = Double(moved) / Double(plain.bytes)
            let copies = plain.seconds * transfers / 2
            func states(_ n: UInt64?) -> String { String(format: "%.1f", Double(n ?? 0) / Double(plain.bytes)) }
            let minimum = Double(run.minimum ?? 0)
            checks.append(
                (
                    Double(moved) <= 1.1 * max(minimum, 1), run.seconds <= 1.5 * copies, run.peakRSS < 256 << 20,
                    (run.folderBytes ?? 0) < 5_000_000
                ))
            rows.append([
                sizeText(size), run.verdict ?? "?", states(run.read), states(run.written), states(run.minimum),
                String(format: "%.2f", Double(moved) / max(minimum, 1)), ms(run.seconds),
                String(format: "%.2f", run.seconds / max(copies, 1e-9)), mib(run.peakRSS),
                String(format: "%.1f MB", Double(run.folderBytes ?? 0) / 1e6),
            ])
            notes.append(
                "\(sizeText(size)): \(moved) bytes moved; plain copies of as many bytes \(ms(copies)); "
                    + "journal "
                    + String(
                        format: "%.1f MB, report.json %.1f MB", Double(run.journalBytes ?? 0) / 1e6,
                        Double(run.reportBytes ?? 0) / 1e6))
        }
        table(
            "Full run of the v2 spec on ref:v2 at large states (migconform run, journal and report folder included)",
            [
                "state", "verdict", "reads", "writes", "minimum", "moved/min", "wall", "vs copies", "peak RSS",
                "folder",
            ],
            rows)
        for n in notes { say("  " + n) }
        say("  reads, writes, minimum: whole states (bytes moved / stream size); minimum: what the cases need")
        say("  (TransferNeed), the shared stream once; vs copies: wall / plain copies of the same bytes")
        say(
            "  targets: moved/min <= 1.1 (\(met(checks.allSatisfy(\.moved)))), vs copies <= 1.5 "
                + "(\(met(checks.allSatisfy(\.copies)))), peak RSS < \(unbroken("256 MiB")) "
                + "(\(met(checks.allSatisfy(\.rss)))), folder < \(unbroken("5 MB")) "
                + "(\(met(checks.allSatisfy(\.folder))))\n")
    }

    /// Each size is measured `repetitions` times, the plain copy and the round trip taking turns after one plain
    /// copy that warms the machine up; the table gives the best time of each (the limit the machine allows, as for
    /// the plain copy) and the notes give the spread. On a virtual machine, the first touch of memory the host
    /// has reclaimed costs several times a warm touch, so a single measurement of either says more about what ran
    /// before it than about the code measured.
    static func roundTrips(sizes: [UInt64], dir: String, repetitions: Int) throws {
        var rows: [[String]] = []
        var notes: [String] = []
        for size in sizes {
            _ = try child("plain-copy", size: size, dir: dir)
            var trips: [ChildResult] = []
            var copies: [ChildResult] = []
            for _ in 0..<max(1, repetitions) {
                copies.append(try child("plain-copy", size: size, dir: dir))
                trips.append(try child("round-trip", size: size, dir: dir))
            }
            let rt = trips.min { $0.seconds < $1.seconds }!
            let plain = copies.min { $0.seconds < $1.seconds }!
            let rtRate = Double(rt.bytes) / rt.seconds
            let plainRate = Double(plain.bytes) / plain.seconds
            let rss = trips.map(\.peakRSS).max()!
            let plainRSS = copies.map(\.peakRSS).max()!
            rows.append([
                sizeText(size), "round trip (V2-ROUND-TRIP)", gib(rtRate), mib(rss),
                String(format: "%.2f", rtRate / plainRate),
            ])
            rows.append(["", "plain copy", gib(plainRate), mib(plainRSS), "1.00"])
            func spread(_ r: [ChildResult]) -> String {
                r.map { String(format: "%.2f", $0.seconds) }.joined(separator: ", ") + " s"
            }
            let verdicts = Set(trips.map { $0.verdict ?? "?" }).sorted().joined(separator: "/")
            notes.append(
                "\(sizeText(size)): round trip \(verdicts) in \(spread(trips)), "
                    + "\(rt.transcriptEntries ?? 0) transcript entries, stream "
                    + "\(rt.spooled == true ? "spooled to a file" : "in memory"); "
                    + "plain copy \(spread(copies))")
        }
        table(
            "Round trip: save the whole state, resume it (bytes of the stream / case time), each in its own process, "
                + "best of \(max(1, repetitions))",
            ["state", "what", "throughput", "peak RSS", "vs plain copy"], rows)
        for n in notes { say("  " + n) }
        say(
            "  plain copy: /dev/zero -> a file in \(dir) -> /dev/null, read(2)/write(2) of "
                + "\(sizeText(UInt64(SavedStream.chunkSize))): the same two legs the runner's spool gives the "
                + "stream (device -> spool file -> device), without the device or the runner.")
    }

    /// Runs one measurement in a child process of this binary and reads its JSON line.
    static func child(_ kind: String, size: UInt64, dir: String) throws -> ChildResult {
        let me =
            CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0]
            : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        let p = try ChildProcess.run(
            me, ["bench", "--child", kind, "--size", String(size), "--dir", dir], stdout: .capture)
        guard p.termination.exitStatus == 0,
            let line = String(decoding: p.output, as: UTF8.self).split(separator: "\n").last,
            let r = try? JSONDecoder().decode(ChildResult.self, from: Data(line.utf8))
        else {
            throw ExitFailure(
                code: ExitCode.usage, message: "the \(kind) measurement of \(sizeText(size)) failed (\(p.termination))")
        }
        return r
    }

    static func runChild(_ kind: String, size: UInt64, dir: String) throws -> Int32 {
        let result: ChildResult
        switch kind {
        case "round-trip":
            let spec = try SpecLocation.load(SpecLocation.defaultPath(for: .v2))
            let device = ReferenceDeviceV2(.init(stateSize: size))
            let options = RunOptions(
                target: "ref:v2?state-size=\(size)",
                expansion: ExpansionOptions(only: ["V2-ROUND-TRIP"]), spoolDirectory: dir)
            let report = try Runner(spec: spec, device: device, options: options).run()
            guard let c = report.cases.first(where: { $0.id == "V2-ROUND-TRIP" }) else {
                throw ExitFailure(code: ExitCode.usage, message: "no V2-ROUND-TRIP case")
            }
            result = ChildResult(
                kind: kind, bytes: ReferenceStream.length(payloadSize: size),
                seconds: Double(c.durationMicros) / 1e6, peakRSS: peakRSS(), verdict: c.verdict.rawValue,
                transcriptEntries: c.transcript.count, spooled: size > SavedStream.defaultSpoolThreshold)
        case "runner":
            // Twenty full runs at this device state size, for a profiler:
            // `perf record migconform bench --child runner --size 1048576`.
            let spec = try SpecLocation.load(SpecLocation.defaultPath(for: .v2))
            var ops = 0
            let seconds = try clock {
                for _ in 0..<20 {
                    let device = ReferenceDeviceV2(.init(stateSize: size))
                    let report = try Runner(spec: spec, device: device, options: RunOptions(target: "ref:v2")).run()
                    ops += report.cases.reduce(0) { $0 + $1.transcript.count }
                }
            }
            result = ChildResult(kind: kind, bytes: UInt64(ops), seconds: seconds, peakRSS: peakRSS())
        case "full-run":
            let folder = dir + "/migconform-bench-run-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var seconds = 0.0
            var code: Int32 = 0
            seconds = try clock {
                code = try RunCommand.main(["--target", "ref:v2?state-size=\(size)", "--out", folder, "--quiet"])
            }
            let report = try ReportReader.load(folder)
            let stream = ReferenceStream.length(payloadSize: size)
            // The reference device offers the header and half its state as pre-copy data.
            let precopy = UInt64(ReferenceStream.headerSize) + size / 2
            let spec = try SpecLocation.load(SpecLocation.defaultPath(for: .v2))
            let least = TransferAccount(report, spec: spec).minimum.bytes(stream: stream, precopy: precopy)
            var read: UInt64 = 0
            var written: UInt64 = 0
            for (kind, k) in report.run.cost?.byKind ?? [:] {
                if kind == "read" { read += k.bytes ?? 0 }
                if kind == "write" { written += k.bytes ?? 0 }
            }
            func bytes(_ name: String) -> UInt64 {
                let attributes = try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)
                return (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
            }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            result = ChildResult(
                kind: kind, bytes: ReferenceStream.length(payloadSize: size), seconds: seconds,
                peakRSS: peakRSS(), verdict: code == 0 ? "CONFORMANT" : "exit \(code)", read: read,
                written: written, folderBytes: files.reduce(0) { $0 + bytes($1) },
                journalBytes: bytes(RunJournal.fileName), reportBytes: bytes("report.json"),
                minimum: least.read + least.written)
        case "plain-copy":
            let total = ReferenceStream.length(payloadSize: size)
            let seconds = try plainCopy(bytes: total, dir: dir)
            result = ChildResult(kind: kind, bytes: total, seconds: seconds, peakRSS: peakRSS())
        default:
            throw UsageError(message: "unknown measurement '\(kind)'")
        }
        let data = try JSONEncoder().encode(result)
        // One JSON line for the parent to read: never wrapped.
        Terminal.out(String(decoding: data, as: UTF8.self))
        return ExitCode.ok
    }

    /// /dev/zero -> a new, unlinked file in `dir` -> /dev/null, ``SavedStream/chunkSize`` at a time (the runner's
    /// piece); returns the seconds it took.
    static func plainCopy(bytes: UInt64, dir: String) throws -> Double {
        let chunk = SavedStream.chunkSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        var template = Array((dir + "/.migconform-bench-XXXXXX").utf8CString)
        let file = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard file >= 0 else {
            throw ExitFailure(
                code: ExitCode.output, message: "cannot create a file in \(dir): \(String(cString: strerror(errno)))")
        }
        unlink(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        let zero = open("/dev/zero", O_RDONLY)
        let null = open("/dev/null", O_WRONLY)
        defer {
            close(file)
            close(zero)
            close(null)
        }
        func copy(_ from: Int32, _ to: Int32) throws {
            var left = bytes
            while left > 0 {
                let n = read(from, buffer, Int(min(UInt64(chunk), left)))
                guard n > 0 else { throw ExitFailure(code: ExitCode.usage, message: "plain copy: read failed") }
                var done = 0
                while done < n {
                    let w = write(to, buffer + done, n - done)
                    guard w > 0 else { throw ExitFailure(code: ExitCode.usage, message: "plain copy: write failed") }
                    done += w
                }
                left -= UInt64(n)
            }
        }
        return try clock {
            try copy(zero, file)
            lseek(file, 0, SEEK_SET)
            try copy(file, null)
        }
    }

    // MARK: - Helpers

    /// Peak resident memory of this process (VmHWM), in bytes.
    static func peakRSS() -> UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { UInt64($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }

    static func clock(_ body: () throws -> Void) throws -> Double {
        let start = MonotonicClock.nanoseconds()
        try body()
        return Double(MonotonicClock.nanoseconds() - start) / 1e9
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// A number and its unit kept on one line when the output wraps (a no-break space between them).
    static func unbroken(_ quantity: String) -> String { quantity.replacingOccurrences(of: " ", with: "\u{a0}") }

    /// Whether a measured number is within its target, as the output says it.
    static func met(_ ok: Bool) -> String { ok ? "met" : "not met" }

    /// A line of the benchmark's output, wrapped to 100 columns (tables already fit).
    static func say(_ s: String) { Terminal.out(HelpText.fit(s)) }

    static func ms(_ s: Double) -> String { s >= 1 ? String(format: "%.2f s", s) : String(format: "%.1f ms", s * 1000) }
    static func us(_ s: Double) -> String { String(format: "%.2f us", s * 1e6) }
    static func gib(_ bytesPerSecond: Double) -> String {
        String(format: "%.2f GiB/s", bytesPerSecond / Double(1 << 30))
    }
    static func mib(_ bytes: UInt64) -> String { String(format: "%.0f MiB", Double(bytes) / Double(1 << 20)) }

    static func sizeText(_ b: UInt64) -> String {
        if b >= 1 << 30 && b % (1 << 30) == 0 { return "\(b >> 30) GiB" }
        if b >= 1 << 20 && b % (1 << 20) == 0 { return "\(b >> 20) MiB" }
        if b >= 1 << 10 && b % (1 << 10) == 0 { return "\(b >> 10) KiB" }
        return "\(b) B"
    }

    static func parseSize(_ text: String) -> UInt64? {
        if case .success(let n) = ByteSize.parse(text, max: ByteSize.maxStateSize) { return n }
        return nil
    }

    static func hostSummary() -> String {
        var cpu = "unknown processor"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        {
            cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let mem = ProcessInfo.processInfo.physicalMemory
        return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(mem >> 30) GiB memory"
    }

    /// A table with a title, columns padded, numbers right-aligned.
    static func table(_ title: String, _ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                i == 0
                    ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ")
        }
        say(title)
        say(line(header))
        say(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for r in rows { say(line(r)) }
        say("")
    }
}
