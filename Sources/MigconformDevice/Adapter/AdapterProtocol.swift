import Foundation

/// The external device adapter protocol: JSON lines on a process's stdin (requests) and stdout (responses).
/// `Specs/ADAPTER.md` is the reference for adapter authors; this file is its implementation.
package enum AdapterProtocol {
    /// The protocol version this build speaks. A `hello` response must carry the same number.
    package static let version = 3
    /// The versions a client accepts in `hello`: an adapter of version 1 knows no `data-fd-*` request, one of
    /// version 2 no `region-info` and no `reopen`, and the client answers those itself with ENOSYS (the device
    /// cannot perform them).
    package static let accepted: ClosedRange<Int> = 1...3
    /// The longest line either side accepts (a 64 MiB write encodes to about 90 MB of base64).
    package static let maxLineBytes = 256 << 20
    /// The most bytes a `read` or `data-read` may ask for: its answer, in base64, then fits in one line.
    package static let maxReadCount = 64 << 20
    /// The widths a register access may have (1, 2, 4 or 8 bytes; the device refuses those it does not support).
    package static let widths: ClosedRange<Int> = 0...8
}

/// One request line, without its id.
package enum AdapterRequest: Hashable, Sendable {
    /// Opens the conversation: the client's protocol version and name.
    case hello(protocolVersion: Int, client: String)
    /// One device operation.
    case operation(DeviceOperation)
    /// Ends the conversation: the adapter answers `done`, releases the device and exits.
    case bye

    /// The request's `op` name.
    package var name: String {
        switch self {
        case .hello: return "hello"
        case .operation(let op): return op.kind.rawValue
        case .bye: return "bye"
        }
    }
}

/// What an adapter says about itself in answer to `hello`.
package struct AdapterHello: Hashable, Sendable {
    /// The adapter's protocol version.
    package var protocolVersion: Int
    package var generation: ProtocolGeneration
    /// Who the device is, as the adapter reports it (`targetKind` from the identity's `kind`, default `exec`).
    package var identity: DeviceIdentity

    package init(
        protocolVersion: Int = AdapterProtocol.version, generation: ProtocolGeneration, identity: DeviceIdentity
    ) {
        self.protocolVersion = protocolVersion
        self.generation = generation
        self.identity = identity
    }
}

/// One response line, without its id.
package enum AdapterResponse: Hashable, Sendable {
    /// The answer to `hello`.
    case hello(AdapterHello)
    /// What the device answered (`bye` is answered with ``DeviceOutcome/done``).
    case outcome(DeviceOutcome)
    /// The adapter could not carry out the request at all (unknown op, bad argument, its own channel to the
    /// device broke). Not a device answer: the runner treats it as a transport failure, a timeout when `timedOut`.
    case error(message: String, timedOut: Bool)
}

