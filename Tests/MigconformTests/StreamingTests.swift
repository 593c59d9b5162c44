import Foundation
import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformSpec
import Testing

@testable import MigconformReference
@testable import MigconformRun

@Suite struct StreamingTests {
    /// The whole stream of a writer, read in pieces of the given sizes (cycled).
    static func stream(payload: UInt64, seed: UInt64 = 9, pieces: [Int], garble: Bool = false) -> [UInt8] {
        var w = StreamWriter(payloadSize: payload, seed: seed, garble: garble)
        var out: [UInt8] = []
        var i = 0
        while w.remaining > 0 {
            out += w.next(pieces[i % pieces.count])
            i += 1
        }
        return out
    }

    @Test(arguments: [0, 1, 7, 8, 9, 31, 32, 33, 4096, 100_003] as [UInt64])
    func bulkAndBytewiseWritersProduceTheSameStream(payload: UInt64) {
        let whole = Self.stream(payload: payload, pieces: [1 << 20])
        #expect(UInt64(whole.count) == ReferenceStream.length(payloadSize: payload))
        #expect(Self.stream(payload: payload, pieces: [1]) == whole)
        #expect(Self.stream(payload: payload, pieces: [3, 8, 13, 4093]) == whole)
        #expect(Array(whole.prefix(4)) == ReferenceStream.magic)
        // The payload is the documented word pattern, little-endian, in the first block and past it.
        for w in [1, Int(payload / 8) - 1] where w >= 1 && UInt64(w + 1) * 8 <= payload {
            let word = ReferenceStream.readLE(whole[(24 + 8 * w)..<(24 + 8 * w + 8)])
            #expect(word == ReferenceStream.payloadWord(UInt64(w), seed: 9), "payload word \(w)")
        }
    }

    @Test(arguments: [[1], [7, 13, 4093], [64], [1 << 20]])
    func theReaderAcceptsAnySegmentation(pieces: [Int]) {
        let s = Self.stream(payload: 10_000, pieces: [4096])
        var r = StreamReader()
        var at = 0
        var i = 0
        while at < s.count {
            let n = min(pieces[i % pieces.count], s.count - at)
            i += 1
            let accepted = r.accept(Array(s[at..<at + n]))
            #expect(accepted)
            at += n
        }
        #expect(r.verdict() == nil)
    }

    @Test func everyTruncationIsCaught() {
        let s = Self.stream(payload: 300, pieces: [64])
        for cut in 0..<s.count {
            var r = StreamReader()
            let accepted = r.accept(Array(s[..<cut]))
            #expect(accepted)
            #expect(r.verdict() != nil, "a stream cut to \(cut) of \(s.count) bytes was accepted")
        }
    }

    @Test func everyCorruptedByteIsCaught() {
        let s = Self.stream(payload: 300, pieces: [64])
        for position in s.indices {
            for flip: UInt8 in [0x01, 0x80, 0xff] {
                var damaged = s
                damaged[position] ^= flip
                var r = StreamReader()
                _ = r.accept(damaged)
                #expect(r.verdict() != nil, "flipping 0x\(String(flip, radix: 16)) at byte \(position) went unnoticed")
            }
        }
    }

    @Test func overlongStreamsAreRefusedWhetherTheExtraComesAloneOrWithTheHeader() {
        let s = Self.stream(payload: 1000, pieces: [4096])
        var alone = StreamReader()
        let first = alone.accept(s)
        let extra = alone.accept([0x5a])
        #expect(first && !extra)
        #expect(alone.verdict() == .overlong)
        var together = StreamReader()
        _ = together.accept(s + [UInt8](repeating: 0x5a, count: 4096))
        #expect(together.verdict() == .overlong)
    }

    @Test func aGarbledTrailerFailsTheChecksum() {
        var r = StreamReader()
        let accepted = r.accept(Self.stream(payload: 5000, pieces: [777], garble: true))
        #expect(accepted)
        #expect(r.verdict() == .checksum)
    }

