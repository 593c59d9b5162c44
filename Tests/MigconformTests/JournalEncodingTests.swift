import Foundation
import MigconformBase
import MigconformDevice
import MigconformReference
import MigconformRun
import Testing

@testable import MigconformReport

/// The journal's hand-written records read by an independent parser: Foundation's JSONSerialization must find in
/// them the values it finds in JSONEncoder's encoding of the same documents.
@Suite("Journal: encoding")
struct JournalEncodingTests {
    /// Strings that need escapes, or reach past the eight bytes the writer checks at a time.
    static let awkward = [
        "", "\"", "\\", "a\"b\\c", "\u{0}\u{1}\u{1F}\u{7F}", "line\nfeed\r\ttab\u{08}\u{0C}", "é漢字🙂",
        "\u{2028}\u{2029}", "slash/es", "eight ok then a \"quote\" at nine", "0123456789abcdef\\",
        "plain text long enough to fill several words of eight bytes",
    ]

    static let operations: [DeviceOperation] = [
        .getMigrationFlags, .getState, .getDataSize, .reset, .reopen, .regionInfo, .dmaLoggingStop,
        .feature(flags: 0x2_0007, payload: [0, 0xFF]), .setState(2), .setState(UInt32.max),
        .read(fd: Int32.min, count: Int.max), .write(fd: -1, bytes: []), .close(fd: 7), .precopyInfo(fd: 8),
        .configRead(offset: UInt64.max, width: 3), .disableInterrupts(index: 9),
        .regionRead(offset: 0, width: 4), .regionWrite(offset: 8, width: 8, value: UInt64.max),
        .dataRead(offset: 16, count: -3), .dataWrite(offset: 16, bytes: [9]),
        .dmaLoggingStart(pageSize: 4096, ranges: []),
        .dmaLoggingStart(pageSize: 1, ranges: [DMARange(iova: UInt64.max, length: 1), DMARange(iova: 0, length: 0)]),
        .dmaLoggingReport(iova: 1 << 63, length: 1, pageSize: 4096, bitmap: [0xAA]),
        .dataFD(fd: 5, call: .fdFlags), .dataFD(fd: 5, call: .statusFlags), .dataFD(fd: 5, call: .poll),
        .dataFD(fd: 5, call: .seek(offset: Int64.min)), .dataFD(fd: 5, call: .pread(count: 0, offset: -1)),
        .dataFD(fd: 5, call: .pwrite(bytes: [1, 2], offset: Int64.max)),
        .dataFD(fd: 5, call: .precopyInfo(argsz: 24, flags: UInt32.max)), .dataFD(fd: 5, call: .ioctl(request: 1)),
        .access(.configWrite(offset: 4, width: 2, value: UInt64.max)),
        .access(.barRead(index: 0, offset: 1, width: 1)), .access(.enableInterrupts(index: 2)),
        .onPeer(.read(fd: 9, count: 64)), .onForeign(.setState(4)),
    ]

    static let outcomes: [DeviceOutcome?] = [
        .done, .value(UInt64.max), .value(0), .state(3, dataFD: -1), .state(UInt32.max, dataFD: Int32.min),
        .bytes([]), .bytes(Array(0...40)), .precopy(initialBytes: UInt64.max, dirtyBytes: 0), .failed(.EINVAL),
        .failed(Errno(rawValue: 4095)), nil,
    ]

    /// Entries with every operation, outcome and awkward string, and with their optional fields absent.
    static var entries: [TranscriptEntry] {
        var out: [TranscriptEntry] = []
        for (k, op) in operations.enumerated() {
            for (o, outcome) in outcomes.enumerated() {
                let text = awkward[(k + o) % awkward.count]
                let bare = (k + o) % 3 == 0
                out.append(
                    TranscriptEntry(
                        step: k * 100 + o, operation: op, outcome: outcome,
                        transportError: outcome == nil && !bare ? text : nil,
                        micros: o % 2 == 0 ? UInt64.max : UInt64(o),
                        byteCount: bare ? nil : [Int.min, -1, 0, Int.max][o % 4],
                        data: bare ? nil : text))
            }
        }
        return out
    }

    func parsed(_ s: String) throws -> NSObject {
        try #require(try JSONSerialization.jsonObject(with: Data(s.utf8), options: [.fragmentsAllowed]) as? NSObject)
    }

