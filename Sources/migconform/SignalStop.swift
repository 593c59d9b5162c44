import Dispatch
import Foundation
import MigconformRun

/// SIGINT and SIGTERM during a run: the first asks the runner to stop (the device is then reset and the report
/// written, marked interrupted); a second one exits at once, leaving the journal to rebuild the report from.
final class SignalStop {
    private let sources: [any DispatchSourceSignal]

    /// Signals received so far, shared with the handlers.
    private final class Count: Sendable {
        let value = Guarded(0)
    }

    init(_ runner: Runner) {
        var sources: [any DispatchSourceSignal] = []
        let received = Count()
        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let n = received.value.withLock {
                    $0 += 1
                    return $0
                }
                if n > 1 {
                    Terminal.err(
                        "\nmigconform: \(name) again: exiting now; rebuild the report with 'migconform report "
                            + "--from-journal'"
                    )
                    _exit(128 + sig)
                }
                Terminal.err(
                    "\nmigconform: \(name): stopping after the device is reset (\(name) again to exit at once)")
                runner.stop("interrupted by \(name)")
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
