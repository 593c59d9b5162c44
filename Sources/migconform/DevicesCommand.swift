import Foundation
import MigconformLinux

/// `migconform devices`: the VFIO devices of this host and what they advertise.
enum DevicesCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let sysfs = Option(
            "--sysfs", "DIR",
            help: "Read sysfs from DIR instead of /sys (for testing).")
        static let dev = Option(
            "--dev", "DIR",
            help: "Read device nodes from DIR instead of /dev (for testing).")
    }

    static let configuration = CommandConfiguration(
        name: "devices", abstract: "List this host's VFIO devices and their migration flags.",
        usage: "migconform devices",
        discussion: "Exits 0 when VFIO devices were found, 3 when the host has no VFIO or no VFIO device.",
        options: [Key.sysfs, Key.dev])

    static func run(_ a: ParsedArguments) throws -> Int32 {
        let inventory = VFIOInventory.scan(sysfsRoot: a[Key.sysfs] ?? "/sys", devRoot: a[Key.dev] ?? "/dev")
        if let problem = inventory.problem { Terminal.out("no VFIO devices: \(problem)") }
        for e in inventory.entries {
            let flags = e.migrationFlags.map { " flags 0x" + String($0, radix: 16) } ?? ""
            Terminal.out(
                "\(e.target ?? e.name)\n    \(e.bus) \(e.name)  driver \(e.driver)  group \(e.group ?? "-")  "
                    + "\(e.identity.detail)"
            )
            Terminal.out("    migration: \(e.migration)\(flags)" + (e.problem.map { "  (\($0))" } ?? ""))
        }
        for n in inventory.notes { Terminal.out("note: \(n)") }
        if inventory.problem == nil {
            Terminal.out(
                "\(inventory.entries.count) VFIO device(s), \(inventory.migratable.count) advertising migration")
        }
        return inventory.entries.isEmpty ? ExitCode.target : ExitCode.ok
    }
}
