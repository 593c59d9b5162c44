/// A running 64-bit checksum over a byte sequence fed in pieces of any size, fast enough to be near free beside
/// a memory copy: the stream is cut into 64-byte stripes of eight little-endian words, and the words feed two
/// vectors of four 64-bit lanes with only additions and 32-by-32-bit multiplies, which the processor's vector
/// unit does several at a time.
///
/// Per stripe, with `w0` its first four words and `w1` its last four, `k0` and `k1` fixed keys:
/// `a += w1 + lo(w0 ^ k0) * hi(w0 ^ k0)`, `b += w0 + lo(w1 ^ k1) * hi(w1 ^ k1)`, then `t += a`, `u += b`.
/// Every word reaches a sum unmixed (a change to one word changes `a` or `b` by exactly that difference), and
/// `t` and `u` weigh each stripe by its distance from the end, so moving data changes the value too. The value
/// mixes all lanes with the length; a tail of under 64 bytes is held until more bytes come or the value is
/// read, so the value does not depend on how the bytes were cut into pieces.
package struct StripeChecksum: Sendable {
    static let stripe = 64
    private var a: SIMD4<UInt64>
    private var b: SIMD4<UInt64>
    private var t: SIMD4<UInt64>
    private var u: SIMD4<UInt64>
    /// Bytes waiting for a whole stripe (always fewer than 64).
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    private static let k0 = SIMD4<UInt64>(
        0x9FB2_1C65_1E98_DF25, 0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0)
    private static let k1 = SIMD4<UInt64>(
        0x082E_FA98_EC4E_6C89, 0x4528_21E6_38D0_1377, 0xBE54_66CF_34E9_0C6C, 0xC0AC_29B7_C97C_50DD)

    /// A checksum whose lanes start from `seed`: two seeds give unrelated values for the same bytes.
    package init(seed: UInt64) {
        var z = seed
        func next() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            return Self.finish(z)
        }
        a = SIMD4(next(), next(), next(), next())
        b = SIMD4(next(), next(), next(), next())
        t = SIMD4(next(), next(), next(), next())
        u = SIMD4(next(), next(), next(), next())
    }

    package mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }
    package mutating func add(_ bytes: ArraySlice<UInt8>) { bytes.withUnsafeBytes { add($0) } }

    package mutating func add(_ buffer: UnsafeRawBufferPointer) {
        guard buffer.count > 0, let base = buffer.baseAddress else { return }
        length &+= UInt64(buffer.count)
        var at = 0
        if !pending.isEmpty {
            at = min(Self.stripe - pending.count, buffer.count)
            pending += UnsafeRawBufferPointer(start: base, count: at)
            guard pending.count == Self.stripe else { return }
            pending.withUnsafeBytes { stripes($0.baseAddress!, count: 1) }
            pending.removeAll(keepingCapacity: true)
        }
        let whole = (buffer.count - at) / Self.stripe
        stripes(base + at, count: whole)
        at += whole * Self.stripe
        if at < buffer.count { pending += UnsafeRawBufferPointer(start: base + at, count: buffer.count - at) }
    }

    private mutating func stripes(_ p: UnsafeRawPointer, count: Int) {
        let low = SIMD4<UInt64>(repeating: 0xFFFF_FFFF)
        let (k0, k1) = (Self.k0, Self.k1)
        var (a, b, t, u) = (self.a, self.b, self.t, self.u)
        var p = p
        for _ in 0..<count {
            let w0 = SIMD4<UInt64>(littleEndian: p.loadUnaligned(as: SIMD4<UInt64>.self))
            let w1 = SIMD4<UInt64>(littleEndian: p.loadUnaligned(fromByteOffset: 32, as: SIMD4<UInt64>.self))
            let d0 = w0 ^ k0
            let d1 = w1 ^ k1
            a = a &+ w1 &+ (d0 & low) &* (d0 &>> 32)
            b = b &+ w0 &+ (d1 & low) &* (d1 &>> 32)
            t = t &+ a
            u = u &+ b
            p += Self.stripe
        }
        (self.a, self.b, self.t, self.u) = (a, b, t, u)
    }

    /// The checksum of every byte added so far: the tail zero-padded into a stripe, the length mixed in.
    package var value: UInt64 {
        var copy = self
        if !pending.isEmpty {
            var tail = pending
            tail += [UInt8](repeating: 0, count: Self.stripe - tail.count)
            tail.withUnsafeBytes { copy.stripes($0.baseAddress!, count: 1) }
        }
        var h = Self.finish(length)
        for lanes in [copy.a, copy.b, copy.t, copy.u] {
            for i in 0..<4 { h = Self.finish(h ^ lanes[i]) }
        }
        return Self.finish(h)
    }

    /// SplitMix64's finaliser: a bijection of 64-bit values that spreads every input bit over the output.
    static func finish(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SIMD4 where Scalar == UInt64 {
    /// Lanes read from little-endian memory.
    @inline(__always) init(littleEndian v: SIMD4<UInt64>) {
        #if _endian(little)
            self = v
        #else
            self.init(v[0].byteSwapped, v[1].byteSwapped, v[2].byteSwapped, v[3].byteSwapped)
        #endif
    }
}
