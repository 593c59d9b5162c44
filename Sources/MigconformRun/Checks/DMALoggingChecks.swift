import MigconformDevice
import MigconformSpec

/// DMA logging: features 6 (START, SET), 7 (STOP, SET) and 8 (REPORT, GET). Every case stops logging first (a
/// device must handle a STOP in any state of its log) and stops it again when it ends, so that no case inherits a
/// started log. The ranges are the runner's IOVA window (``DMALogging/window``), which kernel targets map.
enum DMALoggingChecks {
    static let window = DMALogging.window
    static let pageSize = DMALogging.minimumPageSize

    static func run(_ ctx: CaseContext, _ p: DMALoggingCheck) throws -> CheckOutcome {
        if p.expect == .probeConsistent { return try probe(ctx) }
        if let from = ctx.testCase.from { try ctx.enter(from) }
        try ctx.op(.dmaLoggingStop)
        defer { _ = try? ctx.op(.dmaLoggingStop) }
        switch p.expect {
        case .probeConsistent: return try probe(ctx)
        case .startPageSize: return try startPageSize(ctx)
        case .secondStartFails: return try secondStart(ctx)
        case .reportBeforeStartFails: return try reportBeforeStart(ctx)
        case .reportOnlySets: return try reportOnlySets(ctx)
        case .reportPageSizes: return try reportPageSizes(ctx, p.pageShifts)
        case .coreLimit: return try coreLimit(ctx)
        case .survivesArcs: return try survivesArc(ctx)
        case .noNewDirtyInStop: return try noNewDirty(ctx)
        }
    }

    /// PROBE of START and STOP with SET and of REPORT with GET: a device has all three or none.
    static func probe(_ ctx: CaseContext) throws -> CheckOutcome {
        var answers: [String] = []
        var ok = 0
        for (index, op, name) in [
            (DMALogging.start, FeatureRequest.set, "START"), (DMALogging.stop, FeatureRequest.set, "STOP"),
            (DMALogging.report, FeatureRequest.get, "REPORT"),
        ] {
            let outcome = try ctx.op(.feature(flags: FeatureRequest.probe | op | index, payload: []))
            if outcome.succeeded { ok += 1 }
            answers.append("\(name) " + (outcome.succeeded ? "succeeds" : describe(outcome)))
        }
        let text = answers.joined(separator: ", ")
        if ok == 3 { return .pass("PROBE: \(text)") }
        return .violated(
            expected: "PROBE of START (SET), STOP (SET) and REPORT (GET) all succeed", actual: text,
            message: "the device offers only part of DMA logging")
    }

    static func start(
        _ ctx: CaseContext, pageSize: UInt64 = pageSize, ranges: [DMARange] = [window]
    ) throws -> DeviceOutcome {
        try ctx.op(.dmaLoggingStart(pageSize: pageSize, ranges: ranges))
    }

    /// START that must work for the case to say anything about its own rule.
    static func mustStart(_ ctx: CaseContext) throws {
        let outcome = try start(ctx)
        guard outcome.succeeded else {
            throw Blocked(reason: "DMA logging START failed with \(describe(outcome)) (see V2-DMA-LOG-START-PAGE-SIZE)")
        }
    }

    static func report(_ ctx: CaseContext, pageSize: UInt64 = pageSize, fill: UInt8 = 0) throws -> DeviceOutcome {
        let bytes = DMALogging.bitmapBytes(length: window.length, pageSize: pageSize)
        return try ctx.op(
            .dmaLoggingReport(
                iova: window.iova, length: window.length, pageSize: pageSize,
                bitmap: [UInt8](repeating: fill, count: bytes)))
    }

    /// A REPORT at the START's page size, which must work for the case to say anything about its own rule: a
    /// kernel built without CONFIG_IOMMUFD_DRIVER, for one, answers every REPORT with EOPNOTSUPP.
    static func mustReport(_ ctx: CaseContext, _ when: String) throws {
        let outcome = try report(ctx)
        guard outcome.succeeded else {
            throw Blocked(
                reason:
                    "REPORT \(when) failed with \(describe(outcome)): the log cannot be read at all on this device and kernel"
            )
        }
    }

    static func isPowerOfTwo(_ v: UInt64) -> Bool { v != 0 && v & (v - 1) == 0 }

    static func startPageSize(_ ctx: CaseContext) throws -> CheckOutcome {
        let outcome = try start(ctx)
        guard case .value(let chosen) = outcome else {
            return .violated(
                expected: "START succeeds and writes back a page size", actual: describe(outcome),
                message: "DMA logging START over one aligned range failed")
        }
        if isPowerOfTwo(chosen) { return .pass("START with page_size \(pageSize) wrote back \(chosen)") }
        return .violated(
            expected: "a power-of-two page_size written back", actual: "page_size \(chosen)",
            message: "START wrote back a page size that is not a power of two")
    }

    static func secondStart(_ ctx: CaseContext) throws -> CheckOutcome {
        try mustStart(ctx)
        return ctx.refusal(
            try start(ctx), "the second START",
            ifAccepted: "a second DMA logging START without STOP was accepted",
            expected: "the second START fails")
    }

