import Foundation
import MigconformDevice
import MigconformRun

/// The run's facts (``RunInfo`` and what it holds), its ``RunSummary``, ``PlanCost`` and ``SkippedHazard``s written
/// as JSONEncoder writes their Codable forms, for the journal's `run` and `run-end` records and for `report.json`.
/// Each function lists its keys in the order JSONEncoder's `.sortedKeys` puts them: by their UTF-8 bytes, so
/// capitals before small letters (`specID` before `specPath`, `waits` before `wall`).
extension DocumentJSON {
    /// How many stored properties each type written here has, by type name: a test compares these with the types
    /// themselves, so that a property added to one is not silently left out of the journal and the report.
    static let runInfoFields: [String: Int] = [
        "RunInfo": 31, "DeviceIdentity": 5, "ShardInfo": 2, "RunFilters": 3, "MergedShard": 6, "CleanupReport": 3,
        "BaselineInfo": 4, "RunCost": 17, "Kind": 3, "ProcessUsage": 4, "PeerInfo": 4, "DriverReachInfo": 5,
        "RunSummary": 7, "PlanCost": 6, "SkippedHazard": 3,
    ]

    /// Appends the run's facts as ``RunInfo`` encodes itself. Throws only for deadlines that are not finite, which
    /// are left to JSONEncoder to refuse as it always did.
    static func runInfo(_ r: RunInfo, into w: inout Writer) throws {
        w.open()
        w.strings("allowedHazards", r.allowedHazards)
        w.member("baseline", r.baseline, baseline)
        w.member("cleanup", r.cleanup, cleanup)
        w.member("cost", r.cost, runCost)
        if let d = r.deadlines {
            if d.values.allSatisfy(\.isFinite) {
                w.object("deadlines", d) { $1.double($0) }
            } else {
                w.encoded("deadlines", try makeEncoder(pretty: w.pretty).encode(d))
            }
        }
        w.key("device")
        deviceIdentity(r.device, into: &w)
        w.string("ended", r.ended)
        w.strings("features", r.features)
        w.member("filters", r.filters, runFilters)
        w.bool("fromJournal", r.fromJournal)
        w.bool("interrupted", r.interrupted)
        w.string("journalDamaged", r.journalDamaged)
        w.string("journalSync", r.journalSync)
        if let m = r.mergedFrom { w.array("mergedFrom", m, mergedShard) }
        w.number("migrationFlags", r.migrationFlags)
        if let p = r.peers { w.array("peers", p, peer) }
        w.member("reach", r.reach, driverReach)
        w.number("reopened", r.reopened)
        w.number("retries", r.retries)
        w.string("runnerVersion", r.runnerVersion)
        w.number("seed", r.seed)
        w.member("shard", r.shard, shard)
        w.string("specID", r.specID)
        w.string("specPath", r.specPath)
        w.string("specSHA256", r.specSHA256)
        w.string("specVersion", r.specVersion)
        w.string("started", r.started)
        w.string("stopReason", r.stopReason)
        w.string("target", r.target)
        if let t = r.timeouts { w.strings("timeouts", t) }
        w.strings("variants", r.variants)
        w.close()
    }

    /// The encoder whose bytes the writer matches: the journal's (compact) or `report.json`'s (pretty).
    static func makeEncoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func deviceIdentity(_ d: DeviceIdentity, into w: inout Writer) {
        w.open()
        w.string("detail", d.detail)
        w.string("driver", d.driver)
        w.object("extra", d.extra) { $1.bytes.appendQuoted($0) }
        w.string("kernelRelease", d.kernelRelease)
        w.string("targetKind", d.targetKind)
        w.close()
    }

    static func shard(_ s: ShardInfo, into w: inout Writer) {
        w.open()
        w.number("count", s.count)
        w.number("index", s.index)
        w.close()
    }

    static func runFilters(_ f: RunFilters, into w: inout Writer) {
        w.open()
        w.strings("exclude", f.exclude)
        w.strings("only", f.only)
        w.number("selected", f.selected)
        w.close()
    }

    static func mergedShard(_ m: MergedShard, into w: inout Writer) {
        w.open()
        w.key("device")
        deviceIdentity(m.device, into: &w)
        w.string("ended", m.ended)
        w.bool("interrupted", m.interrupted)
        w.key("shard")
        shard(m.shard, into: &w)
        w.string("started", m.started)
        w.string("target", m.target)
        w.close()
    }

    static func cleanup(_ c: CleanupReport, into w: inout Writer) {
        w.open()
        w.array("closedFDs", c.closedFDs) { $1.bytes.appendDecimal($0) }
        w.strings("problems", c.problems)
        w.bool("restored", c.restored)
        w.close()
    }

    static func baseline(_ b: BaselineInfo, into w: inout Writer) {
        w.open()
        w.number("entries", b.entries)
        w.string("path", b.path)
        w.string("sha256", b.sha256)
        w.strings("unused", b.unused)
        w.close()
    }