/// A line that does not follow the protocol: what was wrong, in words fit for a report.
package struct AdapterProtocolError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Encodes and decodes protocol lines. A line never contains a newline; the caller adds the `\n`.
package enum AdapterCodec {
    // MARK: - Requests

    /// The request as a line, with `id`.
    package static func encode(_ request: AdapterRequest, id: Int) -> String {
        var m: [(key: String, value: JSONValue)] = [("id", .int(id)), ("op", .string(request.name))]
        switch request {
        case .hello(let version, let client):
            m += [("protocol", .int(version)), ("client", .string(client))]
        case .bye: break
        case .operation(let routed):
            // A peer's operation reaches its own adapter as a plain operation: the protocol speaks to one device.
            let op = routed.local
            switch op {
            case .getMigrationFlags, .getState, .getDataSize, .reset, .reopen: break
            case .feature(let flags, let payload): m += [("flags", .int(flags)), ("payload", base64(payload))]
            case .setState(let s): m += [("state", .int(s))]
            case .read(let fd, let count): m += [("fd", .int(fd)), ("count", .int(count))]
            case .write(let fd, let bytes): m += [("fd", .int(fd)), ("data", base64(bytes))]
            case .close(let fd), .precopyInfo(let fd): m += [("fd", .int(fd))]
            case .access(let a): m += a.numbers.map { ($0.0, .int($0.1)) }
            case .dataFD(let fd, let call):
                m += [("fd", .int(fd))] + call.numbers.map { ($0.0, .int($0.1)) }
                if let b = call.payload { m.append(("data", base64(b))) }
            case .configRead(let offset, let width), .regionRead(let offset, let width):
                m += [("offset", .int(offset)), ("width", .int(width))]
            case .disableInterrupts(let index): m += [("index", .int(index))]
            case .regionWrite(let offset, let width, let value):
                m += [("offset", .int(offset)), ("width", .int(width)), ("value", .int(value))]
            case .dataRead(let offset, let count): m += [("offset", .int(offset)), ("count", .int(count))]
            case .dataWrite(let offset, let bytes): m += [("offset", .int(offset)), ("data", base64(bytes))]
            case .dmaLoggingStart(let pageSize, let ranges):
                m += [
                    ("page_size", .int(pageSize)),
                    ("ranges", .array(ranges.map { .object([("iova", .int($0.iova)), ("length", .int($0.length))]) })),
                ]
            case .dmaLoggingStop, .regionInfo, .onPeer, .onForeign: break
            case .dmaLoggingReport(let iova, let length, let pageSize, let bitmap):
                m += [
                    ("iova", .int(iova)), ("length", .int(length)), ("page_size", .int(pageSize)),
                    ("bitmap", base64(bitmap)),
                ]
            }
        }
        return JSONValue.object(m).text
    }

    /// Reads a request line. Returns the id as written (any JSON value, echoed back verbatim) and the request;
    /// throws ``AdapterProtocolError`` naming the problem. When the line is an object with an id but a bad request,
    /// the error's id is still recoverable with ``requestID(_:)``.
    package static func decodeRequest(_ line: String) throws -> (id: JSONValue, request: AdapterRequest) {
        let o = try object(line, what: "request")
        guard let id = o["id"] else { throw AdapterProtocolError("request has no \"id\"") }
        guard let op = o["op"]?.stringValue else { throw AdapterProtocolError("request has no \"op\" string") }
        let f = Fields(o, context: "request '\(op)'")
        let request: AdapterRequest
        if op == "hello" {
            request = .hello(protocolVersion: try f.int("protocol"), client: (try? f.string("client")) ?? "")
            return (id, request)
        }
        if op == "bye" { return (id, .bye) }
        guard let kind = DeviceOperation.Kind(rawValue: op) else { throw AdapterProtocolError("unknown op '\(op)'") }
        switch kind {
        case .getMigrationFlags: request = .operation(.getMigrationFlags)
        case .feature: request = .operation(.feature(flags: try f.int("flags"), payload: try f.bytes("payload")))
        case .getState: request = .operation(.getState)
        case .setState: request = .operation(.setState(try f.int("state")))
        case .getDataSize: request = .operation(.getDataSize)
        case .read:
            request = .operation(
                .read(fd: try f.int("fd"), count: try f.int("count", upTo: AdapterProtocol.maxReadCount)))
        case .write: request = .operation(.write(fd: try f.int("fd"), bytes: try f.bytes("data")))
        case .close: request = .operation(.close(fd: try f.int("fd")))
        case .precopyInfo: request = .operation(.precopyInfo(fd: try f.int("fd")))
        case .reset: request = .operation(.reset)
        case .reopen: request = .operation(.reopen)
        case .configRead: request = .operation(.configRead(offset: try f.int("offset"), width: try f.width()))
        case .disableInterrupts: request = .operation(.disableInterrupts(index: try f.int("index")))
        case .regionRead: request = .operation(.regionRead(offset: try f.int("offset"), width: try f.width()))
        case .regionWrite:
            request = .operation(
                .regionWrite(offset: try f.int("offset"), width: try f.width(), value: try f.int("value")))
        case .dataRead:
            request = .operation(
                .dataRead(offset: try f.int("offset"), count: try f.int("count", upTo: AdapterProtocol.maxReadCount)))
        case .dataWrite: request = .operation(.dataWrite(offset: try f.int("offset"), bytes: try f.bytes("data")))
        case .dmaLoggingStart:
            request = .operation(.dmaLoggingStart(pageSize: try f.int("page_size"), ranges: try f.ranges("ranges")))
        case .dmaLoggingStop: request = .operation(.dmaLoggingStop)
        case .regionInfo: request = .operation(.regionInfo)
        case .dmaLoggingReport:
            let bitmap = try f.bytes("bitmap")
            guard bitmap.count <= maxBitmapBytes else {
                throw AdapterProtocolError(
                    "request 'dma-logging-report': \"bitmap\" has \(bitmap.count) bytes, more than \(maxBitmapBytes)")
            }
            request = .operation(
                .dmaLoggingReport(
                    iova: try f.int("iova"), length: try f.int("length"),
                    pageSize: try f.int("page_size"), bitmap: bitmap))
        case .accessConfigWrite, .accessBarRead, .accessEnableInterrupts:
            let name = String(op.dropFirst("access-".count))
            guard let a = DeviceAccess(name: name, number: { o[$0]?.integer(UInt64.self) }) else {
                throw AdapterProtocolError("request '\(op)' lacks an argument or has one out of range")
            }
            request = .operation(.access(a))
        case .dataFDFlags, .dataFDStatusFlags, .dataFDSeek, .dataFDPread, .dataFDPwrite, .dataFDPoll,
            .dataFDPrecopyInfo, .dataFDIoctl:
            let name = String(op.dropFirst("data-fd-".count))
            let payload = name == "pwrite" ? try f.bytes("data") : nil
            guard let call = DataFDCall(name: name, number: { o[$0]?.integer(Int64.self) }, payload: payload) else {
                throw AdapterProtocolError("request '\(op)' lacks an argument or has one out of range")
            }
            request = .operation(.dataFD(fd: try f.int("fd"), call: call))
        }
        return (id, request)
    }

    /// The id of a request line, when the line is at least an object with one (for answering a bad request).
    package static func requestID(_ line: String) -> JSONValue? {
        (try? JSONParser.parseLine(line))?["id"]
    }

    // MARK: - Responses

    /// The response as a line, echoing `id` (`null` when the request had none that could be read).
    package static func encode(_ response: AdapterResponse, id: JSONValue) -> String {
        var m: [(key: String, value: JSONValue)] = [("id", id)]
        switch response {
        case .hello(let h):
            var ident: [(key: String, value: JSONValue)] = [
                ("kind", .string(h.identity.targetKind)),
                ("driver", .string(h.identity.driver)),
                ("detail", .string(h.identity.detail)),
            ]
            if let k = h.identity.kernelRelease { ident.append(("kernel_release", .string(k))) }
            if !h.identity.extra.isEmpty {
                ident.append(
                    ("extra", .object(h.identity.extra.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
            }
            m += [
                ("result", .string("hello")), ("protocol", .int(h.protocolVersion)),
                ("generation", .string(h.generation.rawValue)), ("identity", .object(ident)),
            ]
        case .error(let message, let timedOut):
            m += [("result", .string("error")), ("message", .string(message))]
            if timedOut { m.append(("timed_out", .bool(true))) }
        case .outcome(let outcome):
            switch outcome {
            case .done: m.append(("result", .string("done")))
            case .value(let v): m += [("result", .string("value")), ("value", .int(v))]
            case .state(let s, let fd): m += [("result", .string("state")), ("state", .int(s)), ("data_fd", .int(fd))]
            case .bytes(let b): m += [("result", .string("bytes")), ("data", base64(b))]
            case .precopy(let initial, let dirty):
                m += [("result", .string("precopy")), ("initial_bytes", .int(initial)), ("dirty_bytes", .int(dirty))]
            case .failed(let e): m += [("result", .string("failed")), ("errno", .string(e.name))]
            }
        }
        return JSONValue.object(m).text
    }

    /// Reads a response line: its id (nil when absent or not an integer) and the response.
    package static func decodeResponse(_ line: String) throws -> (id: Int?, response: AdapterResponse) {
        let o = try object(line, what: "response")
        let id = o["id"]?.integer(Int.self)
        guard let result = o["result"]?.stringValue else {
            throw AdapterProtocolError("response has no \"result\" string")
        }
        let f = Fields(o, context: "'\(result)' response")
        let response: AdapterResponse
        switch result {
        case "done": response = .outcome(.done)
        case "value": response = .outcome(.value(try f.int("value")))
        case "state": response = .outcome(.state(try f.int("state"), dataFD: try f.int("data_fd")))
        case "bytes": response = .outcome(.bytes(try f.bytes("data")))
        case "precopy":
            response = .outcome(
                .precopy(initialBytes: try f.int("initial_bytes"), dirtyBytes: try f.int("dirty_bytes")))
        case "failed":
            guard let raw = o["errno"] else { throw AdapterProtocolError("'failed' response has no \"errno\"") }
            let errno: Errno?
            switch raw {
            case .string(let s): errno = Errno(name: s)
            case .number: errno = raw.integer(Int32.self).flatMap { $0 > 0 ? Errno(rawValue: $0) : nil }
            default: errno = nil
            }
            guard let e = errno else {
                throw AdapterProtocolError(
                    "'failed' response has errno \(raw.text), which is not a known errno name or a positive number")
            }
            response = .outcome(.failed(e))
        case "error":
            response = .error(
                message: o["message"]?.stringValue ?? "(no message)", timedOut: o["timed_out"]?.boolValue ?? false)
        case "hello":
            let version: Int = try f.int("protocol")
            let genText = try f.string("generation")
            guard let generation = ProtocolGeneration(rawValue: genText) else {
                throw AdapterProtocolError("'hello' response has generation '\(genText)' (expected \"v1\" or \"v2\")")
            }
            let ident = o["identity"] ?? .object([])
            guard case .object = ident else {
                throw AdapterProtocolError("'hello' response: \"identity\" is \(ident.typeName), not an object")
            }
            var extra: [String: String] = [:]
            if case .object(let members)? = ident["extra"] {
                for (k, v) in members { extra[k] = v.stringValue ?? v.text }
            }
            let identity = DeviceIdentity(
                targetKind: ident["kind"]?.stringValue ?? "exec",
                driver: ident["driver"]?.stringValue ?? "unknown",
                detail: ident["detail"]?.stringValue ?? "",
                kernelRelease: ident["kernel_release"]?.stringValue, extra: extra)
            response = .hello(AdapterHello(protocolVersion: version, generation: generation, identity: identity))
        default:
            throw AdapterProtocolError("unknown result '\(result)'")
        }
        return (id, response)
    }

    /// The most ranges a `dma-logging-start` request may carry: 16 pages of them, past the one page the kernel's
    /// core accepts, so that a request over the limit can still be sent.
    package static let maxRanges = 4096
    /// The largest `dma-logging-report` bitmap: 1 MiB, one bit per page of 32 GiB at 4 KiB pages.
    package static let maxBitmapBytes = 1 << 20

    // MARK: - Helpers

    static func base64(_ bytes: [UInt8]) -> JSONValue { .string(Data(bytes).base64EncodedString()) }

    static func object(_ line: String, what: String) throws -> JSONValue {
        let v: JSONValue
        do { v = try JSONParser.parseLine(line) } catch {
            throw AdapterProtocolError(
                "\(what) line is not JSON (\(error.message) at byte \(error.byteOffset)): "
                    + excerpt(line))
        }
        guard case .object = v else {
            throw AdapterProtocolError("\(what) line is \(v.typeName), not an object: \(excerpt(line))")
        }
        return v
    }

    /// The start of a line, for messages (a bad line can be megabytes long).
    package static func excerpt(_ line: String, limit: Int = 120) -> String {
        let flat = line.replacingOccurrences(of: "\n", with: "\\n")
        return flat.count <= limit ? "'\(flat)'" : "'\(flat.prefix(limit))…' (\(line.utf8.count) bytes)"
    }

    /// Typed access to an object's members, with messages that name the member and the request.
    struct Fields {
        let o: JSONValue
        let context: String
        init(_ o: JSONValue, context: String) {
            self.o = o
            self.context = context
        }

        func member(_ key: String) throws -> JSONValue {
            guard let v = o[key] else { throw AdapterProtocolError("\(context) has no \"\(key)\"") }
            return v
        }
        func int<I: FixedWidthInteger>(_ key: String) throws -> I {
            let v = try member(key)
            guard let n = v.integer(I.self) else {
                throw AdapterProtocolError("\(context): \"\(key)\" is \(v.text), not an integer in \(I.min)...\(I.max)")
            }
            return n
        }
        /// An integer no larger than `limit` (a count the server would allocate).
        func int(_ key: String, upTo limit: Int) throws -> Int {
            let n: Int = try int(key)
            guard n <= limit else { throw AdapterProtocolError("\(context): \"\(key)\" is \(n), more than \(limit)") }
            return n
        }
        func width() throws -> Int {
            let n: Int = try int("width")
            guard AdapterProtocol.widths.contains(n) else {
                throw AdapterProtocolError("\(context): \"width\" is \(n); a register access is 1, 2, 4 or 8 bytes")
            }
            return n
        }
        func string(_ key: String) throws -> String {
            let v = try member(key)
            guard let s = v.stringValue else {
                throw AdapterProtocolError("\(context): \"\(key)\" is \(v.typeName), not a string")
            }
            return s
        }
        func ranges(_ key: String) throws -> [DMARange] {
            let v = try member(key)
            guard case .array(let items) = v else {
                throw AdapterProtocolError("\(context): \"\(key)\" is \(v.typeName), not an array")
            }
            guard items.count <= AdapterCodec.maxRanges else {
                throw AdapterProtocolError(
                    "\(context): \"\(key)\" has \(items.count) ranges, more than \(AdapterCodec.maxRanges)")
            }
            return try items.map { item in
                let f = Fields(item, context: "\(context) range")
                return DMARange(iova: try f.int("iova"), length: try f.int("length"))
            }
        }
        func bytes(_ key: String) throws -> [UInt8] {
            let s = try string(key)
            guard let d = Data(base64Encoded: s) else {
                throw AdapterProtocolError("\(context): \"\(key)\" is not valid base64")
            }
            return [UInt8](d)
        }
    }
}
