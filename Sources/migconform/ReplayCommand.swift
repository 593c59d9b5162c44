import Foundation
import MigconformCases
import MigconformDevice
import MigconformExplore
import MigconformReport
import MigconformRun
import MigconformSpec

/// `migconform replay`: runs one case of a report again, on any target: what a driver developer runs after a fix.
enum ReplayCommand: Command {
    /// The options, in the order the help lists them.
    enum Key {
        static let target = Option(
            "--target", "URI",
            help: "Where to replay (default: the report's target).")
        static let spec = Option(
            "--spec", "FILE",
            help: "Spec (default: the one the report names).")
    }

    static let configuration = CommandConfiguration(
        name: "replay", abstract: "Run one case of a report again on a target and say whether it still fails.",
        usage: "migconform replay REPORT CASE-ID [--target URI]",
        discussion: """
            A spec case runs its check again from a reset; a sequence found by 'explore' is walked again step by step \
            against the model. Prints the recorded and the new verdict. A violation seen while another case ran (its \
            'seenIn') is replayed by running that case. When a recorded failure does not happen again that way (it \
            depended on what earlier cases did), its reproducer is sent to a freshly opened target exactly as \
            recorded, and each answer held against the recorded one. Says 'reproduced' when the recorded failure \
            happens again, 'did not reproduce' when not. Exit 0 when the case no longer fails, 1 when it or a rule it \
            saw broken still fails, 5 when it cannot tell (the case could not run: blocked, no peer, not \
            applicable; or it passes alone and its reproducer cannot be sent as recorded), 2 on usage errors (or a \
            report or spec that does not load), 3 when the target cannot be opened or is not the device expected.
            """,
        options: [Key.target, Key.spec], maxPositional: 2)

    static func run(_ a: ParsedArguments) throws -> Int32 {
        guard a.positional.count == 2 else {
            throw UsageError(message: "give a report (folder or report.json) and a case id")
        }
        let report: RunReport
        do { report = try ReportReader.load(a.positional[0]) } catch {
            throw ExitFailure(code: ExitCode.usage, message: "\(error)")
        }
        let caseID = a.positional[1]
        guard let recorded = report.cases.first(where: { $0.id == caseID }) else {
            let near = report.cases.map(\.id).filter { $0.hasPrefix(caseID.prefix(8)) }.prefix(5)
            throw UsageError(
                message: "no case '\(caseID)' in \(a.positional[0])"
                    + (near.isEmpty ? "" : " (similar: \(near.joined(separator: ", ")))"))
        }
        let targetURI = a[Key.target] ?? report.run.target
        var device = try Targets.open(targetURI)
        defer { device.shutdown() }
        let spec = try SpecLocation.load(a[Key.spec] ?? report.run.specPath)
        guard spec.generation == device.generation else {
            throw ExitFailure(
                code: ExitCode.usage,
                message: "the report's spec \(spec.id) is for the \(spec.generation) protocol, but \(targetURI) speaks "
                    + "\(device.generation.rawValue): its cases cannot be replayed there")
        }
        if spec.sha256 != report.run.specSHA256 {
            Terminal.err(
                "note: the spec's content differs from the one the report was made with (\(spec.sha256.prefix(12)) "
                    + "vs \(report.run.specSHA256.prefix(12)))"
            )
        }
        let now: CaseResult
        var reproduced: Bool
        var elsewhere: [CaseResult] = []
        if caseID.contains("[explore-") {
            guard let actions = Action.parseSequence(recorded.message) else {
                throw ExitFailure(code: ExitCode.usage, message: "case \(caseID) carries no sequence to replay")
            }
            let recorder = RecordingDevice(device)
            let profile = try Discovery.discover(spec, device: recorder)
            let machine = Machine(spec: spec, features: profile.features)
            let explorer = Explorer(machine: machine, device: recorder, allowForbidden: true)
            _ = try explorer.exhaustive(depth: 0) // captures a save stream for resume actions
            let checker = ModelChecker(machine: machine, device: recorder)
            checker.savedStream = explorer.savedStream
            let violation = try checker.run(actions)
            now = CaseResult(
                id: caseID, ruleID: recorded.ruleID, level: recorded.level, statement: recorded.statement,
                cite: recorded.cite, verdict: violation == nil ? .pass : recorded.verdict,
                message: violation.map { "\($0)" } ?? "the \(actions.count)-step sequence now matches the model")
            reproduced = violation != nil
        } else {
            let others = try peers(of: report, target: targetURI, spec: spec)
            defer { for (_, o) in others { o.device.shutdown() } }
            Targets.link(device, others["peer"]?.device)
            guard
                let outcome = try Replay.run(
                    recorded, of: report, spec: spec, device: device, target: targetURI, peer: others["peer"],
                    foreign: others["foreign"])
            else {
                throw ExitFailure(
                    code: ExitCode.usage,
                    message: "case \(caseID) does not exist on \(targetURI) (its features differ?)")
            }
            now = outcome.now
            reproduced = outcome.reproduced
            elsewhere = outcome.elsewhere
            if outcome.ran != caseID {
                Terminal.out("ran:      \(outcome.ran) (the case during which the violation was seen)")
            }
        }
        say("recorded: ", "\(recorded.verdict.rawValue) \(recorded.id): \(recorded.message)")
        say("now:      ", "\(now.verdict.rawValue) \(now.id): \(now.message)")
        for c in elsewhere { say("also:     ", "\(c.verdict.rawValue) \(c.id): \(c.message)") }
        var failing = Replay.failing.contains(now.verdict)
        var unsure = false
        // Run again from a reset, the case did not fail: the failure may need what earlier cases did first. Its
        // reproducer shows that only when it ends with the operations of the case that saw it, up to its verdict
        // (the cleanup after it is not in the reproducer): then it holds the failing answer.
        if Replay.failing.contains(recorded.verdict), !reproduced, let steps = recorded.reproducer, !steps.isEmpty,
            !Self.endsWithTheCase(steps, recorded.transcript)
        {
            say("sequence: ", "the reproducer does not end with the operations of the case that saw the failure")
            unsure = true
        } else if Replay.failing.contains(recorded.verdict), !reproduced, let steps = recorded.reproducer,
            !steps.isEmpty
        {
            device.shutdown()
            device = try Targets.open(targetURI)
            // The device's saved stream, for the writes of it the report keeps only in part: saved again by
            // another instance of a target that can be opened twice (a kernel device cannot).
            let another = targetURI.hasPrefix("ref:") || targetURI.hasPrefix("fault:") || targetURI.hasPrefix("exec:")
            // The spec's way from its initial state to its save state, by the states' values.
            let machine = Machine(spec: spec, features: Set(report.run.features))
            let toSave: [UInt32]? = machine.stateName(forRole: "save").flatMap { save in
                machine.walk(from: machine.initial.name, to: save)?.compactMap { machine.state(named: $0.to)?.value }
            }
            let savedStream: SequenceReplay.SavedStreamSource? =
                another && device.generation == .v2 && toSave?.isEmpty == false
                ? {
                    let twin = try Targets.open(targetURI)
                    defer { twin.shutdown() }
                    return try SequenceReplay.saveStream(twin, path: toSave!)
                } : nil
            // Fresh peers too, for the record's operations on them.
            let others = try peers(of: report, target: targetURI, spec: spec)
            defer { for (_, o) in others { o.device.shutdown() } }
            Targets.link(device, others["peer"]?.device)
            let sent = try SequenceReplay.run(
                steps,
                on: others.isEmpty
                    ? device : PeeredDevice(device, peer: others["peer"]?.device, foreign: others["foreign"]?.device),
                savedStream: savedStream, others: Set(others.keys),
                resumeState: spec.stateName(forRole: "resume").flatMap { spec.state(named: $0)?.value })
            if let why = sent.unsendable {
                say(
                    "sequence: ",
                    "the reproducer cannot be sent as recorded: \(why); a failure that needs what earlier cases did "
                        + "cannot be ruled out")
                unsure = true
            } else if let d = sent.divergence {
                say(
                    "sequence: ",
                    "the \(steps.count) recorded operations sent again: step \(d.step) (\(d.operation)) answered "
                        + "\(d.now), recorded \(d.recorded)")
            } else if sent.recordedData {
                // The record's own bytes went into a resume session: a device that saved them wrong then would be
                // refused now whatever it saves today.
                say(
                    "sequence: ",
                    "the \(steps.count) recorded operations sent again got every answer as recorded, but bytes "
                        + "written into a resume session were the report's, not saved again now")
                unsure = true
            } else {
                say("sequence: ", "the \(steps.count) recorded operations sent again got every answer as recorded")
                reproduced = true
                failing = true
            }
        }
        // A case that could not run now (blocked, no peer, not applicable here) tells nothing either way.
        let notRun = [.skipped, .notApplicable].contains(now.verdict)
        let cannotTell = notRun ? "could not run: cannot tell" : unsure ? "cannot tell" : nil
        Terminal.out(
            Replay.failing.contains(recorded.verdict)
                ? (reproduced ? "reproduced" : cannotTell ?? "did not reproduce")
                : (failing ? "fails now" : cannotTell ?? "still passes"))
        if failing || !elsewhere.isEmpty { return ExitCode.nonConformant }
        return cannotTell != nil ? ExitCode.incomplete : ExitCode.ok
    }