    /// Both kinds of spool file: through the page cache (`readOften`) and, where the file system allows it, with
    /// `O_DIRECT` (bytes gathered in memory until a megabyte is waiting; here they never leave it).
    @Test(arguments: [true, false])
    func aSavedStreamSpoolsPastItsThresholdAndReadsBackTheSame(readOften: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let small = SavedStream(
            spoolThreshold: 1 << 20, directory: dir.path, directAfter: readOften ? nil : SpoolFile.defaultDirectAfter)
        // Past 150,000 bytes a stream read once goes on with O_DIRECT: mid-block, mid-append.
        let big = SavedStream(spoolThreshold: 100_000, directory: dir.path, directAfter: readOften ? nil : 150_000)
        for s in [small, big] {
            var at = 0
            for size in [1, 4095, 65_536, 200_000, 30_368] {
                try s.append(Array(bytes[at..<at + size]))
                at += size
            }
        }
        #expect(!small.isSpooled)
        #expect(big.isSpooled)
        if readOften { #expect(!big.spoolsDirect) }
        // The spool file is unlinked from the start: nothing is left in the folder, even while the stream lives.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).isEmpty)
        for s in [small, big] {
            #expect(s.count == UInt64(bytes.count))
            #expect(try s.bytes() == bytes)
            #expect(try s.read(at: 123_456, count: 1000) == Array(bytes[123_456..<124_456]))
            #expect(try s.read(at: UInt64(bytes.count) - 10, count: 1000) == Array(bytes.suffix(10)))
            try s.invert(at: 150_000, length: 4)
            var expected = bytes
            for i in 150_000..<150_004 { expected[i] ^= 0xff }
            try s.truncate(to: 200_000)
            try s.append([1, 2, 3])
            #expect(try s.bytes() == Array(expected[..<200_000]) + [1, 2, 3])
        }
        let counter = SavedStream.counting()
        try counter.append(bytes)
        #expect(counter.count == UInt64(bytes.count))
        #expect(try counter.bytes().isEmpty)
    }

    /// Spooled streams read front to back in equal pieces have the next piece read ahead; whatever changes the
    /// file (an append, an inversion, a truncation) must not let a stale read-ahead through. With `O_DIRECT`
    /// (`readOften` false, where the file system allows it) the pieces are unaligned: the inversion falls in a
    /// block already written out, the truncation inside one, and reads cross from the file into what is gathered.
    @Test(arguments: [true, false])
    func readAheadOfASpooledStreamNeverServesStaleBytes(readOften: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spool-ahead-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let piece = SpoolIO.readAheadMinimum
        let bytes = (0..<(5 * piece + 777)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        // Direct (where it is not read often) from a little past the second piece on, mid-block.
        let s = SavedStream(
            spoolThreshold: UInt64(piece), directory: dir.path, directAfter: readOften ? nil : UInt64(2 * piece + 1000))
        var at = 0
        while at < bytes.count {
            // Pieces a little off the block size, so that the direct file's writes and reads are never aligned.
            let n = min(piece + (readOften ? 0 : 333), bytes.count - at)
            try s.append(Array(bytes[at..<at + n]))
            at += n
        }
        #expect(s.isSpooled && s.pieceSizes.isEmpty)
        // Direct where the folder's file system takes O_DIRECT (ext4, xfs, btrfs, tmpfs since Linux 6.6).
        #expect(s.spoolsDirect == (!readOften && SpoolFile.directWorks(in: dir.path)))
        var expected = bytes
        func readAll() throws -> [UInt8] {
            var out: [UInt8] = []
            var offset: UInt64 = 0
            while offset < s.count {
                let b = try s.read(at: offset, count: piece)
                out += b
                offset += UInt64(b.count)
            }
            return out
        }
        #expect(try readAll() == expected)
        // The first piece is read, the second is read ahead; then the second changes.
        #expect(try s.read(at: 0, count: piece) == Array(expected[..<piece]))
        try s.invert(at: UInt64(piece) + 5, length: 3)
        for i in (piece + 5)..<(piece + 8) { expected[i] ^= 0xff }
        #expect(try s.read(at: UInt64(piece), count: piece) == Array(expected[piece..<(2 * piece)]))
        // A truncation inside a piece that was read ahead, then an append over the same place.
        _ = try s.read(at: UInt64(2 * piece), count: piece)
        try s.truncate(to: UInt64(3 * piece + 10))
        try s.append([9, 9, 9])
        expected = Array(expected[..<(3 * piece + 10)]) + [9, 9, 9]
        #expect(try readAll() == expected)
    }

    @Test func aStreamInMemoryKeepsItsPiecesAndHandsAWholePieceBackAsItIs() throws {
        let s = SavedStream(spoolThreshold: 1 << 20)
        let a = [UInt8](repeating: 1, count: 100)
        let b = [UInt8](repeating: 2, count: 50)
        try s.append(a)
        try s.append(b)
        #expect(s.pieceSizes == [100, 50])
        #expect(try s.read(at: 100, count: 50) == b)
        #expect(try s.read(at: 90, count: 20) == [UInt8](repeating: 1, count: 10) + [UInt8](repeating: 2, count: 10))
        // Bulk writes end where a piece ends, so the next one is a whole piece.
        #expect(s.bulkSize(at: 0) == 100 && s.bulkSize(at: 30) == 70 && s.bulkSize(at: 100) == 50)
        try s.truncate(to: 100)
        #expect(s.pieceSizes == [100])
        try s.truncate(to: 0)
        #expect(s.pieceSizes.isEmpty && s.count == 0)
    }

    @Test func theSegmentationOfLargeStreamsIsBoundedAndSaid() {
        #expect(CaseContext.segmentation([1], count: 4128) == "segments [1]")
        #expect(
            CaseContext.segmentation([65536], count: 4 << 30)
                == "segments [65536] for the first 67108864 bytes (1024 writes), then writes of up to 1 MiB")
        #expect(CaseContext.segmentation([1], count: 1 << 20).hasSuffix("(8192 writes), then writes of up to 1 MiB"))
    }

    /// A spool file that cannot be made (here its folder is a file; on a lab, a full disk) is the runner's failure:
    /// the case is an ERROR naming the file, and an ERROR says nothing of the device, so it leaves the run
    /// INCOMPLETE, never NOT CONFORMANT.
    @Test func aSpoolThatCannotBeWrittenIsAnErrorThatLeavesTheRunIncomplete() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("spool-file-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var expansion = ExpansionOptions()
        expansion.only = ["V2-ROUND-TRIP"]
        let runner = Runner(
            spec: TestSupport.v2, device: ReferenceDeviceV2(.init(stateSize: 2 << 20)),
            options: RunOptions(target: "ref:v2", expansion: expansion))
        runner.streamCache.spoolThreshold = 1 << 20
        runner.options.spoolDirectory = file.appendingPathComponent("spool").path
        let report = try runner.run()
        let c = try #require(report.cases.first { $0.id == "V2-ROUND-TRIP" })
        #expect(c.verdict == .error, "\(c.message)")
        #expect(
            c.message.hasPrefix("the runner failed (not the device): spool file \(file.path)/spool/"), "\(c.message)")
        #expect(report.summary.mustErrored == 1)
        #expect(report.summary.verdict == .incomplete)
        // The same verdict logic without the filter: an ERROR beside passes is incomplete, beside a FAIL not
        // conformant; an ERROR at SHOULD level does not touch the MUST verdict.
        func r(_ level: Level, _ v: Verdict) -> CaseResult {
            CaseResult(id: "\(level)-\(v)", ruleID: "R", level: level, statement: "", cite: "", verdict: v, message: "")
        }
        #expect(RunSummary(cases: [r(.must, .pass), r(.must, .error)]).verdict == .incomplete)
        #expect(RunSummary(cases: [r(.must, .fail), r(.must, .error)]).verdict == .notConformant)
        #expect(RunSummary(cases: [r(.must, .timeout)]).verdict == .notConformant)
        let shouldError = RunSummary(cases: [r(.must, .pass), r(.should, .error)])
        #expect(shouldError.verdict == .conformant && shouldError.mustErrored == nil)
    }

