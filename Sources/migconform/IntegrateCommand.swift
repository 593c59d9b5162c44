import Foundation
import MigconformLab
import MigconformReport

/// `migconform integrate lava|kernelci`: prints what a lab engine needs to run this binary, made from the binary's
/// own options so it always matches them.
enum IntegrateCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let driver = Option(
            "--driver", "NAME",
            help:
                "kernelci: the variant driver under test (\(LavaKernelCI.drivers.map(\.name).joined(separator: ", ")))."
        )
        static let target = Option(
            "--target", "URI",
            help: "kernelci: the target URI on the lab's hosts (vfio:/dev/vfio/GROUP/PCI-ADDRESS; for mtty the mdev's "
                + "cdev, vfio:/dev/vfio/devices/vfio0).")
        static let deviceType = Option(
            "--device-type", "NAME",
            help: "kernelci: the LAVA device type / KernelCI platform (default: x86-vfio-mig-DRIVER; qemu-x86_64 for "
                + "mtty).")
        static let migconformURL = Option(
            "--migconform-url", "URL",
            help: "kernelci: where the job downloads the release binary (scripts/build-release.sh); required.")
        static let rootfsURL = Option(
            "--rootfs-url", "URL",
            help: "kernelci: the NFS root of the job's rootfs entry (default: upstream's Debian trixie).")
        static let repository = Option(
            "--repository", "URL", help: "kernelci: the git repository holding the LAVA definition.")
        static let path = Option(
            "--path", "FILE", help: "kernelci: the definition's path in it (default: lava/migconform.yaml).")
        static let suite = Option("--suite", "NAME", help: "kernelci: kcidb_test_suite (default: migconform).")
        static let out = Option("--out", "DIR", help: "Write the files into DIR instead of printing them.")
    }

    static let configuration = CommandConfiguration(
        name: "integrate", abstract: "Print the LAVA test definition, or the KernelCI job and kernel config fragments.",
        usage: "migconform integrate lava|kernelci [options]",
        discussion: """
            lava: a 'Lava-Test Test Definition 1.0' whose run step is 'migconform run --lava': each \
            case is reported with lava-test-case as soon as it ends, in a lava-test-set per rule; \
            the step exits 0 whatever the verdicts, and a run that cannot start calls \
            lava-test-raise. Keep the file in a git repository the lab can reach.

            kernelci: the kernel config fragment, the kernelci-core LAVA test template and the \
            kernelci-pipeline fragments (kbuild, job with kcidb_test_suite, scheduler, platform).
            """,
        options: [
            Key.driver, Key.target, Key.deviceType, Key.migconformURL, Key.rootfsURL, Key.repository, Key.path,
            Key.suite, Key.out,
        ], maxPositional: 1)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        guard let engine = a.positional.first else { throw UsageError(message: "name an engine: lava or kernelci") }
        var files: [(String, String)]
        switch engine {
        case "lava":
            let known = Set(RunCommand.configuration.options.map(\.spec.name))
            for o in LavaDefinition.runOptionsUsed where !known.contains(o) {
                throw ExitFailure(
                    code: ExitCode.usage, message: "internal: 'run' has no option \(o) that the definition uses")
            }
            files = [("migconform.yaml", LavaDefinition.render(version: RunCommand.version))]
        case "kernelci":
            let driverName = a[Key.driver] ?? "mlx5"
            guard let driver = LavaKernelCI.drivers.first(where: { $0.name == driverName }) else {
                throw UsageError(
                    message:
                        "unknown driver '\(driverName)' (known: "
                        + "\(LavaKernelCI.drivers.map(\.name).joined(separator: ", ")))"
                )
            }
            guard let url = a[Key.migconformURL], !url.isEmpty else {
                throw UsageError(
                    message: "--migconform-url is required: where the job downloads the release binary "
                        + "(scripts/build-release.sh builds it); without it every job would end Incomplete")
            }
            let mtty = driver.name == "mtty"
            let s = LavaKernelCI.Settings(
                driver: driver, deviceType: a[Key.deviceType] ?? (mtty ? "qemu-x86_64" : "x86-vfio-mig-\(driver.name)"),
                target: a[Key.target] ?? (mtty ? LavaKernelCI.mttyTarget : "vfio:/dev/vfio/GROUP/PCI-ADDRESS"),
                repository: a[Key.repository] ?? "https://git.example.org/lab-testdefs.git",
                path: a[Key.path] ?? "lava/migconform.yaml", suite: a[Key.suite] ?? "migconform",
                migconformURL: url, rootfsURL: a[Key.rootfsURL] ?? LavaKernelCI.defaultRootfsURL)
            files = [
                ("\(s.fragmentName).config", LavaKernelCI.kernelConfig(s)),
                ("migconform.jinja2", LavaKernelCI.lavaTemplate(s)),
                ("kernelci-pipeline-migconform.yaml", LavaKernelCI.pipelineConfig(s)),
            ]
        default:
            throw UsageError(message: "unknown engine '\(engine)' (lava, kernelci)")
        }
        if let dir = a[Key.out] {
            let url = URL(fileURLWithPath: dir, isDirectory: true)
            do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
                throw ReportWriteError(path: dir, message: "cannot create the folder: \(error.localizedDescription)")
            }
            for (name, text) in files {
                try ReportWriter.writeAtomically(Data(text.utf8), to: url.appendingPathComponent(name))
                Terminal.err("wrote \(url.appendingPathComponent(name).path)")
            }
        } else if files.count == 1 {
            Terminal.out(files[0].1)
        } else {
            for (name, text) in files { Terminal.out("# ---- \(name)\n" + text) }
        }
        return ExitCode.ok
    }
}

