import Foundation
import MigconformDevice

/// `migconform adapter`: serves a target over the adapter protocol on stdin and stdout, so that a device on
/// another host can be tested with `--target 'exec:ssh HOST migconform adapter --target URI'`.
enum AdapterCommand: Command {
    static let name = "adapter"
    static let abstract = "Serve a target over the adapter protocol on stdin/stdout (for exec: targets)."

    static let options: [OptionSpec] = [
        OptionSpec(name: "--target", value: "URI", help: "Device to serve (default: ref:v2)."),
    ]

    static func run(_ args: [String]) throws -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            Terminal.out(ArgumentParser.help(
                usage: "migconform adapter [--target URI]", abstract: abstract,
                discussion: """
                Reads one JSON request per line on stdin and answers one JSON response per line on stdout \
                (protocol version \(AdapterProtocol.version), see Specs/ADAPTER.md), until 'bye' or end of input. \
                Nothing but protocol lines goes to stdout; diagnostics go to stderr.
                Example: migconform run --target 'exec:ssh labhost migconform adapter --target vfio:/dev/vfio/12/0000:3b:00.1'
                """,
                options: options) + "\n" + Targets.summary)
            return ExitCode.ok
        }
        let a = try ArgumentParser.parse(args, options: options, maxPositional: 0)
        // The protocol gets a private copy of stdout; fd 1 itself then points at stderr, so that a stray print
        // anywhere in the process cannot corrupt the conversation.
        let protocolOut = dup(STDOUT_FILENO)
        guard protocolOut >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else {
            throw ExitFailure(code: ExitCode.target, message: "cannot set up stdout: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(protocolOut, F_SETFD, FD_CLOEXEC)
        signal(SIGPIPE, SIG_IGN)
        let uri = a.value("--target") ?? "ref:v2"
        let device = try Targets.open(uri)
        Terminal.err("migconform adapter: serving \(uri) (\(device.identity.driver), \(device.generation.rawValue)), protocol \(AdapterProtocol.version)")
        let code = AdapterServer.serve(device, input: STDIN_FILENO, output: protocolOut) { Terminal.err("migconform adapter: \($0)") }
        close(protocolOut)
        return code
    }
}