    func encoded<T: Encodable>(_ v: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(v), as: UTF8.self)
    }

    @Test("an entry's fast encoding parses to the value of JSONEncoder's, and decodes to the same entry")
    func entries() throws {
        for e in Self.entries {
            let fast = JournalLines.entry(e)
            let reference = try encoded(EntryDocument(e))
            #expect(try parsed(fast) == parsed(reference), "\(fast)")
            #expect(fast == reference)
            let back = try JSONDecoder().decode(EntryDocument.self, from: Data(fast.utf8)).entry
            #expect(back == e, "\(fast)")
        }
    }

    @Test("a case-end record's fast encoding parses to the value of JSONEncoder's, every field set or absent")
    func caseEnd() throws {
        let entries = Self.entries
        var results: [CaseResult] = []
        for (k, s) in Self.awkward.enumerated() {
            var full = CaseResult(
                id: s, ruleID: s, level: .must, statement: s, cite: s, verdict: .xfail, message: s, expected: s,
                actual: s, durationMicros: k % 2 == 0 ? UInt64.max : 0,
                transcript: Array(entries[(k * 7)..<(k * 7 + 7)]), reproducer: k % 3 == 0 ? [] : [entries[k]],
                rawVerdict: .fail, expectation: s, attempts: k % 2 == 0 ? Int.min : Int.max, unfinished: k % 2 == 0,
                otherShard: -k)
            full.notRun = .blocked
            full.blockedBy = s
            full.seenIn = k % 2 == 0 ? [] : [s, s]
            results.append(full)
            results.append(
                CaseResult(id: s, ruleID: "", level: .may, statement: "", cite: "", verdict: .pass, message: s))
        }
        for (k, c) in results.enumerated() {
            let time = Self.awkward[k % Self.awkward.count]
            let fast = JournalLines.caseEnd(time: time, index: -k, result: JournalLines.caseDocument(c))
            let reference = try encoded(
                RunJournal.CaseEndRecord(time: time, index: -k, result: CaseDocument(c)))
            #expect(try parsed(fast) == parsed(reference), "\(fast)")
            #expect(fast == reference)
            let back = try JSONDecoder().decode(RunJournal.CaseEndRecord.self, from: Data(fast.utf8))
            #expect(back.result.result.transcript == c.transcript)
            #expect(back.result.result.reproducer == c.reproducer)
            #expect(try parsed(try encoded(back.result)) == parsed(try encoded(CaseDocument(c))))
        }
    }

    @Test("the run record's fast encoding is JSONEncoder's, with the plan's optional fields set or absent")
    func runRecord() throws {
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2")
        var plan: [PlannedCase] = []
        for (k, s) in Self.awkward.enumerated() {
            var p = PlannedCase(
                id: s, ruleID: s, level: Level.allCases[k % Level.allCases.count], statement: s, cite: s,
                notRun: k % 2 == 0 ? nil : Verdict.allCases[k % Verdict.allCases.count], reason: k % 3 == 0 ? nil : s)
            p.otherShard = k % 4 == 0 ? nil : k - 6
            plan.append(p)
        }
        plan += report.cases.map {
            PlannedCase(id: $0.id, ruleID: $0.ruleID, level: $0.level, statement: $0.statement, cite: $0.cite)
        }
        for hazards in [[], [SkippedHazard(caseID: "a\"b", hazardID: "HZ-1", effect: "é/\n")]] {
            let record = RunJournal.RunRecord(
                journalVersion: RunJournal.version, time: "2026-11-30T00:00:00Z", run: report.run, plan: plan,
                hazardsSkipped: hazards)
            var w = DocumentJSON.Writer()
            try JournalLines.runRecord(record, into: &w)
            let fast = w.text
            let reference = try encoded(record)
            #expect(fast == reference)
            #expect(try parsed(fast) == parsed(reference))
        }
    }

    @Test("the text sinks write what String(_:) and String(_:radix:) write")
    func numbers() {
        let values: [Int64] = [0, 1, 9, 10, 15, 16, 99, 100, -1, -9, -10, -16, Int64.max, Int64.min, 1 << 32]
        for v in values {
            let bytes = DocumentJSON.Bytes()
            bytes.appendDecimal(v)
            bytes.append(0x20)
            bytes.appendHex(v)
            #expect(String(decoding: bytes.all, as: UTF8.self) == "\(v) \(String(v, radix: 16))")
        }
        // Each side of every power of ten, where the digit count changes.
        var power: UInt64 = 1
        for _ in 0..<20 {
            for v in [power - 1, power, power + 1] {
                let bytes = DocumentJSON.Bytes()
                bytes.appendDecimal(v)
                #expect(String(decoding: bytes.all, as: UTF8.self) == "\(v)")
                if let signed = Int64(exactly: v) {
                    bytes.removeAll()
                    bytes.appendDecimal(-signed)
                    #expect(String(decoding: bytes.all, as: UTF8.self) == "\(-signed)")
                }
            }
            power = power.multipliedReportingOverflow(by: 10).partialValue
        }
        let bytes = DocumentJSON.Bytes(capacity: 1)
        bytes.appendDecimal(UInt64.max)
        bytes.appendHex(UInt64.max)
        bytes.appendHex(bytes: [0, 0x0F, 0xF0, 0xFF])
        #expect(String(decoding: bytes.all, as: UTF8.self) == "\(UInt64.max)ffffffffffffffff000ff0ff")
    }
}
