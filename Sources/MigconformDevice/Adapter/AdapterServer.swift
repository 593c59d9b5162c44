import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The adapter side of the protocol: serves any ``MigrationDevice`` to a client over a pair of file descriptors,
/// one request line in, one response line out, until `bye` or end of input.
///
/// `migconform adapter` runs this on its stdin and stdout, so that a device reachable only from another host can be
/// tested through `exec:ssh HOST migconform adapter --target URI`.
package enum AdapterServer {
    /// Serves `device` until the client says `bye` or closes `input`; calls `device.shutdown()` at the end.
    /// Returns 0 after a clean end, 1 when `output` could no longer be written. `log` receives diagnostics
    /// (lines that could not be read, failed writes), never protocol text.
    @discardableResult
    package static func serve(
        _ device: MigrationDevice, input: Int32, output: Int32,
        log: (String) -> Void = { _ in }
    ) -> Int32 {
        defer { device.shutdown() }
        var reader = LineReader(fd: input)
        while let line = reader.next() {
            if line.isEmpty { continue }
            let (id, response, done) = answer(device, line: line, log: log)
            guard writeLine(AdapterCodec.encode(response, id: id), to: output) else {
                log("cannot write a response (\(String(cString: strerror(errno)))): the client is gone")
                return 1
            }
            if done { return 0 }
        }
        if let problem = reader.problem { log(problem) }
        return 0
    }

    /// The response to one request line, and whether the conversation ends with it.
    package static func answer(
        _ device: MigrationDevice, line: String,
        log: (String) -> Void = { _ in }
    ) -> (JSONValue, AdapterResponse, Bool) {
        let id: JSONValue
        let request: AdapterRequest
        do {
            (id, request) = try AdapterCodec.decodeRequest(line)
        } catch {
            log("bad request: \(error)")
            return (AdapterCodec.requestID(line) ?? .null, .error(message: "\(error)", timedOut: false), false)
        }
        switch request {
        case .hello:
            return (id, .hello(AdapterHello(generation: device.generation, identity: device.identity)), false)
        case .bye:
            return (id, .outcome(.done), true)
        case .operation(let op):
            do {
                return (id, .outcome(try device.perform(op)), false)
            } catch let t as TransportError {
                log("\(op.kind): \(t.message)")
                return (id, .error(message: t.message, timedOut: t.timedOut), false)
            } catch {
                log("\(op.kind): \(error)")
                return (id, .error(message: "\(error)", timedOut: false), false)
            }
        }
    }

    package static func writeLine(_ line: String, to fd: Int32) -> Bool {
        var bytes = Array(line.utf8)
        bytes.append(0x0a)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                done += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }

    /// Blocking line reader over a file descriptor.
    package struct LineReader {
        let fd: Int32
        var buffer: [UInt8] = []
        var start = 0
        var eof = false
        var problem: String?
        package init(fd: Int32) { self.fd = fd }

        package mutating func next() -> String? {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                if let nl = buffer[start...].firstIndex(of: 0x0a) {
                    var line = buffer[start..<nl]
                    if line.last == 0x0d { line = line.dropLast() }
                    start = nl + 1
                    if start > 1 << 20 {
                        buffer.removeSubrange(..<start)
                        start = 0
                    }
                    return String(decoding: line, as: UTF8.self)
                }
                if eof {
                    guard start < buffer.count else { return nil }
                    let line = String(decoding: buffer[start...], as: UTF8.self)
                    start = buffer.count
                    return line
                }
                if buffer.count - start > AdapterProtocol.maxLineBytes {
                    problem = "a request line is longer than \(AdapterProtocol.maxLineBytes) bytes; giving up"
                    return nil
                }
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    buffer += chunk[0..<n]
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    if n < 0 { problem = "reading requests failed: \(String(cString: strerror(errno)))" }
                    eof = true
                }
            }
        }
    }
}
