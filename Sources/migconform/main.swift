import Foundation

/// A subcommand: a name, its help, and what it does. Each returns its exit code.
protocol Command {
    static var name: String { get }
    static var abstract: String { get }
    static func run(_ args: [String]) throws -> Int32
}

/// A command as the dispatcher sees it.
struct CommandEntry {
    var name: String
    var abstract: String
    var run: ([String]) throws -> Int32
    init<C: Command>(_ c: C.Type) { name = C.name; abstract = C.abstract; run = C.run }
}

let commands: [CommandEntry] = [
    CommandEntry(RunCommand.self), CommandEntry(ListCommand.self), CommandEntry(CheckSpecCommand.self),
    CommandEntry(SpecsCommand.self),
    CommandEntry(DevicesCommand.self), CommandEntry(FaultsCommand.self), CommandEntry(PlanCommand.self),
    CommandEntry(ExploreCommand.self), CommandEntry(ReplayCommand.self),
    CommandEntry(AdapterCommand.self),
    CommandEntry(BenchCommand.self),
    CommandEntry(IntegrateCommand.self), CommandEntry(ExportCommand.self),
    CommandEntry(ReportCommand.self), CommandEntry(BaselineCommand.self), CommandEntry(DiffCommand.self),
    CommandEntry(MergeCommand.self), CommandEntry(VerifyCommand.self),
    CommandEntry(FuzzCommand.self),
]

func topLevelHelp() -> String {
    var out = """
    migconform: conformance tests for VFIO device-migration drivers.

    USAGE: migconform <command> [options]      (no command: run the v2 spec on the reference device)

    COMMANDS:

    """
    for c in commands { out += "  " + c.name.padding(toLength: 12, withPad: " ", startingAt: 0) + c.abstract + "\n" }
    out += "\nRun 'migconform <command> --help' for a command's options.\n\n" + Targets.summary + "\n" + ExitCode.table + "\n"
    return out
}

func main() -> Int32 {
    var args = Array(CommandLine.arguments.dropFirst())
    if args.first == "--help" || args.first == "-h" || args.first == "help" {
        Terminal.out(topLevelHelp())
        return ExitCode.ok
    }
    if args.first == "--version" { Terminal.out("migconform \(RunCommand.version)"); return ExitCode.ok }
    var command = commands[0]
    if let first = args.first, !first.hasPrefix("-") {
        guard let found = commands.first(where: { $0.name == first }) else {
            Terminal.err("migconform: unknown command '\(first)'. Commands: \(commands.map(\.name).joined(separator: ", ")). See 'migconform --help'.")
            return ExitCode.usage
        }
        command = found
        args.removeFirst()
    }
    do {
        return try command.run(args)
    } catch let e as UsageError {
        Terminal.err("migconform \(command.name): \(e.message)\nSee 'migconform \(command.name) --help'.")
        return ExitCode.usage
    } catch let e as ExitFailure {
        Terminal.err("migconform \(command.name): \(e.message)")
        return e.code
    } catch {
        Terminal.err("migconform \(command.name): \(error)")
        return ExitCode.usage
    }
}

Output.ignoreBrokenPipes()
exit(Output.exitStatus(main()))
