/// A JSON value: specs, traceability files and the adapter protocol's lines. For files the parser returns, beside
/// it, a map from each value's JSON path (`$.rules[3].check`) to its line and column, so that every problem found
/// while loading a spec can name where it stands.
package indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// Numbers keep their text, so large unsigned values (0xffffffff) survive exactly.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in file order, with their keys.
    case object([(key: String, value: JSONValue)])

    package static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    package func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case .bool(let b): h.combine(b)
        case .number(let n): h.combine(n)
        case .string(let s): h.combine(s)
        case .array(let a): h.combine(a)
        case .object(let o):
            for (k, v) in o {
                h.combine(k)
                h.combine(v)
            }
        }
    }

    /// A number value from an integer.
    package static func int<I: BinaryInteger>(_ v: I) -> JSONValue { .number(String(v)) }

    /// The number as an integer of type `I`, when it is an integer literal that fits.
    package func integer<I: FixedWidthInteger>(_: I.Type = I.self) -> I? {
        guard case .number(let text) = self else { return nil }
        return I(text)
    }

    /// A short name of the value's type, for error messages.
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    package var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    package var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
    package var intValue: Int? {
        if case .number(let n) = self { return Int(n) }
        return nil
    }
    package var uint64Value: UInt64? {
        if case .number(let n) = self { return UInt64(n) }
        return nil
    }
    /// The member `key` of an object; the last one when a protocol line repeats it (files refuse repeats).
    package subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.last { $0.key == key }?.value }
        return nil
    }

    /// The value as compact JSON text (no newlines, so that it fits on one protocol line).
    package var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.quote(s, into: &out)
        case .array(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                v.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.quote(member.key, into: &out)
                out += ":"
                member.value.write(into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        var bytes: [UInt8] = []
        quote(s, into: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal, as `JSONEncoder` writes it with `.withoutEscapingSlashes`: quote,
    /// backslash and the control characters escaped (`\b \f \n \r \t` by name, the others as `\u00XX`).
    package static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var plain = s
        let clean = plain.withUTF8 { buf -> Bool in
            // Most strings need no escape: copied as they are.
            guard !buf.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            out.append(contentsOf: buf)
            return true
        }
        if !clean {
            for u in s.unicodeScalars {
                switch u {
                case "\"": out.append(contentsOf: [0x5C, 0x22])
                case "\\": out.append(contentsOf: [0x5C, 0x5C])
                case "\n": out.append(contentsOf: [0x5C, 0x6E])
                case "\r": out.append(contentsOf: [0x5C, 0x72])
                case "\t": out.append(contentsOf: [0x5C, 0x74])
                case "\u{08}": out.append(contentsOf: [0x5C, 0x62])
                case "\u{0C}": out.append(contentsOf: [0x5C, 0x66])
                default:
                    if u.value < 0x20 {
                        let h = String(u.value, radix: 16)
                        out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - h.count) + h).utf8)
                    } else {
                        out.append(contentsOf: String(u).utf8)
                    }
                }
            }
        }
        out.append(0x22)
    }
}
