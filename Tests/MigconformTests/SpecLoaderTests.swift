import Foundation
import MigconformDevice
import Testing

@testable import MigconformSpec

// MARK: - Helpers

/// A small but complete spec. Tests break it by replacing one fragment at a time, so every fragment they replace
/// appears exactly once.
private let validSpec = """
    {
      "spec": "test-v2",
      "version": "1.0.0",
      "title": "Small test spec",
      "generation": "v2",
      "sources": {"uapi": "include/uapi/linux/vfio.h", "seed-001": "a mailing-list thread"},
      "features": [
        {"name": "stop-copy", "flag": 1, "mandatory": true, "description": "saving in STOP_COPY"},
        {"name": "p2p", "flag": 2},
        {"name": "data-size", "probe": 9, "since": "6.2"}
      ],
      "profiles": [
        {"name": "stop-copy+p2p", "features": ["stop-copy", "p2p"]}
      ],
      "states": [
        {"name": "ERROR", "value": 0, "kind": "error"},
        {"name": "STOP", "value": 1, "kind": "valid"},
        {"name": "RUNNING", "value": 2, "kind": "valid"},
        {"name": "STOP_COPY", "value": 3, "kind": "valid", "group": "saving"},
        {"name": "RESUMING", "value": 4, "kind": "valid"},
        {"name": "RUNNING_P2P", "value": 5, "kind": "valid", "requires": ["p2p"], "description": "quiesced"},
        {"name": "V8", "value": 8, "kind": "out-of-range"}
      ],
      "initial": "RUNNING",
      "arcs": [
        {"from": "RUNNING", "to": "STOP", "session": "none", "unless": ["p2p"]},
        {"from": "RUNNING", "to": "RUNNING_P2P", "session": "none", "requires": ["p2p"]},
        {"from": "STOP", "to": "STOP_COPY", "session": "opens-save", "tags": ["save"]},
        {"from": "STOP_COPY", "to": "STOP", "session": "ends"},
        {"from": "STOP", "to": "RESUMING", "session": "opens-resume"},
        {"from": "RESUMING", "to": "STOP", "session": "ends"},
        {"from": "STOP", "to": "RUNNING", "session": "none"}
      ],
      "paths": {
        "combinations": true,
        "session-opens-only-last": true,
        "forbidden": [ {"from": "STOP_COPY", "to": "RESUMING", "requires": ["stop-copy"]} ],
        "cite": {"source": "uapi", "section": "combination transitions"}
      },
      "variants": [
        {"id": "v1-111b-error", "statement": "111b is a second error state.", "cite": {"source": "seed-001", "section": "reply 3"}}
      ],
      "rules": [
        {
          "id": "V2-ARC-STATE",
          "level": "MUST",
          "statement": "Every arc reaches its target state.",
          "cite": {"source": "uapi", "section": "enum vfio_device_mig_state"},
          "check": {"kind": "arc", "expect": "state", "tags": ["save"]}
        },
        {
          "id": "V2-REJECT",
          "level": "MUST NOT",
          "statement": "Requests for undefined values do not change the state.",
          "cite": {"source": "seed-001", "section": "reply 3"},
          "since": "5.18",
          "requires": ["stop-copy"],
          "accept": ["EINVAL", "ENOTTY"],
          "variant": "v1-111b-error",
          "hazard": {"id": "HZ-WARN", "effect": "a WARN splat", "targets": ["vfio"], "first-affected": "6.2", "fixed-in": "7.2"},
          "check": {"kind": "rejected-value", "values": ["V8", 9, 4294967295], "raw-write": false}
        },
        {
          "id": "V2-ROUND-TRIP",
          "level": "SHOULD",
          "statement": "Saved bytes resume.",
          "cite": {"source": "uapi", "section": "data_fd"},
          "check": {"kind": "round-trip", "segments": [1, 4096]}
        }
      ]
    }
    """

