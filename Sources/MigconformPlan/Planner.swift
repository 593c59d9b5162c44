import MigconformCases
import MigconformSpec

/// The order cases run in, and what that order costs in device operations.
package struct Plan: Sendable {
    package var cases: [TestCase]
    /// Resets the plan issues (one per case that runs: every case starts from a fresh reset).
    package var resets: Int
    /// State requests the plan issues to position cases (not counting the requests the checks make).
    package var positioningRequests: Int
}

/// Plan: order the cases into a tour. Every case starts with a reset and walks single-step arcs to its start
/// state, so a case never depends on what the previous one left behind.
package enum Planner {
    package static func plan(_ cases: [TestCase], machine: Machine) -> Plan {
        var resets = 0
        var requests = 0
        for c in cases where c.disposition == .run {
            resets += 1
            if let from = c.from, let path = machine.path(from: machine.initial.name, to: from) {
                requests += path.count
            }
        }
        return Plan(cases: cases, resets: resets, positioningRequests: requests)
    }
}
