import Foundation
import MigconformBase
import MigconformDevice
import MigconformRun
import MigconformSpec
import Testing

@testable import MigconformReport

/// Every operation (on the device, a peer and a foreign device) with every outcome, written as a transcript entry
/// by ``DocumentJSON/entry(_:known:into:)``: the journal's compact bytes and `report.json`'s pretty bytes must be
/// JSONEncoder's, and the entries' text must be the text the transcript formatter has always written.
@Suite("Transcript: entries of every operation and outcome")
struct EntryEncodingTests {
    /// Operations on the device under test: every case, with each name table's entries, the values past their
    /// ends, and buffers shorter and longer than a rendering shows.
    static let localOperations: [DeviceOperation] = {
        var ops: [DeviceOperation] = [
            .getMigrationFlags, .getState, .getDataSize, .reset, .reopen, .regionInfo, .dmaLoggingStop,
        ]
        let featureFlags: [UInt32] = [
            0, 0x1_0001, 0x2_0002, 0x4_0003, 0x7_0006, 0x8_0001, 0xFFFF_FFFF, FeatureRequest.get | 99,
        ]
        for (k, flags) in featureFlags.enumerated() {
            ops.append(.feature(flags: flags, payload: Array(UInt8(0)..<UInt8(k * 3))))
        }
        ops += (0...9).map { .setState($0) } + [.setState(UInt32.max)]
        ops += [.read(fd: 3, count: 4096), .read(fd: Int32.min, count: Int.max), .read(fd: -1, count: -1)]
        ops += [[], [0x22], [0x5C, 0x0A, 0], Array(0..<8), Array(0..<9), Array(0..<64)].flatMap {
            [DeviceOperation.write(fd: 4, bytes: $0), .dataWrite(offset: 0x1000 + UInt64($0.count), bytes: $0)]
        }
        ops += [.close(fd: 7), .close(fd: Int32.max), .precopyInfo(fd: 8), .precopyInfo(fd: -1)]
        let calls: [DataFDCall] = [
            .fdFlags, .statusFlags, .poll, .seek(offset: Int64.min), .seek(offset: 0),
            .pread(count: 4096, offset: -1), .pwrite(bytes: [1, 2, 0x22], offset: Int64.max),
            .precopyInfo(argsz: 24, flags: 0), .precopyInfo(argsz: 0, flags: UInt32.max), .ioctl(request: 0x3bff),
        ]
        ops += calls.map { .dataFD(fd: 5, call: $0) }
        ops += [1, 2, 3, 4, 8].map { .configRead(offset: UInt64($0) * 0x10, width: $0) }
        ops += [.configRead(offset: UInt64.max, width: -1)]
        ops += (UInt32(0)...5).map { .disableInterrupts(index: $0) } + [.disableInterrupts(index: UInt32.max)]
        ops += [
            .access(.configWrite(offset: 4, width: 2, value: UInt64.max)),
            .access(.configWrite(offset: 0, width: 5, value: 0)),
            .access(.barRead(index: 0, offset: 1, width: 1)), .access(.barRead(index: UInt32.max, offset: 0, width: 8)),
            .access(.enableInterrupts(index: 2)), .access(.enableInterrupts(index: 5)),
        ]
        let offsets: [UInt64] = [
            RegionV1.deviceState, RegionV1.reserved, RegionV1.pendingBytes, RegionV1.dataOffset, RegionV1.dataSize,
            RegionV1.headerSize, UInt64.max,
        ]
        for offset in offsets {
            ops += [.regionRead(offset: offset, width: 4), .regionRead(offset: offset, width: 8)]
            for value: UInt64 in [0, 1, 3, 6, 7, 0x1F, 0xFFFF_FFFF_0000_0008, UInt64.max] {
                ops.append(.regionWrite(offset: offset, width: offset == RegionV1.deviceState ? 4 : 8, value: value))
            }
        }
        ops += [.dataRead(offset: 32, count: 4096), .dataRead(offset: UInt64.max, count: -3)]
        let ranges = (0..<6).map { DMARange(iova: UInt64($0) << 32, length: UInt64($0) * 0x1000) }
        ops += [0, 1, 2, 4, 5, 6].map {
            .dmaLoggingStart(pageSize: $0 == 2 ? UInt64.max : 4096, ranges: Array(ranges.prefix($0)))
        }
        ops += [
            .dmaLoggingReport(iova: 1 << 32, length: 2 << 20, pageSize: 4096, bitmap: []),
            .dmaLoggingReport(iova: UInt64.max, length: 0, pageSize: 0, bitmap: [0xFF, 0x01, 0x22, 0x5C]),
        ]
        return ops
    }()

    /// Each operation, then on a peer and on a foreign device, and a few wrapped twice.
    static let operations: [DeviceOperation] =
        localOperations + localOperations.map { .onPeer($0) } + localOperations.map { .onForeign($0) }
        + [.onPeer(.onForeign(.setState(3))), .onForeign(.onPeer(.read(fd: 1, count: 2))), .onPeer(.onPeer(.reset))]

