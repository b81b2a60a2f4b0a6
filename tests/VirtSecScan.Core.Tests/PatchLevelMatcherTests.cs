using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Core.Tests;

/// <summary>
/// Patch matching per update line (design reference: patch-levels §1 and §6.2). Builds and advisory ids
/// are the real published ones where the case comes from a real advisory.
/// </summary>
public sealed class PatchLevelMatcherTests
{
    private const string Cve = "CVE-2024-22252";

    private static HypervisorBuild Host(string updateLine, long build, string product = "esxi")
    {
        var branch = PatchLevelMatcher.BranchOf(updateLine);
        var version = $"{branch}.{PatchLevelMatcher.UpdateNumber(updateLine)}";
        return new HypervisorBuild(new ResourceRef("host", "host:esxi-01", "esxi-01"), product, version, build, branch, updateLine, null, null);
    }

    private static AdvisoryFix Fix(string line, long build, string? name = null, params string[] cves) =>
        new("esxi", line, build, name, NoFix: false, [.. cves]);

    private static AdvisoryFix NoFix(string line, params string[] cves) =>
        new("esxi", line, null, null, NoFix: true, [.. cves]);

    private static Advisory Advisory(string id, IEnumerable<string> cves, params AdvisoryFix[] fixes) =>
        new(id, 1, new DateOnly(2024, 3, 5), null, id, "critical", "https://example.invalid/" + id,
            [.. cves.Select(c => new AdvisoryCve(c, 9.3, null, null, null, null))], [.. fixes], [], [], null);

    private static CveVerdict Single(AdvisoryVerdict verdict) => Assert.Single(verdict.Cves);

    // ---- own line decides ----

    [Fact]
    public void OwnLineFix_BuildBelowFixedBuild_IsVulnerable()
    {
        var row = Fix("8.0U2", 23305545, "ESXi80U2sb-23305545");
        var advisory = Advisory("VMSA-2024-0006", [Cve], row);

        var verdict = PatchLevelMatcher.Evaluate(Host("8.0U2", 22380479), advisory);

        Assert.Equal(PatchVerdict.Vulnerable, verdict.Verdict);
        Assert.Equal(PatchVerdict.Vulnerable, Single(verdict).Verdict);
        Assert.Same(row, Single(verdict).DecidingFix);
    }

    [Theory]
    [InlineData(23305545)]
    [InlineData(24022510)]
    public void OwnLineFix_BuildAtOrAboveFixedBuild_IsNotVulnerable(long build)
    {
        var advisory = Advisory("VMSA-2024-0006", [Cve], Fix("8.0U2", 23305545, "ESXi80U2sb-23305545"));

        var verdict = PatchLevelMatcher.Evaluate(Host("8.0U2", build), advisory);

        Assert.Equal(PatchVerdict.NotVulnerable, verdict.Verdict);
    }

    [Fact]
    public void Vmsa2024_0006_U1dHostIsPatchedAlthoughTheU2FixIsHigher()
    {
        var u1 = Fix("8.0U1", 23299997, "ESXi80U1d-23299997");
        var advisory = Advisory("VMSA-2024-0006", [Cve], u1, Fix("8.0U2", 23305545, "ESXi80U2sb-23305545"));

        var verdict = PatchLevelMatcher.Evaluate(Host("8.0U1", 23299997), advisory);

        Assert.Equal(PatchVerdict.NotVulnerable, verdict.Verdict);
        Assert.Same(u1, Single(verdict).DecidingFix);
    }

    [Fact]
    public void Vmsa2025_0013_U3fHostIsPatchedAlthoughTheU2FixIsHigher()
    {
        var u3 = Fix("8.0U3", 24784735, "ESXi80U3f-24784735");
        var advisory = Advisory("VMSA-2025-0013", ["CVE-2025-41236"], Fix("8.0U2", 24789317, "ESXi80U2e-24789317"), u3);

        var verdict = PatchLevelMatcher.Evaluate(Host("8.0U3", 24784735), advisory);

        Assert.Equal(PatchVerdict.NotVulnerable, verdict.Verdict);
        Assert.Same(u3, Single(verdict).DecidingFix);
    }

