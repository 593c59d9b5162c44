import Foundation
import MigconformDevice
import MigconformReference
import MigconformSelfCheck
import MigconformSpec

/// `migconform faults`: the catalogue of deliberately broken devices, and the check that each is caught.
enum FaultsCommand: Command {
    static let name = "faults"
    static let abstract = "List the fault catalogue; with --check, prove every fault is caught by its rules."
    static let options: [OptionSpec] = [
        OptionSpec(name: "--check", value: nil, help: "Run every fault and the reference devices; end with 'caught N/M'."),
        OptionSpec(name: "--only", value: "NAME", help: "Check only these faults.", repeating: true),
        OptionSpec(name: "--v2-spec", value: "FILE", help: "v2 spec (default: the built-in vfio-migration-v2.json)."),
        OptionSpec(name: "--v1-spec", value: "FILE", help: "v1 spec (default: the built-in vfio-migration-v1.json)."),
    ]

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            Terminal.out(ArgumentParser.help(usage: "migconform faults [--check] [--only NAME]", abstract: abstract,
                                             discussion: """
                                             A fault is caught when every rule it claims trips (FAIL for MUST, WARN for SHOULD, or \
                                             TIMEOUT) and no other MUST rule fails. MUST and SHOULD rules no fault claims are listed \
                                             as uncovered and count against the score. Exit 0 only with every fault caught, no rule \
                                             uncovered and the reference devices clean; 1 otherwise.
                                             """, options: options))
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: 0)
        var entries = FaultCatalogue.entries
        let only = a.all("--only")
        for name in only where FaultCatalogue.entry(named: name) == nil {
            throw UsageError(message: "no fault named '\(name)'")
        }
        if !only.isEmpty { entries = entries.filter { only.contains($0.name) } }
        guard a.flag("--check") else {
            for e in entries {
                Terminal.out("\(e.name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(e.generation.rawValue)  \(e.summary)")
                Terminal.out(String(repeating: " ", count: 39) + "trips: " + e.trips.joined(separator: ", "))
            }
            Terminal.out("\(entries.count) faults")
            return ExitCode.ok
        }
        let specs: [ProtocolGeneration: Spec] = [
            .v2: try SpecLocation.load(a.value("--v2-spec") ?? SpecLocation.defaultPath(for: .v2)),
            .v1: try SpecLocation.load(a.value("--v1-spec") ?? SpecLocation.defaultPath(for: .v1)),
        ]
        let result = try SelfCheck.run(specs: specs, entries: entries, coverage: only.isEmpty) { Terminal.progress("checking \($0)") }
        Terminal.endProgress()
        for name in result.referencesChecked {
            if let bad = result.noisyReferences[name] {
                Terminal.out("NOISY   \(name): \(bad.prefix(5).joined(separator: "; "))")
            } else {
                Terminal.out("clean   \(name)")
            }
        }
        for f in result.faults {
            let tripped = f.entry.trips.filter { f.tripped[$0] != nil }.map { "\($0) (\(f.tripped[$0]!.rawValue))" }
            Terminal.out("\(f.caught ? "caught " : "MISSED ") \(f.entry.name): \(tripped.isEmpty ? "nothing tripped" : tripped.joined(separator: ", "))")
            if !f.missed.isEmpty { Terminal.out("        did not trip: \(f.missed.joined(separator: ", "))") }
            if !f.unrelated.isEmpty { Terminal.out("        also failed (unrelated MUST rules): \(f.unrelated.joined(separator: ", "))") }
            if !f.unrelatedWarnings.isEmpty { Terminal.out("        also warned: \(f.unrelatedWarnings.joined(separator: ", "))") }
        }
        for rule in result.uncovered { Terminal.out("uncovered: \(rule) (no fault claims it)") }
        Terminal.out("caught \(result.caughtCount)/\(result.total)")
        return result.passed ? ExitCode.ok : ExitCode.nonConformant
    }
}
