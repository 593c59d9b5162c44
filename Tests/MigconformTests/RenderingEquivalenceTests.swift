import Foundation
import Testing

@testable import MigconformReport

// The renderers' fast paths against the straightforward forms they replaced: the same text for every input.

/// ``EngineNames/encode(_:)`` as it was written before it read bytes: character by character, with a string per
/// piece. Kept as the reference the byte-wise form must agree with.
private func referenceEncode(_ id: String) -> String {
    enum Unit {
        case letter(UInt8)
        case fixed(String)
        case underscore
        case hyphen
    }
    func hex(_ u: Unicode.Scalar) -> String {
        var out = ""
        for b in String(u).utf8 { out += "_" + PlainText.hex2(b).lowercased() }
        return out
    }
    var units: [Unit] = []
    let scalars = Array(id.unicodeScalars)
    var depth = 0
    var i = 0
    func startsSetup(at k: Int) -> Bool {
        guard k + 5 <= scalars.count else { return false }
        return String(String.UnicodeScalarView(scalars[k..<(k + 5)])).lowercased() == "setup"
    }
    let lastClose = scalars.lastIndex(of: "]")
    func afterBracket() -> Bool { if case .fixed(let s)? = units.last { return s == "__" } else { return false } }
    while i < scalars.count {
        let u = scalars[i]
        switch u {
        case "-" where i + 1 < scalars.count && scalars[i + 1] == ">":
            units.append(.fixed(afterBracket() ? "_2d_3e" : "-to-"))
            i += 2
            continue
        case "-": units.append(afterBracket() ? .fixed("_2d") : .hyphen)
        case "_": units.append(.underscore)
        case "[" where depth == 0 && (lastClose.map { $0 > i } ?? false):
            units.append(.fixed("__"))
            depth = 1
        case "]" where depth == 1:
            units.append(.fixed(i == scalars.count - 1 ? "" : "__"))
            depth = 0
        case "s" where startsSetup(at: i), "S" where startsSetup(at: i): units.append(.fixed(hex(u)))
        case "A"..."Z", "a"..."z", "0"..."9": units.append(.letter(UInt8(u.value)))
        default: units.append(.fixed(hex(u)))
        }
        i += 1
    }
    var reversed: [UInt8] = []
    func prepend(_ s: String) { reversed.append(contentsOf: s.utf8.reversed()) }
    func followedBy(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        let n = reversed.count
        return n >= 3 && reversed[n - 1] == a && reversed[n - 2] == b && reversed[n - 3] == c
    }
    for unit in units.reversed() {
        switch unit {
        case .letter(let b): reversed.append(b)
        case .fixed(let s): prepend(s)
        case .underscore:
            let upper = reversed.last.map { (0x41...0x5A).contains($0) } ?? false
            prepend(upper ? "_" : "_5f")
        case .hyphen:
            prepend(followedBy(UInt8(ascii: "t"), UInt8(ascii: "o"), UInt8(ascii: "-")) ? "_2d" : "-")
        }
    }
    return String(decoding: reversed.reversed(), as: UTF8.self)
}

