import Foundation
import MigconformRun
import MigconformSpec

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
        guard let colon = cite.firstIndex(of: ":") else { return entries[cite] != nil ? cite : nil }
        let key = cite[..<colon].trimmingCharacters(in: .whitespaces)
        return entries[key] != nil ? key : nil
    }

    /// The expansion of the source a citation names.
    package func expand(cite: String) -> Expansion? { key(ofCite: cite).flatMap(expand(key:)) }

    /// The expansion of a source key.
    package func expand(key: String) -> Expansion? {
        guard let raw = entries[key] else { return nil }
        var text = raw
        var messageID: String?
        // A seed: `shared/seeds/NNN: what it is`.
        if let m = raw.firstMatch(of: #/^(?:shared/)?seeds/([0-9]{3})[^:]*:\s*/#) {
            text = String(raw[m.range.upperBound...])
            messageID = Self.seedMessageIDs[String(m.output.1)]
        }
        if let m = raw.firstMatch(of: #/<([^<>@\s]+@[^<>@\s]+)>/#) { messageID = String(m.output.1) }
        var link: String?
        if let id = messageID {
            link = "https://lore.kernel.org/r/" + id
            text += "; Message-ID <\(id)>"
        } else if let m = raw.firstMatch(of: #/https?://[^\s)>,;]+/#) {
            link = String(m.output)
        } else if let m = raw.firstMatch(
            of: #/^((?:include|drivers|Documentation|arch|kernel|lib|tools)/[A-Za-z0-9_./-]+)/#)
        {
            let file = String(m.output.1)
            if let v = raw.firstMatch(of: #/Linux ([0-9]+\.[0-9]+)/#) {
                link = "https://elixir.bootlin.com/linux/v\(v.output.1)/source/\(file)"
            } else {
                link = "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/\(file)"
            }
        }
        return Expansion(key: key, text: text, link: link, messageID: messageID)
    }

    /// Every source the cases cite, in key order.
    package func cited(by cases: [CaseResult]) -> [Expansion] {
        Set(cases.compactMap { key(ofCite: $0.cite) }).sorted().compactMap { expand(key: $0) }
    }
}
