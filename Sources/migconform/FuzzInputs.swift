import Foundation
import MigconformDevice

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same inputs on every machine.
struct FuzzRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A number in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func chance(_ oneIn: Int) -> Bool { below(oneIn) == 0 }
}

/// Numbers at the edges: where parsers wrap, allocations explode and loops never end.
enum FuzzEdges {
    static let integers = [
        "-1", "0", "1", "255", "256", "4095", "4096", "4097", "65535", "65536", "2147483647",
        "2147483648", "4294967295", "4294967296", "1000000000", "1099511627776",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999999999",
        "1.5", "1e3", "-0", "0.0",
    ]
    /// Numbers a spec might well hold.
    static let plausible = [
        "0", "1", "2", "3", "5", "7", "8", "9", "16", "64", "100", "255", "256", "1000", "4096",
        "10000", "65535", "65536", "524288",
    ]
    static let strings = [
        "", " ", "STOP", "RUNNING", "ERROR", "stop-copy", "p2p", "MUST", "v1", "v2", "x",
        String(repeating: "A", count: 5000), "\u{0}", "é", "every-settable-state", "uapi",
    ]
}

/// Mutations of a JSON document (a shipped spec): one to three edits at random places.
enum SpecMutator {
    /// All paths to values in `value`, as index/key steps.
    enum Step: Hashable {
        case index(Int)
        case key(String)
    }

    static func paths(_ value: JSONValue, _ prefix: [Step] = [], into out: inout [[Step]]) {
        out.append(prefix)
        switch value {
        case .array(let items): for (i, v) in items.enumerated() { paths(v, prefix + [.index(i)], into: &out) }
        case .object(let members): for (k, v) in members { paths(v, prefix + [.key(k)], into: &out) }
        default: break
        }
    }

    static func replace(
        _ value: JSONValue, at path: ArraySlice<Step>, with f: (JSONValue) -> JSONValue?
    ) -> JSONValue? {
        guard let step = path.first else { return f(value) }
        switch (value, step) {
        case (.array(var items), .index(let i)) where i < items.count:
            if let v = replace(items[i], at: path.dropFirst(), with: f) { items[i] = v } else { items.remove(at: i) }
            return .array(items)
        case (.object(var members), .key(let k)):
            guard let i = members.firstIndex(where: { $0.0 == k }) else { return value }
            if let v = replace(members[i].1, at: path.dropFirst(), with: f) {
                members[i].1 = v
            } else {
                members.remove(at: i)
            }
            return .object(members)
        default: return value
        }
    }

    /// One edit of the value at a random path; nil from the edit removes the value from its parent.
    static func mutate(_ doc: JSONValue, random r: inout FuzzRandom) -> JSONValue {
        var all: [[Step]] = []
        paths(doc, into: &all)
        // Numbers are where the traps were: favour them.
        let numbers = all.filter { p in
            if case .number? = value(doc, at: p[...]) { return true }
            return false
        }
        let path = (!numbers.isEmpty && r.chance(2)) ? r.pick(numbers) : r.pick(all)
        // Half the edits keep a number a number, where a spec still loads or is refused for its range alone.
        let kind = path.isEmpty ? 3 : (numbers.contains(path) && r.chance(2) ? r.below(3) : r.below(10))
        var rr = r
        let result = replace(doc, at: path[...]) { old in
            switch kind {
            case 0, 1: return .number(rr.pick(FuzzEdges.integers))
            case 2: return .number(rr.pick(FuzzEdges.plausible))
            case 3: return .string(rr.pick(FuzzEdges.strings))
            case 4: return path.isEmpty ? old : nil // delete
            case 5: // duplicate an element or member
                if case .array(let items) = old, !items.isEmpty { return .array(items + [rr.pick(items)]) }
                return old
            case 6: // change the type
                switch old {
                case .number(let n): return .string(n)
                case .string(let s): return .array([.string(s)])
                case .array(let a): return .object(a.prefix(3).enumerated().map { ("k\($0.offset)", $0.element) })
                case .object: return .array([])
                default: return .number("1")
                }
            case 7: // a huge list
                if case .array(let items) = old, let first = items.first {
                    return .array(Array(repeating: first, count: 2000 + rr.below(3000)))
                }
                return .array(Array(repeating: .number(rr.pick(FuzzEdges.integers)), count: 1500))
            case 8: // a member renamed, maybe very long
                if case .object(var members) = old, !members.isEmpty {
                    let i = rr.below(members.count)
                    members[i].0 = rr.chance(3) ? String(repeating: "k", count: 200_000) : members[i].0 + "s"
                    return .object(members)
                }
                return .bool(rr.chance(2))
            default: return .null
            }
        }
        r = rr
        _ = r.next()
        return result ?? doc
    }

