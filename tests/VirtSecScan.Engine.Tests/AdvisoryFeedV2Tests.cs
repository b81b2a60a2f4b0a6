using System.Collections.Immutable;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Testing;

namespace VirtSecScan.Engine.Tests;

/// <summary>
/// The feed beyond ESXi builds: version rows, the KEV catalog, EPSS, self-tests, importers, and the findings they
/// drive, on the small test feed fixtures/feeds/minimal (not the shipped feed, which changes with the data).
/// </summary>
public sealed class AdvisoryFeedV2Tests
{
    private static readonly DateOnly ScanDate = new(2026, 11, 27);
    private static readonly string MinimalDir = RepoPaths.Fixture("feeds", "minimal", "advisories");
    private static readonly string ImportDir = RepoPaths.Fixture("feeds", "import");

    private static readonly Lazy<AdvisoryFeed> Minimal = new(() =>
    {
        var (feed, errors) = AdvisoryFeedLoader.LoadDirectory(MinimalDir, p => Path.GetRelativePath(MinimalDir, p));
        Assert.Empty(errors);
        return feed;
    });

    private static readonly Lazy<RuleEngine> Engine = new(() => new RuleEngine([], "default"));

    private static HypervisorBuild Esxi(string name, string version, long build) =>
        BuildPlacement.Place(Collectors.Versions.VersionFacts.Vmware("esxi", new ResourceRef("host", "host:" + name, name, Source: $"hosts/{name}.txt", Line: 1), version, build, null, null, null, null), Minimal.Value);

    [Fact]
    public void MinimalFeed_LoadsVersionRowsKevEpssAndTests()
    {
        var feed = Minimal.Value;
        var pve = Assert.Single(feed.Advisories, a => a.Id == "TEST-PVE-0001");
        var row = Assert.Single(pve.Fixes);
        Assert.Equal(("proxmox-ve", "8", "8.1.5-5", "pve-qemu-kvm"), (row.Product, row.Line, row.FixedVersion, row.Package));
        Assert.Equal("2025.08.25", feed.Kev!.CatalogVersion);
        var cve = feed.Advisories.Single(a => a.Id == "VMSA-2024-0013").Cves.Single();
        Assert.True(cve.Kev!.RansomwareKnown);
        Assert.Equal(new DateOnly(2024, 8, 20), cve.Kev.DueDate);
        Assert.Equal(0.98612, feed.Epss!.Find("CVE-2024-37085")!.Percentile);
        Assert.Equal(7, feed.Tests.Length);
    }

    [Fact]
    public void MinimalFeed_PassesItsSelfTests()
    {
        Assert.Empty(FeedSelfTest.Run(Minimal.Value));
    }

