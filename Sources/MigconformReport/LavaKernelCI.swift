/// What a KernelCI (kernelci-pipeline) deployment needs to run migconform on a LAVA lab: printed by
/// `migconform integrate kernelci`.
///
/// Three pieces: the kernel config fragment (VFIO, VFIO_PCI and the variant driver under test), the LAVA test
/// template for kernelci-core (`config/runtime/tests/migconform.jinja2`, pointing at the definition
/// ``LavaDefinition`` describes), and the kernelci-pipeline configuration (a kbuild fragment and build, the job with
/// `kcidb_test_suite: migconform`, its scheduler entry and the platform). KernelCI turns each LAVA case into the
/// KCIDB path `<kcidb_test_suite>.<test set>.<case>`, which is the path `migconform export kcidb` writes too.
public enum LavaKernelCI {
    /// A variant driver migconform can qualify, with the kernel options that build it.
    public struct Driver: Sendable {
        /// The short name used on the command line (`mlx5`).
        public var name: String
        /// The kernel module (`mlx5_vfio_pci`).
        public var module: String
        /// Kconfig lines beyond the VFIO core.
        public var configs: [String]
    }

    /// Known variant drivers with migration support. The options each needs beyond its own symbol (the parent
    /// device's core driver) are the usual ones; check them against the kernel under test.
    public static let drivers: [Driver] = [
        Driver(name: "mlx5", module: "mlx5_vfio_pci", configs: ["CONFIG_MLX5_CORE=m", "CONFIG_MLX5_VFIO_PCI=m"]),
        Driver(name: "hisi-acc", module: "hisi_acc_vfio_pci",
               configs: ["CONFIG_CRYPTO_DEV_HISI_QM=m", "CONFIG_HISI_ACC_VFIO_PCI=m"]),
        Driver(name: "pds", module: "pds_vfio_pci", configs: ["CONFIG_PDS_CORE=m", "CONFIG_PDS_VFIO_PCI=m"]),
        Driver(name: "virtio", module: "virtio_vfio_pci",
               configs: ["CONFIG_VIRTIO_PCI=y", "CONFIG_VIRTIO_VFIO_PCI=m"]),
        Driver(name: "qat", module: "qat_vfio_pci", configs: ["CONFIG_CRYPTO_DEV_QAT_4XXX=m", "CONFIG_QAT_VFIO_PCI=m"]),
        Driver(name: "mtty", module: "mtty",
               configs: ["CONFIG_VFIO_MDEV=m", "CONFIG_SAMPLES=y", "CONFIG_SAMPLE_VFIO_MDEV_MTTY=m"]),
    ]

    /// The VFIO core every variant needs.
    public static let coreConfigs = ["CONFIG_VFIO=y", "CONFIG_VFIO_PCI_CORE=y", "CONFIG_VFIO_PCI=y",
                                     "CONFIG_IOMMUFD=y", "CONFIG_VFIO_DEVICE_CDEV=y",
                                     "CONFIG_INTEL_IOMMU=y", "CONFIG_AMD_IOMMU=y"]

    /// What the fragments are made for.
    public struct Settings: Sendable {
        public var driver: Driver
        /// The LAVA device type (the KernelCI platform's `base_name`).
        public var deviceType: String
        /// The target URI on that device type's hosts.
        public var target: String
        /// Where the definition printed by `migconform integrate lava` is kept.
        public var repository: String
        public var path: String
        /// The KCIDB test suite (first path component).
        public var suite: String
        public var arch: String
        /// Minutes the test action may take.
        public var jobTimeout: Int

        public init(driver: Driver, deviceType: String, target: String, repository: String, path: String,
                    suite: String = "migconform", arch: String = "x86_64", jobTimeout: Int = 60) {
            self.driver = driver; self.deviceType = deviceType; self.target = target; self.repository = repository
            self.path = path; self.suite = suite; self.arch = arch; self.jobTimeout = jobTimeout
        }

        /// The job's name in kernelci-pipeline (`migconform-mlx5`).
        public var jobName: String { "migconform-" + driver.name }
        /// The kbuild fragment's name (`vfio-migration-mlx5`).
        public var fragmentName: String { "vfio-migration-" + driver.name }
    }

    /// The kernel config fragment (`kernel/configs/<fragment>.config`).
    public static func kernelConfig(_ s: Settings) -> String {
        (["# VFIO device migration with \(s.driver.module), for migconform"] + coreConfigs + s.driver.configs)
            .joined(separator: "\n") + "\n"
    }

    /// kernelci-core `config/runtime/tests/migconform.jinja2`.
    public static func lavaTemplate(_ s: Settings) -> String {
        """
        - test:
            timeout:
              minutes: {{ job_timeout }}
            definitions:
            - repository: \(s.repository)
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
    public static func pipelineConfig(_ s: Settings) -> String {
        let configs = (coreConfigs + s.driver.configs).map { "'\($0)'" }.joined(separator: ", ")
        return """
        fragments:
          \(s.fragmentName):
            path: "kernel/configs/\(s.fragmentName).config"
            configs: [\(configs)]

        jobs:
          kbuild-gcc-14-\(s.arch)-\(s.fragmentName):
            template: kbuild.jinja2
            kind: kbuild
            image: kernelci/staging-gcc-14:\(s.arch)-kselftest-kernelci
            params:
              arch: \(s.arch)
              compiler: gcc-14
              defconfig: defconfig
              fragments: [\(s.fragmentName)]
          \(s.jobName):
            template: generic.jinja2
            kind: job
            priority: low
            params:
              test_method: migconform
              boot_commands: nfs
              job_timeout: \(s.jobTimeout)
              migconform_target: '\(s.target)'
              migconform_url: ''
            kcidb_test_suite: \(s.suite)

        scheduler:
          - job: \(s.jobName)
            event:
              channel: node
              kind: kbuild
              name: kbuild-gcc-14-\(s.arch)-\(s.fragmentName)
              state: available
            runtime:
              type: lava
            platforms:
              - \(s.deviceType)

        platforms:
          \(s.deviceType):
            arch: \(s.arch)
            boot_method: grub
            mach: x86
            base_name: \(s.deviceType)

        """
    }
}
