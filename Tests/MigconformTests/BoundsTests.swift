import Foundation
import MigconformReference
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

    @Test(arguments: [
        "-1", "1099511627776", "9223372036854775807", "-9223372036854775808", "2147483648",
        "4294967296", "1000000000", "99999999999999999999999", "8.5", "1e3",
    ])
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
        let index = try #require(TestSupport.v2.rules.firstIndex { $0.check.kind == .streamEnd })
        #expect(found.map(\.jsonPath) == ["$.rules[\(index)].check.extra-reads"], "\(found)")
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

    @Test(arguments: [#""kind": "stream-end""#, #""extra-reads": 3"#])
    func aKeyOrNameAHalfMegabyteLongIsReportedQuicklyAndShort(fragment: String) throws {
        let long = String(repeating: "k", count: 500_000)
        let replacement = fragment.hasPrefix(#""kind""#) ? #""kind": "\#(long)""# : #""\#(long)": 3"#
        let start = Date()
        let found = try shippedV2(fragment, replacement)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(found.count == 1, "\(found.count) problems")
        #expect((found.first?.description.count ?? 0) < 800)
        #expect(found.first?.description.contains("500") == true, "the cut text says how long it was")
    }

    /// A spec whose RESUMING no arc reaches loads; the planner's cost of the impossible moves saturates instead of
    /// overflowing, and the cases that need RESUMING are blocked, so the run is judged rather than trapped.
    @Test(.timeLimit(.minutes(1)))
    func aStateNoArcReachesIsPlannedWithoutOverflow() throws {
        let url = TestSupport.root.appendingPathComponent("Specs/vfio-migration-v2.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        let arc = #"{"from": "STOP", "to": "RESUMING", "session": "opens-resume"},"#
        try #require(text.components(separatedBy: arc).count == 2)
        let spec = try SpecLoader.load(data: Array(text.replacingOccurrences(of: arc, with: "").utf8), path: "v2.json")
        let report = try TestSupport.run(spec, MigconformReference.ReferenceDeviceV2())
        #expect(!report.summary.conformant)
        #expect(report.cases.contains { $0.verdict == .skipped })
        #expect(!report.cases.contains { $0.verdict == .fail })
    }

    @Test func tooManyValuesAreRefused() {
        let text = "[" + Array(repeating: "0", count: JSONParser.maximumValues + 1).joined(separator: ",") + "]"
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
    }
}

/// The reproducers of bad command lines and specs, through the built binary: a clear usage error, never a trap.
@Suite(
    "Bounds: target URIs and specs on the command line",
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct CommandLineBoundsTests {
    var binary: URL { TestSupport.binary! }

    static let badTargets: [(uri: String, says: String)] = [
        ("ref:v2?=", "has no key"),
        ("ref:v2?data-size=maybe", "the values are yes and no"),
        ("ref:v2?error-on-bad-resume=x", "the values are yes and no"),
        ("ref:v2?features=stop-copy,", "an empty feature name"),
        ("ref:v2?&&&", "an empty pair"),
        ("ref:v2?", "an empty query"),
        ("ref:v2?features=" + Array(repeating: "p2p", count: 25_000).joined(separator: ","), "listed more than once"),
        ("ref:v2?features=" + String(repeating: "x", count: 100_000), "unknown feature"),
        ("ref:v2?state-size=9223372036854775807", "more than 1 TiB"),
        ("ref:v2?state-size=18446744073709551615", "more than 1 TiB"),
        ("ref:v2?state-size=20000000000GiB", "more than 1 TiB"),
        ("ref:v2?state-size=99999999999999999999999999", "more than 1 TiB"),
        ("ref:v1?state-size=12Q", "is not a size"),
        ("ref:v2?colour=blue", "keys: features, state-size, data-size, error-on-bad-resume"),
        ("fault:v1-drifts?features=p2p", "is a v1 device"),
        ("ref:v2?state-size=4096&state-size=8192", "given twice"),
        // Not a device path: a malformed target like the others, said once.
        ("vfio:/dev/null", "target 'vfio:/dev/null': the path is not under /dev/vfio/"),
        ("vfio:", "target 'vfio:': the path is empty"),
        ("vfio:/dev/vfio/12", "names a group, not a device"),
    ]

    @Test(arguments: ["list", "run", "explore"])
    func badTargetsAreUsageErrors(command: String) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-uri-\(UUID())").path
        for (uri, says) in Self.badTargets {
            var args = [command, "--target", uri]
            if command != "list" { args += ["--out", out] }
            if command == "explore" { args += ["--depth", "1"] }
            let r = try TestSupport.shell(binary, args)
            #expect(r.status == 2, "\(command) \(uri.prefix(60)): exit \(r.status), \(r.stderr.prefix(300))")
            // Messages wrap at the terminal's width: compare their words.
            let words = TestSupport.words(r.stderr)
            #expect(words.contains(says), "\(command) \(uri.prefix(60)): \(r.stderr.prefix(300))")
            #expect(r.stderr.count < 1000, "the message quotes an excerpt, not the whole URI")
        }
        #expect(!FileManager.default.fileExists(atPath: out), "no report folder for a target that does not open")
    }

    @Test func goodQueriesStillWork() throws {
        for uri in [
            "ref:v2?features=stop-copy,p2p&state-size=64KiB&data-size=no&error-on-bad-resume=yes",
            "ref:v1?state-size=1MiB", "fault:v1-drifts?state-size=8KiB",
            "fault:undefined-flag-bit?features=stop-copy,pre-copy",
        ] {
            let r = try TestSupport.shell(binary, ["list", "--target", uri])
            #expect(r.status == 0 || !r.stderr.contains("target '"), "\(uri): \(r.stderr)")
        }
    }

    /// A spec that check-spec refuses is refused by run the same way (exit 2, same problem), never a trap or hang.
    @Test(arguments: [
        ("\"payload\": 8, \"expect\": \"success\"", "\"payload\": -1, \"expect\": \"success\""),
        ("\"payload\": 8, \"expect\": \"success\"", "\"payload\": 2147483648, \"expect\": \"success\""),
        ("\"extra-reads\": 3", "\"extra-reads\": 9223372036854775807"),
        ("\"extra-reads\": 3", "\"extra-reads\": -9223372036854775808"),
    ])
    func checkSpecAndRunAgree(old: String, new: String) throws {
        let text = try String(contentsOfFile: TestSupport.specPath("v2"), encoding: .utf8)
        try #require(text.components(separatedBy: old).count == 2)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-spec-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
        let check = try TestSupport.shell(binary, ["check-spec", url.path])
        #expect(check.status == 2, "\(check.stdout)")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("migconform-run-\(UUID())").path
        let run = try TestSupport.shell(binary, ["run", "--spec", url.path, "--out", out, "--quiet"])
        #expect(run.status == 2, "\(run.stderr.prefix(400))")
        #expect(
            TestSupport.words(run.stderr).contains("out of range"),
            "\(run.stderr.prefix(400))")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
