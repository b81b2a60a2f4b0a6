using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Tests;

/// <summary>The offline advisory feed: the shipped feed loads, and malformed fix rows are errors with a line.</summary>
public sealed class AdvisoryFeedLoaderTests
{
    private const string File = "rulesets/advisories/vmware/VMSA-TEST.yaml";

    private const string ValidAdvisory = """
        id: VMSA-2099-0001
        revision: 1
        published: 2099-01-01
        title: Test advisory
        severity: critical
        source: https://example.invalid/advisory
        cves:
          - id: CVE-2099-0001
            cvss: 9.8
            summary: Test vulnerability
        fixes:
          - product: esxi
            line: "8.0U3"
            fixedBuild: 30000000
            fixedName: ESXi80U3z-30000000
            cves: [CVE-2099-0001]
        """;

    [Fact]
    public void ShippedFeedLoadsWithoutErrors()
    {
        var (_, errors) = AdvisoryFeedLoader.LoadDirectory(RepoPaths.Advisories, p => p);

        Assert.Empty(errors);
    }

    [Fact]
    public void ShippedFeedHasAtLeastFiveAdvisories()
    {
        var (feed, _) = AdvisoryFeedLoader.LoadDirectory(RepoPaths.Advisories, p => p);

        Assert.True(feed.Advisories.Length >= 5, $"only {feed.Advisories.Length} advisories");
        Assert.All(feed.Advisories.Where(a => a.CoversProduct("esxi") || a.CoversProduct("vcenter")), a => Assert.StartsWith("VMSA-", a.Id, StringComparison.Ordinal));
        Assert.Contains(feed.Advisories, a => a.Id == "VMSA-2025-0004");
    }

    [Theory]
    [InlineData("6.7")]
    [InlineData("7.0")]
    [InlineData("8.0")]
    public void ShippedFeedHasTheLifecycleOfTheBranch(string branch)
    {
        var (feed, _) = AdvisoryFeedLoader.LoadDirectory(RepoPaths.Advisories, p => p);

        var lifecycle = Assert.Single(feed.Lifecycles, l => l.Product == "esxi" && l.Branch == branch);
        Assert.NotNull(lifecycle.EndOfGeneralSupport);
    }

