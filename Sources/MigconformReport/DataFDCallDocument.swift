import Foundation
import MigconformDevice

/// A data fd call as reports and journals write it: `{"name": "pwrite", "offset": 0, "bytes": "5a5a"}`.
struct DataFDCallDocument: Codable {
    var name: String
    var offset: Int64?, count: Int64?, argsz: Int64?, flags: Int64?, request: Int64?
    var bytes: String?

    init(_ call: DataFDCall) {
        name = call.name
        for (key, value) in call.numbers {
            switch key {
            case "offset": offset = value
            case "count": count = value
            case "argsz": argsz = value
            case "flags": flags = value
            default: request = value
            }
        }
        bytes = call.payload.map(PlainText.hex)
    }

    /// The call, or nil when an argument is missing or out of range.
    var call: DataFDCall? {
        let numbers = ["offset": offset, "count": count, "argsz": argsz, "flags": flags, "request": request]
        return DataFDCall(name: name, number: { numbers[$0] ?? nil }, payload: bytes.flatMap(PlainText.bytes(fromHex:)))
    }

    /// One line of JSON, keys sorted.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }
}
