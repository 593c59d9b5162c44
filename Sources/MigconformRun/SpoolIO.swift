import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The spool file's I/O thread: writes are queued and done in order (at most ``queueDepth`` waiting, so memory
/// stays bounded), and one read may be requested ahead of need. Every call that reads or changes the file
/// waits for the queued writes first, and the first failure is reported by the next call.
final class SpoolIO: @unchecked Sendable {
    /// Writes that may wait in the queue before ``write(_:at:)`` blocks.
    static let queueDepth = 2
    /// Reads smaller than this are not read ahead.
    static let readAheadMinimum = 1 << 20

    private let file: SpoolFile
    var path: String { file.path }
    var isDirect: Bool { file.isDirect }
    private let cond = NSCondition()
    private var writes: [(offset: UInt64, bytes: [UInt8])] = []
    private var writing = false
    private var ahead: (offset: UInt64, count: Int)?
    private var aheadResult: Result<[UInt8], SpoolError>?
    private var reading = false
    private var failure: SpoolError?
    private var closed = false

    init(_ file: SpoolFile) {
        self.file = file
        let thread = Thread { [self] in self.loop() }
        thread.name = "migconform-spool"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues `bytes` for writing at `offset`.
    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        try cond.withLock {
            while writes.count >= Self.queueDepth && failure == nil { cond.wait() }
            if let f = failure { throw f }
            dropAhead()
            writes.append((offset, bytes))
            cond.broadcast()
        }
    }

    /// `count` bytes at `offset`, from the read ahead when it was for exactly these, else read now.
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        let cached: Result<[UInt8], SpoolError>? = try cond.withLock {
            try drainLocked()
            guard let a = ahead, a.offset == offset, a.count == count else {
                dropAhead()
                return nil
            }
            while aheadResult == nil { cond.wait() }
            let r = aheadResult
            ahead = nil
            aheadResult = nil
            return r
        }
        if let cached { return try cached.get() }
        return try file.read(at: offset, count: count).get()
    }

    /// Asks for `count` bytes at `offset` to be read in the background.
    func readAhead(at offset: UInt64, count: Int) {
        cond.withLock {
            guard ahead == nil, failure == nil else { return }
            ahead = (offset, count)
            aheadResult = nil
            cond.broadcast()
        }
    }

    func truncate(to length: UInt64) throws {
        try cond.withLock {
            try drainLocked()
            dropAhead()
            if let e = file.truncate(to: length) { throw e }
        }
    }

    /// Writes `bytes` at `offset` now (after the queued writes).
    func overwrite(_ bytes: [UInt8], at offset: UInt64) throws {
        try cond.withLock {
            try drainLocked()
            dropAhead()
        }
        if let e = file.overwrite(bytes, at: offset) { throw e }
    }

    /// Waits until no write is queued or in progress; throws the first failure.
    private func drainLocked() throws {
        while (!writes.isEmpty || writing) && failure == nil { cond.wait() }
        if let f = failure { throw f }
    }

    /// Forgets a read ahead (its bytes may be stale); waits for one in progress.
    private func dropAhead() {
        while reading { cond.wait() }
        ahead = nil
        aheadResult = nil
    }

    private func loop() {
        while true {
            cond.lock()
            while !closed && writes.isEmpty && !(ahead != nil && aheadResult == nil) { cond.wait() }
            if closed {
                cond.unlock()
                return
            }
            if !writes.isEmpty {
                let w = writes[0]
                writing = true
                cond.unlock()
                let error = file.append(w.bytes, at: w.offset)
                cond.withLock {
                    writes.removeFirst()
                    writing = false
                    if let error, failure == nil { failure = error }
                    cond.broadcast()
                }
            } else if let a = ahead {
                reading = true
                cond.unlock()
                let result = file.read(at: a.offset, count: a.count)
                cond.withLock {
                    reading = false
                    if ahead?.offset == a.offset && ahead?.count == a.count { aheadResult = result }
                    cond.broadcast()
                }
            } else {
                cond.unlock()
            }
        }
    }

    /// Lets the thread end; the file closes when the last reference goes.
    func finish() {
        cond.withLock {
            closed = true
            cond.broadcast()
        }
    }

}

