import Foundation

/// The numbered sentences of the uAPI texts and of the seeds, each with the level its text implies and what a
/// rule can do with it (`Specs/traceability.json`, format in `Specs/README.md`). Rules name the sentences they
/// test in their citation (`"cite": {..., "sentence": "v2.state.6"}`); ``TraceabilityCheck`` joins the two.
package struct Traceability: Sendable {
    package struct Source: Sendable, Hashable {
        package var id: String
        package var title: String
    }

    /// What the matrix says of a sentence before any rule is counted.
    package enum Disposition: Sendable, Hashable {
        /// Testable: a rule must cite it.
        case testable
        /// Testable, and the rules that cite it leave something out (what, in the text).
        case partly(String)
        /// Testable, known to have no rule yet (why, in the text).
        case missing(String)
        /// Not testable from user space (why, in the text).
        case untestable(String)
    }

    package struct Sentence: Sendable {
        package var id: String
        package var source: String
        package var section: String
        /// A few words of our own on what the sentence says.
        package var says: String
        package var level: Level
        package var disposition: Disposition
        /// 1-based line in the file.
        package var line: Int
    }

    package var path: String
    package var sources: [Source]
    package var sentences: [Sentence]

    package func sentence(_ id: String) -> Sentence? { sentences.first { $0.id == id } }
}

