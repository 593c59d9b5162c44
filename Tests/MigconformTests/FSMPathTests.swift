import Foundation
import MigconformSpec
import Testing

/// The spec's combination-transition expectations against the kernel's own paths (``KernelPathTable``) for every
/// flag set.
@Suite struct FSMPathTests {
    struct Cell {
        var from: String
        var to: String
        var text: String
    }

    /// Reads the table: flag set -> cells, each cell's outcome as the table writes it.
    static func tables() throws -> [Set<String>: [Cell]] {
        var result: [Set<String>: [Cell]] = [:]
        var features: Set<String>?
        for line in KernelPathTable.text.split(separator: "\n") {
            if line.hasPrefix("flags ") {
                features = Set(line.dropFirst("flags ".count).split(separator: ",").map(String.init))
                continue
            }
            guard let f = features, let colon = line.firstIndex(of: ":") else {
                Issue.record("a line outside a flag set or without a colon: \(line)")
                continue
            }
            let pair = line[..<colon].split(separator: " ").map(String.init)
            guard pair.count == 2 else {
                Issue.record("not FROM TO: \(line)")
                continue
            }
            let outcome = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            result[f, default: []].append(Cell(from: pair[0], to: pair[1], text: outcome))
        }
        return result
    }

    @Test
    func combinationExpectationsMatchTheKernelTable() throws {
        let tables = try Self.tables()
        #expect(tables.count == 4)
        var compared = 0
        for (features, cells) in tables {
            let machine = Machine(spec: TestSupport.v2, features: features)
            for cell in cells {
                let path = machine.path(from: cell.from, to: cell.to)
                let settable = machine.isSettable(cell.to)
                if cell.text == "refused" || cell.text == "hang" {
                    // Refused: ERROR, an unadvertised state, or a forbidden pair.
                    #expect(
                        path == nil || !settable,
                        "\(features) \(cell.from)->\(cell.to): spec walks \(String(describing: path))")
                } else if cell.text == "stay" {
                    #expect(path?.isEmpty == true, "\(features) \(cell.from)->\(cell.to)")
                } else {
                    let steps = cell.text.split(separator: " ").map(String.init).filter { $0 != "+fd" }
                    guard let path else {
                        Issue.record(
                            "\(features) \(cell.from)->\(cell.to): spec finds no path, kernel walks \(cell.text)")
                        continue
                    }
                    #expect(path.last?.to == cell.to)
                    #expect(
                        path.count == steps.count,
                        "\(features) \(cell.from)->\(cell.to): spec \(path.map(\.to)), kernel \(steps)")
                    #expect(
                        (path.last?.session.opensSession ?? false) == cell.text.hasSuffix(" +fd"),
                        "\(features) \(cell.from)->\(cell.to): data_fd expectation differs")
                    // Step by step, the spec's path is the kernel's.
                    #expect(
                        path.map(\.to) == steps,
                        "\(features) \(cell.from)->\(cell.to): spec \(path.map(\.to)), kernel \(steps)")
                }
                compared += 1
            }
        }
        // Rows are the settable states of each flag set (4, 5, 5 and 7), columns the eight states.
        #expect(compared == (4 + 5 + 5 + 7) * 8)
    }

    @Test
    func forbiddenPairsAreTheKernelsHangingPairs() throws {
        var hangs = 0
        for (features, cells) in try Self.tables() {
            let machine = Machine(spec: TestSupport.v2, features: features)
            for cell in cells where cell.text == "hang" {
                #expect(machine.isForbidden(from: cell.from, to: cell.to), "\(features) \(cell.from)->\(cell.to)")
                hangs += 1
            }
        }
        // STOP_COPY -> PRE_COPY with pre-copy, and STOP_COPY -> PRE_COPY_P2P too with p2p.
        #expect(hangs == 3)
    }
}
