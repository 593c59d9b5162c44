import Foundation
import MigconformLinux
import MigconformReport

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

    /// The listing, within `width` columns: each device's target URI on a line of its own (whole, to paste into
    /// `--target`), then its facts two spaces apart, wrapped four spaces in; long remarks under a hanging indent.
    static func lines(_ inventory: VFIOInventory.Inventory, width: Int = HelpText.width) -> [String] {
        var out: [String] = []
        if let problem = inventory.problem {
            out += TextLayout.hanging("no VFIO devices: ", problem, width: width, indent: 4)
        }
        for e in inventory.entries {
            out.append(e.target ?? e.name)
            let facts = [
                "\(e.bus) \(e.name)", "driver \(e.driver)", "group \(e.group ?? "-")", e.identity.detail,
            ]
            out += pack(facts, indent: 4, width: width)
            let flags = e.migrationFlags.map { " flags 0x" + String($0, radix: 16) } ?? ""
            out += TextLayout.hanging("    migration: ", "\(e.migration)\(flags)", width: width, indent: 6)
            if let problem = e.problem { out += TextLayout.hanging("    problem: ", problem, width: width, indent: 6) }
        }
        for n in inventory.notes { out += TextLayout.hanging("note: ", n, width: width, indent: 4) }
        if inventory.problem == nil {
            out.append(
                "\(inventory.entries.count) VFIO device(s), \(inventory.migratable.count) advertising migration")
        }
        return out
    }

    /// `fields` joined by two spaces, `indent` in, as many to a line as fit in `width`; one field too long for a
    /// line of its own is wrapped at its spaces, two more columns in.
    static func pack(_ fields: [String], indent: Int, width: Int) -> [String] {
        let lead = String(repeating: " ", count: indent)
        var out: [String] = []
        var current = ""
        for field in fields where !field.isEmpty {
            if current.isEmpty {
                // nothing to join
            } else if indent + current.count + 2 + field.count <= width {
                current += "  " + field
                continue
            } else {
                out.append(lead + current)
                current = ""
            }
            if indent + field.count <= width {
                current = field
            } else {
                out += TextLayout.hanging(lead, field, width: width, indent: indent + 2)
            }
        }
        if !current.isEmpty { out.append(lead + current) }
        return out
    }

    static func run(_ a: ParsedArguments) throws -> Int32 {
        let inventory = VFIOInventory.scan(sysfsRoot: a[Key.sysfs] ?? "/sys", devRoot: a[Key.dev] ?? "/dev")
        for line in lines(inventory) { Terminal.out(line) }
        return inventory.entries.isEmpty ? ExitCode.target : ExitCode.ok
    }
}
