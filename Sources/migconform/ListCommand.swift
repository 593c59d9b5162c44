import Foundation
import MigconformCases
import MigconformDevice
import MigconformReport
import MigconformRun
import MigconformSpec

/// `migconform list`: the rules of a spec and the cases they expand to on a target.
enum ListCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let spec = Option(
            "--spec", "FILE",
            help: "Spec to list (default: the v2 spec, or v1 for a v1 target).")
        static let target = Option(
            "--target", "URI",
            help: "Expand against this target's features (default: ref:v2).")
        static let peer = Targets.expandedPeer
        static let foreignPeer = Targets.expandedForeignPeer
        static let rules = Flag(
            "--rules",
            help: "List the rules only.")
        static let coverage = Flag(
            "--coverage",
            help: "The traceability matrix: every sentence of the uAPI texts and seeds, its level, the rules "
                + "that test it, and the counts per source (both shipped specs; exit 1 when a rule cites no known "
                + "sentence or a testable sentence has no rule and is not listed as missing with its reason)."
        )
        static let variant = RepeatedOption(
            "--variant", "ID",
            help: "Include the rules of a variant reading.")
    }

    static let configuration = CommandConfiguration(
        name: "list", abstract: "List a spec's rules, and the cases they expand to on a target.",
        usage: "migconform list [--spec FILE] [--target URI] [--peer URI] [--foreign-peer URI] [--rules] [--coverage]",
        options: [Key.spec, Key.target, Key.peer, Key.foreignPeer, Key.rules, Key.coverage, Key.variant])

    static func run(_ a: ParsedArguments) throws -> Int32 {
        if a[Key.coverage] { return try coverage() }
        let targetURI = a[Key.target] ?? "ref:v2"
        let device = try Targets.open(targetURI)
        defer { device.shutdown() }
        let spec = try SpecLocation.load(a[Key.spec] ?? SpecLocation.defaultPath(for: device.generation))
        if a[Key.rules] {
            for r in spec.rules {
                let extra =
                    (r.requires.isEmpty ? "" : " requires \(r.requires.joined(separator: ","))")
                    + (r.variant.map { " variant \($0)" } ?? "") + (r.hazard.map { " hazard \($0.id)" } ?? "")
                    + (r.tests.map { " tests \($0)" } ?? "")
                // Within 100 columns: the statement and the citation wrap under their indent.
                let head =
                    "\(r.id.padding(toLength: 36, withPad: " ", startingAt: 0)) "
                    + "\(r.level.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) "
                var lines = TextLayout.hanging(head, "\(r.check.kind.rawValue)\(extra)", width: 100, indent: 48)
                lines += TextLayout.hanging("    ", r.statement, width: 100)
                lines += TextLayout.hanging("    ", "[\(r.citeLine)]", width: 100, indent: 5)
                Terminal.out(lines.joined(separator: "\n"))
            }
            Terminal.out("\(spec.rules.count) rules in \(spec.id) \(spec.version)")
            return ExitCode.ok
        }
        let environment = try Targets.checkedEnvironment(
            for: targetURI, device: device, spec: spec, peer: a[Key.peer], foreign: a[Key.foreignPeer])
        let profile = try Discovery.discover(spec, device: RecordingDevice(device), environment: environment)
        let machine = Machine(spec: spec, features: profile.features)
        let cases = Expander.expand(
            machine,
            options: ExpansionOptions(
                variants: Set(a[Key.variant]),
                targetKind: device.identity.targetKind,
                kernelRelease: device.identity.kernelRelease))
        for c in cases {
            var note = ""
            switch c.disposition {
            case .run: break
            case .notApplicable(let why): note = "(not applicable: \(why))"
            case .skipped(let why): note = "(skipped: \(why))"
            }
            // Within 100 columns: a long note continues on lines of its own, indented.
            Terminal.out(
                TextLayout.hanging(
                    "\(c.id)  \(c.rule.level.rawValue)" + (note.isEmpty ? "" : "  "), note, width: 100, indent: 4
                )
                .joined(separator: "\n"))
        }
        let running = cases.filter { $0.disposition == .run }.count
        let summary =
            "\(cases.count) cases (\(running) to run) from \(spec.rules.count) rules; "
            + (profile.features.isEmpty
                ? "no optional features" : "features: \(profile.features.sorted().joined(separator: ", "))")
        Terminal.out(TextLayout.hanging("", summary, width: 100, indent: 4).joined(separator: "\n"))
        return ExitCode.ok
    }

    /// `list --coverage`: the matrix of `Specs/traceability.json` joined with the rules of both shipped specs.
    static func coverage() throws -> Int32 {
        let tracePath = SpecLocation.traceabilityPath
        let trace: Traceability
        do {
            trace = try TraceabilityLoader.load(path: tracePath)
        } catch {
            throw ExitFailure(code: ExitCode.usage, message: "\(tracePath) does not load:\n" + error.description)
        }
        let specs = try [ProtocolGeneration.v2, .v1].map { try SpecLocation.load(SpecLocation.defaultPath(for: $0)) }
        let check = TraceabilityCheck(trace, specs: specs)
        for line in coverageLines(check, trace: trace) { Terminal.out(line) }
        for problem in check.problems { Terminal.err(problem.description) }
        return check.problems.isEmpty ? ExitCode.ok : ExitCode.nonConformant
    }

    /// The matrix as lines of at most 100 columns.
    static func coverageLines(_ check: TraceabilityCheck, trace: Traceability) -> [String] {
        let width = 100
        var lines: [String] = []
        func wrap(_ text: String, first: String, rest: String) {
            var line = first
            var lineHasWord = false
            for word in text.split(separator: " ") {
                if lineHasWord && line.count + 1 + word.count > width {
                    lines.append(line)
                    line = rest
                    lineHasWord = false
                }
                line += (lineHasWord ? " " : "") + word
                lineHasWord = true
            }
            lines.append(line)
        }
        func pad(_ s: String, _ n: Int) -> String {
            s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0)
        }
        for source in trace.sources {
            wrap("\(source.id): \(source.title)", first: "", rest: "    ")
            for row in check.rows where row.sentence.source == source.id {
                let s = row.sentence
                let head = pad(s.id, 18) + pad(s.level.rawValue, 9) + pad(row.status.rawValue, 11)
                wrap(
                    row.rules.isEmpty ? "-" : row.rules.joined(separator: ", "), first: "  " + head,
                    rest: String(repeating: " ", count: 2 + 18 + 9 + 11))
                wrap("\(s.section): \(s.says)", first: "      ", rest: "        ")
                if let note = row.note { wrap("(\(row.status.rawValue): \(note))", first: "      ", rest: "        ") }
            }
            lines.append("")
        }
        lines.append(
            pad("source", 12)
                + ["sentences", "testable", "covered", "partly", "missing", "untestable"]
                .map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined())
        for source in trace.sources {
            let c = check.counts(source: source.id)
            let numbers = [c.testable + c.untestable, c.testable, c.covered, c.partly, c.missing, c.untestable]
            lines.append(
                pad(source.id, 12)
                    + numbers.map { String($0).padding(toLength: 11, withPad: " ", startingAt: 0) }.joined())
        }
        return lines.map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) }
    }
}
