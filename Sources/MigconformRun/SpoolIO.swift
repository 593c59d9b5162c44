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

/// The bytes of one spool file. A stream written once and read back once gains nothing from the page cache and
/// pays for every page of it, so such a file is opened a second time with `O_DIRECT` where the file system allows
/// it: appends are gathered in an aligned buffer and written in aligned pieces, and reads below what was written
/// out go to the disk directly. (On one virtual machine a new 4 GiB file went through the page cache at 0.4-0.6
/// GB/s, each new page costing the host a fault, and with `O_DIRECT` at 2.4 GB/s; read back from the page cache it
/// came at about 10 GB/s, from the disk at 2.6 GB/s, so a stream read back many times stays cached.) Where
/// `O_DIRECT` is refused (tmpfs and ramfs on older kernels, file systems without it), the file goes through the
/// page cache.
///
/// Not thread-safe: ``SpoolIO`` makes its calls one at a time.
final class SpoolFile {
    /// Offsets, lengths and buffer addresses of direct I/O are multiples of this (the largest logical block size
    /// in common use).
    static let alignment = 4096
    /// Gathered bytes are written out once at least this many are waiting.
    static let flushSize = 1 << 20

    let path: String
    /// The descriptor through the page cache: for everything when ``direct`` is -1.
    private let fd: Int32
    /// The same file opened with `O_DIRECT`, or -1.
    private var direct: Int32
    /// Appended bytes not yet written out: the stream from ``gatheredStart`` (aligned) on.
    private var gathered: UnsafeMutableRawPointer
    private var gatheredCapacity: Int
    private var gatheredCount = 0
    private var gatheredStart: UInt64 = 0
    /// Aligned room for direct reads.
    private var bounce: UnsafeMutableRawPointer
    private var bounceCapacity: Int

    /// A new file in `directory`, unlinked at once: it disappears when it is closed, however the process ends.
    /// `direct`: written and read with `O_DIRECT` where the file system allows it.
    init(directory: String, direct wanted: Bool) throws {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var template = Array((directory + "/.migconform-stream-XXXXXX").utf8CString)
        let f = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard f >= 0 else { throw SpoolError(path: path, what: "cannot create", errno: errno) }
        fd = f
        direct = wanted && openDirect != 0 ? open(path, O_RDWR | openDirect) : -1
        unlink(path)
        gatheredCapacity = Self.flushSize + Self.alignment
        gathered = Self.allocate(gatheredCapacity)
        bounceCapacity = Self.flushSize
        bounce = Self.allocate(bounceCapacity)
    }

    deinit {
        close(fd)
        if direct >= 0 { close(direct) }
        gathered.deallocate()
        bounce.deallocate()
    }

    /// Whether the file is read and written with `O_DIRECT`.
    var isDirect: Bool { direct >= 0 }

    /// Whether a file in `directory` can be opened with `O_DIRECT` (what a spool file there gets).
    static func directWorks(in directory: String) -> Bool {
        guard openDirect != 0, let probe = try? SpoolFile(directory: directory, direct: true) else { return false }
        return probe.isDirect
    }

    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
    }

    private static func down(_ n: UInt64) -> UInt64 { n & ~UInt64(alignment - 1) }
    private static func up(_ n: UInt64) -> UInt64 { down(n + UInt64(alignment - 1)) }

    /// Stops using `O_DIRECT` (it was refused): what was gathered goes out through the page cache.
    private func leaveDirect() -> SpoolError? {
        close(direct)
        direct = -1
        let e = Self.pwriteAll(fd, path: path, gathered, gatheredCount, at: gatheredStart)
        gatheredStart += UInt64(gatheredCount)
        gatheredCount = 0
        return e
    }

    /// Appends `bytes` at `offset`, which is where the stream ends.
    func append(_ bytes: [UInt8], at offset: UInt64) -> SpoolError? {
        guard direct >= 0 else {
            // Through the page cache everything is in the file: nothing is gathered.
            gatheredStart = max(gatheredStart, offset + UInt64(bytes.count))
            return bytes.withUnsafeBytes { Self.pwriteAll(fd, path: path, $0.baseAddress!, $0.count, at: offset) }
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
            // Below what is gathered: from the file.
            if offset < gatheredStart {
                let fileEnd = min(end, gatheredStart)
                if direct < 0 {
                    failure = Self.preadAll(fd, path: path, out.baseAddress!, Int(fileEnd - offset), at: offset)
                } else {
                    var at = offset
                    while at < fileEnd, failure == nil {
                        let from = Self.down(at)
                        let to = min(Self.up(fileEnd), from + UInt64(bounceCapacity))
                        failure = Self.preadAll(direct, path: path, bounce, Int(to - from), at: from)
                        let take = Int(min(to, fileEnd) - at)
                        let into: UnsafeMutableRawPointer = UnsafeMutableRawPointer(out.baseAddress!) + Int(at - offset)
                        into.copyMemory(from: bounce + Int(at - from), byteCount: take)
                        at += UInt64(take)
                    }
                }
            }
            // What is still gathered in memory.
            if failure == nil, end > gatheredStart {
                let from = max(offset, gatheredStart)
                let into: UnsafeMutableRawPointer = UnsafeMutableRawPointer(out.baseAddress!) + Int(from - offset)
                into.copyMemory(from: gathered + Int(from - gatheredStart), byteCount: Int(end - from))
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
        guard offset < gatheredStart else { return nil }
        let fileEnd = min(end, gatheredStart)
        guard direct >= 0 else {
            return bytes.withUnsafeBytes {
                Self.pwriteAll(fd, path: path, $0.baseAddress!, Int(fileEnd - offset), at: offset)
            }
        }
        // Whole aligned blocks: read, patched, written back.
        let from = Self.down(offset)
        let to = Self.up(fileEnd)
        let block = Self.allocate(Int(to - from))
        defer { block.deallocate() }
        if let e = Self.preadAll(direct, path: path, block, Int(to - from), at: from) { return e }
        bytes.withUnsafeBytes {
            (block + Int(offset - from)).copyMemory(from: $0.baseAddress!, byteCount: Int(fileEnd - offset))
        }
        return Self.pwriteAll(direct, path: path, block, Int(to - from), at: from)
    }

    /// Shortens the stream to `length` bytes (appends go on from there).
    func truncate(to length: UInt64) -> SpoolError? {
        if length >= gatheredStart {
            gatheredCount = min(gatheredCount, Int(length - gatheredStart))
            return nil
        }
        if direct < 0 {
            guard ftruncate(fd, off_t(length)) == 0 else {
                return SpoolError(path: path, what: "cannot truncate", errno: errno)
            }
            gatheredStart = length
            gatheredCount = 0
            return nil
        }
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
