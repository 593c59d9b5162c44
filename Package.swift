// swift-tools-version:6.0
import PackageDescription

// The modules follow the data flow, one stage each:
//   Spec (load + validate) -> Cases (expand) -> Plan (order) -> Device (targets) -> Run (execute) -> Report (render)
//   -> Lab (LAVA, KernelCI, KCIDB)
// Base holds the vocabulary below Spec and Device. Every module builds in the Swift 6 language mode.
// The C targets' debug information is DWARF 4: valgrind, which the benchmarks' instruction counts come from, cannot
// read the DWARF 5 that clang writes by default.
let cDebugInfo: [CSetting] = [.unsafeFlags(["-gdwarf-4"])]

let package = Package(
    name: "migconform",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "migconform", targets: ["migconform"])
    ],
    targets: [
        // The shared vocabulary below Spec and Device: JSON, errno names, protocol generations, requirement levels.
        .target(name: "MigconformBase"),
        // SHA-256 on the x86 SHA extensions, for the spec's and the report files' hashes (SHA256.swift otherwise).
        .target(name: "CSHA256", cSettings: cDebugInfo),
        .target(name: "MigconformSpec", dependencies: ["MigconformBase", "CSHA256"]),
        .target(name: "MigconformCases", dependencies: ["MigconformSpec"]),
        .target(name: "MigconformPlan", dependencies: ["MigconformSpec", "MigconformCases"]),
        .target(name: "MigconformDevice", dependencies: ["MigconformBase"]),
        .target(name: "MigconformReference", dependencies: ["MigconformDevice"]),
        // The Linux kernel target: real ioctls on /dev/vfio. The C shim wraps the variadic ioctl(2) and eventfd(2)
        // and exports <linux/vfio.h>'s numbers for a test to compare with the Swift side.
        .target(name: "CVFIOShim", cSettings: cDebugInfo),
        .target(name: "MigconformLinux", dependencies: ["MigconformDevice", "CVFIOShim"]),
        .target(
            name: "MigconformRun",
            dependencies: ["MigconformSpec", "MigconformCases", "MigconformPlan", "MigconformDevice"]),
        .target(name: "MigconformReport", dependencies: ["MigconformRun", "MigconformSpec", "MigconformDevice"]),
        // Lab engines: LAVA definitions and live reporting, KernelCI fragments, KCIDB submissions.
        .target(
            name: "MigconformLab",
            dependencies: ["MigconformRun", "MigconformSpec", "MigconformDevice", "MigconformReport"]),
        // Beyond single cases: the spec's machine as a model, explored in depth and by random walks.
        .target(name: "MigconformExplore", dependencies: ["MigconformSpec", "MigconformDevice", "MigconformRun"]),
        // The suite's proof of power: every fault of the catalogue must be caught by the rules it breaks.
        .target(
            name: "MigconformSelfCheck",
            dependencies: [
                "MigconformSpec", "MigconformDevice", "MigconformReference", "MigconformRun",
                "MigconformExplore",
            ]),
        .executableTarget(
            name: "migconform",
            dependencies: [
                "MigconformBase", "MigconformSpec", "MigconformCases", "MigconformPlan",
                "MigconformDevice", "MigconformReference", "MigconformLinux",
                "MigconformRun", "MigconformReport", "MigconformLab",
                "MigconformSelfCheck", "MigconformExplore",
            ]),
        .testTarget(
            name: "MigconformTests",
            dependencies: [
                "MigconformBase", "MigconformSpec", "MigconformCases", "MigconformPlan",
                "MigconformDevice", "MigconformReference", "MigconformLinux", "MigconformRun",
                "MigconformReport", "MigconformLab", "MigconformSelfCheck",
                "MigconformExplore", "CVFIOShim",
            ]),
    ],
    swiftLanguageModes: [.v6]
)

// Release builds drop the run-time exclusivity checks: the runner's hot path reads and writes a few class
// properties per device operation, and checking each access cost a seventh of its instructions. Debug builds,
// which the tests use, keep every check.
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
        ]
}
