import Foundation

/// The state machine a spec defines, narrowed to one device's features: which states can be requested, which
/// single-step arcs exist, and the path a combination transition takes. Derived from the spec alone.
package struct Machine: Sendable {
    package let spec: Spec
    /// The features the device has (spec feature names).
    package let features: Set<String>
    /// States a user may request on this device, in spec order.
    package let settableStates: [State]
    /// Single-step arcs present on this device, in spec order.
    package let arcs: [Arc]
    /// Shortest-path trees by source state, computed on first use (a machine answers many path questions).
    private let trees: PathTrees
    /// ``Spec/stateName(forRole:)`` for every role, and the spec's states by name and by value, resolved once:
    /// cases ask them at every step.
    private let roleNames: [String: String]
    private let statesByName: [String: State]
    private let statesByValue: [UInt32: State]

    package init(spec: Spec, features: Set<String>) {
        self.spec = spec
        self.features = features
        let settable = spec.states.filter { $0.kind == .valid && Set($0.requires).isSubset(of: features) }
        self.settableStates = settable
        let names = Set(settable.map(\.name))
        self.arcs = spec.arcs.filter {
            Set($0.requires).isSubset(of: features) && features.isDisjoint(with: $0.unless)
                && names.contains($0.from) && names.contains($0.to)
        }
        self.trees = PathTrees(
            states: settable.map(\.name), arcs: self.arcs,
            sessionOpensOnlyLast: spec.paths.sessionOpensOnlyLast)
        var roles: [String: String] = [:]
        for role in Set(Spec.defaultRoles.keys).union(spec.roles.keys) {
            roles[role] = spec.stateName(forRole: role)
        }
        self.roleNames = roles
        // The first state of a name or value wins, as in the spec's own lookups.
        self.statesByName = Dictionary(spec.states.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.statesByValue = Dictionary(spec.states.map { ($0.value, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The state playing `role` (``Spec/stateName(forRole:)``).
    package func stateName(forRole role: String) -> String? { roleNames[role] }
    /// The spec's state of this name (``Spec/state(named:)``).
    package func state(named name: String) -> State? { statesByName[name] }
    /// The spec's state of this value (``Spec/state(value:)``).
    package func state(value: UInt32) -> State? { statesByValue[value] }

    /// The state after open and reset.
    package var initial: State { state(named: spec.initialState)! }

    /// Valid states whose features this device does not advertise.
    package var unadvertisedStates: [State] {
        spec.states.filter { $0.kind == .valid && !Set($0.requires).isSubset(of: features) }
    }

    package func isSettable(_ name: String) -> Bool { settableStates.contains { $0.name == name } }

    package func arc(from: String, to: String) -> Arc? { arcs.first { $0.from == from && $0.to == to } }

    /// Whether the path rules forbid a request from `from` for `to` on this device.
    package func isForbidden(from: String, to: String) -> Bool {
        spec.paths.forbidden.contains { $0.from == from && $0.to == to && Set($0.requires).isSubset(of: features) }
    }

    /// The arcs a request for `to` walks from `from`: empty when they are equal, nil when the request must be
    /// refused (forbidden, or no permitted path). Without combination transitions only a direct arc counts.
    package func path(from: String, to: String) -> [Arc]? {
        if from == to { return [] }
        if isForbidden(from: from, to: to) { return nil }
        if !spec.paths.combinations { return arc(from: from, to: to).map { [$0] } }
        // A state entered by an arc that opens a session can only end a path.
        if let answer = trees.path(from: from, to: to, restricted: true) { return answer }
        return shortestArcs(from: from, to: to) { arc in
            !(arc.session.opensSession && spec.paths.sessionOpensOnlyLast && arc.to != to)
        }
    }

    /// The fewest single-step arcs from `from` to `to` that a user can walk one request at a time (no path rules
    /// apply: each step is its own request).
    package func walk(from: String, to: String) -> [Arc]? {
        if from == to { return [] }
        if let answer = trees.path(from: from, to: to, restricted: false) { return answer }
        return shortestArcs(from: from, to: to) { _ in true }
    }

    /// Breadth-first over the arcs in spec order, so the first shortest path in that order wins (the order of the
    /// v2 spec's arcs reproduces the kernel's choices).
    func shortestArcs(from: String, to: String, allowed: (Arc) -> Bool) -> [Arc]? {
        var previous: [String: Arc] = [:]
        var frontier = [from]
        var seen: Set<String> = [from]
        while !frontier.isEmpty {
            var next: [String] = []
            for state in frontier {
                for arc in arcs where arc.from == state && !seen.contains(arc.to) && allowed(arc) {
                    seen.insert(arc.to)
                    previous[arc.to] = arc
                    if arc.to == to {
                        var path: [Arc] = []
                        var cursor = to
                        while cursor != from, let a = previous[cursor] {
                            path.insert(a, at: 0)
                            cursor = a.from
                        }
                        return path
                    }
                    next.append(arc.to)
                }
            }
            frontier = next
        }
        return nil
    }

    /// Whether the saving-group/session state of `state` is "a session is open" after entering it by `path`.
    package func sessionOpen(after path: [Arc], startingWithSession: Bool) -> Bool {
        var open = startingWithSession
        for arc in path {
            switch arc.session {
            case .opensSave, .opensResume: open = true
            case .ends: open = false
            case .keeps, .none: break
            }
        }
        return open
    }
}

/// The breadth-first searches of ``Machine/shortestArcs(from:to:allowed:)`` done once per source state instead of
/// once per (source, target) pair, with the same answers: arcs are scanned in spec order from each state of the
/// frontier, so the first shortest path in that order wins. In the restricted search (the path rules' "an arc that
/// opens a session can only end a path") such an arc reaches its target without the search going on from there;
/// the first arc to reach a state, of either kind, is the last arc of the path to it. Every search is done when the
/// trees are made (two per state, each one pass over the arcs), so they never change afterwards.
final class PathTrees: Sendable {
    private let index: [String: Int]
    private let arcs: [Arc]
    private let from: [Int], to: [Int]
    private let opens: [Bool]
    /// Arc indices by source state, in spec order.
    private let out: [[Int]]
    /// Per source and kind (`source * 2 + restricted`): for every state, the first arc reaching it and the arc the
    /// search went on from.
    private let trees: [(first: [Int], tree: [Int])]

    init(states: [String], arcs: [Arc], sessionOpensOnlyLast: Bool) {
        var index: [String: Int] = [:]
        for (i, s) in states.enumerated() where index[s] == nil { index[s] = i }
        self.index = index
        self.arcs = arcs
        from = arcs.map { index[$0.from] ?? -1 }
        to = arcs.map { index[$0.to] ?? -1 }
        opens = arcs.map { $0.session.opensSession && sessionOpensOnlyLast }
        var out = [[Int]](repeating: [], count: states.count)
        for (a, f) in from.enumerated() where f >= 0 && to[a] >= 0 { out[f].append(a) }
        self.out = out
        let to = self.to
        let opens = self.opens
        trees = (0..<states.count * 2).map { key in
            Self.search(key / 2, restricted: key % 2 == 1, out: out, to: to, opens: opens)
        }
    }

    /// The path, nil when there is none; nil also for names it does not know (the caller then searches itself).
    func path(from source: String, to target: String, restricted: Bool) -> [Arc]?? {
        guard let s = index[source], let t = index[target] else { return nil }
        let key = s * 2 + (restricted ? 1 : 0)
        let trees = self.trees[key]
        let last = trees.first[t]
        guard last >= 0 else { return .some(nil) }
        var path = [arcs[last]]
        var cursor = from[last]
        while cursor != s {
            let a = trees.tree[cursor]
            path.append(arcs[a])
            cursor = from[a]
        }
        return .some(path.reversed())
    }

    private static func search(
        _ s: Int, restricted: Bool, out: [[Int]], to: [Int],
        opens: [Bool]
    ) -> (first: [Int], tree: [Int]) {
        let n = out.count
        var first = [Int](repeating: -1, count: n)
        var tree = [Int](repeating: -1, count: n)
        var seen = [Bool](repeating: false, count: n)
        seen[s] = true
        var frontier = [s]
        while !frontier.isEmpty {
            var next: [Int] = []
            for u in frontier {
                for a in out[u] {
                    let t = to[a]
                    if seen[t] { continue }
                    if first[t] < 0 { first[t] = a }
                    if restricted && opens[a] { continue }
                    seen[t] = true
                    tree[t] = a
                    next.append(t)
                }
            }
            frontier = next
        }
        return (first, tree)
    }
}
