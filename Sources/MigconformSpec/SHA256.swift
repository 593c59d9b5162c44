import CSHA256

/// SHA-256 (FIPS 180-4), self-contained so that spec and report hashes need nothing beyond the standard library.
/// Blocks are compressed by the processor's SHA extensions where it has them (the C target CSHA256, about three
/// and a half times faster: a report folder hashes about a megabyte), else by the portable rounds below.
///
/// One-shot: `SHA256.hex(bytes)`, or `data.withUnsafeBytes { SHA256.hex($0) }` to hash memory without copying it.
/// Incremental: `var h = SHA256(); h.update(part1); h.update(part2); let digest = h.finalize()` (32 bytes;
/// `SHA256.hexString(digest)` prints it).
package struct SHA256: Sendable {
    private typealias State = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    private var state: State = (
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    )
    /// Bytes not yet forming a whole 64-byte block: the first `buffered` bytes of this inline block.
    private var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var buffered = 0
    /// Total number of bytes fed in.
    private var length: UInt64 = 0
    /// Compress on the SHA extensions.
    private let accelerated: Bool

    /// Whether this processor has the SHA extensions (asked once).
    package static let acceleration = csha256_accelerated() == 1

    /// A hasher; `accelerated: false` keeps to the portable rounds (a test compares the two).
    package init(accelerated: Bool = SHA256.acceleration) { self.accelerated = accelerated && Self.acceleration }

    /// The lowercase hex SHA-256 of `bytes`.
    package static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex($0) }
    }

    /// The lowercase hex SHA-256 of the bytes in raw memory (a `Data`'s `withUnsafeBytes`, without a copy).
    package static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hexString(hasher.finalize())
    }

    /// The 32-byte SHA-256 of `bytes`.
    package static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Lowercase hex of any byte string.
    package static func hexString(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for byte in bytes {
                out[i] = hexDigit(byte >> 4)
                out[i + 1] = hexDigit(byte & 0x0f)
                i += 2
            }
            return i
        }
    }

    @inline(__always) private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &+ (UInt8(ascii: "a") &- 10)
    }

    /// Feeds more bytes.
    package mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds more bytes from raw memory.
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var next = bytes.baseAddress, bytes.count > 0 else { return }
        var remaining = bytes.count
        length &+= UInt64(remaining)
        let fast = accelerated
        var st = state
        if buffered > 0 {
            let take = min(64 - buffered, remaining)
            let start = buffered
            withUnsafeMutableBytes(of: &buffer) { block in
                block.baseAddress!.advanced(by: start).copyMemory(from: next, byteCount: take)
            }
            buffered += take
            next += take
            remaining -= take
            guard buffered == 64 else { return }
            withUnsafeBytes(of: &buffer) { Self.compress(&st, $0.baseAddress!, blocks: 1, accelerated: fast) }
            buffered = 0
        }
        let whole = remaining / 64
        if whole > 0 {
            Self.compress(&st, next, blocks: whole, accelerated: fast)
            next += whole * 64
            remaining -= whole * 64
        }
        state = st
        if remaining > 0 {
            withUnsafeMutableBytes(of: &buffer) { block in
                block.baseAddress!.copyMemory(from: next, byteCount: remaining)
            }
            buffered = remaining
        }
    }

    /// Pads, processes the last block(s) and returns the 32-byte digest. The hasher should not be used afterwards.
    package mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        let fast = accelerated
        var st = state
        let used = buffered
        withUnsafeMutableBytes(of: &buffer) { block in
            block[used] = 0x80
            if used >= 56 {
                for i in (used + 1)..<64 { block[i] = 0 }
                Self.compress(&st, UnsafeRawPointer(block.baseAddress!), blocks: 1, accelerated: fast)
                for i in 0..<56 { block[i] = 0 }
            } else {
                for i in (used + 1)..<56 { block[i] = 0 }
            }
            block.storeBytes(of: bitLength.bigEndian, toByteOffset: 56, as: UInt64.self)
            Self.compress(&st, UnsafeRawPointer(block.baseAddress!), blocks: 1, accelerated: fast)
        }
        state = st
        buffered = 0
        let words = (
            st.0.bigEndian, st.1.bigEndian, st.2.bigEndian, st.3.bigEndian,
            st.4.bigEndian, st.5.bigEndian, st.6.bigEndian, st.7.bigEndian
        )
        return withUnsafeBytes(of: words) { [UInt8]($0) }
    }

    /// Compresses whole blocks on the SHA extensions or by the portable rounds.
    private static func compress(_ state: inout State, _ data: UnsafeRawPointer, blocks: Int, accelerated: Bool) {
        guard accelerated else { return compress(&state, data, blocks: blocks) }
        withUnsafeMutablePointer(to: &state) {
            $0.withMemoryRebound(to: UInt32.self, capacity: 8) {
                csha256_compress_blocks($0, data.assumingMemoryBound(to: UInt8.self), blocks)
            }
        }
    }

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// One round (FIPS 180-4, 6.2.2 step 3) with the working variables renamed instead of moved: the caller passes
    /// them in the order a...h, and the round writes the new e into `d` and the new a into `h`. `kw` is K[t] + W[t].
    ///
    /// Each big sigma nests its rotations, ROTR^6(e ^ ROTR^5(e ^ ROTR^14(e))) for ROTR^6 ^ ROTR^11 ^ ROTR^25, so that
    /// one copy of the word is rotated instead of three. Maj(a, b, c) is b ^ ((a ^ b) & (b ^ c)), and b ^ c is the
    /// previous round's a ^ b: `bc` carries it from round to round.
    /// T1 sums h + K[t] + W[t] first (h is the e of three rounds before): so grouped, the constant is added once
    /// rather than once for each of T1's two uses.
    @inline(__always) private static func round(
        _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
        _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ bc: inout UInt32, _ kw: UInt32
    ) {
        let sigma1 = rotr(rotr(rotr(e, 14) ^ e, 5) ^ e, 6)
        let choose = g ^ (e & (f ^ g))
        let t1 = sigma1 &+ (choose &+ (h &+ kw))
        let sigma0 = rotr(rotr(rotr(a, 9) ^ a, 11) ^ a, 2)
        let ab = a ^ b
        let majority = b ^ (ab & bc)
        bc = ab
        d = d &+ t1
        h = t1 &+ sigma0 &+ majority
    }

    /// The message schedule (FIPS 180-4, 6.2.2 step 1) over a rolling window of 16 words: W[t] replaces W[t - 16]
    /// in place, from W[t - 2], W[t - 7] and W[t - 15]. The small sigmas nest their rotations as the big ones do.
    @inline(__always) private static func expand(_ w: inout UInt32, _ w2: UInt32, _ w7: UInt32, _ w15: UInt32) {
        let s0 = rotr(rotr(w15, 11) ^ w15, 7) ^ (w15 >> 3)
        let s1 = rotr(rotr(w2, 2) ^ w2, 17) ^ (w2 >> 10)
        w = w &+ s0 &+ w7 &+ s1
    }

    /// Processes `blocks` whole 64-byte blocks from `data`, in order (a report folder hashes about a megabyte per
    /// run). The 64 rounds are written out, eight at a time with the variables' roles rotating so that no value is
    /// moved between rounds; the constants K are literals; the schedule is a rolling window of 16 local words.
    private static func compress(_ state: inout State, _ data: UnsafeRawPointer, blocks: Int) {
        var (a, b, c, d, e, f, g, h) = state
        var block = data
        for _ in 0..<blocks {
            let p = block
            @inline(__always) func load(_ i: Int) -> UInt32 {
                UInt32(bigEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
            }
            var w0 = load(0)
            var w1 = load(1)
            var w2 = load(2)
            var w3 = load(3)
            var w4 = load(4)
            var w5 = load(5)
            var w6 = load(6)
            var w7 = load(7)
            var w8 = load(8)
            var w9 = load(9)
            var w10 = load(10)
            var w11 = load(11)
            var w12 = load(12)
            var w13 = load(13)
            var w14 = load(14)
            var w15 = load(15)
            var bc = b ^ c
            round(a, b, c, &d, e, f, g, &h, &bc, 0x428a2f98 &+ w0)
            round(h, a, b, &c, d, e, f, &g, &bc, 0x71374491 &+ w1)
            round(g, h, a, &b, c, d, e, &f, &bc, 0xb5c0fbcf &+ w2)
            round(f, g, h, &a, b, c, d, &e, &bc, 0xe9b5dba5 &+ w3)
            round(e, f, g, &h, a, b, c, &d, &bc, 0x3956c25b &+ w4)
            round(d, e, f, &g, h, a, b, &c, &bc, 0x59f111f1 &+ w5)
            round(c, d, e, &f, g, h, a, &b, &bc, 0x923f82a4 &+ w6)
            round(b, c, d, &e, f, g, h, &a, &bc, 0xab1c5ed5 &+ w7)
            round(a, b, c, &d, e, f, g, &h, &bc, 0xd807aa98 &+ w8)
            round(h, a, b, &c, d, e, f, &g, &bc, 0x12835b01 &+ w9)
            round(g, h, a, &b, c, d, e, &f, &bc, 0x243185be &+ w10)
            round(f, g, h, &a, b, c, d, &e, &bc, 0x550c7dc3 &+ w11)
            round(e, f, g, &h, a, b, c, &d, &bc, 0x72be5d74 &+ w12)
            round(d, e, f, &g, h, a, b, &c, &bc, 0x80deb1fe &+ w13)
            round(c, d, e, &f, g, h, a, &b, &bc, 0x9bdc06a7 &+ w14)
            round(b, c, d, &e, f, g, h, &a, &bc, 0xc19bf174 &+ w15)
            expand(&w0, w14, w9, w1)
            round(a, b, c, &d, e, f, g, &h, &bc, 0xe49b69c1 &+ w0)
            expand(&w1, w15, w10, w2)
            round(h, a, b, &c, d, e, f, &g, &bc, 0xefbe4786 &+ w1)
            expand(&w2, w0, w11, w3)
            round(g, h, a, &b, c, d, e, &f, &bc, 0x0fc19dc6 &+ w2)
            expand(&w3, w1, w12, w4)
            round(f, g, h, &a, b, c, d, &e, &bc, 0x240ca1cc &+ w3)
            expand(&w4, w2, w13, w5)
            round(e, f, g, &h, a, b, c, &d, &bc, 0x2de92c6f &+ w4)
            expand(&w5, w3, w14, w6)
            round(d, e, f, &g, h, a, b, &c, &bc, 0x4a7484aa &+ w5)
            expand(&w6, w4, w15, w7)
            round(c, d, e, &f, g, h, a, &b, &bc, 0x5cb0a9dc &+ w6)
            expand(&w7, w5, w0, w8)
            round(b, c, d, &e, f, g, h, &a, &bc, 0x76f988da &+ w7)
            expand(&w8, w6, w1, w9)
            round(a, b, c, &d, e, f, g, &h, &bc, 0x983e5152 &+ w8)
            expand(&w9, w7, w2, w10)
            round(h, a, b, &c, d, e, f, &g, &bc, 0xa831c66d &+ w9)
            expand(&w10, w8, w3, w11)
            round(g, h, a, &b, c, d, e, &f, &bc, 0xb00327c8 &+ w10)
            expand(&w11, w9, w4, w12)
            round(f, g, h, &a, b, c, d, &e, &bc, 0xbf597fc7 &+ w11)
            expand(&w12, w10, w5, w13)
            round(e, f, g, &h, a, b, c, &d, &bc, 0xc6e00bf3 &+ w12)
            expand(&w13, w11, w6, w14)
            round(d, e, f, &g, h, a, b, &c, &bc, 0xd5a79147 &+ w13)
            expand(&w14, w12, w7, w15)
            round(c, d, e, &f, g, h, a, &b, &bc, 0x06ca6351 &+ w14)
            expand(&w15, w13, w8, w0)
            round(b, c, d, &e, f, g, h, &a, &bc, 0x14292967 &+ w15)
            expand(&w0, w14, w9, w1)
            round(a, b, c, &d, e, f, g, &h, &bc, 0x27b70a85 &+ w0)
            expand(&w1, w15, w10, w2)
            round(h, a, b, &c, d, e, f, &g, &bc, 0x2e1b2138 &+ w1)
            expand(&w2, w0, w11, w3)
            round(g, h, a, &b, c, d, e, &f, &bc, 0x4d2c6dfc &+ w2)
            expand(&w3, w1, w12, w4)
            round(f, g, h, &a, b, c, d, &e, &bc, 0x53380d13 &+ w3)
            expand(&w4, w2, w13, w5)
            round(e, f, g, &h, a, b, c, &d, &bc, 0x650a7354 &+ w4)
            expand(&w5, w3, w14, w6)
            round(d, e, f, &g, h, a, b, &c, &bc, 0x766a0abb &+ w5)
            expand(&w6, w4, w15, w7)
            round(c, d, e, &f, g, h, a, &b, &bc, 0x81c2c92e &+ w6)
            expand(&w7, w5, w0, w8)
            round(b, c, d, &e, f, g, h, &a, &bc, 0x92722c85 &+ w7)
            expand(&w8, w6, w1, w9)
            round(a, b, c, &d, e, f, g, &h, &bc, 0xa2bfe8a1 &+ w8)
            expand(&w9, w7, w2, w10)
            round(h, a, b, &c, d, e, f, &g, &bc, 0xa81a664b &+ w9)
            expand(&w10, w8, w3, w11)
            round(g, h, a, &b, c, d, e, &f, &bc, 0xc24b8b70 &+ w10)
            expand(&w11, w9, w4, w12)
            round(f, g, h, &a, b, c, d, &e, &bc, 0xc76c51a3 &+ w11)
            expand(&w12, w10, w5, w13)
            round(e, f, g, &h, a, b, c, &d, &bc, 0xd192e819 &+ w12)
            expand(&w13, w11, w6, w14)
            round(d, e, f, &g, h, a, b, &c, &bc, 0xd6990624 &+ w13)
            expand(&w14, w12, w7, w15)
            round(c, d, e, &f, g, h, a, &b, &bc, 0xf40e3585 &+ w14)
            expand(&w15, w13, w8, w0)
            round(b, c, d, &e, f, g, h, &a, &bc, 0x106aa070 &+ w15)
            expand(&w0, w14, w9, w1)
            round(a, b, c, &d, e, f, g, &h, &bc, 0x19a4c116 &+ w0)
            expand(&w1, w15, w10, w2)
            round(h, a, b, &c, d, e, f, &g, &bc, 0x1e376c08 &+ w1)
            expand(&w2, w0, w11, w3)
            round(g, h, a, &b, c, d, e, &f, &bc, 0x2748774c &+ w2)
            expand(&w3, w1, w12, w4)
            round(f, g, h, &a, b, c, d, &e, &bc, 0x34b0bcb5 &+ w3)
            expand(&w4, w2, w13, w5)
            round(e, f, g, &h, a, b, c, &d, &bc, 0x391c0cb3 &+ w4)
            expand(&w5, w3, w14, w6)
            round(d, e, f, &g, h, a, b, &c, &bc, 0x4ed8aa4a &+ w5)
            expand(&w6, w4, w15, w7)
            round(c, d, e, &f, g, h, a, &b, &bc, 0x5b9cca4f &+ w6)
            expand(&w7, w5, w0, w8)
            round(b, c, d, &e, f, g, h, &a, &bc, 0x682e6ff3 &+ w7)
            expand(&w8, w6, w1, w9)
            round(a, b, c, &d, e, f, g, &h, &bc, 0x748f82ee &+ w8)
            expand(&w9, w7, w2, w10)
            round(h, a, b, &c, d, e, f, &g, &bc, 0x78a5636f &+ w9)
            expand(&w10, w8, w3, w11)
            round(g, h, a, &b, c, d, e, &f, &bc, 0x84c87814 &+ w10)
            expand(&w11, w9, w4, w12)
            round(f, g, h, &a, b, c, d, &e, &bc, 0x8cc70208 &+ w11)
            expand(&w12, w10, w5, w13)
            round(e, f, g, &h, a, b, c, &d, &bc, 0x90befffa &+ w12)
            expand(&w13, w11, w6, w14)
            round(d, e, f, &g, h, a, b, &c, &bc, 0xa4506ceb &+ w13)
            expand(&w14, w12, w7, w15)
            round(c, d, e, &f, g, h, a, &b, &bc, 0xbef9a3f7 &+ w14)
            expand(&w15, w13, w8, w0)
            round(b, c, d, &e, f, g, h, &a, &bc, 0xc67178f2 &+ w15)
            a = a &+ state.0
            b = b &+ state.1
            c = c &+ state.2
            d = d &+ state.3
            e = e &+ state.4
            f = f &+ state.5
            g = g &+ state.6
            h = h &+ state.7
            state = (a, b, c, d, e, f, g, h)
            block += 64
        }
    }
}
