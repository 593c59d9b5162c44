import Foundation
import MigconformCases
import MigconformPlan
import MigconformReference
import MigconformSpec
import Testing

@testable import MigconformRun

/// A run moves what its cases need (``TransferNeed``) and no more: each case at most its own need (the first case
/// that asks for the shared stream also saves it and proves it loads), the whole run at most 1.1 times the sum.
@Suite struct TransferNeedTests {
    @Test func everyCaseMovesAtMostItsNeed() throws {
        let size: UInt64 = 1 << 20
        let report = try TestSupport.run(
            TestSupport.v2, ReferenceDeviceV2(.init(stateSize: size)), target: "ref:v2?state-size=1MiB")
        #expect(report.summary.conformant)
        let stream = ReferenceStream.length(payloadSize: size)
        let precopy = UInt64(ReferenceStream.headerSize) + size / 2
        let account = TransferAccount(report, spec: TestSupport.v2)
        #expect(account.lines.count == report.cases.count)
        let shared = TransferNeed.shared.bytes(stream: stream, precopy: precopy)
        var over: [String] = []
        var paidShared = 0
        var read: UInt64 = 0
        var written: UInt64 = 0
        for line in account.lines {
            read += line.read
            written += line.written
            // Probes of a few bytes (a session's fd read or written once) are no transfer of the state.
            let probes: UInt64 = 16 << 10
            var need = line.need.bytes(stream: stream, precopy: precopy)
            need = (need.read + probes, need.written + probes)
            guard line.read > need.read || line.written > need.written else { continue }
            if line.need.sharesStream, paidShared == 0, line.read <= need.read + shared.read,
                line.written <= need.written + shared.written
            {
                paidShared += 1
                continue
            }
            over.append("\(line.id): read \(line.read) written \(line.written), needs \(need)")
        }
        #expect(over.isEmpty, "\(over)")
        let minimum = account.minimum.bytes(stream: stream, precopy: precopy)
        let least = Double(minimum.read + minimum.written)
        #expect(Double(read + written) <= 1.1 * least, "moved \(read + written), minimum \(least)")
        // The spec's cases at this size: about 10 states read and 50 written.
        #expect(least > 40 * Double(stream))
    }

    @Test func damagedViewsLeaveTheSharedStreamAlone() throws {
        let stream = SavedStream(Array(0..<64) as [UInt8])
        stream.label = "the saved stream (64 bytes)"
        for damage in ResumeDamagedCheck.Damage.allCases {
            let (damaged, _) = try StreamChecks.damage(stream, damage)
            _ = try damaged.bytes()
        }
        #expect(try stream.bytes() == Array(0..<64))
        #expect(stream.label == "the saved stream (64 bytes)")
        let (corrupt, _) = try StreamChecks.damage(stream, .corrupt)
        var expected = Array(0..<64) as [UInt8]
        for i in 32..<36 { expected[i] ^= 0xff }
        #expect(try corrupt.bytes() == expected)
        #expect(try corrupt.read(at: 30, count: 4) == Array(expected[30..<34]))
        let (cut, _) = try StreamChecks.damage(stream, .truncate)
        #expect(cut.count == 32)
        #expect(try cut.bytes() == Array(0..<32))
    }
}
