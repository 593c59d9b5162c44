import Foundation
import MigconformDevice

/// `migconform adapter`: serves a target over the adapter protocol on stdin and stdout, so that a device on
/// another host can be tested with `--target 'exec:ssh HOST migconform adapter --target URI'`.
enum AdapterCommand: Command {

    /// The options, in the order the help lists them.
    enum Key {
        static let target = Option(
            "--target", "URI",
            help: "Device to serve (default: ref:v2).")
    }

    static let configuration = CommandConfiguration(
        name: "adapter", abstract: "Serve a target over the adapter protocol on stdin/stdout (for exec: targets).",
        usage: "migconform adapter [--target URI]",
        discussion: """
            Reads one JSON request per line on stdin and answers one JSON response per line on stdout \
            (protocol version \(AdapterProtocol.version), see Specs/ADAPTER.md), until 'bye' or end of input. \
            Nothing but protocol lines goes to stdout; diagnostics go to stderr.

            Example, with the device on another host:

              migconform run --target 'exec:ssh lab migconform adapter --target vfio:/dev/vfio/12/0000:3b:00.1'
            """,
        options: [Key.target], footer: Targets.summary)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        // The protocol gets a private copy of stdout; fd 1 itself then points at stderr, so that a stray print
        // anywhere in the process cannot corrupt the conversation.
        let protocolOut = dup(STDOUT_FILENO)
        guard protocolOut >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else {
            throw ExitFailure(
                code: ExitCode.target, message: "cannot set up stdout: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(protocolOut, F_SETFD, FD_CLOEXEC)
        signal(SIGPIPE, SIG_IGN)
        let uri = a[Key.target] ?? "ref:v2"
        let device = try Targets.open(uri)
        Terminal.err(
            "migconform adapter: serving \(uri) (\(device.identity.driver), \(device.generation.rawValue)), protocol "
                + "\(AdapterProtocol.version)"
        )
        let code = AdapterServer.serve(device, input: STDIN_FILENO, output: protocolOut) {
            Terminal.err("migconform adapter: \($0)")
        }
        close(protocolOut)
        return code
    }
}