/// The spool file of a large stream could not be used (a full disk, a folder that cannot be written): the
/// runner's failure, not the device's.
package struct SpoolError: Error, CustomStringConvertible, Sendable {
    package var path: String
    package var what: String
    package var errno: Int32
    package var description: String { "spool file \(path): \(what): \(String(cString: strerror(errno)))" }
}

/// `O_DIRECT` of `<fcntl.h>`, which Swift's Glibc module does not export; 0 where its value is not known here (the
/// spool file is then read and written through the page cache).
#if os(Linux) && arch(x86_64)
    private let openDirect: Int32 = 0o40000
#elseif os(Linux) && arch(arm64)
    private let openDirect: Int32 = 0o200000
#else
    private let openDirect: Int32 = 0
#endif

/// The bytes of one spool file. A stream written once and read back once gains nothing from the page cache, and a
/// large one pays for every page of it, so such a file goes on with `O_DIRECT` once it holds ``directAfter`` bytes,
/// where the file system allows it: appends are gathered in an aligned buffer and written in aligned pieces, and
/// reads of what was written out since go to the disk directly. (On one virtual machine a new 4 GiB file went
/// through the page cache at 0.4 to 0.6 GB/s, each new page costing its host a fault, and with `O_DIRECT` at 2.2 to
/// 2.4 GB/s; a stream of a few hundred megabytes went faster through the cache, and a stream read back many times
/// stays there.) Where `O_DIRECT` is refused (file systems without it, tmpfs before Linux 6.6), the file goes on
/// through the page cache.
///
/// Not thread-safe: ``SpoolIO`` makes its calls one at a time.
final class SpoolFile {
    /// Offsets, lengths and buffer addresses of direct I/O are multiples of this (the largest logical block size
    /// in common use).
    static let alignment = 4096
    /// Gathered bytes are written out once at least this many are waiting.
    static let flushSize = 1 << 20
    /// Bytes a stream read back once holds in the page cache before it goes on with `O_DIRECT`.
    static let defaultDirectAfter: UInt64 = 512 << 20

    let path: String
    /// The descriptor through the page cache: for everything below ``directFrom``, and for all when ``direct`` is -1.
    private let fd: Int32
    /// The same file opened with `O_DIRECT` (from ``directFrom`` on), or -1.
    private var direct: Int32 = -1
    /// Where the file goes on with `O_DIRECT`: nil for never.
    private let directAfter: UInt64?
    /// Whether appends go with `O_DIRECT` now.
    private var directing = false
    /// The aligned offset from which the file was written with `O_DIRECT`.
    private var directFrom: UInt64 = 0
    /// Appended bytes not yet written out: the stream from ``gatheredStart`` on (aligned while direct).
    private var gathered: UnsafeMutableRawPointer
    private var gatheredCapacity: Int
    private var gatheredCount = 0
    private var gatheredStart: UInt64 = 0
    /// Aligned room for direct reads.
    private var bounce: UnsafeMutableRawPointer
    private var bounceCapacity: Int

    /// A new file in `directory`, unlinked at once: it disappears when it is closed, however the process ends.
    /// `directAfter`: past this many bytes the file goes on with `O_DIRECT` where the file system allows it; nil:
    /// through the page cache throughout.
    init(directory: String, directAfter: UInt64?) throws {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var template = Array((directory + "/.migconform-stream-XXXXXX").utf8CString)
        let f = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard f >= 0 else { throw SpoolError(path: path, what: "cannot create", errno: errno) }
        fd = f
        self.directAfter = openDirect != 0 ? directAfter : nil
        gatheredCapacity = Self.flushSize + Self.alignment
        gathered = Self.allocate(gatheredCapacity)
        bounceCapacity = Self.flushSize
        bounce = Self.allocate(bounceCapacity)
        // Opened now, while the file still has its name; used once the stream is long enough.
        if self.directAfter != nil { direct = open(path, O_RDWR | openDirect) }
        unlink(path)
    }

    deinit {
        close(fd)
        if direct >= 0 { close(direct) }
        gathered.deallocate()
        bounce.deallocate()
    }

    /// Whether the file is read and written with `O_DIRECT` (from ``directFrom`` on).
    var isDirect: Bool { directing }

