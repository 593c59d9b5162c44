import Foundation

/// The rules of the KCIDB I/O schema v5.3 that a test submission has to satisfy, checked without a network or a
/// JSON Schema engine: the top-level shape and version, required fields, closed property sets (no unknown keys),
/// no nulls, the status set, the path pattern, the `origin:` id format, resource names, the log excerpt's length,
/// RFC 3339 times, and the shapes of `number`, `environment`, issues and incidents. Checkouts and builds are
/// checked for their required fields only: migconform submits tests that refer to a build someone else submitted.
package enum KCIDBSchema {
    package static let major = 5
    package static let minor = 3
    /// Test statuses, in the schema's order of priority.
    package static let statuses = ["FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP"]
    /// An origin: the submitting CI system.
    package static let originPattern = "^[a-z0-9_]+$"
    /// A test path: dot-separated `[a-zA-Z0-9_-]+` components, or empty.
    package static let pathPattern = #"^([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?$"#

    static let testKeys: Set<String> = [
        "id", "build_id", "origin", "environment", "path", "comment", "log_url",
        "log_excerpt", "status", "number", "start_time", "duration", "input_files",
        "output_files", "misc",
    ]
    static let issueKeys: Set<String> = [
        "id", "version", "origin", "categories", "report_url", "report_subject",
        "culprit", "comment", "misc",
    ]
    static let incidentKeys: Set<String> = [
        "id", "origin", "issue_id", "issue_version", "build_id", "test_id",
        "present", "comment", "misc",
    ]

    /// Every rule the submission breaks, each naming its JSON path; empty when it is valid.
    package static func problems(_ submission: Any) -> [String] {
        var p: [String] = []
        nulls(submission, "$", &p)
        guard let top = submission as? [String: Any] else { return ["$: not an object"] }
        closed(top, ["version", "checkouts", "builds", "tests", "issues", "incidents"], "$", underscore: false, &p)
        if let v = top["version"] as? [String: Any] {
            closed(v, ["major", "minor"], "$.version", underscore: false, &p)
            if integer(v["major"]) != major { p.append("$.version.major: must be \(major)") }
            if let m = v["minor"], !(integer(m).map { (0...minor).contains($0) } ?? false) {
                p.append("$.version.minor: must be an integer from 0 to \(minor)")
            }
        } else {
            p.append("$.version: required object missing")
        }
        for (key, required) in [("checkouts", ["id", "origin"]), ("builds", ["id", "origin", "checkout_id"])] {
            for (i, o) in list(top[key], "$.\(key)", &p).enumerated() {
                require(o, required, "$.\(key)[\(i)]", &p)
            }
        }
        for (i, t) in list(top["tests"], "$.tests", &p).enumerated() { test(t, "$.tests[\(i)]", &p) }
        for (i, o) in list(top["issues"], "$.issues", &p).enumerated() {
            let at = "$.issues[\(i)]"
            closed(o, issueKeys, at, underscore: true, &p)
            require(o, ["id", "version", "origin"], at, &p)
            idAndOrigin(o, at, &p)
            if let v = o["version"], !(integer(v).map { $0 >= 0 } ?? false) {
                p.append("\(at).version: not an integer >= 0")
            }
            if let c = o["culprit"] {
                if let c = c as? [String: Any] {
                    closed(c, ["code", "tool", "harness"], "\(at).culprit", underscore: false, &p)
                    for (k, v) in c where !isBool(v) { p.append("\(at).culprit.\(k): not a boolean") }
                } else {
                    p.append("\(at).culprit: not an object")
                }
            }
            if let u = o["report_url"] { uri(u, "\(at).report_url", &p) }
            if let m = o["misc"], !(m is [String: Any]) { p.append("\(at).misc: not an object") }
        }
        for (i, o) in list(top["incidents"], "$.incidents", &p).enumerated() {
            let at = "$.incidents[\(i)]"
            closed(o, incidentKeys, at, underscore: true, &p)
            require(o, ["id", "origin", "issue_id", "issue_version"], at, &p)
            idAndOrigin(o, at, &p)
            for k in ["issue_id", "build_id", "test_id"] { if let v = o[k] { originID(v, "\(at).\(k)", &p) } }
            if let v = o["issue_version"], !(integer(v).map { $0 >= 0 } ?? false) {
                p.append("\(at).issue_version: not an integer >= 0")
            }
            if let b = o["present"], !isBool(b) { p.append("\(at).present: not a boolean") }
        }
        return p
    }

    private static func test(_ t: [String: Any], _ at: String, _ p: inout [String]) {
        closed(t, testKeys, at, underscore: true, &p)
        require(t, ["id", "build_id", "origin"], at, &p)
        idAndOrigin(t, at, &p)
        if let b = t["build_id"] { originID(b, "\(at).build_id", &p) }
        if let s = t["status"] {
            if !((s as? String).map(statuses.contains) ?? false) {
                p.append("\(at).status: \(s) is not one of \(statuses.joined(separator: ", "))")
            }
        }
        if let path = t["path"] {
            if !((path as? String).map { matches($0, pathPattern) } ?? false) {
                p.append("\(at).path: '\(path)' does not match \(pathPattern)")
            }
        }
        for k in ["comment", "log_excerpt"] {
            if let v = t[k] {
                if let s = v as? String {
                    if s.contains("\0") { p.append("\(at).\(k): contains NUL") }
                } else {
                    p.append("\(at).\(k): not a string")
                }
            }
        }
        if let e = t["log_excerpt"] as? String, e.count > 16384 { p.append("\(at).log_excerpt: longer than 16384") }
        if let u = t["log_url"] { uri(u, "\(at).log_url", &p) }
        if let s = t["start_time"] {
            if !((s as? String).map(isDateTime) ?? false) { p.append("\(at).start_time: not an RFC 3339 date-time") }
        }
        if let d = t["duration"], !isNumber(d) { p.append("\(at).duration: not a number") }
        if let m = t["misc"], !(m is [String: Any]) { p.append("\(at).misc: not an object") }
        if let env = t["environment"] {
            if let env = env as? [String: Any] {
                closed(env, ["compatible", "comment", "misc"], "\(at).environment", underscore: false, &p)
                if let m = env["misc"], !(m is [String: Any]) { p.append("\(at).environment.misc: not an object") }
                if let c = env["comment"], !(c is String) { p.append("\(at).environment.comment: not a string") }
                if let c = env["compatible"] {
                    if !((c as? [Any])?.allSatisfy {
                        ($0 as? String).map { matches($0, #"^[^ \x00]+(,[^ \x00]+)*$"#) } ?? false
                    } ?? false) {
                        p.append("\(at).environment.compatible: not a list of compatible strings")
                    }
                }
            } else {
                p.append("\(at).environment: not an object")
            }
        }
        if let n = t["number"] {
            if let n = n as? [String: Any] {
                closed(n, ["value", "unit", "prefix"], "\(at).number", underscore: false, &p)
                if !(n["value"].map(isNumber) ?? false) { p.append("\(at).number.value: required number missing") }
                if let pr = n["prefix"], !["metric", "binary"].contains(pr as? String ?? "") {
                    p.append("\(at).number.prefix: not metric or binary")
                }
            } else {
                p.append("\(at).number: not an object")
            }
        }
        for k in ["input_files", "output_files"] {
            guard let v = t[k] else { continue }
            guard let files = v as? [Any] else {
                p.append("\(at).\(k): not an array")
                continue
            }
            for (i, f) in files.enumerated() {
                let fat = "\(at).\(k)[\(i)]"
                guard let f = f as? [String: Any] else {
                    p.append("\(fat): not an object")
                    continue
                }
                closed(f, ["name", "url"], fat, underscore: false, &p)
                require(f, ["name", "url"], fat, &p)
                if let name = f["name"], !((name as? String).map { matches($0, #"^[^/\x00]+$"#) } ?? false) {
                    p.append("\(fat).name: '\(name)' is not a file name")
                }
                if let u = f["url"] { uri(u, "\(fat).url", &p) }
            }
        }
    }

    // MARK: - Rule helpers

    private static func list(_ v: Any?, _ at: String, _ p: inout [String]) -> [[String: Any]] {
        guard let v else { return [] }
        guard let a = v as? [Any] else {
            p.append("\(at): not an array")
            return []
        }
        var out: [[String: Any]] = []
        for (i, o) in a.enumerated() {
            if let o = o as? [String: Any] { out.append(o) } else { p.append("\(at)[\(i)]: not an object") }
        }
        return out
    }

    private static func closed(
        _ o: [String: Any], _ allowed: Set<String>, _ at: String, underscore: Bool,
        _ p: inout [String]
    ) {
        for k in o.keys.sorted() where !allowed.contains(k) && !(underscore && k.hasPrefix("_")) {
            p.append("\(at).\(k): not a property the schema knows")
        }
    }

    private static func require(_ o: [String: Any], _ keys: [String], _ at: String, _ p: inout [String]) {
        for k in keys where o[k] == nil { p.append("\(at).\(k): required property missing") }
    }

    private static func idAndOrigin(_ o: [String: Any], _ at: String, _ p: inout [String]) {
        if let origin = o["origin"] {
            if !((origin as? String).map { matches($0, originPattern) } ?? false) {
                p.append("\(at).origin: '\(origin)' does not match \(originPattern)")
            }
        }
        if let id = o["id"] {
            originID(id, "\(at).id", &p)
            if let id = id as? String, let origin = o["origin"] as? String, !id.hasPrefix(origin + ":") {
                p.append("\(at).id: '\(id)' does not start with its origin '\(origin):'")
            }
        }
    }

    /// `<origin>:<anything but NUL>`.
    private static func originID(_ v: Any, _ at: String, _ p: inout [String]) {
        if !((v as? String).map { matches($0, #"^[a-z0-9_]+:[^\x00]*$"#) } ?? false) {
            p.append("\(at): '\(v)' is not an <origin>:<id> identifier")
        }
    }

    private static func uri(_ v: Any, _ at: String, _ p: inout [String]) {
        guard let s = v as? String, matches(s, #"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$"#) else {
            p.append("\(at): '\(v)' is not a URI")
            return
        }
    }

    private static func nulls(_ v: Any, _ at: String, _ p: inout [String]) {
        if v is NSNull {
            p.append("\(at): null is not allowed")
            return
        }
        if let o = v as? [String: Any] { for (k, x) in o { nulls(x, "\(at).\(k)", &p) } }
        if let a = v as? [Any] { for (i, x) in a.enumerated() { nulls(x, "\(at)[\(i)]", &p) } }
    }

    /// A JSON number (a boolean, which Foundation also hands out as an `NSNumber`, is not one).
    static func isNumber(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) != "c"
    }

    /// A JSON boolean.
    static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    private static func integer(_ v: Any?) -> Int? {
        guard let v, isNumber(v) else { return nil }
        let d = (v as! NSNumber).doubleValue
        return d == d.rounded() && abs(d) < 1e15 ? Int(d) : nil
    }

    /// RFC 3339 `date-time`: `2026-01-01T00:00:00Z`, with optional fractions and a numeric offset.
    package static func isDateTime(_ s: String) -> Bool {
        matches(
            s, #"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"#)
    }

    static func matches(_ s: String, _ pattern: String) -> Bool {
        s.range(of: pattern, options: .regularExpression) != nil
    }
}