    static func reportBeforeStart(_ ctx: CaseContext) throws -> CheckOutcome {
        // Only where a REPORT works while logging is on does a failure without it say anything.
        try mustStart(ctx)
        try mustReport(ctx, "with logging started")
        try ctx.op(.dmaLoggingStop)
        return ctx.refusal(
            try report(ctx), "REPORT without START",
            ifAccepted: "DMA logging REPORT succeeded although logging was not started",
            expected: "REPORT fails while logging is stopped")
    }

    static func reportOnlySets(_ ctx: CaseContext) throws -> CheckOutcome {
        try mustStart(ctx)
        let outcome = try report(ctx, fill: 0xff)
        guard case .bytes(let after) = outcome else {
            throw Blocked(
                reason: "REPORT after START failed with \(describe(outcome)) (see V2-DMA-LOG-REPORT-PAGE-SIZES)")
        }
        let cleared = after.reduce(0) { $0 + (8 - $1.nonzeroBitCount) }
        if cleared == 0 { return .pass("a bitmap of \(after.count) bytes prefilled with ones came back unchanged") }
        return .violated(
            expected: "every bit still set", actual: "\(cleared) bits cleared",
            message: "REPORT cleared bits of the caller's bitmap")
    }

    static func reportPageSizes(_ ctx: CaseContext, _ pageShifts: [Int]) throws -> CheckOutcome {
        try mustStart(ctx)
        try mustReport(ctx, "at the page size START chose")
        var passed: [String] = []
        for shift in pageShifts {
            let size = UInt64(1) << UInt64(shift)
            let outcome = try report(ctx, pageSize: size)
            guard outcome.succeeded else {
                return .violated(
                    expected: "REPORT at page_size \(size) succeeds", actual: describe(outcome),
                    message: "REPORT refused a power-of-two page size")
            }
            passed.append(String(size))
        }
        return .pass("REPORT succeeded at page sizes " + passed.joined(separator: ", "))
    }

    /// The START requests the core refuses before a driver sees them.
    static func limitRequest(_ limit: DMALoggingCheck.Limit) -> [DMARange] {
        let w = window
        let p = pageSize
        switch limit {
        case .zeroRanges: return []
        case .tooManyRanges:
            return (0...UInt64(DMALogging.maximumRanges)).map { DMARange(iova: w.iova + $0 * 2 * p, length: p) }
        case .unaligned: return [DMARange(iova: w.iova + 512, length: p)]
        case .overflow: return [DMARange(iova: UInt64.max - p + 1, length: 2 * p)]
        case .overlap: return [DMARange(iova: w.iova, length: 2 * p), DMARange(iova: w.iova + p, length: 2 * p)]
        }
    }

    /// One limit per case, bound by the expander (the case's value label is the limit's name).
    static func coreLimit(_ ctx: CaseContext) throws -> CheckOutcome {
        let limit = ctx.testCase.valueLabel.flatMap(DMALoggingCheck.Limit.init(rawValue:)) ?? .overlap
        let name = limit.rawValue
        let ranges = limitRequest(limit)
        return ctx.refusal(
            try start(ctx, ranges: ranges), "START with \(name)",
            ifAccepted: "DMA logging START accepted \(ranges.count) ranges (\(name))",
            expected: "START with \(name) fails")
    }

    static func survivesArc(_ ctx: CaseContext) throws -> CheckOutcome {
        guard let from = ctx.testCase.from, let to = ctx.testCase.to else { return .blocked("case has no arc") }
        try mustStart(ctx)
        try mustReport(ctx, "before the arc")
        let answer = try ctx.request(to)
        guard answer.succeeded else {
            throw Blocked(
                reason: "arc \(from)->\(to) failed with \(answer.errno!)", cause: .arcState(from: from, to: to))
        }
        let outcome = try report(ctx)
        if outcome.succeeded { return .pass("logging started in \(from) still reports after \(from)->\(to)") }
        return .violated(
            expected: "REPORT succeeds after the arc", actual: describe(outcome),
            message: "DMA logging started in \(from) did not survive the arc \(from)->\(to)")
    }

    static func noNewDirty(_ ctx: CaseContext) throws -> CheckOutcome {
        let here = ctx.testCase.from ?? "?"
        try mustStart(ctx)
        let first = try report(ctx)
        guard first.succeeded else { throw Blocked(reason: "REPORT failed with \(describe(first))") }
        let second = try report(ctx)
        guard case .bytes(let bits) = second else {
            throw Blocked(reason: "the second REPORT failed with \(describe(second))")
        }
        let dirty = bits.reduce(0) { $0 + $1.nonzeroBitCount }
        if dirty == 0 { return .pass("no page dirtied between two REPORTs in \(here)") }
        return .violated(
            expected: "no newly dirtied page", actual: "\(dirty) pages reported",
            message: "the device reported pages written between two REPORTs in \(here)")
    }
}
