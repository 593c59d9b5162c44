import Foundation
import MigconformDevice
import MigconformReference
import MigconformSpec

/// `migconform fuzz`: generated bad input against this very binary, each input in a child process with a deadline.
///
/// Three families: mutated shipped specs (check-spec, then run: both must accept or both refuse), target URIs
/// (list, and a short run), and adapters whose answers are mutated (a run against `exec:` this binary serving the
/// reference device with some answers garbled). Every child must end within the deadline, with an exit status
/// below 128 that the README documents, leaving a report folder that is complete or absent.
enum FuzzCommand: Command {

    /// The options, in the order the help lists them.
    enum Key {
        static let seed = Option(
            "--seed", "N",
            help: "Seed of the generator (default 1): the same seed tries the same inputs.")
        static let budget = Option(
            "--budget", "N",
            help: "Inputs per family (default 60 specs, 90 URIs, 8 adapters; N for each).")
        static let families = Option(
            "--families", "LIST",
            help: "Families to try, comma-separated: specs, uris, adapters (default all).")
        static let deadline = Option(
            "--deadline", "S",
            help: "Seconds one child may take before it counts as a hang (default 60).")
        static let keep = Option(
            "--keep", "DIR",
            help: "Copy each finding's input into DIR.")
        static let binary = Option(
            "--binary", "PATH",
            help: "Try the inputs on another migconform build (default: this one).")
        static let verbose = Flag(
            "--verbose",
            help: "Print every child's command line, exit status and time.")
        static let serveAdapter = Option(
            "--serve-adapter", "SEED",
            help: "(internal) Serve ref:v2, or ref:v1 for an odd SEED, with mutated answers.")
        static let rate = Option(
            "--rate", "N",
            help: "(with --serve-adapter) Mutate about one answer in N (default 40).")
    }

    static let families = ["specs", "uris", "adapters"]

    static let configuration = CommandConfiguration(
        name: "fuzz",
        abstract: "Generated bad specs, target URIs and adapter answers against this binary; prints findings.",
        usage: "migconform fuzz [--seed N] [--budget N] [--families LIST] [--deadline S] [--keep DIR]",
        discussion: """
            Exits 0 when nothing was found, 1 with findings (each printed with its input): an exit status of 128 \
            or more (a trap or a signal), a child that outlived the deadline, an exit code the README does not \
            document, a report folder left incomplete, or a spec that check-spec and run judge differently. \
            CI runs a fixed seed and the default budget; a larger --budget searches further.
            """,
        options: [
            Key.seed, Key.budget, Key.families, Key.deadline, Key.keep, Key.binary, Key.verbose, Key.serveAdapter,
            Key.rate,
        ])

    static func run(_ a: ParsedArguments) throws -> Int32 {
        func number(_ key: Option, _ fallback: Int, in range: ClosedRange<Int>) throws -> Int {
            let option = key.spec.name
            guard let text = a[key] else { return fallback }
            guard let n = Int(text), range.contains(n) else {
                throw UsageError(
                    message:
                        "\(option) '\(Targets.excerpt(text))': expected a whole number from \(range.lowerBound) to "
                        + "\(range.upperBound)"
                )
            }
            return n
        }
        let seed = UInt64(try number(Key.seed, 1, in: 0...Int.max))
        if let serve = a[Key.serveAdapter] {
            guard let s = UInt64(serve) else {
                throw UsageError(message: "--serve-adapter '\(Targets.excerpt(serve))': expected a seed")
            }
            return serveMutated(seed: s, rate: try number(Key.rate, 40, in: 1...1_000_000))
        }
        let budget = a[Key.budget] == nil ? nil : try number(Key.budget, 0, in: 0...1_000_000)
        let deadline = Double(try number(Key.deadline, 60, in: 1...3600))
        let chosen = a[Key.families].map { $0.split(separator: ",").map(String.init) } ?? families
        for f in chosen where !families.contains(f) {
            throw UsageError(
                message:
                    "--families: unknown family '\(Targets.excerpt(f))' (families: \(families.joined(separator: ", ")))"
            )
        }
        var fuzzer = try Fuzzer(seed: seed, deadline: deadline, keep: a[Key.keep], binary: a[Key.binary])
        fuzzer.verbose = a[Key.verbose]
        defer { fuzzer.cleanUp() }
        let start = Date()
        Terminal.out(
            "fuzz: seed \(seed), deadline \(Int(deadline)) s per input, exit codes documented: "
                + fuzzer.documented.sorted().map(String.init).joined(separator: ", "))
        for family in chosen {
            let t = Date()
            switch family {
            case "specs": fuzzer.specs(count: budget ?? 60)
            case "uris": fuzzer.uris(count: budget ?? 90)
            default: fuzzer.adapters(count: budget ?? 8)
            }
            Terminal.out(
                String(
                    format: "fuzz: %-8@ %4d inputs (%d %@), %3d children, %2d findings, %.0f s", family as NSString,
                    fuzzer.tried[family, default: 0], fuzzer.accepted[family, default: 0],
                    (family == "specs" ? "loaded" : family == "uris" ? "opened" : "reported") as NSString,
                    fuzzer.children[family, default: 0],
                    fuzzer.findings.filter { $0.family == family }.count, Date().timeIntervalSince(t)))
        }
        for f in fuzzer.findings { Terminal.out("FINDING \(f.family): \(f.what)\n  input: \(f.input)") }
        Terminal.out(
            String(
                format: "fuzz: %d inputs in %.0f s, %d findings", fuzzer.tried.values.reduce(0, +),
                Date().timeIntervalSince(start), fuzzer.findings.count))
        return fuzzer.findings.isEmpty ? ExitCode.ok : ExitCode.nonConformant
    }