/// Reads and validates `Specs/traceability.json`, reporting every problem as `file:line:column: path: message`.
package enum TraceabilityLoader {
    package static func load(path: String) throws(SpecLoadError) -> Traceability {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw SpecLoadError(problems: [SpecProblem(file: path, line: 0, column: 0, jsonPath: "$", message: reason)])
        }
        return try load(data: [UInt8](data), path: path)
    }

    package static func load(data: [UInt8], path: String) throws(SpecLoadError) -> Traceability {
        let document = try SpecLoader.document(data, path: path)
        var problems: [SpecProblem] = []
        func report(_ jsonPath: String, _ message: String) {
            var at = jsonPath
            var position = document.positions[at]
            while position == nil, let cut = at.lastIndex(where: { $0 == "." || $0 == "[" }), cut > at.startIndex {
                at = String(at[..<cut])
                position = document.positions[at]
            }
            let p = position ?? SourcePosition(line: 1, column: 1)
            problems.append(
                SpecProblem(file: path, line: p.line, column: p.column, jsonPath: jsonPath, message: message))
        }
        func members(
            _ value: JSONValue, at jsonPath: String, what: String, allowed: [String],
            required: [String]
        ) -> [String: JSONValue]? {
            guard case .object(let list) = value else {
                report(jsonPath, "expected \(what) (an object)")
                return nil
            }
            var out: [String: JSONValue] = [:]
            for (key, item) in list {
                if allowed.contains(key) {
                    out[key] = item
                } else {
                    report(
                        JSONParser.memberPath(jsonPath, key),
                        "unknown member \"\(key)\" in \(what); known members: \(allowed.joined(separator: ", "))")
                }
            }
            for key in required where out[key] == nil {
                report(jsonPath, "missing required member \"\(key)\" in \(what)")
            }
            return out
        }
        func text(_ object: [String: JSONValue], _ key: String, at jsonPath: String) -> String? {
            guard let value = object[key] else { return nil }
            guard case .string(let s) = value, !s.allSatisfy(\.isWhitespace) else {
                report(JSONParser.memberPath(jsonPath, key), "expected a non-empty string")
                return nil
            }
            return s
        }

        var sources: [Traceability.Source] = []
        var sentences: [Traceability.Sentence] = []
        if let top = members(
            document.value, at: "$", what: "the traceability file",
            allowed: ["title", "sources", "sentences"], required: ["sources", "sentences"])
        {
            if case .array(let items)? = top["sources"] {
                for (index, item) in items.enumerated() {
                    let at = JSONParser.elementPath("$.sources", index)
                    guard
                        let object = members(
                            item, at: at, what: "a source", allowed: ["id", "title"],
                            required: ["id", "title"])
                    else { continue }
                    guard let id = text(object, "id", at: at), let title = text(object, "title", at: at) else {
                        continue
                    }
                    if sources.contains(where: { $0.id == id }) { report(at, "duplicate source \"\(id)\"") }
                    sources.append(.init(id: id, title: title))
                }
            } else if top["sources"] != nil {
                report("$.sources", "expected a list of sources")
            }
            let sourceIDs = Set(sources.map(\.id))
            var firstLine: [String: Int] = [:]
            if case .array(let items)? = top["sentences"] {
                for (index, item) in items.enumerated() {
                    let at = JSONParser.elementPath("$.sentences", index)
                    guard
                        let object = members(
                            item, at: at, what: "a sentence",
                            allowed: [
                                "id", "source", "section", "says", "level", "partly",
                                "missing", "untestable",
                            ],
                            required: ["id", "source", "section", "says", "level"])
                    else { continue }
                    let line = document.positions[at]?.line ?? 0
                    let id = text(object, "id", at: at)
                    if let id {
                        if id.contains(where: \.isWhitespace) {
                            report(JSONParser.memberPath(at, "id"), "a sentence id has no spaces")
                        }
                        if let first = firstLine[id] {
                            report(
                                JSONParser.memberPath(at, "id"),
                                "duplicate sentence id \"\(id)\" (first at line \(first))")
                        } else {
                            firstLine[id] = line
                        }
                    }
                    let source = text(object, "source", at: at)
                    if let source, !sourceIDs.contains(source) {
                        report(
                            JSONParser.memberPath(at, "source"),
                            "unknown source \"\(source)\" (sources: \(sources.map(\.id).joined(separator: ", ")))")
                    }
                    let section = text(object, "section", at: at)
                    let says = text(object, "says", at: at)
                    if let says, says.count > 100 {
                        report(
                            JSONParser.memberPath(at, "says"),
                            "\(says.count) characters: say it in a few words of our own (at most 100), not a quotation")
                    }
                    var level: Level?
                    if let raw = text(object, "level", at: at) {
                        level = Level(rawValue: raw)
                        if level == nil {
                            report(
                                JSONParser.memberPath(at, "level"),
                                "unknown level \"\(raw)\" (levels: \(SpecLoader.levels.joined(separator: ", ")))")
                        }
                    }
                    let reasons = ["partly", "missing", "untestable"].compactMap { key in
                        object[key] == nil ? nil : text(object, key, at: at).map { (key, $0) }
                    }
                    if reasons.count > 1 {
                        report(at, "a sentence is at most one of partly, missing and untestable")
                    }
                    var disposition = Traceability.Disposition.testable
                    if let (key, why) = reasons.first {
                        switch key {
                        case "partly": disposition = .partly(why)
                        case "missing": disposition = .missing(why)
                        default: disposition = .untestable(why)
                        }
                    }
                    if let id, let source, let section, let says, let level {
                        sentences.append(
                            .init(
                                id: id, source: source, section: section, says: says, level: level,
                                disposition: disposition, line: line))
                    }
                }
            } else if top["sentences"] != nil {
                report("$.sentences", "expected a list of sentences")
            }
        }
        if !problems.isEmpty {
            throw SpecLoadError(problems: problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return Traceability(path: path, sources: sources, sentences: sentences)
    }
}

/// The traceability matrix: every sentence with the rules that cite it and its status, the counts per source, and
/// the problems that make the matrix and the specs disagree.
package struct TraceabilityCheck: Sendable {
    package enum Status: String, Sendable, CaseIterable {
        case covered, partly, missing, untestable
    }

    package struct Row: Sendable {
        package var sentence: Traceability.Sentence
        /// The ids of the rules that cite it, in spec order.
        package var rules: [String]
        package var status: Status
        /// Why partly, missing or untestable.
        package var note: String?
    }

    package struct Counts: Sendable, Equatable {
        package var testable = 0, covered = 0, partly = 0, missing = 0, untestable = 0
        package init(testable: Int = 0, covered: Int = 0, partly: Int = 0, missing: Int = 0, untestable: Int = 0) {
            self.testable = testable
            self.covered = covered
            self.partly = partly
            self.missing = missing
            self.untestable = untestable
        }
    }

    package var rows: [Row]
    package var problems: [SpecProblem]

    /// Joins `trace` with the rules of `specs`.
    package init(_ trace: Traceability, specs: [Spec]) {
        var citing: [String: [String]] = [:]
        var problems: [SpecProblem] = []
        let known = Set(trace.sentences.map(\.id))
        for spec in specs {
            for rule in spec.rules {
                if rule.cite.sentences.isEmpty {
                    problems.append(
                        SpecProblem(
                            file: spec.path, line: rule.line, column: 1, jsonPath: "rule \(rule.id)",
                            message: "the citation names no sentence of \(trace.path) (\"sentence\": ID)"))
                }
                for id in rule.cite.sentences {
                    if known.contains(id) {
                        citing[id, default: []].append(rule.id)
                    } else {
                        problems.append(
                            SpecProblem(
                                file: spec.path, line: rule.line, column: 1,
                                jsonPath: "rule \(rule.id)",
                                message: "cites sentence \"\(id)\", which \(trace.path) does not have"))
                    }
                }
            }
        }
        var rows: [Row] = []
        for sentence in trace.sentences {
            let rules = citing[sentence.id] ?? []
            func problem(_ message: String) {
                problems.append(
                    SpecProblem(
                        file: trace.path, line: sentence.line, column: 1,
                        jsonPath: "sentence \(sentence.id)", message: message))
            }
            switch sentence.disposition {
            case .testable:
                if rules.isEmpty {
                    problem("testable, and no rule cites it: add a rule, or list it as \"missing\" with the reason")
                }
                rows.append(
                    Row(sentence: sentence, rules: rules, status: rules.isEmpty ? .missing : .covered, note: nil))
            case .partly(let why):
                if rules.isEmpty { problem("marked partly, but no rule cites it: say \"missing\" instead") }
                rows.append(
                    Row(sentence: sentence, rules: rules, status: rules.isEmpty ? .missing : .partly, note: why))
            case .missing(let why):
                if !rules.isEmpty {
                    problem(
                        "listed as missing, but \(rules.joined(separator: ", ")) cite\(rules.count == 1 ? "s" : "") it: "
                            + "drop \"missing\" (or say \"partly\")")
                }
                rows.append(Row(sentence: sentence, rules: rules, status: .missing, note: why))
            case .untestable(let why):
                if !rules.isEmpty {
                    problem(
                        "called untestable, but \(rules.joined(separator: ", ")) cite\(rules.count == 1 ? "s" : "") it")
                }
                rows.append(Row(sentence: sentence, rules: rules, status: .untestable, note: why))
            }
        }
        self.rows = rows
        self.problems = problems
    }

    /// Counts for the sentences of one source: testable is everything but untestable.
    package func counts(source: String) -> Counts {
        var c = Counts()
        for row in rows where row.sentence.source == source {
            switch row.status {
            case .covered: c.covered += 1
            case .partly: c.partly += 1
            case .missing: c.missing += 1
            case .untestable: c.untestable += 1
            }
        }
        c.testable = c.covered + c.partly + c.missing
        return c
    }
}