    /// Round trips and damaged resumes of a stream larger than the spool threshold: the run spools, every case
    /// passes, and transcripts stay short.
    @Test func largeRoundTripsSpoolAndPass() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spool-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let device = ReferenceDeviceV2(.init(stateSize: 10 << 20))
        var expansion = ExpansionOptions()
        expansion.only = [
            "V2-ROUND-TRIP*", "V2-RESUME-*", "V2-ARC-STATE[RESUMING->STOP]", "V2-STREAM-PERMANENT-EOF",
            "V2-PRECOPY-*",
        ]
        let runner = Runner(
            spec: TestSupport.v2, device: device, options: RunOptions(target: "ref:v2", expansion: expansion))
        runner.streamCache.spoolThreshold = 1 << 20
        runner.options.spoolDirectory = dir.path
        let report = try runner.run()
        // The same verdicts as with the default 4 KiB state, which never spools.
        let small = try TestSupport.run(TestSupport.v2, ReferenceDeviceV2(), target: "ref:v2", options: expansion)
        let ran = report.cases.filter { $0.verdict != .skipped }
        #expect(ran.count >= 10)
        #expect(ran.filter { $0.verdict == .pass }.count >= 10)
        for c in report.cases {
            let expected = small.cases.first { $0.id == c.id }?.verdict
            #expect(c.verdict == expected, "\(c.id): \(c.verdict.rawValue) \(c.message)")
            #expect(![.fail, .warn, .error, .timeout].contains(c.verdict), "\(c.id): \(c.message)")
        }
        #expect(runner.streamCache.stream?.isSpooled == true)
        #expect(runner.streamCache.stream?.count == ReferenceStream.length(payloadSize: 10 << 20))
        let roundTrip = try #require(report.cases.first { $0.id == "V2-ROUND-TRIP" })
        // 10 MiB in 64 KiB writes and 1 MiB reads.
        #expect(roundTrip.transcript.count < 400)
        let bytewise = try #require(report.cases.first { $0.id == "V2-ROUND-TRIP-BYTEWISE" })
        #expect(bytewise.message.contains("then writes of up to 1 MiB"))
        #expect(bytewise.transcript.count < 8192 + 100)
        // Transcripts keep counts, not the data: the whole stream read is one summary entry.
        let reads = roundTrip.transcript.filter { if case .read = $0.operation { return true } else { return false } }
        let length = Int(ReferenceStream.length(payloadSize: 10 << 20))
        let summary = " reads, \(length) bytes, checksum "
        #expect(
            reads.contains { $0.byteCount == length && ($0.data ?? "").contains(summary) },
            "\(reads.map { ($0.byteCount ?? 0, $0.data ?? "") })")
    }

    /// V2-STOP-SAVE-REPEATABLE on a device of `stateSize` bytes, spooling past 1 MiB: the case and what the plan
    /// says it needs.
    static func saveRepeatable(_ device: MigrationDevice, target: String) throws -> (CaseResult, TransferNeed) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spool-repeat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = Runner(
            spec: TestSupport.v2, device: device,
            options: RunOptions(target: target, expansion: ExpansionOptions(only: ["V2-STOP-SAVE-REPEATABLE"])))
        runner.streamCache.spoolThreshold = 1 << 20
        runner.options.spoolDirectory = dir.path
        let report = try runner.run()
        let c = try #require(report.cases.first { $0.id == "V2-STOP-SAVE-REPEATABLE" })
        let line = try #require(TransferAccount(report, spec: TestSupport.v2).lines.first { $0.id == c.id })
        return (c, line.need)
    }

    /// Two saves of a state larger than 64 MiB are compared by a checksum of each 1 MiB block as they are read:
    /// no spool file, each read once to its end, as the plan counts them.
    @Test func aLargeSaveIsComparedAsItStreams() throws {
        let size: UInt64 = 80 << 20
        let (c, need) = try Self.saveRepeatable(
            ReferenceDeviceV2(.init(stateSize: size)), target: "ref:v2?state-size=80MiB")
        let length = ReferenceStream.length(payloadSize: size)
        #expect(c.verdict == .info)
        #expect(c.expected == nil)
        #expect(
            c.message
                == "two saves from STOP gave the same \(length) bytes (compared by a checksum of each 1 MiB block "
                + "as they were read)")
        let (read, written) = TransferAccount.moved(c.transcript)
        #expect(read == 2 * length && written == 0)
        #expect(need.bytes(stream: length, precopy: 0).read == read)
        // Each save is one summary entry; the transcript holds counts, not the data.
        #expect(c.transcript.count < 50)
        #expect(c.transcript.allSatisfy { ($0.data ?? "").utf8.count < 1000 })
    }

    /// A device that counts its saves in the last 8 bytes of its state: the case finds the 1 MiB block of the
    /// first difference deep in a large stream, and reads the second save to its end all the same.
    @Test func aLargeSaveThatChangesIsCaughtAtItsFirstDifference() throws {
        let size: UInt64 = 80 << 20
        let entry = try #require(FaultCatalogue.entry(named: V2Fault.countsSavesInState.rawValue))
        #expect(entry.trips == ["V2-STOP-SAVE-REPEATABLE"])
        let (c, need) = try Self.saveRepeatable(
            entry.makeDevice(stateSize: size), target: "fault:counts-saves-in-state?state-size=80MiB")
        let length = ReferenceStream.length(payloadSize: size)
        let differs = length - UInt64(ReferenceStream.trailerSize) - 8
        #expect(c.verdict == .info)
        #expect(c.expected == "the same bytes twice (\(length))")
        let block = differs / (1 << 20) * (1 << 20)
        #expect(c.actual == "\(length) bytes, the first difference in the 1 MiB block at byte \(block)")
        #expect(c.message.hasPrefix("two saves from STOP differ"))
        #expect(TransferAccount.moved(c.transcript).read == 2 * length)
        #expect(need.bytes(stream: length, precopy: 0).read == 2 * length)
    }

    @Test func firstDifferenceIsTheFirstDifferingByteOrTheShorterLength() {
        let a: [UInt8] = Array(0..<100)
        var b = a
        b[37] = 0
        #expect(DataFDChecks.firstDifference(a, a) == nil)
        #expect(DataFDChecks.firstDifference([], []) == nil)
        #expect(DataFDChecks.firstDifference(a, b) == 37)
        #expect(DataFDChecks.firstDifference(a, Array(a.prefix(60))) == 60)
        #expect(DataFDChecks.firstDifference([], a) == 0)
        #expect(DataFDChecks.firstDifference(Array(b.prefix(60)), a) == 37)
    }
}
