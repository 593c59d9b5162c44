import Foundation
import MigconformCases
import MigconformDevice
import MigconformReference
import MigconformRun
import MigconformSpec
import Testing

/// End to end: the shipped specs against the reference devices.
@Suite struct ConformanceRunTests {
    static let profiles = TestSupport.v2.profiles

    @Test(arguments: profiles)
    func referenceV2IsConformantOnEveryProfile(_ profile: Profile) throws {
        let device = ReferenceDeviceV2(.init(flags: TestSupport.flags(profile.features)))
        let report = try TestSupport.run(TestSupport.v2, device)
        #expect(report.summary.conformant)
        let bad = report.cases.filter { [.fail, .warn, .error, .timeout, .skipped].contains($0.verdict) }
        #expect(bad.isEmpty, "unexpected verdicts: \(bad.map { "\($0.verdict.rawValue) \($0.id): \($0.message)" })")
        // NOT_APPLICABLE exactly where a rule needs a feature the profile lacks, plus the rule about unadvertised
        // states when nothing is unadvertised.
        let features = Set(report.run.features)
        let machine = Machine(spec: TestSupport.v2, features: features)
        for c in report.cases {
            let rule = TestSupport.v2.rules.first { $0.id == c.ruleID }!
            let needsAbsent = !Set(rule.requires).isSubset(of: features)
            var nothingToCheck = false
            if case .rejectedValue(let p) = rule.check { nothingToCheck = p.values.isEmpty }
            nothingToCheck = nothingToCheck && machine.unadvertisedStates.isEmpty
            if case .precopyInfoV2(let p) = rule.check, p.expect == .refusedWithoutPreCopy,
                features.contains("pre-copy")
            {
                nothingToCheck = true
            }
            #expect((c.verdict == .notApplicable) == (needsAbsent || nothingToCheck), "\(c.id): \(c.verdict.rawValue)")
        }
        // Every single-step arc of the profile was exercised.
        let arcCases = report.cases.filter { $0.ruleID == "V2-ARC-STATE" && $0.verdict == .pass }
        #expect(arcCases.count == machine.arcs.count)
    }

    @Test func referenceV2AdvertisesWhatItWasGiven() throws {
        let device = ReferenceDeviceV2(.init(flags: [.stopCopy, .preCopy]))
        // Alone: a peer would add the run's own features (`peer`, `foreign-peer`).
        let report = try TestSupport.run(TestSupport.v2, device, ownPeers: false)
        #expect(report.run.migrationFlags == 5)
        #expect(Set(report.run.features) == ["stop-copy", "pre-copy", "data-size", "dma-logging"])
    }

