// swift-tools-version:6.0
import PackageDescription

/// Targets already in the Swift 6 language mode; the rest stay in Swift 5 mode (`swiftLanguageModes` below).
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

// The modules follow the data flow, one stage each:
//   Spec (load + validate) -> Cases (expand) -> Plan (order) -> Device (targets) -> Run (execute) -> Report (render)
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
        .target(name: "MigconformReport", dependencies: ["MigconformRun", "MigconformSpec", "MigconformDevice"]),
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
                                         "MigconformReport", "MigconformSelfCheck", "MigconformExplore"]),
        .testTarget(name: "MigconformTests",
                    dependencies: ["MigconformSpec", "MigconformCases", "MigconformPlan", "MigconformDevice",
                                   "MigconformReference", "MigconformLinux", "MigconformRun",
                                   "MigconformReport", "MigconformSelfCheck", "MigconformExplore"]),
    ],
    swiftLanguageModes: [.v5]
)
