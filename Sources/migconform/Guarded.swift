#if os(Linux)
    import Synchronization

    /// A value behind a lock: the standard library's `Mutex`.
    typealias Guarded<Value: ~Copyable> = Mutex<Value>
#else
    import Foundation

    /// A value behind a lock, where the platform's `Mutex` needs a newer system than the package supports.
    final class Guarded<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Value
        init(_ value: sending Value) { self.value = value }
        func withLock<R>(_ body: (inout sending Value) throws -> sending R) rethrows -> sending R {
            lock.lock()
            defer { lock.unlock() }
            return try body(&value)
        }
    }
#endif
