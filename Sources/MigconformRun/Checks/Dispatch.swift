import MigconformSpec

/// The executor of each check kind. Adding a kind to the vocabulary means adding a case here.
enum CheckExecutor {
    static func run(_ ctx: CaseContext) throws -> CheckOutcome {
        switch ctx.check.kind {
        case .migrationFlags: return try FeatureChecks.migrationFlags(ctx)
        case .feature: return try FeatureChecks.feature(ctx)
        case .arc: return try ArcChecks.arc(ctx)
        case .combination: return try ArcChecks.combination(ctx)
        case .sameState: return try ArcChecks.sameState(ctx)
        case .rejectedValue: return try ArcChecks.rejectedValue(ctx)
        case .forbiddenArc: return try ArcChecks.forbiddenArc(ctx)
        case .reset: return try ArcChecks.reset(ctx)
        case .errorSticky: return try ErrorChecks.errorSticky(ctx)
        case .invariant: return try ErrorChecks.invariant(ctx)
        case .streamEnd: return try StreamChecks.streamEnd(ctx)
        case .sessionKept: return try StreamChecks.sessionKept(ctx)
        case .sessionEnded: return try StreamChecks.sessionEnded(ctx)
        case .precopyInfo: return try StreamChecks.precopyInfo(ctx)
        case .roundTrip: return try StreamChecks.roundTrip(ctx)
        case .resumeDamaged: return try StreamChecks.resumeDamaged(ctx)
        case .reservedBits: return try V1Checks.reservedBits(ctx)
        case .saveProtocol: return try V1Checks.saveProtocol(ctx)
        case .deviceAccess: return try AccessChecks.deviceAccess(ctx)
        case .dmaLogging: return try DMALoggingChecks.run(ctx)
        case .peer: return try PeerChecks.run(ctx)
        case .dataFD: return try DataFDChecks.run(ctx)
        case .precopyInfoV2: return try PrecopyInfoV2Checks.run(ctx)
        case .regionAccess: return try V1RegionChecks.run(ctx)
        case .hostHealth: return .blocked("host health is judged by the runner at the end of the run")
        }
    }
}
