import MigconformCases
import MigconformPlan
import MigconformSpec
import Testing

/// The tour: every case once, chained on the state machine, resets only where cases need them, at the bound.
@Suite struct PlanTests {
    static let v2Profiles: [[String]] = [
        ["stop-copy"], ["stop-copy", "p2p"], ["stop-copy", "pre-copy"], ["stop-copy", "p2p", "pre-copy"],
    ]

    func check(_ spec: Spec, _ features: Set<String>) {
        let machine = Machine(spec: spec, features: features)
        let cases = Expander.expand(machine)
        let tour = TourPlanner.plan(cases, machine: machine)
        // Every runnable case exactly once.
        let ran = tour.steps.compactMap {
            if case .run(let i) = $0 { return i }
            return nil
        }
        #expect(ran.sorted() == cases.indices.filter { cases[$0].disposition == .run })
        // Resets: one to start, plus those the cases make themselves.
        let caseResets = ran.map { CaseShape.of(cases[$0], on: machine).resets }.reduce(0, +)
        #expect(tour.cost.resets == 1 + caseResets)
        #expect(tour.lowerBound.resets == tour.cost.resets)
        // Within 10% of the bound in requests too.
        #expect(Double(tour.cost.sets) <= 1.1 * Double(tour.lowerBound.sets), "\(tour.cost) vs \(tour.lowerBound)")
        #expect(tour.cost.sets >= tour.lowerBound.sets)
        // The steps are consistent: each case starts where the walk put the device.
        var at = machine.initial.name
        for step in tour.steps {
            switch step {
            case .position(let reset, let path):
                if reset { at = machine.initial.name }
                for arc in path {
                    #expect(arc.from == at)
                    at = arc.to
                }
            case .run(let i):
                let shape = CaseShape.of(cases[i], on: machine)
                if let start = shape.start {
                    #expect(start == at, "\(cases[i].id) starts in \(start), device in \(at)")
                    at = shape.end ?? start
                }
            }
        }
    }

    @Test(arguments: v2Profiles)
    func v2ToursMeetTheBound(_ features: [String]) { check(TestSupport.v2, Set(features + ["data-size"])) }

    @Test func v1TourMeetsTheBound() { check(TestSupport.v1, []) }

    @Test func freshSessionsAreEnteredByOpeningArcs() {
        let m = Machine(spec: TestSupport.v2, features: ["stop-copy", "p2p", "pre-copy"])
        let d = Distances(m)
        #expect(d.sessionStates == ["STOP_COPY", "RESUMING", "PRE_COPY", "PRE_COPY_P2P"])
        #expect(d.freshPath("STOP_COPY", "STOP_COPY")?.map(\.to) == ["STOP", "STOP_COPY"])
        #expect(d.path("PRE_COPY", "STOP_COPY")?.map(\.to) == ["PRE_COPY_P2P", "STOP_COPY"])
        #expect(d.freshPath("PRE_COPY", "STOP_COPY")?.last?.from == "STOP")
    }

    @Test func minCostBoundIsNotBeatenByAGreedyOrder() {
        // A greedy nearest-next order over the same cases is never cheaper than the bound.
        let m = Machine(spec: TestSupport.v2, features: ["stop-copy", "p2p", "pre-copy", "data-size"])
        let cases = Expander.expand(m).filter { $0.disposition == .run }
        let tour = TourPlanner.plan(cases, machine: m)
        let d = Distances(m)
        var remaining = cases.indices.map { ($0, CaseShape.of(cases[$0], on: m)) }.filter { $0.1.start != nil }
        var at = m.initial.name
        var sets = 0
        while !remaining.isEmpty {
            let scored = remaining.enumerated().map { (k, e) in (k, d.sets(at, e.1.start!, fresh: e.1.fresh) ?? 1000) }
            let best = scored.min { $0.1 < $1.1 }!
            let shape = remaining[best.0].1
            sets += best.1 + shape.sets
            at = shape.end ?? shape.start!
            remaining.remove(at: best.0)
        }
        #expect(sets >= tour.lowerBound.sets)
    }
}
