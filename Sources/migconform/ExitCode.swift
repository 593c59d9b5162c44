import MigconformRun

/// The exit codes every command uses (also listed in the README and in `migconform --help`).
enum ExitCode {
    /// Conformant (every applicable MUST case ran and passed); or the command did what was asked.
    static let ok: Int32 = 0
    /// Not conformant: a MUST-level case failed or timed out (with --level: that level or stricter);
    /// for diff and baselines, regressions or unexpected results.
    static let nonConformant: Int32 = 1
    /// Usage error, or a spec that does not load.
    static let usage: Int32 = 2
    /// The target could not be opened (no such device, no permission, adapter did not start).
    static let target: Int32 = 3
    /// The run was cut short (interrupted, device stopped answering, --max-failures); the report says how far it got.
    static let aborted: Int32 = 4
    /// Incomplete: no MUST-level case failed, but applicable MUST cases did not run (narrowed by --only or
    /// --exclude, hazards not allowed, blocked, one shard of several) or ended in ERROR (the runner or the channel
    /// to the device failed).
    static let incomplete: Int32 = 5
    /// An output could not be written: the report folder or a file in it (read-only, a full disk), or standard
    /// output (full, failing, not open when the command started). What was gathered is kept where it could be: a run's journal rebuilds its report.
    static let output: Int32 = 6

    /// The exit status of a run's report (`run`, `merge`): 4 when it was cut short; 1 for a result unexpected at
    /// `level` (a failure, against a baseline one it did not expect); 5 when applicable MUST cases did not run or
    /// cases at `level` ended in ERROR; else 0.
    static func of(_ report: RunReport, level: ExitLevel) -> Int32 {
        if report.run.interrupted { return aborted }
        if !level.unexpected(report.cases).isEmpty { return nonConformant }
        // Also where every failure was expected (a baseline's XFAILs keep the verdict NOT CONFORMANT): MUST cases
        // that did not run were not checked, and a regression there would go unseen.
        let summary = report.summary
        if summary.verdict == .incomplete || !(summary.mustNotRun ?? [:]).isEmpty || (summary.mustErrored ?? 0) > 0
            || !level.errored(report.cases).isEmpty
        {
            return incomplete
        }
        return ok
    }

    static let table = """
        EXIT CODES:
          0  conformant (run, merge); otherwise the command did what was asked (diff: no regression,
             verify: verified)
          1  not conformant: a MUST case failed or timed out (--level should/may: also those levels);
             with --baseline: an unexpected result (a new failure, or XPASS); diff: regressions;
             verify: problems
          2  usage error; a spec, report, journal or expectations file that does not load; shards that do
             not merge
          3  the target could not be opened, or is not the device expected (--expect-driver, --expect-flags)
          4  the run was cut short: interrupted (SIGINT, SIGTERM), the device wedged after a timeout,
             --max-failures
          5  incomplete: nothing failed, but applicable MUST cases did not run (--only/--exclude, a hazard
             not allowed, blocked by a failure of a lower level, no --peer, one shard of several) or ended
             in ERROR (the runner or the channel to the device failed: a full disk, an adapter that died);
             the report lists them; with --baseline also when every failure was expected but MUST cases
             did not all run
          6  an output could not be written: the report folder or a file in it (read-only, a full disk;
             6 whatever the verdict) or standard output (full, failing, or not open at all; 6 where it
             would otherwise be 0); the message names it, and a run's journal keeps what it gathered
             (report --from-journal)
        A reader that goes away (| head) ends a command by SIGPIPE (status 141 in a shell), after a
        run has written its report folder.
        """
}
