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
    package static func encode(_ id: String) -> String {
        // Pass 1, left to right: units whose output is fixed, and literal `_`/`-` whose output depends on what follows.
        enum Unit {
            case letter(UInt8)
            case fixed(String)
            case underscore
            case hyphen
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
        // Pass 2, right to left: a literal `_` stays only before an upper-case letter, a literal `-` only where the
        // text after it does not begin with `to-` (which would read as `->`).
        // Every piece is ASCII: the name is gathered back to front as bytes, so that what follows a piece (all
        // either decision reads) is the end of what is gathered so far.
        var reversed: [UInt8] = []
        reversed.reserveCapacity(units.count * 2)
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

    private static func hex(_ u: Unicode.Scalar) -> String {
        var out = ""
        for b in String(u).utf8 { out += "_" + PlainText.hex2(b).lowercased() }
        return out
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
            return lava(first)
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
