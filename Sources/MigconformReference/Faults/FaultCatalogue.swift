import MigconformDevice

/// One deliberately broken device: what it breaks, and the rules a correct suite must flag for it.
package struct FaultEntry: Sendable {
    /// The name used in `fault:<name>` targets.
    package var name: String
    package var generation: ProtocolGeneration
    /// What the device does wrong, in one sentence.
    package var summary: String
    /// Rule ids this fault must trip (FAIL for MUST rules, WARN for SHOULD rules, INFO with a violation for MAY
    /// rules, or TIMEOUT); for a sequence fault, any one of them (which arc shows the fault depends on the
    /// sequence that finds it).
    package var trips: [String]
    /// The v2 flags the fault runs with by default (the `features=` target option overrides them).
    package var flags: MigrationFlags
    /// Spec variants the fault is checked under.
    package var variants: [String]
    /// The fault shows only after a history of requests: random walks find it (`run --walks`), single cases may not.
    package var needsSequence = false
    /// A plain `run` (its single cases) passes the fault: only the random walks of `explore` find it.
    package var runPasses = false

    /// A fresh device with this fault and a peer like it (the same fault; linked where the fault spans devices).
    package func makePair(flags override: MigrationFlags? = nil) -> (MigrationDevice, MigrationDevice) {
        let a = makeDevice(flags: override)
        let b = makeDevice(flags: override)
        if let x = a as? FaultyDeviceV2, let y = b as? FaultyDeviceV2 {
            x.sibling = y
            y.sibling = x
        }
        return (a, b)
    }

    /// A fresh device with this fault.
    package func makeDevice(flags override: MigrationFlags? = nil, stateSize: UInt64? = nil) -> MigrationDevice {
        switch generation {
        case .v2:
            var config = ReferenceDeviceV2.Configuration(flags: override ?? flags)
            if let stateSize { config.stateSize = stateSize }
            return FaultyDeviceV2(V2Fault(rawValue: name)!, config)
        case .v1:
            var config = ReferenceDeviceV1.Configuration()
            if let stateSize { config.stateSize = stateSize }
            return FaultyDeviceV1(V1Fault(rawValue: name)!, config)
        }
    }
}