    /// The adapter side of the adapters family: the reference device over the protocol, with some answers garbled.
    static func serveMutated(seed: UInt64, rate: Int) -> Int32 {
        let protocolOut = dup(STDOUT_FILENO)
        guard protocolOut >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else { return ExitCode.target }
        let device: MigrationDevice = seed % 2 == 0 ? ReferenceDeviceV2() : ReferenceDeviceV1()
        var random = FuzzRandom(seed: seed)
        var reader = AdapterServer.LineReader(fd: STDIN_FILENO)
        while let line = reader.next() {
            if line.isEmpty { continue }
            let (id, response, done) = AdapterServer.answer(device, line: line)
            var text = AdapterCodec.encode(response, id: id)
            if random.chance(rate) { text = AnswerMutator.mutate(text, random: &random) }
            if random.chance(rate * 20) { return 9 } // an adapter that dies now and then
            guard AdapterServer.writeLine(text, to: protocolOut) else { return 1 }
            if done { return 0 }
        }
        return 0
    }
}

/// One thing the harness found.
struct FuzzFinding {
    var family: String
    var what: String
    var input: String
}

/// Runs children, judges how they ended, and collects findings.
struct Fuzzer {
    var random: FuzzRandom
    let deadline: Double
    let keep: String?
    /// The build under test, and this one (which serves the mutated adapters).
    let binary: String
    let server: String
    let work: URL
    /// The exit codes the README documents, read from the one table every command's help prints.
    let documented: Set<Int32>
    var tried: [String: Int] = [:]
    var children: [String: Int] = [:]
    /// Inputs that were valid enough to get through: specs that loaded, targets that opened, runs with a report.
    var accepted: [String: Int] = [:]
    var findings: [FuzzFinding] = []
    var serial = 0
    var verbose = false

