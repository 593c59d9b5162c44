import Foundation
import MigconformBase
import MigconformRun

/// Loads a `report.json` written by ``ReportWriter`` (or by any earlier run with the same schema version).
package enum ReportReader {
    /// Loads the report at `path`: a run folder (its `report.json` is read) or the `report.json` file itself.
    /// Errors name the file and say whether it is missing, not JSON, of an unknown schema version, or malformed.
    package static func load(_ path: String) throws -> RunReport {
        var isDir: ObjCBool = false
        var file = path
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            file = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/" + ReportWriter.jsonFile
        }
        let folder = (file as NSString).deletingLastPathComponent
        if (file as NSString).lastPathComponent == RunJournal.fileName || file.hasSuffix(".jsonl") {
            throw ReportReadError(
                file: file, kind: .journal,
                detail: "this is a run journal, not a report.json; rebuild the report from it with "
                    + "'migconform report --from-journal \(folder.isEmpty ? "." : folder)'")
        }
        // The journal rebuilds a report.json, not any other file: the hint is for a report.json only.
        let isReport = (file as NSString).lastPathComponent == ReportWriter.jsonFile
        guard FileManager.default.fileExists(atPath: file) else {
            throw ReportReadError(
                file: file, kind: .missing,
                detail: (file == path ? "no such file" : "no report.json in this folder")
                    + (isReport ? journalHint(folder) : ""))
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ReportReadError(file: file, kind: .unreadable, detail: error.localizedDescription)
        }
        do {
            return try decode(data, file: file)
        } catch var e as ReportReadError where isReport && (e.kind == .notJSON || e.kind == .invalid) {
            e.detail += journalHint(folder)
            throw e
        }
    }

    /// `report` with its summary counted again from its cases, and what the stored summary said where it differs
    /// (an edited report.json, or one written by a version that judged otherwise). The cases are the evidence:
    /// commands that read a report for use take the verdict from them; `verify` reports the difference.
    package static func recounted(_ report: RunReport, file: String) -> (report: RunReport, note: String?) {
        let recount = RunSummary(cases: report.cases, journalDamaged: report.run.journalDamaged != nil)
        let stored = report.summary
        guard recount.verdict != stored.verdict || recount.verdicts != stored.verdicts || recount.total != stored.total
        else { return (report, nil) }
        var r = report
        r.summary = recount
        var differences: [String] = []
        if recount.verdict != stored.verdict {
            differences.append("the verdict \(stored.verdict.rawValue), the cases \(recount.verdict.rawValue)")
        }
        if recount.total != stored.total {
            differences.append("\(stored.total) cases, the file holds \(recount.total)")
        }
        for v in Verdict.allCases {
            let a = stored.verdicts[v.rawValue] ?? 0
            let b = recount.verdicts[v.rawValue] ?? 0
            if a != b { differences.append("\(a) \(v.rawValue), the cases \(b)") }
        }
        return (
            r,
            "\(file): its summary disagrees with its cases (" + differences.joined(separator: "; ")
                + "); the cases are used ('migconform verify' checks the folder)"
        )
    }

    /// `; it has a journal.jsonl: ...` when `folder` holds the journal `report --from-journal` rebuilds from.
    static func journalHint(_ folder: String) -> String {
        let dir = folder.isEmpty ? "." : folder
        guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(RunJournal.fileName))
        else { return "" }
        return "; the folder has a \(RunJournal.fileName): 'migconform report --from-journal \(dir)' rebuilds "
            + "the report from it"
    }

    /// Where and why `data` is not JSON, from the strict parser: `(12:40, "unterminated string (byte 530)")`.
    /// Nil when the strict parser stops for a reason of its own (its limits, a repeated member name), which would
    /// not be why Foundation refused the text.
    static func syntaxProblem(_ data: Data) -> (position: SourcePosition, message: String)? {
        do {
            _ = try JSONParser.parseDocument([UInt8](data))
            return nil
        } catch {
            let own = ["more than ", "arrays and objects nested", "duplicate member"]
            if own.contains(where: { error.message.hasPrefix($0) }) { return nil }
            return (error.position, "\(error.message) (byte \(error.byteOffset))")
        }
    }

    /// Decodes `report.json` bytes; `file` names the source in errors.
    package static func decode(_ data: Data, file: String) throws -> RunReport {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            guard let problem = syntaxProblem(data) else {
                throw ReportReadError(file: file, kind: .notJSON, detail: "not valid JSON")
            }
            throw ReportReadError(
                file: file, kind: .notJSON, detail: "not valid JSON: \(problem.message)", position: problem.position)
        }
        guard let top = object as? [String: Any] else {
            throw ReportReadError(file: file, kind: .invalid, detail: "the top level is not a JSON object")
        }
        guard let version = top["schemaVersion"] as? Int else {
            throw ReportReadError(
                file: file, kind: .unknownSchema(nil),
                detail: "no integer schemaVersion: not a migconform report")
        }
        guard version == RunReport.schemaVersion else {
            throw ReportReadError(
                file: file, kind: .unknownSchema(version),
                detail: "schemaVersion \(version) is not supported (this migconform reads "
                    + "version \(RunReport.schemaVersion))")
        }
        do {
            return try ReportJSON.decode(data)
        } catch let error as DecodingError {
            // Foundation refuses a number that fits no field it is decoded into as "not valid JSON", naming no
            // place: the file is JSON (it parsed above), so the number is found here.
            if case .dataCorrupted(let ctx) = error, ctx.codingPath.isEmpty, let at = unfitNumber(data) {
                throw ReportReadError(
                    file: file, kind: .invalid,
                    detail:
                        "at \(at.path): \(at.number) does not fit (a report writes a whole number of 0 or more there)",
                    position: at.position)
            }
            throw ReportReadError(file: file, kind: .invalid, detail: describe(error))
        } catch {
            throw ReportReadError(file: file, kind: .invalid, detail: "\(error)")
        }
    }

    /// The first number in `data` that no field of a report holds: every number a report writes is a whole number,
    /// negative only for a data fd (`dataFD`: -1 for none). Its JSON path, its text, and where it stands.
    static func unfitNumber(_ data: Data) -> (path: String, number: String, position: SourcePosition?)? {
        guard let document = try? JSONParser.parseDocument([UInt8](data)) else { return nil }
        func fits(_ text: String, key: String?) -> Bool {
            if UInt64(text) != nil { return true }
            return key == "dataFD" && Int32(text) != nil
        }
        func search(_ v: JSONValue, _ path: String, key: String?) -> (String, String)? {
            switch v {
            case .number(let text): return fits(text, key: key) ? nil : (path, text)
            case .array(let items):
                for (i, item) in items.enumerated() {
                    if let found = search(item, JSONParser.elementPath(path, i), key: key) { return found }
                }
            case .object(let members):
                for (k, item) in members {
                    if let found = search(item, JSONParser.memberPath(path, k), key: k) { return found }
                }
            default: break
            }
            return nil
        }
        guard let (path, number) = search(document.value, "$", key: nil) else { return nil }
        return (path, number, document.positions[path])
    }

    /// What a JSON value of Swift type `type` is, in JSON's words.
    static func jsonKind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Double.Type, is Float.Type: return "a number"
        case is UInt64.Type, is UInt32.Type, is UInt.Type, is UInt8.Type: return "a whole number of 0 or more"
        case is Int.Type, is Int64.Type, is Int32.Type: return "a whole number"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array<") { return "an array" }
            if name.hasPrefix("Dictionary<") { return "an object" }
            return "a value of type \(name)"
        }
    }

    /// A decoding error as `at $.cases[2].verdict: ...`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            var s = "$"
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += "." + k.stringValue }
            }
            return s
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            return "at \(path(ctx.codingPath)): missing key '\(key.stringValue)'"
        case .typeMismatch(let type, let ctx):
            // Foundation's text ("Expected to decode UInt64 but found a string instead.") in JSON's words.
            var found = ""
            if let r = ctx.debugDescription.range(of: "but found "),
                let end = ctx.debugDescription.range(
                    of: " instead", range: r.upperBound..<ctx.debugDescription.endIndex)
            {
                found = ", found " + ctx.debugDescription[r.upperBound..<end.lowerBound]
            }
            return "at \(path(ctx.codingPath)): expected \(jsonKind(type))\(found)"
        case .valueNotFound(let type, let ctx):
            return "at \(path(ctx.codingPath)): missing \(type) value"
        case .dataCorrupted(let ctx):
            return "at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A report could not be loaded: says which file and why.
package struct ReportReadError: Error, CustomStringConvertible, Sendable {
    /// Why the file could not be used.
    package enum Kind: Sendable, Equatable {
        case missing
        /// A run's `journal.jsonl` given where a report was expected.
        case journal
        case unreadable
        case notJSON
        /// The schema version found, nil when there is none.
        case unknownSchema(Int?)
        /// JSON of the right version but not the shape of a report.
        case invalid
    }
    package var file: String
    package var kind: Kind
    package var detail: String
    /// Where in the file reading stopped, when the file is not JSON and the place is known.
    package var position: SourcePosition?
    package init(file: String, kind: Kind, detail: String, position: SourcePosition? = nil) {
        self.file = file
        self.kind = kind
        self.detail = detail
        self.position = position
    }
    /// `file: detail`, or `file:line:column: detail` (the form editors jump to).
    package var description: String { "\(file)\(position.map { ":\($0)" } ?? ""): \(detail)" }
}