    /// Whether a file in `directory` can be opened with `O_DIRECT` (what a long spool file there gets).
    static func directWorks(in directory: String) -> Bool {
        guard let probe = try? SpoolFile(directory: directory, directAfter: 0) else { return false }
        return probe.direct >= 0
    }

    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
    }

    private static func down(_ n: UInt64) -> UInt64 { n & ~UInt64(alignment - 1) }
    private static func up(_ n: UInt64) -> UInt64 { down(n + UInt64(alignment - 1)) }

    /// Goes on with `O_DIRECT` from the end of the stream, `end`: the block it ends in is gathered again from the
    /// page cache, so that what follows is written in whole blocks.
    private func startDirect(at end: UInt64) -> SpoolError? {
        let from = Self.down(end)
        let partial = Int(end - from)
        if partial > 0, let e = Self.preadAll(fd, path: path, gathered, partial, at: from) { return e }
        directFrom = from
        gatheredStart = from
        gatheredCount = partial
        directing = true
        return nil
    }

    /// Stops using `O_DIRECT` (it was refused): what was gathered goes out through the page cache.
    private func leaveDirect() -> SpoolError? {
        directing = false
        close(direct)
        direct = -1
        let e = Self.pwriteAll(fd, path: path, gathered, gatheredCount, at: gatheredStart)
        gatheredStart += UInt64(gatheredCount)
        gatheredCount = 0
        return e
    }

    /// Appends `bytes` at `offset`, which is where the stream ends.
    func append(_ bytes: [UInt8], at offset: UInt64) -> SpoolError? {
        guard directing else {
            // Through the page cache everything is in the file: nothing is gathered.
            let end = offset + UInt64(bytes.count)
            gatheredStart = max(gatheredStart, end)
            let e = bytes.withUnsafeBytes { Self.pwriteAll(fd, path: path, $0.baseAddress!, $0.count, at: offset) }
            if e == nil, direct >= 0, let after = directAfter, end >= after { return startDirect(at: end) }
            return e
        }
        precondition(offset == gatheredStart + UInt64(gatheredCount), "a spool file is written front to back")
        let needed = gatheredCount + bytes.count
        if needed > gatheredCapacity {
            let bigger = Self.allocate(needed + Self.alignment)
            bigger.copyMemory(from: gathered, byteCount: gatheredCount)
            gathered.deallocate()
            gathered = bigger
            gatheredCapacity = needed + Self.alignment
        }
        bytes.withUnsafeBytes { (gathered + gatheredCount).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        gatheredCount = needed
        guard gatheredCount >= Self.flushSize else { return nil }
        let out = Int(Self.down(UInt64(gatheredCount)))
        if let e = Self.pwriteAll(direct, path: path, gathered, out, at: gatheredStart) {
            return e.errno == EINVAL ? leaveDirect() : e
        }
        gatheredStart += UInt64(out)
        gatheredCount -= out
        gathered.copyMemory(from: gathered + out, byteCount: gatheredCount)
        return nil
    }

    /// `n` bytes at `offset` (the caller keeps within what was appended).
    func read(at offset: UInt64, count n: Int) -> Result<[UInt8], SpoolError> {
        var failure: SpoolError?
        let bytes = [UInt8](unsafeUninitializedCapacity: n) { out, initialized in
            let end = offset + UInt64(n)
            let base = UnsafeMutableRawPointer(out.baseAddress!)
            // Through the page cache: below where the file went direct (all of the file while it has not).
            let cachedEnd = directing ? directFrom : gatheredStart
            if offset < cachedEnd {
                let to = min(end, cachedEnd)
                failure = Self.preadAll(fd, path: path, base, Int(to - offset), at: offset)
            }
            // With O_DIRECT, in whole blocks through the bounce buffer.
            if directing, failure == nil, end > directFrom, offset < gatheredStart {
                var at = max(offset, directFrom)
                let fileEnd = min(end, gatheredStart)
                while at < fileEnd, failure == nil {
                    let from = Self.down(at)
                    let to = min(Self.up(fileEnd), from + UInt64(bounceCapacity))
                    failure = Self.preadAll(direct, path: path, bounce, Int(to - from), at: from)
                    let take = Int(min(to, fileEnd) - at)
                    (base + Int(at - offset)).copyMemory(from: bounce + Int(at - from), byteCount: take)
                    at += UInt64(take)
                }
            }
            // What is still gathered in memory.
            if failure == nil, end > gatheredStart {
                let from = max(offset, gatheredStart)
                (base + Int(from - offset)).copyMemory(
                    from: gathered + Int(from - gatheredStart), byteCount: Int(end - from))
            }
            initialized = failure == nil ? n : 0
        }
        if let failure { return .failure(failure) }
        return .success(bytes)
    }

    /// Writes `bytes` over the stream at `offset` (within what was appended).
    func overwrite(_ bytes: [UInt8], at offset: UInt64) -> SpoolError? {
        let end = offset + UInt64(bytes.count)
        if end > gatheredStart {
            let from = max(offset, gatheredStart)
            bytes.withUnsafeBytes {
                (gathered + Int(from - gatheredStart)).copyMemory(
                    from: $0.baseAddress! + Int(from - offset), byteCount: Int(end - from))
            }
        }
        let cachedEnd = directing ? directFrom : gatheredStart
        if offset < cachedEnd {
            let to = min(end, cachedEnd)
            let e = bytes.withUnsafeBytes {
                Self.pwriteAll(fd, path: path, $0.baseAddress!, Int(to - offset), at: offset)
            }
            if let e { return e }
        }
        guard directing, end > directFrom, offset < gatheredStart else { return nil }
        // Whole aligned blocks: read, patched, written back.
        let first = max(offset, directFrom)
        let fileEnd = min(end, gatheredStart)
        let from = Self.down(first)
        let to = Self.up(fileEnd)
        let block = Self.allocate(Int(to - from))
        defer { block.deallocate() }
        if let e = Self.preadAll(direct, path: path, block, Int(to - from), at: from) { return e }
        bytes.withUnsafeBytes {
            (block + Int(first - from)).copyMemory(
                from: $0.baseAddress! + Int(first - offset), byteCount: Int(fileEnd - first))
        }
        return Self.pwriteAll(direct, path: path, block, Int(to - from), at: from)
    }

    /// Shortens the stream to `length` bytes (appends go on from there).
    func truncate(to length: UInt64) -> SpoolError? {
        if length >= gatheredStart {
            gatheredCount = min(gatheredCount, Int(length - gatheredStart))
            return nil
        }
        if directing && length >= directFrom {
            // The block holding the new end is gathered again; the file keeps only whole blocks before it.
            let from = Self.down(length)
            if let e = Self.preadAll(direct, path: path, gathered, Self.alignment, at: from) { return e }
            gatheredStart = from
            gatheredCount = Int(length - from)
            guard ftruncate(fd, off_t(from)) == 0 else {
                return SpoolError(path: path, what: "cannot truncate", errno: errno)
            }
            return nil
        }
        // Back below where the file went direct: through the page cache again, direct again once long enough.
        directing = false
        guard ftruncate(fd, off_t(length)) == 0 else {
            return SpoolError(path: path, what: "cannot truncate", errno: errno)
        }
        gatheredStart = length
        gatheredCount = 0
        return nil
    }

    private static func preadAll(
        _ fd: Int32, path: String, _ buffer: UnsafeMutableRawPointer, _ n: Int, at offset: UInt64
    ) -> SpoolError? {
        whole(n, path: path, what: "cannot read") { done in
            pread(fd, buffer + done, n - done, off_t(offset) + off_t(done))
        }
    }

    private static func pwriteAll(
        _ fd: Int32, path: String, _ buffer: UnsafeRawPointer, _ n: Int, at offset: UInt64
    ) -> SpoolError? {
        whole(n, path: path, what: "cannot write") { done in
            pwrite(fd, buffer + done, n - done, off_t(offset) + off_t(done))
        }
    }

    /// Repeats `call` (given the bytes done so far) until `n` bytes are done, across EINTR and short counts.
    private static func whole(_ n: Int, path: String, what: String, _ call: (Int) -> Int) -> SpoolError? {
        var done = 0
        while done < n {
            let r = call(done)
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return SpoolError(path: path, what: what, errno: r < 0 ? errno : EIO) }
            done += r
        }
        return nil
    }
}