    [Fact]
    public void SecurityOnlyFixedBuild_FullImageOfSamePatch_IsNotVulnerable()
    {
        // 8.0 U2b: security-only image 23305545, full image 23305546.
        var advisory = Advisory("VMSA-2024-0006", [Cve], Fix("8.0U2", 23305545, "ESXi80U2sb-23305545"));

        var verdict = PatchLevelMatcher.Evaluate(Host("8.0U2", 23305546), advisory);

        Assert.Equal(PatchVerdict.NotVulnerable, verdict.Verdict);
    }

    // ---- no fix ----

    [Theory]
    [InlineData("7.0U3", 18644231)]
    [InlineData("7.0U3", 24585291)]
    [InlineData("7.0U3", long.MaxValue)]
    [InlineData("7.0", 24585291)]
    public void NoFixRow_KeepsEveryBuildOfTheLineVulnerable(string noFixLine, long build)
    {
        var row = NoFix(noFixLine, "CVE-2024-37085");
        var advisory = Advisory("VMSA-2024-0013", ["CVE-2024-37085"], Fix("8.0U3", 24022510, "ESXi80U3-24022510", "CVE-2024-37085"), row);

        var verdict = PatchLevelMatcher.Evaluate(Host("7.0U3", build), advisory);

        Assert.Equal(PatchVerdict.Vulnerable, verdict.Verdict);
        Assert.Same(row, Single(verdict).DecidingFix);
    }

    // ---- host line older than every fixed line ----

    [Fact]
    public void HostLineOlderThanEveryFixedLine_BuildBelowLowestFix_IsVulnerable()
    {
        // VMSA-2022-0004: fixed on 7.0 U1e, U2e and U3c; the lowest of them is U3c 19193900.
        var u3c = Fix("7.0U3", 19193900, "ESXi70U3c-19193900");
        var advisory = Advisory("VMSA-2022-0004", ["CVE-2021-22040"],
            Fix("7.0U1", 19324898, "ESXi70U1e-19324898"), Fix("7.0U2", 19290878, "ESXi70U2e-19290878"), u3c);

        var verdict = PatchLevelMatcher.Evaluate(Host("7.0", 16324942), advisory);

        Assert.Equal(PatchVerdict.Vulnerable, verdict.Verdict);
        Assert.Same(u3c, Single(verdict).DecidingFix);
    }

    [Fact]
    public void BuildAboveLowestFixOnAnOlderLine_IsIndeterminate()
    {
        // VMSA-2022-0001: fixed only on 7.0 U3 (U3c 19193900); 7.0 U2e 19290878 is numerically higher without the fix.
        var u3c = Fix("7.0U3", 19193900, "ESXi70U3c-19193900");
        var advisory = Advisory("VMSA-2022-0001", ["CVE-2021-22045"], u3c);

        var verdict = PatchLevelMatcher.Evaluate(Host("7.0U2", 19290878), advisory);

        Assert.Equal(PatchVerdict.Indeterminate, verdict.Verdict);
        Assert.Equal(PatchVerdict.Indeterminate, Single(verdict).Verdict);
        Assert.Same(u3c, Single(verdict).DecidingFix);
        Assert.Empty(verdict.Vulnerable);
        Assert.Single(verdict.Indeterminate);
    }

    // ---- highest older line ----

    [Fact]
    public void OwnLineWithoutRow_HighestOlderLineDecides()
    {
        // Build 19300000 is at/above the U2 fix but below the U1 fix: only the U2 row gives "not vulnerable".
        var u2 = Fix("7.0U2", 19290878, "ESXi70U2e-19290878");
        var advisory = Advisory("VMSA-TEST-0001", ["CVE-2099-0001"], Fix("7.0U1", 19324898, "ESXi70U1e-19324898"), u2);

        var verdict = PatchLevelMatcher.Evaluate(Host("7.0U3", 19300000), advisory);

        Assert.Equal(PatchVerdict.NotVulnerable, verdict.Verdict);
        Assert.Same(u2, Single(verdict).DecidingFix);
    }

    [Fact]
    public void OwnLineWithoutRow_BuildBelowHighestOlderLineFix_IsVulnerable()
    {
        var u2 = Fix("7.0U2", 19290878, "ESXi70U2e-19290878");
        var advisory = Advisory("VMSA-TEST-0002", ["CVE-2099-0002"], Fix("7.0U1", 17325551, "ESXi70U1c-17325551"), u2);

        var verdict = PatchLevelMatcher.Evaluate(Host("7.0U3", 18644231), advisory);

        Assert.Equal(PatchVerdict.Vulnerable, verdict.Verdict);
        Assert.Same(u2, Single(verdict).DecidingFix);
    }

