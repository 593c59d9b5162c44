/// The schema of one check parameter.
package struct ParameterSpec: Sendable {
    package enum Shape: Sendable {
        /// One of a fixed set of strings.
        case oneOf([String])
        /// A list of strings (optionally from a fixed set) or, with a range, of integers in that range.
        case list([String]?, integers: ClosedRange<Int64>?)
        /// A list whose items are state names or integers.
        case values
        /// An integer in the range.
        case integer(ClosedRange<Int64>)
        case boolean
    }
    package var name: String
    package var shape: Shape
    package var required: Bool

    /// One of the raw values of `choices`, in the order of its cases.
    package static func oneOf<Choice: CaseIterable & RawRepresentable>(
        _ name: String, _ choices: Choice.Type, required: Bool = false
    ) -> ParameterSpec where Choice.RawValue == String {
        ParameterSpec(name: name, shape: .oneOf(choices.allCases.map(\.rawValue)), required: required)
    }
    /// A list of raw values of `choices`.
    package static func list<Choice: CaseIterable & RawRepresentable>(
        _ name: String, of choices: Choice.Type, required: Bool = false
    ) -> ParameterSpec where Choice.RawValue == String {
        ParameterSpec(name: name, shape: .list(choices.allCases.map(\.rawValue), integers: nil), required: required)
    }
    /// A list of any strings, or with `integers` of integers in that range.
    package static func list(
        _ name: String, integers: ClosedRange<Int64>? = nil,
        required: Bool = false
    ) -> ParameterSpec {
        ParameterSpec(name: name, shape: .list(nil, integers: integers), required: required)
    }
    package static func values(_ name: String) -> ParameterSpec {
        ParameterSpec(name: name, shape: .values, required: false)
    }
    package static func integer(_ name: String, in range: ClosedRange<Int64>, required: Bool = false) -> ParameterSpec {
        ParameterSpec(name: name, shape: .integer(range), required: required)
    }
    package static func boolean(_ name: String) -> ParameterSpec {
        ParameterSpec(name: name, shape: .boolean, required: false)
    }
}

/// A check's members after validation, read only by the parameter types' decoding. Values absent from the check
/// read as nil; a required value that is absent (which validation prevents) throws ``Missing``.
package struct CheckArguments: Sendable {
    /// A required parameter was absent or did not decode.
    package struct Missing: Error, CustomStringConvertible, Sendable {
        package var name: String
        package var description: String { "parameter \"\(name)\" did not decode" }
    }

    let members: [String: JSONValue]
    package init(_ members: [String: JSONValue]) { self.members = members }

    package func choice<Choice: RawRepresentable>(_ name: String) -> Choice? where Choice.RawValue == String {
        members[name]?.stringValue.flatMap(Choice.init(rawValue:))
    }
    package func required<Choice: RawRepresentable>(_ name: String) throws(Missing) -> Choice
    where Choice.RawValue == String {
        guard let value: Choice = choice(name) else { throw Missing(name: name) }
        return value
    }
    package func int(_ name: String) -> Int? { members[name]?.intValue }
    package func requiredInt(_ name: String) throws(Missing) -> Int {
        guard let value = int(name) else { throw Missing(name: name) }
        return value
    }
    package func bool(_ name: String) -> Bool? { members[name]?.boolValue }
    package func strings(_ name: String) -> [String]? { members[name]?.arrayValue?.compactMap(\.stringValue) }
    package func ints(_ name: String) -> [Int]? { members[name]?.arrayValue?.compactMap(\.intValue) }
    package func choices<Choice: RawRepresentable>(_ name: String) -> [Choice]? where Choice.RawValue == String {
        strings(name)?.compactMap(Choice.init(rawValue:))
    }
    /// A `values` list: state names and integers, in file order.
    package func statesOrValues(_ name: String) -> [StateOrValue]? {
        members[name]?.arrayValue?.compactMap { item in
            if let s = item.stringValue { return .state(s) }
            if let n = item.uint64Value { return .value(UInt32(truncatingIfNeeded: n)) }
            return nil
        }
    }
}

/// An item of a `values` list: a state of the spec by name, or a raw `device_state` value.
package enum StateOrValue: Sendable, Equatable {
    case state(String)
    case value(UInt32)

    /// The case label: the state's name or the value in decimal.
    package var label: String {
        switch self {
        case .state(let name): return name
        case .value(let n): return String(n)
        }
    }
}

/// The documented range of every number a spec may hold (Specs/README.md, "Limits"). The loader refuses anything
/// outside them, so that no executor has to clamp a value and `check-spec` refuses what `run` could not do.
package enum Limits {
    /// `feature`: the feature index, the low 16 bits of `vfio_device_feature.flags` (`VFIO_DEVICE_FEATURE_MASK`).
    package static let featureIndex: ClosedRange<Int64> = 0...0xffff
    /// `feature` `payload`: bytes after the 8-byte header; the largest migration payload is 16 bytes, and a page
    /// leaves room for any other feature's struct.
    package static let featurePayload: ClosedRange<Int64> = 0...4096
    /// `feature` `extra-flags`: bits of the 32-bit flags word.
    package static let flagsWord: ClosedRange<Int64> = 0...0xffff_ffff
    /// `stream-end` `extra-reads`: reads after the end of stream.
    package static let extraReads: ClosedRange<Int64> = 0...256
    /// `save-protocol` `max-iterations`.
    package static let maxIterations: ClosedRange<Int64> = 1...1_000_000
    /// One `round-trip` write size: one byte up to the 64 MiB the adapter protocol carries in one write.
    package static let segment: ClosedRange<Int64> = 1...(64 << 20)
    /// `dma-logging` `page-shifts`: a REPORT page size as a power of two, from 4 KiB (the core's smallest) to 1 GiB.
    package static let dmaPageShift: ClosedRange<Int64> = 12...30
    /// Items of any list in a check (`segments`, `values`, `ops`, `tags`, `in`).
    package static let listItems = 1024
    /// A spec file's size in bytes; a larger file is refused before it is parsed.
    package static let specFileBytes = 1 << 20
}
