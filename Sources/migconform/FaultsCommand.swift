import Foundation
import MigconformDevice
import MigconformReference
import MigconformReport
import MigconformSelfCheck
import MigconformSpec

/// `migconform faults`: the catalogue of deliberately broken devices, and the check that each is caught.
enum FaultsCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let check = Flag(
            "--check",
            help: "Run every fault and the reference devices; end with 'caught N/M'.")
        static let only = RepeatedOption(
            "--only", "NAME",
            help: "Check only these faults.")
        static let v2Spec = Option(
            "--v2-spec", "FILE",
            help: "v2 spec (default: the built-in vfio-migration-v2.json).")
        static let v1Spec = Option(
            "--v1-spec", "FILE",
            help: "v1 spec (default: the built-in vfio-migration-v1.json).")
    }

    static let configuration = CommandConfiguration(
        name: "faults", abstract: "List the fault catalogue; with --check, prove every fault is caught by its rules.",
        usage: "migconform faults [--check] [--only NAME]",
        discussion: """
            A fault is caught when every rule it claims trips (FAIL for MUST, WARN for SHOULD, or \
            TIMEOUT) and no other MUST rule fails. MUST and SHOULD rules no fault claims are listed \
            as uncovered and count against the score. Exit 0 only with every fault caught, no rule \
            uncovered and the reference devices clean; 1 otherwise.
            """,
        options: [Key.check, Key.only, Key.v2Spec, Key.v1Spec])

    /// The catalogue as people read it, within `HelpText.width` columns: each name whole (it is what
    /// `--target fault:NAME` takes), its summary and rules wrapped under the summary's column, and, for a fault a
    /// plain `run` passes, the `explore` command that catches it.
    static func listing(_ entries: [FaultEntry], width: Int = HelpText.width) -> [String] {
        let nameWidth = min(36, entries.map(\.name.count).max() ?? 0)
        let indent = String(repeating: " ", count: nameWidth + 5)
        var lines: [String] = []
        for e in entries {
            let summary = TextLayout.wrap(e.summary, width: width - indent.count)
            let generation = e.generation.rawValue.padding(toLength: 2, withPad: " ", startingAt: 0)
            if e.name.count <= nameWidth {
                let name = e.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                lines.append("\(name) \(generation)  \(summary[0])")
            } else {
                lines.append("\(e.name) \(generation)")
                lines.append(indent + summary[0])
            }
            lines += summary.dropFirst().map { indent + $0 }
            let trips = TextLayout.hanging("trips: ", e.trips.joined(separator: ", "), width: width - indent.count)
            lines += trips.map { indent + $0 }
            if e.runPasses {
                lines.append(indent + "caught by explore, not by run (a plain run passes it):")
                lines.append(
                    "    migconform explore --target fault:\(e.name) --walks \(SelfCheck.walkCount) "
                        + "--seed \(SelfCheck.walkSeed)")
            }
        }
        return lines
    }

    static func run(_ a: ParsedArguments) throws -> Int32 {
        var entries = FaultCatalogue.entries
        let only = a[Key.only]
        for name in only where FaultCatalogue.entry(named: name) == nil {
            throw UsageError(message: "no fault named '\(name)'")
        }
        if !only.isEmpty { entries = entries.filter { only.contains($0.name) } }
        guard a[Key.check] else {
            for line in listing(entries) { Terminal.out(line) }
            Terminal.out("\(entries.count) faults")
            return ExitCode.ok
        }
        let specs: [ProtocolGeneration: Spec] = [
            .v2: try SpecLocation.load(a[Key.v2Spec] ?? SpecLocation.defaultPath(for: .v2)),
            .v1: try SpecLocation.load(a[Key.v1Spec] ?? SpecLocation.defaultPath(for: .v1)),
        ]
        let result = try SelfCheck.run(specs: specs, entries: entries, coverage: only.isEmpty) {
            Terminal.progress("checking \($0)")
        }
        Terminal.endProgress()
        for name in result.referencesChecked {
            if let bad = result.noisyReferences[name] {
                Terminal.out("NOISY   \(name): \(bad.prefix(5).joined(separator: "; "))")
            } else {
                Terminal.out("clean   \(name)")
            }
        }
        let width = Terminal.width(of: STDOUT_FILENO)
        // Each line wraps under its first words, at the rule ids' commas: names are never cut.
        func say(_ head: String, _ text: String) {
            Terminal.out(TextLayout.hanging(head, text, width: width, indent: 8).joined(separator: "\n"))
        }
        for f in result.faults {
            let tripped = f.entry.trips.filter { f.tripped[$0] != nil }.map { "\($0) (\(f.tripped[$0]!.rawValue))" }
            say(
                "\(f.caught ? "caught " : "MISSED ") ",
                "\(f.entry.name): \(tripped.isEmpty ? "nothing tripped" : tripped.joined(separator: ", "))")
            if !f.missed.isEmpty { say("        ", "did not trip: \(f.missed.joined(separator: ", "))") }
            if !f.unrelated.isEmpty {
                say("        ", "also failed (unrelated MUST rules): \(f.unrelated.joined(separator: ", "))")
            }
            if !f.unrelatedWarnings.isEmpty {
                say("        ", "also warned: \(f.unrelatedWarnings.joined(separator: ", "))")
            }
        }
        for rule in result.uncovered { Terminal.out("uncovered: \(rule) (no fault claims it)") }
        Terminal.out("caught \(result.caughtCount)/\(result.total)")
        return result.passed ? ExitCode.ok : ExitCode.nonConformant
    }
}
