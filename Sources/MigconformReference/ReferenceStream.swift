import MigconformDevice

/// The reference devices' migration stream: opaque to the user, but self-checking so that a truncated,
/// corrupted or overlong stream is caught on resume.
///
/// Layout: a 24-byte header (`MCRF`, format version, payload length, a seed), the payload (the device's internal
/// state, generated on the fly so that gigabytes cost no memory), and an 8-byte checksum of everything before it.
public enum ReferenceStream {
    public static let magic: [UInt8] = Array("MCRF".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 24
    public static let trailerSize = 8

    /// Total stream length for a payload of `payloadSize` bytes.
    public static func length(payloadSize: UInt64) -> UInt64 {
        UInt64(headerSize) + payloadSize + UInt64(trailerSize)
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

    /// The payload byte at `index` for a device seeded with `seed`: a cheap, position-addressable pattern.
    @inline(__always)
    static func payloadWord(_ wordIndex: UInt64, seed: UInt64) -> UInt64 {
        var z = wordIndex &+ seed &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A running checksum over a byte stream (FNV-1a over bytes; fast enough, and any corruption changes it).
struct StreamChecksum {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        value = h
    }
}

/// Produces the save stream of a reference device, sequentially.
struct StreamWriter {
    let payloadSize: UInt64
    let seed: UInt64
    /// Writes a wrong checksum (for the fault catalogue: a device that cannot load its own stream).
    let garble: Bool
    private(set) var offset: UInt64 = 0
    private var checksum = StreamChecksum()
    private let header: [UInt8]

    init(payloadSize: UInt64, seed: UInt64, garble: Bool = false) {
        self.payloadSize = payloadSize
        self.seed = seed
        self.garble = garble
        self.header = ReferenceStream.header(payloadSize: payloadSize, seed: seed)
    }

    var total: UInt64 { ReferenceStream.length(payloadSize: payloadSize) }
    var remaining: UInt64 { total - offset }

    /// The next `count` bytes (fewer at the end of the stream).
    mutating func next(_ count: Int) -> [UInt8] {
        let n = Int(min(UInt64(count), remaining))
        var out = [UInt8]()
        out.reserveCapacity(n)
        let headerEnd = UInt64(ReferenceStream.headerSize)
        let payloadEnd = headerEnd + payloadSize
        while out.count < n {
            if offset < headerEnd {
                let take = min(Int(headerEnd - offset), n - out.count)
                let slice = header[Int(offset)..<Int(offset) + take]
                checksum.add(slice)
                out += slice
                offset += UInt64(take)
            } else if offset < payloadEnd {
                let take = min(payloadEnd - offset, UInt64(n - out.count))
                let start = out.count
                var pos = offset - headerEnd
                let end = pos + take
                while pos < end {
                    let word = ReferenceStream.payloadWord(pos / 8, seed: seed)
                    let shift = (pos % 8) * 8
                    out.append(UInt8(truncatingIfNeeded: word >> shift))
                    pos += 1
                }
                checksum.add(out[start...])
                offset += take
            } else {
                let trailer = ReferenceStream.le(garble ? ~checksum.value : checksum.value)
                let i = Int(offset - payloadEnd)
                let take = min(ReferenceStream.trailerSize - i, n - out.count)
                out += trailer[i..<i + take]
                offset += UInt64(take)
            }
        }
        return out
    }
}

/// Consumes a resume stream and judges it at the end.
struct StreamReader {
    enum Problem: Equatable { case badHeader, overlong, checksum, truncated }
    private var header: [UInt8] = []
    private var payloadSize: UInt64?
    private var received: UInt64 = 0
    private var checksum = StreamChecksum()
    private var trailer: [UInt8] = []
    private(set) var problem: Problem?

    /// Accepts `bytes`; returns false (consuming nothing) when they would run past the end the header declared.
    mutating func accept(_ bytes: [UInt8]) -> Bool {
        if let size = payloadSize, received + UInt64(bytes.count) > ReferenceStream.length(payloadSize: size) {
            problem = problem ?? .overlong
            return false
        }
        for b in bytes {
            if header.count < ReferenceStream.headerSize {
                header.append(b)
                checksum.add(CollectionOfOne(b))
                if header.count == ReferenceStream.headerSize {
                    if Array(header.prefix(4)) != ReferenceStream.magic
                        || ReferenceStream.readLE(header[4..<8]) != UInt64(ReferenceStream.version) {
                        problem = problem ?? .badHeader
                    }
                    payloadSize = ReferenceStream.readLE(header[8..<16])
                }
            } else if received < UInt64(ReferenceStream.headerSize) + (payloadSize ?? 0) {
                checksum.add(CollectionOfOne(b))
            } else {
                trailer.append(b)
            }
            received += 1
        }
        return true
    }

    /// Why the stream cannot be loaded, or nil when it is complete and intact.
    func verdict() -> Problem? {
        if let p = problem { return p }
        guard let size = payloadSize else { return .truncated }
        if received < ReferenceStream.length(payloadSize: size) { return .truncated }
        if ReferenceStream.readLE(trailer[...]) != checksum.value { return .checksum }
        return nil
    }
}
