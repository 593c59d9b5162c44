import MigconformSpec

/// The executor of each check kind, given the check's typed parameters. A new kind in ``Check`` makes this switch
/// incomplete until its executor is named here.
enum CheckExecutor {
    static func run(_ ctx: CaseContext) throws -> CheckOutcome {
        switch ctx.check {
        case .migrationFlags(let p): return try FeatureChecks.migrationFlags(ctx, p)
        case .feature(let p): return try FeatureChecks.feature(ctx, p)
        case .arc(let p): return try ArcChecks.arc(ctx, p)
        case .combination(let p): return try ArcChecks.combination(ctx, p)
        case .sameState: return try ArcChecks.sameState(ctx)
        case .rejectedValue: return try ArcChecks.rejectedValue(ctx)
        case .forbiddenArc: return try ArcChecks.forbiddenArc(ctx)
        case .reset(let p): return try ArcChecks.reset(ctx, p)
        case .errorSticky(let p): return try ErrorChecks.errorSticky(ctx, p)
        case .invariant(let p): return try ErrorChecks.invariant(ctx, p)
        case .streamEnd(let p): return try StreamChecks.streamEnd(ctx, p)
        case .sessionKept(let p): return try StreamChecks.sessionKept(ctx, p)
        case .sessionEnded(let p): return try StreamChecks.sessionEnded(ctx, p)
        case .precopyInfo(let p): return try StreamChecks.precopyInfo(ctx, p)
        case .roundTrip(let p): return try StreamChecks.roundTrip(ctx, p)
        case .resumeDamaged(let p): return try StreamChecks.resumeDamaged(ctx, p)
        case .reservedBits(let p): return try V1Checks.reservedBits(ctx, p)
        case .saveProtocol(let p): return try V1Checks.saveProtocol(ctx, p)
        case .deviceAccess(let p): return try AccessChecks.deviceAccess(ctx, p)
        case .dmaLogging(let p): return try DMALoggingChecks.run(ctx, p)
        case .peer(let p): return try PeerChecks.run(ctx, p)
        case .dataFD(let p): return try DataFDChecks.run(ctx, p)
        case .precopyInfoV2(let p): return try PrecopyInfoV2Checks.run(ctx, p)
        case .regionAccess(let p): return try V1RegionChecks.run(ctx, p)
        case .lifecycle(let p): return try LifecycleChecks.run(ctx, p)
        case .hostHealth: return .blocked("host health is judged by the runner at the end of the run")
        }
    }
}