    static func value(_ v: JSONValue, at path: ArraySlice<Step>) -> JSONValue? {
        guard let step = path.first else { return v }
        switch (v, step) {
        case (.array(let items), .index(let i)) where i < items.count: return value(items[i], at: path.dropFirst())
        case (.object(let members), .key(let k)):
            return members.first { $0.0 == k }.flatMap { value($0.1, at: path.dropFirst()) }
        default: return nil
        }
    }

    /// A mutated spec text: structural edits, sometimes a byte-level edit of the text as well.
    static func mutatedText(_ original: String, random r: inout FuzzRandom) -> String {
        guard var doc = try? JSONParser.parseLine(original) else { return original }
        // A version of its own first: a copy that keeps a shipped spec's id and version is refused for that alone.
        doc =
            replace(doc, at: [.key("version")][...]) { v in v.stringValue.map { .string($0 + "-fuzz") } } ?? doc
        for _ in 0...(r.chance(3) ? r.below(3) : 0) { doc = mutate(doc, random: &r) }
        var text = doc.text
        if r.chance(8) {
            var bytes = Array(text.utf8)
            let at = r.below(bytes.count)
            switch r.below(3) {
            case 0: bytes = Array(bytes[..<at]) // truncated
            case 1: bytes.insert(UInt8(truncatingIfNeeded: r.next()), at: at)
            default: bytes.remove(at: at)
            }
            text = String(decoding: bytes, as: UTF8.self)
        }
        return text
    }
}

/// Target URIs: the grammar's pieces, right and wrong, at the edges.
enum URIGenerator {
    static let keys = ["features", "state-size", "data-size", "error-on-bad-resume", "", "Features", "size", "x"]
    static let sizes = [
        "0", "1", "4096", "64KiB", "1MiB", "4GiB", "1TiB", "2TiB", "9223372036854775807",
        "18446744073709551615", "18446744073709551616", "20000000000GiB", "-1", "4096B", "KiB",
        "1.5MiB", "0x10", "1GB", " 1", "99999999999999999999999999999999999999999",
    ]
    static let flags = ["stop-copy", "p2p", "pre-copy", "", "stop_copy", "STOP-COPY"]

    static func value(for key: String, random r: inout FuzzRandom) -> String {
        switch key {
        case "features":
            if r.chance(10) { return Array(repeating: "p2p", count: 30_000).joined(separator: ",") }
            return (0...r.below(4)).map { _ in r.pick(flags) }.joined(separator: ",")
        case "state-size": return r.pick(sizes)
        case "data-size", "error-on-bad-resume": return r.pick(["yes", "no", "maybe", "", "x", "NO"])
        default: return r.pick(["1", "", "yes", "=", "&"])
        }
    }

