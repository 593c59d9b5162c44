import MigconformCases
import MigconformSpec

/// Where a case starts and ends on the state machine, and what it costs by itself: the planner's model of a case.
package struct CaseShape: Sendable, Equatable {
    /// The state the case must start in; nil when it can run anywhere and leaves the state alone.
    package var start: String?
    /// The case needs a session opened on entering `start` (it reads or writes the data fd).
    package var fresh: Bool = false
    /// The state the case leaves the device in (the initial state when the case ends with a reset).
    package var end: String?
    /// State requests the case makes itself (positioning inside the case included).
    package var sets: Int
    /// Resets the case makes itself.
    package var resets: Int

    /// The shape of a case on a machine.
    package static func of(_ c: TestCase, on m: Machine) -> CaseShape { of(c, on: m, distances: Distances(m)) }

    /// The shape of a case, with the machine's ``Distances`` already at hand.
    package static func of(_ c: TestCase, on m: Machine, distances d: Distances) -> CaseShape {
        let check = c.rule.check
        let (initial, save, pre, resume, exit) = (d.initial, d.save, d.preCopy, d.resume, d.resumeExit)
        func dist(_ a: String?, _ b: String?) -> Int {
            guard let a, let b else { return 0 }
            return d.sets(a, b, fresh: d.sessionStates.contains(b)) ?? 0
        }
        var shape = shapeOf(c, m, check, initial, save, pre, resume, exit, d, dist)
        // Cases that use the data fd need a fresh session; so does any case starting in the resume state (a valid
        // stream is written there first).
        if let start = shape.start, d.sessionStates.contains(start) {
            shape.fresh = check.usesDataFD || start == resume
        }
        return shape
    }

    private static func shapeOf(
        _ c: TestCase, _ m: Machine, _ check: Check, _ initial: String, _ save: String?,
        _ pre: String?, _ resume: String?, _ exit: String?, _ d: Distances,
        _ dist: (String?, String?) -> Int
    ) -> CaseShape {
        switch check {
        case .migrationFlags, .hostHealth:
            return CaseShape(start: nil, end: nil, sets: 0, resets: 0)
        case .peer(let p):
            switch p.expect {
            case .resumeOnPeer: return CaseShape(start: nil, end: nil, sets: 0, resets: 0)
            case .twoDeviceOrder: return CaseShape(start: initial, end: initial, sets: 7, resets: 0)
            case .foreignRefused:
                return CaseShape(start: initial, end: initial, sets: dist(initial, resume) + 1, resets: 1)
            }
        case .dmaLogging:
            if c.to != nil { return CaseShape(start: c.from, end: c.to, sets: 1, resets: 0) }
            return CaseShape(start: c.from, end: c.from, sets: 0, resets: 0)
        case .feature(let p):
            // From the error state: a failed resume gets there, and only a reset leaves it.
            if p.from == .error { return CaseShape(start: resume, end: initial, sets: 1, resets: 1) }
            guard let s = c.from else { return CaseShape(start: nil, end: nil, sets: 0, resets: 0) }
            return CaseShape(start: s, end: s, sets: 0, resets: 0)
        case .deviceAccess:
            return CaseShape(start: c.from, end: c.from, sets: 0, resets: 0)
        case .dataFD(let p):
            switch p.expect {
            case .shortArgsz, .pollAtTemporaryEnd: return CaseShape(start: pre, end: pre, sets: 0, resets: 0)
            case .pollAtEnd: return CaseShape(start: save, end: save, sets: 0, resets: 0)
            case .saveRepeatable: return CaseShape(start: save, end: save, sets: 2, resets: 0)
            case .closeOnExec, .accessMode, .notSeekable, .unknownIoctl, .precopyInfoRefused:
                return CaseShape(start: c.from, end: c.from, sets: 0, resets: 0)
            }
        case .precopyInfoV2(let p):
            switch p.expect {
            case .flagsDefined, .reinit: return CaseShape(start: pre, end: pre, sets: 0, resets: 0)
            case .setOnly, .optIn, .refusedWithoutPreCopy: return CaseShape(start: nil, end: nil, sets: 0, resets: 0)
            }
        case .arc, .combination, .sessionKept, .sessionEnded:
            return CaseShape(start: c.from, end: c.to, sets: 1, resets: 0)
        case .sameState, .forbiddenArc:
            return CaseShape(start: c.from, end: c.from, sets: 1, resets: 0)
        case .rejectedValue:
            let next = c.from.flatMap { f in m.arcs.first { $0.from == f }?.to }
            return CaseShape(start: c.from, end: next ?? c.from, sets: next == nil ? 1 : 2, resets: 0)
        case .reset:
            return CaseShape(start: c.from, end: initial, sets: 0, resets: 1)
        case .lifecycle:
            // Closing and opening the device costs about a reset, and leaves it in the initial state. The error
            // state is reached from the resume state by a failed exit.
            if c.from != nil, c.from == m.stateName(forRole: "error") {
                return CaseShape(start: resume, end: initial, sets: 1, resets: 1)
            }
            return CaseShape(start: c.from, end: initial, sets: 0, resets: 1)
        case .errorSticky(let p):
            let refused = p.expect == .requestsRefused ? m.settableStates.count : 0
            return CaseShape(start: resume, end: initial, sets: 1 + refused, resets: 1)
        case .regionAccess(let p):
            let start = p.expect == .nativeWidth ? initial : save
            return CaseShape(start: start, end: start, sets: 0, resets: 0)
        case .streamEnd, .saveProtocol:
            return CaseShape(start: save, end: save, sets: 0, resets: 0)
        case .precopyInfo(let p):
            if p.expect == .supportedInP2P {
                let group = pre.flatMap { m.state(named: $0)?.group }
                let p2p = m.settableStates.first {
                    $0.group != nil && $0.group == group && $0.name != pre && $0.name != save
                }
                return CaseShape(start: p2p?.name ?? pre, end: p2p?.name ?? pre, sets: 0, resets: 0)
            }
            let moves = p.expect == .refusedOutsidePrecopy ? 1 : 0
            return CaseShape(start: pre, end: moves == 1 ? save : pre, sets: moves, resets: 0)
        case .roundTrip(let p):
            let viaPre = p.via == .preCopy
            let start = viaPre ? pre : save
            let toSave = viaPre ? dist(pre, save) : 0
            return CaseShape(start: start, end: exit, sets: toSave + dist(save, resume) + 1, resets: 0)
        case .resumeDamaged:
            return CaseShape(start: save, end: initial, sets: dist(save, resume) + 1, resets: 1)
        case .invariant(let p):
            if p.name == .noSpontaneousChange {
                let states = m.settableStates.map(\.name)
                var sets = 0
                for (a, b) in zip(states, states.dropFirst()) { sets += dist(a, b) }
                return CaseShape(start: states.first, end: states.last, sets: sets, resets: 0)
            }
            let arcs = invariantArcs(m)
            var sets = 0
            var at = arcs.first?.from
            for arc in arcs {
                sets += arc.from == at && arc.from == resume ? 1 : dist(at, arc.from) + 1
                at = arc.to
            }
            return CaseShape(start: arcs.first?.from, end: arcs.last?.to, sets: sets, resets: 0)
        case .reservedBits(let p):
            if p.expect == .reservedField { return CaseShape(start: initial, end: initial, sets: 0, resets: 0) }
            let next = m.arcs.first { $0.from == initial }?.to
            return CaseShape(start: initial, end: next ?? initial, sets: 1, resets: 0)
        }
    }
}

