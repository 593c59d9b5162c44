/// The exit codes every command uses (also listed in the README and in `migconform --help`).
enum ExitCode {
    /// Conformant; or the command did what was asked.
    static let ok: Int32 = 0
    /// Not conformant: a MUST-level case failed, timed out or errored (with --level: that level or stricter);
    /// for diff and baselines, regressions or unexpected results.
    static let nonConformant: Int32 = 1
    /// Usage error, or a spec that does not load.
    static let usage: Int32 = 2
    /// The target could not be opened (no such device, no permission, adapter did not start).
    static let target: Int32 = 3
    /// The run was cut short (interrupted, device stopped answering, --max-failures); the report says how far it got.
    static let aborted: Int32 = 4

    static let table = """
    EXIT CODES:
      0  conformant (run), or success
      1  not conformant: a MUST case failed, timed out or errored; regressions (diff, baseline)
      2  usage error, or the spec does not load
      3  the target could not be opened
      4  the run was cut short (interrupted, device stopped answering, --max-failures)
    """
}
