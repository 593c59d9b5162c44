/// A loaded, validated conformance spec: the state machine of one protocol generation and the rules checked
/// against it. Pure data; see `Specs/README.md` for the file format.
package struct Spec: Sendable {
    /// Stable identifier, e.g. `vfio-migration-v2`.
    package var id: String
    /// The spec's own version (semantic versioning).
    package var version: String
    package var title: String
    /// `v1` (region protocol) or `v2` (feature protocol).
    package var generation: ProtocolGeneration
    /// Short names of the sources the rules cite (`uapi`, `core`, `seed-001`) with what each one is.
    package var sources: [String: String]
    package var features: [Feature]
    package var profiles: [Profile]
    package var states: [State]
    /// The state a device is in after open and after reset.
    package var initialState: String
    package var arcs: [Arc]
    package var paths: PathRules
    /// Alternative readings of a source the spec can be run under (`--variant`).
    package var variants: [Variant]
    package var rules: [Rule]
    /// Where the spec was loaded from.
    package var path: String
    /// SHA-256 of the file's bytes, hex.
    package var sha256: String
    /// Which state plays which part in the data flow, by role name: `save` (the state whose stream ends for
    /// good), `pre-copy`, `resume`, `resume-exit` (where a resume completes), `error`. Defaults suit v2.
    package var roles: [String: String] = [:]

    /// The state playing `role`, from `roles` or the v2 default.
    package func stateName(forRole role: String) -> String? {
        if let name = roles[role] { return name }
        guard let name = Self.defaultRoles[role], state(named: name) != nil else { return nil }
        return name
    }

    /// The v2 state names that play each role when a spec's `roles` does not say.
    static let defaultRoles = [
        "save": "STOP_COPY", "pre-copy": "PRE_COPY", "resume": "RESUMING", "resume-exit": "STOP",
        "error": "ERROR",
    ]

    package init(
        id: String, version: String, title: String, generation: ProtocolGeneration, sources: [String: String],
        features: [Feature], profiles: [Profile], states: [State], initialState: String, arcs: [Arc],
        paths: PathRules, variants: [Variant], rules: [Rule], path: String, sha256: String
    ) {
        self.id = id
        self.version = version
        self.title = title
        self.generation = generation
        self.sources = sources
        self.features = features
        self.profiles = profiles
        self.states = states
        self.initialState = initialState
        self.arcs = arcs
        self.paths = paths
        self.variants = variants
        self.rules = rules
        self.path = path
        self.sha256 = sha256
    }

    package func state(named name: String) -> State? { states.first { $0.name == name } }
    package func state(value: UInt32) -> State? { states.first { $0.value == value } }
    package func feature(named name: String) -> Feature? { features.first { $0.name == name } }
}

/// Something a device may advertise. A feature with a `flag` is read from the migration flags word (v2);
/// one with a `probe` index is discovered by a `VFIO_DEVICE_FEATURE` PROBE.
package struct Feature: Sendable, Hashable {
    package var name: String
    /// The bit in the migration flags word, when the feature is a flag.
    package var flag: UInt64?
    /// The feature index to PROBE, when the feature is discovered that way.
    package var probe: UInt32?
    /// Every device that migrates must have it.
    package var mandatory: Bool
    package var since: String?
    package var description: String
    package init(name: String, flag: UInt64?, probe: UInt32?, mandatory: Bool, since: String?, description: String) {
        self.name = name
        self.flag = flag
        self.probe = probe
        self.mandatory = mandatory
        self.since = since
        self.description = description
    }
}

/// A named set of features that the spec considers a valid device (e.g. `stop-copy+p2p`).
package struct Profile: Sendable, Hashable {
    package var name: String
    package var features: [String]
    package init(name: String, features: [String]) {
        self.name = name
        self.features = features
    }
}

/// What kind of encoding a state value is.
package enum StateKind: String, Sendable, CaseIterable {
    /// A state a user may request.
    case valid
    /// An encoding set aside for the future: requests for it fail.
    case reserved
    /// The error state: entered only by a failed transition, left only by reset.
    case error
    /// A number past the defined states: requests for it fail.
    case outOfRange = "out-of-range"
}

/// One state of the machine: its name, its encoding, and the features it needs.
package struct State: Sendable, Hashable {
    package var name: String
    package var value: UInt32
    package var kind: StateKind
    /// Features the device must advertise for this state to exist.
    package var requires: [String]
    /// A group the state belongs to (v2: `saving` for PRE_COPY, PRE_COPY_P2P, STOP_COPY).
    package var group: String?
    package var description: String
    package init(name: String, value: UInt32, kind: StateKind, requires: [String], group: String?, description: String)
    {
        self.name = name
        self.value = value
        self.kind = kind
        self.requires = requires
        self.group = group
        self.description = description
    }
}

/// What a single-step arc does to the migration data session.
package enum SessionEffect: String, Sendable, CaseIterable {
    /// No session before or after.
    case none
    /// Starts a saving session: the SET returns a new data fd to read from (v1: the saving phase begins).
    case opensSave = "opens-save"
    /// Starts a resuming session: the SET returns a new data fd to write to (v1: the resume phase begins).
    case opensResume = "opens-resume"
    /// The open session continues on the same fd.
    case keeps
    /// The open session ends: its fd reaches end of stream or fails.
    case ends

    package var opensSession: Bool { self == .opensSave || self == .opensResume }
}

