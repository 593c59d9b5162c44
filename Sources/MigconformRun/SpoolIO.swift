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

    let fd: Int32
    let path: String
    private let cond = NSCondition()
    private var writes: [(offset: UInt64, bytes: [UInt8])] = []
    private var writing = false
    private var ahead: (offset: UInt64, count: Int)?
    private var aheadResult: Result<[UInt8], SpoolError>?
    private var reading = false
    private var failure: SpoolError?
    private var closed = false

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        let thread = Thread { [self] in self.loop() }
        thread.name = "migconform-spool"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { close(fd) }

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
        return try Self.readFile(fd, path: path, at: offset, count: count).get()
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
            guard ftruncate(fd, off_t(length)) == 0 else {
                throw SpoolError(path: path, what: "cannot truncate", errno: errno)
            }
        }
    }

    /// Writes `bytes` at `offset` now (after the queued writes).
    func overwrite(_ bytes: [UInt8], at offset: UInt64) throws {
        try cond.withLock {
            try drainLocked()
            dropAhead()
        }
        if let e = Self.writeFile(fd, path: path, bytes, at: offset) { throw e }
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
                let error = Self.writeFile(fd, path: path, w.bytes, at: w.offset)
                cond.withLock {
                    writes.removeFirst()
                    writing = false
                    if let error, failure == nil { failure = error }
                    cond.broadcast()
                }
            } else if let a = ahead {
                reading = true
                cond.unlock()
                let result = Self.readFile(fd, path: path, at: a.offset, count: a.count)
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

    static func readFile(_ fd: Int32, path: String, at offset: UInt64, count n: Int) -> Result<[UInt8], SpoolError> {
        var failure: SpoolError?
        let bytes = [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            var done = 0
            while done < n {
                let r = pread(fd, buffer.baseAddress! + done, n - done, off_t(offset) + off_t(done))
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else {
                    failure = SpoolError(path: path, what: "cannot read", errno: r < 0 ? errno : EIO)
                    break
                }
                done += r
            }
            initialized = done
        }
        if let failure { return .failure(failure) }
        return .success(bytes)
    }

    static func writeFile(_ fd: Int32, path: String, _ bytes: [UInt8], at offset: UInt64) -> SpoolError? {
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let r = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else { return SpoolError(path: path, what: "cannot write", errno: r < 0 ? errno : EIO) }
                done += r
            }
            return nil
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
