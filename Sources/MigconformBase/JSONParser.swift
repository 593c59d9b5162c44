/// A 1-based line and column in a text file. Columns count Unicode scalars, so a multi-byte character is one column;
/// a tab is one column too.
package struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    package var line: Int
    package var column: Int
    package init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    package var description: String { "\(line):\(column)" }
    package static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// A JSON text that is not valid JSON: where the parser stopped, and why.
package struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    package var position: SourcePosition
    package var message: String
    /// The byte offset where reading stopped (for one-line texts, where a column says little).
    package var byteOffset: Int
    package init(position: SourcePosition, message: String, byteOffset: Int = 0) {
        self.position = position
        self.message = message
        self.byteOffset = byteOffset
    }
    package var description: String { "\(position): \(message)" }
}

/// A parsed JSON text with the position of every value and of every object key, both indexed by JSON path
/// (`$`, `$.rules`, `$.rules[3]`, `$.rules[3].check.kind`).
package struct JSONDocument: Sendable {
    package var value: JSONValue
    /// Where each value starts (its first character).
    package var positions: [String: SourcePosition]
    /// Where the key of each object member starts (its opening quote), indexed by the member's path.
    package var keyPositions: [String: SourcePosition]
}

/// A strict RFC 8259 JSON parser over raw bytes.
///
/// Strict means: no comments, no trailing commas, no single quotes, no hex or leading zeros, no NaN or Infinity,
/// no unescaped control characters in strings, no lone surrogate escapes, only valid UTF-8, and nothing but
/// whitespace after the value. A leading UTF-8 byte order mark is skipped, as the RFC allows. Duplicate keys in one
/// object are rejected, because a spec that says the same thing twice is almost always a mistake.
/// Numbers are kept as their text, so `4294967295` or `18446744073709551615` survive exactly.
package enum JSONParser {
    /// The deepest nesting of arrays and objects accepted; deeper input is refused rather than overflowing the stack.
    package static let maximumDepth = 512
    /// The most values (of any kind, nested ones included) one text may hold; a spec has a few thousand.
    package static let maximumValues = 100_000

    /// Parses one protocol line: the same strict grammar, without positions, and a repeated member name is kept
    /// (the last one wins through `JSONValue`'s subscript), as a peer's line is read, not validated.
    package static func parseLine<C: Collection>(_ bytes: C) throws(JSONSyntaxError) -> JSONValue
    where C.Element == UInt8 {
        var parser = Parser(bytes: Array(bytes), recordPositions: false)
        parser.skipWhitespace()
        let value = try parser.parseValue(path: "$")
        parser.skipWhitespace()
        if parser.index < parser.bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the JSON value")
        }
        return value
    }

    /// Parses one protocol line of text (see `parseLine(_:)` for bytes).
    package static func parseLine(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parseLine(Array(text.utf8))
    }

    /// Parses `bytes` and returns the value with the position of every value by JSON path.
    package static func parse(
        _ bytes: [UInt8]
    ) throws(JSONSyntaxError) -> (JSONValue, positions: [String: SourcePosition]) {
        let document = try parseDocument(bytes)
        return (document.value, positions: document.positions)
    }

    /// Parses `bytes` and returns the value with the positions of its values and of its object keys.
    package static func parseDocument(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONDocument {
        var parser = Parser(bytes: bytes)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
        parser.skipWhitespace()
        let value = try parser.parseValue(path: "$")
        parser.skipWhitespace()
        if parser.index < bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the JSON value")
        }
        return JSONDocument(value: value, positions: parser.positions, keyPositions: parser.keyPositions)
    }

    /// The path of member `key` of the object at `parent`: `$.rules` or, for keys that are not plain names,
    /// `$["a key"]`.
    package static func memberPath(_ parent: String, _ key: String) -> String {
        if isPlainKey(key) {
            var path = parent
            path.reserveCapacity(parent.utf8.count + 1 + key.utf8.count)
            path += "."
            path += key
            return path
        }
        var quoted = "\""
        for ch in key.unicodeScalars {
            switch ch {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            default: quoted.unicodeScalars.append(ch)
            }
        }
        return parent + "[" + quoted + "\"]"
    }

    /// The path of element `index` of the array at `parent`: `$.rules[3]`.
    package static func elementPath(_ parent: String, _ index: Int) -> String {
        var path = parent
        path += "["
        path += String(index)
        path += "]"
        return path
    }

    /// A key written after a dot: an ASCII letter or `_`, then letters, digits, `_` and `-`.
    private static func isPlainKey(_ key: String) -> Bool {
        func letter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
        var key = key
        return key.withUTF8 { k in
            guard let first = k.first, letter(first) || first == 0x5F else { return false }
            return k.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
        }
    }
}

private enum Byte {
    static let tab: UInt8 = 0x09, newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20
    static let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C, slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C, colon: UInt8 = 0x3A, minus: UInt8 = 0x2D, plus: UInt8 = 0x2B, dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30, nine: UInt8 = 0x39
    static let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D, openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D
    static let lowerE: UInt8 = 0x65, upperE: UInt8 = 0x45, lowerX: UInt8 = 0x78, upperX: UInt8 = 0x58
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    var column = 1
    var depth = 0
    var values = 0
    var positions: [String: SourcePosition] = [:]
    var keyPositions: [String: SourcePosition] = [:]