    static let outcomes: [DeviceOutcome?] = {
        var out: [DeviceOutcome?] = [.done, nil]
        out += [0, 1, 3, 7, 0x4000, UInt64(Int64.max), UInt64.max].map { .value($0) }
        out += [0, 1, 2, 3, 4, 5, 6, 7, 8, UInt32.max].map { .state($0, dataFD: $0 % 2 == 0 ? -1 : 9) }
        out += [.state(1, dataFD: Int32.min)]
        let precopy = DataFD.PrecopyInfo(argsz: 24, flags: 1, initialBytes: UInt64.max, dirtyBytes: 5).bytes
        out += [[], [0], [0x22, 0x5C, 0x0A], Array(0..<8), Array(0..<9), precopy, Array(0..<40)].map { .bytes($0) }
        out += [.precopy(initialBytes: 0, dirtyBytes: UInt64.max), .precopy(initialBytes: 4096, dirtyBytes: 1)]
        out += Errno.known.map { .failed($0) }
        out += [.failed(Errno(rawValue: 0)), .failed(Errno(rawValue: -1)), .failed(Errno(rawValue: Int32.max))]
        return out
    }()

    /// Data notes and transport errors with bytes that need escapes in JSON or are cut in plain text.
    static let notes = ["saved stream (4128 bytes)", "a \"quoted\" \\ note\nover\tlines\u{1}", "é漢字🙂/\u{2028}"]

    /// Every operation with every outcome, with and without a byte count, a data note and a transport error.
    static let entries: [TranscriptEntry] = {
        var out: [TranscriptEntry] = []
        for (k, op) in operations.enumerated() {
            for (o, outcome) in outcomes.enumerated() {
                let n = k + o
                out.append(
                    TranscriptEntry(
                        step: n % 5 == 0 ? Int.max : n, operation: op, outcome: outcome,
                        transportError: outcome == nil && n % 4 != 0 ? notes[n % notes.count] : nil,
                        micros: n % 7 == 0 ? UInt64.max : UInt64(n * 37),
                        byteCount: [nil, 0, 1, 100, Int.max, -1][n % 6],
                        data: n % 3 == 0 ? notes[(n / 3) % notes.count] : nil))
            }
        }
        return out
    }()

    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    @Test("an entry's compact and pretty bytes are JSONEncoder's, for every operation and outcome")
    func entriesAreJSONEncoders() throws {
        let compact = Self.encoder(pretty: false)
        let pretty = Self.encoder(pretty: true)
        var differences = 0
        for e in Self.entries {
            for (encoder, isPretty) in [(compact, false), (pretty, true)] {
                var w = DocumentJSON.Writer(pretty: isPretty)
                DocumentJSON.entry(e, into: &w)
                let reference = String(decoding: try encoder.encode(EntryDocument(e)), as: UTF8.self)
                if w.text != reference && differences < 10 {
                    differences += 1
                    Issue.record("\(isPretty ? "pretty" : "compact"):\n\(w.text)\nJSONEncoder:\n\(reference)")
                }
            }
        }
        #expect(differences == 0)
    }

    @Test("an entry that repeats its op record's operation is written as one that does not")
    func knownOperation() throws {
        for e in Self.entries where e.step % 11 == 0 {
            var op = DocumentJSON.Writer()
            DocumentJSON.operation(e.operation, into: &op)
            let known = DocumentJSON.EncodedOperation(
                operation: e.operation, json: Array(op.bytes.all),
                text: TranscriptFormatter.operation(e.operation, byteCount: e.byteCount))
            #expect(JournalLines.entry(e, known: known) == JournalLines.entry(e))
        }
    }

    /// The texts of ``entries``, one a line: what ``textDigest`` was taken of.
    static var texts: String { entries.map { TranscriptFormatter.step($0) + "\n" }.joined() }

    /// SHA-256 of ``texts`` as the transcript formatter wrote them before entries were written with byte tables
    /// (`MIGCONFORM_WRITE_TEXTS=PATH swift test --filter EntryEncodingTests` writes them to PATH to compare).
    static let textDigest = "bbf8b324c9c82c6f71e412bb5f6e55baef823a79843ec4b2efadca837fd2a2d0"

    @Test("the entries' text is the text the formatter has always written")
    func textsAreUnchanged() throws {
        let texts = Self.texts
        if let path = ProcessInfo.processInfo.environment["MIGCONFORM_WRITE_TEXTS"] {
            try texts.write(toFile: path, atomically: true, encoding: .utf8)
        }
        #expect(SHA256.hex(Array(texts.utf8)) == Self.textDigest)
        // The journal's and the report's text members are the same text, escaped.
        for e in Self.entries where e.step % 13 == 0 {
            var w = DocumentJSON.Writer()
            DocumentJSON.entry(e, into: &w)
            let object = try JSONSerialization.jsonObject(with: Data(w.text.utf8)) as? [String: Any]
            #expect(object?["text"] as? String == TranscriptFormatter.step(e))
        }
    }

    @Test("the names written from byte tables are the names of the types they stand for")
    func nameTables() {
        #expect(Set(Self.operations.map(\.kind)) == Set(DeviceOperation.Kind.allCases))
        for kind in DeviceOperation.Kind.allCases { #expect(kind.staticName.description == kind.rawValue) }
        for raw in UInt32(0)...9 {
            let name = raw < MigrationState.count ? MigrationState.names[Int(raw)] : nil
            #expect(OperationText.stateNameText(raw)?.description == name)
        }
        for e in Errno.known { #expect(OperationText.errnoName(e)?.description == e.name) }
        for raw in [0, 3, -1, 4095, Int32.max] { #expect(OperationText.errnoName(Errno(rawValue: raw)) == nil) }
        for offset in UInt64(0)...40 {
            let name = OperationText.regionFieldName(offset)?.description
            #expect(name ?? "offset=0x\(String(offset, radix: 16))" == TranscriptFormatter.regionField(offset))
        }
    }
}
