import Foundation
import MigconformRun
import MigconformSpec
import Synchronization

/// What a rule's citation names, spelled out for a reader: a case cites `uapi: MIG_DEVICE_STATE: '...'`, and the
/// spec's `sources` table says what `uapi` is (`include/uapi/linux/vfio.h, Linux 6.2+ (...)`). The reports print that
/// text beside the citation, with a link: the header at the kernel version the spec names (elixir.bootlin.com), a
/// mailing-list message by its Message-ID (lore.kernel.org/r/<Message-ID>), or a URL the text itself holds.
///
/// The seeds the specs cite as `shared/seeds/NNN` are mailing-list messages; their Message-IDs are in
/// ``seedMessageIDs`` (a source text that carries its own `<Message-ID>` wins).
package struct CitationSources: Sendable {
    /// Source key -> the spec's text for it.
    package var entries: [String: String]

    package init(_ entries: [String: String]) { self.entries = entries }

    /// One source, spelled out.
    package struct Expansion: Sendable, Equatable {
        package var key: String
        /// What the source is, for a reader (the spec's text; a seed's internal path left out).
        package var text: String
        /// Where to read it, when known.
        package var link: String?
        /// The mailing-list message, when the source is one.
        package var messageID: String?
    }

    /// The Message-IDs of the seed threads in `shared/seeds/` (each checked against the list archives).
    package static let seedMessageIDs: [String: String] = [
        "000": "20211105132404.GB2744544@nvidia.com", // Jason Gunthorpe, kvm, 5 Nov 2021
        "001": "20200108113134.05c08470@w520.home", // Alex Williamson, qemu-devel, 8 Jan 2020
        "002": "20220119100217.4aee7451.alex.williamson@redhat.com", // Alex Williamson, kvm, 19 Jan 2022
        "003": "20211102141547.6f1b0bb3.alex.williamson@redhat.com", // Alex Williamson, kvm, 2 Nov 2021
        "004": "87tufltxp0.fsf@redhat.com", // Cornelia Huck, kvm, 6 Dec 2021
    ]

    /// The sources of the spec a report was run against: `spec`'s when given and the run's, else the built-in spec's or the
    /// file's the report names, when its SHA-256 is the one the run recorded, else (the file is not here) the
    /// built-in spec with that SHA-256; else none.
    package static func of(_ r: RunReport, spec: Spec? = nil) -> CitationSources {
        // A spec given that is not the one the run used (`report --spec`) lends no citations.
        if let spec, spec.sha256 == r.run.specSHA256 { return CitationSources(spec.sources) }
        let path = r.run.specPath
        let loaded: Spec?
        if BuiltinSpecs.isBuiltin(path) {
            loaded = try? BuiltinSpecs.load(path)
        } else if FileManager.default.fileExists(atPath: path) {
            loaded = try? SpecLoader.load(path: path)
        } else {
            loaded = BuiltinSpecs.file(sha256: r.run.specSHA256).flatMap { try? BuiltinSpecs.load($0.name) }
        }
        guard let s = loaded, s.sha256 == r.run.specSHA256 else { return CitationSources([:]) }
        return CitationSources(s.sources)
    }

    /// The source key a citation starts with (`uapi` of `uapi: MIG_DEVICE_STATE: ...`), when the table has it.
    package func key(ofCite cite: String) -> String? {
        guard let key = Self.asciiKey(ofCite: cite) else {
            guard let colon = cite.firstIndex(of: ":") else { return entries[cite] != nil ? cite : nil }
            let key = cite[..<colon].trimmingCharacters(in: .whitespaces)
            return entries[key] != nil ? key : nil
        }
        return entries[key] != nil ? key : nil
    }

    /// The text before a citation's first colon, without the spaces and tabs around it, when that text is ASCII and
    /// the colon is a character of its own (what follows it is ASCII too): there bytes are characters, and only space
    /// and tab are whitespace, so no Foundation trimming (thousands of instructions a call) is needed. The whole
    /// citation when it has no colon. Nil when the general rule has to decide.
    private static func asciiKey(ofCite cite: String) -> String? {
        var cite = cite
        return cite.withUTF8 { bytes -> String? in
            guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
                return String(decoding: bytes, as: UTF8.self)
            }
            guard colon + 1 == bytes.count || bytes[colon + 1] < 0x80 else { return nil }
            func isBlank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
            var head = bytes[..<colon]
            guard head.allSatisfy({ $0 < 0x80 }) else { return nil }
            while let b = head.first, isBlank(b) { head = head.dropFirst() }
            while let b = head.last, isBlank(b) { head = head.dropLast() }
            return String(decoding: head, as: UTF8.self)
        }
    }

    /// The expansion of the source a citation names.
    package func expand(cite: String) -> Expansion? { key(ofCite: cite).flatMap(expand(key:)) }

    /// The expansion of a source key: a seed's Message-ID and lore link, a `<local@domain>` Message-ID, the first
    /// `http(s)://` address, or a kernel tree path (`include/...`, `drivers/...`) linked at the `Linux N.M` the text
    /// names. Read character by character: this runs for every cited source of every report written.
    package func expand(key: String) -> Expansion? {
        guard let raw = entries[key] else { return nil }
        let memoKey = MemoKey(key: key, text: raw)
        if let known = Self.expansions.withLock({ $0[memoKey] }) { return known }
        let expansion = Self.expand(key: key, raw: raw)
        Self.expansions.withLock { memo in
            if memo.count >= 1024 { memo.removeAll() }
            memo[memoKey] = expansion
        }
        return expansion
    }

    private struct MemoKey: Hashable {
        var key: String
        var text: String
    }

    /// Expansions already made, by source key and text: every report of a run (Markdown, HTML) spells out the same
    /// few sources, and reading a source costs some hundred thousand instructions. Emptied when it grows large (a
    /// long-lived process that loads many specs).
    private static let expansions = Mutex<[MemoKey: Expansion]>([:])

    private static func expand(key: String, raw: String) -> Expansion {
        let c = Array(raw)
        var text = raw
        var messageID: String?
        if let seed = Self.seedPrefix(c) {
            text = String(c[seed.end...])
            messageID = Self.seedMessageIDs[seed.number]
        }
        if let id = Self.bracketedMessageID(c) { messageID = id }
        var link: String?
        if let id = messageID {
            link = "https://lore.kernel.org/r/" + id
            text += "; Message-ID <\(id)>"
        } else if let url = Self.firstURL(c) {
            link = url
        } else if let file = Self.treePath(c) {
            if let v = Self.linuxVersion(c) {
                link = "https://elixir.bootlin.com/linux/v\(v)/source/\(file)"
            } else {
                link = "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/\(file)"
            }
        }
        return Expansion(key: key, text: text, link: link, messageID: messageID)
    }

    /// `shared/seeds/NNN...: ` (or `seeds/NNN...: `) at the start: the seed's number and where the text after the
    /// colon and its spaces begins.
    static func seedPrefix(_ c: [Character]) -> (number: String, end: Int)? {
        var i = c.starts(with: "shared/") ? 7 : 0
        guard c[i...].starts(with: "seeds/") else { return nil }
        i += 6
        guard i + 3 <= c.count, c[i..<i + 3].allSatisfy(isDigit) else { return nil }
        let number = String(c[i..<i + 3])
        i += 3
        while i < c.count, c[i] != ":" { i += 1 }
        guard i < c.count else { return nil }
        i += 1
        while i < c.count, c[i].isWhitespace { i += 1 }
        return (number, i)
    }

    /// The first `<local@domain>` (no spaces, brackets or second `@` inside), without its brackets.
    static func bracketedMessageID(_ c: [Character]) -> String? {
        func part(_ ch: Character) -> Bool { ch != "<" && ch != ">" && ch != "@" && !ch.isWhitespace }
        var from = 0
        while let open = c[from...].firstIndex(of: "<") {
            var i = open + 1
            while i < c.count, part(c[i]) { i += 1 }
            if i > open + 1, i < c.count, c[i] == "@" {
                let domain = i + 1
                i = domain
                while i < c.count, part(c[i]) { i += 1 }
                if i > domain, i < c.count, c[i] == ">" { return String(c[(open + 1)..<i]) }
            }
            from = open + 1
        }
        return nil
    }

    /// The first `http://` or `https://` address, up to a space, `)`, `>`, `,` or `;`.
    static func firstURL(_ c: [Character]) -> String? {
        // Both schemes start with `h`: only there is each compared, as characters made once.
        for start in c.indices where c[start] == "h" {
            for scheme in urlSchemes where c[start...].starts(with: scheme) {
                var i = start + scheme.count
                while i < c.count, !c[i].isWhitespace, !urlEnds.contains(c[i]) { i += 1 }
                if i > start + scheme.count { return String(c[start..<i]) }
            }
        }
        return nil
    }

    private static let urlSchemes: [[Character]] = [Array("https://"), Array("http://")]
    private static let urlEnds: Set<Character> = [")", ">", ",", ";"]

    /// A path in the kernel tree at the start (`include/...`, `drivers/...`, ...).
    static func treePath(_ c: [Character]) -> String? {
        for top in ["include/", "drivers/", "Documentation/", "arch/", "kernel/", "lib/", "tools/"]
        where c.starts(with: top) {
            var i = top.count
            while i < c.count, c[i].isASCII, c[i].isLetter || isDigit(c[i]) || "_./-".contains(c[i]) { i += 1 }
            return i > top.count ? String(c[..<i]) : nil
        }
        return nil
    }

    /// The first `Linux N.M`: `N.M`.
    static func linuxVersion(_ c: [Character]) -> String? {
        var from = 0
        while from < c.count, let at = c[from...].firstRange(of: "Linux ") {
            var i = at.upperBound
            while i < c.count, isDigit(c[i]) { i += 1 }
            if i > at.upperBound, i < c.count, c[i] == "." {
                let minor = i + 1
                i = minor
                while i < c.count, isDigit(c[i]) { i += 1 }
                if i > minor { return String(c[at.upperBound..<i]) }
            }
            from = at.lowerBound + 1
        }
        return nil
    }

    private static func isDigit(_ ch: Character) -> Bool { ch >= "0" && ch <= "9" && ch.isASCII }

    /// Every source the cases cite, in key order.
    package func cited(by cases: [CaseResult]) -> [Expansion] {
        Set(cases.compactMap { key(ofCite: $0.cite) }).sorted().compactMap { expand(key: $0) }
    }
}