    // ---- not applicable, scoping ----

    [Fact]
    public void BranchWithNoRows_IsNotApplicable()
    {
        var advisory = Advisory("VMSA-2024-0006", [Cve], Fix("8.0U2", 23305545), Fix("7.0U3", 23307199));

        var verdict = PatchLevelMatcher.Evaluate(Host("6.7U3", 17167734), advisory);

        Assert.Equal(PatchVerdict.NotApplicable, verdict.Verdict);
        Assert.Equal(PatchVerdict.NotApplicable, Single(verdict).Verdict);
        Assert.Null(Single(verdict).DecidingFix);
    }

    [Fact]
    public void RowsOfAnotherProduct_AreIgnored()
    {
        var advisory = Advisory("VMSA-2024-0006", [Cve], new AdvisoryFix("workstation", "8.0U2", 99999999, null, false, []));

        var verdict = PatchLevelMatcher.Evaluate(Host("8.0U2", 1), advisory);

        Assert.Equal(PatchVerdict.NotApplicable, verdict.Verdict);
    }

    [Fact]
    public void RowListingOtherCves_DoesNotDecideThisCve()
    {
        var advisory = Advisory("VMSA-2024-0006", ["CVE-2024-22252", "CVE-2024-37085"],
            Fix("7.0U3", 23307199, "ESXi70U3p-23307199", "CVE-2024-22252"));

        var verdict = PatchLevelMatcher.Evaluate(Host("7.0U3", 1), advisory);

        Assert.Equal(PatchVerdict.Vulnerable, verdict.Cves.Single(c => c.Cve == "CVE-2024-22252").Verdict);
        Assert.Equal(PatchVerdict.NotApplicable, verdict.Cves.Single(c => c.Cve == "CVE-2024-37085").Verdict);
    }

    [Fact]
    public void AdvisoryVerdict_AnyVulnerableCve_MakesTheAdvisoryVulnerable()
    {
        var advisory = Advisory("VMSA-2024-0006", ["CVE-2024-22252", "CVE-2024-37085"],
            Fix("7.0U3", 23307199, "ESXi70U3p-23307199", "CVE-2024-22252"), NoFix("7.0U3", "CVE-2024-37085"));

        var verdict = PatchLevelMatcher.Evaluate(Host("7.0U3", 23307199), advisory);

        Assert.Equal(PatchVerdict.Vulnerable, verdict.Verdict);
        Assert.Equal("CVE-2024-37085", Assert.Single(verdict.Vulnerable).Cve);
    }

    // ---- line helpers ----

    [Theory]
    [InlineData("8.0.2", null, "8.0", "8.0U2")]
    [InlineData("7.0.3", 3, "7.0", "7.0U3")]
    [InlineData("6.7.0", 3, "6.7", "6.7U3")]
    [InlineData("5.5.0", 3, "5.5", "5.5U3")]
    [InlineData("8.0.0", null, "8.0", "8.0")]
    [InlineData("6.7.0", null, "6.7", "6.7")]
    public void LineOf_DerivesBranchAndUpdateLine(string version, int? update, string branch, string line)
    {
        Assert.Equal((branch, line), HypervisorBuild.LineOf(version, update));
    }

    [Theory]
    [InlineData("8.0U2", "8.0", 2)]
    [InlineData("7.0u3", "7.0", 3)]
    [InlineData("6.7", "6.7", 0)]
    public void BranchOfAndUpdateNumber_SplitAnUpdateLine(string line, string branch, int update)
    {
        Assert.Equal((branch, update), (PatchLevelMatcher.BranchOf(line), PatchLevelMatcher.UpdateNumber(line)));
    }

    [Fact]
    public void Evaluate_ReturnsCvesInIdOrder()
    {
        var advisory = Advisory("VMSA-2024-0006", ["CVE-2024-22255", "CVE-2024-22252"], Fix("8.0U2", 23305545));

        var verdict = PatchLevelMatcher.Evaluate(Host("8.0U2", 1), advisory);

        Assert.Equal(["CVE-2024-22252", "CVE-2024-22255"], verdict.Cves.Select(c => c.Cve));
    }
}
