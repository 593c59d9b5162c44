import Foundation
import MigconformDevice
import MigconformReference
import MigconformReport
import MigconformRun
import MigconformSpec
import Testing

@Suite("DMA logging: the reference log, the rules, the protocol")
struct DMALoggingTests {
    static let window = DMALogging.window

    func report(_ d: ReferenceDeviceV2, pageSize: UInt64 = 4096, fill: UInt8 = 0) throws -> DeviceOutcome {
        let bytes = DMALogging.bitmapBytes(length: Self.window.length, pageSize: pageSize)
        return try d.perform(
            .dmaLoggingReport(
                iova: Self.window.iova, length: Self.window.length, pageSize: pageSize,
                bitmap: [UInt8](repeating: fill, count: bytes)))
    }

    @Test func theReferenceLogReportsDirtiedPagesOnceAndOnlySetsBits() throws {
        let d = ReferenceDeviceV2()
        #expect(try report(d).errno == .EINVAL) // not started
        #expect(try d.perform(.dmaLoggingStart(pageSize: 8192, ranges: [Self.window])) == .value(8192))
        #expect(try d.perform(.dmaLoggingStart(pageSize: 4096, ranges: [Self.window])).errno != nil)
        d.dirty(iova: Self.window.iova + 3 * 8192 + 5, length: 1)
        d.dirty(iova: Self.window.iova + Self.window.length + 8192, length: 1) // outside the range: not logged
        guard case .bytes(let bits) = try report(d) else {
            Issue.record("REPORT failed")
            return
        }
        // 8 KiB logged page 3 covers 4 KiB reporting pages 6 and 7.
        #expect(bits[0] == 0b1100_0000)
        #expect(bits.dropFirst().allSatisfy { $0 == 0 })
        guard case .bytes(let again) = try report(d) else {
            Issue.record("REPORT failed")
            return
        }
        #expect(again.allSatisfy { $0 == 0 }) // cleared by the first report
        guard case .bytes(let ones) = try report(d, pageSize: 1 << 21, fill: 0xff) else {
            Issue.record("REPORT failed")
            return
        }
        #expect(ones == [UInt8](repeating: 0xff, count: 8))
        #expect(try report(d, pageSize: 2048).errno == .EINVAL)
        #expect(try report(d, pageSize: 12288).errno == .EINVAL)
        #expect(try d.perform(.dmaLoggingStop) == .done)
        #expect(try report(d).errno == .EINVAL)
    }