/// `validSpec` with each `(old, new)` replacement applied; every `old` must occur exactly once.
private func broken(_ replacements: (String, String)...) throws -> String {
    var text = validSpec
    for (old, new) in replacements {
        try #require(text.components(separatedBy: old).count == 2, "fragment must occur once: \(old)")
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text
}

/// The problems loading `text` reports (empty when it loads).
private func problems(_ text: String, file: String = "Specs/t.json") -> [SpecProblem] {
    do {
        _ = try SpecLoader.load(data: Array(text.utf8), path: file)
        return []
    } catch {
        return error.problems
    }
}

/// 1-based line of the first occurrence of `needle` in `text`, computed from the text itself.
private func line(of needle: String, in text: String) -> Int {
    guard let range = text.range(of: needle) else { return -1 }
    return text[..<range.lowerBound].filter { $0 == "\n" }.count + 1
}

/// 1-based column (in characters) of the first occurrence of `needle` in `text`.
private func column(of needle: String, in text: String) -> Int {
    guard let range = text.range(of: needle) else { return -1 }
    let before = text[..<range.lowerBound]
    let lineStart = before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex
    return before[lineStart...].unicodeScalars.count + 1
}

/// Expects exactly one problem at `jsonPath`, on the line where `needle` is, whose message contains `fragment`.
private func expectProblem(
    _ text: String, path jsonPath: String, lineOf needle: String, message fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let found = problems(text)
    let hits = found.filter { $0.jsonPath == jsonPath }
    #expect(hits.count == 1, "expected one problem at \(jsonPath), got: \(found)", sourceLocation: sourceLocation)
    guard let hit = hits.first else { return }
    #expect(hit.line == line(of: needle, in: text), "\(hit)", sourceLocation: sourceLocation)
    #expect(hit.message.contains(fragment), "\(hit.message)", sourceLocation: sourceLocation)
    #expect(hit.file == "Specs/t.json", sourceLocation: sourceLocation)
}

// MARK: - JSON parser

@Suite("SpecLoader: JSON parser")
struct SpecLoaderJSONParserTests {
    @Test func positionsOfValuesByPath() throws {
        let text = "{\n  \"a\": [1,\n    {\"b\": true}],\n  \"c\": null\n}"
        let (value, positions) = try JSONParser.parse(Array(text.utf8))
        #expect(positions["$"] == SourcePosition(line: 1, column: 1))
        #expect(positions["$.a"] == SourcePosition(line: 2, column: 8))
        #expect(positions["$.a[0]"] == SourcePosition(line: 2, column: 9))
        #expect(positions["$.a[1]"] == SourcePosition(line: 3, column: 5))
        #expect(positions["$.a[1].b"] == SourcePosition(line: 3, column: 11))
        #expect(positions["$.c"] == SourcePosition(line: 4, column: 8))
        #expect(positions.count == 6)
        #expect(value["a"]?.arrayValue?[1]["b"] == .bool(true))
        #expect(value["c"] == .null)
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let text = "{\"é€\": \"ü\", \"x\": 1}"
        let (_, positions) = try JSONParser.parse(Array(text.utf8))
        #expect(positions["$[\"é€\"]"] == SourcePosition(line: 1, column: 8)) // non-ASCII keys are quoted
        #expect(positions["$.x"] == SourcePosition(line: 1, column: 18))
    }

    @Test func columnsAfterEscapesInStrings() throws {
        let text = #"{"a\tb": "c\u00e9d", "x": 1}"#
        let (value, positions) = try JSONParser.parse(Array(text.utf8))
        #expect(positions["$[\"a\tb\"]"] == SourcePosition(line: 1, column: 10))
        #expect(positions["$.x"] == SourcePosition(line: 1, column: 27))
        #expect(value["a\tb"] == .string("c\u{e9}d"))
    }

    @Test func pathsOfUnusualKeysAreQuoted() {
        #expect(JSONParser.memberPath("$", "seed-001") == "$.seed-001")
        #expect(JSONParser.memberPath("$", "two words") == "$[\"two words\"]")
        #expect(JSONParser.memberPath("$", "say \"hi\"") == "$[\"say \\\"hi\\\"\"]")
        #expect(JSONParser.elementPath("$.rules", 3) == "$.rules[3]")
    }

    @Test func numbersKeepTheirText() throws {
        let (value, _) = try JSONParser.parse(Array("[4294967295, 18446744073709551615, -1.5e+3, 0, -0.25]".utf8))
        #expect(
            value
                == .array([
                    .number("4294967295"), .number("18446744073709551615"), .number("-1.5e+3"),
                    .number("0"), .number("-0.25"),
                ]))
        #expect(value.arrayValue?[1].uint64Value == UInt64.max)
    }

    @Test func stringEscapes() throws {
        let text = #"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20AC", "\ud83d\ude00", "\u0000"]"#
        let (value, _) = try JSONParser.parse(Array(text.utf8))
        #expect(
            value
                == .array([
                    .string("a\"b\\c/d\u{08}\u{0C}\n\r\t"), .string("é€"), .string("😀"),
                    .string("\u{0}"),
                ]))
    }

    @Test func objectMembersKeepFileOrder() throws {
        let (value, _) = try JSONParser.parse(Array(#"{"z": 1, "a": 2, "m": 3}"#.utf8))
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m"])
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let (value, positions) = try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8))
        #expect(value == .array([.number("1")]))
        #expect(positions["$"] == SourcePosition(line: 1, column: 1))
    }

    /// Each malformed text, the position the error must name, and a fragment of its message.
    @Test(
        arguments: [
            ("{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}' after object member"),
            ("{\n  \"a\": [1 2]\n}", 2, 11, "expected ',' or ']' after array element"),
            ("{\"a\": 1,}", 1, 9, "trailing commas"),
            ("[1,]", 1, 4, "trailing commas"),
            ("{\"a\" 1}", 1, 6, "expected ':'"),
            ("{a: 1}", 1, 2, "member name in double quotes"),
            ("[01]", 1, 3, "leading zeros"),
            ("{\"flag\": 0x10}", 1, 10, "hexadecimal"),
            ("[1.]", 1, 4, "digit after '.'"),
            ("[-]", 1, 3, "digit after '-'"),
            ("[1e]", 1, 4, "exponent"),
            ("[NaN]", 1, 2, "expected a value"),
            ("[tru]", 1, 2, "did you mean 'true'"),
            ("['x']", 1, 2, "double quotes"),
            ("[1] // note", 1, 5, "after the JSON value"),
            ("[1] [2]", 1, 5, "after the JSON value"),
            ("", 1, 1, "unexpected end of input"),
            ("  \n ", 2, 2, "unexpected end of input"),
            ("[\"abc", 1, 2, "unterminated string"),
            ("[\"a\tb\"]", 1, 4, "control character U+0009"),
            ("[\"\\x\"]", 1, 3, "invalid escape"),
            ("[\"\\u12G4\"]", 1, 3, "four hex digits"),
            ("[\"\\ud83d\"]", 1, 3, "low surrogate"),
            ("[\"\\ude00\"]", 1, 3, "lone low surrogate"),
            ("{\"a\": 1,\n \"a\": 2}", 2, 2, "duplicate member \"a\""),
            ("{\"a\": [1, 2}", 1, 12, "expected ',' or ']'"),
            ("{\"a\": 1", 1, 8, "unexpected end of input"),
        ] as [(String, Int, Int, String)])
    func syntaxErrors(text: String, line: Int, column: Int, message: String) {
        do {
            _ = try JSONParser.parse(Array(text.utf8))
            Issue.record("parsed without error: \(text)")
        } catch {
            #expect(error.position == SourcePosition(line: line, column: column), "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]) }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x5B, 0xFF, 0x5D]) }
    }

    @Test func deepNestingIsRefusedNotCrashed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSONParser.parse(Array(fine.utf8)) }
    }
}

