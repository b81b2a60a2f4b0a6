using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Core.Tests;

/// <summary>
/// The cases that break naive scanners (one global threshold, "unknown means fine"), and version-numbered products.
/// ESXi builds are real published ones (7.0 U2e 19290878, 7.0 U3c 19193900, 8.0 U1d 23299997, 8.0 U2sb 23305545).
/// </summary>
public sealed class PatchLevelEdgeCaseTests
{
    private static readonly ResourceRef R = new("host", "host:h1", "h1");

    private static HypervisorBuild Esxi(string line, long build, bool certain = true) =>
        new(R, "esxi", $"{PatchLevelMatcher.BranchOf(line)}.{PatchLevelMatcher.UpdateNumber(line)}", build, PatchLevelMatcher.BranchOf(line), line, null, null) { LineCertain = certain };

    private static Advisory Adv(params AdvisoryFix[] fixes) =>
        new("ADV-1", 1, new DateOnly(2024, 1, 1), null, "t", "critical", "https://example.invalid", [new AdvisoryCve("CVE-2024-00001", 9.0, null, null, null, null)], [.. fixes], [], [], null);

    private static AdvisoryFix Build(string product, string line, long build) => new(product, line, build, null, false, []);

    private static AdvisoryFix Version(string product, string line, string version, string? package = null) => new(product, line, null, null, false, [], version, package);

    [Fact]
    public void Esxi70U2eAboveTheU3cFix_WithTheFixOnlyOnU3_IsIndeterminateNotPassed()
    {
        var verdict = PatchLevelMatcher.Evaluate(Esxi("7.0U2", 19290878), Adv(Build("esxi", "7.0U3", 19193900)));
        Assert.Equal(PatchVerdict.Indeterminate, verdict.Verdict);
    }

    [Fact]
    public void Esxi70U2eWithAnOwnLineFix_IsJudgedOnItsOwnLine()
    {
        // VMSA-2022-0004 shape: U2e fixed at 19290878 while U3c is numbered lower (19193900).
        var adv = Adv(Build("esxi", "7.0U2", 19290878), Build("esxi", "7.0U3", 19193900));
        Assert.Equal(PatchVerdict.NotVulnerable, PatchLevelMatcher.Evaluate(Esxi("7.0U2", 19290878), adv).Verdict);
        Assert.Equal(PatchVerdict.Vulnerable, PatchLevelMatcher.Evaluate(Esxi("7.0U2", 19290877), adv).Verdict);
    }

    [Fact]
    public void Esxi80U2HostBetweenTheU1FixAndTheU2Fix_IsVulnerable()
    {
        var adv = Adv(Build("esxi", "8.0U1", 23299997), Build("esxi", "8.0U2", 23305545));
        Assert.Equal(PatchVerdict.Vulnerable, PatchLevelMatcher.Evaluate(Esxi("8.0U2", 23300000), adv).Verdict);
        Assert.Equal(PatchVerdict.NotVulnerable, PatchLevelMatcher.Evaluate(Esxi("8.0U1", 23299997), adv).Verdict);
    }

    [Fact]
    public void SecurityOnlyBuildIsTheThreshold()
    {
        var adv = Adv(Build("esxi", "8.0U2", 23305545));
        Assert.Equal(PatchVerdict.NotVulnerable, PatchLevelMatcher.Evaluate(Esxi("8.0U2", 23305545), adv).Verdict);
        Assert.Equal(PatchVerdict.NotVulnerable, PatchLevelMatcher.Evaluate(Esxi("8.0U2", 23305546), adv).Verdict);
    }

    [Fact]
    public void NoFixLine_IsVulnerableAtEveryBuild()
    {
        var adv = Adv(new AdvisoryFix("esxi", "7.0", null, null, true, []), Build("esxi", "8.0U3", 24022510));
        foreach (var build in new long[] { 15843807, 19193900, 24784741, 99999999 })
        {
            Assert.Equal(PatchVerdict.Vulnerable, PatchLevelMatcher.Evaluate(Esxi("7.0U3", build), adv).Verdict);
        }
    }

    [Fact]
    public void UncertainLine_BelowEveryFixOfTheBranch_IsVulnerable_ElseIndeterminate()
    {
        var adv = Adv(Build("esxi", "6.7U3", 17700523), Build("esxi", "6.7U2", 17499825));
        Assert.Equal(PatchVerdict.Vulnerable, PatchLevelMatcher.Evaluate(Esxi("6.7", 14320388, certain: false), adv).Verdict);
        Assert.Equal(PatchVerdict.Indeterminate, PatchLevelMatcher.Evaluate(Esxi("6.7", 17700523, certain: false), adv).Verdict);
    }

