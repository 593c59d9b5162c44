import Foundation
import MigconformBase
import MigconformReport

/// When the command started (``MonotonicClock`` nanoseconds), for the run's cost split (``RunCost/command``). The
/// first statement of this file, so that it is read before anything else runs.
let commandStartNanos = MonotonicClock.nanoseconds()

/// A command as the dispatcher sees it.
struct CommandEntry {
    var configuration: CommandConfiguration
    var main: ([String]) throws -> Int32
    var name: String { configuration.name }
    var abstract: String { configuration.abstract }
    init<C: Command>(_ c: C.Type) {
        configuration = C.configuration
        main = C.main
    }
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

@MainActor
func topLevelHelp() -> String {
    var out = """
        migconform: conformance tests for VFIO device-migration drivers.

        USAGE: migconform <command> [options]      (no command: run the v2 spec on the reference device)

        COMMANDS:

        """
    for c in commands { out += HelpText.row(c.name, c.abstract, column: 12).joined(separator: "\n") + "\n" }
    out +=
        "\nRun 'migconform <command> --help' for a command's options.\n\n"
        + HelpText.fit(Targets.summary + "\n" + ExitCode.table) + "\n"
    return out
}

@MainActor
func main() -> Int32 {
    var args = Array(CommandLine.arguments.dropFirst())
    if args.first == "--help" || args.first == "-h" || args.first == "help" {
        Terminal.out(topLevelHelp())
        return ExitCode.ok
    }
    if args.first == "--version" {
        Terminal.out("migconform \(RunCommand.version)")
        return ExitCode.ok
    }
    var command = commands[0]
    if let first = args.first, !first.hasPrefix("-") {
        guard let found = commands.first(where: { $0.name == first }) else {
            Terminal.err(
                "migconform: unknown command '\(first)'. Commands: \(commands.map(\.name).joined(separator: ", ")). "
                    + "See 'migconform --help'."
            )
            return ExitCode.usage
        }
        command = found
        args.removeFirst()
    }
    // Every command's help, in one place: `--help` or `-h` anywhere among its arguments.
    if ArgumentParser.wantsHelp(args) {
        Terminal.out(command.configuration.help)
        return ExitCode.ok
    }
    do {
        return try command.main(args)
    } catch let e as UsageError {
        Terminal.errMessage(
            "migconform \(command.name): ", "\(e.message)\nSee 'migconform \(command.name) --help'.")
        return ExitCode.usage
    } catch let e as ReportWriteError {
        Terminal.errMessage("migconform \(command.name): ", "\(e)")
        return ExitCode.output
    } catch let e as ExitFailure {
        Terminal.errMessage("migconform \(command.name): ", e.message)
        return e.code
    } catch {
        Terminal.errMessage("migconform \(command.name): ", "\(error)")
        return ExitCode.usage
    }
}

Output.claimStandardStreams()
Output.ignoreBrokenPipes()
exit(Output.exitStatus(main()))
