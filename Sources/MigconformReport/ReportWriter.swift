import Foundation
import MigconformRun
import MigconformSpec

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a run folder: `report.md`, `junit.xml`, `report.tap` (and any extra files the caller renders, such as
/// the state diagram), then `report.json` last, with the SHA-256 of every other file in its `files` map.
///
/// Every file is written to a temporary name in the same folder, flushed to disk and renamed into place, so a
/// reader (a CI job tailing the folder, a second run) sees either no file or a whole one; because `report.json`
/// comes last, its presence means the folder is complete.
package enum ReportWriter {
    /// File names inside a run folder.
    package static let jsonFile = "report.json"
    package static let markdownFile = "report.md"
    package static let junitFile = "junit.xml"
    package static let tapFile = "report.tap"

    /// Writes every report file of `report` into `folder` (created with its parents when missing) and returns the
    /// report as written, with `files` filled in.
    ///
    /// - Parameter additionalFiles: further files for the folder, by plain file name (no `/`, not a name above);
    ///   they are written before `report.json` and hashed like the others.
    /// - Parameter existingFiles: files already in the folder (the run's journal) to hash into `files`; those
    ///   missing are left out.
    /// - Parameter spec: the spec the run used, when at hand: `report.md` takes its citation sources from it
    ///   instead of loading the spec again.
    @discardableResult
    package static func write(
        _ report: RunReport, to folder: URL,
        additionalFiles: [String: Data] = [:], existingFiles: [String] = [], spec: Spec? = nil,
        beforeJSON: ((inout RunReport) -> Void)? = nil
    ) throws -> RunReport {
        let reserved: Set<String> = [jsonFile, markdownFile, junitFile, tapFile]
        for name in additionalFiles.keys {
            guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), !reserved.contains(name) else {
                throw ReportWriteError(
                    path: folder.appendingPathComponent(name).path,
                    message: "not a usable file name for a run folder")
            }
        }
        try ReportWriteError.makeFolder(folder)

        var files: [(String, Data)] = [
            (markdownFile, Data(MarkdownReport.render(report, spec: spec).utf8)),
            (junitFile, Data(JUnitReport.render(report).utf8)),
            (tapFile, Data(TAPReport.render(report).utf8)),
        ]
        files += additionalFiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }

        var written = report
        written.files = [:]
        // Every file is written to a temporary name first and renamed into place only once all of them, report.json
        // included, are written: a full disk half way leaves the folder as it was (a rerendered folder keeps its
        // old files, a new run folder only its journal), never files of a report that has no report.json.
        var staged: [(temp: String, url: URL, target: String)] = []
        func discard() { for s in staged { unlink(s.temp) } }
        do {
            for (name, data) in files {
                let url = folder.appendingPathComponent(name)
                if let temp = try stage(data, for: url) { staged.append((temp, url, resolved(url.path))) }
                written.files[name] = data.withUnsafeBytes { SHA256.hex($0) }
            }
            for name in existingFiles where !reserved.contains(name) && !name.contains("/") {
                if let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) {
                    written.files[name] = data.withUnsafeBytes { SHA256.hex($0) }
                }
            }
            beforeJSON?(&written)
            let json: Data
            do { json = try ReportJSON.encode(written) } catch {
                throw ReportWriteError(
                    path: folder.appendingPathComponent(jsonFile).path,
                    message: "cannot encode the report: \(error)")
            }
            let url = folder.appendingPathComponent(jsonFile)
            if let temp = try stage(json, for: url) { staged.append((temp, url, resolved(url.path))) }
            // report.json goes last: its presence means the folder is complete.
            for (k, s) in staged.enumerated() {
                // The temporary file is beside what the name resolves to (a symbolic link's target): renamed there.
                guard rename(s.temp, s.target) == 0 else {
                    let e = errno
                    staged.removeFirst(k)
                    throw ReportWriteError(
                        path: s.url.path, message: "cannot rename \(s.temp) to it: \(String(cString: strerror(e)))")
                }
            }
        } catch {
            discard()
            throw error
        }
        syncFolder(folder.path)
        return written
    }

    /// Writes `data` to a temporary file next to `url`, flushes it, and renames it to `url`. A `url` that names a
    /// symbolic link has its target replaced, not the link; one that names something other than a regular file (a
    /// device such as `/dev/stdout`, a pipe) is written in place, never replaced. Errors name `url`.
    package static func writeAtomically(_ data: Data, to url: URL) throws {
        guard let temp = try stage(data, for: url) else { return }
        let target = resolved(url.path)
        guard rename(temp, target) == 0 else {
            let e = errno
            unlink(temp)
            throw ReportWriteError(
                path: url.path, message: "cannot rename \(temp) to it: \(String(cString: strerror(e)))")
        }
        syncFolder(URL(fileURLWithPath: target).deletingLastPathComponent().path)
    }

    /// The path a write to `path` replaces: the target of a symbolic link, or the path itself.
    private static func resolved(_ path: String) -> String {
        guard let r = realpath(path, nil) else { return path }
        defer { free(r) }
        return String(cString: r)
    }

    /// Writes `data` to a flushed temporary file beside what `url` names (a symbolic link's target), to be renamed
    /// into place; nil when `url` names something other than a regular file, which is written in place now.
    private static func stage(_ data: Data, for url: URL) throws -> String? {
        func fail(_ what: String, _ err: Int32) -> ReportWriteError {
            ReportWriteError(path: url.path, message: "\(what): \(String(cString: strerror(err)))")
        }
        var info = stat()
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            try writeInPlace(data, to: url.path)
            return nil
        }
        let target = URL(fileURLWithPath: resolved(url.path))
        let temp =
            target.deletingLastPathComponent().path + "/." + target.lastPathComponent
            + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw fail("cannot create a file in its folder", errno) }
        var failure: ReportWriteError?
        if let e = writeAll(data, to: fd) {
            failure = fail("cannot write", e)
        } else if fsync(fd) != 0 {
            failure = fail("cannot flush", errno)
        }
        if close(fd) != 0 && failure == nil { failure = fail("cannot close", errno) }
        if let failure {
            unlink(temp)
            throw failure
        }
        return temp
    }

    /// Makes renames in `dir` durable; a failure here does not lose a file, so it is not an error.
    private static func syncFolder(_ dir: String) {
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 {
            _ = fsync(dfd)
            _ = close(dfd)
        }
    }
}

