import MigconformDevice

/// One step of an explored sequence, in the spec's terms (the model turns each into device operations).
public enum Action: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Request a state by its spec name.
    case set(String)
    /// Request a raw value that must be refused (ERROR, out of range, unadvertised).
    case setRaw(UInt32, label: String)
    case reset
    /// Read up to `bytes` from the open saving session (partial reads leave the rest behind).
    case read(bytes: Int)
    /// Read the open saving session to its end (a complete save).
    case drain
    /// Write the last complete save into the open resume session (a valid resume).
    case writeSaved
    /// Write only the first half of the last complete save (an incomplete resume).
    case writePartial
    /// Write bytes that are no migration stream at all.
    case writeGarbage
    /// Close the session's fd (abandon it).
    case close

    public var description: String {
        switch self {
        case .set(let s): return "set \(s)"
        case .setRaw(let v, let label): return "set \(label == String(v) ? label : "\(label) (\(v))")"
        case .reset: return "reset"
        case .read(let n): return "read \(n)"
        case .drain: return "drain"
        case .writeSaved: return "write saved stream"
        case .writePartial: return "write half of the saved stream"
        case .writeGarbage: return "write garbage"
        case .close: return "close fd"
        }
    }
}