/// A single-step arc of the machine, present when the device has every feature in `requires` and none in `unless`.
package struct Arc: Sendable, Hashable {
    package var from: String
    package var to: String
    package var session: SessionEffect
    package var requires: [String]
    package var unless: [String]
    /// Free-form labels rules can select arcs by (v1: `documented`).
    package var tags: [String]
    package init(from: String, to: String, session: SessionEffect, requires: [String], unless: [String], tags: [String])
    {
        self.from = from
        self.to = to
        self.session = session
        self.requires = requires
        self.unless = unless
        self.tags = tags
    }
}

/// How a request for a state that is not one arc away is carried out (v2 combination transitions).
package struct PathRules: Sendable {
    /// Whether the device walks combination transitions at all (v2 yes; v1 no: every pair is an arc).
    package var combinations: Bool
    /// An arc that opens a session may only be the last arc of a path.
    package var sessionOpensOnlyLast: Bool
    /// Pairs that must be refused even though a path exists.
    package var forbidden: [ForbiddenPair]
    package var cite: Citation?
    package init(combinations: Bool, sessionOpensOnlyLast: Bool, forbidden: [ForbiddenPair], cite: Citation?) {
        self.combinations = combinations
        self.sessionOpensOnlyLast = sessionOpensOnlyLast
        self.forbidden = forbidden
        self.cite = cite
    }
}

/// A (from, to) request the device must refuse.
package struct ForbiddenPair: Sendable, Hashable {
    package var from: String
    package var to: String
    package var requires: [String]
    package init(from: String, to: String, requires: [String]) {
        self.from = from
        self.to = to
        self.requires = requires
    }
}

/// An alternative reading of a source that a run can opt into.
package struct Variant: Sendable, Hashable {
    package var id: String
    package var statement: String
    package var cite: Citation
    package init(id: String, statement: String, cite: Citation) {
        self.id = id
        self.statement = statement
        self.cite = cite
    }
}

/// Where a rule comes from: a source named in the spec's `sources`, and the section or passage within it.
package struct Citation: Sendable, Hashable, CustomStringConvertible {
    package var source: String
    package var section: String
    /// The ids of the sentences of `Specs/traceability.json` the rule tests (`v2.state.6`); empty when the
    /// citation names none.
    package var sentences: [String]
    package init(source: String, section: String, sentences: [String] = []) {
        self.source = source
        self.section = section
        self.sentences = sentences
    }
    package var description: String { "\(source): \(section)" }
}

/// A request that can harm a real host (hang a kernel thread, trigger a WARN): the runner skips such cases on
/// affected targets unless the user allows the hazard by id.
package struct Hazard: Sendable, Hashable {
    package var id: String
    /// What can happen.
    package var effect: String
    /// Target kinds that can be harmed (`vfio`): simulated devices are never at risk.
    package var targets: [String]
    /// First kernel release affected, when known.
    package var firstAffected: String?
    /// First kernel release with the fix, when there is one.
    package var fixedIn: String?
    package init(id: String, effect: String, targets: [String], firstAffected: String?, fixedIn: String?) {
        self.id = id
        self.effect = effect
        self.targets = targets
        self.firstAffected = firstAffected
        self.fixedIn = fixedIn
    }
}

/// One rule of the spec: a single, checkable statement at one level, with its source.
package struct Rule: Sendable {
    /// Stable id, e.g. `V2-ARC-STATE`.
    package var id: String
    package var level: Level
    /// One sentence, in the project's own words.
    package var statement: String
    package var cite: Citation {
        didSet { citeLine = Self.citeLine(cite, tests: tests) }
    }
    /// Kernel release the rule applies from.
    package var since: String?
    /// Features the device must advertise for the rule to apply.
    package var requires: [String]
    /// The errnos a failing request may return where the source allows several; empty means any errno.
    package var accept: [String]
    package var hazard: Hazard?
    /// The variant this rule belongs to; nil for the main reading. `!id` marks a main-reading rule that the
    /// variant `id` replaces (it runs only when that variant is not selected).
    package var variant: String?
    package var check: Check
    /// 1-based line of the rule in the spec file.
    package var line: Int
    /// What the rule holds to account when it is not the driver: `core` for behaviour the kernel's VFIO core
    /// enforces before the driver sees the request. nil means the driver.
    package var tests: String? {
        didSet { citeLine = Self.citeLine(cite, tests: tests) }
    }
    /// The citation as reports and listings show it: source and section, the sentences the rule tests, and who is
    /// tested when it is not the driver. Kept with the rule (every case result carries it).
    package private(set) var citeLine: String
    package init(
        id: String, level: Level, statement: String, cite: Citation, since: String?, requires: [String],
        accept: [String], hazard: Hazard?, variant: String?, check: Check, line: Int, tests: String? = nil
    ) {
        self.id = id
        self.level = level
        self.statement = statement
        self.cite = cite
        self.since = since
        self.requires = requires
        self.accept = accept
        self.hazard = hazard
        self.variant = variant
        self.check = check
        self.line = line
        self.tests = tests
        self.citeLine = Self.citeLine(cite, tests: tests)
    }

    /// What ``citeLine`` says of a rule with `tests: core`; reports find such rules by it.
    package static let coreNote = "tests the kernel's VFIO core, not the driver"

    static func citeLine(_ cite: Citation, tests: String?) -> String {
        var notes: [String] = []
        if !cite.sentences.isEmpty {
            notes.append(
                "sentence\(cite.sentences.count == 1 ? "" : "s") "
                    + cite.sentences.joined(separator: ", "))
        }
        if tests == "core" { notes.append(Self.coreNote) }
        return notes.isEmpty ? cite.description : "\(cite.description) [\(notes.joined(separator: "; "))]"
    }
}
