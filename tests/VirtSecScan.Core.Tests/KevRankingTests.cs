using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Scoring;
using VirtSecScan.Core.Site;

namespace VirtSecScan.Core.Tests;

/// <summary>Known exploitation ranks above everything else of the same severity; older fixes and EPSS raise the score.</summary>
public sealed class KevRankingTests
{
    private static readonly SiteContext Unknown = new("unknown", null, null, Criticality.Medium, false, null);

    [Fact]
    public void KevOnALowCriticalityHost_RanksAboveNonKevOnAnExposedPhiHost_OfTheSameSeverity()
    {
        var kev = TestFindings.Make(severity: Severity.High) with { Exploitation = new Exploitation(true, false, ["CVE-2024-38080"]), Confidence = 0.5 };
        var plain = TestFindings.Make(severity: Severity.High) with { DaysSinceFix = 900, EpssPercentile = 1.0 };
        var low = new SiteContext("lab", null, null, Criticality.Low, false, null);
        var exposed = new SiteContext("insurance-link", null, null, Criticality.High, true, TestSite.InsuranceLink);
        Assert.True(TestSite.InsuranceLink.IsExposureZone);

        var a = RiskScorer.Score(kev, low);
        var b = RiskScorer.Score(plain, exposed);

        Assert.True(a.Score > b.Score, $"KEV {a.Score} <= non-KEV {b.Score}");
        Assert.Contains(a.ScoreFactors, f => f.Factor == "kevPriority");
    }

    [Fact]
    public void KnownRansomwareUse_FloorIsAbovePlainKev()
    {
        Assert.True(RiskScorer.NonKevCeiling(Severity.Medium) * 1.2 > RiskScorer.NonKevCeiling(Severity.Medium) * 1.1);
        var ransomware = RiskScorer.Score(TestFindings.Make(severity: Severity.Medium) with { Exploitation = new Exploitation(true, true, ["CVE-2024-37085"]) }, Unknown);
        var kev = RiskScorer.Score(TestFindings.Make(severity: Severity.Medium) with { Exploitation = new Exploitation(true, false, ["CVE-2024-38080"]) }, Unknown);
        Assert.True(ransomware.Score > kev.Score);
    }

    [Fact]
    public void OlderFix_RaisesTheScore_UpToAYear()
    {
        var fresh = RiskScorer.Score(TestFindings.Make(severity: Severity.High) with { DaysSinceFix = 10 }, Unknown);
        var old = RiskScorer.Score(TestFindings.Make(severity: Severity.High) with { DaysSinceFix = 365 }, Unknown);
        var older = RiskScorer.Score(TestFindings.Make(severity: Severity.High) with { DaysSinceFix = 2000 }, Unknown);
        Assert.True(old.Score > fresh.Score);
        Assert.Equal(old.Score, older.Score);
        Assert.Contains(old.ScoreFactors, f => f.Factor == "fixAge" && f.Value == RiskScorer.MaxFixAgeFactor);
    }

    [Fact]
    public void Epss_IsASmallTieBreaker()
    {
        var hi = RiskScorer.Score(TestFindings.Make() with { EpssPercentile = 0.99 }, Unknown);
        var lo = RiskScorer.Score(TestFindings.Make() with { EpssPercentile = 0.10 }, Unknown);
        Assert.True(hi.Score > lo.Score);
        Assert.True(hi.Score / lo.Score < 1.1);
    }
}
