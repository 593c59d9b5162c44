import Foundation
import MigconformBase
import MigconformDevice
import MigconformRun
import MigconformSpec

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The run's journal, `journal.jsonl` in the run folder: one JSON object per line, appended as the run goes, so
/// that a run killed by SIGKILL, a kernel oops or a power cut leaves a record of every finished case and of the
/// operation that was in flight. ``JournalReader`` rebuilds a report from it. The format is described in
/// `Reports/README.md`.
///
/// Every record is written with `write(2)` before the runner goes on: it is then in the page cache and survives
/// the death of the process (SIGKILL, a crash of the runner), so no finished result is lost that way. Only a kernel
/// crash or a power cut loses the page cache; against those the file is flushed to disk (`fdatasync`) at the end
/// of every case and of the run, unless the folder is in memory (``isInMemory(_:)``) and has no disk.
///
/// With `syncEachOperation` (the default, and what kernel targets need: the operation in flight may be the one
/// that takes the kernel down) each of a case's operations is recorded, and flushed (unless the folder is in
/// memory), before it is issued, and its
/// answer after it. Without it a case is recorded by its start and its end record only (the end record carries the
/// whole transcript): two writes a case instead of two an operation, which on a fast device are most of what the
/// run costs. A run killed in the middle of a case then leaves that case marked unfinished, without the
/// operations it had issued. Operations outside cases (discovery, cleanup) are always recorded one by one. A
/// case's start record is not flushed by itself: its first operation's flush carries it, and a case with none
/// needs it on disk no sooner than its end record.
package final class RunJournal: RunObserver {
    package var isJournal: Bool { true }
    /// A case's operations are recorded one by one only with `syncEachOperation`; else its end record has them.
    package var followsCaseOperations: Bool { syncEachOperation }
    /// The journal's file name in a run folder.
    package static let fileName = "journal.jsonl"
    /// Version of the journal's record format.
    package static let version = 1

    package let url: URL
    private let fd: Int32
    private var index: Int?
    private var phase = "discovery"
    /// The current case's operations and where their encoded entries are in `entryBytes`, reused for its end
    /// record (`--journal-sync op`).
    private var caseEntries: [(entry: TranscriptEntry, span: Range<Int>)] = []
    private var entryBytes = DocumentJSON.Writer()
    /// The buffer every record is written in, reused from record to record.
    private var line: DocumentJSON.Writer? = DocumentJSON.Writer()
    /// Flushes at case ends without holding up the run (`--journal-sync case`); nil for a folder in memory
    /// (``isInMemory(_:)``), which has no disk to flush to: there a flush would only cost a system call and, on
    /// one CPU, two thread switches a case.
    private let flusher: Flusher?
    /// The operation whose `op` record was written last, until its entry comes back.
    private var inFlight: DocumentJSON.EncodedOperation?
    /// The first write error, if any; the run goes on without a journal rather than fail.
    package private(set) var failure: String?

    /// Record and flush every device operation of a case before it is issued, not only whole cases at their end.
    package let syncEachOperation: Bool

    /// Creates the folder when missing and starts a new journal in it (replacing an old one).
    package init(folder: URL, syncEachOperation: Bool = true) throws {
        self.syncEachOperation = syncEachOperation
        try ReportWriteError.makeFolder(folder)
        url = folder.appendingPathComponent(Self.fileName)
        fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        guard fd >= 0 else {
            throw ReportWriteError(path: url.path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        let dfd = open(folder.path, O_RDONLY)
        if dfd >= 0 {
            _ = fsync(dfd)
            _ = close(dfd)
        }
        flusher = Self.isInMemory(folder) ? nil : Flusher(fd: fd)
    }

    deinit {
        _ = flusher?.stop()
        close(fd)
    }

    /// True when `folder` (or, while it does not exist, the nearest folder above it) is on a file system held in
    /// memory (tmpfs, ramfs, the initramfs's rootfs): its files do not outlive the kernel, so flushing them protects
    /// nothing. Read from the longest mount point above the folder in `/proc/self/mounts`, as bytes: a run in a
    /// slow guest asks this before its first case.
    package static func isInMemory(_ folder: URL) -> Bool {
        var path = folder.standardizedFileURL.path
        while !FileManager.default.fileExists(atPath: path), path != "/", !path.isEmpty {
            path = (path as NSString).deletingLastPathComponent
        }
        if let real = realpath(path, nil) {
            path = String(cString: real)
            free(real)
        }
        guard let mounts = PseudoFile.contents(of: "/proc/self/mounts") else { return false }
        let target = Array(path.utf8)
        let slash = UInt8(ascii: "/")
        var best: (length: Int, type: ArraySlice<UInt8>)?
        for line in mounts.split(separator: UInt8(ascii: "\n")) {
            let f = line.split(separator: UInt8(ascii: " "), maxSplits: 3)
            guard f.count >= 3 else { continue }
            let point = unescapeMountField(f[1])
            let inside =
                point == [slash] || target == point
                || (target.count > point.count && target.starts(with: point) && target[point.count] == slash)
            if inside, point.count >= (best?.length ?? -1) { best = (point.count, f[2]) }
        }
        guard let type = best?.type else { return false }
        return ["tmpfs", "ramfs", "rootfs"].contains { type.elementsEqual($0.utf8) }
    }

    /// A field of a mounts line with its octal escapes (`\040` for a space, `\011`, `\012`, `\134`) undone.
    private static func unescapeMountField(_ field: ArraySlice<UInt8>) -> [UInt8] {
        let backslash = UInt8(ascii: "\\")
        guard field.contains(backslash) else { return Array(field) }
        var out: [UInt8] = []
        var i = field.startIndex
        while i < field.endIndex {
            let digits = field[(i + 1)..<min(i + 4, field.endIndex)]
            if field[i] == backslash, digits.count == 3, digits.allSatisfy({ (48...55).contains($0) }) {
                out.append(digits.reduce(0) { $0 &* 8 &+ ($1 - 48) })
                i += 4
            } else {
                out.append(field[i])
                i += 1
            }
        }
        return out
    }

    // MARK: - Records

    struct RunRecord: Codable {
        var type = "run"
        var journalVersion: Int
        var time: String
        var run: RunInfo
        var plan: [PlannedCase]
        var hazardsSkipped: [SkippedHazard]
    }
    struct CaseStartRecord: Codable {
        var type = "case-start"
        var time: String
        var index: Int
        var id: String
        var attempt: Int
    }
    struct OpRecord: Codable {
        var type = "op"
        var time: String
        var index: Int?
        var phase: String?
        var operation: OperationDocument
        var byteCount: Int?
        var text: String
    }
    struct OpEndRecord: Codable {
        var type = "op-end"
        var index: Int?
        var phase: String?
        var entry: EntryDocument
    }
    struct CaseEndRecord: Codable {
        var type = "case-end"
        var time: String
        var index: Int
        var result: CaseDocument
    }
    struct RunEndRecord: Codable {
        var type = "run-end"
        var time: String
        var run: RunInfo
        var plan: PlanCost?
    }

    /// When a record is flushed to disk after it is written.
    enum Flush {
        /// With a later record.
        case none
        /// Before the runner goes on.
        case now
        /// By the flush thread, while the runner goes on.
        case soon
    }

    /// Appends one record that `build` writes (``JournalLines``), with its newline, in one write; nothing when
    /// `build` throws (the journal then stops, as when a write fails).
    private func append(sync: Flush, _ build: (inout DocumentJSON.Writer) throws -> Void) {
        guard failure == nil, var w = line.take() else { return }
        defer { line = w }
        w.reset()
        do {
            try build(&w)
        } catch {
            failure = "\(url.path): cannot encode a record: \(error)"
            return
        }
        w.bytes.append(0x0A)
        write(w.bytes.all, sync: sync)
    }

    /// Appends one line already encoded, with its newline, in one write.
    private func append(line text: String, sync: Flush) {
        append(sync: sync) { $0.bytes.append(utf8: text) }
    }

    private func write(_ data: Data, sync: Flush) {
        data.withUnsafeBytes { write($0, sync: sync) }
    }

    /// Writes the whole record (retried on a short write), then flushes it when asked.
    private func write(_ buf: UnsafeRawBufferPointer, sync: Flush) {
        var done = 0
        while done < buf.count {
            let n = posixWrite(fd, buf.baseAddress! + done, buf.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                failure = "\(url.path): cannot write: \(String(cString: strerror(errno)))"
                return
            }
            done += n
        }
        guard let flusher else { return }
        switch sync {
        case .none: break
        case .now:
            if fdatasync(fd) != 0 { failure = "\(url.path): cannot flush: \(String(cString: strerror(errno)))" }
        case .soon: flusher.request()
        }
    }

    static func now() -> String { Timestamp.iso8601() }

    // MARK: - RunObserver

    package func runWillStart(info: RunInfo, plan: [PlannedCase], hazardsSkipped: [SkippedHazard]) {
        let record = RunRecord(
            journalVersion: Self.version, time: Self.now(), run: info, plan: plan, hazardsSkipped: hazardsSkipped)
        append(sync: .now) { try JournalLines.runRecord(record, into: &$0) }
        phase = "case"
    }

    package func caseWillStart(index: Int, id: String, attempt: Int) {
        self.index = index
        caseEntries.removeAll(keepingCapacity: true)
        entryBytes.reset()
        append(sync: .none) {
            JournalLines.caseStart(time: Self.now(), index: index, id: id, attempt: attempt, into: &$0)
        }
    }

    package func operationWillStart(_ operation: DeviceOperation) {
        let inCase = phase == "case" && index != nil
        if inCase && !syncEachOperation { return } // the case's end record carries it
        // Like transcripts, the journal keeps byte counts, not bulk data (also of a peer's writes).
        var count: Int?
        func kept(_ operation: DeviceOperation) -> DeviceOperation {
            switch operation {
            case .write(let fd, let bytes) where bytes.count > 64:
                count = bytes.count
                return .write(fd: fd, bytes: Array(bytes.prefix(16)))
            case .dataWrite(let off, let bytes) where bytes.count > 64:
                count = bytes.count
                return .dataWrite(offset: off, bytes: Array(bytes.prefix(16)))
            case .onPeer(let o): return .onPeer(kept(o))
            case .onForeign(let o): return .onForeign(kept(o))
            default: return operation
            }
        }
        let op = kept(operation)
        let record: (line: String, encoded: DocumentJSON.EncodedOperation) = JournalLines.op(
            time: Self.now(), index: inCase ? index : nil, phase: inCase ? nil : phase,
            operation: op, byteCount: count,
            text: TranscriptFormatter.operation(op, byteCount: count))
        inFlight = record.encoded
        append(line: record.line, sync: syncEachOperation ? .now : .none)
    }

    package func operationDidEnd(_ entry: TranscriptEntry) {
        let inCase = phase == "case" && index != nil
        if inCase && !syncEachOperation { return }
        if !inCase { entryBytes.reset() }
        let start = entryBytes.bytes.count
        DocumentJSON.entry(entry, known: inFlight, into: &entryBytes)
        let span = start..<entryBytes.bytes.count
        inFlight = nil
        if inCase { caseEntries.append((entry, span)) }
        append(sync: .none) {
            JournalLines.opEnd(index: inCase ? index : nil, phase: inCase ? nil : phase, into: &$0) {
                $0.bytes.append(self.entryBytes.bytes[span])
            }
        }
    }

    package func caseDidEnd(index: Int, result: CaseResult) {
        appendCaseEnd(index: index, result: result)
        self.index = nil
        caseEntries.removeAll(keepingCapacity: true)
        entryBytes.reset()
    }

    /// The amended result replaces the first when the report is rebuilt (the last record of a case wins).
    package func caseWasAmended(index: Int, result: CaseResult) {
        appendCaseEnd(index: index, result: result)
    }

    /// The `case-end` record; transcript entries this journal already encoded are not encoded again, and the others
    /// are written without their text (a line of words for each operation, which the reader makes again).
    private func appendCaseEnd(index: Int, result: CaseResult) {
        append(sync: syncEachOperation ? .now : .soon) {
            JournalLines.caseEnd(time: Self.now(), index: index, into: &$0) {
                DocumentJSON.caseDocument(result, entry: self.appendEntry, into: &$0)
            }
        }
    }

    private func appendEntry(_ e: TranscriptEntry, into w: inout DocumentJSON.Writer) {
        if e.step < caseEntries.count, caseEntries[e.step].entry == e {
            w.bytes.append(entryBytes.bytes[caseEntries[e.step].span])
        } else {
            DocumentJSON.entry(e, withText: false, into: &w)
        }
    }

    package func cleanupWillStart() {
        phase = "cleanup"
        index = nil
    }

    package func runDidEnd(_ report: RunReport) {
        append(sync: .now) { try JournalLines.runEnd(time: Self.now(), run: report.run, plan: report.plan, into: &$0) }
        if failure == nil, let e = flusher?.stop() {
            failure = "\(url.path): cannot flush: \(String(cString: strerror(e)))"
        }
    }
}

/// Flushes a journal to disk on a thread of its own: asked at the end of a case, it flushes every record written
/// before the request while the run goes on, and requests made while a flush is under way are served by one more.
/// The journal's `write(2)`s stay on the runner's thread, so a SIGKILL loses nothing written; only the protection
/// against a power cut lags by a flush.
private final class Flusher: @unchecked Sendable {
    private let fd: Int32
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var requested = false
    private var stopping = false
    private var stopped = false
    private var error: Int32?

    init(fd: Int32) {
        self.fd = fd
        let thread = Thread { [self] in run() }
        thread.name = "migconform journal flush"
        thread.start()
    }

    func request() {
        condition.lock()
        requested = true
        condition.signal()
        condition.unlock()
    }

    /// Serves the requests still pending, ends the thread and returns the first error (an errno), if any.
    func stop() -> Int32? {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        return error
    }

    private func run() {
        condition.lock()
        while true {
            while !requested && !stopping { condition.wait() }
            if !requested { break }
            requested = false
            condition.unlock()
            let failed = fdatasync(fd) != 0 ? errno : nil
            condition.lock()
            if error == nil { error = failed }
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Rebuilds a report from a run folder's journal (`migconform report --from-journal DIR`).
///
/// Every case the journal saw finish keeps the result it had. A case that started and never ended is marked
/// unfinished (verdict ERROR, `unfinished: true`), with the operations it issued and the last one, the one in
/// flight, without an answer. Cases the run never reached are SKIPPED. Unless the journal ends with the run's own
/// end record, the run is marked interrupted. A line before the last that is not a record (damaged on disk, or
/// edited) is skipped and named in ``RunInfo/journalDamaged``: what it held (a case's end, an amended verdict) is
/// lost, so the run is INCOMPLETE at best, and a case whose end record is gone is unfinished (ERROR).
package enum JournalReader {
    /// What a journal held.
    package struct Contents {
        package var report: RunReport
        /// Cases the journal saw finish.
        package var finished: [CaseResult]
        /// The case that was running when the journal ends, if any.
        package var unfinished: String?
        /// The journal ends with the run's end record.
        package var complete: Bool
        /// A torn last line was left out.
        package var tornTail: Bool
    }

    /// Reads `journal.jsonl` in `folder` (or the journal file itself).
    package static func read(_ path: String) throws -> Contents {
        var file = path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            file = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/" + RunJournal.fileName
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ReportReadError(file: file, kind: .missing, detail: "no journal here")
        }
        return try parse(data, file: file)
    }

    static func parse(_ data: Data, file: String) throws -> Contents {
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        let decoder = JSONDecoder()
        struct Head: Decodable { var type: String }
        var runRecord: RunJournal.RunRecord?
        var runEnd: RunJournal.RunEndRecord?
        var ended: [Int: CaseResult] = [:]
        var finishedOrder: [Int] = []
        var current: (index: Int, id: String, start: String)?
        var ops: [TranscriptEntry] = []
        var inFlight: (DeviceOperation, Int?)?
        var lastTime: String?
        var torn = false
        /// Lines before the last that are not records (damaged on disk, or edited): skipped, and said.
        var damaged: [Int] = []
        /// Cases whose start record was read: one that never ended, and is not the last started, lost its end.
        var started = Set<Int>()
        /// An operation of a case other than the one last started, and not ended: the case's start record was
        /// damaged, and the operations name the case (`index`) all the same. Its transcript is theirs from here.
        func adopt(_ index: Int?, _ time: String?) {
            guard let i = index, i != current?.index, ended[i] == nil, let plan = runRecord?.plan,
                plan.indices.contains(i)
            else { return }
            current = (i, plan[i].id, time ?? lastTime ?? "")
            started.insert(i)
            ops = []
            inFlight = nil
        }
        for (n, line) in lines.enumerated() {
            let type: String
            do {
                type = try decoder.decode(Head.self, from: Data(line)).type
            } catch {
                if n == lines.count - 1 {
                    torn = true
                    break
                } // the write the crash cut short
                damaged.append(n + 1)
                continue
            }
            do {
                switch type {
                case "run":
                    let r = try decoder.decode(RunJournal.RunRecord.self, from: Data(line))
                    guard r.journalVersion == RunJournal.version else {
                        throw ReportReadError(
                            file: file, kind: .unknownSchema(r.journalVersion),
                            detail:
                                "journal version \(r.journalVersion) is not supported (this migconform reads \(RunJournal.version))"
                        )
                    }
                    runRecord = r
                    lastTime = r.time
                case "case-start":
                    let r = try decoder.decode(RunJournal.CaseStartRecord.self, from: Data(line))
                    current = (r.index, r.id, r.time)
                    started.insert(r.index)
                    ops = []
                    inFlight = nil
                    lastTime = r.time
                case "op":
                    let r = try decoder.decode(RunJournal.OpRecord.self, from: Data(line))
                    adopt(r.index, r.time)
                    if r.index != nil && r.index == current?.index { inFlight = (r.operation.operation, r.byteCount) }
                    lastTime = r.time
                case "op-end":
                    let r = try decoder.decode(RunJournal.OpEndRecord.self, from: Data(line))
                    adopt(r.index, nil)
                    if r.index != nil && r.index == current?.index {
                        ops.append(r.entry.entry)
                        inFlight = nil
                    }
                case "case-end":
                    let r = try decoder.decode(RunJournal.CaseEndRecord.self, from: Data(line))
                    // A record that does not name the case the plan has at its index was edited: not evidence.
                    guard let plan = runRecord?.plan, plan.indices.contains(r.index),
                        plan[r.index].id == r.result.result.id
                    else {
                        damaged.append(n + 1)
                        continue
                    }
                    if ended[r.index] == nil { finishedOrder.append(r.index) }
                    ended[r.index] = r.result.result
                    if current?.index == r.index {
                        current = nil
                        inFlight = nil
                    }
                    lastTime = r.time
                case "run-end":
                    runEnd = try decoder.decode(RunJournal.RunEndRecord.self, from: Data(line))
                    lastTime = runEnd?.time
                default:
                    // A type this reader does not know: a record edited, or from a newer writer. What it held
                    // (a case's end under another name?) cannot be told, so it counts as damage.
                    damaged.append(n + 1)
                }
            } catch let e as ReportReadError {
                throw e
            } catch is DecodingError {
                if n == lines.count - 1 {
                    torn = true
                    break
                }
                damaged.append(n + 1)
            }
        }
        guard let head = runRecord else {
            throw ReportReadError(
                file: file, kind: .invalid,
                detail: damaged.isEmpty
                    ? "the journal has no run record: the run stopped before its first case"
                    : "the journal has no readable run record (line \(damaged[0]) could not be read): without the "
                        + "run's plan no report can be rebuilt")
        }
        var cases: [CaseResult] = []
        var unfinishedID: String?
        for (i, p) in head.plan.enumerated() {
            if let r = ended[i] {
                cases.append(r)
                continue
            }
            if let c = current, c.index == i {
                unfinishedID = c.id
                var transcript = ops
                // With the run's end record read, the run went on: the case's own end record is what was lost.
                var message =
                    runEnd == nil
                    ? "unfinished: the run stopped during this case"
                    : "unfinished: its end record is lost in a damaged line of the journal (the run went on to its end)"
                if let (op, count) = inFlight {
                    let entry = TranscriptEntry(
                        step: transcript.count, operation: op, outcome: nil,
                        transportError: "no answer recorded: the run stopped", micros: 0,
                        byteCount: count)
                    transcript.append(entry)
                    message += "; the operation in flight was \(TranscriptFormatter.operation(op, byteCount: count))"
                } else if let last = ops.last {
                    message += "; the last operation that answered was \(TranscriptFormatter.text(last))"
                }
                cases.append(
                    CaseResult(
                        id: p.id, ruleID: p.ruleID, level: p.level, statement: p.statement, cite: p.cite,
                        verdict: .error, message: message, transcript: transcript, unfinished: true))
                continue
            }
            if started.contains(i) {
                cases.append(
                    CaseResult(
                        id: p.id, ruleID: p.ruleID, level: p.level, statement: p.statement, cite: p.cite,
                        verdict: .error,
                        message: "unfinished: the case started, and its end record is lost in a damaged line of "
                            + "the journal", unfinished: true))
                continue
            }
            if let v = p.notRun {
                cases.append(
                    CaseResult(
                        id: p.id, ruleID: p.ruleID, level: p.level, statement: p.statement, cite: p.cite,
                        verdict: v, message: p.reason ?? "", otherShard: p.otherShard))
                continue
            }
            cases.append(
                CaseResult(
                    id: p.id, ruleID: p.ruleID, level: p.level, statement: p.statement, cite: p.cite,
                    verdict: .skipped, message: "not run: the run stopped before this case"))
        }
        var info = runEnd?.run ?? head.run
        if runEnd == nil {
            info.ended = lastTime ?? head.time
            info.interrupted = true
            info.stopReason =
                "the journal ends before the run's end (the run was killed, crashed or lost power, or could not "
                + "write its journal further: a full disk)"
                + (unfinishedID.map { " during \($0)" } ?? "")
        }
        info.fromJournal = true
        var damage: [String] = []
        if !damaged.isEmpty {
            let list = damaged.prefix(10).map(String.init).joined(separator: ", ") + (damaged.count > 10 ? ", ..." : "")
            damage.append(
                "\(damaged.count == 1 ? "line" : "\(damaged.count) lines") \(list) of the journal could not be read "
                    + "(damaged on disk, edited, or written by a newer migconform): a result "
                    + "\(damaged.count == 1 ? "it" : "they") held may be lost")
        }
        // A case that started and has no end, in a run that went on past it, lost its end record: with no line
        // left to show for it, a line was taken out.
        let lostEnds = cases.filter { $0.unfinished == true && ($0.id != unfinishedID || runEnd != nil) }
        if damaged.isEmpty, let first = lostEnds.first {
            damage.append(
                "\(lostEnds.count == 1 ? "case \(first.id) has" : "\(lostEnds.count) cases (\(first.id) first) have") "
                    + "a start record and no end record, though the run went on: a line of the journal is missing")
        }
        if !damage.isEmpty { info.journalDamaged = damage.joined(separator: "; ") }
        let report = RunReport(run: info, cases: cases, plan: runEnd?.plan, hazardsSkipped: head.hazardsSkipped)
        return Contents(
            report: report, finished: finishedOrder.sorted().compactMap { ended[$0] },
            unfinished: unfinishedID, complete: runEnd != nil, tornTail: torn)
    }

    /// Rebuilds every report file of the run folder from its journal (into `out`, by default the same folder) and
    /// returns the report as written. With the run's spec at hand, the state diagram and HTML report are
    /// rendered too.
    @discardableResult
    package static func rebuild(folder: String, into out: String? = nil, spec: Spec? = nil) throws -> RunReport {
        let contents = try read(folder)
        let target = URL(fileURLWithPath: out ?? folder)
        let journalHere = (out == nil || out == folder)
        let extras = spec.map { RunFolderExtras.files(contents.report, spec: $0) } ?? [:]
        return try ReportWriter.write(
            contents.report, to: target, additionalFiles: extras,
            existingFiles: journalHere ? [RunJournal.fileName] : [], spec: spec)
    }
}
