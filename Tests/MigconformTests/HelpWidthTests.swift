import Foundation
import MigconformReference
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
        runs += [["faults"], ["specs"]]
        for args in runs {
            let r = try TestSupport.shell(binary, args)
            #expect(r.status == 0, "migconform \(args.joined(separator: " ")): \(r.stderr)")
            #expect(!r.stdout.isEmpty)
            let long = overLong(r.stdout) + overLong(r.stderr)
            #expect(long.isEmpty, "migconform \(args.joined(separator: " ")):\n\(long.joined(separator: "\n"))")
        }
    }

    /// Every fault the listing names is a name `--target fault:NAME` takes, whole; a fault a plain run passes is
    /// listed with the explore command that catches it, and that command does.
    @Test func faultListingKeepsNamesWholeAndSaysWhatRunMisses() throws {
        let listing = try TestSupport.shell(binary, ["faults"])
        #expect(listing.status == 0)
        let lines = listing.stdout.components(separatedBy: "\n")
        let names = lines.filter { !$0.hasPrefix(" ") && !$0.isEmpty && !$0.hasSuffix(" faults") }
            .map { String($0.prefix { $0 != " " }) }
        #expect(Set(names) == Set(FaultCatalogue.entries.map(\.name)), "\(names)")
        let passing = FaultCatalogue.entries.filter(\.runPasses)
        #expect(passing.map(\.name) == ["breaks-after-failed-resume-and-reset"])
        for entry in passing {
            let start = try #require(lines.firstIndex { $0.hasPrefix(entry.name + " ") })
            let block = lines[start...].dropFirst().prefix { $0.hasPrefix(" ") }
            #expect(block.contains { $0.contains("caught by explore, not by run") }, "\(block)")
            let command = try #require(block.first { $0.hasPrefix("    migconform explore ") })
            #expect(command.contains("--target fault:\(entry.name) "))
            let args = command.split(separator: " ").dropFirst().map(String.init)
            let explore = try TestSupport.shell(binary, args)
            #expect(explore.status == 1, "\(command): \(explore.stdout)")
        }
        for entry in FaultCatalogue.entries where !entry.runPasses {
            let start = try #require(lines.firstIndex { $0.hasPrefix(entry.name + " ") })
            #expect(!lines[start...].dropFirst().prefix { $0.hasPrefix(" ") }.contains { $0.contains("not by run") })
        }
    }

    /// `devices` on a host whose devices have long names and problems: the target URI whole on its own line, every
    /// line within 100 columns.
    @Test func deviceListingFitsInOneHundredColumns() throws {
        // A short folder: a target URI is never broken, and a real one (`vfio:/dev/vfio/112/<uuid>`) is short.
        let root = URL(fileURLWithPath: "/tmp/dv" + UUID().uuidString.prefix(6))
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        let sys = root.appendingPathComponent("sys").path
        let dev = root.appendingPathComponent("dev").path
        let pci = "\(sys)/bus/pci/devices/0000:3b:00.1"
        let uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
        let mdev = "\(sys)/bus/mdev/devices/\(uuid)"
        for dir in [
            pci, mdev, "\(sys)/kernel/iommu_groups/112", "\(sys)/bus/pci/drivers/mlx5_vfio_pci_variant",
            "\(sys)/bus/mdev/drivers/vfio_mdev", "\(sys)/types/mtty-2-with-a-rather-long-type-name", "\(dev)/vfio",
        ] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try fm.createSymbolicLink(
            atPath: pci + "/driver", withDestinationPath: "\(sys)/bus/pci/drivers/mlx5_vfio_pci_variant")
        try fm.createSymbolicLink(atPath: pci + "/iommu_group", withDestinationPath: "\(sys)/kernel/iommu_groups/112")
        try fm.createSymbolicLink(atPath: mdev + "/driver", withDestinationPath: "\(sys)/bus/mdev/drivers/vfio_mdev")
        try fm.createSymbolicLink(atPath: mdev + "/iommu_group", withDestinationPath: "\(sys)/kernel/iommu_groups/112")
        let type = "\(sys)/types/mtty-2-with-a-rather-long-type-name"
        try fm.createSymbolicLink(atPath: mdev + "/mdev_type", withDestinationPath: type)
        try Data("Dual port serial with a name as long as a vendor would give it\n".utf8)
            .write(to: URL(fileURLWithPath: type + "/name"))
        for (file, text) in [("vendor", "0x15b3"), ("device", "0x101e"), ("class", "0x020000")] {
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: "\(pci)/\(file)"))
        }
        try Data().write(to: URL(fileURLWithPath: "\(dev)/vfio/112"))
        try Data().write(to: URL(fileURLWithPath: "\(dev)/vfio/vfio"))
        let r = try TestSupport.shell(binary, ["devices", "--sysfs", sys, "--dev", dev])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(overLong(r.stdout).isEmpty, "\(r.stdout)")
        let lines = r.stdout.components(separatedBy: "\n")
        #expect(lines.contains("vfio:\(dev)/vfio/112/0000:3b:00.1"), "\(r.stdout)")
        #expect(lines.contains("vfio:\(dev)/vfio/112/\(uuid)"), "\(r.stdout)")
        #expect(r.stdout.contains("2 VFIO device(s)"), "\(r.stdout)")
        // Without VFIO at all, the reason (with its fix) wraps too.
        let none = try TestSupport.shell(binary, ["devices", "--sysfs", root.path, "--dev", root.path])
        #expect(none.status == 3)
        #expect(none.stdout.contains("no VFIO devices: ") && overLong(none.stdout).isEmpty, "\(none.stdout)")
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
        // The built-in target brings its peer and foreign device, as a run of it would.
        #expect(
            words.contains("(features: data-size, dma-logging, foreign-peer, p2p, peer, stop-copy)"), "\(v2.stdout)")
        #expect(!v2.stdout.contains(" 0 us"), "\(v2.stdout)")
    }
}
