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
