import MigconformRun
import Testing

@testable import MigconformDevice
@testable import MigconformReference

@Suite struct ReferenceStreamTests {
    @Test func aStreamReadsBackIntact() {
        var w = StreamWriter(payloadSize: 4096, seed: 7)
        var bytes: [UInt8] = []
        while w.remaining > 0 { bytes += w.next(1000) }
        #expect(UInt64(bytes.count) == ReferenceStream.length(payloadSize: 4096))
        var r = StreamReader()
        let accepted = r.accept(bytes)
        #expect(accepted)
        #expect(r.verdict() == nil)
    }

    @Test func aHeaderDeclaringAnyLengthIsJudgedNotTrapped() {
        var writer = StreamWriter(payloadSize: 4096, seed: 7)
        var header = writer.next(16)
        for i in 8..<16 { header[i] = 0xFF } // a payload of 2^64 - 1 bytes
        var r = StreamReader()
        #expect(r.accept(header) && r.accept([UInt8](repeating: 0, count: 64)))
        #expect(r.verdict() != nil)
        #expect(ReferenceStream.length(payloadSize: .max) == .max)
    }

    @Test("states smaller than the stream's header run end to end", arguments: [0, 1, 8, 15, 16, 17] as [UInt64])
    func tinyStates(_ size: UInt64) throws {
        let report = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(.init(stateSize: size)))
        #expect(report.summary.conformant, "state size \(size)")
    }
}
