import Foundation
import MigconformDevice
import Synchronization

/// The reference devices' migration stream: opaque to the user, but self-checking so that a truncated,
/// corrupted or overlong stream is caught on resume.
///
/// Layout: a 24-byte header (`MCRF`, format version, payload length, a seed), the payload (the device's internal
/// state, generated on the fly so that gigabytes cost no memory), and an 8-byte checksum of everything before it
/// (``StreamChecksum``). Version 2 of the format changed the checksum function, to one that runs word-wise; version 3
/// the payload pattern, to one written from a table (``PayloadPattern``); version 4 the checksum again, to one that
/// runs on vectors of words (``StripeChecksum``).
package enum ReferenceStream {
    package static let magic: [UInt8] = Array("MCRF".utf8)
    package static let version: UInt32 = 4
    package static let headerSize = 24
    package static let trailerSize = 8

    /// Total stream length for a payload of `payloadSize` bytes.
    /// Saturates at `UInt64.max`: a damaged header may declare any size.
    package static func length(payloadSize: UInt64) -> UInt64 {
        let (sum, over) = payloadSize.addingReportingOverflow(UInt64(headerSize + trailerSize))
        return over ? .max : sum
    }

    static func header(payloadSize: UInt64, seed: UInt64) -> [UInt8] {
        var h = magic
        h += le(UInt64(version)).prefix(4)
        h += le(payloadSize)
        h += le(seed)
        return h
    }

    static func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func readLE(_ b: ArraySlice<UInt8>) -> UInt64 {
        var v: UInt64 = 0
        for (i, byte) in b.enumerated() { v |= UInt64(byte) << (8 * i) }
        return v
    }

    /// The payload word at `wordIndex` (payload bytes `8 * wordIndex ..< 8 * wordIndex + 8`, little-endian) for a
    /// device seeded with `seed`: a cheap, position-addressable pattern. The payload is cut into blocks of
    /// ``PayloadPattern/blockWords`` words; a word is the mix of its place in the block xor the mix of its block,
    /// so a writer fills a block from a small table and one key (``PayloadPattern``), and no two blocks are alike.
    static func payloadWord(_ wordIndex: UInt64, seed: UInt64) -> UInt64 {
        PayloadPattern.mix(wordIndex & UInt64(PayloadPattern.blockWords - 1), seed)
            ^ PayloadPattern.blockKey(wordIndex / UInt64(PayloadPattern.blockWords), seed)
    }
}

/// The payload words of one seed, produced at memory speed: a table of one block's word mixes, xored with
/// each block's key (see ``ReferenceStream/payloadWord(_:seed:)``).
struct PayloadPattern: Sendable {
    /// Words per block: the table is 16 KiB, so it stays in the processor's first-level cache while a block is
    /// written.
    static let blockWords = 2048
    let seed: UInt64
    private let table: [UInt64]

    init(seed: UInt64) {
        self.seed = seed
        table = (0..<UInt64(Self.blockWords)).map { Self.mix($0, seed) }
    }

    /// The pattern of `seed`, built once per process and seed (a device opens many save sessions).
    static func shared(seed: UInt64) -> PayloadPattern {
        cache.withLock { cache in
            if let p = cache[seed] { return p }
            let p = PayloadPattern(seed: seed)
            if cache.count > 64 { cache.removeAll() }
            cache[seed] = p
            return p
        }
    }
    private static let cache = Mutex<[UInt64: PayloadPattern]>([:])

    /// SplitMix64's finaliser of `index` under `seed`.
    @inline(__always)
    static func mix(_ index: UInt64, _ seed: UInt64) -> UInt64 {
        var z = index &+ seed &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The key of block `block`: a different mix from the in-block one, so block keys and table words do not
    /// cancel.
    static func blockKey(_ block: UInt64, _ seed: UInt64) -> UInt64 {
        mix(~block, seed ^ 0x5851_F42D_4C95_7F2D)
    }

    /// Stores payload words `first ..< first + count` at `out` (whole, little-endian words).
    func words(into out: UnsafeMutableRawPointer, first: UInt64, count: Int) {
        table.withUnsafeBufferPointer { t in
            var word = first
            var at = 0
            let end = first + UInt64(count)
            while word < end {
                let block = word / UInt64(Self.blockWords)
                let key = Self.blockKey(block, seed)
                let blockEnd = min(end, (block + 1) * UInt64(Self.blockWords))
                var j = Int(word % UInt64(Self.blockWords))
                let stop = j + Int(blockEnd - word)
                while j < stop {
                    (out + at).storeBytes(of: (t[j] ^ key).littleEndian, as: UInt64.self)
                    j += 1
                    at += 8
                }
                word = blockEnd
            }
        }
    }

    /// The payload word at `wordIndex`.
    func word(_ wordIndex: UInt64) -> UInt64 {
        table[Int(wordIndex % UInt64(Self.blockWords))] ^ Self.blockKey(wordIndex / UInt64(Self.blockWords), seed)
    }
}

/// The stream's trailer checksum: a ``StripeChecksum`` with the stream's own seed, fed the header and the
/// payload in pieces of any size.
struct StreamChecksum {
    private var sum = StripeChecksum(seed: 0x4D43_5246_0000_0004)

