import Foundation
import MigconformBase
import MigconformCases
import MigconformDevice
import MigconformLab
import MigconformLinux
import MigconformReport
import MigconformRun
import MigconformSpec

/// `migconform run`: run a spec against a target and write the report folder.
enum RunCommand: Command {
    static let version = migconformVersion

    /// The options, in the order the help lists them.
    enum Key {
        static let spec = Option(
            "--spec", "FILE",
            help:
                "Spec file to run (default: the built-in vfio-migration-v2.json, or -v1 for a v1 target; see "
                + "'migconform specs')."
        )
        static let target = Option(
            "--target", "URI",
            help: "Device to test (default: ref:v2, the reference device with every feature).")
        static let out = Option(
            "--out", "DIR",
            help: "Report folder (default: Reports/<spec>-<target>-<time>/).")
        static let peer = Option(
            "--peer", "URI",
            help:
                "A second device of the same kind (another vfio: device, ref:v2, a fault:, an exec: adapter): the "
                + "stream is resumed there, and two-device rules run. Without it those rules are SKIPPED (no-peer) "
                + "and a MUST among them makes the run INCOMPLETE; a ref:v2 or v2 fault: target opens its own: "
                + "another instance of the same target URI."
        )
        static let traceModule = Option(
            "--trace-module", "NAME",
            help:
                "With a vfio: target, as root with tracefs: record which functions of kernel module NAME the run "
                + "entered (the report says 'reached N of M' and lists the rest)."
        )
        static let foreignPeer = Option(
            "--foreign-peer", "URI",
            help:
                "A device of another type or configuration (another mdev type, ref:v2?state-size=...): its stream is "
                + "offered to the target, which should refuse it. Without it that rule is SKIPPED (no-peer); a ref:v2 "
                + "or v2 fault: target opens its own: ref:v2?state-size=12KiB (8KiB for a target of 12 KiB)."
        )
        static let only = RepeatedOption(
            "--only", "GLOB",
            help: "Run only cases whose case id or rule id matches (e.g. 'V2-ARC-*').")
        static let exclude = RepeatedOption(
            "--exclude", "GLOB",
            help: "Leave out cases whose case id or rule id matches.")
        static let variant = RepeatedOption(
            "--variant", "ID",
            help: "Run under a variant reading the spec documents.")
        static let allowHazard = RepeatedOption(
            "--allow-hazard", "ID",
            help:
                "Run cases with this hazard on affected kernels ('all' for every hazard; an id the spec does not "
                + "have is refused)."
        )
        static let maxFailures = Option(
            "--max-failures", "N",
            help: "Stop after N failed, timed-out or errored cases.")
        static let timeout = RepeatedOption(
            "--timeout", "[KIND=]SECONDS",
            help:
                "Deadline of every device operation, or of one kind (set-state, reset, read, ...). Defaults: 30 s "
                + "for reset, set-state and data transfers, 10 s for the rest."
        )
        static let baseline = Option(
            "--baseline", "FILE",
            help:
                "Expectations of this device (see 'migconform baseline'): known failures become XFAIL, and the exit "
                + "code counts only unexpected results."
        )
        static let retries = Option(
            "--retries", "N",
            help:
                "Rerun an unexpected FAIL, WARN or ERROR up to N times; a pass on a retry makes it FLAKE, which tells "
                + "an intermittent failure from a steady one: a FAIL that a retry passed still breaks its rule (the "
                + "run is not conformant); an ERROR that a retry passed does not (default 0).")
        static let shard = Option(
            "--shard", "I/N",
            help: "Run the I-th of N interleaved shares of the cases (combine the reports with 'migconform merge').")
        static let level = Option(
            "--level", "LEVEL",
            help:
                "What makes the exit code non-zero: must (default), should (also WARN), may. Verdicts are not changed.")
        static let expectDriver = Option(
            "--expect-driver", "NAME",
            help: "Refuse to run unless the target's driver is NAME.")
        static let expectFlags = Option(
            "--expect-flags", "FLAGS",
            help:
                "Refuse to run unless the device advertises exactly FLAGS: a number (0x7) or feature names "
                + "(stop-copy,p2p,pre-copy)."
        )
        static let journalSync = Option(
            "--journal-sync", "WHEN",
            help:
                "Journal and flush every operation before it is issued ('op', the default for vfio: and exec: "
                + "targets whose run folder is on a disk) or each case whole at its end ('case', the default for "
                + "simulated targets, which cannot crash the kernel, and for a folder in memory: tmpfs, ramfs or an "
                + "initramfs, which a kernel crash loses anyway)."
        )
        static let quiet = Flag(
            "--quiet",
            help: "Print only the verdict line (no progress, no failure lines).")
        static let lava = Flag(
            "--lava",
            help:
                "Inside a LAVA test shell: report each case with lava-test-case as it ends, in a lava-test-set per "
                + "rule; exit 0 whatever the verdicts, lava-test-raise when the run cannot start."
        )
        static let lavaOutput = Flag(
            "--lava-output",
            help: "With --lava (LAVA 2025.04+): attach each non-passing case's details (lava-test-case --output).")
    }