// MARK: - SHA-256

@Suite("SpecLoader: SHA-256")
struct SpecLoaderSHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func millionAs() {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(bytes) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The million a's again, fed in pieces of 1, 63, 64, 65 and 1000 bytes in turn: every piece but the 64-byte
    /// ones leaves the inline buffer partly full, so whole blocks are compressed both from it and from the input.
    @Test func millionAsInOddPieces() {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var hasher = SHA256()
        var offset = 0
        var turn = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let end = min(offset + [1, 63, 64, 65, 1000][turn % 5], raw.count)
                hasher.update(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
                turn += 1
            }
        }
        #expect(
            SHA256.hexString(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths on both sides of the padding boundaries (55 and 56 bytes: the length fits in the last block or not;
    /// 63, 64, 119, 120: one or two blocks of message). The expected digests are sha256sum's.
    @Test func lengthsAroundPadding() {
        let expected: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            119: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            120: "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
        ]
        for (count, hex) in expected {
            #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: count)) == hex, "\(count) a's")
        }
        // Bytes that differ within each word, so that a word read in the wrong byte order shows.
        let pattern = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(
            SHA256.hex(Array(pattern[..<119])) == "3d610547d68216dedf7435a4fb6260353911f6b3fd3f18805ddb8be285d726fe")
        #expect(
            SHA256.hex(Array(pattern[..<120])) == "1f80156a804cb7862ad113e8200e9d74499723e7c7854d5f48776d3148e09656")
        #expect(SHA256.hex(pattern) == "5097e7d587352f5097062ae679f37bda5802d9f875aba14c8cb4d1a188ada179")
    }

    /// The SHA extensions and the portable rounds agree on every length around the block boundaries and on a long
    /// input fed in odd pieces; where the kernel lists `sha_ni`, the hasher uses them.
    @Test func acceleratedAndPortableAgree() throws {
        if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            cpuinfo.contains(" sha_ni")
        {
            #expect(SHA256.acceleration, "the processor has the SHA extensions, but the hasher does not use them")
        }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<100_000).map { _ -> UInt8 in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        func digest(_ part: ArraySlice<UInt8>, accelerated: Bool, piece: Int) -> String {
            var h = SHA256(accelerated: accelerated)
            var at = part.startIndex
            while at < part.endIndex {
                let end = min(at + piece, part.endIndex)
                part[at..<end].withUnsafeBytes { h.update($0) }
                at = end
            }
            return SHA256.hexString(h.finalize())
        }
        for n in Array(0...200) + [1000, 4096, 100_000] {
            let part = bytes[..<n]
            let portable = digest(part, accelerated: false, piece: max(n, 1))
            #expect(digest(part, accelerated: true, piece: max(n, 1)) == portable, "\(n) bytes")
            #expect(digest(part, accelerated: true, piece: 37) == portable, "\(n) bytes in pieces of 37")
        }
    }

    @Test func incrementalMatchesOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = SHA256.hex(bytes)
        for chunk in [1, 3, 55, 56, 63, 64, 65, 127, 999] {
            var hasher = SHA256()
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + chunk, bytes.count)
                hasher.update(Array(bytes[offset..<end]))
                offset = end
            }
            #expect(SHA256.hexString(hasher.finalize()) == expected, "chunk size \(chunk)")
        }
        #expect(SHA256.digest(Array("abc".utf8)).count == 32)
        #expect(
            SHA256.hexString(SHA256.digest(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// A `Data` hashes in place through its raw bytes, to the same digest as its copy into an array.
    @Test func rawBytesMatchArray() {
        let data = Data((0..<777).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) })
        #expect(data.withUnsafeBytes { SHA256.hex($0) } == SHA256.hex([UInt8](data)))
        #expect(Data().withUnsafeBytes { SHA256.hex($0) } == SHA256.hex([]))
        var hasher = SHA256()
        hasher.update(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(SHA256.hexString(hasher.finalize()) == SHA256.hex([]))
    }
}

// MARK: - Loading a valid spec

