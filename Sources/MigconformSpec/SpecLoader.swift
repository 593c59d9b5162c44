import Foundation

/// One thing wrong with a spec file, located by file, line, column and JSON path.
///
/// `description` reads like a compiler diagnostic:
/// `Specs/x.json:42:7: $.rules[3].cite: missing citation (a rule needs "cite": {"source", "section"})`.
/// A problem with no position in the file (the file cannot be read) has line and column 0 and prints as
/// `Specs/x.json: message`.
package struct SpecProblem: Sendable, Hashable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int
    package var jsonPath: String
    package var message: String
    package init(file: String, line: Int, column: Int, jsonPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.jsonPath = jsonPath
        self.message = message
    }
    /// A path or message from a hostile file can be a megabyte long (a key or string that long): both are cut to
    /// a length that reads on a screen.
    package var description: String {
        if line == 0 { return "\(file): \(SpecProblem.cut(message, 400))" }
        return "\(file):\(line):\(column): \(SpecProblem.cut(jsonPath, 160)): \(SpecProblem.cut(message, 400))"
    }

    static func cut(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        return "\(text.prefix(limit * 3 / 4))…(\(text.count) characters)"
    }
}

/// Why a spec did not load: every problem found, in file order. A JSON syntax error is reported alone, since
/// nothing after it can be trusted.
package struct SpecLoadError: Error, Sendable, CustomStringConvertible {
    package var problems: [SpecProblem]
    package init(problems: [SpecProblem]) { self.problems = problems }
    package var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads a spec file, validates all of it, and builds the ``Spec`` model.
///
/// Validation collects every problem it can find (unknown members, wrong types, dangling references to states,
/// features, sources and variants, duplicates, bad levels, check kinds and check parameters) before failing, so
/// that one run of `check-spec` shows everything to fix.
package enum SpecLoader {
    /// The requirement levels a rule may have.
    package static let levels: [String] = Level.allCases.map(\.rawValue)

    /// The errno names a rule's `accept` list may use: the ones the device layer knows by name. A positive decimal
    /// number (`"22"`, `"E22"`) is accepted as well, as the device layer's lookup accepts it.
    package static let errnoNames: [String] = Errno.known.map(\.name)

    /// Whether `name` is an errno the device layer can look up.
    package static func isKnownErrno(_ name: String) -> Bool { Errno(name: name) != nil }

    /// The syntax of rule ids: upper-case letters and digits in dash-separated words (`V2-ARC-STATE`).
    package static func isValidRuleID(_ id: String) -> Bool {
        var wordLength = 0
        for scalar in id.unicodeScalars {
            if ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) {
                wordLength += 1
            } else if scalar == "-" && wordLength > 0 {
                wordLength = 0
            } else {
                return false
            }
        }
        return wordLength > 0
    }

    /// Loads and validates the spec at `path`.
    /// A file larger than ``Limits/specFileBytes`` is refused after reading at most one byte more than that.
    package static func load(path: String) throws(SpecLoadError) -> Spec {
        func refuse(_ reason: String) -> SpecLoadError {
            SpecLoadError(problems: [SpecProblem(file: path, line: 0, column: 0, jsonPath: "$", message: reason)])
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw refuse("no such file") }
        if isFolder.boolValue { throw refuse("a folder, not a spec file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw refuse("cannot read the file") }
        defer { try? handle.close() }
        let data: Data?
        do { data = try handle.read(upToCount: Limits.specFileBytes + 1) } catch {
            throw refuse("cannot read the file: \(error)")
        }
        let bytes = [UInt8](data ?? Data())
        if bytes.count > Limits.specFileBytes { throw refuse(tooLarge) }
        return try load(data: bytes, path: path)
    }

    static let tooLarge = "larger than \(Limits.specFileBytes >> 20) MiB, the most a spec file may be; not read further"

    /// Validates `data` as a spec file; `path` names it in problems and becomes `Spec.path`.
    package static func load(data: [UInt8], path: String) throws(SpecLoadError) -> Spec {
        if data.count > Limits.specFileBytes {
            throw SpecLoadError(problems: [
                SpecProblem(file: path, line: 0, column: 0, jsonPath: "$", message: tooLarge)
            ])
        }
        return try loadUnlimited(data: data, path: path)
    }

    /// Parses a JSON file of the project's (a spec, the traceability matrix); bad JSON is a problem at its place.
    static func document(_ data: [UInt8], path: String) throws(SpecLoadError) -> JSONDocument {
        do {
            return try JSONParser.parseDocument(data)
        } catch {
            throw SpecLoadError(problems: [
                SpecProblem(
                    file: path, line: error.position.line,
                    column: error.position.column, jsonPath: "$",
                    message: "invalid JSON: \(error.message)")
            ])
        }
    }

    static func loadUnlimited(data: [UInt8], path: String) throws(SpecLoadError) -> Spec {
        let document = try document(data, path: path)
        let validator = SpecValidator(file: path, document: document)
        let spec = validator.validate(path: path, sha256: SHA256.hex(data))
        if let spec, validator.problems.isEmpty { return spec }
        throw SpecLoadError(problems: validator.sortedProblems)
    }
}

// MARK: - Validation

/// An object whose members have been checked against the allowed and required names.
private struct Members {
    let path: String
    let position: SourcePosition
    let members: [(key: String, value: JSONValue)]
    subscript(key: String) -> JSONValue? { members.first { $0.key == key }?.value }
    func path(_ key: String) -> String { JSONParser.memberPath(path, key) }
}

/// Walks the parsed document, collecting problems and building the model pieces that are sound.
private final class SpecValidator {
    let file: String
    let document: JSONDocument
    var problems: [SpecProblem] = []

    var sourceNames: Set<String> = []
    var featureNames: Set<String> = []
    var stateNames: Set<String> = []
    var variantIDs: Set<String> = []
    var arcTags: Set<String> = []

    init(file: String, document: JSONDocument) {
        self.file = file
        self.document = document
    }

    var sortedProblems: [SpecProblem] {
        // Stable sort by position; equal positions keep the order found.
        problems.enumerated().sorted {
            ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
        }.map(\.element)
    }

    // MARK: Reporting

    /// The position of the value at `path`, or of its nearest enclosing value when it has none (a missing member).
    func position(of path: String) -> SourcePosition {
        var current = path
        while true {
            if let hit = document.positions[current] { return hit }
            guard let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }), cut > current.startIndex else {
                return document.positions["$"] ?? SourcePosition(line: 1, column: 1)
            }
            current = String(current[..<cut])
        }
    }

    func report(_ path: String, _ message: String, at position: SourcePosition? = nil) {
        let where_ = position ?? self.position(of: path)
        problems.append(
            SpecProblem(
                file: file, line: where_.line, column: where_.column, jsonPath: path,
                message: message))
    }

    func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number(let n): return "the number \(n)"
        case .string(let s): return "the string \"\(s)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    func quotedList(_ names: [String]) -> String { names.joined(separator: ", ") }

    /// The string member `key` as a value of `T`; one that is none of its raw values is reported as
    /// `unknown WHAT "RAW" (CHOICES)`.
    func choice<T: RawRepresentable>(_ object: Members, _ key: String, _ what: String, choices: String) -> T?
    where T.RawValue == String {
        guard let raw = string(object, key) else { return nil }
        if let value = T(rawValue: raw) { return value }
        report(object.path(key), "unknown \(what) \"\(raw)\" (\(choices))")
        return nil
    }

    // MARK: Shapes

    /// Checks that `value` is an object with only `allowed` members and every `required` one. `missing` gives a
    /// custom message for a missing member.
    func object(
        _ value: JSONValue?, at path: String, what: String, allowed: [String], required: [String],
        missing: [String: String] = [:]
    ) -> Members? {
        guard let value else { return nil }
        guard case .object(let members) = value else {
            report(path, "expected \(what) (an object), found \(describe(value))")
            return nil
        }
        let object = Members(path: path, position: position(of: path), members: members)
        for member in members where !allowed.contains(member.key) {
            let memberPath = object.path(member.key)
            var message = "unknown member \"\(member.key)\" in \(what)"
            if let guess = closest(to: member.key, among: allowed) { message += " (did you mean \"\(guess)\"?)" }
            message += "; known members: \(quotedList(allowed))"
            report(memberPath, message, at: document.keyPositions[memberPath])
        }
        for name in required where object[name] == nil {
            report(
                object.path(name), missing[name] ?? "missing required member \"\(name)\" in \(what)",
                at: object.position)
        }
        return object
    }

    /// Hands `body` each object of the array `key` of `top`, in order, as `object(_:at:what:...)` checks it; an
    /// element that is not a sound object is reported there and passed over.
    func forEachObject(
        in top: Members, _ key: String, what: String, allowed: [String], required: [String],
        missing: [String: String] = [:], _ body: (Members) -> Void
    ) {
        for item in array(top, key) ?? [] {
            guard
                let object = object(
                    item.value, at: item.path, what: what, allowed: allowed, required: required,
                    missing: missing)
            else { continue }
            body(object)
        }
    }

    /// Notes where `name`, the member `key` of `object`, is first defined; a later definition is reported as a
    /// duplicate `what`.
    func noteDefinition(
        _ name: String?, _ what: String, of object: Members, key: String,
        in firstLine: inout [String: Int]
    ) {
        guard let name else { return }
        if let line = firstLine[name] {
            report(object.path(key), "duplicate \(what) \"\(name)\" (first defined at line \(line))")
        } else {
            firstLine[name] = object.position.line
        }
    }

    /// The member `key` of `object` as `read` takes it; a value it does not take is reported as not `expected`.
    func member<T>(_ object: Members, _ key: String, expected: String, _ read: (JSONValue) -> T?) -> T? {
        guard let value = object[key] else { return nil }
        guard let typed = read(value) else {
            report(object.path(key), "expected \(expected), found \(describe(value))")
            return nil
        }
        return typed
    }

    func array(_ object: Members, _ key: String) -> [(path: String, value: JSONValue)]? {
        member(object, key, expected: "an array", \.arrayValue).map { items in
            items.enumerated().map { (JSONParser.elementPath(object.path(key), $0.offset), $0.element) }
        }
    }

    func string(_ object: Members, _ key: String) -> String? {
        member(object, key, expected: "a string", \.stringValue)
    }

    /// A string that must say something: empty or blank text is a problem.
    func text(_ object: Members, _ key: String) -> String? {
        guard let s = string(object, key) else { return nil }
        if s.allSatisfy(\.isWhitespace) {
            report(object.path(key), "\(key) is empty")
            return nil
        }
        return s
    }

    func bool(_ object: Members, _ key: String) -> Bool? {
        member(object, key, expected: "true or false", \.boolValue)
    }

    func unsigned(_ object: Members, _ key: String, max: UInt64) -> UInt64? {
        guard let value = object[key] else { return nil }
        if case .number(let text) = value, let n = UInt64(text), n <= max { return n }
        report(object.path(key), "expected an integer from 0 to \(max) (written in decimal), found \(describe(value))")
        return nil
    }

    /// A list of strings; each item that is not a string is reported.
    func strings(_ object: Members, _ key: String) -> [(path: String, value: String)]? {
        guard let items = array(object, key) else { return nil }
        var out: [(path: String, value: String)] = []
        for item in items {
            guard case .string(let s) = item.value else {
                report(item.path, "expected a string, found \(describe(item.value))")
                continue
            }
            out.append((item.path, s))
        }
        return out
    }

    /// A list of feature names, each of which must be defined in `features`.
    func featureList(_ object: Members, _ key: String) -> [String] {
        guard let items = strings(object, key) else { return [] }
        for item in items where !featureNames.contains(item.value) {
            report(item.path, "unknown feature \"\(item.value)\"\(knownSuffix(featureNames))")
        }
        return items.map(\.value)
    }

    func knownSuffix(_ names: Set<String>) -> String {
        names.isEmpty ? " (none are defined)" : " (defined: \(quotedList(names.sorted())))"
    }

    /// A state name that must be defined in `states`.
    func stateReference(_ object: Members, _ key: String) -> String? {
        guard let name = string(object, key) else { return nil }
        if !stateNames.contains(name) {
            report(object.path(key), "unknown state \"\(name)\"\(knownSuffix(stateNames))")
        }
        return name
    }

    /// The spelling among `candidates` closest to a mistyped `word`, when one is close enough to be a typo.
    func closest(to word: String, among candidates: [String]) -> String? {
        var best: (name: String, distance: Int)?
        let length = word.count
        for candidate in candidates {
            // The distance is at least the difference in length: a word far longer than every name is no typo.
            if abs(length - candidate.count) > max(1, min(length, candidate.count) / 3) { continue }
            let d = editDistance(Array(word.lowercased()), Array(candidate.lowercased()))
            if d <= max(1, min(word.count, candidate.count) / 3), d < (best?.distance ?? .max) {
                best = (candidate, d)
            }
        }
        return best?.name
    }

    func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var row = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = row
        }
        return previous[b.count]
    }

    // MARK: Sections

    static let topMembers = [
        "spec", "version", "title", "generation", "sources", "features", "profiles", "states",
        "initial", "roles", "arcs", "paths", "variants", "rules",
    ]
    /// The role names `Spec.roles` may assign (see `Spec.stateName(forRole:)`).
    static let roleNames = ["save", "pre-copy", "resume", "resume-exit", "error"]
    static let topRequired = [
        "spec", "version", "title", "generation", "sources", "features", "profiles", "states",
        "initial", "arcs", "paths", "rules",
    ]
    static let generations = ProtocolGeneration.allCases.map(\.rawValue)

    func validate(path: String, sha256: String) -> Spec? {
        guard
            let top = object(
                document.value, at: "$", what: "a spec", allowed: Self.topMembers,
                required: Self.topRequired)
        else { return nil }
        let id = string(top, "spec")
        let version = string(top, "version")
        let title = string(top, "title")
        let generationName = string(top, "generation")
        let generation = generationName.flatMap(ProtocolGeneration.init(rawValue:))
        if let generationName, generation == nil {
            report(
                top.path("generation"),
                "unknown generation \"\(generationName)\" (generations: \(quotedList(Self.generations)))")
        }
        let sources = loadSources(top)
        let features = loadFeatures(top)
        let profiles = loadProfiles(top)
        let states = loadStates(top)
        let initial = stateReference(top, "initial")
        if let initial, let state = states.first(where: { $0.name == initial }), state.kind != .valid {
            report(
                top.path("initial"),
                "the initial state \"\(initial)\" must be of kind valid, not \(state.kind.rawValue)")
        }
        let roles = loadRoles(top)
        let arcs = loadArcs(top)
        let paths = loadPaths(top)
        let variants = loadVariants(top)
        let rules = loadRules(top)

        guard let id, let version, let title, let generation, let initial, let paths else { return nil }
        var spec = Spec(
            id: id, version: version, title: title, generation: generation, sources: sources,
            features: features, profiles: profiles, states: states, initialState: initial, arcs: arcs,
            paths: paths, variants: variants, rules: rules, path: path, sha256: sha256)
        spec.roles = roles
        return spec
    }

    /// The optional `roles` object: role name to state name.
    func loadRoles(_ top: Members) -> [String: String] {
        guard
            let object = object(
                top["roles"], at: top.path("roles"), what: "the roles", allowed: Self.roleNames,
                required: [])
        else { return [:] }
        var roles: [String: String] = [:]
        for role in Self.roleNames {
            if let state = stateReference(object, role) { roles[role] = state }
        }
        return roles
    }

    func loadSources(_ top: Members) -> [String: String] {
        guard let value = top["sources"] else { return [:] }
        guard case .object(let members) = value else {
            report(top.path("sources"), "expected an object of source names to descriptions, found \(describe(value))")
            return [:]
        }
        var sources: [String: String] = [:]
        for member in members {
            sourceNames.insert(member.key)
            let memberPath = JSONParser.memberPath(top.path("sources"), member.key)
            guard case .string(let description) = member.value else {
                report(memberPath, "expected a string describing the source, found \(describe(member.value))")
                continue
            }
            sources[member.key] = description
        }
        return sources
    }

    func loadFeatures(_ top: Members) -> [Feature] {
        // Names first, so that features may be listed in any order relative to their users.
        var firstLine: [String: Int] = [:]
        var flagOwner: [UInt64: String] = [:]
        var features: [Feature] = []
        forEachObject(
            in: top, "features", what: "a feature",
            allowed: ["name", "flag", "probe", "mandatory", "since", "description"],
            required: ["name"]
        ) { object in
            let name = string(object, "name")
            noteDefinition(name, "feature", of: object, key: "name", in: &firstLine)
            if let name { featureNames.insert(name) }
            let flag = unsigned(object, "flag", max: UInt64.max)
            if let flag, flag == 0 || flag & (flag - 1) != 0 {
                report(
                    object.path("flag"),
                    "a feature flag is one bit of the migration flags word (1, 2, 4, ...), not \(flag)")
            } else if let flag, let name {
                if let other = flagOwner[flag] {
                    report(object.path("flag"), "flag \(flag) is already the flag of feature \"\(other)\"")
                } else {
                    flagOwner[flag] = name
                }
            }
            let probe = unsigned(object, "probe", max: UInt64(Limits.featureIndex.upperBound))
            if object["flag"] != nil && object["probe"] != nil {
                report(object.path("probe"), "a feature has a flag or a probe index, not both")
            }
            let mandatory = bool(object, "mandatory")
            let since = string(object, "since")
            let description = string(object, "description")
            if let name {
                features.append(
                    Feature(
                        name: name, flag: flag, probe: probe.map { UInt32($0) },
                        mandatory: mandatory ?? false, since: since, description: description ?? ""))
            }
        }
        return features
    }

    func loadProfiles(_ top: Members) -> [Profile] {
        var firstLine: [String: Int] = [:]
        var profiles: [Profile] = []
        forEachObject(
            in: top, "profiles", what: "a profile", allowed: ["name", "features"],
            required: ["name", "features"]
        ) { object in
            let name = string(object, "name")
            noteDefinition(name, "profile", of: object, key: "name", in: &firstLine)
            let features = featureList(object, "features")
            if let name { profiles.append(Profile(name: name, features: features)) }
        }
        return profiles
    }

    func loadStates(_ top: Members) -> [State] {
        var nameLine: [String: Int] = [:]
        var valueOwner: [UInt32: (name: String, line: Int)] = [:]
        var states: [State] = []
        forEachObject(
            in: top, "states", what: "a state",
            allowed: ["name", "value", "kind", "requires", "group", "description"],
            required: ["name", "value", "kind"]
        ) { object in
            let name = string(object, "name")
            noteDefinition(name, "state", of: object, key: "name", in: &nameLine)
            if let name { stateNames.insert(name) }
            let value = unsigned(object, "value", max: UInt64(UInt32.max)).map { UInt32($0) }
            if let value {
                if let owner = valueOwner[value] {
                    report(
                        object.path("value"),
                        "duplicate state value \(value) (already the value of \"\(owner.name)\" at line \(owner.line))")
                } else {
                    valueOwner[value] = (name ?? "?", object.position.line)
                }
            }
            let kind: StateKind? = choice(
                object, "kind", "state kind", choices: "kinds: " + quotedList(StateKind.allCases.map(\.rawValue)))
            let requires = featureList(object, "requires")
            let group = string(object, "group")
            let description = string(object, "description")
            if let name, let value, let kind {
                states.append(
                    State(
                        name: name, value: value, kind: kind, requires: requires, group: group,
                        description: description ?? ""))
            }
        }
        return states
    }

    func loadArcs(_ top: Members) -> [Arc] {
        var seen: [String: Int] = [:]
        var arcs: [Arc] = []
        forEachObject(
            in: top, "arcs", what: "an arc",
            allowed: ["from", "to", "session", "requires", "unless", "tags"],
            required: ["from", "to", "session"]
        ) { object in
            let from = stateReference(object, "from")
            let to = stateReference(object, "to")
            let session: SessionEffect? = choice(
                object, "session", "session effect",
                choices: "effects: " + quotedList(SessionEffect.allCases.map(\.rawValue)))
            let requires = featureList(object, "requires")
            let unless = featureList(object, "unless")
            let tags = strings(object, "tags")?.map(\.value) ?? []
            arcTags.formUnion(tags)
            if let from, let to {
                let key = [from, to, requires.sorted().joined(separator: ","), unless.sorted().joined(separator: ",")]
                    .joined(separator: "|")
                if let line = seen[key] {
                    report(
                        object.path,
                        "duplicate arc \(from) -> \(to) with the same requires and unless "
                            + "(first at line \(line))")
                } else {
                    seen[key] = object.position.line
                }
                if let session {
                    arcs.append(
                        Arc(
                            from: from, to: to, session: session, requires: requires, unless: unless,
                            tags: tags))
                }
            }
        }
        return arcs
    }

    func loadPaths(_ top: Members) -> PathRules? {
        guard
            let object = object(
                top["paths"], at: top.path("paths"), what: "the path rules",
                allowed: ["combinations", "session-opens-only-last", "forbidden", "cite"],
                required: ["combinations", "session-opens-only-last"])
        else { return nil }
        let combinations = bool(object, "combinations")
        let sessionOpensOnlyLast = bool(object, "session-opens-only-last")
        var forbidden: [ForbiddenPair] = []
        for item in array(object, "forbidden") ?? [] {
            guard
                let pair = self.object(
                    item.value, at: item.path, what: "a forbidden pair",
                    allowed: ["from", "to", "requires"], required: ["from", "to"])
            else { continue }
            let from = stateReference(pair, "from")
            let to = stateReference(pair, "to")
            let requires = featureList(pair, "requires")
            if let from, let to { forbidden.append(ForbiddenPair(from: from, to: to, requires: requires)) }
        }
        let cite = object["cite"] == nil ? nil : citation(object, what: "path rules")
        guard let combinations, let sessionOpensOnlyLast else { return nil }
        return PathRules(
            combinations: combinations, sessionOpensOnlyLast: sessionOpensOnlyLast,
            forbidden: forbidden, cite: cite)
    }

    /// The `cite` member of `owner`, which must name a declared source and a non-empty section.
    func citation(_ owner: Members, what: String) -> Citation? {
        guard
            let object = object(
                owner["cite"], at: owner.path("cite"), what: "a citation",
                allowed: ["source", "section", "sentence"], required: ["source", "section"])
        else { return nil }
        let source = string(object, "source")
        if let source, !sourceNames.contains(source) {
            report(
                object.path("source"),
                "unknown source \"\(source)\"; a cite names a key of \"sources\""
                    + knownSuffix(sourceNames))
        }
        let section = string(object, "section")
        if let section, section.allSatisfy(\.isWhitespace) {
            report(object.path("section"), "empty citation section (say where in the source the \(what) comes from)")
        }
        let sentences = sentenceIDs(object)
        guard let source, let section else { return nil }
        return Citation(source: source, section: section, sentences: sentences)
    }

    /// A citation's `sentence`: one sentence id of `Specs/traceability.json` or a list of them. Whether each
    /// exists is checked against that file (`Traceability.check`), not here.
    func sentenceIDs(_ cite: Members) -> [String] {
        guard let value = cite["sentence"] else { return [] }
        let items: [JSONValue]
        if case .array(let list) = value { items = list } else { items = [value] }
        var ids: [String] = []
        for (index, item) in items.enumerated() {
            let path =
                value.arrayValue == nil
                ? cite.path("sentence")
                : JSONParser.elementPath(cite.path("sentence"), index)
            guard case .string(let id) = item, !id.isEmpty, !id.contains(where: \.isWhitespace) else {
                report(path, "expected a sentence id (a string such as \"v2.state.6\"), found \(describe(item))")
                continue
            }
            ids.append(id)
        }
        if value.arrayValue?.isEmpty == true { report(cite.path("sentence"), "empty list of sentence ids") }
        return ids
    }

    func loadVariants(_ top: Members) -> [Variant] {
        var firstLine: [String: Int] = [:]
        var variants: [Variant] = []
        forEachObject(
            in: top, "variants", what: "a variant",
            allowed: ["id", "statement", "cite"], required: ["id", "statement", "cite"],
            missing: ["cite": "missing citation (a variant needs \"cite\": {\"source\", \"section\"})"]
        ) { object in
            let id = string(object, "id")
            noteDefinition(id, "variant id", of: object, key: "id", in: &firstLine)
            if let id { variantIDs.insert(id) }
            let statement = text(object, "statement")
            let cite = citation(object, what: "variant")
            if let id, let statement, let cite { variants.append(Variant(id: id, statement: statement, cite: cite)) }
        }
        return variants
    }

    static let ruleMembers = [
        "id", "level", "statement", "cite", "since", "requires", "accept", "hazard", "variant",
        "check", "tests",
    ]
    /// What a rule's `tests` may name: the driver (the default) or the kernel's VFIO core.
    static let testedParts = ["driver", "core"]

    func loadRules(_ top: Members) -> [Rule] {
        var firstLine: [String: Int] = [:]
        var rules: [Rule] = []
        forEachObject(
            in: top, "rules", what: "a rule", allowed: Self.ruleMembers,
            required: ["id", "level", "statement", "cite", "check"],
            missing: ["cite": "missing citation (a rule needs \"cite\": {\"source\", \"section\"})"]
        ) { object in
            let id = string(object, "id")
            if let id, !SpecLoader.isValidRuleID(id) {
                report(object.path("id"), "rule id \"\(id)\" does not match ^[A-Z0-9]+(-[A-Z0-9]+)*$")
            }
            noteDefinition(id, "rule id", of: object, key: "id", in: &firstLine)
            let level: Level? = choice(object, "level", "level", choices: "levels: \(quotedList(SpecLoader.levels))")
            let statement = text(object, "statement")
            let cite = citation(object, what: "rule")
            let since = string(object, "since")
            let requires = featureList(object, "requires")
            let accept = strings(object, "accept") ?? []
            for errno in accept where !SpecLoader.isKnownErrno(errno.value) {
                report(errno.path, "unknown errno \"\(errno.value)\" (known: \(quotedList(SpecLoader.errnoNames)))")
            }
            let hazard = loadHazard(object)
            let variant = string(object, "variant")
            // "!id" marks a rule of the main reading that the variant `id` replaces.
            if let variant, !variantIDs.contains(variant.hasPrefix("!") ? String(variant.dropFirst()) : variant) {
                report(object.path("variant"), "unknown variant \"\(variant)\"" + knownSuffix(variantIDs))
            }
            let check = loadCheck(object)
            let tests = string(object, "tests")
            if let tests, !Self.testedParts.contains(tests) {
                report(object.path("tests"), "\"\(tests)\" is not one of \(quotedList(Self.testedParts))")
            }
            if let id, let level, let statement, let cite, let check, object["hazard"] == nil || hazard != nil {
                rules.append(
                    Rule(
                        id: id, level: level, statement: statement, cite: cite, since: since,
                        requires: requires, accept: accept.map(\.value), hazard: hazard, variant: variant,
                        check: check, line: object.position.line, tests: tests == "core" ? "core" : nil))
            }
        }
        // A spec with no rule checks nothing: a run of it would read CONFORMANT with no case behind the word.
        if case .array(let items)? = top["rules"], items.isEmpty {
            report(top.path("rules"), "no rules: a spec needs at least one rule to check")
        }
        return rules
    }

    func loadHazard(_ rule: Members) -> Hazard? {
        guard
            let object = object(
                rule["hazard"], at: rule.path("hazard"), what: "a hazard",
                allowed: ["id", "effect", "targets", "first-affected", "fixed-in"],
                required: ["id", "effect", "targets"])
        else { return nil }
        let id = string(object, "id")
        let effect = text(object, "effect")
        let targets = strings(object, "targets")?.map(\.value)
        let firstAffected = string(object, "first-affected")
        let fixedIn = string(object, "fixed-in")
        guard let id, let effect, let targets else { return nil }
        return Hazard(id: id, effect: effect, targets: targets, firstAffected: firstAffected, fixedIn: fixedIn)
    }

    func loadCheck(_ rule: Members) -> Check? {
        let checkPath = rule.path("check")
        guard let value = rule["check"] else { return nil }
        guard case .object(let members) = value else {
            report(checkPath, "expected a check (an object with a \"kind\"), found \(describe(value))")
            return nil
        }
        let knownKinds = CheckKind.allCases.map(\.rawValue)
        guard let kindValue = members.first(where: { $0.key == "kind" })?.value else {
            report(
                JSONParser.memberPath(checkPath, "kind"),
                "missing check kind (kinds: \(quotedList(knownKinds)))", at: position(of: checkPath))
            return nil
        }
        guard case .string(let rawKind) = kindValue else {
            report(JSONParser.memberPath(checkPath, "kind"), "expected a string, found \(describe(kindValue))")
            return nil
        }
        guard let kind = CheckKind(rawValue: rawKind) else {
            var message = "unknown check kind \"\(rawKind)\""
            if let guess = closest(to: rawKind, among: knownKinds) { message += " (did you mean \"\(guess)\"?)" }
            report(JSONParser.memberPath(checkPath, "kind"), message + "; known kinds: \(quotedList(knownKinds))")
            return nil
        }
        let schema = kind.parameters
        let names = schema.map(\.name)
        var params: [String: JSONValue] = [:]
        var sound = true
        for member in members where member.key != "kind" {
            let paramPath = JSONParser.memberPath(checkPath, member.key)
            guard let spec = schema.first(where: { $0.name == member.key }) else {
                var message = "unknown parameter \"\(member.key)\" for check kind \"\(rawKind)\""
                if let guess = closest(to: member.key, among: names) { message += " (did you mean \"\(guess)\"?)" }
                message += names.isEmpty ? "; it takes no parameters" : "; parameters: \(quotedList(names))"
                report(paramPath, message, at: document.keyPositions[paramPath])
                sound = false
                continue
            }
            if checkParameter(member.value, spec, at: paramPath) {
                params[member.key] = member.value
            } else {
                sound = false
            }
        }
        for spec in schema where spec.required && !members.contains(where: { $0.key == spec.name }) {
            report(
                JSONParser.memberPath(checkPath, spec.name),
                "missing required parameter \"\(spec.name)\" for check kind \"\(rawKind)\"",
                at: position(of: checkPath))
            sound = false
        }
        guard sound else { return nil }
        do {
            return try kind.decode(CheckArguments(params))
        } catch {
            report(checkPath, "check kind \"\(rawKind)\": \(error)")
            return nil
        }
    }

    /// An integer written in decimal within `range`; anything else is reported with the range.
    func integer(_ value: JSONValue, in range: ClosedRange<Int64>, at path: String) -> Bool {
        if case .number(let text) = value, let n = Int64(text), range.contains(n) { return true }
        var found = describe(value)
        if case .number(let text) = value, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            found = "\(text), out of range"
        }
        report(path, "expected an integer from \(range.lowerBound) to \(range.upperBound), found \(found)")
        return false
    }

    /// A check's list may hold at most ``Limits/listItems`` items.
    func listSize(_ items: [JSONValue], at path: String) -> Bool {
        if items.count <= Limits.listItems { return true }
        report(path, "a list of \(items.count) items; a check's list holds at most \(Limits.listItems)")
        return false
    }

    /// Checks one parameter value against its schema; reports and returns false when it does not fit.
    func checkParameter(_ value: JSONValue, _ spec: ParameterSpec, at path: String) -> Bool {
        switch spec.shape {
        case .oneOf(let choices):
            guard case .string(let s) = value else {
                report(path, "expected one of \(quotedList(choices)), found \(describe(value))")
                return false
            }
            guard choices.contains(s) else {
                report(path, "\"\(s)\" is not one of \(quotedList(choices))")
                return false
            }
            return true
        case .integer(let range):
            return integer(value, in: range, at: path)
        case .boolean:
            guard case .bool = value else {
                report(path, "expected true or false, found \(describe(value))")
                return false
            }
            return true
        case .list(let choices, let integers):
            guard case .array(let items) = value else {
                report(path, "expected a list of \(integers != nil ? "integers" : "strings"), found \(describe(value))")
                return false
            }
            guard listSize(items, at: path) else { return false }
            var ok = true
            for (index, item) in items.enumerated() {
                let itemPath = JSONParser.elementPath(path, index)
                if let integers {
                    if !integer(item, in: integers, at: itemPath) { ok = false }
                } else {
                    guard case .string(let s) = item else {
                        report(itemPath, "expected a string, found \(describe(item))")
                        ok = false
                        continue
                    }
                    if let choices, !choices.contains(s) {
                        report(itemPath, "\"\(s)\" is not one of \(quotedList(choices))")
                        ok = false
                    } else if choices == nil, spec.name == "tags" || spec.name == "exclude-tags", !arcTags.contains(s) {
                        report(itemPath, "no arc has the tag \"\(s)\"" + knownSuffix(arcTags))
                        ok = false
                    }
                }
            }
            return ok
        case .values:
            guard case .array(let items) = value else {
                report(path, "expected a list of state names and state values, found \(describe(value))")
                return false
            }
            guard listSize(items, at: path) else { return false }
            var ok = true
            for (index, item) in items.enumerated() {
                let itemPath = JSONParser.elementPath(path, index)
                switch item {
                case .string(let name) where stateNames.contains(name):
                    continue
                case .string(let name):
                    report(itemPath, "unknown state \"\(name)\"\(knownSuffix(stateNames))")
                case .number(let n) where UInt64(n).map({ $0 <= UInt64(UInt32.max) }) == true:
                    continue
                default:
                    report(
                        itemPath, "expected a state name or an integer from 0 to 4294967295, found \(describe(item))")
                }
                ok = false
            }
            return ok
        }
    }
}