    static let discussion = """
        Progress goes to stderr (on a terminal one line counting the cases; otherwise a line whenever nothing else \
        was printed for 10 s, with the case and the bytes moved), the summary to stdout (--quiet: only its verdict \
        line); the report folder holds report.json, report.md, report.html, junit.xml, report.tap, diagram.svg and \
        journal.jsonl.

        The journal records every case when it ends (--journal-sync op: every device operation before it is issued, \
        the default for vfio: and exec: targets whose run folder is on a disk): after a crash, 'migconform report --from-journal DIR' rebuilds the report. SIGINT \
        or SIGTERM ends the run after the device is reset, with a complete report marked interrupted (a second \
        signal, half a second or more later, exits at once; one sooner is the same request, as timeout(1) signals \
        the command and then its process group).

        A device operation that misses its deadline is TIMEOUT; a simulated target is then reopened and the run \
        goes on, a kernel device is wedged and the cases left are SKIPPED.
        """

    static let configuration = CommandConfiguration(
        name: "run", abstract: "Run a spec against a device and write a report (the default command).",
        usage: "migconform run [--spec FILE] [--target URI] [--out DIR] [filters...]",
        discussion: discussion,
        options: [
            Key.spec, Key.target, Key.out, Key.peer, Key.traceModule, Key.foreignPeer, Key.only, Key.exclude,
            Key.variant, Key.allowHazard, Key.maxFailures, Key.timeout, Key.baseline, Key.retries, Key.shard, Key.level,
            Key.expectDriver, Key.expectFlags, Key.journalSync, Key.quiet, Key.lava, Key.lavaOutput,
        ], footer: Targets.summary + "\n" + ExitCode.table)

    static func main(_ args: [String]) throws -> Int32 {
        guard args.contains(Key.lava.spec.name) else { return try run(configuration.parse(args)) }
        return try LavaRun.run(args) { a, reporter in try runSuite(a, lava: reporter) }
    }

    static func run(_ a: ParsedArguments) throws -> Int32 { try runSuite(a, lava: nil) }

