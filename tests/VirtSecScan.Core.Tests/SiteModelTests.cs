using VirtSecScan.Core.Site;

namespace VirtSecScan.Core.Tests;

public sealed class SiteModelTests
{
    [Theory]
    [InlineData("vm", "his-db-01")]
    [InlineData("VM", "HIS-DB-01")]
    [InlineData("Vm", "His-Db-01")]
    public void Resolve_MatchesTypeAndNameCaseInsensitively(string type, string name)
    {
        var context = TestSite.Model.Resolve(type, name);

        Assert.Equal("his", context.ZoneId);
        Assert.Equal("his-database", context.Role);
        Assert.Equal("esxi-01", context.Host);
        Assert.Same(TestSite.His, context.Zone);
    }

    [Fact]
    public void Resolve_SystemWithoutOverrides_TakesCriticalityAndPhiFromItsZone()
    {
        var context = TestSite.Model.Resolve("vm", "his-db-01");

        Assert.Equal(Criticality.High, context.Criticality);
        Assert.True(context.Phi);
    }

    [Fact]
    public void Resolve_SystemCriticality_OverridesItsZone()
    {
        Assert.Equal(Criticality.Low, TestSite.Model.Resolve("vm", "vdi-nurse-01").Criticality);
    }

    [Fact]
    public void Resolve_UnknownSystem_IsInZoneUnknownWithMediumCriticality()
    {
        var context = TestSite.Model.Resolve("vm", "not-in-the-site-file");

        Assert.Equal("unknown", context.ZoneId);
        Assert.Equal(Criticality.Medium, context.Criticality);
        Assert.False(context.Phi);
        Assert.Null(context.Zone);
        Assert.Null(context.Role);
    }

    [Fact]
    public void Resolve_KnownNameWithOtherType_IsUnknown()
    {
        Assert.Equal("unknown", TestSite.Model.Resolve("host", "his-db-01").ZoneId);
    }
}
