// Text helpers shared by the renderers: every string that comes from a device, a spec or an adapter passes
// through here before it reaches a report, so that reports stay ASCII, single-line where they must be, and free
// of terminal escape sequences.

package enum PlainText {
    /// ASCII stand-ins for characters that specs and messages commonly contain.
    private static let lookalikes: [UInt32: String] = [
        0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " ", 0x202F: " ",
        0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2014: "--", 0x2212: "-",
        0x2018: "'", 0x2019: "'", 0x201A: "'", 0x201C: "\"", 0x201D: "\"", 0x201E: "\"",
        0x2026: "...", 0x2022: "*", 0x00B7: "*", 0x00D7: "x",
        0x2190: "<-", 0x2192: "->", 0x2194: "<->", 0x21D2: "=>", 0x27F6: "->",
        0x2264: "<=", 0x2265: ">=", 0x2260: "!=", 0x2248: "~", 0x00B5: "u", 0x03BC: "u",
    ]

    /// The text as ASCII on one line: newlines, tabs and other control characters become visible escapes
    /// (`\n`, `\t`, `\x07`), other characters outside ASCII become look-alikes or `<U+2603>`.
    package static func line(_ s: String) -> String { ascii(s, keepNewlines: false) }

    /// Like ``line(_:)``, but keeps newlines (CR LF and CR become LF).
    package static func ascii(_ s: String, keepNewlines: Bool) -> String {
        // Most text is printable ASCII already.
        if allBytes(of: s, satisfy: { $0 >= 0x20 && $0 <= 0x7E }) { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var previousCR = false
        for u in s.unicodeScalars {
            let v = u.value
            defer { previousCR = v == 0x0D }
            switch v {
            case 0x0A:
                if keepNewlines { if !previousCR { out += "\n" } } else if !previousCR { out += "\\n" }
            case 0x0D:
                out += keepNewlines ? "\n" : "\\n"
            case 0x09: out += "\\t"
            case 0x20...0x7E: out.unicodeScalars.append(u)
            case 0x00...0x1F, 0x7F: out += "\\x" + hex2(UInt8(v))
            default:
                if let s = lookalikes[v] { out += s } else { out += "<U+" + hex4(v) + ">" }
            }
        }
        return out
    }

    /// Breaks `text` (already one line) into lines of at most `width` characters where it has spaces: the first
    /// line starts with `first`, the others with `rest`. Words longer than a line stay whole.
    package static func wrap(_ text: String, width: Int, first: String, rest: String) -> [String] {
        var lines: [String] = []
        var current = first
        var currentHasWord = false
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if currentHasWord && characterCount(current) + 1 + characterCount(word) > width {
                lines.append(current)
                current = rest + word
            } else {
                current += (currentHasWord ? " " : "") + word
            }
            currentHasWord = true
        }
        lines.append(current)
        return lines
    }

    /// Shortens a one-line text to `max` characters, ending it with `...` when cut.
    static func truncate(_ s: String, to max: Int) -> String {
        guard s.count > max, max > 3 else { return s }
        return String(s.prefix(max - 3)) + "..."
    }

    /// A duration for people: `12 us`, `3.4 ms`, `1.25 s`.
    static func duration(micros: UInt64) -> String {
        if micros < 1_000 { return "\(micros) us" }
        if micros < 1_000_000 { return "\(micros / 1_000).\(micros % 1_000 / 100) ms" }
        let hundredths = micros % 1_000_000 / 10_000
        return "\(micros / 1_000_000).\(hundredths < 10 ? "0" : "")\(hundredths) s"
    }

    /// A duration in seconds with six decimals (`0.000012`), independent of locale.
    static func seconds(micros: UInt64) -> String {
        let frac = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
    }

    /// Lowercase hexadecimal of bytes, no separators.
    static func hex(_ bytes: [UInt8]) -> String {
        // Straight into UTF-8 bytes: transcripts and the journal write this for every operation with bytes.
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, b) in bytes.enumerated() {
                out[2 * i] = digits[Int(b >> 4)]
                out[2 * i + 1] = digits[Int(b & 0xF)]
            }
            return bytes.count * 2
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func hex2(_ b: UInt8) -> String { hex([b]) }

    /// True when `s` is printable ASCII without any of the five markup characters (`&`, `<`, `>`, `"`, `'`): text
    /// that XML and HTML escaping leave as it is, which is most of what a report holds.
    static func isPlainMarkupText(_ s: String) -> Bool {
        allBytes(of: s) { b in
            b >= 0x20 && b < 0x7F && b != 0x26 && b != 0x3C && b != 0x3E && b != 0x22 && b != 0x27
        }
    }

    /// True when every UTF-8 byte of `s` satisfies `test`: read from the string's contiguous storage, which costs a
    /// fraction of stepping through its `utf8` view (every renderer asks this of nearly every string it writes).
    static func allBytes(of s: String, satisfy test: (UInt8) -> Bool) -> Bool {
        var s = s
        return s.withUTF8 { $0.allSatisfy(test) }
    }

    static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    /// Parses lowercase or uppercase hexadecimal without separators.
    static func bytes(fromHex s: String) -> [UInt8]? {
        let chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// Left-aligns `s` in a column of `width` characters.
    static func pad(_ s: String, _ width: Int) -> String {
        let n = characterCount(s)
        return n >= width ? s : s + String(repeating: " ", count: width - n)
    }

    /// Right-aligns `s` in a column of `width` characters.
    static func padLeft(_ s: String, _ width: Int) -> String {
        let n = characterCount(s)
        return n >= width ? s : String(repeating: " ", count: width - n) + s
    }

    /// `s.count`, the number of characters; for printable ASCII (what the reports hold, nearly always) the number of
    /// bytes, which is the same there and costs no walk over grapheme boundaries.
    static func characterCount(_ s: String) -> Int {
        var s = s
        return s.withUTF8 { isPrintableASCII($0) ? $0.count : nil } ?? s.count
    }

    /// ``characterCount(_:)`` of a part of a string.
    static func characterCount(_ s: Substring) -> Int {
        var s = s
        return s.withUTF8 { isPrintableASCII($0) ? $0.count : nil } ?? s.count
    }

    private static func isPrintableASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
    }
}
