import Foundation
import MigconformReport

/// One option a command accepts, with its help text beside it.
struct OptionSpec: Sendable {
    /// `--spec`.
    var name: String
    /// The value's placeholder (`FILE`), or nil for a flag.
    var value: String?
    var help: String
    /// Whether the option may be given more than once.
    var repeating = false
    /// Accepted but left out of the help (options the binary passes to its own children).
    var hidden = false
}

/// A typed option key: the one constant that both the help shows and the command reads.
protocol OptionKey: Sendable {
    var spec: OptionSpec { get }
}

/// An option without a value (`--quiet`), read as a Bool.
struct Flag: OptionKey {
    let spec: OptionSpec
    init(_ name: String, help: String) { spec = OptionSpec(name: name, value: nil, help: help) }
}

/// An option with one value (`--target URI`), read as `String?`; given twice is a usage error.
struct Option: OptionKey {
    let spec: OptionSpec
    init(_ name: String, _ value: String, help: String, hidden: Bool = false) {
        spec = OptionSpec(name: name, value: value, help: help, hidden: hidden)
    }
}

/// An option that may be repeated (`--only GLOB`), read as every value given, in order.
struct RepeatedOption: OptionKey {
    let spec: OptionSpec
    init(_ name: String, _ value: String, help: String) {
        spec = OptionSpec(name: name, value: value, help: help, repeating: true)
    }
}

/// A command line parsed against a command's options.
struct ParsedArguments {
    /// The arguments as given.
    var arguments: [String] = []
    var values: [String: [String]] = [:]
    var positional: [String] = []

    subscript(_ key: Option) -> String? { values[key.spec.name]?.last }
    subscript(_ key: RepeatedOption) -> [String] { values[key.spec.name] ?? [] }
    subscript(_ key: Flag) -> Bool { values[key.spec.name] != nil }
}

/// What a command is: its name, help and options. The dispatcher prints its help and parses its arguments.
struct CommandConfiguration: Sendable {
    var name: String
    var abstract: String
    /// The usage line(s), after `USAGE: `.
    var usage: String
    var discussion = ""
    var options: [any OptionKey] = []
    /// How many positional arguments the command takes (`.max`: any number).
    var maxPositional = 0
    /// Text after the option list (the target table, the exit codes).
    var footer = ""

    /// The text of `migconform NAME --help`.
    var help: String {
        let text = ArgumentParser.help(
            usage: usage, abstract: abstract, discussion: discussion,
            options: options.map(\.spec).filter { !$0.hidden })
        return footer.isEmpty ? text : text + "\n" + HelpText.fit(footer)
    }

    func parse(_ args: [String]) throws -> ParsedArguments {
        try ArgumentParser.parse(args, options: options.map(\.spec), maxPositional: maxPositional)
    }
}

/// A subcommand: its configuration and what it does with the parsed arguments. Each returns its exit code.
protocol Command {
    static var configuration: CommandConfiguration { get }
    static func run(_ a: ParsedArguments) throws -> Int32
    /// Parses the arguments and runs; a command that must see its own usage errors (run --lava) replaces it.
    static func main(_ args: [String]) throws -> Int32
}

extension Command {
    static var name: String { configuration.name }
    static var abstract: String { configuration.abstract }
    static func main(_ args: [String]) throws -> Int32 { try run(configuration.parse(args)) }
}

/// A usage problem: the message is printed with a pointer to `--help`, and the exit code is 2.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A failure with its own exit code (spec errors, targets that cannot be opened).
struct ExitFailure: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { message }
}

enum ArgumentParser {
    /// True when the arguments ask for help: `--help` or `-h` anywhere.
    static func wantsHelp(_ args: [String]) -> Bool { args.contains("--help") || args.contains("-h") }

    static func parse(_ args: [String], options: [OptionSpec], maxPositional: Int) throws -> ParsedArguments {
        var parsed = ParsedArguments(arguments: args)
        var i = 0
        while i < args.count {
            let arg = args[i]
            if arg == "--" {
                parsed.positional += args[(i + 1)...]
                break
            }
            if arg.hasPrefix("-") && arg.count > 1 {
                var name = arg
                var inline: String?
                if let eq = arg.firstIndex(of: "=") {
                    name = String(arg[..<eq])
                    inline = String(arg[arg.index(after: eq)...])
                }
                guard let spec = options.first(where: { $0.name == name }) else {
                    let near = options.map(\.name).filter { $0.hasPrefix(String(name.prefix(4))) }
                    throw UsageError(
                        message: "unknown option '\(name)'"
                            + (near.isEmpty ? "" : " (did you mean \(near.joined(separator: ", "))?)"))
                }
                if let placeholder = spec.value {
                    let v: String
                    if let inline {
                        v = inline
                    } else {
                        i += 1
                        guard i < args.count else {
                            throw UsageError(message: "option \(name) needs a value \(placeholder)")
                        }
                        v = args[i]
                    }
                    if !spec.repeating && parsed.values[name] != nil {
                        throw UsageError(message: "option \(name) given twice")
                    }
                    parsed.values[name, default: []].append(v)
                } else {
                    if inline != nil { throw UsageError(message: "option \(name) takes no value") }
                    parsed.values[name] = []
                }
            } else {
                parsed.positional.append(arg)
            }
            i += 1
        }
        if parsed.positional.count > maxPositional {
            throw UsageError(message: "unexpected argument '\(parsed.positional[maxPositional])'")
        }
        return parsed
    }

    /// Help text: usage, abstract, discussion, then one row per option with its help beside it; every line fits in
    /// `HelpText.width` columns (prose is wrapped, an option's help continues under its own column).
    static func help(usage: String, abstract: String, discussion: String = "", options: [OptionSpec]) -> String {
        let usageLines = usage.components(separatedBy: "\n").enumerated().flatMap { i, line in
            TextLayout.hanging(i == 0 ? "USAGE: " : "       ", line, width: HelpText.width)
        }
        var out = usageLines.joined(separator: "\n") + "\n\n" + HelpText.paragraphs(abstract) + "\n"
        if !discussion.isEmpty { out += "\n" + HelpText.paragraphs(discussion) + "\n" }
        out += "\nOPTIONS:\n"
        let all = options + [OptionSpec(name: "--help", value: nil, help: "Show this help.")]
        let labels = all.map { o in o.value.map { "\(o.name) \($0)" } ?? o.name }
        let width = min(30, (labels.map(\.count).max() ?? 0) + 2)
        for (label, o) in zip(labels, all) {
            let text = o.help + (o.repeating ? " (repeatable)" : "")
            out += HelpText.row(label, text, column: width).joined(separator: "\n") + "\n"
        }
        return out
    }
}