@Suite("SpecLoader: valid spec")
struct SpecLoaderValidTests {
    @Test func loadsWithTheRightContents() throws {
        let bytes = Array(validSpec.utf8)
        let spec = try SpecLoader.load(data: bytes, path: "Specs/t.json")
        #expect(spec.id == "test-v2")
        #expect(spec.version == "1.0.0")
        #expect(spec.generation == .v2)
        #expect(spec.path == "Specs/t.json")
        #expect(spec.sha256 == SHA256.hex(bytes))
        #expect(spec.sources.count == 2)
        #expect(spec.features.count == 3)
        #expect(spec.profiles.count == 1)
        #expect(spec.states.count == 7)
        #expect(spec.arcs.count == 7)
        #expect(spec.variants.count == 1)
        #expect(spec.rules.count == 3)
        #expect(spec.initialState == "RUNNING")

        let stopCopy = try #require(spec.feature(named: "stop-copy"))
        #expect(stopCopy.flag == 1 && stopCopy.probe == nil && stopCopy.mandatory)
        let p2p = try #require(spec.feature(named: "p2p"))
        #expect(!p2p.mandatory && p2p.description == "") // defaults
        let dataSize = try #require(spec.feature(named: "data-size"))
        #expect(dataSize.probe == 9 && dataSize.flag == nil && dataSize.since == "6.2")

        #expect(spec.state(named: "STOP_COPY")?.group == "saving")
        #expect(spec.state(value: 5)?.requires == ["p2p"])
        #expect(spec.state(value: 8)?.kind == .outOfRange)
        #expect(spec.arcs[0].unless == ["p2p"] && spec.arcs[0].session == SessionEffect.none)
        #expect(spec.arcs[2].session == .opensSave && spec.arcs[2].tags == ["save"])
        #expect(spec.paths.combinations && spec.paths.sessionOpensOnlyLast)
        #expect(spec.paths.forbidden == [ForbiddenPair(from: "STOP_COPY", to: "RESUMING", requires: ["stop-copy"])])
        #expect(spec.paths.cite == Citation(source: "uapi", section: "combination transitions"))

        let reject = spec.rules[1]
        #expect(reject.id == "V2-REJECT" && reject.level == .mustNot)
        #expect(reject.line == line(of: "\"id\": \"V2-REJECT\"", in: validSpec) - 1) // the line of its '{'
        #expect(reject.accept == ["EINVAL", "ENOTTY"])
        #expect(reject.variant == "v1-111b-error" && reject.since == "5.18" && reject.requires == ["stop-copy"])
        #expect(
            reject.hazard
                == Hazard(
                    id: "HZ-WARN", effect: "a WARN splat", targets: ["vfio"], firstAffected: "6.2",
                    fixedIn: "7.2"))
        #expect(reject.check.kind == .rejectedValue)
        guard case .rejectedValue(let values) = reject.check else {
            Issue.record("not rejected-value")
            return
        }
        #expect(values.values == [.state("V8"), .value(9), .value(4_294_967_295)])
        #expect(!values.rawWrite && !values.unadvertised)
        #expect(spec.rules[0].check == .arc(ArcCheck(expect: .state, tags: ["save"])))
        guard case .roundTrip(let roundTrip) = spec.rules[2].check else {
            Issue.record("not round-trip")
            return
        }
        #expect(roundTrip.segments == [1, 4096] && roundTrip.via == .stopCopy)
        #expect(spec.rules[0].cite.description == "uapi: enum vfio_device_mig_state")
    }

    @Test func loadsFromAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "spec-\(UInt32.random(in: 0...UInt32.max)).json"
        ).path
        try Array(validSpec.utf8).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let spec = try SpecLoader.load(path: path)
        #expect(spec.path == path)
        #expect(spec.sha256 == SHA256.hex(Array(validSpec.utf8)))
    }

    @Test func missingFileIsOneProblem() {
        do {
            _ = try SpecLoader.load(path: "/nonexistent/dir/spec.json")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems[0].description == "/nonexistent/dir/spec.json: no such file")
        }
    }

    @Test func ruleIDSyntax() {
        for good in ["V2-ARC-STATE", "A", "V1-111B", "X-1-2"] { #expect(SpecLoader.isValidRuleID(good), "\(good)") }
        for bad in ["", "-A", "A-", "A--B", "v2-arc", "A_B", "A B", "É"] {
            #expect(!SpecLoader.isValidRuleID(bad), "\(bad)")
        }
    }

    @Test func errnoNamesMatchTheDeviceLayer() {
        #expect(SpecLoader.isKnownErrno("EINVAL") && SpecLoader.isKnownErrno("ETIMEDOUT"))
        #expect(SpecLoader.isKnownErrno("22") && SpecLoader.isKnownErrno("E22"))
        #expect(
            !SpecLoader.isKnownErrno("EINVALID") && !SpecLoader.isKnownErrno("einval") && !SpecLoader.isKnownErrno("0"))
        #expect(SpecLoader.errnoNames.count == 24) // the table in MigconformBase, ENOSYS among them
        // Every name the spec module accepts is one the device layer resolves to the same name.
        for name in SpecLoader.errnoNames { #expect(Errno(name: name)?.name == name, "\(name)") }
    }
}

// MARK: - Problems

@Suite("SpecLoader: problems")
struct SpecLoaderProblemTests {
    @Test func syntaxErrorIsOneProblemWithPosition() throws {
        let text = try broken(("\"initial\": \"RUNNING\",", "\"initial\": \"RUNNING\""))
        let found = problems(text)
        #expect(found.count == 1)
        let problem = try #require(found.first)
        #expect(problem.line == line(of: "\"arcs\": [", in: text))
        #expect(problem.column == 3)
        #expect(problem.message.contains("expected ',' or '}' after object member"))
        #expect(problem.description.hasPrefix("Specs/t.json:\(problem.line):3: $: invalid JSON: "))
    }

    @Test func descriptionReadsLikeACompilerDiagnostic() {
        let problem = SpecProblem(
            file: "Specs/x.json", line: 42, column: 7, jsonPath: "$.rules[3].cite",
            message: "missing citation")
        #expect(problem.description == "Specs/x.json:42:7: $.rules[3].cite: missing citation")
        let error = SpecLoadError(problems: [problem, problem])
        #expect(error.description == problem.description + "\n" + problem.description)
    }