@Test func byteWiseEngineNamesAreTheCharacterWiseOnes() {
    var rng = SystemRandomNumberGenerator()
    // Everything the table treats specially, upper and lower case, and characters outside ASCII (one a Kelvin sign,
    // which lowercases to `k`; one a long s).
    let alphabet = Array("-_[]>to sSetupETUP.A1z\u{e9}\u{2014}\u{2192}\u{2603}\u{212A}\u{17F}\u{1F600}\u{0}\n")
    for _ in 0..<50_000 {
        let s = String((0..<Int.random(in: 0...14, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        #expect(EngineNames.encode(s) == referenceEncode(s), "\(s.debugDescription)")
    }
    for id in [
        "V2-ARC-DATA-FD[RUNNING->PRE_COPY]", "V2-REJECT-OUT-OF-RANGE[STOP_COPY->4294967295]", "V2-ROUND-TRIP",
        "setup", "SETUP[a->b]x", "x[->]", "a[-b]", "a_b_C", "to-to-", "a-to-b", "[]", "]", "[", "é[x]",
    ] {
        #expect(EngineNames.encode(id) == referenceEncode(id), "\(id)")
    }
}

/// Random strings over characters that the fast paths treat specially: markup and YAML specials, whitespace,
/// control characters, combining marks (which join the character before them), CR LF, and characters outside ASCII.
private func randomText(_ rng: inout some RandomNumberGenerator, length: ClosedRange<Int> = 0...12) -> String {
    let pieces = [
        "a", "Z", "0", " ", "\t", "\n", "\r", "\r\n", ":", "&", "<", ">", "\"", "'", "\\", "-", "\u{7}", "\u{7F}",
        "\u{85}", "\u{301}", "\u{e9}", "\u{2014}", "\u{FFFE}", "\u{1F600}", "\u{A0}", "\u{3000}", "core",
    ]
    return (0..<Int.random(in: length, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
}

@Test func fastTextPathsAgreeWithTheGeneralOnes() {
    var rng = SystemRandomNumberGenerator()
    let sources = CitationSources(["uapi": "x", "a b": "y", "core": "z", "\u{e9}": "w"])
    for _ in 0..<20_000 {
        let s = randomText(&rng)
        #expect(PlainText.characterCount(s) == s.count, "\(s.debugDescription)")
        let note = randomText(&rng, length: 0...2)
        #expect(MarkdownReport.cites(s, note) == s.contains(note), "\(s.debugDescription) \(note.debugDescription)")
        for key in ["uapi", "a b", "core", "\u{e9}"] {
            let cite = randomText(&rng, length: 0...2) + key + randomText(&rng, length: 0...2) + ":" + s
            #expect(sources.key(ofCite: cite) == referenceKey(sources, cite), "\(cite.debugDescription)")
        }
        #expect(sources.key(ofCite: s) == referenceKey(sources, s), "\(s.debugDescription)")
        #expect(
            JUnitReport.escape(s, attribute: true) == referenceXMLEscape(s, attribute: true), "\(s.debugDescription)")
        #expect(JUnitReport.escape(s, attribute: false) == referenceXMLEscape(s, attribute: false))
        #expect(Markup.escape(s) == referenceMarkupEscape(s), "\(s.debugDescription)")
        #expect(TAPReport.yaml(s) == referenceYAML(s), "\(s.debugDescription)")
    }
}

/// ``CitationSources/key(ofCite:)`` as it was: Foundation's trimming, always.
private func referenceKey(_ sources: CitationSources, _ cite: String) -> String? {
    guard let colon = cite.firstIndex(of: ":") else { return sources.entries[cite] != nil ? cite : nil }
    let key = cite[..<colon].trimmingCharacters(in: .whitespaces)
    return sources.entries[key] != nil ? key : nil
}

/// ``JUnitReport/escape(_:attribute:)`` as it was, appending scalar by scalar.
private func referenceXMLEscape(_ s: String, attribute: Bool) -> String {
    var out = ""
    for u in s.unicodeScalars {
        switch u.value {
        case 0x26: out += "&amp;"
        case 0x3C: out += "&lt;"
        case 0x3E: out += "&gt;"
        case 0x22: out += "&quot;"
        case 0x27: out += "&apos;"
        case 0x09: out += attribute ? "&#9;" : "\t"
        case 0x0A: out += attribute ? "&#10;" : "\n"
        case 0x0D: out += "&#13;"
        case 0x00...0x1F: out += "\\x" + PlainText.hex2(UInt8(u.value))
        case 0x7F...0x9F: out += "\\x" + PlainText.hex2(UInt8(u.value))
        case 0xFFFE, 0xFFFF: out += "\\u{\(String(u.value, radix: 16, uppercase: true))}"
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}

/// ``Markup/escape(_:)`` as it was, appending scalar by scalar.
private func referenceMarkupEscape(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(u)
        default:
            if u.value < 0x20 || u.value == 0x7f || u.value == 0xfffe || u.value == 0xffff { continue }
            out.unicodeScalars.append(u)
        }
    }
    return out
}

/// ``TAPReport/yaml(_:)`` as it was, without the copy of plain text.
private func referenceYAML(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u.value {
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0x20...0x7E: out.unicodeScalars.append(u)
        case 0...0xFF: out += "\\x" + PlainText.hex2(UInt8(u.value))
        case 0x100...0xFFFF: out += "\\u" + PlainText.hex4(u.value)
        default:
            let h = String(u.value, radix: 16, uppercase: true)
            out += "\\U" + String(repeating: "0", count: 8 - h.count) + h
        }
    }
    return out + "\""
}
