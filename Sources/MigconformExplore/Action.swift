import MigconformDevice

/// One step of an explored sequence, in the spec's terms (the model turns each into device operations).
package enum Action: Hashable, Codable, Sendable, CustomStringConvertible {
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

    package var description: String {
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

extension Action {
    /// Parses the text ``description`` writes, so a sequence recorded in a report can be replayed.
    package init?(text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        switch t {
        case "reset":
            self = .reset
            return
        case "drain":
            self = .drain
            return
        case "write saved stream":
            self = .writeSaved
            return
        case "write half of the saved stream":
            self = .writePartial
            return
        case "write garbage":
            self = .writeGarbage
            return
        case "close fd":
            self = .close
            return
        default: break
        }
        if t.hasPrefix("read "), let n = Int(t.dropFirst(5)) {
            self = .read(bytes: n)
            return
        }
        guard t.hasPrefix("set ") else { return nil }
        let rest = String(t.dropFirst(4))
        if let open = rest.firstIndex(of: "("), rest.hasSuffix(")"),
            let v = UInt32(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)])
        {
            self = .setRaw(v, label: rest[..<open].trimmingCharacters(in: .whitespaces))
            return
        }
        if let v = UInt32(rest) {
            self = .setRaw(v, label: rest)
            return
        }
        self = .set(rest)
    }

    /// The numbered step list ``Explorer/results(_:)`` writes into a finding's message (`1. set STOP; 2. reset`).
    package static func parseSequence(_ message: String) -> [Action]? {
        guard let colon = message.range(of: ": ", options: .backwards) else { return nil }
        var out: [Action] = []
        for part in message[colon.upperBound...].components(separatedBy: "; ") {
            guard let dot = part.firstIndex(of: "."), let a = Action(text: String(part[part.index(after: dot)...]))
            else { return nil }
            out.append(a)
        }
        return out.isEmpty ? nil : out
    }
}
