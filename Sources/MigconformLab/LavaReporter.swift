import Foundation
import MigconformDevice
import MigconformReport
import MigconformRun

/// Reports a run to LAVA while it happens (`migconform run --lava`): each case becomes its own LAVA test case the
/// moment it has its final verdict, inside a LAVA test set named after its rule.
///
/// It calls the helpers LAVA puts on the device's `PATH` (`lava-test-set start|stop`, `lava-test-case NAME
/// --result R`, `lava-test-reference` for an expected failure whose expectation is a link, `lava-test-raise` for a
/// run that cannot start). Where a helper is not on `PATH` it prints the signal the helper would have printed
/// (`<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=... RESULT=...>`), which LAVA reads from the console the same way.
///
/// Names are ``EngineNames`` (no dots, no `setup`), results ``EngineVerdicts/lava(_:)`` (never `unknown`). A set is
/// started whenever the rule changes and stopped before the next one and at the end; LAVA files a case under an
/// existing set of the same name, so a rule whose cases come back later in the run is still one set. Placeholders
/// of cases another shard runs are not reported: that shard's own job reports them.
package final class LavaReporter: RunObserver {
    /// Where helper programs are looked up, and what runs them.
    package struct Helpers {
        /// Directories searched for the helpers, in order (normally `$PATH`).
        package var searchPath: [String]
        /// Output for signals printed in place of a missing helper.
        package var printSignal: (String) -> Void

        package init(searchPath: [String], printSignal: @escaping (String) -> Void) {
            self.searchPath = searchPath
            self.printSignal = printSignal
        }

        /// `$PATH` of this process; signals to standard output.
        package static var standard: Helpers {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            return Helpers(searchPath: path.split(separator: ":").map(String.init)) { line in
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        }

        /// How long one helper may take before it is killed (they print one line and exit).
        package var timeout: Double = 120

        /// The helper's full path, when one of the search directories has it.
        package func find(_ name: String) -> String? { ChildProcess.find(name, in: searchPath) }

        /// Runs a helper with its arguments and waits for it (output goes where this process's goes, so the signals
        /// reach the LAVA console in order); prints `signal` instead when the helper is missing or cannot start.
        /// Returns its status. Started with posix_spawn and reaped with waitpid, never Foundation's `Process`,
        /// which needs the loopback interface and hangs in a guest without one.
        @discardableResult
        package func call(_ name: String, _ arguments: [String], signal: String) -> Int32 {
            guard let path = find(name) else {
                printSignal(signal)
                return 0
            }
            do {
                let r = try ChildProcess.run(path, arguments, stdin: .null, timeout: timeout)
                if r.timedOut {
                    FileHandle.standardError.write(
                        Data("migconform: \(name) did not end within \(Int(timeout)) s: killed\n".utf8))
                }
                return r.termination.shellStatus
            } catch {
                printSignal(signal)
                return 0
            }
        }
    }

    let helpers: Helpers
    /// When set, every case that did not plainly pass or skip is reported with `--output FILE`, FILE holding its
    /// details and transcript (LAVA 2025.04 or later links those log lines to the case).
    let caseOutput: URL?
    private var openSet: String?
    /// Every case reported, in order: (name, result).
    package private(set) var reported: [(name: String, result: String)] = []

    package init(helpers: Helpers = .standard, caseOutput: URL? = nil) {
        self.helpers = helpers
        self.caseOutput = caseOutput
    }

    package func caseDidEnd(index: Int, result: CaseResult) { report(result) }

    /// LAVA keeps every result it is given: an amended case whose LAVA result changed is reported again under the
    /// same name, and the last result of a name is the case's verdict.
    package func caseWasAmended(index: Int, result: CaseResult) {
        // Only a change of what LAVA shows is worth a second record.
        let name = EngineNames.encode(result.id)
        if let last = reported.last(where: { $0.name == name }), last.result == EngineVerdicts.lava(result) { return }
        report(result)
    }

    /// The set and case that say a run was cut short (a signal, `--max-failures`, a wedged device): one failed
    /// case, only then, so that LAVA tells a run that stopped half way from one whose skips were all by choice.
    package static let runSet = "migconform"
    package static let cutShortCase = "run-cut-short"

    package func runDidEnd(_ report: RunReport) {
        closeSet()
        guard report.run.interrupted else { return }
        let why = report.run.stopReason ?? "the run was cut short"
        let left = report.cases.filter { $0.notRun == .stopped }.count
        helpers.call(
            "lava-test-set", ["start", Self.runSet], signal: "<LAVA_SIGNAL_TESTSET START \(Self.runSet)>")
        var arguments = [Self.cutShortCase, "--result", "fail"]
        if let dir = caseOutput {
            let file = dir.appendingPathComponent(Self.cutShortCase + ".txt")
            let text = "the run was cut short: \(PlainText.line(why)); \(left) cases not run\n"
            if (try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)) != nil,
                (try? Data(text.utf8).write(to: file)) != nil
            {
                arguments += ["--output", file.path]
            }
        }
        reported.append((Self.cutShortCase, "fail"))
        helpers.call(
            "lava-test-case", arguments,
            signal: "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=\(Self.cutShortCase) RESULT=fail>")
        helpers.call("lava-test-set", ["stop"], signal: "<LAVA_SIGNAL_TESTSET STOP>")
    }

    /// Reports one case (the observer does this as each case ends).
    package func report(_ c: CaseResult) {
        guard c.otherShard == nil else { return }
        let set = EngineNames.encode(c.ruleID)
        if set != openSet {
            closeSet()
            helpers.call("lava-test-set", ["start", set], signal: "<LAVA_SIGNAL_TESTSET START \(set)>")
            openSet = set
        }
        let name = EngineNames.encode(c.id)
        let result = EngineVerdicts.lava(c)
        reported.append((name, result))
        if [.xfail, .xpass].contains(c.verdict), let link = c.expectation.flatMap(Self.link) {
            helpers.call(
                "lava-test-reference", [name, "--result", result, "--reference", link],
                signal: "<LAVA_SIGNAL_TESTREFERENCE TEST_CASE_ID=\(name) RESULT=\(result) REFERENCE=\(link)>")
            return
        }
        var arguments = [name, "--result", result]
        if let dir = caseOutput, ![.pass, .skipped, .notApplicable].contains(c.verdict),
            let file = try? writeDetails(c, name: name, in: dir)
        {
            arguments += ["--output", file.path]
        }
        helpers.call(
            "lava-test-case", arguments, signal: "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=\(name) RESULT=\(result)>")
    }

    /// Stops the open test set, if any.
    package func closeSet() {
        guard openSet != nil else { return }
        helpers.call("lava-test-set", ["stop"], signal: "<LAVA_SIGNAL_TESTSET STOP>")
        openSet = nil
    }

    /// Tells LAVA the run cannot happen at all (no device, no permission, a spec that does not load): the job ends
    /// Incomplete with this message. The message is reduced to one word of safe characters.
    package static func raise(_ message: String, helpers: Helpers = .standard) {
        let word = raiseWord(message)
        helpers.call("lava-test-raise", [word], signal: "<LAVA_SIGNAL_TESTRAISE \(word)>")
    }

    /// `cannot open vfio:/dev/vfio/7/x: EACCES` -> `migconform-cannot-open-vfio:/dev/vfio/7/x:-EACCES`.
    static func raiseWord(_ message: String) -> String {
        var out = "migconform"
        var gap = true
        for u in message.unicodeScalars {
            if EngineNames.isSafeCharacter(u) || u == ":" || u == "/" || u == "." {
                if gap { out += "-" }
                out.unicodeScalars.append(u)
                gap = false
            } else {
                gap = true
            }
            if out.count >= 200 { break }
        }
        return out
    }

    /// An `http(s)` link inside an expectation's reason, when there is one.
    static func link(_ reason: String) -> String? {
        reason.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            .first { $0.hasPrefix("https://") || $0.hasPrefix("http://") }
    }

    private func writeDetails(_ c: CaseResult, name: String, in dir: URL) throws -> URL {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let lines =
            [
                "\(c.id): \(c.verdict.rawValue) (\(c.level) rule \(c.ruleID))", "Statement: \(c.statement)",
                "Cite: \(c.cite)",
            ] + TranscriptFormatter.findingLines(c)
        let file = dir.appendingPathComponent(name + ".txt")
        try Data((lines.map { PlainText.line($0) }.joined(separator: "\n") + "\n").utf8).write(to: file)
        return file
    }
}
