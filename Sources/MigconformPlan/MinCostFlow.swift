/// A small min-cost flow solver (successive shortest paths with Bellman-Ford), enough for planning graphs of a few
/// dozen nodes.
struct MinCostFlow {
    struct Edge {
        var to: Int
        var capacity: Int
        var cost: Int
        var reverse: Int
    }
    private(set) var graph: [[Edge]]

    init(nodes: Int) { graph = Array(repeating: [], count: nodes) }

    /// Adds an edge; returns its (node, index) so its flow can be read back.
    @discardableResult
    mutating func addEdge(_ from: Int, _ to: Int, capacity: Int, cost: Int) -> (Int, Int) {
        graph[from].append(Edge(to: to, capacity: capacity, cost: cost, reverse: graph[to].count))
        graph[to].append(Edge(to: from, capacity: 0, cost: -cost, reverse: graph[from].count - 1))
        return (from, graph[from].count - 1)
    }

    /// Flow on an edge added with ``addEdge``.
    func flow(_ handle: (Int, Int)) -> Int {
        let e = graph[handle.0][handle.1]
        return graph[e.to][e.reverse].capacity
    }

    /// Sends as much flow as possible from `source` to `sink` at least cost; returns (flow, cost).
    mutating func solve(source: Int, sink: Int) -> (flow: Int, cost: Int) {
        var flow = 0
        var cost = 0
        let n = graph.count
        while true {
            var dist = [Int](repeating: Int.max, count: n)
            var prev = [(Int, Int)?](repeating: nil, count: n)
            dist[source] = 0
            var changed = true
            var rounds = 0
            // Relaxed in node and edge order, as a plain Bellman-Ford round would (ties go the same way), over the
            // arrays' storage: on machines of hundreds of states this loop is most of planning.
            graph.withUnsafeBufferPointer { g in
                dist.withUnsafeMutableBufferPointer { dist in
                    while changed && rounds < n {
                        changed = false
                        rounds += 1
                        for u in 0..<n where dist[u] != Int.max {
                            let du = dist[u]
                            g[u].withUnsafeBufferPointer { edges in
                                for i in 0..<edges.count {
                                    let e = edges[i]
                                    if e.capacity > 0 && du + e.cost < dist[e.to] {
                                        dist[e.to] = du + e.cost
                                        prev[e.to] = (u, i)
                                        changed = true
                                    }
                                }
                            }
                        }
                    }
                }
            }
            guard dist[sink] != Int.max else { return (flow, cost) }
            var push = Int.max
            var v = sink
            while let (u, i) = prev[v] {
                push = min(push, graph[u][i].capacity)
                v = u
            }
            v = sink
            while let (u, i) = prev[v] {
                graph[u][i].capacity -= push
                let r = graph[u][i].reverse
                graph[v][r].capacity += push
                v = u
            }
            flow += push
            // Saturating: a state no arc reaches costs Int.max / 4 per move, and several such moves must not trap.
            let (added, overflow) = push.multipliedReportingOverflow(by: dist[sink])
            let (sum, overflow2) = cost.addingReportingOverflow(added)
            cost = overflow || overflow2 ? Int.max : sum
        }
    }
}