extension CaseShape {
    /// The order the `error-only-after-failure` invariant takes every arc in: the machine's, except that each arc
    /// into the resume state is followed at once by the arcs out of it, so that the one stream loaded there serves
    /// every exit.
    package static func invariantArcs(_ m: Machine) -> [Arc] {
        let resume = m.stateName(forRole: "resume")
        var taken = Set<Int>()
        var order: [Arc] = []
        for (i, arc) in m.arcs.enumerated() where !taken.contains(i) {
            taken.insert(i)
            order.append(arc)
            guard arc.to == resume else { continue }
            for (k, out) in m.arcs.enumerated() where !taken.contains(k) && out.from == resume {
                taken.insert(k)
                order.append(out)
                break
            }
        }
        return order
    }
}

/// Positioning distances on a machine, in single-step requests.
package struct Distances: Sendable {
    package let machine: Machine
    /// States some arc enters by opening a session.
    package let sessionStates: Set<String>
    /// The initial state and the states playing the roles a case's shape starts or ends in, looked up once:
    /// the planner asks for them for every case.
    package let initial: String
    package let save: String?
    package let preCopy: String?
    package let resume: String?
    package let resumeExit: String?

    package init(_ m: Machine) {
        machine = m
        sessionStates = Set(m.arcs.filter { $0.session.opensSession }.map(\.to))
        initial = m.initial.name
        save = m.stateName(forRole: "save")
        preCopy = m.stateName(forRole: "pre-copy")
        resume = m.stateName(forRole: "resume")
        resumeExit = m.stateName(forRole: "resume-exit")
    }

    /// The fewest single-step arcs from `a` to `b`.
    package func path(_ a: String, _ b: String) -> [Arc]? { machine.walk(from: a, to: b) }

    /// The fewest arcs from `a` into `b` ending with an arc that opens a session there (a fresh session).
    package func freshPath(_ a: String, _ b: String) -> [Arc]? {
        var best: [Arc]?
        for arc in machine.arcs where arc.to == b && arc.session.opensSession {
            if let p = path(a, arc.from), best == nil || p.count + 1 < best!.count { best = p + [arc] }
        }
        return best
    }

    /// Requests to reach a start point.
    package func sets(_ a: String, _ b: String, fresh: Bool = false) -> Int? {
        (fresh ? freshPath(a, b) : path(a, b))?.count
    }
}
