import MigconformCases
import MigconformSpec

/// The whole-state transfers a case needs to prove its rule: the streams it must read from the device and write
/// back, in states (one state: the length of the device's save stream), and nothing else.
///
/// The runner keeps one saved stream for the whole run (``TransferNeed/shared``): every case that only needs a
/// valid stream to leave the resume state, or a damaged copy of one, resumes that stream (or a view of it) and
/// reads none of its own. A run moves the sum of its cases' needs plus the shared stream's, and a case moves at
/// most its own need plus, for the first case that asks for the shared stream, the shared stream's.
package struct TransferNeed: Sendable, Equatable {
    /// Whole save streams read to their end (in states).
    package var reads: Double = 0
    /// Pre-copy phases read to their temporary end: the data the device offers before STOP_COPY, which it sizes
    /// itself (at most a state).
    package var precopyReads: Int = 0
    /// Resume streams written (in states; a truncated stream counts what is left of it).
    package var writes: Double = 0
    /// Bytes that do not grow with the state (garbage, bytes past a stream's end, a forged stream).
    package var fixedBytes: UInt64 = 0
    /// The case resumes the run's shared stream (or a view of it): the run saves that one stream for it.
    package var sharesStream = false

    /// No transfer of the state at all.
    package static let none = TransferNeed()

    /// What the run's shared stream costs, once for every case that uses it: one read to save it, and one write
    /// to prove the device loads it (resumed, then the resume state left), so that a device that cannot load its
    /// own stream blocks the cases that rely on it instead of failing them.
    package static let shared = TransferNeed(reads: 1, writes: 1)

    /// The bytes the need moves for a stream of `stream` bytes whose pre-copy phase offers `precopy` bytes.
    package func bytes(stream: UInt64, precopy: UInt64) -> (read: UInt64, written: UInt64) {
        let s = Double(stream)
        let read = UInt64((reads * s).rounded(.up)) + UInt64(precopyReads) * precopy
        return (read, UInt64((writes * s).rounded(.up)) + fixedBytes)
    }

    /// The sum of two needs.
    package static func + (a: TransferNeed, b: TransferNeed) -> TransferNeed {
        TransferNeed(
            reads: a.reads + b.reads, precopyReads: a.precopyReads + b.precopyReads, writes: a.writes + b.writes,
            fixedBytes: a.fixedBytes + b.fixedBytes, sharesStream: a.sharesStream || b.sharesStream)
    }

    /// The least a run of `cases` can move: each case's need, and the shared stream once if any case uses it.
    package static func minimum(_ cases: [TestCase], on m: Machine) -> TransferNeed {
        let d = Distances(m)
        return minimum(of: cases.map { of($0, on: m, distances: d) })
    }

    /// The least a run moves whose cases need `needs`: their sum, and the shared stream once if any uses it.
    package static func minimum(of needs: [TransferNeed]) -> TransferNeed {
        let sum = needs.reduce(TransferNeed.none, +)
        return sum.sharesStream ? sum + shared : sum
    }

    /// The need of a case on a machine.
    package static func of(_ c: TestCase, on m: Machine) -> TransferNeed { of(c, on: m, distances: Distances(m)) }

    /// The need of a case, with the machine's ``Distances`` already at hand.
    package static func of(_ c: TestCase, on m: Machine, distances d: Distances) -> TransferNeed {
        let resume = m.stateName(forRole: "resume")
        let shape = CaseShape.of(c, on: m, distances: d)
        // The case starts in the resume state with the shared stream loaded (`CaseContext.enter`), as a
        // migration's destination is: leaving it by a request needs a complete stream (the uAPI fails the exit of
        // an incomplete one), and a driver may behave differently once data is in. A case that only arrives there
        // loads nothing: the runner resets the device after it.
        let startsInResume = resume != nil && shape.start == resume
        let leavesResume = startsInResume ? TransferNeed(writes: 1, sharesStream: true) : .none
        /// A resume with its stream loaded, met by a reset or a close (a cancelled migration's cleanup).
        let loadedResume = leavesResume
        /// Bytes written to drive the device into the error state: a failed resume of 64 bytes of garbage.
        let intoError = TransferNeed(fixedBytes: 64)
        switch c.rule.check {
        case .migrationFlags, .hostHealth, .precopyInfoV2, .reservedBits, .regionAccess:
            // Flags, feature calls and register fields: no stream. (Where the case sits in the resume state, the
            // stream that lets the next step leave it.)
            return leavesResume
        case .arc, .combination, .sameState, .forbiddenArc, .rejectedValue, .sessionKept, .sessionEnded,
            .deviceAccess, .dmaLogging:
            // State requests: a stream only to leave the resume state. A session's fd is read a few bytes at most.
            return leavesResume
        case .feature(let p):
            // From the error state: a failed resume gets there.
            return p.from == .error ? intoError : leavesResume
        case .reset(let p):
            // The error state is reached by a failed resume. A reset leaves the resume state without a request:
            // the case that probes the old session's end does it in an empty session; the others reset a resume
            // with its stream loaded (a cancelled migration's cleanup), one write.
            if c.from != nil, c.from == m.stateName(forRole: "error") { return intoError }
            return p.expect == .sessionEnded ? .none : loadedResume
        case .lifecycle(let p):
            // As for a reset: closing the device with a resume's stream loaded, except where the old session's
            // end is probed.
            if c.from != nil, c.from == m.stateName(forRole: "error") { return intoError }
            return p.expect == .oldFDOver ? .none : loadedResume
        case .errorSticky:
            return intoError
        case .streamEnd:
            // The end of stream is permanent: the stream is read to its end once.
            return TransferNeed(reads: 1)
        case .saveProtocol(let p):
            // v1: draining the save phase reads the whole stream; the other fields need only its first pieces.
            return p.expect == .drains ? TransferNeed(reads: 1) : .none
        case .dataFD(let p):
            switch p.expect {
            case .pollAtEnd: return TransferNeed(reads: 1) // poll at the end of the stream: read to the end
            case .pollAtTemporaryEnd: return TransferNeed(precopyReads: 1) // and at the end of pre-copy data
            case .saveRepeatable:
                // Two saves from STOP, each read to its end at any size (the second compared as it arrives, and
                // read on past a difference).
                return TransferNeed(reads: 2)
            case .closeOnExec, .accessMode, .notSeekable:
                // The fd's own flags, read before the session gets its stream (which the case never needs: it
                // stays in the resume state, and the runner resets the device after it).
                return startsInResume ? TransferNeed(sharesStream: true) : .none
            case .unknownIoctl, .precopyInfoRefused, .shortArgsz:
                return leavesResume
            }
        case .precopyInfo(let p):
            switch p.expect {
            case .enomsgAtEnd, .zeroAtTemporaryEnd, .initialDecreases:
                // Read to the temporary end of the pre-copy data (asking PRECOPY_INFO on the way).
                return TransferNeed(precopyReads: 1)
            case .supported, .supportedInP2P, .refusedOutsidePrecopy, .dirtyZeroAtStart, .initialNonzero:
                return .none
            }
        case .roundTrip(let p):
            // The STOP_COPY stream written back, in the segments the rule gives: the shared stream is that
            // stream. Through pre-copy, the case saves its own (the pre-copy data and the rest make one stream).
            if p.via == .preCopy { return TransferNeed(reads: 1, writes: 1) }
            return TransferNeed(writes: 1, sharesStream: true)
        case .resumeDamaged(let p):
            // A view of the shared stream (`StreamChecks.damage` says why each damage moves what it moves).
            switch p.damage {
            case .truncate: return TransferNeed(writes: 0.5, sharesStream: true)
            case .truncateOne, .corrupt, .header: return TransferNeed(writes: 1, sharesStream: true)
            case .truncateHeader: return TransferNeed(fixedBytes: 4, sharesStream: true)
            case .garbage: return TransferNeed(fixedBytes: 1 << 20, sharesStream: true)
            case .overlong, .refusedWrite: return TransferNeed(writes: 1, fixedBytes: 4096, sharesStream: true)
            }
        case .invariant(let p):
            // Every settable state, or every arc, in turn: the resume state is entered and left by a request once
            // (`CaseShape.invariantArcs` takes the arc out of it right after the arc in).
            guard let resume else { return .none }
            let visits =
                p.name == .noSpontaneousChange
                ? m.settableStates.contains { $0.name == resume }
                : m.arcs.contains { $0.from == resume || $0.to == resume }
            return visits ? TransferNeed(writes: 1, sharesStream: true) : .none
        case .peer(let p):
            switch p.expect {
            // The shared stream, written to the peer.
            case .resumeOnPeer: return TransferNeed(writes: 1, sharesStream: true)
            // Each device saves, and resumes the other's stream.
            case .twoDeviceOrder: return TransferNeed(reads: 2, writes: 2, sharesStream: true)
            // The foreign device's stream offered to this one: of the foreign device's own size, which is not this
            // device's state (the built-in foreign device's is 12 KiB), so no whole state of this device moves.
            case .foreignRefused: return .none
            }
        }
    }
}
