import MigconformCases
import MigconformDevice
import MigconformPlan
import MigconformSpec

/// What a run moved beside what its cases need (``TransferNeed``): per case, the bytes read from and written to
/// the data fd as the transcripts record them.
package struct TransferAccount: Sendable {
    package struct Line: Sendable {
        package var id: String
        package var need: TransferNeed
        package var read: UInt64
        package var written: UInt64
    }
    package var lines: [Line]
    /// The run's least: every case's need and the shared stream once.
    package var minimum: TransferNeed

    /// The account of `report`, a run of `spec` on a device with the report's features.
    package init(_ report: RunReport, spec: Spec) {
        let machine = Machine(spec: spec, features: Set(report.run.features))
        let d = Distances(machine)
        let cases = Expander.expand(machine, options: ExpansionOptions())
        let byID = Dictionary(cases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var ran: [TestCase] = []
        lines = report.cases.compactMap { r in
            guard let c = byID[r.id] else { return nil }
            if r.verdict != .skipped && r.verdict != .notApplicable { ran.append(c) }
            let (read, written) = Self.moved(r.transcript)
            return Line(id: r.id, need: TransferNeed.of(c, on: machine, distances: d), read: read, written: written)
        }
        minimum = TransferNeed.minimum(ran, on: machine)
    }

    /// Bytes read and written by the `read` and `write` operations of a transcript (a summary entry of a large
    /// transfer counts all of it).
    package static func moved(_ transcript: [TranscriptEntry]) -> (read: UInt64, written: UInt64) {
        var read: UInt64 = 0
        var written: UInt64 = 0
        for e in transcript {
            switch (e.operation, e.outcome) {
            case (.read, .bytes(let b)?): read += UInt64(b.count)
            case (.read, .value(let n)?): read += n
            case (.write, .value(let n)?): written += n
            default: break
            }
        }
        return (read, written)
    }
}
