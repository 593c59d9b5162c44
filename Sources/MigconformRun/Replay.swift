import MigconformCases
import MigconformDevice
import MigconformSpec

/// What replaying one case of a report showed.
package struct ReplayOutcome: Sendable {
    /// The case's result now.
    package var now: CaseResult
    /// The case that was run to see it: the case itself, or the one during which its violation was seen.
    package var ran: String
    /// The recorded failure (FAIL, WARN, TIMEOUT, ERROR) happened again, with the same verdict.
    package var reproduced: Bool
    /// Other cases the run judged failing: rules the replayed case saw broken (a block's cause among them).
    package var elsewhere: [CaseResult] = []
}

/// Runs one case of a report again on a device: the case itself from a reset, or, for a violation seen while
/// another case ran (`seenIn`), that case, whose run judges the violation under this case's rule again.
package enum Replay {
    package static let failing: Set<Verdict> = [.fail, .warn, .timeout, .error]

    /// `peer` and `foreign` are the other devices of the two-device rules, when the replay has them.
    package static func run(
        _ recorded: CaseResult, of report: RunReport, spec: Spec, device: MigrationDevice,
        target: String, peer: (target: String, device: MigrationDevice)? = nil,
        foreign: (target: String, device: MigrationDevice)? = nil
    ) throws -> ReplayOutcome? {
        let ran = recorded.seenIn?.first ?? recorded.id
        // The case itself and the one that saw its violation; host health speaks for a whole run.
        let hostHealth = spec.rules.first { $0.id == recorded.ruleID }?.check.judgedAtEndOfRun == true
        let only = hostHealth ? [] : Array(Set([recorded.id, ran]))
        let options = RunOptions(
            target: target,
            expansion: ExpansionOptions(
                only: only, variants: Set(report.run.variants),
                allowedHazards: Set(report.run.allowedHazards)))
        let again = try Runner(spec: spec, device: device, options: options, peer: peer, foreign: foreign).run()
        guard let now = again.cases.first(where: { $0.id == recorded.id }) else { return nil }
        let reproduced = failing.contains(recorded.deviceVerdict) && now.deviceVerdict == recorded.deviceVerdict
        let elsewhere = again.cases.filter { $0.id != recorded.id && failing.contains($0.verdict) }
        return ReplayOutcome(now: now, ran: ran, reproduced: reproduced, elsewhere: elsewhere)
    }
}

/// Sends the operations of a reproducer to a device again, exactly as recorded, and holds each answer against the
/// recorded one: what a failure that depends on what earlier cases did needs, since running its case again from a
/// reset does not repeat them. Data fds are numbered afresh by the device: a number the record names is the one the
/// device handed out at the same step now.
package enum SequenceReplay {
    package struct Outcome: Sendable {
        /// Operations sent.
        package var sent: Int
        /// The first step whose answer differs from the record: its text, what was recorded, what came now.
        package var divergence: (step: Int, operation: String, recorded: String, now: String)?
        /// Why the sequence cannot be sent as recorded (nil when it was sent).
        package var unsendable: String?
    }

    package static func run(_ entries: [TranscriptEntry], on device: MigrationDevice) throws -> Outcome {
        for (k, e) in entries.enumerated() {
            if let why = whyUnsendable(e) { return Outcome(sent: 0, unsendable: "step \(k) \(why)") }
        }
        var fds: [Int32: Int32] = [:]
        for (k, e) in entries.enumerated() {
            let op = mapped(e.operation, fds)
            let now: DeviceOutcome
            do { now = try device.perform(op) } catch {
                return Outcome(
                    sent: k + 1,
                    divergence: (k, OperationText.operation(e.operation), answer(e.outcome, e), "no answer: \(error)"))
            }
            if case .state(_, let recordedFD) = e.outcome, case .state(_, let fd) = now, recordedFD >= 0, fd >= 0 {
                fds[recordedFD] = fd
            }
            guard same(e, now) else {
                return Outcome(
                    sent: k + 1,
                    divergence: (k, OperationText.operation(e.operation), answer(e.outcome, e), answer(now, e)))
            }
        }
        return Outcome(sent: entries.count)
    }

    /// Why a recorded entry cannot be sent again as it was: bytes the record does not keep, a device that is not
    /// the target, an operation that never got an answer.
    package static func whyUnsendable(_ e: TranscriptEntry) -> String? {
        switch e.operation {
        case .onPeer, .onForeign: return "is an operation on a second device, which replay does not open"
        case .write(_, let b) where (e.byteCount ?? b.count) > b.count:
            return "wrote \(e.byteCount!) bytes, of which the report keeps the first \(b.count)"
        case .dataWrite(_, let b) where (e.byteCount ?? b.count) > b.count:
            return "wrote \(e.byteCount!) bytes, of which the report keeps the first \(b.count)"
        default: break
        }
        if e.outcome == nil { return "got no answer when it was recorded (\(e.transportError ?? "no answer"))" }
        if case .read(_, let n) = e.operation, let moved = e.byteCount, moved > 0, case .value = e.outcome,
            n > 0
        {
            return "is a summary of a transfer of \(moved) bytes, not one operation"
        }
        return nil
    }

    /// The operation with the record's fd numbers replaced by the ones the device handed out now.
    static func mapped(_ op: DeviceOperation, _ fds: [Int32: Int32]) -> DeviceOperation {
        func m(_ fd: Int32) -> Int32 { fds[fd] ?? fd }
        switch op {
        case .read(let fd, let count): return .read(fd: m(fd), count: count)
        case .write(let fd, let bytes): return .write(fd: m(fd), bytes: bytes)
        case .close(let fd): return .close(fd: m(fd))
        case .precopyInfo(let fd): return .precopyInfo(fd: m(fd))
        case .dataFD(let fd, let call): return .dataFD(fd: m(fd), call: call)
        default: return op
        }
    }

    /// Answers alike but for the numbers of new data fds (both a new fd, or both none), and, for bytes the record
    /// keeps only the first of, as far as it keeps them and in their number.
    static func same(_ recorded: TranscriptEntry, _ now: DeviceOutcome) -> Bool {
        switch (recorded.outcome, now) {
        case (.state(let a, let fa)?, .state(let b, let fb)): return a == b && (fa >= 0) == (fb >= 0)
        case (.bytes(let kept)?, .bytes(let b)) where (recorded.byteCount ?? kept.count) > kept.count:
            return b.count == recorded.byteCount && b.prefix(kept.count).elementsEqual(kept)
        default: return recorded.outcome == now
        }
    }

    static func answer(_ o: DeviceOutcome?, _ e: TranscriptEntry) -> String {
        o.map { OperationText.outcome($0, of: e.operation, byteCount: e.byteCount) } ?? "no answer"
    }
}
