import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSelfCheck
import MigconformSpec
import Testing

/// The suite proves its own power: every fault is caught by exactly the rules it claims, the reference devices stay
/// quiet, and every MUST and SHOULD rule of both specs has a fault that trips it.
@Suite struct SelfCheckTests {
    static let result: SelfCheckResult = try! SelfCheck.run(specs: [.v2: TestSupport.v2, .v1: TestSupport.v1])

    /// A sequence fault marked `runPasses` is one a plain run (its single cases, no random walks) passes, and the
    /// catalogue listing says so; every other sequence fault a plain run catches.
    @Test(arguments: FaultCatalogue.entries.filter(\.needsSequence).map(\.name))
    func aPlainRunCatchesASequenceFaultUnlessTheCatalogueSaysItPasses(_ name: String) throws {
        let entry = try #require(FaultCatalogue.entry(named: name))
        let options = RunOptions(target: "fault:\(name)", expansion: ExpansionOptions(variants: Set(entry.variants)))
        let report = try Runner(spec: TestSupport.v2, device: entry.makeDevice(), options: options).run()
        // Without peers the run is incomplete whatever the device does: what counts is whether a MUST case failed.
        let failed = report.summary.verdict == .notConformant
        #expect(failed == !entry.runPasses, "\(name): \(report.summary.verdicts)")
    }

    @Test func theReferenceDevicesAreClean() {
        #expect(Self.result.noisyReferences.isEmpty, "\(Self.result.noisyReferences)")
        #expect(Self.result.referencesChecked.count == 6)
    }

    @Test(arguments: FaultCatalogue.entries.map(\.name))
    func eachFaultTripsItsRulesAndNothingElse(_ name: String) throws {
        let f = try #require(Self.result.faults.first { $0.entry.name == name })
        #expect(f.missed.isEmpty, "\(name) did not trip \(f.missed)")
        #expect(f.unrelated.isEmpty, "\(name) also failed \(f.unrelated)")
        #expect(
            !f.report.summary.conformant
                || f.entry.trips.allSatisfy { id in
                    let level = (f.entry.generation == .v2 ? TestSupport.v2 : TestSupport.v1).rules.first {
                        $0.id == id
                    }!.level
                    return !level.isMandatory
                }, "a fault that breaks a MUST rule must make the run non-conformant")
    }

    @Test func everyMustAndShouldRuleIsCovered() {
        #expect(Self.result.uncovered.isEmpty, "\(Self.result.uncovered)")
        #expect(Self.result.passed)
        #expect(Self.result.total == FaultCatalogue.entries.count)
    }

    @Test func everyCheckKindUsedByTheSpecsHasAFault() {
        var kinds: Set<CheckKind> = []
        for entry in FaultCatalogue.entries {
            let spec = entry.generation == .v2 ? TestSupport.v2 : TestSupport.v1
            for id in entry.trips {
                if let rule = spec.rules.first(where: { $0.id == id }) { kinds.insert(rule.check.kind) }
            }
        }
        let used = Set((TestSupport.v2.rules + TestSupport.v1.rules).map(\.check.kind))
        #expect(used.subtracting(kinds).isEmpty, "no fault for \(used.subtracting(kinds).map(\.rawValue))")
    }

    @Test func faultNamesAreUniqueAndDeclareRulesThatExist() {
        let names = FaultCatalogue.entries.map(\.name)
        #expect(Set(names).count == names.count)
        for entry in FaultCatalogue.entries {
            let spec = entry.generation == .v2 ? TestSupport.v2 : TestSupport.v1
            for id in entry.trips {
                #expect(spec.rules.contains { $0.id == id }, "\(entry.name) claims unknown rule \(id)")
            }
        }
    }

    @Test(.enabled(if: TestSupport.binary != nil, "the migconform binary is not built"))
    func faultsCheckEndsWithTheScore() throws {
        let r = try TestSupport.shell(
            TestSupport.binary!, ["faults", "--check", "--only", "missing-arc", "--only", "v1-accepts-101"])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.hasSuffix("caught 2/2\n"), "\(r.stdout)")
        let run = try TestSupport.shell(
            TestSupport.binary!,
            [
                "run", "--target", "fault:accepts-error-request",
                "--out", FileManager.default.temporaryDirectory.appendingPathComponent("f-\(UUID())").path,
            ])
        #expect(run.status == 1)
        #expect(run.stdout.contains("V2-REJECT-ERROR"))
    }
}
