import MigconformDevice
import MigconformRun
import MigconformSpec

/// A small, seedable random number generator (SplitMix64), so that a walk is reproducible from its seed.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A sequence that broke the model, before and after shrinking.
package struct Finding: Sendable {
    package var violation: Violation
    /// The minimal sequence that still fails the same way.
    package var minimal: [Action]
    package var originalLength: Int
    /// How it was found: `depth k` or `walk N of seed S`.
    package var origin: String
    package var seed: UInt64?
}

/// Counts for the report and the closing line of a run.
package struct ExplorationStats: Sendable {
    package var sequences = 0
    package var steps = 0
    package var deviceOperations = 0
    package var distinctModelStates = 0
}

/// Explores a v2 device beyond single cases: every sequence up to a depth, seeded random walks, and shrinking of
/// whatever breaks the model to a minimal sequence.
package final class Explorer {
    package let machine: Machine
    package private(set) var device: RecordingDevice
    /// Opens a fresh device like this one. With it, every sequence that is shrunk or reported is replayed on a new
    /// device, so a minimal sequence cannot lean on history the sequence itself does not contain.
    package var freshDevice: (() throws -> MigrationDevice)?
    let checker: ModelChecker
    /// Requests that must be refused, with their labels.
    let rejected: [(UInt32, String)]
    /// Whether requests the spec forbids (hazardous on kernels) may be generated.
    package var allowForbidden: Bool
    package private(set) var stats = ExplorationStats()

    package init(machine: Machine, device: RecordingDevice, allowForbidden: Bool) {
        self.machine = machine
        self.device = device
        self.checker = ModelChecker(machine: machine, device: device)
        self.allowForbidden = allowForbidden
        var rejected: [(UInt32, String)] = []
        if let e = machine.spec.stateName(forRole: "error"), let s = machine.spec.state(named: e) {
            rejected.append((s.value, e))
        }
        for s in machine.spec.states where s.kind == .outOfRange || s.kind == .reserved {
            rejected.append((s.value, s.name))
        }
        for s in machine.unadvertisedStates { rejected.append((s.value, s.name)) }
        self.rejected = rejected
    }

    /// The sequence run last, for a violation seen by the reset that starts the next one.
    private var previous: [Action] = []

    /// Runs a sequence from a reset. A violation of that first reset belongs to the sequence that left the device
    /// where the reset found it: it comes back as that sequence followed by the reset (`sequence`), so that every
    /// finding carries the actions that show it.
    func run(_ actions: [Action], fresh: Bool = false) throws -> Violation? {
        try runShowing(actions, fresh: fresh).violation
    }

    func runShowing(_ actions: [Action], fresh: Bool = false) throws -> (violation: Violation?, sequence: [Action]) {
        if fresh, let open = freshDevice {
            device = RecordingDevice(try open())
            checker.device = device
            previous = []
        }
        stats.sequences += 1
        stats.steps += actions.count
        let before = device.operationCount
        defer { stats.deviceOperations += device.operationCount - before }
        let last = previous
        previous = actions
        guard var v = try checker.run(actions) else { return (nil, actions) }
        if v.step < 0 {
            v.step = last.count
            return (v, last + [.reset])
        }
        return (v, actions)
    }

    /// The complete save stream the explorer captured, if any.
    package var savedStream: [UInt8]? { checker.savedStream }

    /// Captures one complete save stream first, so resume actions have something valid to write.
    func prepare() throws {
        guard checker.savedStream == nil, let save = machine.spec.stateName(forRole: "save") else { return }
        _ = try run([.set(save), .drain])
    }

    struct Key: Hashable {
        var model: ModelChecker.State
        var saved: Bool
    }

    /// Every sequence of up to `depth` actions from reset, pruning sequences that reach a model state already
    /// explored. Returns the first finding per violation kind.
    package func exhaustive(depth: Int) throws -> [Finding] {
        try prepare()
        var findings: [ViolationKind: Finding] = [:]
        var seen: Set<Key> = [Key(model: checker.model, saved: checker.savedStream != nil)]
        var frontier: [[Action]] = [[]]
        for _ in 0..<depth {
            var next: [[Action]] = []
            for prefix in frontier {
                if try run(prefix) != nil { continue }
                for action in checker.actions(rejected: rejected, allowForbidden: allowForbidden) {
                    let seq = prefix + [action]
                    let (found, shown) = try runShowing(seq)
                    if let v = found {
                        if findings[v.kind] == nil {
                            findings[v.kind] = try shrink(shown, v, origin: "depth \(depth)", seed: nil)
                        }
                        continue
                    }
                    let key = Key(model: checker.model, saved: checker.savedStream != nil)
                    if seen.insert(key).inserted { next.append(seq) }
                }
            }
            frontier = next
        }
        stats.distinctModelStates = seen.count
        return Self.ordered(findings)
    }

    /// `walks` random walks of `steps` actions, seeded; weighted towards actions rarely taken from a state and
    /// towards error paths (refused values, garbage, partial data, abandoned sessions, reset).
    package func randomWalks(walks: Int, steps: Int, seed: UInt64) throws -> [Finding] {
        try prepare()
        var rng = SplitMix64(seed: seed)
        var visits: [String: Int] = [:]
        var findings: [ViolationKind: Finding] = [:]
        var states: Set<Key> = []
        for w in 0..<walks {
            let walkDevice = device
            let before = device.operationCount
            defer { stats.deviceOperations += walkDevice.operationCount - before }
            var seq: [Action] = []
            if try checker.start() != nil { break }
            // Every walk ends with a reset, so that a reset that misbehaves shows inside the walk that caused it.
            for i in 0...steps {
                let options =
                    i == steps ? [Action.reset] : checker.actions(rejected: rejected, allowForbidden: allowForbidden)
                let weights = options.map { a -> Double in
                    let key = "\(checker.model.state)|\(a)"
                    var weight = 1.0 / Double(1 + visits[key, default: 0])
                    switch a {
                    case .setRaw, .writeGarbage, .writePartial, .close, .reset, .read: weight *= 2
                    default: break
                    }
                    return weight
                }
                let total = weights.reduce(0, +)
                var pick = Double(rng.next() % 1_000_000) / 1_000_000 * total
                var choice = options.count - 1
                for (i, wgt) in weights.enumerated() {
                    if pick < wgt {
                        choice = i
                        break
                    }
                    pick -= wgt
                }
                let action = options[choice]
                visits["\(checker.model.state)|\(action)", default: 0] += 1
                seq.append(action)
                stats.steps += 1
                if var v = try checker.step(action) {
                    v.step = seq.count - 1
                    if findings[v.kind] == nil {
                        findings[v.kind] = try shrink(seq, v, origin: "walk \(w + 1) of seed \(seed)", seed: seed)
                    }
                    break
                }
                states.insert(Key(model: checker.model, saved: checker.savedStream != nil))
            }
            stats.sequences += 1
        }
        stats.distinctModelStates = max(stats.distinctModelStates, states.count)
        return Self.ordered(findings)
    }

    /// Findings in an order that depends only on what was found (a dictionary's order does not): by the step that
    /// broke, then the rule's kind, then the sequence.
    static func ordered(_ findings: [ViolationKind: Finding]) -> [Finding] {
        findings.values.sorted {
            ($0.violation.step, "\($0.violation.kind)", "\($0.minimal)") < (
                $1.violation.step, "\($1.violation.kind)", "\($1.minimal)"
            )
        }
    }

    /// Reduces a failing sequence to a minimal one that fails the same way: cut it after the failing step, drop
    /// chunks and single steps while the failure stays, then simplify reads.
    package func shrink(_ sequence: [Action], _ violation: Violation, origin: String, seed: UInt64?) throws -> Finding {
        var best = Array(sequence.prefix(violation.step + 1))
        var bestViolation = violation
        func fails(_ s: [Action]) throws -> Violation? {
            guard let v = try run(s, fresh: true), v.kind == violation.kind else { return nil }
            return v
        }
        // On a fresh device the sequence must fail by itself; if it does not, it stays as found (and says so).
        if freshDevice != nil, try fails(best) == nil {
            return Finding(
                violation: violation, minimal: best, originalLength: sequence.count,
                origin: origin + " (needs the device's earlier history: not reproducible alone)", seed: seed)
        }
        var chunk = max(1, best.count / 2)
        while chunk >= 1 {
            var i = 0
            var progressed = false
            while i < best.count {
                var candidate = best
                candidate.removeSubrange(i..<min(best.count, i + chunk))
                if !candidate.isEmpty, let v = try fails(candidate) {
                    best = Array(candidate.prefix(v.step + 1))
                    bestViolation = v
                    progressed = true
                } else {
                    i += chunk
                }
            }
            if !progressed { chunk /= 2 }
        }
        for (i, a) in best.enumerated() {
            if case .drain = a {
                var candidate = best
                candidate[i] = .read(bytes: 4096)
                if let v = try fails(candidate) {
                    best = candidate
                    bestViolation = v
                }
            }
        }
        return Finding(
            violation: bestViolation, minimal: best, originalLength: sequence.count, origin: origin, seed: seed)
    }

    /// Findings as case results, each under the spec rule it breaks, with the minimal sequence's transcript.
    package func results(_ findings: [Finding]) throws -> [CaseResult] {
        var out: [CaseResult] = []
        let unadvertised = Set(machine.unadvertisedStates.map(\.name))
        for (i, f) in findings.enumerated() {
            let rule = f.violation.kind.rule(in: machine.spec, unadvertised: unadvertised)
            _ = try run(f.minimal, fresh: true)
            device.takeTranscript()
            _ = try checker.run(f.minimal)
            let transcript = device.takeTranscript()
            let level = rule?.level ?? .must
            let steps = f.minimal.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "; ")
            out.append(
                CaseResult(
                    id: "\(rule?.id ?? "MODEL")[explore-\(i + 1)]", ruleID: rule?.id ?? "MODEL", level: level,
                    statement: rule?.statement ?? "The device follows the spec's state machine.",
                    cite: rule?.cite.description ?? "spec state machine",
                    verdict: level.isMandatory ? .fail : level.isRecommended ? .warn : .info,
                    message: "found by \(f.origin), \(f.originalLength) steps, shrunk to \(f.minimal.count): \(steps)",
                    expected: f.violation.expected, actual: f.violation.actual, durationMicros: 0,
                    transcript: transcript, reproducer: transcript))
        }
        return out
    }
}
