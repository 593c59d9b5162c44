/// The LAVA test definition that runs migconform on a lab device (`migconform integrate lava` prints it).
///
/// Format `Lava-Test Test Definition 1.0`, no `install:` section (the binary is in the rootfs, or fetched from
/// `MIGCONFORM_URL`), no deprecated `parse:` patterns. Its run step is one `migconform run --lava`: every case is a
/// LAVA test case as soon as it ends, grouped in a test set per rule (``LavaReporter``), and the command exits 0
/// whether or not the device conforms, so LAVA's `set -e` never cuts the definition short on a verdict. A run that
/// cannot start (no device, no permission, a bad spec) calls `lava-test-raise` and the job ends Incomplete with
/// the reason. The parameters (with their defaults) are ``parameters``.
package enum LavaDefinition {
    /// One parameter of the definition: its name, default value and what it is for.
    package struct Parameter: Sendable {
        package var name: String
        package var value: String
        package var help: String
    }

    /// The definition's parameters. A job overrides them under the definition's `parameters:`.
    package static let parameters: [Parameter] = [
        Parameter(
            name: "MIGCONFORM", value: "migconform",
            help: "The migconform binary on the device under test (a name on PATH or a path)."),
        Parameter(
            name: "MIGCONFORM_URL", value: "",
            help: "When set, a static migconform binary is downloaded from here first (curl) and used."),
        Parameter(
            name: "TARGET", value: "",
            help: "The device: vfio:/dev/vfio/GROUP/PCI-ADDRESS, vfio:/dev/vfio/devices/vfioN, exec:..., "
                + "or ref:v2 for a smoke test. Empty: the run is refused as a setup error."),
        Parameter(name: "SPEC", value: "", help: "A spec file; empty: the spec of the target's protocol."),
        Parameter(name: "OUT", value: "migconform-report", help: "The report folder, relative to the definition."),
        Parameter(
            name: "EXTRA_ARGS", value: "",
            help: "More run options, e.g. --only 'V2-ARC-*', --allow-hazard ID (word-split by the shell)."),
        Parameter(
            name: "RUN_TIMEOUT", value: "3000",
            help: "Seconds the whole run may take (timeout(1), SIGINT); keep it below the test action's "
                + "timeout. Empty: no limit."),
        Parameter(
            name: "CASE_OUTPUT", value: "",
            help: "Non-empty (LAVA 2025.04 or later): each case that did not pass carries its details and "
                + "transcript (lava-test-case --output)."),
        Parameter(
            name: "UPLOAD_URL", value: "",
            help: "When set, the report folder is packed (migconform-report.tar.gz) and sent here with an "
                + "HTTP PUT (curl -T), and the link is recorded as the test case migconform-report."),
    ]

    /// The `migconform run` options the run step uses (a test checks that the binary has each).
    package static let runOptionsUsed = ["--lava", "--lava-output", "--target", "--out", "--spec"]

    /// The shell steps, in order. LAVA runs them in one POSIX shell with `set -e`, parameters set as variables.
    package static let steps: [String] = [
        // Fetch the binary when asked to; a failed download is a setup error.
        #"if [ -n "${MIGCONFORM_URL}" ]; then curl -fsSL -o ./migconform-bin "${MIGCONFORM_URL}" && chmod +x "#
            + #"./migconform-bin && MIGCONFORM=./migconform-bin || lava-test-raise migconform-download-failed; fi"#,
        // No binary: a setup error, named.
        #"command -v "${MIGCONFORM}" || lava-test-raise "migconform-not-found-${MIGCONFORM}""#,
        // The run: exit 0 for any verdict; a setup error raises inside; anything else (killed by the timeout) raises.
        #"${RUN_TIMEOUT:+timeout -s INT -k 30 ${RUN_TIMEOUT}} "${MIGCONFORM}" run --lava "#
            + #"${CASE_OUTPUT:+--lava-output} --target "${TARGET}" --out "${OUT}" "#
            + #"${SPEC:+--spec "${SPEC}"} ${EXTRA_ARGS} "#
            + #"|| lava-test-raise "migconform-run-ended-with-status-$?""#,
        // The report folder as an artifact, when there is somewhere to put it; a failed upload is a failed case.
        #"if [ -n "${UPLOAD_URL}" ]; then tar -czf migconform-report.tar.gz -C "${OUT}" . && "#
            + #"curl -fsS -T migconform-report.tar.gz "${UPLOAD_URL%/}/" && "#
            + #"lava-test-reference migconform-report --result pass "#
            + #"--reference "${UPLOAD_URL%/}/migconform-report.tar.gz" "#
            + #"|| lava-test-case migconform-report --result fail; fi"#,
    ]

    /// The definition's YAML text. `version` is the runner version it was made by.
    package static func render(version: String) -> String {
        var out = [
            "# LAVA test definition for migconform \(version), made by 'migconform integrate lava'.",
            "# Each migconform case becomes one LAVA test case (lava-test-case) as soon as it ends, in a test",
            "# set per rule; names use [A-Za-z0-9_-] only (see the README, \"Running in a lab\").",
            "metadata:",
            "  format: \(quote("Lava-Test Test Definition 1.0"))",
            "  name: migconform",
            "  description: \(quote("VFIO device-migration driver conformance (migconform)"))",
            "  version: \(quote(version))",
            "  os:",
            "    - debian",
            "    - ubuntu",
            "    - fedora",
            "    - centos",
            "  scope:",
            "    - functional",
            "params:",
        ]
        for p in parameters {
            out.append("  # \(p.help)")
            out.append("  \(p.name): \(quote(p.value))")
        }
        out.append("run:")
        out.append("  steps:")
        for s in steps { out.append("    - \(quote(s))") }
        return out.joined(separator: "\n") + "\n"
    }

    /// A YAML single-quoted scalar (nothing is special inside but the quote itself, written twice).
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
}
