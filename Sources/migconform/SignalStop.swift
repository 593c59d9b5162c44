import Dispatch
import Foundation
import MigconformRun

/// SIGINT and SIGTERM during a run: the first asks the runner to stop (the device is then reset and the report
/// written, marked interrupted); a second one exits at once, leaving the journal to rebuild the report from.
final class SignalStop: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var received = 0

    init(_ runner: Runner) {
        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                let n = lock.withLock {
                    received += 1
                    return received
                }
                if n > 1 {
                    Terminal.err(
                        "\nmigconform: \(name) again: exiting now; rebuild the report with 'migconform report --from-journal'"
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
    }

    func cancel() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