    @Test func missingCitation() throws {
        let text = try broken(("\"cite\": {\"source\": \"uapi\", \"section\": \"data_fd\"},", ""))
        let found = problems(text)
        let hit = try #require(found.first { $0.jsonPath == "$.rules[2].cite" })
        #expect(hit.message == "missing citation (a rule needs \"cite\": {\"source\", \"section\"})")
        // Reported on the rule object that lacks it.
        #expect(hit.line == line(of: "\"id\": \"V2-ROUND-TRIP\"", in: text) - 1)
        #expect(hit.column == 5)
        #expect(found.count == 1)
    }

    @Test func emptyCitationSection() throws {
        let text = try broken(("\"section\": \"data_fd\"", "\"section\": \"  \""))
        expectProblem(
            text, path: "$.rules[2].cite.section", lineOf: "\"section\": \"  \"",
            message: "empty citation section")
    }

    @Test func unknownSourceInCite() throws {
        let text = try broken(
            ("{\"source\": \"uapi\", \"section\": \"data_fd\"}", "{\"source\": \"kernel\", \"section\": \"data_fd\"}"))
        expectProblem(text, path: "$.rules[2].cite.source", lineOf: "\"kernel\"", message: "unknown source \"kernel\"")
        #expect(problems(text).first?.message.contains("seed-001, uapi") == true)
    }

    @Test func unknownMemberIsATypo() throws {
        let text = try broken(("\"mandatory\": true", "\"mandatroy\": true"))
        expectProblem(
            text, path: "$.features[0].mandatroy", lineOf: "mandatroy",
            message: "unknown member \"mandatroy\" in a feature (did you mean \"mandatory\"?)")
        // The column is the key's.
        #expect(problems(text).first?.column == column(of: "\"mandatroy\"", in: text))
    }

    @Test func unknownTopLevelMember() throws {
        let text = try broken(("\"initial\": \"RUNNING\",", "\"initial\": \"RUNNING\", \"intial\": 1,"))
        expectProblem(text, path: "$.intial", lineOf: "\"intial\"", message: "unknown member \"intial\" in a spec")
    }

    @Test func missingRequiredMember() throws {
        let text = try broken(
            ("{\"name\": \"STOP\", \"value\": 1, \"kind\": \"valid\"}", "{\"name\": \"STOP\", \"value\": 1}"))
        expectProblem(
            text, path: "$.states[1].kind", lineOf: "{\"name\": \"STOP\", \"value\": 1}",
            message: "missing required member \"kind\" in a state")
    }

    @Test func missingTopLevelMember() throws {
        let text = try broken(("\"title\": \"Small test spec\",\n", ""))
        let found = problems(text)
        #expect(found.count == 1)
        #expect(found.first?.jsonPath == "$.title" && found.first?.line == 1 && found.first?.column == 1)
    }

    @Test func wronglyTypedMember() throws {
        let text = try broken(("\"value\": 2,", "\"value\": \"2\","))
        expectProblem(
            text, path: "$.states[2].value", lineOf: "\"value\": \"2\"",
            message: "expected an integer from 0 to 4294967295")
        let other = try broken(("\"combinations\": true", "\"combinations\": \"yes\""))
        expectProblem(
            other, path: "$.paths.combinations", lineOf: "\"combinations\"", message: "expected true or false")
        let list = try broken(("\"features\": [\"stop-copy\", \"p2p\"]", "\"features\": \"stop-copy\""))
        expectProblem(
            list, path: "$.profiles[0].features", lineOf: "\"features\": \"stop-copy\"",
            message: "expected an array")
    }

    @Test func stateValueOutOfRange() throws {
        let text = try broken(("\"value\": 8,", "\"value\": 4294967296,"))
        expectProblem(text, path: "$.states[6].value", lineOf: "4294967296", message: "from 0 to 4294967295")
    }