    mutating func add(_ buffer: UnsafeRawBufferPointer) { sum.add(buffer) }

    /// The checksum of every byte added so far.
    var value: UInt64 { sum.value }
}

/// Produces the save stream of a reference device, sequentially, a whole word of payload at a time.
struct StreamWriter {
    let payloadSize: UInt64
    let seed: UInt64
    /// Writes a wrong checksum (for the fault catalogue: a device that cannot load its own stream).
    let garble: Bool
    /// Xored into the last 8 payload bytes, little-endian (for the fault catalogue: a device that counts its saves
    /// in its state); the checksum covers the result, so the stream still loads.
    let stamp: UInt64
    private(set) var offset: UInt64 = 0
    private var checksum = StreamChecksum()
    private let header: [UInt8]
    private let pattern: PayloadPattern
    /// The trailer, fixed once the last payload byte has been produced.
    private var trailer: [UInt8]?

    init(payloadSize: UInt64, seed: UInt64, garble: Bool = false, stamp: UInt64 = 0) {
        self.payloadSize = payloadSize
        self.seed = seed
        self.garble = garble
        self.stamp = stamp
        self.header = ReferenceStream.header(payloadSize: payloadSize, seed: seed)
        self.pattern = PayloadPattern.shared(seed: seed)
    }

    /// Payload is produced and checksummed in slices this big, so the checksum reads each slice while it is
    /// still in the processor's cache.
    static let slice = 16 << 10

    var total: UInt64 { ReferenceStream.length(payloadSize: payloadSize) }
    var remaining: UInt64 { total - offset }

    /// The next `count` bytes (fewer at the end of the stream).
    mutating func next(_ count: Int) -> [UInt8] {
        let n = Int(min(UInt64(max(0, count)), remaining))
        guard n > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = n
        }
    }

    /// Fills `out` with the next `out.count` bytes of the stream (the caller keeps within ``remaining``).
    mutating func fill(_ out: UnsafeMutableRawBufferPointer) {
        let n = out.count
        let headerEnd = UInt64(ReferenceStream.headerSize)
        let payloadEnd = headerEnd + payloadSize
        var at = 0
        while at < n {
            if offset < headerEnd {
                let take = min(Int(headerEnd - offset), n - at)
                header.withUnsafeBytes { h in
                    (out.baseAddress! + at).copyMemory(from: h.baseAddress! + Int(offset), byteCount: take)
                }
                checksum.add(UnsafeRawBufferPointer(start: out.baseAddress! + at, count: take))
                at += take
                offset += UInt64(take)
            } else if offset < payloadEnd {
                let take = Int(min(payloadEnd - offset, UInt64(n - at), UInt64(Self.slice)))
                let region = UnsafeMutableRawBufferPointer(start: out.baseAddress! + at, count: take)
                ReferenceStream.payload(into: region, at: offset - headerEnd, pattern: pattern)
                if stamp != 0 { applyStamp(region, at: offset - headerEnd) }
                checksum.add(UnsafeRawBufferPointer(region))
                at += take
                offset += UInt64(take)
            } else {
                if trailer == nil { trailer = ReferenceStream.le(garble ? ~checksum.value : checksum.value) }
                let i = Int(offset - payloadEnd)
                let take = min(ReferenceStream.trailerSize - i, n - at)
                for k in 0..<take { out[at + k] = trailer![i + k] }
                at += take
                offset += UInt64(take)
            }
        }
    }
}

extension StreamWriter {
    /// Xors ``stamp`` into the bytes of `region` (payload position `position` on) that fall in the last 8 payload
    /// bytes.
    fileprivate func applyStamp(_ region: UnsafeMutableRawBufferPointer, at position: UInt64) {
        let from = payloadSize - min(payloadSize, 8)
        let end = position + UInt64(region.count)
        guard end > from else { return }
        for p in max(position, from)..<end {
            region[Int(p - position)] ^= UInt8(truncatingIfNeeded: stamp >> (8 * (p - from)))
        }
    }
}

