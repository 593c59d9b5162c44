import Foundation
import Testing

/// The fuzz harness itself: it runs, counts its inputs per family, and finds nothing on a sound build.
@Suite(
    .enabled(if: TestSupport.binary != nil, "build the package first (swift build): the migconform binary is not there")
)
struct FuzzHarnessTests {
    @Test(.timeLimit(.minutes(2)))
    func aSmallBudgetFindsNothingAndCountsEveryFamily() throws {
        // Two inputs per family: the harness's own workings (the search itself runs in CI with its full budget).
        let r = try TestSupport.shell(
            TestSupport.binary!, ["fuzz", "--seed", "3", "--budget", "2", "--deadline", "60"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        for family in ["specs", "uris", "adapters"] {
            #expect(r.stdout.contains("fuzz: \(family)"), "\(r.stdout)")
        }
        #expect(r.stdout.contains("2 inputs"), "\(r.stdout)")
        #expect(r.stdout.contains("0 findings"), "\(r.stdout)")
        #expect(r.stdout.contains("exit codes documented: 0, 1, 2, 3, 4, 5"), "\(r.stdout)")
    }

    @Test func badOptionsAreUsageErrors() throws {
        for args in [
            ["fuzz", "--families", "nope"], ["fuzz", "--budget", "-1"], ["fuzz", "--deadline", "99999999999999999999"],
        ] {
            let r = try TestSupport.shell(TestSupport.binary!, args)
            #expect(r.status == 2, "\(args): \(r.stderr)")
        }
    }
}
