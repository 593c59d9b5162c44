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
}
