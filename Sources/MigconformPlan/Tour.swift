import MigconformCases
import MigconformSpec

/// One step of a tour: move the device, or run a case.
package enum TourStep: Sendable {
    /// Walk these single-step arcs (after a reset first, when `reset` is set).
    case position(reset: Bool, path: [Arc])
    /// Run the case at this index of the plan's case list.
    case run(Int)
}

/// What a tour costs, in resets and state requests, beside the lower bound for the same cases.
package struct TourCost: Sendable, Equatable, CustomStringConvertible {
    package var resets: Int
    package var sets: Int
    package static let resetWeight = 1000
    /// Resets first, then requests: one reset outweighs any number of requests a tour could save by it.
    package var weighted: Int { resets * Self.resetWeight + sets }
    package var description: String { "\(resets) resets + \(sets) requests" }
}

/// Plans an order for the cases that chains them on the state machine: each case starts where the previous one
/// left the device, reached by the fewest single-step requests, so the device is reset only where a case itself
/// resets it (and once at the start).
///
/// The lower bound is a route-inspection bound: every case is an edge from its start to its end state that the tour
/// must traverse; the cheapest way to balance in- and out-degrees of the states with positioning moves (a
/// min-cost flow) is a lower bound on the positioning any tour needs. Walking an Euler trail of the balanced
/// multigraph meets the bound whenever that multigraph is connected.
package enum TourPlanner {
    package struct Result: Sendable {
        package var steps: [TourStep]
        package var cost: TourCost
        package var lowerBound: TourCost
        /// cost / bound, weighted.
        package var ratio: Double { lowerBound.weighted == 0 ? 1 : Double(cost.weighted) / Double(lowerBound.weighted) }
    }

    package static func plan(_ cases: [TestCase], machine m: Machine) -> Result {
        let d = Distances(m)
        let initial = m.initial.name
        let states = m.settableStates.map(\.name)
        guard states.contains(initial) else {
            // Nothing to walk on (a device that advertises no usable state): every case runs where the device is.
            let all = cases.indices.filter { cases[$0].disposition == .run }
            return Result(
                steps: [.position(reset: true, path: [])] + all.map { .run($0) },
                cost: TourCost(resets: 1, sets: 0), lowerBound: TourCost(resets: 1, sets: 0))
        }
        // Nodes: every state, and for each state that holds a session a "fresh" node: being about to enter it by an
        // arc that opens a session. Cases that need the data fd start at fresh nodes.
        let freshStates = states.filter { d.sessionStates.contains($0) }
        let n = states.count + freshStates.count
        var stateNode: [String: Int] = [:]
        var freshNode: [String: Int] = [:]
        for (i, s) in states.enumerated() where stateNode[s] == nil { stateNode[s] = i }
        for (i, s) in freshStates.enumerated() where freshNode[s] == nil { freshNode[s] = states.count + i }
        func node(_ state: String, fresh: Bool) -> Int { fresh ? freshNode[state]! : stateNode[state]! }
        let runnable = cases.indices.filter { cases[$0].disposition == .run }
        var shapes = [CaseShape?](repeating: nil, count: cases.count)
        for c in runnable { shapes[c] = CaseShape.of(cases[c], on: m, distances: d) }
        var intrinsic = TourCost(resets: 1, sets: 0) // one reset to start from a known state
        for case let s? in shapes {
            intrinsic.resets += s.resets
            intrinsic.sets += s.sets
        }

        // Required edges: case start -> end. Floating cases run first, wherever the device is.
        let floating = runnable.filter { shapes[$0]!.start == nil || stateNode[shapes[$0]!.start!] == nil }
        let floatingSet = Set(floating)
        let anchored = runnable.filter { !floatingSet.contains($0) }
        func startNode(_ c: Int) -> Int { node(shapes[c]!.start!, fresh: shapes[c]!.fresh) }
        func endNode(_ c: Int) -> Int { node(shapes[c]!.end ?? shapes[c]!.start!, fresh: false) }
        var balance = [Int](repeating: 0, count: n) // departures - arrivals
        for c in anchored {
            balance[startNode(c)] += 1
            balance[endNode(c)] -= 1
        }
        // Moving from a state to a node: walk, or reset and walk, whichever is cheaper.
        func target(_ v: Int) -> (state: String, fresh: Bool) {
            v < states.count ? (states[v], false) : (freshStates[v - states.count], true)
        }
        // Each move is asked for several times (the flow's costs, the bound, the steps): worked out once.
        var moves: [Int: (cost: Int, reset: Bool, path: [Arc])] = [:]
        func deadhead(_ a: String, _ v: Int) -> (cost: Int, reset: Bool, path: [Arc]) {
            guard let from = stateNode[a] else { return move(a, v) }
            let key = from * n + v
            if let known = moves[key] { return known }
            let found = move(a, v)
            moves[key] = found
            return found
        }
        func move(_ a: String, _ v: Int) -> (cost: Int, reset: Bool, path: [Arc]) {
            let (b, fresh) = target(v)
            let walk = fresh ? d.freshPath(a, b) : d.path(a, b)
            let viaReset = fresh ? d.freshPath(initial, b) : d.path(initial, b)
            switch (walk, viaReset) {
            case let (w?, r?):
                return w.count <= r.count + TourCost.resetWeight
                    ? (w.count, false, w) : (r.count + TourCost.resetWeight, true, r)
            case let (w?, nil): return (w.count, false, w)
            case let (nil, r?): return (r.count + TourCost.resetWeight, true, r)
            default: return (Int.max / 4, true, [])
            }
        }
        // Min-cost flow: nodes with more arrivals than departures send positioning moves to nodes with more
        // departures. The tour begins at the initial state (one free departure there) and may end anywhere (one free
        // arrival: an edge from any node to the sink through a capacity-one node).
        let source = 2 * n
        let sink = 2 * n + 1
        let freeEnd = 2 * n + 2
        var flow = MinCostFlow(nodes: 2 * n + 3)
        var excess = balance
        excess[node(initial, fresh: false)] -= 1
        var handles: [(from: Int, to: Int, handle: (Int, Int))] = []
        for u in 0..<n where excess[u] < 0 { flow.addEdge(source, u, capacity: -excess[u], cost: 0) }
        for v in 0..<n where excess[v] > 0 { flow.addEdge(n + v, sink, capacity: excess[v], cost: 0) }
        for u in 0..<n where excess[u] < 0 {
            for v in 0..<n where excess[v] > 0 {
                handles.append(
                    (u, v, flow.addEdge(u, n + v, capacity: Int.max / 4, cost: deadhead(target(u).state, v).cost)))
            }
            flow.addEdge(u, freeEnd, capacity: 1, cost: 0)
        }
        flow.addEdge(freeEnd, sink, capacity: 1, cost: 0)
        _ = flow.solve(source: source, sink: sink)
        var bound = intrinsic
        var multigraph: [(from: Int, to: Int, caseIndex: Int?)] = anchored.map { (startNode($0), endNode($0), $0) }
        for h in handles {
            let f = flow.flow(h.handle)
            guard f > 0 else { continue }
            let dh = deadhead(target(h.from).state, h.to)
            bound.resets += dh.reset ? f : 0
            bound.sets += f * dh.path.count
            for _ in 0..<f { multigraph.append((h.from, h.to, nil)) }
        }

        // Euler trail from the initial state (Hierholzer); edges left over (another component) are chained after.
        var out = [[Int]](repeating: [], count: 2 * n + 3)
        for (i, e) in multigraph.enumerated() { out[e.from].append(i) }
        for k in out.indices { out[k].reverse() }
        var used = [Bool](repeating: false, count: multigraph.count)
        func trail(from start: Int) -> [Int] {
            var stack: [(node: Int, edge: Int?)] = [(start, nil)]
            var result: [Int] = []
            while let top = stack.last {
                if let e = out[top.node].popLast() {
                    if used[e] { continue }
                    used[e] = true
                    stack.append((multigraph[e].to, e))
                } else {
                    stack.removeLast()
                    if let e = top.edge { result.append(e) }
                }
            }
            return result.reversed()
        }
        var order = trail(from: node(initial, fresh: false))
        var next = 0
        while true {
            while next < used.count && used[next] { next += 1 }
            guard next < used.count else { break }
            order += trail(from: multigraph[next].from)
        }

        // Steps: floating cases first, then the cases of the trail, each reached from where the previous one ended.
        var steps: [TourStep] = [.position(reset: true, path: [])]
        var cost = TourCost(resets: 1, sets: 0)
        for c in floating { steps.append(.run(c)) }
        var at = initial
        for e in order {
            guard let c = multigraph[e].caseIndex else { continue }
            let s = shapes[c]!
            let v = startNode(c)
            if at != s.start! || s.fresh {
                let dh = deadhead(at, v)
                steps.append(.position(reset: dh.reset, path: dh.path))
                cost.resets += dh.reset ? 1 : 0
                cost.sets += dh.path.count
            }
            steps.append(.run(c))
            cost.resets += s.resets
            cost.sets += s.sets
            at = s.end ?? s.start!
        }
        return Result(steps: steps, cost: cost, lowerBound: bound)
    }
}