    [Fact]
    public void ShippedFeedHasABuildMap()
    {
        var (feed, _) = AdvisoryFeedLoader.LoadDirectory(RepoPaths.Advisories, p => p);

        Assert.NotEmpty(feed.Builds);
        var build = feed.FindBuild("esxi", 23305546);
        Assert.NotNull(build);
        Assert.Equal("8.0U2", build.Line);
        Assert.Contains("8.0 Update 2b", build.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidAdvisoryParses()
    {
        var advisory = Parse(ValidAdvisory);

        Assert.Equal("VMSA-2099-0001", advisory.Id);
        var fix = Assert.Single(advisory.Fixes);
        Assert.Equal(30000000, fix.FixedBuild);
        Assert.False(fix.NoFix);
    }

    [Fact]
    public void FixRowWithNoFixStatusAndFixedBuildIsAnErrorAtTheRow()
    {
        var text = ValidAdvisory.Replace("    fixedBuild: 30000000", "    status: no-fix\n    fixedBuild: 30000000", StringComparison.Ordinal);

        var ex = Assert.Throws<DataFileException>(() => Parse(text));

        Assert.Equal(File, ex.File);
        Assert.Equal(TestVms.LineOf(text, "- product: esxi"), ex.Line);
        Assert.Contains("no-fix", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void FixNamingAnUnknownCveIsAnErrorAtTheRow()
    {
        var text = ValidAdvisory.Replace("cves: [CVE-2099-0001]", "cves: [CVE-2099-0001, CVE-2099-9999]", StringComparison.Ordinal);

        var ex = Assert.Throws<DataFileException>(() => Parse(text));

        Assert.Equal(File, ex.File);
        Assert.Equal(TestVms.LineOf(text, "- product: esxi"), ex.Line);
        Assert.Contains("CVE-2099-9999", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void FeedDirectoryReportsAnErrorWithFileAndLine()
    {
        using var dir = new TempDir();
        var text = ValidAdvisory.Replace("cves: [CVE-2099-0001]", "cves: [CVE-2099-9999]", StringComparison.Ordinal);
        dir.Write("vmware/VMSA-2099-0001.yaml", text);

        var (feed, errors) = AdvisoryFeedLoader.LoadDirectory(dir.Path, p => "advisories/" + Path.GetRelativePath(dir.Path, p).Replace('\\', '/'));

        var error = Assert.Single(errors);
        Assert.Equal("advisories/vmware/VMSA-2099-0001.yaml", error.File);
        Assert.Equal(TestVms.LineOf(text, "- product: esxi"), error.Line);
        Assert.Empty(feed.Advisories);
    }

    [Fact]
    public void RepeatedBranchInTheLifecycleFileIsAnErrorAtTheSecondRow()
    {
        using var dir = new TempDir();
        const string text = """
            product: esxi
            branches:
              - branch: "6.7"
                endOfGeneralSupport: 2022-10-15
              - branch: "6.7"
                endOfGeneralSupport: 2022-10-15
            """;
        dir.Write("vmware/esxi-lifecycle.yaml", text);

        var (_, errors) = AdvisoryFeedLoader.LoadDirectory(dir.Path, p => "advisories/" + Path.GetRelativePath(dir.Path, p).Replace('\\', '/'));

        var error = Assert.Single(errors);
        Assert.Equal("advisories/vmware/esxi-lifecycle.yaml", error.File);
        Assert.Equal(5, error.Line);
    }

    [Fact]
    public void WindowsOsBuildLineParsesForHyperV()
    {
        var text = ValidAdvisory
            .Replace("- product: esxi", "- product: hyper-v", StringComparison.Ordinal)
            .Replace("line: \"8.0U3\"", "line: \"10.0.20348\"", StringComparison.Ordinal)
            .Replace("fixedBuild: 30000000", "fixedBuild: 2582", StringComparison.Ordinal);

        var fix = Assert.Single(Parse(text).Fixes);

        Assert.Equal("hyper-v", fix.Product);
        Assert.Equal("10.0.20348", fix.Line);
        Assert.Equal(2582, fix.FixedBuild);
    }

    [Theory]
    [InlineData("10.0.20348U2")]
    [InlineData("10.0.20348.2582")]
    public void MalformedLineIsAnErrorAtTheRow(string line)
    {
        var text = ValidAdvisory.Replace("line: \"8.0U3\"", $"line: \"{line}\"", StringComparison.Ordinal);

        var ex = Assert.Throws<DataFileException>(() => Parse(text));

        Assert.Equal(TestVms.LineOf(text, "- product: esxi"), ex.Line);
        Assert.Contains(line, ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedFeedHasTheVcenterBuildMapAndLifecycle()
    {
        var (feed, _) = AdvisoryFeedLoader.LoadDirectory(RepoPaths.Advisories, p => p);

        var build = feed.FindBuild("vcenter", 23504390);
        Assert.NotNull(build);
        Assert.Equal("8.0U2", build.Line);
        Assert.Contains("8.0 Update 2c", build.Name, StringComparison.Ordinal);
        Assert.Contains("8.0.2.00300", build.Name, StringComparison.Ordinal);
        Assert.Single(feed.Lifecycles, l => l.Product == "vcenter" && l.Branch == "7.0" && l.EndOfGeneralSupport == new DateOnly(2025, 10, 2));
        Assert.Null(feed.FindBuild("esxi", 23504390));
    }

    private static Core.Advisories.Advisory Parse(string text)
    {
        var y = new YamlReader(File);
        return AdvisoryFeedLoader.ParseAdvisory(y, y.LoadDocument(text));
    }
}

/// <summary>The shipped feed carries self-tests (rulesets/advisories/tests.yaml) and passes every one.</summary>
public sealed class ShippedFeedSelfTests
{
    [Fact]
    public void ShippedFeedHasSelfTestsAndPassesThem()
    {
        var (feed, errors) = Feed.AdvisoryFeedLoader.LoadDirectory(RepoPaths.Advisories, p => p);
        Assert.Empty(errors);
        Assert.True(feed.Tests.Length >= 9, $"the shipped feed has {feed.Tests.Length} self-tests");
        Assert.Empty(Feed.FeedSelfTest.Run(feed));
    }
}
