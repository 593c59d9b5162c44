// swift-tools-version:6.0
import PackageDescription

// The modules follow the data flow, one stage each:
//   Spec (load + validate) -> Cases (expand) -> Plan (order) -> Device (targets) -> Run (execute) -> Report (render)
let package = Package(
    name: "migconform",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "migconform", targets: ["migconform"]),
    ],
    targets: [
        // The shared vocabulary below Spec and Device: JSON, errno names, protocol generations, requirement levels.
        .target(name: "MigconformBase", swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "MigconformSpec", dependencies: ["MigconformBase"]),
        .target(name: "MigconformCases", dependencies: ["MigconformSpec"]),
        .target(name: "MigconformPlan", dependencies: ["MigconformSpec", "MigconformCases"]),
        .target(name: "MigconformDevice", dependencies: ["MigconformBase"],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "MigconformReference", dependencies: ["MigconformDevice"],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        // The Linux kernel target: real ioctls on /dev/vfio. The C shim only wraps the variadic ioctl(2).
        .target(name: "CVFIOShim"),
        .target(name: "MigconformLinux", dependencies: ["MigconformDevice", "CVFIOShim"],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "MigconformRun",
                dependencies: ["MigconformSpec", "MigconformCases", "MigconformPlan", "MigconformDevice"]),
        .target(name: "MigconformReport", dependencies: ["MigconformRun", "MigconformSpec", "MigconformDevice"]),
        // Beyond single cases: the spec's machine as a model, explored in depth and by random walks.
        .target(name: "MigconformExplore", dependencies: ["MigconformSpec", "MigconformDevice", "MigconformRun"]),
        // The suite's proof of power: every fault of the catalogue must be caught by the rules it breaks.
        .target(name: "MigconformSelfCheck",
                dependencies: ["MigconformSpec", "MigconformDevice", "MigconformReference", "MigconformRun",
                               "MigconformExplore"]),
        .executableTarget(name: "migconform",
                          dependencies: ["MigconformBase", "MigconformSpec", "MigconformCases", "MigconformPlan",
                                         "MigconformDevice", "MigconformReference", "MigconformLinux", "MigconformRun",
                                         "MigconformReport", "MigconformSelfCheck", "MigconformExplore"]),
        .testTarget(name: "MigconformTests",
                    dependencies: ["MigconformBase", "MigconformSpec", "MigconformCases", "MigconformPlan",
                                   "MigconformDevice", "MigconformReference", "MigconformLinux", "MigconformRun",
                                   "MigconformReport", "MigconformSelfCheck", "MigconformExplore"]),
    ],
    swiftLanguageModes: [.v5]
)
