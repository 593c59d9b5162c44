// swift-tools-version:6.0
import PackageDescription

// The modules follow the data flow, one stage each:
//   Spec (load + validate) -> Cases (expand) -> Plan (order) -> Device (targets) -> Run (execute) -> Report (render)
//   -> Lab (LAVA, KernelCI, KCIDB)
/// Targets already in the Swift 6 language mode (the package default is still 5).
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "migconform",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "migconform", targets: ["migconform"]),
    ],
    targets: [
        .target(name: "MigconformSpec", swiftSettings: swift6),
        .target(name: "MigconformCases", dependencies: ["MigconformSpec"], swiftSettings: swift6),
        .target(name: "MigconformPlan", dependencies: ["MigconformSpec", "MigconformCases"], swiftSettings: swift6),
        .target(name: "MigconformDevice"),
        .target(name: "MigconformReference", dependencies: ["MigconformDevice"]),
        // The Linux kernel target: real ioctls on /dev/vfio. The C shim only wraps the variadic ioctl(2).
        .target(name: "CVFIOShim"),
        .target(name: "MigconformLinux", dependencies: ["MigconformDevice", "CVFIOShim"]),
        .target(name: "MigconformRun",
                dependencies: ["MigconformSpec", "MigconformCases", "MigconformPlan", "MigconformDevice"],
                swiftSettings: swift6),
        .target(name: "MigconformReport", dependencies: ["MigconformRun", "MigconformSpec", "MigconformDevice"],
                swiftSettings: swift6),
        // Lab engines: LAVA definitions and live reporting, KernelCI fragments, KCIDB submissions.
        .target(name: "MigconformLab",
                dependencies: ["MigconformRun", "MigconformSpec", "MigconformDevice", "MigconformReport"],
                swiftSettings: swift6),
        // Beyond single cases: the spec's machine as a model, explored in depth and by random walks.
        .target(name: "MigconformExplore", dependencies: ["MigconformSpec", "MigconformDevice", "MigconformRun"],
                swiftSettings: swift6),
        // The suite's proof of power: every fault of the catalogue must be caught by the rules it breaks.
        .target(name: "MigconformSelfCheck",
                dependencies: ["MigconformSpec", "MigconformDevice", "MigconformReference", "MigconformRun",
                               "MigconformExplore"],
                swiftSettings: swift6),
        .executableTarget(name: "migconform",
                          dependencies: ["MigconformSpec", "MigconformCases", "MigconformPlan", "MigconformDevice",
                                         "MigconformReference", "MigconformLinux", "MigconformRun",
                                         "MigconformReport", "MigconformLab", "MigconformSelfCheck",
                                         "MigconformExplore"],
                          swiftSettings: swift6),
        .testTarget(name: "MigconformTests",
                    dependencies: ["MigconformSpec", "MigconformCases", "MigconformPlan", "MigconformDevice",
                                   "MigconformReference", "MigconformLinux", "MigconformRun",
                                   "MigconformReport", "MigconformLab", "MigconformSelfCheck", "MigconformExplore",
                                   "CVFIOShim"],
                    swiftSettings: swift6),
    ],
    swiftLanguageModes: [.v5]
)
