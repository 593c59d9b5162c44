import Foundation
import MigconformLinux

/// `migconform devices`: the VFIO devices of this host and what they advertise.
enum DevicesCommand: Command {
    static let name = "devices"
    static let abstract = "List this host's VFIO devices and their migration flags."
    static let options: [OptionSpec] = [
        OptionSpec(name: "--sysfs", value: "DIR", help: "Read sysfs from DIR instead of /sys (for testing)."),
        OptionSpec(name: "--dev", value: "DIR", help: "Read device nodes from DIR instead of /dev (for testing)."),
    ]

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            Terminal.out(ArgumentParser.help(usage: "migconform devices", abstract: abstract,
                                             discussion: "Exits 0 when VFIO devices were found, 3 when the host has no VFIO or no VFIO device.",
                                             options: options))
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: 0)
        let inventory = VFIOInventory.scan(sysfsRoot: a.value("--sysfs") ?? "/sys", devRoot: a.value("--dev") ?? "/dev")
        if let problem = inventory.problem { Terminal.out("no VFIO devices: \(problem)") }
        for e in inventory.entries {
            let flags = e.migrationFlags.map { " flags 0x" + String($0, radix: 16) } ?? ""
            Terminal.out("\(e.target ?? e.name)\n    \(e.bus) \(e.name)  driver \(e.driver)  group \(e.group ?? "-")  \(e.identity.detail)")
            Terminal.out("    migration: \(e.migration)\(flags)" + (e.problem.map { "  (\($0))" } ?? ""))
        }
        for n in inventory.notes { Terminal.out("note: \(n)") }
        if inventory.problem == nil {
            Terminal.out("\(inventory.entries.count) VFIO device(s), \(inventory.migratable.count) advertising migration")
        }
        return inventory.entries.isEmpty ? ExitCode.target : ExitCode.ok
    }
}
