import MigconformDevice
import MigconformPlan
import MigconformSpec

/// The state the device is in, as far as the run knows (nil: unknown, reset before going anywhere), and what the
/// oracle needs to judge the next answer; shared from case to case, as the device is.
final class DevicePosition {
    var known: String?
    /// The state value the device must report while nothing asks it to move (v2), and whether it comes from a
    /// request that has not been read back yet (a wrong landing is the arc's fault, not a spontaneous change).
    var settled: UInt32?
    var settledByRequest = false
    /// The request behind `settledByRequest`, from a known state: a wrong landing is judged under its arc.
    var lastRequest: (from: String, to: String)?
    /// A reset was issued and its result has not been read yet: from this known state, or from one the run did not
    /// know (empty).
    var resetFrom: String?
    /// A write of the open resume session was refused (the exit from the resume state must then fail).
    var refusedResumeWrite: WriteRefusal?
    /// The last exit from the resume state failed and the state has not been read since: the states the device
    /// may then report (the resume state, the error state, the steps of the requested path).
    var failedResumeExit: [String]?

    /// Forgets everything (a transport failure: the device may be anywhere).
    func forget() {
        known = nil
        settled = nil
        settledByRequest = false
        resetFrom = nil
        failedResumeExit = nil
    }
}

/// A valid save stream of the device under test, captured once per run and reused wherever a case must leave
/// the resume state normally (which needs a complete stream to have been written).
final class StreamCache {
    var stream: SavedStream?
    /// The case that saved ``stream`` (cases that resume it say where it came from).
    var streamSavedIn: String?
    /// Streams longer than this are spooled to a file instead of memory.
    var spoolThreshold = SavedStream.defaultSpoolThreshold
    /// Where spool files go (nil: the temporary folder); the runner sets it from ``RunOptions/spoolDirectory``.
    var spoolDirectory: String?
    /// The sizes of the reads (v2) or transactions (v1) the device produced its stream in; resumes write the
    /// stream back in the same pieces (the v1 header asks for that).
    var transactions: [Int] = [1 << 16]
    /// Whether discovery read the device's migration flags (a v2 device whose GET of the migration feature
    /// failed has none to read): a state the profile cannot reach then says nothing about the flags.
    var migrationFlagsRead = true
    /// Why no valid stream can be had, once that is known.
    var unloadable: String?
    /// The run's path questions, asked of one machine throughout.
    private var distances: Distances?
    func distances(_ machine: Machine) -> Distances {
        if let d = distances, d.machine.spec.id == machine.spec.id, d.machine.features == machine.features { return d }
        let d = Distances(machine)
        distances = d
        return d
    }
}