    @Test func referenceV1IsConformantWithoutWarnings() throws {
        let report = try TestSupport.run(TestSupport.v1, ReferenceDeviceV1())
        #expect(report.summary.conformant)
        #expect(
            report.cases.allSatisfy {
                ![.fail, .warn, .error, .timeout, .skipped, .notApplicable].contains($0.verdict)
            },
            "\(report.cases.filter { $0.verdict != .pass && $0.verdict != .info }.map(\.id))")
        // MAY rules report what the device chose.
        #expect(report.cases.filter { $0.level == .may }.allSatisfy { $0.verdict == .info })
    }

    @Test func theVariantReplacesTheMainReadingsRule() throws {
        let main = try TestSupport.run(TestSupport.v1, ReferenceDeviceV1())
        let variant = try TestSupport.run(
            TestSupport.v1, ReferenceDeviceV1(), options: ExpansionOptions(variants: ["v1-11x-error"]))
        #expect(main.cases.contains { $0.ruleID == "V1-RESUME-FAILED-STATE" })
        #expect(!main.cases.contains { $0.ruleID == "V1-RESUME-FAILED-STATE-11X" })
        #expect(variant.cases.contains { $0.ruleID == "V1-RESUME-FAILED-STATE-11X" && $0.verdict == .pass })
        #expect(!variant.cases.contains { $0.ruleID == "V1-RESUME-FAILED-STATE" })
    }

    @Test func everyCaseIdIsUniqueAndStable() throws {
        let machine = Machine(spec: TestSupport.v2, features: ["stop-copy", "p2p", "pre-copy", "data-size"])
        let a = Expander.expand(machine).map(\.id)
        let b = Expander.expand(machine).map(\.id)
        #expect(a == b)
        #expect(Set(a).count == a.count)
        #expect(a.contains("V2-ARC-STATE[STOP->STOP_COPY]"))
        #expect(a.contains("V2-COMBINATION-STATE[RUNNING->STOP_COPY]"))
        #expect(a.contains("V2-REJECT-OUT-OF-RANGE[RUNNING->4294967295]"))
    }

    @Test func hazardousCasesAreSkippedOnKernelTargetsUnlessAllowed() {
        let machine = Machine(spec: TestSupport.v2, features: ["stop-copy", "p2p", "pre-copy"])
        func forbidden(_ o: ExpansionOptions) -> [TestCase] {
            Expander.expand(machine, options: o).filter { $0.rule.id == "V2-FORBIDDEN-STOP-COPY-TO-PRE-COPY" }
        }
        let kernel = forbidden(ExpansionOptions(targetKind: "vfio", kernelRelease: "6.12.48+deb12-amd64"))
        #expect(kernel.count == 2)
        #expect(
            kernel.allSatisfy {
                if case .skipped(let why) = $0.disposition { return why.contains("HZ-PRECOPY-LOOP") }
                return false
            })
        let allowed = forbidden(
            ExpansionOptions(allowedHazards: ["HZ-PRECOPY-LOOP"], targetKind: "vfio", kernelRelease: "6.12.48"))
        #expect(allowed.allSatisfy { $0.disposition == .run })
        let fixed = forbidden(ExpansionOptions(targetKind: "vfio", kernelRelease: "7.2.0"))
        #expect(fixed.allSatisfy { $0.disposition == .run })
        let simulated = forbidden(ExpansionOptions(targetKind: "reference"))
        #expect(simulated.allSatisfy { $0.disposition == .run })
    }

    @Test func filtersSelectByCaseOrRuleGlob() {
        let machine = Machine(spec: TestSupport.v2, features: ["stop-copy"])
        let cases = Expander.expand(
            machine, options: ExpansionOptions(only: ["V2-ARC-*"], exclude: ["*[STOP->RESUMING]"]))
        let running = cases.filter { $0.disposition == .run }
        #expect(!running.isEmpty)
        #expect(running.allSatisfy { $0.rule.id.hasPrefix("V2-ARC-") && !$0.id.hasSuffix("[STOP->RESUMING]") })
    }
}

/// The example in Specs/README.md stays a valid spec.
@Suite struct SpecDocumentationTests {
    @Test func theReadmeExampleLoads() throws {
        let readme = try String(contentsOf: TestSupport.root.appendingPathComponent("Specs/README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```json\n"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let spec = try SpecLoader.load(
            data: Array(readme[start.upperBound..<end.lowerBound].utf8), path: "Specs/README.md")
        #expect(spec.rules.count == 2)
        let report = try TestSupport.run(spec, ReferenceDeviceV2(.init(flags: [.stopCopy])))
        #expect(report.summary.conformant)
        #expect(report.cases.filter { $0.ruleID == "EX-ARC-STATE" }.count == 4)
    }

    @Test func everyRuleCitesAKnownSourceAndSaysSomething() {
        for spec in [TestSupport.v1, TestSupport.v2] {
            for rule in spec.rules {
                #expect(spec.sources[rule.cite.source] != nil, "\(rule.id)")
                #expect(rule.statement.count > 20 && !rule.cite.section.isEmpty, "\(rule.id)")
            }
        }
    }

    @Test func dataOffsetPageAlignmentIsJudgedOnlyWhereTheRegionCanBeMmapped() throws {
        let rule = "V1-DATA-OFFSET-PAGE-ALIGNED"
        func verdict(_ device: MigrationDevice) throws -> (Verdict, String) {
            let c = try #require(try TestSupport.run(TestSupport.v1, device).cases.first { $0.ruleID == rule })
            return (c.verdict, c.message)
        }
        #expect(
            try ReferenceDeviceV1().perform(.regionInfo)
                == .value(
                    RegionV1.flagRead | RegionV1.flagWrite
                        | RegionV1.flagMmap))
        #expect(try verdict(ReferenceDeviceV1()).0 == .pass)
        #expect(try verdict(ReferenceDeviceV1(.init(mmapCapable: false))).0 == .notApplicable)
        // Unaligned but not mappable: nothing to judge.
        #expect(try verdict(ReferenceDeviceV1(.init(mmapCapable: false, dataOffset: 64))).0 == .notApplicable)
        let (v, message) = try verdict(FaultyDeviceV1(.dataOffsetUnaligned))
        #expect(v == .fail)
        #expect(message.contains("starts at 32"), "\(message)")
        #expect(OperationText.outcome(.value(7), of: .regionInfo) == "ok flags=0x7 (READ|WRITE|MMAP)")
    }
}