/// `migconform run --lava`: the run inside a LAVA test shell. Each case goes to LAVA as it ends (``LavaReporter``);
/// afterwards the command exits 0 for any verdict (conformant, not conformant, cut short), since the verdicts are
/// LAVA's now and its `set -e` must not stop the definition. A run that cannot start (no device, no permission, a
/// spec that does not load, a device that is not the one expected) calls `lava-test-raise` with the reason and
/// keeps its exit code.
enum LavaRun {
    static func run(_ args: [String], _ body: (ParsedArguments, LavaReporter) throws -> Int32) throws -> Int32 {
        var caseOutput: URL?
        defer { if let caseOutput { try? FileManager.default.removeItem(at: caseOutput) } }
        let reporter: LavaReporter
        let code: Int32
        do {
            let a = try RunCommand.configuration.parse(args)
            if a[RunCommand.Key.lavaOutput] {
                caseOutput = FileManager.default.temporaryDirectory
                    .appendingPathComponent(
                        "migconform-lava-\(ProcessInfo.processInfo.processIdentifier)",
                        isDirectory: true)
            }
            reporter = LavaReporter(helpers: Output.lavaHelpers, caseOutput: caseOutput)
            code = try body(a, reporter)
        } catch let e as UsageError {
            LavaReporter.raise(e.message, helpers: Output.lavaHelpers)
            throw e
        } catch let e as ExitFailure {
            LavaReporter.raise(e.message, helpers: Output.lavaHelpers)
            throw e
        } catch {
            LavaReporter.raise("\(error)", helpers: Output.lavaHelpers)
            throw error
        }
        reporter.closeSet()
        switch code {
        // Every verdict, INCOMPLETE too (its cases are in LAVA as skips, its ERROR cases as failures): exit 0. Only a
        // run that could not do its job at all (its report folder not written) ends the job Incomplete.
        case ExitCode.ok, ExitCode.nonConformant, ExitCode.aborted, ExitCode.incomplete:
            Terminal.err(
                "migconform: \(reporter.reported.count) cases reported to LAVA; exit status \(code) becomes 0 under "
                    + "--lava"
            )
            return ExitCode.ok
        default:
            LavaReporter.raise("run ended with exit status \(code)", helpers: Output.lavaHelpers)
            return code
        }
    }
}