    [Fact]
    public void UnplacedHost_IsNeverPassed()
    {
        var host = new HypervisorBuild(R, "esxi", "garbage", 0, "8.0", "8.0U3", null, null) { Unplaced = "unreadable version" };
        Assert.Equal(PatchVerdict.Indeterminate, PatchLevelMatcher.Evaluate(host, Adv(Build("esxi", "8.0U3", 1))).Verdict);
    }

    [Fact]
    public void HyperV_ComparesTheUbrWithinTheOsBuildLine()
    {
        var adv = Adv(Build("hyper-v", "20348", 2582));
        HypervisorBuild Ws(string line, long ubr) => new(R, "hyper-v", $"10.0.{line}.{ubr}", ubr, line, line, null, null);
        Assert.Equal(PatchVerdict.Vulnerable, PatchLevelMatcher.Evaluate(Ws("20348", 2527), adv).Verdict);
        Assert.Equal(PatchVerdict.NotVulnerable, PatchLevelMatcher.Evaluate(Ws("20348", 2582), adv).Verdict);

        // Windows Server 2019 is not listed: the advisory says nothing about it, even with a lower UBR.
        Assert.Equal(PatchVerdict.NotApplicable, PatchLevelMatcher.Evaluate(Ws("17763", 100), adv).Verdict);
    }

    [Fact]
    public void ProxmoxPackageVersion_ComparedWithDebianOrdering()
    {
        var adv = Adv(Version("proxmox-ve", "8", "8.1.5-5", "pve-qemu-kvm"));
        HypervisorBuild Pve(string? qemu) => new(R, "proxmox-ve", "8.1.4", 0, "8", "8", null, null)
        {
            Packages = qemu is null ? NoPackages : NoPackages.Add("pve-qemu-kvm", qemu),
        };

        Assert.Equal(PatchVerdict.Vulnerable, PatchLevelMatcher.Evaluate(Pve("8.1.5-4"), adv).Verdict);
        Assert.Equal(PatchVerdict.Vulnerable, PatchLevelMatcher.Evaluate(Pve("8.0.2-3"), adv).Verdict);
        Assert.Equal(PatchVerdict.NotVulnerable, PatchLevelMatcher.Evaluate(Pve("8.1.5-10"), adv).Verdict);
        Assert.Equal(PatchVerdict.Indeterminate, PatchLevelMatcher.Evaluate(Pve(null), adv).Verdict);
    }

    [Fact]
    public void QemuVersion_OwnLineOnly()
    {
        var adv = Adv(Version("qemu", "8.2", "8.2.3"));
        HypervisorBuild Q(string v, string line) => new(R, "qemu", v, 0, line, line, null, null);
        Assert.Equal(PatchVerdict.Vulnerable, PatchLevelMatcher.Evaluate(Q("8.2.2", "8.2"), adv).Verdict);
        Assert.Equal(PatchVerdict.NotVulnerable, PatchLevelMatcher.Evaluate(Q("8.2.10", "8.2"), adv).Verdict);
        Assert.Equal(PatchVerdict.NotApplicable, PatchLevelMatcher.Evaluate(Q("7.2.11", "7.2"), adv).Verdict);
    }

    [Theory]
    [InlineData("8.1.5-5", "8.1.5-10", -1)]
    [InlineData("1:8.2.2+ds-0ubuntu1.4", "8.9.9", 1)]
    [InlineData("8.2.2+ds-0ubuntu1.4", "8.2.2+ds-0ubuntu1.10", -1)]
    [InlineData("4.17.3~rc1", "4.17.3", -1)]
    [InlineData("10.0.20348.2582", "10.0.20348.2582", 0)]
    [InlineData("10.0.20348.999", "10.0.20348.2582", -1)]
    [InlineData("8.2.0-11.el9_4.6", "8.2.0-11.el9_4.10", -1)]
    [InlineData("2.11+dfsg-1ubuntu7.41", "2.11+dfsg-1ubuntu7.5", 1)]
    public void VersionComparer_OrdersLikeDpkg(string a, string b, int expected)
    {
        Assert.Equal(expected, Math.Sign(VersionComparer.Instance.Compare(a, b)));
        Assert.Equal(-expected, Math.Sign(VersionComparer.Instance.Compare(b, a)));
    }

    private static System.Collections.Immutable.ImmutableSortedDictionary<string, string> NoPackages =>
        System.Collections.Immutable.ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.OrdinalIgnoreCase);
}
