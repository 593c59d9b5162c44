import Foundation
import MigconformCases
import MigconformDevice
import MigconformReport
import MigconformRun
import MigconformSpec
import MigconformLinux

/// `migconform run`: run a spec against a target and write the report folder.
enum RunCommand: Command {
    static let name = "run"
    static let abstract = "Run a spec against a device and write a report (the default command)."
    static let version = migconformVersion

    static let options: [OptionSpec] = [
        OptionSpec(name: "--spec", value: "FILE", help: "Spec to run (default: Specs/vfio-migration-v2.json, or -v1 for a v1 target)."),
        OptionSpec(name: "--target", value: "URI", help: "Device to test (default: ref:v2, the reference device with every feature)."),
        OptionSpec(name: "--out", value: "DIR", help: "Report folder (default: Reports/<spec>-<target>-<time>/)."),
        OptionSpec(name: "--only", value: "GLOB", help: "Run only cases whose case id or rule id matches (e.g. 'V2-ARC-*').", repeating: true),
        OptionSpec(name: "--exclude", value: "GLOB", help: "Leave out cases whose case id or rule id matches.", repeating: true),
        OptionSpec(name: "--variant", value: "ID", help: "Run under a variant reading the spec documents.", repeating: true),
        OptionSpec(name: "--allow-hazard", value: "ID", help: "Run cases with this hazard on affected kernels ('all' for every hazard).", repeating: true),
        OptionSpec(name: "--max-failures", value: "N", help: "Stop after N failed, timed-out or errored cases."),
        OptionSpec(name: "--quiet", value: nil, help: "Print only the summary."),
    ]

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            Terminal.out(ArgumentParser.help(usage: "migconform run [--spec FILE] [--target URI] [--out DIR] [filters...]",
                                             abstract: abstract,
                                             discussion: "Progress goes to stderr, the summary to stdout; the report folder holds report.json, report.md, junit.xml and report.tap.",
                                             options: options) + "\n" + Targets.summary + "\n" + ExitCode.table)
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: 0)
        let targetURI = a.value("--target") ?? "ref:v2"
        let device = try Targets.open(targetURI)
        defer { device.shutdown() }
        let specPath = a.value("--spec") ?? SpecLocation.defaultPath(for: device.generation)
        let spec = try SpecLocation.load(specPath)
        guard spec.generation == device.generation.rawValue else {
            throw ExitFailure(code: ExitCode.usage, message: "spec \(spec.id) is for the \(spec.generation) protocol, but \(targetURI) speaks \(device.generation.rawValue)")
        }
        var maxFailures: Int?
        if let m = a.value("--max-failures") {
            guard let n = Int(m), n > 0 else { throw UsageError(message: "--max-failures takes a positive number, not '\(m)'") }
            maxFailures = n
        }
        let known = Set(spec.variants.map(\.id))
        for v in a.all("--variant") where !known.contains(v) {
            throw UsageError(message: "spec \(spec.id) has no variant '\(v)' (it has: \(known.sorted().joined(separator: ", ")))")
        }
        let expansion = ExpansionOptions(only: a.all("--only"), exclude: a.all("--exclude"), variants: Set(a.all("--variant")),
                                         allowedHazards: Set(a.all("--allow-hazard")))
        let runner = Runner(spec: spec, device: device, options: RunOptions(target: targetURI, expansion: expansion, maxFailures: maxFailures))
        if device.identity.targetKind == "vfio" {
            let before = KernelHealth.snapshot()
            runner.hostHealth = { KernelHealth.snapshot().newProblems(since: before) }
        }
        let quiet = a.flag("--quiet")
        runner.onCaseStart = { c, i, n in Terminal.progress("[\(i + 1)/\(n)] \(c.id)") }
        runner.onCaseEnd = { r, _, _ in
            if !quiet && [.fail, .warn, .timeout, .error].contains(r.verdict) {
                Terminal.endProgress()
                Terminal.err("\(r.verdict.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(r.id): \(r.message)")
            }
        }
        Terminal.err("migconform: \(spec.id) \(spec.version) against \(targetURI) (\(device.identity.driver))")
        let report = try runner.run()
        Terminal.endProgress()
        let folder = URL(fileURLWithPath: a.value("--out") ?? defaultFolder(spec: spec, target: targetURI))
        let written = try ReportWriter.write(report, to: folder)
        Terminal.out(ConsoleSummary.render(written, color: Terminal.useColor))
        Terminal.out("report: \(folder.path)")
        if report.run.interrupted { return ExitCode.aborted }
        return report.summary.conformant ? ExitCode.ok : ExitCode.nonConformant
    }

    static func defaultFolder(spec: Spec, target: String) -> String {
        let slug = target.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(40)
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return "Reports/\(spec.id)-\(String(slug))-\(f.string(from: Date()))"
    }
}
