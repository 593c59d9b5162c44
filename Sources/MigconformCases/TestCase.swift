import MigconformSpec

/// One concrete thing to check: a rule bound to a device's profile and, where the rule quantifies, to one arc,
/// state pair, state or value.
package struct TestCase: Sendable {
    /// Stable id: the rule id, then the binding in brackets (`V2-ARC-STATE[STOP->STOP_COPY]`).
    package var id: String
    package var rule: Rule
    /// Whether the case runs, and if not, why.
    package var disposition: Disposition
    /// The state the case starts from (arc source, the state a request is made in, the state reset is tried from).
    package var from: String?
    /// The state requested, for arcs and pairs.
    package var to: String?
    /// A raw value requested (rejected values), with its label (`ERROR`, `8`).
    package var value: UInt32?
    package var valueLabel: String?
    /// The arcs the case expects a request to walk (one for an arc; several for a combination).
    package var path: [Arc]

    package init(
        id: String, rule: Rule, disposition: Disposition = .run, from: String? = nil, to: String? = nil,
        value: UInt32? = nil, valueLabel: String? = nil, path: [Arc] = []
    ) {
        self.id = id
        self.rule = rule
        self.disposition = disposition
        self.from = from
        self.to = to
        self.value = value
        self.valueLabel = valueLabel
        self.path = path
    }

    /// Whether a case runs.
    package enum Disposition: Sendable, Equatable {
        case run
        /// The rule needs features the device does not advertise, or has nothing to check on this profile.
        case notApplicable(String)
        /// Filtered out, hazardous on this target and not allowed, or needing a device the run was not given.
        case skipped(String)
    }
}