/// The catalogue of faulty devices: the suite's proof that it catches what it claims. Every MUST and SHOULD rule
/// of both shipped specs is tripped by at least one entry (`migconform faults --check` shows it).
package enum FaultCatalogue {
    static let all3: MigrationFlags = [.stopCopy, .p2p, .preCopy]

    static func v2(_ fault: V2Fault, _ summary: String, _ trips: [String], flags: MigrationFlags = all3) -> FaultEntry {
        FaultEntry(name: fault.rawValue, generation: .v2, summary: summary, trips: trips, flags: flags, variants: [])
    }
    static func sequence(
        _ fault: V2Fault, _ summary: String, _ trips: [String], runPasses: Bool = false
    ) -> FaultEntry {
        var e = v2(fault, summary, trips)
        e.needsSequence = true
        e.runPasses = runPasses
        return e
    }
    static func v1(_ fault: V1Fault, _ summary: String, _ trips: [String], variants: [String] = []) -> FaultEntry {
        FaultEntry(name: fault.rawValue, generation: .v1, summary: summary, trips: trips, flags: [], variants: variants)
    }

    package static let entries: [FaultEntry] = [
        v2(
            .migrationGetFails, "GET of VFIO_DEVICE_FEATURE_MIGRATION fails with ENOTTY.",
            ["V2-FEAT-GET", "V2-FEAT-MIGRATION-LONGER-PAYLOAD"]),
        v2(
            .noStopCopyFlag, "Advertises P2P|PRE_COPY without the mandatory STOP_COPY flag.",
            ["V2-FEAT-STOP-COPY", "V2-FEAT-DEFINED-FLAGS"]),
        v2(.undefinedFlagBit, "Sets an undefined bit (0x100) in the migration flags.", ["V2-FEAT-DEFINED-FLAGS"]),
        v2(
            .setMigrationAccepted, "Accepts a SET of the read-only MIGRATION feature.",
            ["V2-FEAT-SET-MIGRATION-REJECTED"]),
        v2(.probeMigrationGetFails, "Fails a PROBE for GET of MIGRATION.", ["V2-FEAT-PROBE-MIGRATION-GET"]),
        v2(
            .probeMigrationSetAccepted, "Answers a PROBE for SET of MIGRATION with success.",
            ["V2-FEAT-PROBE-MIGRATION-SET"]),
        v2(.probeMigStateFails, "Fails a PROBE of MIG_DEVICE_STATE.", ["V2-FEAT-PROBE-MIG-STATE"]),
        v2(.getAndSetAccepted, "Treats GET|SET without PROBE as a GET.", ["V2-FEAT-GET-SET-EXCLUSIVE"]),
        v2(.extraRequestBitsAccepted, "Ignores request flag bits above PROBE.", ["V2-FEAT-UNDEFINED-FLAG-BITS"]),
        v2(
            .shortPayloadAccepted, "Accepts a MIG_DEVICE_STATE GET whose argsz has no room for the payload.",
            ["V2-FEAT-SHORT-PAYLOAD"]),
        v2(.dataSizeFailsInStopCopy, "MIG_DATA_SIZE fails in STOP_COPY.", ["V2-DATA-SIZE-ANY-STATE"]),
        v2(.dataSizeFailsInError, "MIG_DATA_SIZE fails in ERROR.", ["V2-DATA-SIZE-IN-ERROR"]),
        v2(
            .dataSizeSetAccepted, "Accepts a SET of the read-only MIG_DATA_SIZE feature.", ["V2-DATA-SIZE-SET-REJECTED"]
        ),
        v2(.bareProbeFails, "Fails a PROBE that names neither GET nor SET.", ["V2-FEAT-BARE-PROBE"]),
        v2(
            .unknownFeatureAnswered,
            "Answers PROBE and GET of any feature index it does not implement (GET with 8 zero "
                + "bytes): feature 12, which it lacks, then looks present and broken.",
            ["V2-FEAT-UNKNOWN-INDEX", "V2-PRECOPY-V2-SET-ONLY", "V2-PRECOPY-V2-FLAGS-DEFINED"]),
        v2(
            .migrationShortPayloadAccepted, "Answers a GET of MIGRATION whose argsz has room for only 4 payload bytes.",
            ["V2-FEAT-MIGRATION-SHORT-PAYLOAD"]),
        v2(
            .longPayloadRefused, "Refuses every feature call whose argsz is larger than the feature's structure.",
            ["V2-FEAT-MIGRATION-LONGER-PAYLOAD", "V2-FEAT-LONGER-PAYLOAD", "V2-DATA-SIZE-LONGER-PAYLOAD"]),
        v2(
            .dataSizeProbeSetAccepted, "Answers a PROBE for SET of the read-only MIG_DATA_SIZE with success.",
            ["V2-DATA-SIZE-PROBE-SET"]),
        v2(
            .dataSizeShortPayloadAccepted,
            "Answers a GET of MIG_DATA_SIZE whose argsz has room for only 4 payload bytes.",
            ["V2-DATA-SIZE-SHORT-PAYLOAD"]),
        v2(
            .missingArc, "Refuses the single-step arc STOP -> RUNNING_P2P (and so every path through it).",
            ["V2-ARC-STATE", "V2-COMBINATION-STATE"]),
        v2(
            .fdOnNonSessionArc, "Returns a data fd on RUNNING -> RUNNING_P2P, which starts no session.",
            ["V2-ARC-DATA-FD", "V2-COMBINATION-DATA-FD"]),
        v2(.noFDOnStopCopy, "Returns no data fd on STOP -> STOP_COPY.", ["V2-ARC-DATA-FD", "V2-COMBINATION-DATA-FD"]),
        v2(
            .saveFDAcceptsWrites, "A write to a saving data fd succeeds (the bytes are dropped) instead of failing.",
            ["V2-DATA-FD-DIRECTION"]),
        v2(.dataFDNotCloseOnExec, "The data fds it hands out are not close-on-exec.", ["V2-DATA-FD-CLOEXEC"]),
        v2(
            .dataFDReadWrite, "Its data fds are opened read-write, whatever their direction.",
            ["V2-DATA-FD-ACCESS-MODE"]),
        v2(
            .dataFDSeekable, "Its data fds are not streams: lseek, pread and pwrite succeed.",
            ["V2-DATA-FD-NOT-SEEKABLE"]),
        v2(.dataFDAcceptsUnknownIoctl, "An ioctl its data fds do not define succeeds.", ["V2-DATA-FD-UNKNOWN-IOCTL"]),
        v2(
            .precopyInfoOnResumeFD, "VFIO_MIG_GET_PRECOPY_INFO answers on a resuming fd.",
            ["V2-PRECOPY-INFO-RESUME-FD"]),
        v2(
            .precopyInfoShortArgszAccepted, "VFIO_MIG_GET_PRECOPY_INFO answers an argsz shorter than the structure.",
            ["V2-PRECOPY-INFO-SHORT-ARGSZ"]),
        v2(
            .pollNotReadableAtEnd, "At the permanent end of the STOP_COPY stream, poll does not report readable.",
            ["V2-POLL-AT-END"]),
        v2(
            .pollReadableWhenIdle,
            "At the temporary end of the pre-copy stream, poll reports readable with nothing "
                + "to read.",
            ["V2-POLL-AT-TEMPORARY-END"]),
        v2(
            .countsSavesInState,
            "Counts its saves in its state (the last 8 bytes of the payload): two saves from STOP differ, though "
                + "each loads.", ["V2-STOP-SAVE-REPEATABLE"]),
        v2(
            .precopyV2GetAccepted, "Feature 12 (Linux 7.1) answers PROBE for GET and GET, though it is SET only.",
            ["V2-PRECOPY-V2-SET-ONLY"]),
        v2(.precopyV2SetFails, "Feature 12 passes PROBE for SET, but a SET of it fails.", ["V2-PRECOPY-V2-OPT-IN"]),
        v2(
            .precopyV2FlagsEchoed,
            "After the feature 12 opt-in, PRECOPY_INFO echoes the flags passed in (an "
                + "undefined bit).",
            ["V2-PRECOPY-V2-FLAGS-DEFINED"]),
        v2(
            .precopyV2WithoutPreCopy, "Without PRE_COPY, accepts the feature 12 opt-in.",
            ["V2-PRECOPY-V2-NEEDS-PRE-COPY"],
            flags: [.stopCopy, .p2p]),
        v2(.configWriteRefusedInStop, "Refuses config space writes in STOP.", ["V2-ACCESS-CONFIG-WRITE"]),
        v2(
            .interruptTriggerRefusedInStop, "Refuses an eventfd interrupt trigger in STOP.",
            ["V2-ACCESS-IRQ-ENABLE-IN-STOP"]),
        v2(.barDeadInRunning, "Its BAR reads fail in RUNNING.", ["V2-ACCESS-BAR-RUNNING"]),
        v2(
            .reopenKeepsState,
            "Closed and opened again, it ends its session but comes back in the state it was "
                + "closed in.", ["V2-REOPEN-RUNNING"]),
        v2(
            .reopenKeepsSession,
            "Closed and opened again, it comes back in RUNNING but the old session's fd goes on "
                + "moving data.", ["V2-REOPEN-OLD-FD-OVER"]),
        v2(.getReportsDataFD, "A GET reports the open session's fd instead of -1.", ["V2-GET-DATA-FD"]),
        v2(
            .combinationStopsShort,
            "Combination transitions stop one arc short (when the last arc opens no session), "
                + "and report success even when an arc on the way failed.",
            ["V2-COMBINATION-STATE", "V2-RESUME-DAMAGED-TO-RUNNING"]),
        v2(.sameStateRefused, "Refuses a SET of the state it is already in.", ["V2-SAME-STATE"]),
        v2(.acceptsErrorRequest, "Accepts a request for ERROR and enters it.", ["V2-REJECT-ERROR"]),
        v2(.acceptsOutOfRange, "Accepts values past the last state as a no-op.", ["V2-REJECT-OUT-OF-RANGE"]),
        v2(
            .acceptsUnadvertised, "Without P2P, still accepts a request for RUNNING_P2P.", ["V2-REJECT-UNADVERTISED"],
            flags: [.stopCopy]),
        v2(
            .allowsStopCopyToPreCopy, "Carries out STOP_COPY -> PRE_COPY, which must be refused.",
            ["V2-FORBIDDEN-STOP-COPY-TO-PRE-COPY"]),
        v2(
            .refusalDropsResume,
            "A refused request in RESUMING throws away the stream loaded so far, so RESUMING cannot be left after it.",
            ["V2-REJECT-ERROR", "V2-REJECT-OUT-OF-RANGE"]),
        v2(
            .resumeEndsItself,
            "Once a whole stream is written, moves itself from RESUMING to STOP, unasked: every rule that then "
                + "expects RESUMING sees STOP.",
            [
                "V2-INV-NO-SPONTANEOUS-CHANGE", "V2-REJECT-ERROR", "V2-REJECT-OUT-OF-RANGE", "V2-RESUME-FAILED-STATE",
                "V2-RESUME-REFUSED-WRITE",
            ]),
        v2(.resetToStop, "Reset from RESUMING leaves the device in STOP instead of RUNNING.", ["V2-RESET-TO-RUNNING"]),
        v2(
            .resetStaysResuming, "Reset in RESUMING ends the session but leaves the device in RESUMING.",
            ["V2-RESET-TO-RUNNING"]),
        v2(.resetKeepsSession, "Reset leaves the open session's fd streaming.", ["V2-RESET-ENDS-SESSION"]),
        v2(.errorNotSticky, "In ERROR, a SET of a valid state succeeds.", ["V2-ERROR-STICKY"]),
        v2(
            .resetKeepsError, "The first reset after entering ERROR does nothing.",
            ["V2-ERROR-RESET", "V2-RESUME-RESET-RECOVERS"]),
        v2(.warnsOnSetInError, "A SET while in ERROR makes the (simulated) host kernel warn.", ["V2-HOST-HEALTH"]),
        v2(
            .enomsgInStopCopy, "At the end of the STOP_COPY stream, read fails with ENOMSG instead of returning 0.",
            ["V2-STREAM-PERMANENT-EOF"]),
        v2(
            .enomsgAfterPreCopy,
            "At the end of the STOP_COPY stream of a session begun in PRE_COPY, read fails with ENOMSG.",
            ["V2-STREAM-PERMANENT-EOF"]),
        v2(
            .leavesStopCopyWhenDrained, "Once its STOP_COPY stream has been read to the end, moves itself to STOP.",
            ["V2-STREAM-PERMANENT-EOF", "V2-INV-NO-SPONTANEOUS-CHANGE"]),
        v2(
            .newFDInSavingGroup, "Arcs inside the saving group return a new fd instead of keeping the session.",
            ["V2-SESSION-KEPT", "V2-ARC-DATA-FD", "V2-COMBINATION-DATA-FD", "V2-ROUND-TRIP-PRECOPY"]),
        v2(.staleFDStillReads, "After STOP_COPY -> STOP the old fd still streams data.", ["V2-SESSION-ENDED"]),
        v2(
            .noPrecopyInfo, "VFIO_MIG_GET_PRECOPY_INFO always fails.",
            ["V2-PRECOPY-INFO-SUPPORTED", "V2-PRECOPY-INFO-IN-P2P"]),
        v2(.precopyInfoInStopCopy, "VFIO_MIG_GET_PRECOPY_INFO answers in STOP_COPY.", ["V2-PRECOPY-INFO-OUTSIDE"]),
        v2(
            .precopyInitialZero, "initial_bytes is 0 on entering PRE_COPY.",
            ["V2-PRECOPY-INITIAL-NONZERO", "V2-PRECOPY-ZERO-AT-END"]),
        v2(
            .precopyInitialStuck, "initial_bytes does not decrease as pre-copy data is read.",
            ["V2-PRECOPY-INITIAL-DECREASES"]),
        v2(.precopyInfoFailsInP2P, "VFIO_MIG_GET_PRECOPY_INFO fails in PRE_COPY_P2P.", ["V2-PRECOPY-INFO-IN-P2P"]),
        v2(
            .precopyDirtyAtStart, "dirty_bytes reports 4096 bytes while the initial data is still being read.",
            ["V2-PRECOPY-DIRTY-STARTS-ZERO"]),
        v2(
            .precopyDirtyAtEnd,
            "dirty_bytes reports 4096 bytes once the initial data is read, while read returns ENOMSG.",
            ["V2-PRECOPY-ZERO-AT-END"]),
        v2(
            .preCopyEOFInsteadOfENOMSG,
            "At the temporary end of the pre-copy stream, read returns 0 instead of ENOMSG.", ["V2-PRECOPY-ENOMSG"]),
        v2(
            .savesGarbledStream, "Writes a wrong checksum into its own stream, so it cannot load it back.",
            ["V2-ROUND-TRIP", "V2-ROUND-TRIP-BYTEWISE", "V2-ROUND-TRIP-ODD-CHUNKS", "V2-ROUND-TRIP-PRECOPY"]),
        v2(
            .resumeWriteTakesNothing, "Answers every resume write with 0: no byte taken, and no errno.",
            ["V2-ROUND-TRIP", "V2-ROUND-TRIP-BYTEWISE", "V2-ROUND-TRIP-ODD-CHUNKS", "V2-ROUND-TRIP-PRECOPY"]),
        v2(
            .smallWritesDropped, "Silently drops resume writes shorter than 16 bytes.",
            ["V2-ROUND-TRIP-BYTEWISE", "V2-ROUND-TRIP-ODD-CHUNKS"]),
        v2(
            .preCopyStreamRestarts, "Restarts the stream from the beginning on entering STOP_COPY from PRE_COPY.",
            ["V2-ROUND-TRIP-PRECOPY"]),
        v2(
            .acceptsTruncated, "Accepts a truncated resume stream (cut in half, by one byte, or inside its header).",
            [
                "V2-RESUME-TRUNCATED", "V2-RESUME-TRUNCATED-ONE", "V2-RESUME-TRUNCATED-HEADER",
                "V2-RESUME-DAMAGED-TO-RUNNING",
            ]),
        v2(.acceptsCorrupted, "Accepts a resume stream with corrupted bytes.", ["V2-RESUME-CORRUPT"]),
        v2(
            .refusedWriteForgotten, "Refuses a write past the end of the stream, then accepts RESUMING -> STOP.",
            ["V2-RESUME-REFUSED-WRITE"]),
        v2(
            .refusedHeaderForgotten,
            "Refuses a write that starts a stream with a bad header (garbage, an inverted header), "
                + "then accepts RESUMING -> STOP.",
            ["V2-RESUME-REFUSED-WRITE", "V2-RESUME-BAD-HEADER", "V2-RESUME-GARBAGE"]),
        v2(
            .shortTailRefusedThenStop,
            "Refuses a write that leaves its stream one byte short of the length its header "
                + "declares, then accepts RESUMING -> STOP all the same.",
            ["V2-RESUME-REFUSED-WRITE", "V2-RESUME-TRUNCATED-ONE"]),
        v2(
            .acceptsTrailingBytes, "Takes bytes written past the end of a complete stream and ignores them.",
            ["V2-RESUME-TRAILING-BYTES"]),
        v2(
            .ignoresHeader, "Loads a stream whatever its header says (an inverted header, garbage from byte 0).",
            ["V2-RESUME-BAD-HEADER", "V2-RESUME-GARBAGE"]),
        v2(.failedResumeGoesToStop, "Fails RESUMING -> STOP on bad data but reports STOP.", ["V2-RESUME-FAILED-STATE"]),
        v2(.driftsWhenIdle, "Left alone in RUNNING_P2P, slides back to RUNNING.", ["V2-INV-NO-SPONTANEOUS-CHANGE"]),
        v2(
            .errorAfterSuccess, "PRE_COPY_P2P -> PRE_COPY succeeds but leaves the device in ERROR.",
            ["V2-INV-ERROR-ONLY-AFTER-FAILURE", "V2-ARC-STATE"]),
        v2(.configDeadInStopCopy, "Config space reads as absent (0xffff) in STOP_COPY.", ["V2-ACCESS-CONFIG-SPACE"]),
        v2(.interruptsRefusedInStop, "Refuses VFIO_DEVICE_SET_IRQS in STOP.", ["V2-ACCESS-IRQ-IN-STOP"]),
        v2(
            .dmaLogProbePartial, "Fails a PROBE of DMA_LOGGING_STOP while START and REPORT probe fine.",
            ["V2-DMA-LOG-PROBE"]),
        v2(
            .dmaLogOddPageSize, "DMA logging START writes back a page size of 3000 bytes.",
            ["V2-DMA-LOG-START-PAGE-SIZE"]),
        v2(
            .dmaLogSecondStartAccepted,
            "Accepts a second DMA logging START without a STOP (a stubbed driver's log_start).",
            ["V2-DMA-LOG-SECOND-START"]),
        v2(
            .dmaLogReportWithoutStart, "Answers a DMA logging REPORT while logging is stopped.",
            ["V2-DMA-LOG-REPORT-NOT-STARTED"]),
        v2(
            .dmaLogReportClearsBitmap, "Zeroes the caller's bitmap before setting the dirty bits in a REPORT.",
            ["V2-DMA-LOG-REPORT-ONLY-SETS"]),
        v2(
            .dmaLogReportFixedPageSize, "Refuses a REPORT whose page size differs from the one START chose.",
            ["V2-DMA-LOG-REPORT-PAGE-SIZES"]),
        v2(.dmaLogOverlapAccepted, "Accepts a DMA logging START with overlapping ranges.", ["V2-DMA-LOG-CORE-LIMITS"]),
        v2(.dmaLogStopsOnArc, "Stops DMA logging whenever the migration state changes.", ["V2-DMA-LOG-SURVIVES-ARCS"]),
        v2(
            .resumesOnlyOwnStream, "Loads only streams this very device saved: a peer of the same kind refuses them.",
            ["V2-PEER-RESUME"]),
        v2(
            .p2pBlockedBySibling,
            "Refuses the arc into RUNNING_P2P (EBUSY) while another device of the driver is in STOP.",
            ["V2-PEER-TWO-DEVICE-ORDER"]),
        v2(
            .loadsForeignStream,
            "Loads a stream whatever state size it declares, also one of a device of another configuration.",
            ["V2-PEER-FOREIGN-REFUSED"]),
        sequence(
            .failsAfterAbandonedPreCopy,
            "After a PRE_COPY session is left before its initial data was read, STOP -> STOP_COPY fails until reset.",
            ["V2-ARC-STATE", "V2-COMBINATION-STATE"]),
        sequence(
            .breaksAfterFailedResumeAndReset,
            "After a failed resume and a reset, STOP -> RESUMING fails until the next reset.",
            ["V2-ARC-STATE", "V2-COMBINATION-STATE"], runPasses: true),

        v1(.accepts101, "Accepts a write of the reserved state 101b.", ["V1-REJECT-101"]),
        v1(.accepts110, "Accepts a write of the error state 110b.", ["V1-REJECT-110"]),
        v1(.accepts111, "Accepts a write of 111b.", ["V1-REJECT-111"]),
        v1(.writeLeavesError, "A write of a valid state leaves the error state.", ["V1-ERROR-STICKY"]),
        v1(
            .resetToStop, "Reset from _RESUMING (100b) leaves the device in 000b instead of 001b.",
            ["V1-RESET-TO-RUNNING"]),
        v1(
            .resetKeepsError, "The first reset after entering the error state does nothing.",
            ["V1-ERROR-RESET", "V1-RESUME-RESET-RECOVERS"]),
        v1(.clobbersReservedBits, "Clears bits 3-31 of device_state on every write.", ["V1-RESERVED-BITS-PRESERVED"]),
        v1(.rejectsReservedBits, "Refuses device_state writes with reserved bits set.", ["V1-RESERVED-BITS-IGNORED"]),
        v1(.reservedFieldEchoes, "The reserved field reads back what was written to it.", ["V1-RESERVED-FIELD"]),
        v1(.pendingSideEffect, "Each read of pending_bytes changes it.", ["V1-PENDING-NO-SIDE-EFFECT"]),
        v1(.dataOffsetZero, "Reports data_offset 0.", ["V1-DATA-OFFSET-NONZERO"]),
        v1(.narrowAccessAccepted, "Answers reads of device_state of any width.", ["V1-REGION-NATIVE-WIDTH"]),
        v1(
            .dataOffsetAdvances,
            "Each read of data_offset prepares the next buffer, even before the current one "
                + "was read.", ["V1-SAVE-FIELDS-REPEATABLE"]),
        v1(
            .dataOffsetUnaligned,
            "Places the data section at offset 32, right behind the register file, though the "
                + "region can be mmapped.", ["V1-DATA-OFFSET-PAGE-ALIGNED"]),
        v1(.neverDrains, "pending_bytes never reaches 0 in stop-and-copy.", ["V1-STOP-COPY-DRAINS"]),
        v1(.missingDocumentedArc, "Refuses pre-copy (011b) -> stop-and-copy (010b).", ["V1-ARC-DOCUMENTED"]),
        v1(.missingOtherArc, "Refuses stopped (000b) -> running (001b).", ["V1-ARC-OTHER"]),
        v1(.sameStateRefused, "Refuses a write of the current state.", ["V1-SAME-STATE"]),
        v1(.acceptsTruncated, "Leaves _RESUMING successfully after truncated data.", ["V1-RESUME-TRUNCATED"]),
        v1(.rejectsOwnStream, "Cannot load the data it saved.", ["V1-ROUND-TRIP"]),
        v1(
            .failedResumeReports111,
            "After a failed resume, reports 111b (an error encoding only under the 11Xb reading).",
            ["V1-RESUME-FAILED-STATE"]),
        v1(
            .failedResumeReportsRunning, "After a failed resume, reports 001b although the transition failed.",
            ["V1-RESUME-FAILED-STATE-11X"], variants: ["v1-11x-error"]),
        v1(.drifts, "Left alone in 000b, starts running by itself.", ["V1-INV-NO-SPONTANEOUS-CHANGE"]),
        v1(
            .errorAfterSuccess, "Stopped (000b) -> pre-copy (011b) succeeds but leaves the error state.",
            ["V1-INV-ERROR-ONLY-AFTER-FAILURE", "V1-ARC-OTHER"]),
        v1(.configDead, "Config space reads as absent in _RESUMING.", ["V1-ACCESS-CONFIG-SPACE"]),
    ]

    package static func entry(named name: String) -> FaultEntry? { entries.first { $0.name == name } }
}
