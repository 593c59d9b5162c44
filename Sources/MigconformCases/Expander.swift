import MigconformSpec

/// Choices that narrow or widen an expansion.
package struct ExpansionOptions: Sendable {
    /// Glob patterns (`*`, `?`) on case ids or rule ids; empty runs everything.
    package var only: [String]
    /// Glob patterns of cases to leave out.
    package var exclude: [String]
    /// Variants of the spec to run under (rules of other variants are left out).
    package var variants: Set<String>
    /// Hazard ids the user allows (`all` allows every hazard).
    package var allowedHazards: Set<String>
    /// The target kind (`reference`, `fault`, `vfio`, `exec`, or what an adapter reports).
    package var targetKind: String
    /// The kernel release of the target, when it is a kernel device.
    package var kernelRelease: String?

    package init(
        only: [String] = [], exclude: [String] = [], variants: Set<String> = [],
        allowedHazards: Set<String> = [], targetKind: String = "reference", kernelRelease: String? = nil
    ) {
        self.only = only
        self.exclude = exclude
        self.variants = variants
        self.allowedHazards = allowedHazards
        self.targetKind = targetKind
        self.kernelRelease = kernelRelease
    }
}

/// Expand: rules x a device's features -> concrete cases with stable ids, in spec order.
package enum Expander {
    package static func expand(_ machine: Machine, options: ExpansionOptions = ExpansionOptions()) -> [TestCase] {
        var cases: [TestCase] = []
        for rule in machine.spec.rules {
            if let variant = rule.variant {
                if variant.hasPrefix("!") {
                    if options.variants.contains(String(variant.dropFirst())) { continue }
                } else if !options.variants.contains(variant) {
                    continue
                }
            }
            let missing = rule.requires.filter { !machine.features.contains($0) }
            // A rule that lacks only a device the run was not given is not run, not inapplicable: the device can
            // be migrated to a peer; the run did not test it.
            let absentDevices = missing.filter { runDevices.contains($0) }
            if !missing.isEmpty && absentDevices.count < missing.count {
                cases.append(
                    TestCase(id: rule.id, rule: rule, disposition: .notApplicable(notApplicable(missing, machine.spec)))
                )
                continue
            }
            var ruleCases = bind(rule, machine)
            if ruleCases.isEmpty {
                ruleCases = [
                    TestCase(
                        id: rule.id, rule: rule,
                        disposition: .notApplicable("nothing to check on this device's profile"))
                ]
            }
            for var c in ruleCases {
                if c.disposition == .run { c.disposition = disposition(of: c, options) }
                if !absentDevices.isEmpty, !isFiltered(c.disposition) {
                    c.disposition = .skipped(notGiven(absentDevices))
                }
                cases.append(c)
            }
        }
        return cases
    }

    /// Features of the run that are other devices the runner is given (`--peer`, `--foreign-peer`), not something
    /// the device advertises or what kind of target it is: a rule that lacks only these is SKIPPED, not run
    /// (``notGiven(_:)``), never NOT_APPLICABLE.
    package static let runDevices: Set<String> = ["peer", "foreign-peer"]

    /// What a skipped case's message starts with when the run was not given a device its rule needs.
    package static let notGivenPrefix = "no peer:"

    /// Why a rule does not apply: the features it needs that the device does not advertise, or, for a feature of
    /// the run rather than of the device, what kind of target it needs.
    static func notApplicable(_ missing: [String], _ spec: Spec) -> String {
        let environment = missing.filter { name in
            spec.feature(named: name).map { $0.flag == nil && $0.probe == nil } ?? false
        }
        let advertised = missing.filter { !environment.contains($0) }
        var parts: [String] = []
        if !advertised.isEmpty { parts.append("needs \(advertised.joined(separator: ", ")), not advertised") }
        for name in environment where !runDevices.contains(name) {
            parts.append("needs \(name), which this target is not")
        }
        return parts.joined(separator: "; ")
    }

    /// Why a case did not run when the run lacks devices its rule needs, with the option that gives each.
    static func notGiven(_ devices: [String]) -> String {
        let parts = devices.map { name in
            switch name {
            case "peer":
                return "needs a second device of the same kind, which this run was not given (run with --peer TARGET)"
            default:
                return "needs a device of another type or configuration, which this run was not given (run with "
                    + "--foreign-peer TARGET)"
            }
        }
        return "\(notGivenPrefix) " + parts.joined(separator: "; ")
    }

    /// Left out by `--only` or `--exclude` (what ``disposition(of:_:)`` says first).
    static func isFiltered(_ d: TestCase.Disposition) -> Bool {
        d == .skipped("not selected") || d == .skipped("excluded")
    }

    /// Filters and hazards, in that order.
    static func disposition(of c: TestCase, _ options: ExpansionOptions) -> TestCase.Disposition {
        if !options.only.isEmpty
            && !options.only.contains(where: { Glob.matches($0, c.id) || Glob.matches($0, c.rule.id) })
        {
            return .skipped("not selected")
        }
        if options.exclude.contains(where: { Glob.matches($0, c.id) || Glob.matches($0, c.rule.id) }) {
            return .skipped("excluded")
        }
        if let hazard = c.rule.hazard, hazard.targets.contains(options.targetKind),
            !options.allowedHazards.contains(hazard.id), !options.allowedHazards.contains("all"),
            KernelVersion.isAffected(options.kernelRelease, first: hazard.firstAffected, fixed: hazard.fixedIn)
        {
            return .skipped("hazard \(hazard.id): \(hazard.effect); allow with --allow-hazard \(hazard.id)")
        }
        return .run
    }

    /// The quantifier of each check kind.
    static func bind(_ rule: Rule, _ m: Machine) -> [TestCase] {
        let check = rule.check
        func one() -> [TestCase] { [TestCase(id: rule.id, rule: rule)] }
        func perState(_ states: [State]) -> [TestCase] {
            states.map { TestCase(id: "\(rule.id)[\($0.name)]", rule: rule, from: $0.name) }
        }
        func perArc(_ arcs: [Arc]) -> [TestCase] {
            arcs.map {
                TestCase(id: "\(rule.id)[\($0.from)->\($0.to)]", rule: rule, from: $0.from, to: $0.to, path: [$0])
            }
        }
        switch check {
        case .migrationFlags, .streamEnd, .precopyInfo, .roundTrip, .resumeDamaged, .invariant, .errorSticky,
            .reservedBits, .saveProtocol, .hostHealth, .peer, .regionAccess, .precopyInfoV2:
            return one()
        case .feature(let p):
            switch p.from {
            case .error:
                // One case, in the error state reached by a failed resume (see the check).
                return [TestCase(id: "\(rule.id)[\(m.spec.stateName(forRole: "error") ?? "ERROR")]", rule: rule)]
            case .everySettableState: return perState(m.settableStates)
            case .initial: return one()
            }
        case .dataFD(let p):
            guard let names = p.states else { return one() }
            return perState(m.settableStates.filter { names.contains($0.name) })
        case .lifecycle(let p):
            // The error state is not settable: its case reaches it by a failed resume.
            let error = m.spec.stateName(forRole: "error")
            let errorCase = error.flatMap { e in
                p.states.contains(e) ? TestCase(id: "\(rule.id)[\(e)]", rule: rule, from: e) : nil
            }
            return perState(m.settableStates.filter { p.states.contains($0.name) }) + (errorCase.map { [$0] } ?? [])
        case .deviceAccess(let p):
            if p.states.contains("every-settable-state") { return perState(m.settableStates) }
            return perState(m.settableStates.filter { p.states.contains($0.name) })
        case .arc(let p):
            let tags = Set(p.tags)
            let excluded = Set(p.excludeTags)
            // fd-direction looks at the fd an arc returns: only arcs that start a session have one.
            let opening = p.expect == .fdDirection
            return perArc(
                m.arcs.filter {
                    (tags.isEmpty || !tags.isDisjoint(with: $0.tags)) && excluded.isDisjoint(with: $0.tags)
                        && (!opening || $0.session.opensSession)
                })
        case .combination:
            var out: [TestCase] = []
            for a in m.settableStates {
                for b in m.settableStates where a.name != b.name && !m.isForbidden(from: a.name, to: b.name) {
                    guard let path = m.path(from: a.name, to: b.name), path.count > 1 else { continue }
                    out.append(
                        TestCase(
                            id: "\(rule.id)[\(a.name)->\(b.name)]", rule: rule, from: a.name, to: b.name,
                            path: path))
                }
            }
            return out
        case .sameState:
            return perState(m.settableStates)
        case .reset(let p):
            guard p.expect == .sessionEnded else { return perState(m.settableStates) }
            // Only states in which a session is open after entering them from the initial state.
            return perState(
                m.settableStates.filter { s in
                    m.path(from: m.initial.name, to: s.name).map {
                        m.sessionOpen(after: $0, startingWithSession: false)
                    } ?? false
                })
        case .rejectedValue(let p):
            var values: [(UInt32, String)] = []
            for v in p.values {
                switch v {
                case .state(let name): if let s = m.spec.state(named: name) { values.append((s.value, name)) }
                case .value(let n): values.append((n, v.label))
                }
            }
            if p.unadvertised {
                values += m.unadvertisedStates.map { ($0.value, $0.name) }
            }
            var out: [TestCase] = []
            for s in m.settableStates {
                for (value, label) in values {
                    out.append(
                        TestCase(
                            id: "\(rule.id)[\(s.name)->\(label)]", rule: rule, from: s.name,
                            value: value, valueLabel: label))
                }
            }
            return out
        case .forbiddenArc:
            return m.spec.paths.forbidden
                .filter { Set($0.requires).isSubset(of: m.features) && m.isSettable($0.from) && m.isSettable($0.to) }
                .map { TestCase(id: "\(rule.id)[\($0.from)->\($0.to)]", rule: rule, from: $0.from, to: $0.to) }
        case .dmaLogging(let p):
            switch p.expect {
            case .coreLimit:
                return p.limits.map { TestCase(id: "\(rule.id)[\($0.rawValue)]", rule: rule, valueLabel: $0.rawValue) }
            case .survivesArcs:
                return perArc(m.arcs)
            case .noNewDirtyInStop:
                return perState(m.settableStates.filter { p.states.contains($0.name) })
            case .probeConsistent, .startPageSize, .secondStartFails, .reportBeforeStartFails, .reportOnlySets,
                .reportPageSizes:
                return one()
            }
        case .sessionKept:
            return perArc(m.arcs.filter { $0.session == .keeps })
        case .sessionEnded:
            return perArc(m.arcs.filter { $0.session == .ends })
        }
    }
}

/// Shell-style glob matching (`*` any run, `?` one character) for case and rule ids.
package enum Glob {
    package static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern)
        let t = Array(text)
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// Kernel release comparison for hazard ranges (`6.12.9+deb12-amd64` is 6.12.9).
package enum KernelVersion {
    package static func parse(_ s: String) -> [Int] {
        let head = s.prefix { $0.isNumber || $0 == "." }
        return head.split(separator: ".").compactMap { Int($0) }
    }
    package static func less(_ a: [Int], _ b: [Int]) -> Bool {
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            if x != y { return x < y }
        }
        return false
    }
    /// Unknown releases count as affected: a hazard is skipped unless it is known to be safe.
    package static func isAffected(_ release: String?, first: String?, fixed: String?) -> Bool {
        guard let release, !parse(release).isEmpty else { return true }
        let r = parse(release)
        if let first, less(r, parse(first)) { return false }
        if let fixed, !less(r, parse(fixed)) { return false }
        return true
    }
}
