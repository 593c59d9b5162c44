/// The migration protocol generation a device speaks.
package enum ProtocolGeneration: String, Codable, Sendable, CaseIterable {
    /// The region-based protocol of Linux 5.8 to 5.17 (`VFIO_REGION_TYPE_MIGRATION`).
    case v1
    /// The `VFIO_DEVICE_FEATURE` state machine of Linux 5.18 and later.
    case v2
}

/// The requirement level of a rule, in RFC 2119 terms.
package enum Level: String, Codable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case must = "MUST"
    case mustNot = "MUST NOT"
    case should = "SHOULD"
    case shouldNot = "SHOULD NOT"
    case may = "MAY"

    /// MUST and MUST NOT decide conformance.
    package var isMandatory: Bool { self == .must || self == .mustNot }
    /// SHOULD and SHOULD NOT give warnings.
    package var isRecommended: Bool { self == .should || self == .shouldNot }
    /// The level's family: `must`, `should` or `may`.
    package var family: String { isMandatory ? "must" : isRecommended ? "should" : "may" }

    /// As a spec writes it: `MUST NOT`.
    package var description: String { rawValue }

    private var rank: Int { isMandatory ? 0 : isRecommended ? 1 : 2 }
    package static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
}