    static func runSuite(_ a: ParsedArguments, lava: LavaReporter?) throws -> Int32 {
        var setupSteps = SetupSteps()
        let targetURI = a[Key.target] ?? "ref:v2"
        let device = try Targets.open(targetURI)
        defer { device.shutdown() }
        setupSteps.end("target")
        let specPath = a[Key.spec] ?? SpecLocation.defaultPath(for: device.generation)
        let spec = try SpecLocation.load(specPath)
        setupSteps.end("spec")
        guard spec.generation == device.generation else {
            throw ExitFailure(
                code: ExitCode.usage,
                message:
                    "spec \(spec.id) is for the \(spec.generation) protocol, but \(targetURI) speaks "
                    + "\(device.generation.rawValue)"
            )
        }
        var maxFailures: Int?
        if let m = a[Key.maxFailures] {
            guard let n = Int(m), n > 0 else {
                throw UsageError(message: "--max-failures takes a positive number, not '\(m)'")
            }
            maxFailures = n
        }
        let known = Set(spec.variants.map(\.id))
        for v in a[Key.variant] where !known.contains(v) {
            throw UsageError(
                message: "spec \(spec.id) has no variant '\(v)' (it has: \(known.sorted().joined(separator: ", ")))")
        }
        let hazards = Set(spec.rules.compactMap { $0.hazard?.id })
        for h in a[Key.allowHazard] where h != "all" && !hazards.contains(h) {
            throw UsageError(
                message: "--allow-hazard: spec \(spec.id) has no hazard '\(h)' (its hazards: "
                    + (hazards.sorted() + ["all"]).joined(separator: ", ") + ")")
        }
        let expansion = ExpansionOptions(
            only: a[Key.only], exclude: a[Key.exclude], variants: Set(a[Key.variant]),
            allowedHazards: Set(a[Key.allowHazard]))
        var options = RunOptions(target: targetURI, expansion: expansion, maxFailures: maxFailures)
        // An adapter's deadlines (its environment's) are the run's, which --timeout then changes.
        options.deadlines = device.ownDeadlines ?? .standard
        try applyLabOptions(a, spec: spec, to: &options)
        let level = try exitLevel(a)
        // Simulated and adapter targets can be reopened after a hang; a kernel device cannot.
        let reopen: (() throws -> MigrationDevice)? =
            device.traits.canReopen ? { try Targets.open(targetURI) } : nil
        var others: [String: (target: String, device: MigrationDevice)] = [:]
        defer { for (_, o) in others { o.device.shutdown() } }
        try Targets.openGiven(
            peer: a[Key.peer], foreign: a[Key.foreignPeer], target: targetURI, device: device, into: &others)
        // A built-in target brings the devices the two-device rules need when the command names none.
        var openedByRun: Set<String> = []
        for (role, uri) in Targets.ownPeers(for: targetURI, spec: spec) where others[role] == nil {
            others[role] = (uri, try Targets.open(uri))
            openedByRun.insert(role)
        }
        Targets.link(device, others["peer"]?.device)
        setupSteps.end("options and peers")
        let runner = Runner(
            spec: spec, device: device, options: options, reopen: reopen, peer: others["peer"],
            foreign: others["foreign"], openedByRun: openedByRun)
        setupSteps.end("runner")
        if device.traits.mayHarmHost {
            let before = KernelHealth.snapshot()
            runner.hostHealth = { KernelHealth.snapshot().newProblems(since: before) }
            setupSteps.end("host health")
        }
        // Values are checked before the run folder is made: a mistyped option leaves nothing behind.
        if let text = a[Key.journalSync], text != "op", text != "case" {
            throw UsageError(message: "--journal-sync takes op or case, not '\(text)'")
        }
        let chosen = a[Key.out]
        let folderExisted = chosen.map { FileManager.default.fileExists(atPath: $0) } ?? false
        // A folder that already holds a run keeps it: a new run never overwrites or removes another's files.
        if let chosen,
            ["report.json", RunJournal.fileName].contains(where: {
                FileManager.default.fileExists(atPath: URL(fileURLWithPath: chosen).appendingPathComponent($0).path)
            })
        {
            throw UsageError(
                message: "--out \(chosen) already holds a run (report.json or \(RunJournal.fileName)); "
                    + "give another folder, or remove that one first")
        }
        let folder = URL(fileURLWithPath: try chosen ?? reserveDefaultFolder(spec: spec, target: targetURI))
        /// A run that never started leaves no folder behind (only the one the user made, emptied of the journal).
        func discardFolder() {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(RunJournal.fileName))
            if !folderExisted, (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.isEmpty == true {
                try? FileManager.default.removeItem(at: folder)
            }
        }
        runner.options.spoolDirectory = folder.path // a save stream too large for memory is spooled here
        let journal: RunJournal
        // A folder in memory (tmpfs, ramfs) goes down with the kernel: flushing it before every operation would
        // cost a system call each and save nothing.
        let syncMode =
            a[Key.journalSync]
            ?? (device.traits.journalsEachOperation && !RunJournal.isInMemory(folder) ? "op" : "case")
        do { journal = try RunJournal(folder: folder, syncEachOperation: syncMode == "op") } catch {
            // Nothing ran yet, but the folder the results go to cannot be written: an output failure.
            throw ExitFailure(code: ExitCode.output, message: "\(error)")
        }
        runner.observers.append(journal)
        runner.options.journalSync = syncMode // in the journal's run record too, so a rebuilt report keeps it
        setupSteps.end("run folder and journal")
        // A call on the run's own thread that a signal could not free takes the thread with it: the journal has
        // everything up to it, so the report is rebuilt from there.
        runner.deadlineDevice.onAbandoned = { what in
            Terminal.endProgress()
            Terminal.err("migconform: \(what); the device is wedged, the report is rebuilt from the journal")
            if let report = try? JournalReader.rebuild(folder: folder.path, spec: spec) {
                Terminal.out(ConsoleSummary.render(report, color: Terminal.useColor))
                Terminal.out("report: \(folder.path)")
            }
            exit(ExitCode.aborted)
        }
        if let lava { runner.observers.append(lava) }
        let quiet = a[Key.quiet]
        let progress: RunProgress? = quiet ? nil : RunProgress(total: 0)
        if let progress { runner.observers.append(progress) }
        runner.onCaseStart = { c, _, n in progress?.caseStarting(c.id, of: n) }
        runner.onCaseEnd = { r, _, _ in
            if !quiet && [.fail, .warn, .timeout, .error, .xpass, .flake].contains(r.verdict) {
                // Terminal.err clears the progress line in the same write as the failure line.
                Terminal.errWrapped(
                    r.verdict.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
                    "\(r.id): \(r.message)", indent: 8)
            }
        }
        let signals = SignalStop(runner)
        defer { signals.cancel() }
        if !quiet {
            Terminal.errWrapped(
                "migconform: ",
                "\(spec.id) \(spec.version) against \(targetURI) (\(device.identity.driver))"
                    + (options.shard.map { ", shard \($0.description)" } ?? "")
                    + "; journal: "
                    + (syncMode == "op" ? "every operation, flushed before it is issued" : "each case at its end"),
                indent: 4)
        }
        var reach: DriverReach?
        var reachProblem: String?
        var reachInfo: DriverReachInfo?
        var tracingNanos: UInt64?
        if let module = a[Key.traceModule] {
            let started = MonotonicClock.nanoseconds()
            defer { tracingNanos = MonotonicClock.nanoseconds() - started }
            switch DriverReach.start(module: module) {
            case .success(let r): reach = r
            case .failure(let e):
                reachProblem = e.description
                Terminal.err("migconform: driver reach not traced: \(e)")
            }
        }
        progress?.start()
        defer { progress?.stop() }
        var report: RunReport
        let setupNanos = MonotonicClock.nanoseconds() - commandStartNanos - (tracingNanos ?? 0)
        do {
            defer {
                let finishing = MonotonicClock.nanoseconds()
                if let r = reach?.finish() {
                    reachInfo = DriverReachInfo(
                        module: r.module, functions: r.functions.count, reached: r.reached,
                        notReached: r.notReached)
                }
                if reach != nil { tracingNanos! += MonotonicClock.nanoseconds() - finishing }
            }
            report = try runner.run()
        } catch let e as TargetMismatch {
            discardFolder()
            throw ExitFailure(code: ExitCode.target, message: "refusing to run against \(targetURI): \(e.message)")
        } catch let e as TransportError {
            discardFolder()
            throw ExitFailure(
                code: ExitCode.target,
                message: "\(targetURI) did not answer while its features were discovered: \(e.message)")
        } catch let e as StoppedBeforeCases {
            discardFolder() // no case ran: no report to keep
            throw ExitFailure(code: ExitCode.aborted, message: "stopped: \(e)")
        } catch let e as EmptySelection {
            discardFolder() // nothing ran: leave no empty run folder behind
            throw UsageError(message: e.message)
        }
        progress?.stop()
        Terminal.endProgress()
        if let info = reachInfo {
            report.run.reach = info
        } else if let module = a[Key.traceModule] {
            report.run.reach = DriverReachInfo(
                module: module, functions: 0, reached: [], notReached: [], problem: reachProblem)
        }
        if let problem = journal.failure {
            Terminal.errMessage("migconform: ", "the journal is incomplete: \(problem)")
        }
        report.run.cost?.setup = setupNanos / 1000
        report.run.cost?.setupSteps = setupSteps.micros
        report.run.cost?.tracing = tracingNanos.map { $0 / 1000 }
        let writing = MonotonicClock.nanoseconds()
        let written: RunReport
        do {
            written = try ReportWriter.write(
                report, to: folder, additionalFiles: RunFolderExtras.files(report, spec: spec),
                existingFiles: [RunJournal.fileName], spec: spec
            ) { r in
                let now = MonotonicClock.nanoseconds()
                r.run.cost?.report = (now - writing) / 1000
                r.run.cost?.command = (now - commandStartNanos) / 1000
                r.run.cost?.commandUsage = ProcessUsage.now()
            }
        } catch {
            // The verdict stands, but the folder holds no report: say both, and where the results still are.
            let summary = ConsoleSummary.render(
                report, color: Terminal.useColor, width: Terminal.width(of: STDOUT_FILENO))
            Terminal.out(quiet ? String(summary.prefix { $0 != "\n" }) : summary)
            let kept =
                journal.failure == nil
                ? "the journal holds every result: once there is room, 'migconform report --from-journal "
                    + "\(folder.path)' writes the report"
                : "the journal is incomplete too"
            Terminal.errWrapped("migconform run: ", "cannot write the report: \(error); \(kept)", indent: 4)
            return ExitCode.output
        }
        if var cost = written.run.cost, !quiet {
            let now = MonotonicClock.nanoseconds()
            cost.report = (now - writing) / 1000
            cost.command = (now - commandStartNanos) / 1000
            cost.commandUsage = ProcessUsage.now()
            Terminal.errWrapped("cost: ", cost.summary, indent: 6)
            Terminal.errWrapped("cost by operation: ", cost.kindLines.prefix(6).joined(separator: "; "), indent: 6)
        }
        let summary = ConsoleSummary.render(written, color: Terminal.useColor, width: Terminal.width(of: STDOUT_FILENO))
        let unexpected = level.unexpected(report.cases)
        let status = ExitCode.of(report, level: level)
        if quiet {
            // Only the verdict line.
            Terminal.out(String(summary.prefix { $0 != "\n" }))
            return status
        }
        Terminal.out(summary)
        if let r = report.run.reach { Terminal.out("driver reach: \(r.summary)") }
        if let cleanup = report.run.cleanup, !cleanup.problems.isEmpty {
            Terminal.out(
                TextLayout.hanging(
                    "device not left as found: ", cleanup.problems.joined(separator: "; "),
                    width: Terminal.width(of: STDOUT_FILENO), indent: 4
                ).joined(separator: "\n"))
        }
        if let unused = report.run.baseline?.unused, !unused.isEmpty {
            Terminal.err(
                "migconform: \(unused.count) expectation(s) matched no case: "
                    + unused.prefix(5).joined(separator: ", "))
        }
        if options.baseline != nil || level != .must {
            Terminal.out(
                "\(unexpected.count) unexpected result\(unexpected.count == 1 ? "" : "s") at level \(level.rawValue)"
                    + (options.baseline != nil ? " against \(options.baseline!.path)" : ""))
        }
        Terminal.out("report: \(folder.path)")
        return status
    }

