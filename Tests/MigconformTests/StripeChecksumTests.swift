import Testing

@testable import MigconformDevice

@Suite struct StripeChecksumTests {
    static let bytes: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 3) }

    static func value(_ bytes: [UInt8], pieces: [Int] = [], seed: UInt64 = 1) -> UInt64 {
        var sum = StripeChecksum(seed: seed)
        var at = 0
        var i = 0
        while at < bytes.count {
            let take = pieces.isEmpty ? bytes.count : min(pieces[i % pieces.count], bytes.count - at)
            sum.add(bytes[at..<at + take])
            at += take
            i += 1
        }
        return sum.value
    }

    @Test func theValueDoesNotDependOnHowTheBytesWereCut() {
        let whole = Self.value(Self.bytes)
        for pieces in [[1], [7], [63], [64], [65], [100, 3, 64, 1], [999]] {
            #expect(Self.value(Self.bytes, pieces: pieces) == whole, "pieces \(pieces)")
        }
    }

    @Test func everyChangedWordAndEveryLengthGivesAnotherValue() {
        let whole = Self.value(Self.bytes)
        for position in stride(from: 0, to: Self.bytes.count, by: 5) {
            for flip: UInt8 in [0x01, 0x80] {
                var damaged = Self.bytes
                damaged[position] ^= flip
                #expect(Self.value(damaged) != whole, "0x\(String(flip, radix: 16)) at byte \(position)")
            }
        }
        // A zero tail is not the same as no tail: the length is part of the value.
        #expect(Self.value(Self.bytes + [0]) != whole)
        #expect(Self.value(Array(Self.bytes.dropLast())) != whole)
        #expect(Self.value([]) != Self.value([0]))
    }

    @Test func movingDataChangesTheValue() {
        let whole = Self.value(Self.bytes)
        // Two whole stripes swapped, and two words swapped inside one stripe.
        var stripes = Self.bytes
        stripes.replaceSubrange(0..<64, with: Self.bytes[64..<128])
        stripes.replaceSubrange(64..<128, with: Self.bytes[0..<64])
        #expect(Self.value(stripes) != whole)
        var words = Self.bytes
        words.replaceSubrange(0..<8, with: Self.bytes[8..<16])
        words.replaceSubrange(8..<16, with: Self.bytes[0..<8])
        #expect(Self.value(words) != whole)
    }

    @Test func theSeedSeparatesTwoUses() {
        #expect(Self.value(Self.bytes, seed: 1) != Self.value(Self.bytes, seed: 2))
    }

    @Test(arguments: [0, 1, 63, 64, 65, 1000])
    func theVectorCodeComputesTheDocumentedSums(count: Int) {
        let bytes = Array(Self.bytes.prefix(count))
        #expect(Self.value(bytes, pieces: [37], seed: 5) == Self.scalar(bytes, seed: 5))
    }

    /// The checksum as its doc comment states it, one 64-bit word at a time.
    static func scalar(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        let k0: [UInt64] = [0x9FB2_1C65_1E98_DF25, 0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0]
        let k1: [UInt64] = [0x082E_FA98_EC4E_6C89, 0x4528_21E6_38D0_1377, 0xBE54_66CF_34E9_0C6C, 0xC0AC_29B7_C97C_50DD]
        var z = seed
        var lanes: [[UInt64]] = (0..<4).map { _ in
            (0..<4).map { _ in
                z &+= 0x9E37_79B9_7F4A_7C15
                return StripeChecksum.finish(z)
            }
        }
        var padded = bytes
        while padded.count % 64 != 0 { padded.append(0) }
        func word(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(padded[at + $1]) << (8 * $1) } }
        func product(_ d: UInt64) -> UInt64 { (d & 0xFFFF_FFFF) &* (d >> 32) }
        for stripe in stride(from: 0, to: padded.count, by: 64) {
            for i in 0..<4 {
                let w0 = word(stripe + 8 * i)
                let w1 = word(stripe + 32 + 8 * i)
                lanes[0][i] = lanes[0][i] &+ w1 &+ product(w0 ^ k0[i])
                lanes[1][i] = lanes[1][i] &+ w0 &+ product(w1 ^ k1[i])
                lanes[2][i] &+= lanes[0][i]
                lanes[3][i] &+= lanes[1][i]
            }
        }
        var h = StripeChecksum.finish(UInt64(bytes.count))
        for lane in lanes { for v in lane { h = StripeChecksum.finish(h ^ v) } }
        return StripeChecksum.finish(h)
    }
}