    init(seed: UInt64, deadline: Double, keep: String?, binary other: String?) throws {
        random = FuzzRandom(seed: seed)
        self.deadline = deadline
        self.keep = keep
        server =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        binary = other ?? server
        work = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        documented = Fuzzer.exitCodes(from: ExitCode.table)
        if let keep { try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true) }
    }

    /// The codes of the EXIT CODES table: lines that start with a number after the indentation.
    static func exitCodes(from table: String) -> Set<Int32> {
        Set(
            table.split(separator: "\n").compactMap { line -> Int32? in
                let t = line.drop { $0 == " " }
                guard line.hasPrefix("  "), let first = t.split(separator: " ").first else { return nil }
                return Int32(first)
            })
    }

    func cleanUp() { try? FileManager.default.removeItem(at: work) }

    /// How a child ended.
    struct Ending {
        var status: Int32 // the exit code, or 128 + the signal
        var hung: Bool
        var seconds: Double
        var stderr: String
    }

    mutating func child(_ family: String, _ args: [String], environment: [String: String] = [:]) -> Ending {
        children[family, default: 0] += 1
        serial += 1
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        let errURL = work.appendingPathComponent("stderr-\(serial)")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = open(errURL.path, O_WRONLY | O_CLOEXEC)
        defer { if err >= 0 { close(err) } }
        let start = Date()
        // check-spec says what is wrong on stdout: both streams go to one file.
        let sink: ChildProcess.Stream = err >= 0 ? .descriptor(err) : .null
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run(
                binary, args, environment: env, stdin: .null, stdout: sink, stderr: sink,
                timeout: deadline)
        } catch {
            return Ending(status: 255, hung: false, seconds: 0, stderr: "cannot start: \(error)")
        }
        let hung = result.timedOut
        let text = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: errURL)
        let status = result.termination.shellStatus
        if verbose {
            let line = args.map { $0.count > 100 ? String($0.prefix(80)) + "…" : $0 }.joined(separator: " ")
            Terminal.err(String(format: "  %3d %5.2f s  %@", status, Date().timeIntervalSince(start), line as NSString))
            if let first = text.split(separator: "\n").first { Terminal.err("              \(first.prefix(200))") }
        }
        return Ending(
            status: status, hung: hung, seconds: Date().timeIntervalSince(start), stderr: String(text.suffix(600)))
    }

    mutating func record(_ family: String, _ what: String, input: String, file: URL? = nil) {
        var shown = input.count > 300 ? String(input.prefix(240)) + "…(\(input.count) characters)" : input
        if let keep, let file {
            let kept = URL(fileURLWithPath: keep).appendingPathComponent(
                "\(family)-\(findings.count + 1)-\(file.lastPathComponent)")
            try? FileManager.default.copyItem(at: file, to: kept)
            shown += " (kept as \(kept.path))"
        }
        findings.append(FuzzFinding(family: family, what: what, input: shown))
    }

    /// The checks every child's ending must pass; true when it passed them.
    @discardableResult
    mutating func judge(_ family: String, _ command: String, _ e: Ending, input: String, file: URL? = nil) -> Bool {
        if e.hung {
            record(family, "\(command): still running after \(Int(deadline)) s (killed)", input: input, file: file)
        } else if e.status >= 128 {
            record(
                family,
                "\(command): ended with status \(e.status) (signal \(e.status - 128)); stderr: \(e.stderr.suffix(300))",
                input: input, file: file)
        } else if !documented.contains(e.status) {
            record(
                family, "\(command): exit code \(e.status) is not documented; stderr: \(e.stderr.suffix(300))",
                input: input, file: file)
        } else {
            return true
        }
        return false
    }

    /// A run's folder: absent when the run did not start (usage, target), else every report file non-empty and
    /// report.json valid JSON.
    mutating func judgeFolder(_ family: String, _ folder: URL, status: Int32, input: String, file: URL? = nil) {
        let fm = FileManager.default
        if status == ExitCode.usage || status == ExitCode.target {
            if fm.fileExists(atPath: folder.path) {
                record(family, "run exited \(status) but left a report folder", input: input, file: file)
            }
            return
        }
        for name in ["report.json", "report.md", "junit.xml", "report.tap"] {
            let size =
                ((try? fm.attributesOfItem(atPath: folder.appendingPathComponent(name).path))?[.size] as? Int) ?? 0
            if size == 0 {
                record(
                    family, "run exited \(status) without a complete report folder (\(name) missing or empty)",
                    input: input, file: file)
                return
            }
        }
        if let data = fm.contents(atPath: folder.appendingPathComponent("report.json").path),
            (try? JSONSerialization.jsonObject(with: data)) == nil
        {
            record(family, "report.json is not valid JSON (exit \(status))", input: input, file: file)
        }
        try? fm.removeItem(at: folder)
    }

    // MARK: - Families

    mutating func specs(count: Int) {
        let originals = [ProtocolGeneration.v2, .v1].compactMap { g -> (ProtocolGeneration, String)? in
            // The spec the binary runs with by default: a file beside it or in Specs/, else the built-in copy.
            let path = SpecLocation.defaultPath(for: g)
            if BuiltinSpecs.isBuiltin(path) {
                return BuiltinSpecs.file(String(path.dropFirst(BuiltinSpecs.scheme.count))).map { (g, $0.text) }
            }
            return (try? String(contentsOfFile: path, encoding: .utf8)).map { (g, $0) }
        }
        guard !originals.isEmpty else {
            record("specs", "the shipped specs were not found", input: SpecLocation.defaultPath(for: .v2))
            return
        }
        for i in 0..<count {
            tried["specs", default: 0] += 1
            let (_, original) = random.pick(originals)
            let text = SpecMutator.mutatedText(original, random: &random)
            let file = work.appendingPathComponent("spec-\(i).json")
            try? text.write(to: file, atomically: false, encoding: .utf8)
            let generation = text.contains("\"generation\":\"v1\"") ? "v1" : "v2"
            let input = "spec \(i) (from the \(generation) spec): \(diffSummary(original, text))"
            let check = child("specs", ["check-spec", file.path])
            guard judge("specs", "check-spec", check, input: input, file: file) else { continue }
            let folder = work.appendingPathComponent("run-\(i)")
            let run = child(
                "specs",
                [
                    "run", "--quiet", "--spec", file.path, "--target", "ref:\(generation)",
                    "--out", folder.path, "--timeout", "10",
                ])
            guard judge("specs", "run", run, input: input, file: file) else { continue }
            if check.status == ExitCode.ok { accepted["specs", default: 0] += 1 }
            let refusedByCheck = check.status == ExitCode.usage
            let refusedByRun = run.status == ExitCode.usage
            if refusedByCheck != refusedByRun {
                record(
                    "specs",
                    "check-spec exited \(check.status) but run exited \(run.status): "
                        + run.stderr.suffix(200).replacingOccurrences(of: "\n", with: " | "), input: input, file: file)
            }
            judgeFolder("specs", folder, status: run.status, input: input, file: file)
            try? FileManager.default.removeItem(at: file)
        }
    }

    /// Where a mutated text first differs from its original, for the finding's message.
    func diffSummary(_ a: String, _ b: String) -> String {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var i = 0
        // The mutated text is compact JSON; compare it with the original made compact the same way.
        let compact = (try? JSONParser.parseLine(a).text).map { Array($0.utf8) } ?? x
        while i < min(compact.count, y.count) && compact[i] == y[i] { i += 1 }
        let from = max(0, i - 40)
        return "first change at byte \(i): …" + String(decoding: y[from..<min(y.count, i + 80)], as: UTF8.self) + "…"
    }

    mutating func uris(count: Int) {
        let faults = FaultCatalogue.entries.map(\.name)
        for i in 0..<count {
            tried["uris", default: 0] += 1
            let uri = URIGenerator.make(random: &random, faults: faults)
            let list = child("uris", ["list", "--target", uri])
            guard judge("uris", "list", list, input: uri) else { continue }
            if list.status == ExitCode.ok { accepted["uris", default: 0] += 1 }
            if list.status != ExitCode.ok && list.status != ExitCode.usage && list.status != ExitCode.target {
                record("uris", "list exited \(list.status), expected 0, 2 or 3", input: uri)
            }
            if i % 3 == 0 {
                let folder = work.appendingPathComponent("uri-run-\(i)")
                let run = child(
                    "uris", ["run", "--quiet", "--target", uri, "--only", "*-SAME-STATE", "--out", folder.path])
                guard judge("uris", "run", run, input: uri) else { continue }
                if (list.status == ExitCode.usage) != (run.status == ExitCode.usage) {
                    record("uris", "list exited \(list.status) but run exited \(run.status)", input: uri)
                }
                judgeFolder("uris", folder, status: run.status, input: uri)
            }
        }
    }

    mutating func adapters(count: Int) {
        for i in 0..<count {
            tried["adapters", default: 0] += 1
            let seed = random.next() >> 1
            let rate = random.pick([15, 40, 120])
            let command = "'\(server)' fuzz --serve-adapter \(seed) --rate \(rate)"
            let folder = work.appendingPathComponent("adapter-run-\(i)")
            let run = child(
                "adapters", ["run", "--quiet", "--target", "exec:" + command, "--out", folder.path],
                environment: [
                    "MIGCONFORM_ADAPTER_TIMEOUT": "3", "MIGCONFORM_ADAPTER_RESET_TIMEOUT": "3",
                    "MIGCONFORM_ADAPTER_HELLO_TIMEOUT": "5",
                ])
            let input = "exec:migconform fuzz --serve-adapter \(seed) --rate \(rate)"
            guard judge("adapters", "run", run, input: input) else { continue }
            if run.status != ExitCode.usage && run.status != ExitCode.target { accepted["adapters", default: 0] += 1 }
            if run.status == ExitCode.usage {
                record("adapters", "run exited 2 (usage) against an adapter: \(run.stderr.suffix(200))", input: input)
            }
            judgeFolder("adapters", folder, status: run.status, input: input)
        }
    }
}
