import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A save stream as the runner holds it between saving and resuming: in memory while it is small, and in a spool
/// file once it grows past a threshold, so that a device with gigabytes of state costs the runner a few
/// buffers of ``chunkSize`` bytes, not the whole stream.
///
/// The spool file is unlinked as soon as it is created: it disappears when the stream is released or the process
/// ends, however the run ends. Its reads and writes go through a ``SpoolIO`` thread, so that copying a chunk to
/// or from the file overlaps the device's work on the next one.
package final class SavedStream {
    /// Bytes moved per device read or write of bulk data: small enough that a piece read from the spool file is
    /// still in the processor's cache when the device takes it (8 MiB pieces cost a full run a third more time).
    package static let chunkSize = 1 << 20
    /// Streams up to this size stay in memory.
    package static let defaultSpoolThreshold: UInt64 = 64 << 20
    /// Length of the stream in bytes.
    package private(set) var count: UInt64 = 0
    /// What the stream is, by name, for transcripts that do not keep its bytes (`the saved stream (4128 bytes)
    /// cut to 2064 bytes`).
    package var label: String?
    /// The spool file's name while it existed (for messages), nil while the stream is in memory.
    package private(set) var spoolPath: String?
    package var isSpooled: Bool { io != nil || base?.isSpooled == true }
    /// Whether the spool file bypasses the page cache (``SpoolFile``).
    package var spoolsDirect: Bool { io?.isDirect ?? base?.spoolsDirect ?? false }
    /// The sizes of the appends a stream held in memory was built from, in order (empty once spooled).
    package var pieceSizes: [Int] { pieces.map(\.count) }

    /// The stream in memory, in the pieces it arrived in (appending keeps the caller's array, copying nothing);
    /// `starts[i]` is the stream offset of `pieces[i]`.
    private var pieces: [[UInt8]] = []
    private var starts: [UInt64] = []
    private var io: SpoolIO?
    /// A view's stream: this one reads its bytes (up to ``count``, with ``patches`` laid over them) and holds none.
    private var base: SavedStream?
    private var patches: [(offset: UInt64, bytes: [UInt8])] = []
    private var discards = false
    private let spoolThreshold: UInt64
    private let directory: String?
    private let directAfter: UInt64?

    /// `directAfter`: past this many bytes the spool file bypasses the page cache where it can (``SpoolFile``), for
    /// a stream read back once; nil (a stream read back many times): through the page cache throughout.
    package init(
        spoolThreshold: UInt64 = SavedStream.defaultSpoolThreshold, directory: String? = nil,
        directAfter: UInt64? = nil
    ) {
        self.spoolThreshold = spoolThreshold
        self.directory = directory
        self.directAfter = directAfter
    }

    /// A sink that keeps only the length of what is appended (a stream read to be measured, not resumed).
    package static func counting() -> SavedStream {
        let s = SavedStream(spoolThreshold: .max)
        s.discards = true
        return s
    }

    /// A stream held in memory with these bytes.
    package convenience init(_ bytes: [UInt8]) {
        self.init(spoolThreshold: .max)
        if !bytes.isEmpty {
            pieces = [bytes]
            starts = [0]
        }
        count = UInt64(bytes.count)
    }

    deinit { io?.finish() }

    /// A read-only view of this stream: its first `length` bytes with `patches` laid over them. The view shares
    /// this stream's memory or spool file and copies nothing, so a damaged resume costs no save of its own and
    /// leaves the stream it is taken from as it was.
    package func view(length: UInt64? = nil, patches: [(offset: UInt64, bytes: [UInt8])] = []) -> SavedStream {
        let v = SavedStream(spoolThreshold: .max)
        v.base = self
        v.count = min(length ?? count, count)
        v.patches = patches
        v.label = label
        return v
    }

    /// Appends bytes at the end, moving the stream to a spool file when it grows past the threshold. A spooled
    /// append returns once the bytes are queued; a write that failed is reported by a later call.
    package func append(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        precondition(base == nil, "a view of a stream is read-only")
        if discards {
            count += UInt64(bytes.count)
            return
        }
        if io == nil && count + UInt64(bytes.count) > spoolThreshold {
            try spool()
        }
        if let io {
            try io.write(bytes, at: count)
        } else {
            pieces.append(bytes)
            starts.append(count)
        }
        count += UInt64(bytes.count)
    }

    /// `count` bytes from `offset` (fewer at the end). Reading a spooled stream front to back in equal pieces
    /// has the next piece read ahead while the caller works on this one.
    package func read(at offset: UInt64, count wanted: Int) throws -> [UInt8] {
        guard offset < count, wanted > 0, !discards else { return [] }
        let n = Int(min(UInt64(wanted), count - offset))
        if let base {
            var bytes = try base.read(at: offset, count: n)
            for p in patches where p.offset < offset + UInt64(n) && p.offset + UInt64(p.bytes.count) > offset {
                let from = max(p.offset, offset)
                let to = min(p.offset + UInt64(p.bytes.count), offset + UInt64(n))
                for at in from..<to { bytes[Int(at - offset)] = p.bytes[Int(at - p.offset)] }
            }
            return bytes
        }
        guard let io else { return held(at: offset, count: n) }
        let bytes = try io.read(at: offset, count: n)
        let next = offset + UInt64(n)
        if n >= SpoolIO.readAheadMinimum && next < count {
            io.readAhead(at: next, count: Int(min(UInt64(n), count - next)))
        }
        return bytes
    }

    /// The whole stream as one array (for small streams and tests).
    package func bytes() throws -> [UInt8] { try read(at: 0, count: Int(count)) }

    /// Shortens the stream to `length` bytes.
    package func truncate(to length: UInt64) throws {
        guard length < count else { return }
        if base != nil {
            count = length
            return
        }
        if let io {
            try io.truncate(to: length)
        } else {
            let i = piece(containing: length - (length > 0 ? 1 : 0))
            let keep = Int(length - starts[i])
            pieces.removeSubrange((i + 1)...)
            starts.removeSubrange((i + 1)...)
            pieces[i].removeSubrange(keep...)
            if pieces[i].isEmpty {
                pieces.removeLast()
                starts.removeLast()
            }
        }
        count = length
    }

    /// Flips every bit of the bytes in `offset ..< offset + length` (clipped to the stream).
    package func invert(at offset: UInt64, length: Int) throws {
        var bytes = try read(at: offset, count: length)
        guard !bytes.isEmpty else { return }
        for i in bytes.indices { bytes[i] ^= 0xff }
        if base != nil {
            patches.append((offset, bytes))
        } else if let io {
            try io.overwrite(bytes, at: offset)
        } else {
            for (k, byte) in bytes.enumerated() {
                let at = offset + UInt64(k)
                let i = piece(containing: at)
                pieces[i][Int(at - starts[i])] = byte
            }
        }
    }

    /// How much a bulk write from `offset` takes: up to the end of the piece held in memory there (so the next
    /// write is a whole piece, handed over without a copy), at most ``chunkSize``.
    package func bulkSize(at offset: UInt64) -> Int {
        if let base {
            return offset < count ? Int(min(UInt64(base.bulkSize(at: offset)), count - offset)) : Self.chunkSize
        }
        guard io == nil, offset < count, !pieces.isEmpty else { return Self.chunkSize }
        let i = piece(containing: offset)
        return min(Self.chunkSize, Int(starts[i] + UInt64(pieces[i].count) - offset))
    }

    /// The index of the piece holding stream offset `offset` (which is below ``count``).
    private func piece(containing offset: UInt64) -> Int {
        var low = 0
        var high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// `n` bytes at `offset` of a stream in memory: the piece itself when the read is exactly one piece.
    private func held(at offset: UInt64, count n: Int) -> [UInt8] {
        var i = piece(containing: offset)
        var at = Int(offset - starts[i])
        if at == 0 && pieces[i].count == n { return pieces[i] }
        if at + n <= pieces[i].count { return Array(pieces[i][at..<at + n]) }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        while out.count < n {
            let take = min(n - out.count, pieces[i].count - at)
            out += pieces[i][at..<at + take]
            i += 1
            at = 0
        }
        return out
    }

    /// Moves the bytes held in memory to a new, already unlinked file.
    private func spool() throws {
        let file = try SpoolFile(
            directory: directory ?? FileManager.default.temporaryDirectory.path,
            directAfter: directAfter)
        spoolPath = file.path
        let io = SpoolIO(file)
        self.io = io
        let held = zip(starts, pieces)
        pieces = []
        starts = []
        for (offset, bytes) in held { try io.write(bytes, at: offset) }
    }
}