    /// --timeout, --baseline, --retries, --shard, --expect-driver, --expect-flags.
    static func applyLabOptions(_ a: ParsedArguments, spec: Spec, to options: inout RunOptions) throws {
        for t in a[Key.timeout] {
            do { try options.deadlines.apply(t) } catch { throw UsageError(message: "\(error)") }
        }
        if let path = a[Key.baseline] {
            do { options.baseline = try Expectations.load(path: path) } catch {
                throw ExitFailure(code: ExitCode.usage, message: "\(error)")
            }
        }
        if let r = a[Key.retries] {
            guard let n = Int(r), n >= 0 else { throw UsageError(message: "--retries takes a number, not '\(r)'") }
            options.retries = n
        }
        if let s = a[Key.shard] {
            guard let shard = Sharding.parse(s) else {
                throw UsageError(message: "--shard takes I/N with 1 <= I <= N, not '\(s)'")
            }
            options.shard = shard
        }
        options.expectDriver = a[Key.expectDriver]
        if let f = a[Key.expectFlags] {
            if let n = f.hasPrefix("0x") ? UInt64(f.dropFirst(2), radix: 16) : UInt64(f) {
                options.expectFlags = n
            } else {
                let names = Set(f.split(separator: ",").map(String.init))
                let known = Set(spec.features.filter { $0.flag != nil }.map(\.name))
                for n in names where !known.contains(n) {
                    throw UsageError(
                        message:
                            "--expect-flags: '\(n)' is not a flag feature of \(spec.id) "
                            + "(\(known.sorted().joined(separator: ", ")))"
                    )
                }
                options.expectFeatures = names
            }
        }
    }

