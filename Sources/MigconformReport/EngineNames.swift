import MigconformDevice
import MigconformRun

/// Names that every lab engine accepts, made from case ids and rule ids, and back.
///
/// LAVA test case and test set names, KCIDB path components, kselftest-style TAP names and JUnit names are all safe
/// when they use only `[A-Za-z0-9_-]`: no dots (a dot is a path level in KCIDB and is refused in LAVA definition
/// names), no whitespace, and never the substring `setup` (KernelCI drops any KCIDB path that contains it).
/// Case ids use more than that (`V2-ARC-DATA-FD[RUNNING->PRE_COPY]`), so ``encode(_:)`` maps every string to a
/// safe name and ``decode(_:)`` gives the original back. The mapping is injective over all strings, and reads well
/// for the ids the specs produce:
///
/// | In the id                                   | In the name                        |
/// |---------------------------------------------|------------------------------------|
/// | letters, digits                             | themselves                         |
/// | `->`                                        | `-to-`                             |
/// | `[` opening the bindings, `]` closing them  | `__` (both); nothing for a `]` that ends the id |
/// | `-`                                         | `-`, or `_2d` where `to-` follows or `__` precedes |
/// | `_`                                         | `_` before an upper-case letter, otherwise `_5f` |
/// | the `s` or `S` that starts `setup` (any case) | `_73` or `_53`                   |
/// | any other character                         | `_` and two lower-case hex digits per UTF-8 byte |
///
/// So `V2-ARC-DATA-FD[RUNNING->PRE_COPY]` is `V2-ARC-DATA-FD__RUNNING-to-PRE_COPY`,
/// `V2-REJECT-OUT-OF-RANGE[STOP_COPY->4294967295]` is `V2-REJECT-OUT-OF-RANGE__STOP_COPY-to-4294967295`, and a
/// plain `V2-ROUND-TRIP` stays as it is.
///
/// The names also pass through the kselftest output parser of Linaro's test-definitions (the one LAVA's kselftest
/// jobs use) unchanged: it trims one `_` from each end of a name and rewrites `_-` as `__`, so a name made from an id
/// that starts with a letter or digit (as every spec id does) never ends with `_` and never holds `_-`.
///
/// Decoding reads the name left to right: `-to-` is `->`; `__` is `[` when no bracket is open and `]` when one is
/// (a bracket that would not alternate like that, or a `[` no `]` follows, is hex-escaped instead), and a bracket
/// still open at the end is closed; `_` then an upper-case letter is a literal `_`; `_` then two lower-case hex
/// digits is one byte; anything else is not a name this mapping makes.
package enum EngineNames {
    /// The characters a safe name may contain.
    package static func isSafeCharacter(_ u: Unicode.Scalar) -> Bool {
        switch u {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }

    /// True when `name` can go into every engine unchanged: non-empty, only `[A-Za-z0-9_-]`, no `setup` in any case.
    package static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy(isSafeCharacter) && !name.lowercased().contains("setup")
    }

    /// The engine-safe name of a case id or rule id.
    ///
    /// Works on the id's UTF-8 bytes: every character the table treats specially is ASCII, and a character outside
    /// ASCII is escaped byte by byte, so reading bytes gives the same name as reading characters, without making a
    /// string per piece (the renderers name every case this way, several times per report).
    package static func encode(_ id: String) -> String {
        var id = id
        return id.withUTF8 { encode(utf8: $0) }
    }

    /// What one byte (or `->`) of the id becomes, before the right-to-left pass decides the literal `_` and `-`.
    private enum Unit {
        /// A letter or digit, kept as it is.
        case kept(UInt8)
        /// `_` then two lower-case hex digits.
        case escaped(UInt8)
        /// `->` as `-to-`.
        case arrow
        /// `__`: a `[` opening the bindings, or a `]` closing them before the end.
        case bracket
        /// A `]` that ends the id: nothing.
        case dropped
        /// A literal `_`: itself before an upper-case letter, otherwise escaped.
        case underscore
        /// A literal `-`: itself unless `to-` follows, otherwise escaped.
        case hyphen
    }

    private static func encode(utf8 id: UnsafeBufferPointer<UInt8>) -> String {
        let n = id.count
        if isOwnName(id) { return String(decoding: id, as: UTF8.self) }
        // Pass 1, left to right: units whose output is fixed, and literal `_`/`-` whose output depends on what follows.
        var units: [Unit] = []
        units.reserveCapacity(n)
        let close = UInt8(ascii: "]")
        let lastClose = id.lastIndex(of: close)
        var depth = 0
        var i = 0
        /// True when `setup` in any case begins at `k`.
        func startsSetup(at k: Int) -> Bool {
            guard k + 5 <= n else { return false }
            return zip(id[k..<(k + 5)], "setup".utf8).allSatisfy { lowercased($0) == $1 }
        }
        func afterBracket() -> Bool { if case .bracket? = units.last { return true } else { return false } }
        while i < n {
            let b = id[i]
            switch b {
            case UInt8(ascii: "-") where i + 1 < n && id[i + 1] == UInt8(ascii: ">"):
                if afterBracket() {
                    units.append(.escaped(UInt8(ascii: "-")))
                    units.append(.escaped(UInt8(ascii: ">")))
                } else {
                    units.append(.arrow)
                }
                i += 2
                continue
            case UInt8(ascii: "-"): units.append(afterBracket() ? .escaped(b) : .hyphen)
            case UInt8(ascii: "_"): units.append(.underscore)
            case UInt8(ascii: "[") where depth == 0 && (lastClose.map { $0 > i } ?? false):
                units.append(.bracket)
                depth = 1
            case close where depth == 1:
                units.append(i == n - 1 ? .dropped : .bracket)
                depth = 0
            case UInt8(ascii: "s") where startsSetup(at: i), UInt8(ascii: "S") where startsSetup(at: i):
                units.append(.escaped(b))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                units.append(.kept(b))
            default: units.append(.escaped(b))
            }
            i += 1
        }
        // Pass 2, right to left: a literal `_` stays only before an upper-case letter, a literal `-` only where the
        // text after it does not begin with `to-` (which would read as `->`).
        // The name is gathered back to front, so that what follows a piece (all either decision reads) is the end
        // of what is gathered so far.
        var reversed: [UInt8] = []
        reversed.reserveCapacity(units.count * 3)
        func prependEscaped(_ b: UInt8) {
            reversed.append(hexDigits[Int(b & 0xF)])
            reversed.append(hexDigits[Int(b >> 4)])
            reversed.append(UInt8(ascii: "_"))
        }
        func followedByTo() -> Bool {
            let k = reversed.count
            return k >= 3 && reversed[k - 1] == UInt8(ascii: "t") && reversed[k - 2] == UInt8(ascii: "o")
                && reversed[k - 3] == UInt8(ascii: "-")
        }
        for unit in units.reversed() {
            switch unit {
            case .kept(let b): reversed.append(b)
            case .escaped(let b): prependEscaped(b)
            case .arrow: reversed.append(contentsOf: "-ot-".utf8)
            case .bracket: reversed.append(contentsOf: "__".utf8)
            case .dropped: break
            case .underscore:
                if let next = reversed.last, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(next) {
                    reversed.append(UInt8(ascii: "_"))
                } else {
                    prependEscaped(UInt8(ascii: "_"))
                }
            case .hyphen:
                if followedByTo() { prependEscaped(UInt8(ascii: "-")) } else { reversed.append(UInt8(ascii: "-")) }
            }
        }
        // Turned around in place: decoding a reversed view would take the slow path for storage that is not contiguous.
        reversed.reverse()
        return String(decoding: reversed, as: UTF8.self)
    }

    /// True when the id is its own name: only letters, digits and `-`, with no `-to-` (whose `-` would be escaped
    /// so it does not read as `->`) and no `setup` in any case. Most rule ids are.
    private static func isOwnName(_ id: UnsafeBufferPointer<UInt8>) -> Bool {
        for (i, b) in id.enumerated() {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                if lowercased(b) == UInt8(ascii: "s"), i + 5 <= id.count,
                    zip(id[i..<(i + 5)], "setup".utf8).allSatisfy({ lowercased($0) == $1 })
                {
                    return false
                }
            case UInt8(ascii: "-"):
                if i + 3 < id.count, id[i + 1] == UInt8(ascii: "t"), id[i + 2] == UInt8(ascii: "o"),
                    id[i + 3] == UInt8(ascii: "-")
                {
                    return false
                }
            default: return false
            }
        }
        return true
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func lowercased(_ b: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) ? b | 0x20 : b
    }

    /// The id a safe name was made from, or nil when `encode` makes no such name.
    package static func decode(_ name: String) -> String? {
        let s = Array(name.unicodeScalars)
        var bytes: [UInt8] = []
        var depth = 0
        var i = 0
        func at(_ k: Int) -> Unicode.Scalar? { k < s.count ? s[k] : nil }
        func hexValue(_ u: Unicode.Scalar?) -> UInt8? {
            guard let u else { return nil }
            switch u {
            case "0"..."9": return UInt8(u.value - 48)
            case "a"..."f": return UInt8(u.value - 87)
            default: return nil
            }
        }
        while i < s.count {
            let u = s[i]
            switch u {
            case "-":
                if at(i + 1) == "t" && at(i + 2) == "o" && at(i + 3) == "-" {
                    bytes += Array("->".utf8)
                    i += 4
                } else {
                    bytes.append(UInt8(ascii: "-"))
                    i += 1
                }
            case "_":
                if at(i + 1) == "_" {
                    bytes.append(UInt8(ascii: depth == 0 ? "[" : "]"))
                    depth = 1 - depth
                    i += 2
                } else if let n = at(i + 1), ("A"..."Z").contains(n) {
                    bytes.append(UInt8(ascii: "_"))
                    i += 1
                } else if let hi = hexValue(at(i + 1)), let lo = hexValue(at(i + 2)) {
                    bytes.append(hi << 4 | lo)
                    i += 3
                } else {
                    return nil
                }
            case "A"..."Z", "a"..."z", "0"..."9":
                bytes.append(UInt8(u.value))
                i += 1
            default:
                return nil
            }
        }
        if depth == 1 { bytes.append(UInt8(ascii: "]")) }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        // Only the canonical spelling decodes: a name spelled differently (an escape where none was needed, say)
        // would otherwise be a second name for the same id.
        return encode(text) == name ? text : nil
    }

}

