using VirtSecScan.Core.Findings;

namespace VirtSecScan.Core.Tests;

public sealed class FindingTests
{
    [Fact]
    public void Fingerprint_SameIdentity_IsTheSameAcrossInstances()
    {
        var a = TestFindings.Make();
        var b = TestFindings.Make();

        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.Matches("^[0-9a-f]{32}$", a.Fingerprint);
    }

    [Fact]
    public void Fingerprint_IsPinnedForAKnownIdentity()
    {
        // Pinned so that a change of the fingerprint recipe (which breaks baselines) is noticed.
        var fingerprint = Finding.FingerprintOf("VSS-VM-001", "vm", "vm:42217e0bc4195a33d8026f914ae5b72c", "");

        Assert.Equal(PinnedFingerprint, fingerprint);
        Assert.Equal(PinnedFingerprint, TestFindings.Make().Fingerprint);
    }

    private const string PinnedFingerprint = "ff5fe3a2380191adbc196997e554efbe";

    [Fact]
    public void Fingerprint_IgnoresSourcePathAndLine()
    {
        var a = TestFindings.Make(source: "vms/his-db-01.vmx", line: 12);
        var b = TestFindings.Make(source: @"D:\exports\2025-01\his-db-01.vmx", line: 40);
        var c = TestFindings.Make(source: null, line: null);

        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.Equal(a.Fingerprint, c.Fingerprint);
    }

    [Fact]
    public void Fingerprint_IgnoresScoreRankAndTitle()
    {
        var a = TestFindings.Make();
        var b = a with { Score = 75, Rank = 3, Title = "another title", Reason = "x" };

        Assert.Equal(a.Fingerprint, b.Fingerprint);
    }

    [Fact]
    public void Fingerprint_IsCaseInsensitiveOnResourceId()
    {
        var lower = TestFindings.Make(resourceId: "vm:name:his-db-01");
        var upper = TestFindings.Make(resourceId: "VM:NAME:HIS-DB-01");

        Assert.Equal(lower.Fingerprint, upper.Fingerprint);
    }

    [Fact]
    public void Fingerprint_DiffersByDiscriminator()
    {
        var usb = TestFindings.Make(discriminator: "usb");
        var serial = TestFindings.Make(discriminator: "serial0");
        var none = TestFindings.Make(discriminator: "");

        Assert.NotEqual(usb.Fingerprint, serial.Fingerprint);
        Assert.NotEqual(usb.Fingerprint, none.Fingerprint);
    }

    [Fact]
    public void Fingerprint_DiffersByRuleAndResource()
    {
        var a = TestFindings.Make();

        Assert.NotEqual(a.Fingerprint, TestFindings.Make(ruleId: "VSS-VM-002").Fingerprint);
        Assert.NotEqual(a.Fingerprint, TestFindings.Make(resourceId: "vm:0000000000000000000000000000000a").Fingerprint);
    }
}
