import Foundation
import Testing
@testable import MigconformSpec

/// The shipped v2 spec with `old` replaced by `new` (once), loaded from memory.
private func shippedV2(_ old: String, _ new: String) throws -> [SpecProblem] {
    let url = TestSupport.root.appendingPathComponent("Specs/vfio-migration-v2.json")
    let text = try String(contentsOf: url, encoding: .utf8)
    try #require(text.components(separatedBy: old).count == 2, "fragment must occur once: \(old)")
    do {
        _ = try SpecLoader.load(data: Array(text.replacingOccurrences(of: old, with: new).utf8), path: "v2.json")
        return []
    } catch {
        return error.problems
    }
}

@Suite("Bounds: spec numbers")
struct SpecBoundsTests {
    static let extraReads = #""kind": "stream-end", "extra-reads": 3"#
    static let payload = #""feature": 9, "ops": ["set"], "payload": 8"#

    @Test(arguments: ["-1", "1099511627776", "9223372036854775807", "-9223372036854775808", "2147483648",
                      "4294967296", "1000000000", "99999999999999999999999", "8.5", "1e3"])
    func featurePayloadOutOfRangeIsRefused(value: String) throws {
        let found = try shippedV2(Self.payload, #""feature": 9, "ops": ["set"], "payload": \#(value)"#)
        #expect(found.count == 1, "\(found)")
        let p = try #require(found.first)
        #expect(p.jsonPath.hasSuffix(".check.payload"))
        #expect(p.message.contains("from 0 to 4096"), "\(p)")
        #expect(p.line > 0 && p.column > 0)
    }

    @Test(arguments: ["-1", "257", "9223372036854775807"])
    func extraReadsOutOfRangeIsRefused(value: String) throws {
        let found = try shippedV2(Self.extraReads, #""kind": "stream-end", "extra-reads": \#(value)"#)
        #expect(found.map(\.jsonPath) == ["$.rules[26].check.extra-reads"], "\(found)")
        #expect(found.first?.message.contains("from 0 to 256") == true)
    }

    @Test func featureIndexAndFlagsAreBounded() throws {
        let index = try shippedV2(Self.payload, #""feature": 65536, "ops": ["set"], "payload": 8"#)
        #expect(index.first?.message.contains("from 0 to 65535") == true, "\(index)")
        let flags = try shippedV2(#""extra-flags": 524288"#, #""extra-flags": 4294967296"#)
        #expect(flags.first?.message.contains("from 0 to 4294967295") == true, "\(flags)")
    }

    @Test func roundTripSegmentsAreBounded() throws {
        let zero = try shippedV2(#""segments": [65536]"#, #""segments": [0]"#)
        #expect(zero.map(\.jsonPath).first?.hasSuffix(".check.segments[0]") == true, "\(zero)")
        let huge = try shippedV2(#""segments": [65536]"#, #""segments": [67108865]"#)
        #expect(huge.count == 1)
        let many = "[" + Array(repeating: "1", count: 1025).joined(separator: ",") + "]"
        let long = try shippedV2(#""segments": [65536]"#, #""segments": \#(many)"#)
        #expect(long.first?.message.contains("at most 1024") == true, "\(long)")
    }

    @Test func edgesOfTheRangesLoad() throws {
        #expect(try shippedV2(Self.extraReads, #""kind": "stream-end", "extra-reads": 256"#).isEmpty)
        #expect(try shippedV2(Self.payload, #""feature": 9, "ops": ["set"], "payload": 4096"#).isEmpty)
        #expect(try shippedV2(#""segments": [65536]"#, #""segments": [67108864]"#).isEmpty)
    }

    @Test func aFileOverTheLimitIsRefusedAtOnce() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-big-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        var text = "{\"spec\": ["
        text += Array(repeating: "1", count: Limits.specFileBytes / 2 + 10).joined(separator: ",") + "]}"
        try text.write(to: url, atomically: true, encoding: .utf8)
        let start = Date()
        #expect(throws: SpecLoadError.self) { try SpecLoader.load(path: url.path) }
        do { _ = try SpecLoader.load(path: url.path) } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems.first?.message.contains("larger than 1 MiB") == true)
        }
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test func tooManyValuesAreRefused() {
        let text = "[" + Array(repeating: "0", count: JSONParser.maximumValues + 1).joined(separator: ",") + "]"
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
    }
}