    [Fact]
    public void SelfTest_AWrongExpectation_FailsNamingFileAndLine()
    {
        var tests = FeedSelfTest.Parse("tests:\n  - name: naive scanner\n    product: esxi\n    version: 8.0.1\n    build: 23299997\n    missing: [VMSA-2024-0006, VMSA-2024-0013]\n", "advisories/tests.yaml");
        var failures = FeedSelfTest.Run(Minimal.Value with { Tests = tests });
        var d = Assert.Single(failures);
        Assert.Equal(("advisories/tests.yaml", 2), (d.File, d.Line));
        Assert.Contains("VMSA-2024-0006", d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fixes:\n  - product: esxi\n    line: \"8.0U2\"\n    fixedVersion: 8.0.2\n    fixedBuild: 1\n", "not both")]
    [InlineData("fixes:\n  - product: proxmox-ve\n    line: \"8\"\n    package: pve-qemu-kvm\n", "fixedBuild or fixedVersion")]
    [InlineData("fixes:\n  - product: Proxmox-VE\n    line: \"8\"\n    fixedVersion: 8.1.5\n", "lower case")]
    public void AdvisoryWithABadFixRow_IsAnErrorNamingTheLine(string fixes, string message)
    {
        var text = "id: T-1\npublished: 2024-01-01\ntitle: t\nsource: https://example.invalid\ncves:\n  - id: CVE-2024-00001\n" + fixes;
        var ex = Assert.Throws<DataFileException>(() => AdvisoryFeedLoader.ValidateFile(text, "advisories/T-1.yaml"));
        Assert.Equal(8, ex.Line);
        Assert.Contains(message, ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AdvisoryMissingAField_IsAnErrorNamingFileAndLine()
    {
        var ex = Assert.Throws<DataFileException>(() => AdvisoryFeedLoader.ValidateFile("id: T-2\ntitle: t\nsource: s\ncves: []\nfixes: []\n", "advisories/T-2.yaml"));
        Assert.Equal("advisories/T-2.yaml", ex.File);
        Assert.NotNull(ex.Line);
        Assert.Contains("published", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void KevOfTheWrongSchema_NamesFileLineAndPath()
    {
        var path = Path.Combine(ImportDir, "kev-wrong-schema.json");
        var ex = Assert.Throws<DataFileException>(() => KevReader.Parse(File.ReadAllText(path), "kev-wrong-schema.json"));
        Assert.Equal(17, ex.Line);
        Assert.Contains("$.vulnerabilities[1].cveID", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "top level")]
    [InlineData("{\"title\": \"x\"}", "catalogVersion")]
    [InlineData("{\"catalogVersion\": \"1\", \"dateReleased\": \"2025-01-01\", \"vulnerabilities\": {}}", "vulnerabilities")]
    [InlineData("{ \"catalogVersion\": ", "not valid JSON")]
    public void NotAKevCatalog_IsRefused(string text, string message)
    {
        var ex = Assert.Throws<DataFileException>(() => KevReader.Parse(text, "kev.json"));
        Assert.Contains(message, ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Epss_BadRow_NamesTheLine()
    {
        var ex = Assert.Throws<DataFileException>(() => EpssReader.Parse("#model_version:v1,score_date:2025-01-01T00:00:00Z\ncve,epss,percentile\nCVE-2024-1,0.5,0.9\nCVE-2024-2,high,0.1\n", "epss.csv"));
        Assert.Equal(4, ex.Line);
        var ok = EpssReader.Parse("cve,epss,percentile\nCVE-2024-1,0.5,0.9\n", "epss.csv");
        Assert.Equal(0.9, ok.Find("CVE-2024-1")!.Percentile);
    }

    // ---- findings through the rule engine ----

    private static ImmutableArray<Finding> Evaluate(params object[] facts) => Engine.Value.Evaluate(facts, Minimal.Value, ScanDate);

    [Fact]
    public void OneFindingPerMissingAdvisory_WithAdvisoryAndCveReferencesAndTheTarget()
    {
        var outcomes = Evaluate(Esxi("esxi-a", "8.0.2", 22380479));
        var missing = outcomes.Where(o => o.RuleId == PatchFindings.AdvisoryMissing && o.Status == FindingStatus.Fail).ToList();
        Assert.Equal(["VMSA-2024-0006", "VMSA-2024-0013"], missing.Select(m => m.Discriminator).Order());
        var f = missing.Single(m => m.Discriminator == "VMSA-2024-0006");
        Assert.Contains(f.References, r => r.Id == "VMSA-2024-0006");
        Assert.Contains(f.References, r => r.Id == "CVE-2024-22252");
        Assert.Contains("ESXi80U2sb-23305545", f.Remediation!.Summary, StringComparison.Ordinal);
        Assert.NotNull(f.DaysSinceFix);

        var kev = missing.Single(m => m.Discriminator == "VMSA-2024-0013");
        Assert.True(kev.Exploitation!.RansomwareUse);
    }

    [Fact]
    public void BuildNotInTheBuildMap_IsAFindingOfItsOwn()
    {
        var outcomes = Evaluate(Esxi("esxi-b", "8.0.3", 24999999));
        var f = Assert.Single(outcomes, o => o.RuleId == PatchFindings.BuildIndeterminate);
        Assert.Equal((Severity.Medium, FindingStatus.Fail), (f.Severity, f.Status));
        Assert.Contains("verify", f.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void UnplacedHost_GetsOnlyTheIndeterminateFinding()
    {
        var host = Collectors.Versions.VersionFacts.Unplaced("esxi", new ResourceRef("host", "host:esxi-c", "esxi-c"), "", "no build");
        var outcomes = Evaluate(host);
        Assert.Single(outcomes, o => o.RuleId == PatchFindings.BuildIndeterminate);
        Assert.DoesNotContain(outcomes, o => o.RuleId == PatchFindings.AdvisoryMissing);
        Assert.DoesNotContain(outcomes, o => o.RuleId == PatchFindings.EndOfSupport);
    }

    [Fact]
    public void Esxi67WithAMapBuild_IsPlacedOnItsUpdateLine()
    {
        var host = Esxi("esxi-d", "6.7.0", 17700523);
        Assert.Equal(("6.7U3", true, false), (host.UpdateLine, host.LineCertain, host.NotInBuildMap));
        var outcomes = Evaluate(host);
        Assert.DoesNotContain(outcomes, o => o.RuleId == PatchFindings.BuildIndeterminate);
        Assert.Equal(FindingStatus.Fail, outcomes.Single(o => o.RuleId == PatchFindings.EndOfSupport).Status);
    }

    [Fact]
    public void HyperVHost_GetsAHyperVAdvisoryFinding()
    {
        var host = new HypervisorBuild(new ResourceRef("host", "hyper-v:hv-01", "HV-01"), "hyper-v", "10.0.20348.2527", 2527, "20348", "20348", null, null);
        var f = Assert.Single(Evaluate(host), o => o.RuleId == "hyper-v.patch.advisory-missing");
        Assert.Equal(FindingStatus.Fail, f.Status);
        Assert.Contains("10.0.20348.2582", f.Remediation!.Summary, StringComparison.Ordinal);
        Assert.True(f.Exploitation!.KnownExploited);
    }

    [Fact]
    public void StaleFeed_IsAFinding()
    {
        var outcomes = Evaluate(Esxi("esxi-e", "8.0.3", 24022510));
        var f = Assert.Single(outcomes, o => o.RuleId == PatchFindings.FeedStale);
        Assert.Equal(FindingStatus.Fail, f.Status);
        Assert.Contains(f.Evidence, e => e.Key == "kevCatalog" && e.Actual == "2025-08-25");
        var fresh = PatchFindings.ForStaleFeed(ScanDate.AddDays(-3), null, ScanDate, "default");
        Assert.Equal(FindingStatus.Pass, fresh.Status);
    }

    // ---- importers ----

    [Fact]
    public void Csaf_ImportsPerLineFixesNoFixRowsAndRevision()
    {
        var path = Path.Combine(ImportDir, "csaf-esxi-per-line.json");
        var (a, warnings) = CsafImporter.Import(File.ReadAllText(path), path, Minimal.Value);
        Assert.Equal(("TEST-2024-0006", 2), (a.Id, a.Revision));
        Assert.Equal([("7.0", (long?)null, true), ("8.0U1", 23299997, false), ("8.0U2", 23305545, false)],
            a.Fixes.Select(f => (f.Line, f.FixedBuild, f.NoFix)).OrderBy(x => x.Line, StringComparer.Ordinal));
        Assert.Equal(9.3, a.Cves.Single().Cvss);
        Assert.Contains(warnings, w => w.Contains("Workstation", StringComparison.Ordinal));
        Assert.Single(a.Workarounds);

        // The YAML written for the feed reads back to the same fixes.
        var yaml = AdvisoryYaml.Write(a, "CSAF test");
        var y = new YamlReader("imported.yaml");
        var back = AdvisoryFeedLoader.ParseAdvisory(y, y.LoadDocument(yaml));
        Assert.Equal(a.Fixes.Select(f => (f.Line, f.FixedBuild, f.NoFix)), back.Fixes.Select(f => (f.Line, f.FixedBuild, f.NoFix)));
    }

    [Fact]
    public void Csaf_WithoutTracking_IsRefusedWithAPath()
    {
        var ex = Assert.Throws<DataFileException>(() => CsafImporter.Import("{\"document\": {\"csaf_version\": \"2.0\"}}", "x.json", Minimal.Value));
        Assert.Contains("$.document.tracking", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void VmsaPage_ImportsTheResponseMatrix()
    {
        var path = Path.Combine(ImportDir, "vmsa-page-saved.html");
        var (a, warnings) = VmsaHtmlImporter.Import(File.ReadAllText(path), path, Minimal.Value);
        Assert.Equal(("VMSA-2024-0006", 2, new DateOnly(2024, 3, 5), (DateOnly?)new DateOnly(2024, 3, 7)), (a.Id, a.Revision, a.Published, a.Updated));
        Assert.Equal(["7.0U3:23307199", "8.0U1:23299997", "8.0U2:23305545"], a.Fixes.Select(f => $"{f.Line}:{f.FixedBuild}").Order(StringComparer.Ordinal));
        Assert.Equal(["CVE-2024-22252", "CVE-2024-22253"], a.Cves.Select(c => c.Id));
        Assert.All(a.Cves, c => Assert.Equal(8.4, c.Cvss));
        Assert.Contains(warnings, w => w.Contains("Workstation", StringComparison.Ordinal));
        Assert.StartsWith("https://support.broadcom.com/", a.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void VmsaPage_FixedVersionWithoutABuild_IsAnErrorNamingTheLine()
    {
        var html = "<html><body><p>VMSA-2024-0019 Issue Date: 2024-09-17</p>\n<table>\n<tr><th>Product</th><th>Version</th><th>CVE</th><th>Fixed Version</th></tr>\n<tr><td>vCenter Server</td><td>8.0</td><td>CVE-2024-38812</td><td>8.0 U3q</td></tr>\n</table></body></html>";
        var ex = Assert.Throws<DataFileException>(() => VmsaHtmlImporter.Import(html, "page.html", Minimal.Value));
        Assert.Equal(4, ex.Line);
        Assert.Contains("build map", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("esxi", "ESXi80U3sq-99999999", "8.0U3", 99999999L)]
    [InlineData("esxi", "ESXi_7.0.1-0.0.16850804", "7.0U1", 16850804L)]
    [InlineData("esxi", "ESXi 8.0 Update 2b (security only)", "8.0U2", 23305545L)]
    [InlineData("vcenter", "8.0 U3d build 24322831", "8.0U3", 24322831L)]
    [InlineData("hyper-v", "10.0.20348.2582", "20348", 2582L)]
    public void FixSpec_ResolvesTheVendorForms(string product, string text, string line, long build)
    {
        var spec = FixSpec.Resolve(product, text, Minimal.Value, out var problem);
        Assert.Null(problem);
        Assert.Equal((line, (long?)build), (spec!.Value.Line, spec.Value.Build));
    }

    [Fact]
    public void ImportThroughAStagedCopy_DoesNotTouchTheFeedOnFailure()
    {
        using var dir = new TempDir();
        foreach (var f in Directory.EnumerateFiles(MinimalDir, "*", SearchOption.AllDirectories))
        {
            dir.Copy(f, Path.GetRelativePath(MinimalDir, f));
        }

        var (feed, errors) = AdvisoryFeedLoader.LoadDirectory(dir.Path, p => p);
        Assert.Empty(errors);
        Assert.Empty(FeedSelfTest.Run(feed));
    }
}
