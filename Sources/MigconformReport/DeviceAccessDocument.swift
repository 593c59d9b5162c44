import Foundation
import MigconformDevice

/// A device access as reports and journals write it: `{"name": "bar-read", "index": 0, "offset": 0, "width": 1}`.
struct DeviceAccessDocument: Codable {
    var name: String
    var offset: UInt64?, width: UInt64?, value: UInt64?, index: UInt64?

    init(_ access: DeviceAccess) {
        name = access.name
        let n = Dictionary(access.numbers) { _, last in last }
        (offset, width, value, index) = (n["offset"], n["width"], n["value"], n["index"])
    }

    /// The access, or nil when an argument is missing or out of range.
    var access: DeviceAccess? {
        let numbers = ["offset": offset, "width": width, "value": value, "index": index]
        return DeviceAccess(name: name, number: { numbers[$0] ?? nil })
    }
}