    /// Whether to keep every value's position; off for protocol lines, which also keep repeated member names.
    let recordPositions: Bool

    init(bytes: [UInt8], recordPositions: Bool = true) {
        self.bytes = bytes
        self.recordPositions = recordPositions
        if recordPositions {
            // About a value every 40 bytes in a spec: room made once instead of rehashing as the tables grow.
            positions.reserveCapacity(bytes.count / 40)
            keyPositions.reserveCapacity(bytes.count / 40)
        }
    }

    var position: SourcePosition { SourcePosition(line: line, column: column) }
    var atEnd: Bool { index >= bytes.count }
    var current: UInt8 { bytes[index] }

    func error(_ message: String, at position: SourcePosition? = nil) -> JSONSyntaxError {
        JSONSyntaxError(position: position ?? self.position, message: message, byteOffset: index)
    }

    /// Moves past one byte, keeping line and column. Continuation bytes of a UTF-8 sequence take no column.
    mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == Byte.newline {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case Byte.space, Byte.tab, Byte.newline, Byte.carriageReturn: advance()
            default: return
            }
        }
    }

    func describeCurrent() -> String {
        guard !atEnd else { return "end of input" }
        let byte = current
        if byte >= 0x21 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))'" }
        if byte < 0x20 || byte == 0x7F { return "control character U+\(hex4(UInt32(byte)))" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    mutating func parseValue(path: String) throws(JSONSyntaxError) -> JSONValue {
        guard !atEnd else { throw error("unexpected end of input, expected a value") }
        values += 1
        if values > JSONParser.maximumValues {
            throw error("more than \(JSONParser.maximumValues) values; a spec holds a few thousand")
        }
        if recordPositions { positions[path] = position }
        switch current {
        case Byte.openBrace: return try parseObject(path: path)
        case Byte.openBracket: return try parseArray(path: path)
        case Byte.quote: return .string(try parseString())
        case Byte.minus, Byte.zero...Byte.nine: return .number(try parseNumber())
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return .null
        case UInt8(ascii: "'"): throw error("strings are written in double quotes in JSON")
        case Byte.slash: throw error("comments are not JSON")
        default: throw error("expected a value, found \(describeCurrent())")
        }
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > JSONParser.maximumDepth {
            throw error("arrays and objects nested more than \(JSONParser.maximumDepth) deep")
        }
    }

    mutating func parseObject(path: String) throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        advance() // {
        var members: [(key: String, value: JSONValue)] = []
        var seen: [String: SourcePosition] = [:]
        skipWhitespace()
        if !atEnd && current == Byte.closeBrace {
            advance()
            return .object(members)
        }
        while true {
            guard !atEnd else { throw error("unexpected end of input inside an object") }
            guard current == Byte.quote else {
                if current == Byte.closeBrace && !members.isEmpty {
                    throw error("expected a member name after ',' (trailing commas are not JSON)")
                }
                throw error("expected a member name in double quotes, found \(describeCurrent())")
            }
            let keyPosition = position
            let key = try parseString()
            let memberPath = recordPositions ? JSONParser.memberPath(path, key) : path
            if recordPositions {
                if let first = seen[key] {
                    throw error("duplicate member \"\(key)\" (first at line \(first.line))", at: keyPosition)
                }
                seen[key] = keyPosition
                keyPositions[memberPath] = keyPosition
            }
            skipWhitespace()
            guard !atEnd, current == Byte.colon else {
                throw error("expected ':' after member name, found \(describeCurrent())")
            }
            advance()
            skipWhitespace()
            let value = try parseValue(path: memberPath)
            members.append((key: key, value: value))
            try checkAfterNumber(value, path: memberPath)
            if try closesAfterItem(Byte.closeBrace, "}", item: "object member") { return .object(members) }
        }
    }

    /// After an object member or array element: true past the closing bracket `close` (written `closeText`),
    /// false past a comma and the white space after it; anything else is an error naming `item`.
    mutating func closesAfterItem(_ close: UInt8, _ closeText: String, item: String) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard !atEnd else { throw error("unexpected end of input, expected ',' or '\(closeText)' after \(item)") }
        if current == Byte.comma {
            advance()
            skipWhitespace()
            return false
        }
        if current == close {
            advance()
            return true
        }
        throw error("expected ',' or '\(closeText)' after \(item)")
    }

    mutating func parseArray(path: String) throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        advance() // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if !atEnd && current == Byte.closeBracket {
            advance()
            return .array(elements)
        }
        while true {
            if !atEnd && current == Byte.closeBracket {
                throw error("expected a value after ',' (trailing commas are not JSON)")
            }
            let elementPath = recordPositions ? JSONParser.elementPath(path, elements.count) : path
            let value = try parseValue(path: elementPath)
            elements.append(value)
            try checkAfterNumber(value, path: elementPath)
            if try closesAfterItem(Byte.closeBracket, "]", item: "array element") { return .array(elements) }
        }
    }

    /// `0x1F` parses as `0` followed by junk; say what was meant instead of a generic separator message.
    func checkAfterNumber(_ value: JSONValue, path: String) throws(JSONSyntaxError) {
        guard case .number(let text) = value, text == "0" || text == "-0", !atEnd,
            current == Byte.lowerX || current == Byte.upperX
        else { return }
        throw error(
            "hexadecimal numbers are not JSON; write the number in decimal",
            at: recordPositions ? positions[path] : nil)
    }

    mutating func parseLiteral(_ word: String) throws(JSONSyntaxError) {
        let start = position
        for expected in word.utf8 {
            guard !atEnd, current == expected else {
                throw error("expected a value (did you mean '\(word)'?)", at: start)
            }
            advance()
        }
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = index
        if current == Byte.minus { advance() }
        guard !atEnd, (Byte.zero...Byte.nine).contains(current) else {
            throw error("expected a digit after '-'")
        }
        if current == Byte.zero {
            advance()
            if !atEnd, (Byte.zero...Byte.nine).contains(current) {
                throw error("leading zeros are not allowed in JSON numbers")
            }
        } else {
            while !atEnd, (Byte.zero...Byte.nine).contains(current) { advance() }
        }
        if !atEnd, current == Byte.dot {
            advance()
            guard !atEnd, (Byte.zero...Byte.nine).contains(current) else { throw error("expected a digit after '.'") }
            while !atEnd, (Byte.zero...Byte.nine).contains(current) { advance() }
        }
        if !atEnd, current == Byte.lowerE || current == Byte.upperE {
            advance()
            if !atEnd, current == Byte.plus || current == Byte.minus { advance() }
            guard !atEnd, (Byte.zero...Byte.nine).contains(current) else {
                throw error("expected a digit in the exponent")
            }
            while !atEnd, (Byte.zero...Byte.nine).contains(current) { advance() }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = position
        advance() // opening quote
        // Most strings hold no escape: find the closing quote in one pass (a string holds no newline, so only the
        // column moves) and make the string from the bytes where they lie.
        var end = index
        var columns = 0
        while end < bytes.count {
            let byte = bytes[end]
            if byte == Byte.quote || byte == Byte.backslash || byte < 0x20 { break }
            if byte & 0xC0 != 0x80 { columns += 1 }
            end += 1
        }
        if end < bytes.count && bytes[end] == Byte.quote {
            guard let text = String(validating: bytes[index..<end], as: UTF8.self) else {
                throw error("string is not valid UTF-8", at: start)
            }
            index = end + 1
            column += columns + 1
            return text
        }
        var buffer = Array(bytes[index..<end])
        index = end
        column += columns
        while true {
            guard !atEnd else { throw error("unterminated string", at: start) }
            let byte = current
            switch byte {
            case Byte.quote:
                advance()
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw error("string is not valid UTF-8", at: start)
                }
                return text
            case Byte.backslash:
                let escapePosition = position
                advance()
                guard !atEnd else { throw error("unterminated string", at: start) }
                let escaped = current
                advance()
                switch escaped {
                case Byte.quote: buffer.append(Byte.quote)
                case Byte.backslash: buffer.append(Byte.backslash)
                case Byte.slash: buffer.append(Byte.slash)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(Byte.newline)
                case UInt8(ascii: "r"): buffer.append(Byte.carriageReturn)
                case UInt8(ascii: "t"): buffer.append(Byte.tab)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape(escapePosition: escapePosition)
                    buffer.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw error("invalid escape sequence in string", at: escapePosition)
                }
            case 0x00..<0x20:
                throw error("control character U+\(hex4(UInt32(byte))) in string must be escaped")
            default:
                buffer.append(byte)
                advance()
            }
        }
    }

    /// Reads the four hex digits after `\u` (and, for a high surrogate, the `\uXXXX` low surrogate that must follow).
    mutating func parseUnicodeEscape(escapePosition: SourcePosition) throws(JSONSyntaxError) -> Unicode.Scalar {
        let high = try readHex4(escapePosition: escapePosition)
        var value = high
        if (0xD800...0xDBFF).contains(high) {
            guard index + 1 < bytes.count, bytes[index] == Byte.backslash, bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("high surrogate \\u\(hex4(high)) not followed by a low surrogate", at: escapePosition)
            }
            let lowPosition = position
            advance()
            advance()
            let low = try readHex4(escapePosition: lowPosition)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw error("high surrogate \\u\(hex4(high)) not followed by a low surrogate", at: escapePosition)
            }
            value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(high) {
            throw error("lone low surrogate \\u\(hex4(high))", at: escapePosition)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw error("invalid Unicode escape", at: escapePosition)
        }
        return scalar
    }

    mutating func readHex4(escapePosition: SourcePosition) throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard !atEnd else { throw error("unterminated string") }
            let byte = current
            let digit: UInt32
            switch byte {
            case Byte.zero...Byte.nine: digit = UInt32(byte - Byte.zero)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("\\u must be followed by four hex digits", at: escapePosition)
            }
            value = value << 4 | digit
            advance()
        }
        return value
    }
}