    static func exitLevel(_ a: ParsedArguments) throws -> ExitLevel {
        guard let l = a[Key.level] else { return .must }
        guard let level = ExitLevel(rawValue: l.lowercased()) else {
            throw UsageError(message: "--level takes must, should or may, not '\(l)'")
        }
        return level
    }

    /// A new folder under `Reports/` made for this run alone: `mkdir` fails when another run (started in the same
    /// second, say) made the same name first, and the next name is tried (`-2`, `-3`, ...).
    static func reserveDefaultFolder(spec: Spec, target: String) throws -> String {
        let base = defaultFolder(spec: spec, target: target)
        try? FileManager.default.createDirectory(
            atPath: (base as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        for n in 1...1000 {
            let candidate = n == 1 ? base : "\(base)-\(n)"
            if mkdir(candidate, 0o755) == 0 { return candidate }
            guard errno == EEXIST else {
                throw ExitFailure(
                    code: ExitCode.output, message: "cannot create \(candidate): \(String(cString: strerror(errno)))")
            }
        }
        throw ExitFailure(code: ExitCode.output, message: "cannot find a free folder name beside \(base)")
    }

    static func defaultFolder(spec: Spec, target: String) -> String {
        let slug = target.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(40)
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return "Reports/\(spec.id)-\(String(slug))-\(f.string(from: Date()))"
    }
}

/// How long each step before the run took, from the command's start (``RunCost/setupSteps``).
struct SetupSteps {
    private(set) var micros: [String: UInt64] = [:]
    private var last = commandStartNanos

    /// Ends the step named `name`: the time since the previous step ended (or the command started).
    mutating func end(_ name: String) {
        let now = MonotonicClock.nanoseconds()
        micros[name, default: 0] += (now - last) / 1000
        last = now
    }
}