extension ReferenceStream {
    /// Writes the payload bytes starting at payload position `position` into `out`: whole words stored at once,
    /// bytes one at a time only where the region starts or ends inside a word.
    static func payload(into out: UnsafeMutableRawBufferPointer, at position: UInt64, pattern: PayloadPattern) {
        guard let base = out.baseAddress, out.count > 0 else { return }
        var pos = position
        let end = position + UInt64(out.count)
        var at = 0
        // Leading bytes up to a word boundary.
        while pos < end && pos % 8 != 0 {
            base.storeBytes(
                of: UInt8(truncatingIfNeeded: pattern.word(pos / 8) >> ((pos % 8) * 8)),
                toByteOffset: at, as: UInt8.self)
            pos += 1
            at += 1
        }
        // Whole words.
        let words = (end - pos) / 8
        pattern.words(into: base + at, first: pos / 8, count: Int(words))
        at += Int(words) * 8
        pos += words * 8
        // Trailing bytes of a last, partial word.
        if pos < end {
            let last = pattern.word(pos / 8)
            while pos < end {
                base.storeBytes(
                    of: UInt8(truncatingIfNeeded: last >> ((pos % 8) * 8)), toByteOffset: at, as: UInt8.self)
                pos += 1
                at += 1
            }
        }
    }
}

/// Consumes a resume stream and judges it at the end. The payload is checksummed in bulk as it arrives; only the
/// 24-byte header and the 8-byte trailer are looked at byte by byte.
struct StreamReader {
    /// Where the payload a header declares ends, saturating (a damaged header may declare any size).
    static func payloadEnd(_ payloadSize: UInt64?) -> UInt64 {
        let (sum, over) = (payloadSize ?? 0).addingReportingOverflow(UInt64(ReferenceStream.headerSize))
        return over ? .max : sum
    }

    enum Problem: Equatable { case badHeader, overlong, checksum, truncated }
    private var header: [UInt8] = []
    private var payloadSize: UInt64?
    private var received: UInt64 = 0
    private var checksum = StreamChecksum()
    private var trailer: [UInt8] = []
    private(set) var problem: Problem?
    /// The payload size of the device that reads the stream: a stream declaring another size comes from a device
    /// of another configuration, which this one cannot load (nil: any size).
    var expectedPayloadSize: UInt64?

    /// Accepts `bytes`; returns false (consuming nothing) when they would run past the end the header declared.
    mutating func accept(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { accept($0) }
    }

    /// Accepts the bytes of `buffer`, as ``accept(_:)-([UInt8])``.
    mutating func accept(_ buffer: UnsafeRawBufferPointer) -> Bool {
        if let size = payloadSize, received + UInt64(buffer.count) > ReferenceStream.length(payloadSize: size) {
            problem = problem ?? .overlong
            return false
        }
        var at = 0
        let n = buffer.count
        while at < n {
            if header.count < ReferenceStream.headerSize {
                let take = min(ReferenceStream.headerSize - header.count, n - at)
                let piece = UnsafeRawBufferPointer(rebasing: buffer[at..<at + take])
                header += piece
                checksum.add(piece)
                at += take
                received += UInt64(take)
                if header.count == ReferenceStream.headerSize {
                    if Array(header.prefix(4)) != ReferenceStream.magic
                        || ReferenceStream.readLE(header[4..<8]) != UInt64(ReferenceStream.version)
                    {
                        problem = problem ?? .badHeader
                    }
                    payloadSize = ReferenceStream.readLE(header[8..<16])
                    if let expected = expectedPayloadSize, payloadSize != expected { problem = problem ?? .badHeader }
                }
            } else if received < Self.payloadEnd(payloadSize) {
                let payloadEnd = Self.payloadEnd(payloadSize)
                let take = Int(min(payloadEnd - received, UInt64(n - at)))
                checksum.add(UnsafeRawBufferPointer(rebasing: buffer[at..<at + take]))
                at += take
                received += UInt64(take)
            } else {
                let take = n - at
                // Past the trailer: a write that began inside the header ran beyond the declared length.
                if trailer.count + take > ReferenceStream.trailerSize { problem = problem ?? .overlong }
                trailer += UnsafeRawBufferPointer(rebasing: buffer[at..<at + take])
                at += take
                received += UInt64(take)
            }
        }
        return true
    }

    /// Some byte has arrived.
    var started: Bool { received > 0 }
    /// Bytes taken so far.
    var bytesReceived: UInt64 { received }
    /// The stream's length as its header declares it, once the header has arrived.
    var declaredLength: UInt64? { payloadSize.map { ReferenceStream.length(payloadSize: $0) } }
    /// Every byte the header declared has arrived.
    var complete: Bool { payloadSize.map { received >= ReferenceStream.length(payloadSize: $0) } ?? false }

    /// Why the stream cannot be loaded, or nil when it is complete and intact.
    func verdict() -> Problem? {
        if let p = problem { return p }
        guard let size = payloadSize else { return .truncated }
        if received < ReferenceStream.length(payloadSize: size) { return .truncated }
        if ReferenceStream.readLE(trailer[...]) != checksum.value { return .checksum }
        return nil
    }
}