extension ReportWriter {
    /// Writes `data` to what `path` names (a device or a pipe), as it is.
    private static func writeInPlace(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_TRUNC)
        guard fd >= 0 else {
            throw ReportWriteError(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        let failed = writeAll(data, to: fd)
        let closed = close(fd) == 0 ? nil : errno
        if let e = failed ?? closed {
            throw ReportWriteError(path: path, message: "cannot write: \(String(cString: strerror(e)))")
        }
    }

    /// Writes all of `data` to `fd`, retrying short writes and EINTR; the errno of a failure, or nil.
    fileprivate static func writeAll(_ data: Data, to fd: Int32) -> Int32? {
        data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) -> Int32? in
            var done = 0
            while done < buf.count {
                let n = posixWrite(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if n == 0 { return EIO }
                done += n
            }
            return nil
        }
    }
}

/// `write(2)`, under a name that the writer's own `write` does not shadow.
func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }

/// A run folder could not be written; names the file.
package struct ReportWriteError: Error, CustomStringConvertible, Sendable {
    package var path: String
    package var message: String
    package init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    package var description: String { "\(path): \(message)" }

    /// Creates `folder` and the folders above it that are missing, with mkdir(2): a failure names the folder
    /// that could not be made and the system's reason (`Read-only file system`, `Not a directory`).
    package static func makeFolder(_ folder: URL) throws {
        var path = ""
        for part in folder.standardizedFileURL.path.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o755) == 0 { continue }
            let e = errno
            var info = stat()
            if e == EEXIST, stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { continue }
            let why = e == EEXIST ? "a file of that name is in the way" : String(cString: strerror(e))
            throw ReportWriteError(path: path, message: "cannot create the folder: \(why)")
        }
    }
}