    static func runCost(_ c: RunCost, into w: inout Writer) {
        w.open()
        w.object("byKind", c.byKind, costKind)
        w.number("command", c.command)
        w.member("commandUsage", c.commandUsage, processUsage)
        w.number("device", c.device)
        w.number("deviceCalls", c.deviceCalls)
        w.number("journal", c.journal)
        w.number("observers", c.observers)
        w.number("operations", c.operations)
        w.number("planning", c.planning)
        w.number("report", c.report)
        w.number("runner", c.runner)
        w.number("setup", c.setup)
        if let s = c.setupSteps { w.object("setupSteps", s) { $1.bytes.appendDecimal($0) } }
        w.number("tracing", c.tracing)
        w.member("usage", c.usage, processUsage)
        w.number("waits", c.waits)
        w.number("wall", c.wall)
        w.close()
    }

    static func costKind(_ k: RunCost.Kind, into w: inout Writer) {
        w.open()
        w.number("bytes", k.bytes)
        w.number("count", k.count)
        w.number("micros", k.micros)
        w.close()
    }

    static func processUsage(_ u: ProcessUsage, into w: inout Writer) {
        w.open()
        w.number("contextSwitches", u.contextSwitches)
        w.number("minorFaults", u.minorFaults)
        w.number("system", u.system)
        w.number("user", u.user)
        w.close()
    }

    static func peer(_ p: PeerInfo, into w: inout Writer) {
        w.open()
        w.key("device")
        deviceIdentity(p.device, into: &w)
        w.bool("openedByRun", p.openedByRun)
        w.string("role", p.role)
        w.string("target", p.target)
        w.close()
    }

    static func driverReach(_ r: DriverReachInfo, into w: inout Writer) {
        w.open()
        w.number("functions", r.functions)
        w.string("module", r.module)
        w.strings("notReached", r.notReached)
        w.string("problem", r.problem)
        w.strings("reached", r.reached)
        w.close()
    }

    /// The run's counts and verdict as ``RunSummary`` encodes them.
    static func runSummary(_ s: RunSummary, into w: inout Writer) {
        w.open()
        w.object("byLevel", s.byLevel) { counts, w in w.dictionary(counts) { $1.bytes.appendDecimal($0) } }
        w.bool("conformant", s.conformant)
        if let e = s.mustErrored { w.number("mustErrored", e) }
        if let m = s.mustNotRun { w.object("mustNotRun", m) { $1.bytes.appendDecimal($0) } }
        w.number("total", s.total)
        w.string("verdict", s.verdict.rawValue)
        w.object("verdicts", s.verdicts) { $1.bytes.appendDecimal($0) }
        w.close()
    }

    static func planCost(_ p: PlanCost, into w: inout Writer) {
        w.open()
        w.number("lowerBoundOperations", p.lowerBoundOperations)
        w.number("lowerBoundRequests", p.lowerBoundRequests)
        w.number("lowerBoundResets", p.lowerBoundResets)
        w.number("operations", p.operations)
        w.number("plannedRequests", p.plannedRequests)
        w.number("resets", p.resets)
        w.close()
    }

    static func skippedHazard(_ h: SkippedHazard, into w: inout Writer) {
        w.open()
        w.string("caseID", h.caseID)
        w.string("effect", h.effect)
        w.string("hazardID", h.hazardID)
        w.close()
    }

    /// Dictionary keys in the order JSONEncoder's `.sortedKeys` writes them: by their UTF-8 bytes, a key before
    /// the longer keys it begins (no locale, no case folding, no Unicode normalization).
    static func sortedKeys<V>(_ d: [String: V]) -> [(key: String, value: V)] {
        d.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }
}

extension DocumentJSON.Writer {
    /// A member whose value `value` writes, when there is one.
    mutating func member<T>(_ k: StaticString, _ v: T?, _ value: (T, inout Self) -> Void) {
        guard let v else { return }
        key(k)
        value(v, &self)
    }

    /// An array of strings.
    mutating func strings(_ k: StaticString, _ v: [String]) { array(k, v) { $1.bytes.appendQuoted($0) } }

    /// A dictionary member, its keys sorted as JSONEncoder sorts them and each value written by `value`.
    mutating func object<V>(_ k: StaticString, _ d: [String: V], _ value: (V, inout Self) -> Void) {
        key(k)
        dictionary(d, value)
    }

    /// A dictionary as an object, its keys sorted as JSONEncoder sorts them and each value written by `value`.
    mutating func dictionary<V>(_ d: [String: V], _ value: (V, inout Self) -> Void) {
        open()
        for (k, v) in DocumentJSON.sortedKeys(d) {
            key(string: k)
            value(v, &self)
        }
        close()
    }

    /// A finite Double as JSONEncoder writes it: Swift's shortest form that reads back the same (`description`:
    /// `0.1`, `1e-07`, `1e+21`), less a trailing `.0` (`100`, `-0`).
    mutating func double(_ v: Double) {
        precondition(v.isFinite, "JSON has no \(v)")
        let s = v.description
        if s.hasSuffix(".0") {
            bytes.append(utf8: String(s.dropLast(2)))
        } else {
            bytes.append(utf8: s)
        }
    }
}