/// How each verdict reads in the lab engines: the one table the TAP renderer, the LAVA reporter and the KCIDB
/// export share (documented in the README, "Running in a lab").
///
/// A SHOULD broken (WARN) and a MAY observed (INFO) never read as a failure of the driver. TIMEOUT is a failure:
/// it is always a device operation that missed its deadline. A FLAKE reads as its first attempt did (a FAIL first
/// attempt fails, a WARN first attempt passes); XFAIL and XPASS read as passes, the expectation kept beside them.
package enum EngineVerdicts {
    /// The LAVA result: `pass`, `fail` or `skip` (never `unknown`, which KernelCI cannot take).
    package static func lava(_ c: CaseResult) -> String { lava(c.verdict, first: c.rawVerdict) }

    /// The LAVA result of a verdict; `first` is the first attempt's verdict of a FLAKE.
    package static func lava(_ v: Verdict, first: Verdict? = nil) -> String {
        switch v {
        case .pass, .warn, .info, .xfail, .xpass: return "pass"
        case .fail, .timeout, .error: return "fail"
        case .notApplicable, .skipped: return "skip"
        case .flake:
            guard let first, first != .flake else { return "fail" }
            // An ERROR first (the runner's or the channel's), then a pass: the device passed.
            return first == .error ? "pass" : lava(first)
        }
    }

    /// True when the TAP test point is `ok`: exactly when the LAVA result is not `fail`.
    package static func tapOK(_ c: CaseResult) -> Bool { lava(c) != "fail" }

    /// The deadline, in whole seconds, that a TIMEOUT case missed: the run's deadline for the operation that did not
    /// come back, else how long that operation was waited for, else the case's duration (at least 1).
    package static func timeoutSeconds(_ c: CaseResult, run: RunInfo) -> Int {
        let stuck = c.transcript.last { $0.outcome == nil } ?? c.transcript.last
        var seconds: Double?
        if let stuck, let deadlines = run.deadlines {
            seconds = deadlines[stuck.operation.kind.rawValue] ?? deadlines["*"]
        }
        if seconds == nil, let stuck { seconds = Double(stuck.micros) / 1_000_000 }
        let s = seconds ?? Double(c.durationMicros) / 1_000_000
        return max(1, Int(s.rounded(.up)))
    }
}