    @Test func duplicateStateNameAndValue() throws {
        let text = try broken(
            ("{\"name\": \"V8\", \"value\": 8,", "{\"name\": \"STOP\", \"value\": 3,"),
            ("[\"V8\", 9", "[8, 9"))
        let found = problems(text)
        #expect(found.count == 2, "\(found)")
        let name = try #require(found.first { $0.jsonPath == "$.states[6].name" })
        #expect(
            name.message
                == "duplicate state \"STOP\" (first defined at line \(line(of: "\"name\": \"STOP\"", in: text)))")
        let value = try #require(found.first { $0.jsonPath == "$.states[6].value" })
        #expect(value.message.contains("duplicate state value 3") && value.message.contains("STOP_COPY"))
        #expect(name.line == value.line && name.line == line(of: "\"value\": 3, \"kind\": \"out-of-range\"", in: text))
    }

    @Test func duplicateFeatureProfileRuleVariant() throws {
        let feature = try broken(("{\"name\": \"data-size\",", "{\"name\": \"p2p\","))
        expectProblem(
            feature, path: "$.features[2].name", lineOf: "{\"name\": \"p2p\", \"probe\"",
            message: "duplicate feature \"p2p\"")

        let profile = try broken(
            (
                "{\"name\": \"stop-copy+p2p\", \"features\": [\"stop-copy\", \"p2p\"]}",
                "{\"name\": \"a\", \"features\": []}, {\"name\": \"a\", \"features\": [\"p2p\"]}"
            ))
        expectProblem(
            profile, path: "$.profiles[1].name", lineOf: "{\"name\": \"a\"", message: "duplicate profile \"a\"")

        let rule = try broken(("\"id\": \"V2-ROUND-TRIP\"", "\"id\": \"V2-ARC-STATE\""))
        let found = problems(rule)
        #expect(found.count == 1)
        #expect(found.first?.jsonPath == "$.rules[2].id")
        #expect(found.first?.line == line(of: "\"Saved bytes resume.\"", in: rule) - 2)
        #expect(
            found.first?.message.contains(
                "duplicate rule id \"V2-ARC-STATE\" (first defined at line "
                    + "\(line(of: "\"id\": \"V2-ARC-STATE\"", in: rule) - 1))") == true)

        let variant = try broken(
            (
                "\"variants\": [\n",
                "\"variants\": [\n    {\"id\": \"v1-111b-error\", \"statement\": \"x\", \"cite\": {\"source\": \"uapi\", \"section\": \"s\"}},\n"
            ))
        expectProblem(variant, path: "$.variants[1].id", lineOf: "\"111b is a second", message: "duplicate variant id")
    }

    @Test func unknownStateInInitialArcAndForbidden() throws {
        let initial = try broken(("\"initial\": \"RUNNING\"", "\"initial\": \"RUNING\""))
        expectProblem(initial, path: "$.initial", lineOf: "RUNING", message: "unknown state \"RUNING\"")

        let notValid = try broken(("\"initial\": \"RUNNING\"", "\"initial\": \"ERROR\""))
        expectProblem(notValid, path: "$.initial", lineOf: "\"initial\"", message: "must be of kind valid")

        let arc = try broken(("{\"from\": \"STOP\", \"to\": \"RUNNING\"", "{\"from\": \"STOP\", \"to\": \"GO\""))
        expectProblem(arc, path: "$.arcs[6].to", lineOf: "\"to\": \"GO\"", message: "unknown state \"GO\"")

        let forbidden = try broken(
            ("{\"from\": \"STOP_COPY\", \"to\": \"RESUMING\"", "{\"from\": \"PRE_COPY\", \"to\": \"RESUMING\""))
        expectProblem(
            forbidden, path: "$.paths.forbidden[0].from", lineOf: "PRE_COPY", message: "unknown state \"PRE_COPY\"")
    }

    @Test func unknownFeatureInRequiresUnlessProfiles() throws {
        let requires = try broken(
            ("\"requires\": [\"p2p\"], \"description\"", "\"requires\": [\"pre-copy\"], \"description\""))
        expectProblem(
            requires, path: "$.states[5].requires[0]", lineOf: "pre-copy", message: "unknown feature \"pre-copy\"")

        let unless = try broken(("\"unless\": [\"p2p\"]", "\"unless\": [\"p2p\", \"ptp\"]"))
        expectProblem(unless, path: "$.arcs[0].unless[1]", lineOf: "ptp", message: "unknown feature \"ptp\"")

        let profile = try broken(("\"features\": [\"stop-copy\", \"p2p\"]", "\"features\": [\"stopcopy\", \"p2p\"]"))
        expectProblem(profile, path: "$.profiles[0].features[0]", lineOf: "stopcopy", message: "unknown feature")

        let rule = try broken(("\"requires\": [\"stop-copy\"],\n", "\"requires\": [\"dirty-tracking\"],\n"))
        expectProblem(rule, path: "$.rules[1].requires[0]", lineOf: "dirty-tracking", message: "unknown feature")
    }

    @Test func unknownLevel() throws {
        let text = try broken(("\"level\": \"SHOULD\"", "\"level\": \"should\""))
        expectProblem(
            text, path: "$.rules[2].level", lineOf: "\"should\"",
            message: "unknown level \"should\" (levels: MUST, MUST NOT, SHOULD, SHOULD NOT, MAY)")
    }

    @Test func unknownCheckKindListsTheKnownOnes() throws {
        let text = try broken(("\"kind\": \"round-trip\"", "\"kind\": \"roundtrip\""))
        expectProblem(
            text, path: "$.rules[2].check.kind", lineOf: "roundtrip", message: "unknown check kind \"roundtrip\"")
        let message = problems(text).first?.message ?? ""
        #expect(message.contains("did you mean \"round-trip\"?"))
        for kind in CheckKind.allCases { #expect(message.contains(kind.rawValue)) }
    }

    @Test func duplicateArc() throws {
        let text = try broken(
            (
                "{\"from\": \"STOP\", \"to\": \"RUNNING\", \"session\": \"none\"}",
                "{\"from\": \"STOP\", \"to\": \"RUNNING\", \"session\": \"none\"},\n"
                    + "    {\"from\": \"STOP\", \"to\": \"RUNNING\", \"session\": \"keeps\", \"tags\": [\"x\"]}"
            ))
        let found = problems(text)
        #expect(found.count == 1)
        #expect(found.first?.jsonPath == "$.arcs[7]")
        #expect(found.first?.line == line(of: "\"session\": \"keeps\"", in: text))
        #expect(found.first?.message.contains("duplicate arc STOP -> RUNNING") == true)

        // Same pair with different requires is a different arc.
        let distinct = try broken(
            (
                "{\"from\": \"STOP\", \"to\": \"RUNNING\", \"session\": \"none\"}",
                "{\"from\": \"STOP\", \"to\": \"RUNNING\", \"session\": \"none\"},\n"
                    + "    {\"from\": \"STOP\", \"to\": \"RUNNING\", \"session\": \"none\", \"requires\": [\"p2p\"]}"
            ))
        #expect(problems(distinct).isEmpty)
    }

    @Test func unknownSessionEffectAndStateKind() throws {
        let session = try broken(("\"session\": \"opens-resume\"", "\"session\": \"opens-load\""))
        expectProblem(
            session, path: "$.arcs[4].session", lineOf: "opens-load",
            message: "unknown session effect \"opens-load\" (effects: none, opens-save, opens-resume, keeps, ends)")

        let kind = try broken(("\"kind\": \"out-of-range\"", "\"kind\": \"invalid\""))
        expectProblem(
            kind, path: "$.states[6].kind", lineOf: "\"invalid\"",
            message: "unknown state kind \"invalid\" (kinds: valid, reserved, error, out-of-range)")
    }

    @Test func badRuleID() throws {
        let text = try broken(("\"id\": \"V2-ROUND-TRIP\"", "\"id\": \"v2-round_trip\""))
        expectProblem(text, path: "$.rules[2].id", lineOf: "v2-round_trip", message: "^[A-Z0-9]+(-[A-Z0-9]+)*$")
    }

    @Test func emptyStatement() throws {
        let text = try broken(("\"statement\": \"Saved bytes resume.\"", "\"statement\": \"\""))
        expectProblem(text, path: "$.rules[2].statement", lineOf: "\"statement\": \"\"", message: "statement is empty")
    }

    @Test func undefinedVariant() throws {
        let text = try broken(("\"variant\": \"v1-111b-error\"", "\"variant\": \"v1-111b\""))
        expectProblem(
            text, path: "$.rules[1].variant", lineOf: "\"variant\": \"v1-111b\"",
            message: "unknown variant \"v1-111b\" (defined: v1-111b-error)")
    }

    @Test func unknownErrno() throws {
        let text = try broken(("\"accept\": [\"EINVAL\", \"ENOTTY\"]", "\"accept\": [\"EINVAL\", \"ENOTTYY\"]"))
        expectProblem(text, path: "$.rules[1].accept[1]", lineOf: "ENOTTYY", message: "unknown errno \"ENOTTYY\"")
        #expect(problems(text).first?.column == column(of: "\"ENOTTYY\"", in: text))
    }

    @Test func hazardNeedsItsMembers() throws {
        let text = try broken(("\"targets\": [\"vfio\"], ", ""))
        expectProblem(
            text, path: "$.rules[1].hazard.targets", lineOf: "\"hazard\"",
            message: "missing required member \"targets\" in a hazard")
    }

    @Test func featureFlagAndProbe() throws {
        let both = try broken(("{\"name\": \"p2p\", \"flag\": 2}", "{\"name\": \"p2p\", \"flag\": 2, \"probe\": 3}"))
        expectProblem(both, path: "$.features[1].probe", lineOf: "\"probe\": 3", message: "not both")
        let notABit = try broken(("{\"name\": \"p2p\", \"flag\": 2}", "{\"name\": \"p2p\", \"flag\": 3}"))
        expectProblem(notABit, path: "$.features[1].flag", lineOf: "\"flag\": 3", message: "one bit")
        let sameBit = try broken(("{\"name\": \"p2p\", \"flag\": 2}", "{\"name\": \"p2p\", \"flag\": 1}"))
        expectProblem(sameBit, path: "$.features[1].flag", lineOf: "{\"name\": \"p2p\"", message: "stop-copy")
    }

    @Test func checkParameters() throws {
        let unknown = try broken(("\"expect\": \"state\", \"tags\"", "\"expect\": \"state\", \"tag\""))
        expectProblem(
            unknown, path: "$.rules[0].check.tag", lineOf: "\"tag\"",
            message: "unknown parameter \"tag\" for check kind \"arc\" (did you mean \"tags\"?)")

        let choice = try broken(("\"expect\": \"state\", \"tags\"", "\"expect\": \"status\", \"tags\""))
        expectProblem(
            choice, path: "$.rules[0].check.expect", lineOf: "\"status\"",
            message: "\"status\" is not one of state, data-fd, get-fd")

        let missing = try broken(("\"expect\": \"state\", \"tags\"", "\"tags\""))
        expectProblem(
            missing, path: "$.rules[0].check.expect", lineOf: "\"kind\": \"arc\"",
            message: "missing required parameter \"expect\"")

        let shape = try broken(("\"segments\": [1, 4096]", "\"segments\": 4096"))
        expectProblem(
            shape, path: "$.rules[2].check.segments", lineOf: "\"segments\"", message: "expected a list of integers")

        let item = try broken(("\"segments\": [1, 4096]", "\"segments\": [1, \"4096\"]"))
        expectProblem(
            item, path: "$.rules[2].check.segments[1]", lineOf: "\"segments\"", message: "expected an integer")

        let boolean = try broken(("\"raw-write\": false", "\"raw-write\": 0"))
        expectProblem(
            boolean, path: "$.rules[1].check.raw-write", lineOf: "raw-write", message: "expected true or false")

        let tag = try broken(("\"state\", \"tags\": [\"save\"]", "\"state\", \"tags\": [\"saving\"]"))
        expectProblem(
            tag, path: "$.rules[0].check.tags[0]", lineOf: "[\"saving\"]", message: "no arc has the tag \"saving\"")
    }

    @Test func valuesParameterTakesStateNamesAndUInt32s() throws {
        let text = try broken(("[\"V8\", 9, 4294967295]", "[\"V9\", -1, 4294967296, 1.5, true, \"STOP\", 0]"))
        let found = problems(text)
        #expect(
            found.map(\.jsonPath) == [
                "$.rules[1].check.values[0]", "$.rules[1].check.values[1]",
                "$.rules[1].check.values[2]", "$.rules[1].check.values[3]",
                "$.rules[1].check.values[4]",
            ])
        #expect(found[0].message.contains("unknown state \"V9\""))
        #expect(found.dropFirst().allSatisfy { $0.message.contains("integer from 0 to 4294967295") })
        #expect(found.allSatisfy { $0.line == line(of: "\"V9\"", in: text) })
        #expect(found[0].column == column(of: "\"V9\"", in: text))
    }

    @Test func severalProblemsAtOnceInFileOrder() throws {
        let text = try broken(
            ("\"generation\": \"v2\"", "\"generation\": \"v3\""),
            ("\"kind\": \"error\"", "\"kind\": \"broken\""),
            ("\"session\": \"opens-save\"", "\"session\": \"open-save\""),
            ("\"level\": \"MUST NOT\"", "\"level\": \"MUST_NOT\""),
            ("\"kind\": \"round-trip\", \"segments\": [1, 4096]", "\"kind\": \"round-trip\", \"segment\": [1, 4096]"),
            ("{\"name\": \"p2p\", \"flag\": 2}", "{\"name\": \"p2p\", \"flag\": 2, \"mandatory\": \"no\"}")
        )
        let found = problems(text)
        #expect(
            found.map(\.jsonPath) == [
                "$.generation", "$.features[1].mandatory", "$.states[0].kind",
                "$.arcs[2].session", "$.rules[1].level", "$.rules[2].check.segment",
            ],
            "\(found)")
        #expect(found.map(\.line) == found.map(\.line).sorted())
        #expect(found[0].line == line(of: "\"v3\"", in: text))
        #expect(found[2].line == line(of: "\"broken\"", in: text))
        #expect(found[4].line == line(of: "MUST_NOT", in: text))
    }

    @Test func roles() throws {
        let good = try broken(
            ("\"initial\": \"RUNNING\",", "\"initial\": \"RUNNING\", \"roles\": {\"save\": \"STOP_COPY\"},"))
        let spec = try SpecLoader.load(data: Array(good.utf8), path: "Specs/t.json")
        #expect(spec.roles == ["save": "STOP_COPY"])
        #expect(spec.stateName(forRole: "resume") == "RESUMING")

        let bad = try broken(
            (
                "\"initial\": \"RUNNING\",",
                "\"initial\": \"RUNNING\", \"roles\": {\"sve\": \"STOP_COPY\", \"error\": \"BROKEN\"},"
            ))
        let found = problems(bad)
        #expect(found.map(\.jsonPath) == ["$.roles.sve", "$.roles.error"])
        #expect(found[0].message.contains("did you mean \"save\"?"))
        #expect(found[1].message.contains("unknown state \"BROKEN\""))
    }

    @Test func notAnObjectAtTheTop() {
        let found = problems("[1, 2]")
        #expect(
            found.count == 1 && found.first?.jsonPath == "$" && found.first?.message.contains("expected a spec") == true
        )
    }
}

