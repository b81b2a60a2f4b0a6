using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Scoring;
using VirtSecScan.Core.Site;

namespace VirtSecScan.Core.Tests;

public sealed class RiskScorerTests
{
    private static readonly SiteContext Unknown = SiteModel.Empty.Resolve("vm", "anything");

    private static ScoreFactor Factor(Finding scored, string name) => Assert.Single(scored.ScoreFactors, f => f.Factor == name);

    [Fact]
    public void Score_KnownExploited_RaisesScoreAndListsExploitationFactor()
    {
        var plain = TestFindings.Make(severity: Severity.Critical);
        var kev = plain with { Exploitation = new Exploitation(true, false, ["CVE-2024-22252"]) };

        var plainScored = RiskScorer.Score(plain, Unknown);
        var kevScored = RiskScorer.Score(kev, Unknown);

        Assert.Equal(50, plainScored.Score);

        // 50 x 1.5 = 75, then lifted above every critical finding without KEV (ceiling x 1.1).
        Assert.Equal(Math.Round(RiskScorer.NonKevCeiling(Severity.Critical) * 1.1, 1), kevScored.Score);
        Assert.Contains(kevScored.ScoreFactors, f => f.Factor == "kevPriority");
        var factor = Factor(kevScored, "exploitation");
        Assert.Equal(1.5, factor.Value);
        Assert.Contains("CISA KEV", factor.Reason, StringComparison.Ordinal);
        Assert.Contains("CVE-2024-22252", factor.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(plainScored.ScoreFactors, f => f.Factor == "exploitation");
    }

    [Fact]
    public void Score_KnownRansomwareUse_UsesTheHigherExploitationFactor()
    {
        var finding = TestFindings.Make(severity: Severity.Critical) with { Exploitation = new Exploitation(true, true, ["CVE-2024-37085"]) };

        var scored = RiskScorer.Score(finding, Unknown);

        Assert.Equal(Math.Round(RiskScorer.NonKevCeiling(Severity.Critical) * 1.2, 1), scored.Score);
        var factor = Factor(scored, "exploitation");
        Assert.Equal(1.8, factor.Value);
        Assert.Contains("ransomware", factor.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_NotKnownExploited_HasNoExploitationFactor()
    {
        var finding = TestFindings.Make() with { Exploitation = new Exploitation(false, false, []) };

        Assert.DoesNotContain(RiskScorer.Score(finding, Unknown).ScoreFactors, f => f.Factor == "exploitation");
    }

    [Fact]
    public void Score_InsuranceLinkZone_AddsExposureFactor()
    {
        var site = TestSite.Model.Resolve("vm", "insurance-gw-01");

        var scored = RiskScorer.Score(TestFindings.Make(severity: Severity.Critical), site);

        var factor = Factor(scored, "exposure");
        Assert.Equal(1.3, factor.Value);
        Assert.Contains("insurance-link", factor.Reason, StringComparison.Ordinal);
        Assert.Equal(65, scored.Score);
    }

    [Fact]
    public void Score_NonExposureZone_HasNoExposureFactor()
    {
        var site = TestSite.Model.Resolve("vm", "his-db-01");

        Assert.DoesNotContain(RiskScorer.Score(TestFindings.Make(), site).ScoreFactors, f => f.Factor == "exposure");
    }

    [Fact]
    public void Score_PhiHighCriticalityZone_HasAssetCriticalityFactorOnePointFive()
    {
        var site = TestSite.Model.Resolve("vm", "his-db-01");

        var scored = RiskScorer.Score(TestFindings.Make(severity: Severity.Critical), site);

        var factor = Factor(scored, "assetCriticality");
        Assert.Equal(1.5, factor.Value);
        Assert.Contains("patient data", factor.Reason, StringComparison.Ordinal);
        Assert.Equal(75, scored.Score);
    }

    [Fact]
    public void Score_UnknownResource_AssumesMediumCriticality()
    {
        var scored = RiskScorer.Score(TestFindings.Make(severity: Severity.High), Unknown);

        var factor = Factor(scored, "assetCriticality");
        Assert.Equal(1.0, factor.Value);
        Assert.Contains("not named in the site model", factor.Reason, StringComparison.Ordinal);
        Assert.Equal(40, scored.Score);
    }

    [Fact]
    public void Score_ListsSeverityFactorFirst()
    {
        var scored = RiskScorer.Score(TestFindings.Make(severity: Severity.Medium), Unknown);

        var first = scored.ScoreFactors[0];
        Assert.Equal(("severity", 25.0), (first.Factor, first.Value));
    }

    // ---- Rank ----

    [Fact]
    public void Rank_OrdersByScoreDescending()
    {
        var ranked = RiskScorer.Rank(
        [
            TestFindings.Make(ruleId: "A", score: 10),
            TestFindings.Make(ruleId: "B", score: 90),
            TestFindings.Make(ruleId: "C", score: 40),
        ]);

        Assert.Equal(["B", "C", "A"], ranked.Select(f => f.RuleId));
    }

    [Fact]
    public void Rank_EqualScore_HigherSeverityFirst()
    {
        var ranked = RiskScorer.Rank(
        [
            TestFindings.Make(ruleId: "A", severity: Severity.Medium, score: 50),
            TestFindings.Make(ruleId: "B", severity: Severity.Critical, score: 50),
            TestFindings.Make(ruleId: "C", severity: Severity.High, score: 50),
        ]);

        Assert.Equal(["B", "C", "A"], ranked.Select(f => f.RuleId));
    }

    [Fact]
    public void Rank_EqualScoreAndSeverity_OrdersByRuleId()
    {
        var ranked = RiskScorer.Rank(
        [
            TestFindings.Make(ruleId: "VSS-VM-010", score: 50),
            TestFindings.Make(ruleId: "VSS-VM-002", score: 50),
            TestFindings.Make(ruleId: "VSS-HOST-001", score: 50),
        ]);

        Assert.Equal(["VSS-HOST-001", "VSS-VM-002", "VSS-VM-010"], ranked.Select(f => f.RuleId));
    }

    [Fact]
    public void Rank_EqualScoreSeverityAndRule_OrdersByResourceName()
    {
        var ranked = RiskScorer.Rank(
        [
            TestFindings.Make(resourceName: "pacs-01", score: 50),
            TestFindings.Make(resourceName: "emr-app-01", score: 50),
            TestFindings.Make(resourceName: "his-db-01", score: 50),
        ]);

        Assert.Equal(["emr-app-01", "his-db-01", "pacs-01"], ranked.Select(f => f.Resource.Name));
    }

    [Fact]
    public void Rank_AssignsRanksOneToN()
    {
        var ranked = RiskScorer.Rank(
        [
            TestFindings.Make(ruleId: "A", score: 10),
            TestFindings.Make(ruleId: "B", score: 90),
            TestFindings.Make(ruleId: "C", score: 40),
            TestFindings.Make(ruleId: "D", score: 40),
        ]);

        Assert.Equal([1, 2, 3, 4], ranked.Select(f => f.Rank));
        Assert.Equal(1, ranked.Single(f => f.RuleId == "B").Rank);
    }
}
