import Foundation
import MigconformDevice

/// The reference v2 device with exactly one behaviour broken. Each ``V2Fault`` names one way a driver can get the
/// uAPI wrong; the device behaves correctly in every other respect, so the suite must flag that one thing and
/// nothing unrelated.
package final class FaultyDeviceV2: ReferenceDeviceV2, HostHealthReporting {
    package let fault: V2Fault
    private var consecutiveGets = 0
    private var warnings: [String] = []
    private var sessionsOpened = 0
    /// Save sessions opened: the count a device with ``V2Fault/countsSavesInState`` keeps in its state.
    private var savesOpened: UInt64 = 0
    private var ignoredReset = false
    /// A PRE_COPY session was left before its initial data was read (sequence fault).
    private var abandonedPreCopy = false
    /// A resume failed; the reset after it arms the fault.
    private var failedResume = false
    private var brokenResume = false
    /// Save sessions begun in PRE_COPY (by fd).
    private var preCopySessions: Set<Int32> = []
    /// A write with a bad header was refused in the open resume session.
    private var refusedHeader = false
    /// The STOP_COPY stream has been read to its end.
    private var drained = false

    /// Another device of the same driver (a peer), for faults that span devices.
    package weak var sibling: FaultyDeviceV2?
    /// Streams this device saved (by their hash) and the bytes of each save session so far (by fd).
    private var ownStreams: Set<Int> = []
    private var saving: [Int32: [UInt8]] = [:]
    private var resumed: [UInt8] = []

    package override var checksStreamSize: Bool { fault != .loadsForeignStream }

    package init(_ fault: V2Fault, _ configuration: Configuration = Configuration()) {
        self.fault = fault
        var configuration = configuration
        if fault.hasPrecopyInfoV2 { configuration.precopyInfoV2 = true }
        super.init(configuration)
    }

    package override func dataFD(fd: Int32, call: DataFDCall) -> DeviceOutcome { faultyDataFD(fd: fd, call: call) }

    package override func access(_ a: DeviceAccess) -> DeviceOutcome {
        switch (fault, a) {
        case (.configWriteRefusedInStop, .configWrite) where state == .stop: return .failed(.EIO)
        case (.interruptTriggerRefusedInStop, .enableInterrupts) where state == .stop: return .failed(.EIO)
        case (.barDeadInRunning, .barRead) where state == .running: return .failed(.EIO)
        default: return super.access(a)
        }
    }

    package override var identity: DeviceIdentity {
        DeviceIdentity(
            targetKind: "fault", driver: "migconform-fault", detail: "reference v2 device with fault \(fault.rawValue)",
            extra: ["fault": fault.rawValue, "flags": String(configuration.flags.rawValue)])
    }

    /// A device with the hanging fault needs the runner's deadlines like any driver that can hang.
    package override var answersPromptly: Bool { fault != .hangsOnStopCopy }

    package func hostProblems() -> [String] { fault == .warnsOnSetInError ? warnings : [] }

    package override func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        if case .getState = operation {
            consecutiveGets += 1
            // Left alone, RUNNING_P2P slides back to RUNNING: a state change nobody asked for.
            if fault == .driftsWhenIdle, consecutiveGets >= 3, state == .runningP2P { state = .running }
        } else {
            consecutiveGets = 0
        }
        if case .getState = operation, fault == .leavesStopCopyWhenDrained, drained, state == .stopCopy {
            endSession()
            state = .stop // nobody asked for this arc
        }
        if case .setState = operation { drained = false }
        if case .reset = operation {
            drained = false
            refusedHeader = false
            brokenResume = failedResume && fault == .breaksAfterFailedResumeAndReset
            failedResume = false
            abandonedPreCopy = false
        }
        if fault == .refusalDropsResume, case .setState = operation, state == .resuming {
            let out = try super.perform(operation)
            if !out.succeeded, let session = activeSession, session.direction == .resume {
                session.reader = StreamReader()
            }
            return out
        }
        if fault == .resumeEndsItself, case .write(let fd, _) = operation, let session = fds[fd],
            session.direction == .resume, session.live
        {
            let out = try super.perform(operation)
            if out.succeeded, session.reader.complete, session.reader.verdict() == nil {
                endSession()
                state = .stop // nobody asked for this arc
            }
            return out
        }
        switch (fault, operation) {
        case (.hangsOnStopCopy, .setState(MigrationState.stopCopy.rawValue)) where state == .stop:
            // Never answers: a stuck driver. Bounded so that an abandoned thread ends eventually.
            Thread.sleep(forTimeInterval: 3600)
            return .failed(.EINTR)
        case (.getReportsDataFD, .getState) where activeSession != nil:
            return .state(reportedState().rawValue, dataFD: activeSession!.fd)
        case (.configDeadInStopCopy, .configRead) where state == .stopCopy:
            return .value(0xffff)
        case (.interruptsRefusedInStop, .disableInterrupts) where state == .stop:
            return .failed(.EIO)
        case (.resumeWriteTakesNothing, .write(let fd, let bytes))
        where !bytes.isEmpty && fds[fd]?.direction == .resume && fds[fd]?.live == true:
            return .value(0)
        case (.smallWritesDropped, .write(let fd, let bytes)) where bytes.count < 16:
            guard let session = fds[fd], session.direction == .resume else { return .failed(.EBADF) }
            return .value(UInt64(bytes.count)) // claims to take them, loses them
        case (.resetKeepsSession, .reset):
            state = .running
            activeSession = nil // forgets it, but the fd stays live
            return .done
        case (.reopenKeepsState, .reopen):
            let kept = state
            reopenDevice()
            state = kept // the release ended the session, but the device opens where it was
            return .done
        case (.reopenKeepsSession, .reopen):
            let open = activeSession
            reopenDevice()
            open?.live = true // forgotten by the device, but its fd stays live
            return .done
        case (.resetStaysResuming, .reset) where state == .resuming:
            endSession()
            return .done // the session is over, the state is not
        case (.resetToStop, .reset) where state == .resuming:
            resetDevice()
            state = .stop
            return .done
        case (.resetKeepsError, .reset) where state == .error && !ignoredReset:
            ignoredReset = true // the first reset after entering ERROR does nothing
            return .done
        case (.resetKeepsError, .reset):
            ignoredReset = false
            return try super.perform(operation)
        case (.dmaLogOverlapAccepted, .dmaLoggingStart(let pageSize, let ranges)) where ranges.count > 1:
            // Checks each range alone, never one against another.
            for r in ranges { if let e = DMALogCore.checkStart(pageSize: pageSize, ranges: [r]) { return .failed(e) } }
            return loggingStart(pageSize: pageSize, ranges: ranges)
        case (.dmaLogStopsOnArc, .setState):
            let outcome = try super.perform(operation)
            if outcome.succeeded { _ = loggingStop() }
            return outcome
        default:
            return try super.perform(operation)
        }
    }

    package override func loggingStart(pageSize: UInt64, ranges: [DMARange]) -> DeviceOutcome {
        switch fault {
        case .dmaLogSecondStartAccepted where loggingStarted:
            _ = loggingStop()
            return super.loggingStart(pageSize: pageSize, ranges: ranges)
        case .dmaLogOddPageSize:
            let outcome = super.loggingStart(pageSize: pageSize, ranges: ranges)
            return outcome.succeeded ? .value(3000) : outcome
        default:
            return super.loggingStart(pageSize: pageSize, ranges: ranges)
        }
    }

    package override func loggingReport(
        iova: UInt64, length: UInt64, pageSize: UInt64, bitmap: [UInt8]
    ) -> DeviceOutcome {
        switch fault {
        case .dmaLogReportWithoutStart where !loggingStarted:
            return .bytes(bitmap)
        case .dmaLogReportClearsBitmap:
            return super.loggingReport(
                iova: iova, length: length, pageSize: pageSize,
                bitmap: [UInt8](repeating: 0, count: bitmap.count))
        case .dmaLogReportFixedPageSize where loggingStarted && pageSize != loggingPageSize:
            return .failed(.EINVAL)
        default:
            return super.loggingReport(iova: iova, length: length, pageSize: pageSize, bitmap: bitmap)
        }
    }

    package override func migrationFlags() -> DeviceOutcome {
        switch fault {
        case .migrationGetFails: return .failed(.ENOTTY)
        case .noStopCopyFlag: return .value(configuration.flags.subtracting(.stopCopy).rawValue)
        case .undefinedFlagBit: return .value(configuration.flags.rawValue | 0x100)
        default: return super.migrationFlags()
        }
    }

    package override func feature(flags: UInt32, payload: [UInt8]) -> DeviceOutcome {
        let index = flags & FeatureRequest.mask
        let get = flags & FeatureRequest.get != 0
        let set = flags & FeatureRequest.set != 0
        let probe = flags & FeatureRequest.probe != 0
        switch fault {
        // The core refuses a short argsz before the driver is asked, so only a full GET reaches the fault.
        case .migrationGetFails where index == FeatureRequest.migration && get && !probe && payload.count >= 8:
            return .failed(.ENOTTY)
        case .setMigrationAccepted where index == FeatureRequest.migration && set && !probe: return .done
        case .probeMigrationGetFails where index == FeatureRequest.migration && probe && get: return .failed(.EINVAL)
        case .probeMigrationSetAccepted where index == FeatureRequest.migration && probe && set: return .done
        case .probeMigStateFails where index == FeatureRequest.migDeviceState && probe: return .failed(.EINVAL)
        case .getAndSetAccepted where get && set && !probe:
            return super.feature(flags: flags & ~FeatureRequest.set, payload: payload)
        case .extraRequestBitsAccepted:
            return super.feature(
                flags: flags & (FeatureRequest.mask | FeatureRequest.get | FeatureRequest.set | FeatureRequest.probe),
                payload: payload)
        case .shortPayloadAccepted where payload.count < 8 && !probe && index == FeatureRequest.migDeviceState:
            return .done
        case .dataSizeFailsInStopCopy where index == FeatureRequest.migDataSize && get && !probe && state == .stopCopy:
            return .failed(.EIO)
        case .dataSizeSetAccepted where index == FeatureRequest.migDataSize && set && !probe:
            return .done
        case .dataSizeFailsInError where index == FeatureRequest.migDataSize && get && !probe && state == .error:
            return .failed(.EIO)
        case .bareProbeFails where probe && !get && !set:
            return .failed(.EINVAL)
        case .unknownFeatureAnswered
        where ![
            FeatureRequest.migration, FeatureRequest.migDeviceState,
            FeatureRequest.migDataSize,
        ].contains(index):
            return probe ? .done : .bytes([UInt8](repeating: 0, count: 8))
        case .migrationShortPayloadAccepted
        where index == FeatureRequest.migration && get && !probe && payload.count < 8:
            return super.feature(flags: flags, payload: [UInt8](repeating: 0, count: 8))
        case .longPayloadRefused where !probe && payload.count > 8:
            return .failed(.EINVAL)
        case .dataSizeProbeSetAccepted where index == FeatureRequest.migDataSize && probe && set:
            return .done
        case .dataSizeShortPayloadAccepted
        where index == FeatureRequest.migDataSize && get && !probe && payload.count < 8:
            return super.feature(flags: flags, payload: [UInt8](repeating: 0, count: 8))
        case .dmaLogProbePartial where index == DMALogging.stop && probe:
            return .failed(.ENOTTY)
        case .precopyV2GetAccepted where index == DataFD.precopyInfoV2Feature && get:
            return probe ? .done : .bytes([UInt8](repeating: 0, count: payload.count))
        case .precopyV2SetFails where index == DataFD.precopyInfoV2Feature && set && !probe:
            return .failed(.EINVAL)
        case .precopyV2WithoutPreCopy where index == DataFD.precopyInfoV2Feature && set:
            precopyFlagsOptIn = !probe || precopyFlagsOptIn
            return .done
        default:
            return super.feature(flags: flags, payload: payload)
        }
    }

    package override func setState(_ value: UInt32) -> DeviceOutcome {
        let target = MigrationState(rawValue: value)
        switch fault {
        case .acceptsErrorRequest where target == .error:
            state = .error
            return .state(value, dataFD: -1)
        case .acceptsOutOfRange where value >= MigrationState.count:
            return .state(value, dataFD: -1)
        case .acceptsUnadvertised where value < MigrationState.count && target != .error && !supports(target):
            state = target
            return .state(value, dataFD: -1)
        case .allowsStopCopyToPreCopy where state == .stopCopy && (target == .preCopy || target == .preCopyP2P):
            state = target
            return .state(value, dataFD: -1)
        case .sameStateRefused where target == state:
            return .failed(.EINVAL)
        case .errorNotSticky where state == .error && supports(target):
            state = .running
            return super.setState(value)
        case .warnsOnSetInError where state == .error:
            warnings.append("WARNING: a SET of \(target) while in ERROR hit a WARN_ON (simulated)")
            return .failed(.EINVAL)
        case .combinationStopsShort where value < MigrationState.count && target != .error && supports(target):
            // Walks the path but stops before its last arc, when that arc opens no session.
            var hops: [MigrationState] = []
            var cursor = state
            while cursor != target, hops.count < 8, let next = step(from: cursor, to: target) {
                hops.append(next)
                cursor = next
            }
            if hops.count > 1 {
                let saving: Set<MigrationState> = [.preCopy, .preCopyP2P, .stopCopy]
                let prev = hops[hops.count - 2]
                let last = hops[hops.count - 1]
                let opens = (!saving.contains(prev) && saving.contains(last)) || last == .resuming
                if !opens {
                    _ = super.setState(prev.rawValue)
                    return .state(value, dataFD: -1)
                }
            }
            return super.setState(value)
        case .errorAfterSuccess where state == .preCopyP2P && target == .preCopy:
            let outcome = super.setState(value)
            state = .error
            return outcome
        default:
            return super.setState(value)
        }
    }

    package override func performArc(from: MigrationState, to: MigrationState) -> Result<Int32?, Errno> {
        if fault == .failsAfterAbandonedPreCopy, [MigrationState.preCopy, .preCopyP2P].contains(from),
            ![MigrationState.preCopy, .preCopyP2P, .stopCopy].contains(to), let s = activeSession, let w = s.writer,
            w.offset < s.preCopyLimit
        {
            abandonedPreCopy = true
        }
        switch fault {
        case .failsAfterAbandonedPreCopy where abandonedPreCopy && from == .stop && to == .stopCopy:
            return .failure(.EIO)
        case .breaksAfterFailedResumeAndReset where brokenResume && from == .stop && to == .resuming:
            return .failure(.EIO)
        case .missingArc where from == .stop && to == .runningP2P:
            return .failure(.EINVAL)
        case .fdOnNonSessionArc where from == .running && to == .runningP2P:
            return .success(allocateFD())
        case .noFDOnStopCopy where from == .stop && to == .stopCopy:
            _ = openSession(.save, preCopy: false)
            return .success(nil)
        case .newFDInSavingGroup
        where [MigrationState.preCopy, .preCopyP2P, .stopCopy].contains(from) && from != to
            && [MigrationState.preCopy, .preCopyP2P, .stopCopy].contains(to):
            let old = activeSession
            let fresh = openSession(.save, preCopy: to != .stopCopy)
            if let old {
                fresh.writer = old.writer
                fresh.preCopyLimit = old.preCopyLimit
            }
            return .success(fresh.fd)
        case .staleFDStillReads where from == .stopCopy && to == .stop:
            activeSession = nil // the session is dropped but its fd keeps streaming
            return .success(nil)
        case .p2pBlockedBySibling where to == .runningP2P && sibling?.state == .stop:
            return .failure(.EBUSY)
        case .preCopyStreamRestarts where [MigrationState.preCopy, .preCopyP2P].contains(from) && to == .stopCopy:
            activeSession?.writer = StreamWriter(payloadSize: configuration.stateSize, seed: configuration.seed)
            return super.performArc(from: from, to: to)
        default:
            return super.performArc(from: from, to: to)
        }
    }

    package override func finishResume() -> Result<Int32?, Errno> {
        guard let session = activeSession else { return super.finishResume() }
        if session.reader.verdict() != nil { failedResume = true }
        let problem = session.reader.verdict()
        switch (fault, problem) {
        case (.resumesOnlyOwnStream, nil) where !ownStreams.contains(resumed.hashValue):
            endSession()
            return .failure(.EINVAL)
        case (.refusedHeaderForgotten, _) where refusedHeader, (.shortTailRefusedThenStop, _) where refusedHeader:
            refusedHeader = false
            endSession()
            return .success(nil)
        case (.acceptsTruncated, .truncated?), (.acceptsCorrupted, .checksum?), (.refusedWriteForgotten, .overlong?),
            (.ignoresHeader, .badHeader?):
            endSession()
            return .success(nil)
        case (.failedResumeGoesToStop, _?):
            endSession()
            state = .stop // fails the request, yet reports the arc's target
            return .failure(.EINVAL)
        default:
            return super.finishResume()
        }
    }

    package override func openSession(_ direction: Session.Direction, preCopy: Bool) -> Session {
        let session = super.openSession(direction, preCopy: preCopy)
        sessionsOpened += 1
        if preCopy { preCopySessions.insert(session.fd) }
        if direction == .resume {
            refusedHeader = false
            resumed = []
        }
        if fault == .savesGarbledStream, direction == .save {
            session.writer = StreamWriter(payloadSize: configuration.stateSize, seed: configuration.seed, garble: true)
        }
        if fault == .countsSavesInState, direction == .save {
            savesOpened += 1
            session.writer = StreamWriter(
                payloadSize: configuration.stateSize, seed: configuration.seed, stamp: savesOpened)
        }
        return session
    }

    package override func write(fd: Int32, bytes: [UInt8]) -> DeviceOutcome {
        if fault == .saveFDAcceptsWrites, let session = fds[fd], session.direction == .save {
            return .value(UInt64(bytes.count)) // takes them and drops them
        }
        guard let session = fds[fd], session.direction == .resume, session.live else {
            return super.write(fd: fd, bytes: bytes)
        }
        if fault == .resumesOnlyOwnStream {
            let outcome = super.write(fd: fd, bytes: bytes)
            if outcome.succeeded { resumed += bytes }
            return outcome
        }
        switch fault {
        case .acceptsTrailingBytes where session.reader.complete:
            return .value(UInt64(bytes.count)) // claims to take them, drops them
        case .shortTailRefusedThenStop
        where bytes.count > 1
            && session.reader.declaredLength == session.reader.bytesReceived + UInt64(bytes.count) + 1:
            refusedHeader = true // remembered only to be forgotten at the exit
            return .failed(.EINVAL)
        case .refusedHeaderForgotten
        where !session.reader.started && bytes.count >= 4
            && Array(bytes.prefix(4)) != ReferenceStream.magic:
            refusedHeader = true
            return .failed(.EINVAL)
        default:
            return super.write(fd: fd, bytes: bytes)
        }
    }

    package override func read(fd: Int32, count: Int) -> DeviceOutcome {
        let outcome = super.read(fd: fd, count: count)
        if fault == .resumesOnlyOwnStream, case .bytes(let b) = outcome {
            if b.isEmpty, let all = saving.removeValue(forKey: fd) {
                ownStreams.insert(all.hashValue)
            } else {
                saving[fd, default: []] += b
            }
        }
        switch (fault, outcome) {
        case (.enomsgInStopCopy, .bytes(let b)) where b.isEmpty && state == .stopCopy:
            return .failed(.ENOMSG)
        case (.enomsgAfterPreCopy, .bytes(let b)) where b.isEmpty && state == .stopCopy && preCopySessions.contains(fd):
            return .failed(.ENOMSG)
        case (.leavesStopCopyWhenDrained, .bytes(let b)) where b.isEmpty && state == .stopCopy:
            drained = true
            return outcome
        case (.preCopyEOFInsteadOfENOMSG, .failed(.ENOMSG)):
            return .bytes([])
        default:
            return outcome
        }
    }

    package override func precopyInfo(fd: Int32) -> DeviceOutcome {
        switch fault {
        case .noPrecopyInfo: return .failed(.EINVAL)
        case .precopyInfoOnResumeFD where fds[fd]?.direction == .resume: return .precopy(initialBytes: 0, dirtyBytes: 0)
        case .precopyInfoInStopCopy where state == .stopCopy: return .precopy(initialBytes: 0, dirtyBytes: 0)
        case .precopyInfoFailsInP2P where state == .preCopyP2P: return .failed(.EINVAL)
        case .precopyDirtyAtStart, .precopyDirtyAtEnd:
            guard case .precopy(let i, let d) = super.precopyInfo(fd: fd) else { return super.precopyInfo(fd: fd) }
            // At the start: dirty data that is not there. At the end: dirty data while read says there is none.
            let fake = (fault == .precopyDirtyAtStart) == (i > 0)
            return .precopy(initialBytes: i, dirtyBytes: fake ? d + 4096 : d)
        case .precopyInitialZero:
            if case .precopy(_, let d) = super.precopyInfo(fd: fd) { return .precopy(initialBytes: 0, dirtyBytes: d) }
            return super.precopyInfo(fd: fd)
        case .precopyInitialStuck:
            if case .precopy(let i, let d) = super.precopyInfo(fd: fd) {
                return .precopy(
                    initialBytes: i == 0 ? 0 : UInt64(Double(configuration.stateSize) * configuration.preCopyShare),
                    dirtyBytes: d)
            }
            return super.precopyInfo(fd: fd)
        default:
            return super.precopyInfo(fd: fd)
        }
    }
}