@Suite struct CheckRegistryTests {
    @Test func everyKindNamesItsOwnParameterType() {
        for kind in CheckKind.allCases { #expect(kind.parametersType.kind == kind, "\(kind.rawValue)") }
    }

    @Test func everyShippedRuleDecodesToItsKind() throws {
        for spec in [TestSupport.v2, TestSupport.v1] {
            for rule in spec.rules { #expect(rule.check.kind == type(of: rule.check.parameters).kind, "\(rule.id)") }
        }
    }

    @Test func closedVocabulariesKeepTheirOrderInMessages() throws {
        let schema = CheckKind.resumeDamaged.parameters
        guard case .oneOf(let damages) = schema[0].shape else {
            Issue.record("damage is not one-of")
            return
        }
        #expect(
            damages == [
                "truncate", "truncate-one", "truncate-header", "corrupt", "header", "garbage", "overlong",
                "refused-write",
            ])
        guard case .oneOf(let expects) = CheckKind.dmaLogging.parameters[0].shape else {
            Issue.record("")
            return
        }
        #expect(
            expects == [
                "probe-consistent", "start-page-size", "second-start-fails", "report-before-start-fails",
                "report-only-sets", "report-page-sizes", "core-limit", "survives-arcs",
                "no-new-dirty-in-stop",
            ])
    }

    @Test func defaultsOfAbsentParameters() throws {
        let feature = try FeatureCheck(
            CheckArguments([
                "feature": .number("1"), "ops": .array([.string("get")]),
                "expect": .string("success"),
            ]))
        #expect(feature.payload == 8 && feature.extraFlags == 0 && feature.from == .initial && feature.ops == [.get])
        #expect(try StreamEndCheck(CheckArguments([:])).extraReads == 3)
        #expect(try SaveProtocolCheck(CheckArguments(["expect": .string("drains")])).maxIterations == 1000)
        #expect(try DMALoggingCheck(CheckArguments(["expect": .string("core-limit")])).pageShifts == [12])
        #expect(throws: CheckArguments.Missing.self) { try PeerCheck(CheckArguments([:])) }
    }
}

/// A spec with no rules checks nothing: refused, or a run of it would read CONFORMANT with no case behind the word.
@Test func aSpecWithNoRulesIsRefused() throws {
    let head = try #require(validSpec.components(separatedBy: "\"rules\": [").first)
    let text = head + "\"rules\": []\n}\n"
    expectProblem(text, path: "$.rules", lineOf: "\"rules\": []", message: "no rules")
}
