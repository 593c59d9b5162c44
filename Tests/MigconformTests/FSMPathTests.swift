import Foundation
import Testing
import MigconformSpec

/// The spec's combination-transition expectations against the kernel path table in `shared/reference/fsm-paths.md`
/// (a re-derivation of `vfio_mig_get_next_state()` for every flag set).
@Suite struct FSMPathTests {
    struct Cell { var from: String; var to: String; var text: String }

    /// Parses the four tables: flag set name -> cells.
    static func tables() throws -> [Set<String>: [Cell]] {
        let url = TestSupport.sharedReference.appendingPathComponent("fsm-paths.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        var result: [Set<String>: [Cell]] = [:]
        var features: Set<String>?
        var columns: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("### migration_flags = ") {
                let names = line.dropFirst("### migration_flags = ".count).prefix { $0 != " " }
                features = Set(names.split(separator: "|").map {
                    ["STOP_COPY": "stop-copy", "P2P": "p2p", "PRE_COPY": "pre-copy"][String($0)]!
                })
                columns = []
                continue
            }
            guard let f = features, line.hasPrefix("|") else { continue }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.first == "from \\ to" { columns = Array(cells.dropFirst()); continue }
            if cells.first?.hasPrefix("---") == true || columns.isEmpty { continue }
            for (to, cell) in zip(columns, cells.dropFirst()) {
                result[f, default: []].append(Cell(from: cells[0], to: to, text: cell))
            }
        }
        return result
    }

    static let available = FileManager.default.fileExists(
        atPath: TestSupport.sharedReference.appendingPathComponent("fsm-paths.md").path)

    @Test(.enabled(if: available, "shared/reference/fsm-paths.md is not beside this checkout"))
    func combinationExpectationsMatchTheKernelTable() throws {
        let tables = try Self.tables()
        #expect(tables.count == 4)
        var compared = 0
        for (features, cells) in tables {
            let machine = Machine(spec: TestSupport.v2, features: features)
            for cell in cells {
                let path = machine.path(from: cell.from, to: cell.to)
                let settable = machine.isSettable(cell.to)
                if cell.text.contains("EINVAL") {
                    // Refused: ERROR, an unadvertised state, or a forbidden pair.
                    #expect(path == nil || !settable, "\(features) \(cell.from)->\(cell.to): spec walks \(String(describing: path))")
                } else if cell.text.hasPrefix("no-op") {
                    #expect(path?.isEmpty == true, "\(features) \(cell.from)->\(cell.to)")
                } else {
                    let steps = cell.text.replacingOccurrences(of: " [FD]", with: "").components(separatedBy: "->")
                    guard let path else { Issue.record("\(features) \(cell.from)->\(cell.to): spec finds no path, kernel walks \(cell.text)"); continue }
                    #expect(path.last?.to == cell.to)
                    #expect(path.count == steps.count, "\(features) \(cell.from)->\(cell.to): spec \(path.map(\.to)), kernel \(steps)")
                    #expect((path.last?.session.opensSession ?? false) == cell.text.hasSuffix("[FD]"),
                            "\(features) \(cell.from)->\(cell.to): data_fd expectation differs")
                    // Step by step, the spec's path is the kernel's.
                    #expect(path.map(\.to) == steps, "\(features) \(cell.from)->\(cell.to): spec \(path.map(\.to)), kernel \(steps)")
                }
                compared += 1
            }
        }
        // Rows are the settable states of each flag set (4, 5, 5 and 7), columns the eight states.
        #expect(compared == (4 + 5 + 5 + 7) * 8)
    }

    @Test(.enabled(if: available, "shared/reference/fsm-paths.md is not beside this checkout"))
    func forbiddenPairsAreTheKernelsHangingPairs() throws {
        for (features, cells) in try Self.tables() {
            let machine = Machine(spec: TestSupport.v2, features: features)
            for cell in cells where cell.text.contains("HANG") {
                #expect(machine.isForbidden(from: cell.from, to: cell.to), "\(features) \(cell.from)->\(cell.to)")
            }
        }
    }
}
