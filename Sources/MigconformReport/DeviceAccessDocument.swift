import Foundation
import MigconformDevice

/// A device access as reports and journals write it: `{"name": "bar-read", "index": 0, "offset": 0, "width": 1}`.
struct DeviceAccessDocument: Codable {
    var name: String
    var offset: UInt64?, width: UInt64?, value: UInt64?, index: UInt64?

    init(_ access: DeviceAccess) {
        name = access.name
        for (key, v) in access.numbers {
            switch key {
            case "offset": offset = v
            case "width": width = v
            case "value": value = v
            default: index = v
            }
        }
    }

    /// The access, or nil when an argument is missing or out of range.
    var access: DeviceAccess? {
        let numbers = ["offset": offset, "width": width, "value": value, "index": index]
        return DeviceAccess(name: name, number: { numbers[$0] ?? nil })
    }

    /// One line of JSON, keys sorted.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }
}
