import Foundation
import MigconformDevice

/// A data fd call as reports and journals write it: `{"name": "pwrite", "offset": 0, "bytes": "5a5a"}`.
struct DataFDCallDocument: Codable {
    var name: String
    var offset: Int64?, count: Int64?, argsz: Int64?, flags: Int64?, request: Int64?
    var bytes: String?

    init(_ call: DataFDCall) {
        name = call.name
        let n = Dictionary(call.numbers) { _, last in last }
        (offset, count, argsz, flags, request) = (n["offset"], n["count"], n["argsz"], n["flags"], n["request"])
        bytes = call.payload.map(PlainText.hex)
    }

    /// The call, or nil when an argument is missing or out of range.
    var call: DataFDCall? {
        let numbers = ["offset": offset, "count": count, "argsz": argsz, "flags": flags, "request": request]
        return DataFDCall(name: name, number: { numbers[$0] ?? nil }, payload: bytes.flatMap(PlainText.bytes(fromHex:)))
    }
}
