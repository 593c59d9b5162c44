/// The state machine a spec defines, narrowed to one device's features: which states can be requested, which
/// single-step arcs exist, and the path a combination transition takes. Derived from the spec alone.
public struct Machine: Sendable {
    public let spec: Spec
    /// The features the device has (spec feature names).
    public let features: Set<String>
    /// States a user may request on this device, in spec order.
    public let settableStates: [State]
    /// Single-step arcs present on this device, in spec order.
    public let arcs: [Arc]

    public init(spec: Spec, features: Set<String>) {
        self.spec = spec
        self.features = features
        let settable = spec.states.filter { $0.kind == .valid && Set($0.requires).isSubset(of: features) }
        self.settableStates = settable
        let names = Set(settable.map(\.name))
        self.arcs = spec.arcs.filter {
            Set($0.requires).isSubset(of: features) && features.isDisjoint(with: $0.unless)
                && names.contains($0.from) && names.contains($0.to)
        }
    }

    /// The state after open and reset.
    public var initial: State { spec.state(named: spec.initialState)! }

    /// Valid states whose features this device does not advertise.
    public var unadvertisedStates: [State] {
        spec.states.filter { $0.kind == .valid && !Set($0.requires).isSubset(of: features) }
    }

    public func isSettable(_ name: String) -> Bool { settableStates.contains { $0.name == name } }

    public func arc(from: String, to: String) -> Arc? { arcs.first { $0.from == from && $0.to == to } }

    /// Whether the path rules forbid a request from `from` for `to` on this device.
    public func isForbidden(from: String, to: String) -> Bool {
        spec.paths.forbidden.contains { $0.from == from && $0.to == to && Set($0.requires).isSubset(of: features) }
    }

    /// The arcs a request for `to` walks from `from`: empty when they are equal, nil when the request must be
    /// refused (forbidden, or no permitted path). Without combination transitions only a direct arc counts.
    public func path(from: String, to: String) -> [Arc]? {
        if from == to { return [] }
        if isForbidden(from: from, to: to) { return nil }
        if !spec.paths.combinations { return arc(from: from, to: to).map { [$0] } }
        // A state entered by an arc that opens a session can only end a path.
        return shortestArcs(from: from, to: to) { arc in
            !(arc.session.opensSession && spec.paths.sessionOpensOnlyLast && arc.to != to)
        }
    }

    /// The fewest single-step arcs from `from` to `to` that a user can walk one request at a time (no path rules
    /// apply: each step is its own request).
    public func walk(from: String, to: String) -> [Arc]? {
        from == to ? [] : shortestArcs(from: from, to: to) { _ in true }
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
                        while cursor != from, let a = previous[cursor] { path.insert(a, at: 0); cursor = a.from }
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
    public func sessionOpen(after path: [Arc], startingWithSession: Bool) -> Bool {
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