    /// The peers the run had: those it was given, opened again from their targets; those a built-in target brought,
    /// brought again by the target replayed on (so a fixed target gets fixed peers).
    static func peers(
        of report: RunReport, target: String, spec: Spec
    ) throws -> [String: (
        target: String, device: MigrationDevice
    )] {
        var others: [String: (target: String, device: MigrationDevice)] = [:]
        for p in report.run.peers ?? [] where p.openedByRun != true {
            others[p.role] = (p.target, try Targets.open(p.target))
        }
        for (role, uri) in Targets.ownPeers(for: target, spec: spec) where others[role] == nil {
            others[role] = (uri, try Targets.open(uri))
        }
        return others
    }

    /// Whether `steps` ends with the first operations of `transcript` (at least one, and every one before a reset
    /// that ends it, if any, is among them).
    static func endsWithTheCase(_ steps: [TranscriptEntry], _ transcript: [TranscriptEntry]) -> Bool {
        let ops = transcript.map(\.operation)
        for k in stride(from: min(steps.count, ops.count), through: 1, by: -1)
        where steps.suffix(k).map(\.operation) == Array(ops.prefix(k)) {
            // What the transcript did after the reproducer's end is its cleanup: closes, a reset, a state read.
            return ops.dropFirst(k).allSatisfy {
                switch $0 {
                // v1 reads its state from the migration region.
                case .close, .reset, .getState, .regionRead: return true
                default: return false
                }
            }
        }
        return false
    }

    /// A line of the replay's account, wrapped to the terminal under its label.
    static func say(_ label: String, _ text: String) {
        Terminal.out(
            TextLayout.hanging(label, text, width: Terminal.width(of: STDOUT_FILENO), indent: 10).joined(
                separator: "\n"))
    }
}
