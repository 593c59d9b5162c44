import Foundation
import Testing

/// What migconform prints for people fits in 100 columns: help and listings get pasted into mail, which wraps there.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct HelpWidthTests {
    var binary: URL { TestSupport.binary! }

    /// The lines of `text` longer than 100 characters, each with its length.
    func overLong(_ text: String) -> [String] {
        text.components(separatedBy: "\n").filter { $0.count > 100 }.map { "\($0.count): \($0)" }
    }

    /// The command names of `migconform --help` (the rows of COMMANDS, two spaces in).
    func commandNames(_ topLevel: String) -> [String] {
        let lines = topLevel.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "COMMANDS:") else { return [] }
        var names: [String] = []
        for line in lines[(start + 1)...] {
            if line.isEmpty { break }
            if line.hasPrefix("  ") && !line.hasPrefix("   ") {
                names.append(String(line.dropFirst(2).prefix { $0 != " " }))
            }
        }
        return names
    }

    @Test func everyHelpAndListingFitsInOneHundredColumns() throws {
        let top = try TestSupport.shell(binary, ["--help"])
        #expect(top.status == 0)
        #expect(overLong(top.stdout).isEmpty, "migconform --help:\n\(overLong(top.stdout).joined(separator: "\n"))")
        let names = commandNames(top.stdout)
        #expect(names.count >= 19 && names.contains("run") && names.contains("fuzz"), "\(names)")
        var runs = names.map { [$0, "--help"] }
        runs += [["list", "--coverage"], ["list"], ["list", "--rules"], ["list", "--rules", "--target", "ref:v1"]]
        runs += [["list", "--target", "ref:v1"], ["plan", "--target", "ref:v1"], ["plan", "--target", "ref:v2"]]
        for args in runs {
            let r = try TestSupport.shell(binary, args)
            #expect(r.status == 0, "migconform \(args.joined(separator: " ")): \(r.stderr)")
            #expect(!r.stdout.isEmpty)
            let long = overLong(r.stdout) + overLong(r.stderr)
            #expect(long.isEmpty, "migconform \(args.joined(separator: " ")):\n\(long.joined(separator: "\n"))")
        }
    }

    /// A v1 device has no optional features, and discovery times its operations in whole microseconds: the plan
    /// says so, rather than `(features: )` and a cost of `0 us` per operation.
    @Test func planSaysWhatItMeasured() throws {
        let v1 = try TestSupport.shell(binary, ["plan", "--target", "ref:v1"])
        #expect(v1.status == 0)
        #expect(!v1.stdout.contains("features: )"), "\(v1.stdout)")
        #expect(v1.stdout.contains("no optional features"), "\(v1.stdout)")
        #expect(!v1.stdout.contains(" 0 us"), "\(v1.stdout)")
        let v2 = try TestSupport.shell(binary, ["plan", "--target", "ref:v2?features=stop-copy,p2p"])
        let words = v2.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
        #expect(words.contains("(features: data-size, dma-logging, p2p, stop-copy)"), "\(v2.stdout)")
        #expect(!v2.stdout.contains(" 0 us"), "\(v2.stdout)")
    }
}
