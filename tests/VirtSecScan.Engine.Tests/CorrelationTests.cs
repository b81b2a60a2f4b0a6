using System.Collections.Immutable;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Feed;

namespace VirtSecScan.Engine.Tests;

/// <summary>The C# correlation rules (advisories, end of support) run through the rule engine with the shipped feed.</summary>
public sealed class CorrelationTests
{
    private static readonly DateOnly ScanDate = new(2026, 11, 27);

    private static readonly Lazy<AdvisoryFeed> ShippedFeed = new(() =>
    {
        var (feed, errors) = AdvisoryFeedLoader.LoadDirectory(RepoPaths.Advisories, p => p);
        Assert.Empty(errors);
        return feed;
    });

    private static readonly Lazy<RuleEngine> Engine = new(() => new RuleEngine([], "stig-8"));

    [Fact]
    public void Esxi802Build23305546FailsVmsa20250004AsKnownExploited()
    {
        var outcomes = Evaluate(Host("8.0.2", 23305546));

        var finding = Assert.Single(outcomes, o => o.RuleId == PatchFindings.AdvisoryMissing && o.Discriminator == "VMSA-2025-0004");
        Assert.Equal(FindingStatus.Fail, finding.Status);
        Assert.NotNull(finding.Exploitation);
        Assert.True(finding.Exploitation.KnownExploited);
        Assert.Contains("CVE-2025-22224", finding.Exploitation.KevCves);
        Assert.Contains(finding.References, r => r.Id == "VMSA-2025-0004");
    }

    [Fact]
    public void Esxi803Build25595708HasNoFailingAdvisoryOutcome()
    {
        // 8.0 U3k (ESXi80U3k-25595708), the newest ESXi fix in the shipped feed (VMSA-2026-0006).
        var outcomes = Evaluate(Host("8.0.3", 25595708));

        var advisories = outcomes.Where(o => o.RuleId == PatchFindings.AdvisoryMissing).ToList();
        Assert.NotEmpty(advisories);
        Assert.DoesNotContain(advisories, o => o.Status == FindingStatus.Fail);
    }

    [Fact]
    public void Esxi67IsPastEndOfSupportOnTheScanDate()
    {
        var outcomes = Evaluate(Host("6.7.0", 17167734, update: 3));

        var finding = Assert.Single(outcomes, o => o.RuleId == PatchFindings.EndOfSupport);
        Assert.Equal(FindingStatus.Fail, finding.Status);
        Assert.Contains(finding.Evidence, e => e.Key == "daysPastEndOfSupport");
    }

    [Fact]
    public void Esxi80IsInSupportOnTheScanDate()
    {
        var outcomes = Evaluate(Host("8.0.3", 24784735));

        var finding = Assert.Single(outcomes, o => o.RuleId == PatchFindings.EndOfSupport);
        Assert.Equal(FindingStatus.Pass, finding.Status);
    }

    [Fact]
    public void UnknownBranchGivesANotEvaluatedLifecycleOutcome()
    {
        var outcomes = Evaluate(Host("9.9.0", 99999999));

        var finding = Assert.Single(outcomes, o => o.RuleId == PatchFindings.EndOfSupport);
        Assert.Equal(FindingStatus.NotEvaluated, finding.Status);
        Assert.Contains("9.9", finding.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(outcomes, o => o.Status == FindingStatus.Fail && o.RuleId != PatchFindings.FeedStale);
    }

    [Fact]
    public void Esxi80U2Build24585300IsIndeterminateForVmsa20240013()
    {
        var outcomes = Evaluate(Host("8.0.2", 24585300));

        var finding = Assert.Single(outcomes, o => o.RuleId == PatchFindings.AdvisoryMissing && o.Discriminator == "VMSA-2024-0013");
        Assert.Equal(FindingStatus.NotEvaluated, finding.Status);
        Assert.Null(finding.Exploitation);
        Assert.False(string.IsNullOrEmpty(finding.Reason));
    }

    private static ImmutableArray<Finding> Evaluate(HypervisorBuild host) =>
        Engine.Value.Evaluate([host], ShippedFeed.Value, ScanDate);

    private static HypervisorBuild Host(string version, long build, int? update = null)
    {
        var (branch, line) = HypervisorBuild.LineOf(version, update);
        var resource = new ResourceRef("host", "host:esxi-test", "esxi-test", Source: "hosts/esxi-test/vmware-v.txt", Line: 1);
        return new HypervisorBuild(resource, "esxi", version, build, branch, line, null, null);
    }
}