    @Test func theCoreLimitsOfStart() {
        let w = Self.window
        let p: UInt64 = 4096
        #expect(DMALogCore.checkStart(pageSize: p, ranges: []) == .EINVAL)
        #expect(
            DMALogCore.checkStart(pageSize: p, ranges: (0...256).map { DMARange(iova: $0 * 2 * p, length: p) })
                == .E2BIG)
        #expect(
            DMALogCore.checkStart(pageSize: p, ranges: (0..<256).map { DMARange(iova: $0 * 2 * p, length: p) }) == nil)
        #expect(DMALogCore.checkStart(pageSize: p, ranges: [DMARange(iova: w.iova + 512, length: p)]) == .EINVAL)
        #expect(
            DMALogCore.checkStart(pageSize: p, ranges: [DMARange(iova: UInt64.max - p + 1, length: 2 * p)])
                == .EOVERFLOW)
        #expect(
            DMALogCore.checkStart(
                pageSize: p, ranges: [DMARange(iova: 0, length: 2 * p), DMARange(iova: p, length: p)]) == .EINVAL)
        #expect(
            DMALogCore.checkStart(pageSize: p, ranges: [DMARange(iova: 0, length: p), DMARange(iova: p, length: p)])
                == nil)
    }

    @Test func withoutLoggingTheRulesAreNotApplicableAndTheFeatureIsAbsent() throws {
        let device = ReferenceDeviceV2(.init(dmaLogging: false))
        #expect(
            try device.perform(
                .feature(flags: FeatureRequest.probe | FeatureRequest.get | DMALogging.report, payload: []))
                == .failed(.ENOTTY))
        let report = try TestSupport.run(TestSupport.v2, device)
        #expect(report.summary.conformant)
        let dma = report.cases.filter { $0.ruleID.hasPrefix("V2-DMA-LOG-") }
        #expect(dma.count == 10)
        #expect(
            dma.allSatisfy { $0.verdict == .notApplicable && $0.message.contains("dma-logging") },
            "\(dma.map(\.message))")
    }

    @Test func withLoggingEveryRuleRunsOnTheReference() throws {
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2())
        #expect(report.summary.conformant)
        let dma = report.cases.filter { $0.ruleID.hasPrefix("V2-DMA-LOG-") }
        #expect(
            dma.allSatisfy { $0.verdict == .pass || ($0.level == .may && $0.verdict == .info) },
            "\(dma.map { "\($0.id) \($0.verdict)" })")
        let machine = Machine(
            spec: TestSupport.v2, features: ["stop-copy", "p2p", "pre-copy", "data-size", "dma-logging"])
        #expect(dma.filter { $0.ruleID == "V2-DMA-LOG-SURVIVES-ARCS" }.count == machine.arcs.count)
        #expect(dma.contains { $0.id == "V2-DMA-LOG-CORE-LIMITS[overlap]" })
    }

    @Test func aStubbedLogIsCaughtByItsRuleOnly() throws {
        let report = try TestSupport.run(TestSupport.v2, FaultyDeviceV2(.dmaLogSecondStartAccepted))
        let failed = Set(report.cases.filter { $0.verdict == .fail }.map(\.ruleID))
        #expect(failed == ["V2-DMA-LOG-SECOND-START"])
        let c = try #require(report.cases.first { $0.ruleID == "V2-DMA-LOG-SECOND-START" })
        let lines = c.transcript.map { TranscriptFormatter.operation($0.operation) }
        #expect(
            lines.filter { $0.hasPrefix("dma-logging-start page_size=4096 ranges=[0x100000000+0x200000]") }.count == 2)
    }

    @Test func theAdapterCodecCarriesTheThreeOperations() throws {
        let ops: [DeviceOperation] = [
            .dmaLoggingStart(
                pageSize: 4096,
                ranges: [DMARange(iova: 1 << 32, length: 1 << 21), DMARange(iova: UInt64.max, length: 1)]),
            .dmaLoggingStop,
            .dmaLoggingReport(iova: 1 << 32, length: 1 << 21, pageSize: 8192, bitmap: [0xff, 0, 1, 2, 3, 4, 5, 6]),
        ]
        for op in ops {
            let line = AdapterCodec.encode(.operation(op), id: 7)
            let back = try AdapterCodec.decodeRequest(line)
            guard case .operation(let decoded) = back.request else {
                Issue.record("not an operation: \(line)")
                continue
            }
            #expect(decoded == op, "\(line)")
        }
        let tooMany =
            "{\"id\":1,\"op\":\"dma-logging-start\",\"page_size\":4096,\"ranges\":["
            + Array(repeating: "{\"iova\":0,\"length\":4096}", count: AdapterCodec.maxRanges + 1).joined(separator: ",")
            + "]}"
        #expect(throws: AdapterProtocolError.self) { try AdapterCodec.decodeRequest(tooMany) }
        #expect(throws: AdapterProtocolError.self) {
            try AdapterCodec.decodeRequest(
                "{\"id\":1,\"op\":\"dma-logging-report\",\"iova\":-1,\"length\":0,\"page_size\":4096,\"bitmap\":\"\"}")
        }
        let report = DeviceOperation.dmaLoggingReport(
            iova: 0, length: 1 << 21, pageSize: 4096, bitmap: [UInt8](repeating: 0, count: 64))
        #expect(AnswerJudge.problem(.bytes([UInt8](repeating: 0, count: 64)), for: report) == nil)
        #expect(AnswerJudge.problem(.bytes([UInt8](repeating: 0, count: 65)), for: report) != nil)
        #expect(AnswerJudge.problem(.value(4096), for: .dmaLoggingStart(pageSize: 4096, ranges: [])) == nil)
        #expect(
            AnswerJudge.problem(.done, for: .dmaLoggingReport(iova: 0, length: 0, pageSize: 4096, bitmap: [])) != nil)
    }

    @Test func theSpecRefusesAPageShiftOutOfRange() throws {
        let text = try String(contentsOfFile: TestSupport.specPath("v2"), encoding: .utf8)
            .replacingOccurrences(of: "\"page-shifts\": [12, 13, 16, 21]", with: "\"page-shifts\": [12, 11]")
        #expect(throws: (any Error).self) { try SpecLoader.load(data: Array(text.utf8), path: "bad.json") }
    }
}

/// A refused resume write is described by what the device answered, never by an errno it did not give.
@Suite struct WriteRefusalTests {
    @Test func aWriteThatTakesNothingIsNotCalledAnErrno() throws {
        let report = try TestSupport.run(TestSupport.v2, FaultyDeviceV2(.resumeWriteTakesNothing))
        let failed = report.cases.filter { $0.verdict == .fail }
        #expect(Set(failed.map(\.ruleID)).contains("V2-ROUND-TRIP"))
        for c in failed {
            let words = [c.message, c.actual ?? ""].joined(separator: " ")
            #expect(words.contains("0 bytes taken (no errno)"), "\(c.id): \(words)")
            #expect(!words.contains("EIO"), "\(c.id): \(words)")
        }
        // The transcript has the answer as it came: a write that returned 0.
        let trip = try #require(failed.first { $0.ruleID == "V2-ROUND-TRIP" })
        #expect(trip.transcript.contains { if case .value(0)? = $0.outcome { true } else { false } })
    }
}