    static func make(random r: inout FuzzRandom, faults: [String]) -> String {
        let base =
            r.chance(5)
            ? r.pick(["ref:v3", "ref:", "ref", "nope:x", "fault:no-such-fault", "vfio:/nonexistent", "exec:", ":", ""])
            : r.pick(["ref:v2", "ref:v2", "ref:v1", "fault:" + r.pick(faults)])
        if r.chance(6) { return base }
        var pairs: [String] = []
        for _ in 0..<r.below(4) {
            switch r.below(16) {
            case 0: pairs.append("")
            case 1: pairs.append("=")
            case 2: pairs.append(r.pick(keys))
            case 3, 4, 5, 6, 7, 8: // well formed, with a value that may be right
                let key = r.pick(["features", "state-size", "data-size", "error-on-bad-resume"])
                let good = [
                    "features": r.pick(["stop-copy", "stop-copy,p2p", "stop-copy,pre-copy", "stop-copy,p2p,pre-copy"]),
                    "state-size": r.pick(["0", "1", "4096", "64KiB", "1MiB"]),
                    "data-size": r.pick(["yes", "no"]), "error-on-bad-resume": r.pick(["yes", "no"]),
                ]
                pairs.append(key + "=" + (good[key] ?? "1"))
            default:
                let key = r.pick(keys)
                pairs.append(key + "=" + value(for: key, random: &r))
            }
        }
        return base + "?" + pairs.joined(separator: r.chance(8) ? "&&" : "&")
    }
}

/// Answers of an adapter, mutated: what a buggy or hostile adapter might write in place of a correct line.
enum AnswerMutator {
    static func mutate(_ line: String, random r: inout FuzzRandom) -> String {
        guard case .object(var members)? = try? JSONParser.parseLine(line) else { return line }
        func set(_ key: String, _ value: JSONValue) {
            if let i = members.firstIndex(where: { $0.0 == key }) {
                members[i].1 = value
            } else {
                members.append((key, value))
            }
        }
        switch r.below(11) {
        case 9, 10: // the answer's own number, far too large
            let huge = JSONValue.number(
                r.pick([
                    "9223372036854775808", "18446744073709551615", "1099511627776",
                    "4294967296", "65536",
                ]))
            if members.contains(where: { $0.0 == "value" }) {
                set("value", huge)
            } else if members.contains(where: { $0.0 == "initial_bytes" }) {
                set(r.chance(2) ? "initial_bytes" : "dirty_bytes", huge)
            } else if members.contains(where: { $0.0 == "data" }) {
                set("data", .string(Data(count: 70_000).base64EncodedString()))
            } else {
                set("state", huge)
            }
        case 0: // another result kind
            set(
                "result",
                .string(r.pick(["done", "value", "state", "bytes", "precopy", "failed", "hello", "error", "what"])))
            set("value", .number(r.pick(FuzzEdges.integers)))
            set("state", .number(r.pick(["0", "3", "4294967295"])))
            set("data_fd", .number("-1"))
            set("data", .string("AAAA"))
            set("initial_bytes", .number("1"))
            set("dirty_bytes", .number("0"))
            set("errno", .string("EINVAL"))
        case 1, 2: // a number at an edge
            let numeric = members.filter {
                if case .number = $0.1 { return $0.0 != "id" }
                return false
            }.map(\.0)
            if let key = numeric.isEmpty ? nil : r.pick(numeric) {
                set(key, .number(r.pick(FuzzEdges.integers)))
            } else {
                set("value", .number(r.pick(FuzzEdges.integers)))
            }
        case 3: // base64 without padding, or not base64
            set("data", .string(r.pick(["QUI", "@@@", "AAAAAAAA=", "QUJD\nREVG", ""])))
        case 4: // more bytes than asked for
            set("result", .string("bytes"))
            set("data", .string(Data(count: 70_000).base64EncodedString()))
        case 5: members.removeAll { $0.0 != "id" && r.chance(2) } // members missing
        case 6: return r.pick(["", "null", "[]", "{}", "not json", line + line, String(line.dropLast())])
        case 7: set("id", .number(r.pick(["0", "-1", "99999999", "1.5"])))
        default:
            if line.contains("\"hello\"") {
                set("generation", .string(r.pick(["v1", "v3", ""])))
            } else {
                set("errno", .number(r.pick(["0", "-5", "99999", "4294967296"])))
                set("result", .string("failed"))
            }
        }
        return JSONValue.object(members).text
    }
}
