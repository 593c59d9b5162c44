/// What a KernelCI (kernelci-pipeline) deployment needs to run migconform on a LAVA lab: printed by
/// `migconform integrate kernelci`.
///
/// Three pieces: the kernel config fragment (VFIO, VFIO_PCI and the variant driver under test, all built in: the
/// boot templates deploy no modules), the LAVA test template for kernelci-core
/// (`config/runtime/tests/migconform.jinja2`, pointing at the definition ``LavaDefinition`` describes; for mtty it
/// first creates the mdev), and the kernelci-pipeline configuration: a kbuild like upstream's x86 ones (the gcc-14
/// x86 kselftest image, `x86_64_defconfig`) with its own scheduler entry (a checkout triggers it), the job with
/// `kcidb_test_suite: migconform`, a `rootfs_ref` to a `rootfs:` entry it defines, the URL of the release binary
/// (`scripts/build-release.sh`) the definition downloads, the job's scheduler entry, and the platform (upstream's
/// `qemu-x86_64` for mtty, which needs no hardware). KernelCI turns each LAVA case into the KCIDB path
/// `<kcidb_test_suite>.<test set>.<case>`, which is the path `migconform export kcidb` writes too.
package enum LavaKernelCI {
    /// A variant driver migconform can qualify, with the kernel options that build it.
    package struct Driver: Sendable {
        /// The short name used on the command line (`mlx5`).
        package var name: String
        /// The kernel module (`mlx5_vfio_pci`).
        package var module: String
        /// Kconfig lines beyond the VFIO core.
        package var configs: [String]
    }

    /// Known variant drivers with migration support. The options each needs beyond its own symbol (the parent
    /// device's core driver) are the usual ones; check them against the kernel under test.
    package static let drivers: [Driver] = [
        Driver(name: "mlx5", module: "mlx5_vfio_pci", configs: ["CONFIG_MLX5_CORE=m", "CONFIG_MLX5_VFIO_PCI=m"]),
        Driver(
            name: "hisi-acc", module: "hisi_acc_vfio_pci",
            configs: ["CONFIG_CRYPTO_DEV_HISI_QM=m", "CONFIG_HISI_ACC_VFIO_PCI=m"]),
        Driver(name: "pds", module: "pds_vfio_pci", configs: ["CONFIG_PDS_CORE=m", "CONFIG_PDS_VFIO_PCI=m"]),
        Driver(
            name: "virtio", module: "virtio_vfio_pci",
            configs: ["CONFIG_VIRTIO_PCI=y", "CONFIG_VIRTIO_VFIO_PCI=m"]),
        Driver(
            name: "qat", module: "qat_vfio_pci", configs: ["CONFIG_CRYPTO_DEV_QAT_4XXX=m", "CONFIG_QAT_VFIO_PCI=m"]),
        Driver(
            name: "mtty", module: "mtty",
            configs: ["CONFIG_VFIO_MDEV=m", "CONFIG_SAMPLES=y", "CONFIG_SAMPLE_VFIO_MDEV_MTTY=m"]),
    ]

    /// Platforms kernelci-pipeline already defines (`config/platforms.yaml`): no `platforms:` entry is generated.
    package static let upstreamPlatforms: Set<String> = ["qemu-x86_64"]

    /// The Debian trixie NFS root upstream's `trixie` rootfs entry points at (`config/rootfs.yaml`): the default of
    /// the `trixie-migconform` entry, the binary coming from `migconform_url`.
    package static let defaultRootfsURL = "http://storage.kernelci.org/images/rootfs/debian/trixie/20260917.0/{debarch}"

    /// The VFIO core every variant needs.
    package static let coreConfigs = [
        "CONFIG_VFIO=y", "CONFIG_VFIO_PCI_CORE=y", "CONFIG_VFIO_PCI=y",
        "CONFIG_IOMMUFD=y", "CONFIG_VFIO_DEVICE_CDEV=y",
        "CONFIG_INTEL_IOMMU=y", "CONFIG_AMD_IOMMU=y",
    ]

    /// What the fragments are made for.
    package struct Settings: Sendable {
        package var driver: Driver
        /// The LAVA device type (the KernelCI platform's `base_name`).
        package var deviceType: String
        /// The target URI on that device type's hosts.
        package var target: String
        /// Where the definition printed by `migconform integrate lava` is kept.
        package var repository: String
        package var path: String
        /// The KCIDB test suite (first path component).
        package var suite: String
        package var arch: String
        /// Minutes the test action may take.
        package var jobTimeout: Int
        /// Where the job downloads the release binary from (the definition's MIGCONFORM_URL).
        package var migconformURL: String
        /// The NFS root of the `rootfs:` entry the job names (`{debarch}` as in upstream's entries).
        package var rootfsURL: String

        package init(
            driver: Driver, deviceType: String, target: String, repository: String, path: String,
            suite: String = "migconform", arch: String = "x86_64", jobTimeout: Int = 60,
            migconformURL: String = "", rootfsURL: String = LavaKernelCI.defaultRootfsURL
        ) {
            self.driver = driver
            self.deviceType = deviceType
            self.target = target
            self.repository = repository
            self.path = path
            self.suite = suite
            self.arch = arch
            self.jobTimeout = jobTimeout
            self.migconformURL = migconformURL
            self.rootfsURL = rootfsURL
        }

        /// The kbuild job's name (`kbuild-gcc-14-x86-vfio-migration-mlx5`).
        package var kbuildName: String { "kbuild-gcc-14-x86-" + fragmentName }
        /// The rootfs entry the job names.
        package var rootfsRef: String { "trixie-migconform" }

        /// The job's name in kernelci-pipeline (`migconform-mlx5`).
        package var jobName: String { "migconform-" + driver.name }
        /// The kbuild fragment's name (`vfio-migration-mlx5`).
        package var fragmentName: String { "vfio-migration-" + driver.name }
    }

    /// The driver's options, built in (`=m` becomes `=y`): KernelCI's boot templates deploy no modules.
    package static func builtIn(_ configs: [String]) -> [String] {
        configs.map { $0.hasSuffix("=m") ? String($0.dropLast()) + "y" : $0 }
    }

    /// The kernel config fragment (`kernel/configs/<fragment>.config`).
    package static func kernelConfig(_ s: Settings) -> String {
        (["# VFIO device migration with \(s.driver.module), for migconform (built in: no modules are deployed)"]
            + coreConfigs + builtIn(s.driver.configs)).joined(separator: "\n") + "\n"
    }

    /// The mdev mtty's test needs, created before migconform runs (a fixed UUID; the cdev is the only VFIO device).
    package static let mttyUUID = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
    package static let mttyTarget = "vfio:/dev/vfio/devices/vfio0"

    /// kernelci-core `config/runtime/tests/migconform.jinja2`.
    package static func lavaTemplate(_ s: Settings) -> String {
        let mdev =
            s.driver.name != "mtty"
            ? ""
            : """
                - from: inline
                  name: mtty-mdev
                  path: inline/mtty-mdev.yaml
                  repository:
                    metadata:
                      format: Lava-Test Test Definition 1.0
                      name: mtty-mdev
                      description: "the mtty mdev migconform tests"
                    run:
                      steps:
                      - echo \(mttyUUID) > /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create
                      - ls -l /dev/vfio/devices/
                      - lava-test-case mtty-mdev --result pass

            """
        return """
            - test:
                timeout:
                  minutes: {{ job_timeout }}
                definitions:
            \(mdev)    - repository: \(s.repository)
                  from: git
                  revision: main
                  path: \(s.path)
                  name: '{{ node.name }}'
                  lava-signal: kmsg
                  parameters:
                    TARGET: '{{ migconform_target }}'
                    MIGCONFORM_URL: '{{ migconform_url }}'
                    RUN_TIMEOUT: '{{ (job_timeout - 5) * 60 }}'

            """
    }

    /// The kernelci-pipeline configuration (YAML, merged with the rest of `config/`).
    package static func pipelineConfig(_ s: Settings) -> String {
        let configs = (coreConfigs + builtIn(s.driver.configs)).map { "'\($0)'" }.joined(separator: ", ")
        let platform =
            upstreamPlatforms.contains(s.deviceType)
            ? ""
            : """

            platforms:
              \(s.deviceType):
                arch: \(s.arch)
                boot_method: grub
                mach: x86
                base_name: \(s.deviceType)

            """
        return """
            fragments:
              \(s.fragmentName):
                path: "kernel/configs/\(s.fragmentName).config"
                configs: [\(configs)]

            rootfs:
              \(s.rootfsRef):
                nfsroot: '\(s.rootfsURL)'

            jobs:
              \(s.kbuildName):
                template: kbuild.jinja2
                kind: kbuild
                image: ghcr.io/kernelci/{image_prefix}gcc-14:x86-kselftest-kernelci
                params:
                  arch: \(s.arch)
                  compiler: gcc-14
                  defconfig: x86_64_defconfig
                  fragments: [\(s.fragmentName)]
                rules:
                  tree: ['!android', '!chromiumos']
              \(s.jobName):
                template: generic.jinja2
                kind: job
                priority: low
                params:
                  test_method: migconform
                  boot_commands: nfs
                  rootfs_ref: \(s.rootfsRef)
                  job_timeout: \(s.jobTimeout)
                  migconform_target: '\(s.target)'
                  migconform_url: '\(s.migconformURL)'
                kcidb_test_suite: \(s.suite)

            scheduler:
              - job: \(s.kbuildName)
                event:
                  channel: node
                  kind: checkout
                  state: available
                runtime:
                  name: k8s-all
              - job: \(s.jobName)
                event:
                  channel: node
                  kind: kbuild
                  name: \(s.kbuildName)
                  state: available
                runtime:
                  type: lava
                platforms:
                  - \(s.deviceType)
            \(platform)
            """
    }
}
