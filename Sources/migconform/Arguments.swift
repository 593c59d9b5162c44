/// One option a command accepts, with its help text beside it.
struct OptionSpec {
    /// `--spec`.
    var name: String
    /// The value's placeholder (`FILE`), or nil for a flag.
    var value: String?
    var help: String
    /// Whether the option may be given more than once.
    var repeating = false
}

/// A command line parsed against a command's options.
struct ParsedArguments {
    var values: [String: [String]] = [:]
    var positional: [String] = []

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func flag(_ name: String) -> Bool { values[name] != nil }
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
    static func parse(_ args: [String], options: [OptionSpec], maxPositional: Int) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var i = 0
        while i < args.count {
            let arg = args[i]
            if arg == "--" { parsed.positional += args[(i + 1)...]; break }
            if arg.hasPrefix("-") && arg.count > 1 {
                var name = arg, inline: String?
                if let eq = arg.firstIndex(of: "=") { name = String(arg[..<eq]); inline = String(arg[arg.index(after: eq)...]) }
                guard let spec = options.first(where: { $0.name == name }) else {
                    let near = options.map(\.name).filter { $0.hasPrefix(String(name.prefix(4))) }
                    throw UsageError(message: "unknown option '\(name)'" + (near.isEmpty ? "" : " (did you mean \(near.joined(separator: ", "))?)"))
                }
                if spec.value != nil {
                    let v: String
                    if let inline { v = inline } else {
                        i += 1
                        guard i < args.count else { throw UsageError(message: "option \(name) needs a value \(spec.value!)") }
                        v = args[i]
                    }
                    if !spec.repeating && parsed.values[name] != nil { throw UsageError(message: "option \(name) given twice") }
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

    /// Help text: usage, abstract, then one line per option with its help beside it.
    static func help(usage: String, abstract: String, discussion: String = "", options: [OptionSpec]) -> String {
        var out = "USAGE: \(usage)\n\n\(abstract)\n"
        if !discussion.isEmpty { out += "\n\(discussion)\n" }
        out += "\nOPTIONS:\n"
        let all = options + [OptionSpec(name: "--help", value: nil, help: "Show this help.")]
        let labels = all.map { o in o.value.map { "\(o.name) \($0)" } ?? o.name }
        let width = min(30, (labels.map(\.count).max() ?? 0) + 2)
        for (label, o) in zip(labels, all) {
            let pad = label.count < width ? String(repeating: " ", count: width - label.count) : "\n  " + String(repeating: " ", count: width)
            out += "  \(label)\(pad)\(o.help)\(o.repeating ? " (repeatable)" : "")\n"
        }
        return out
    }
}
