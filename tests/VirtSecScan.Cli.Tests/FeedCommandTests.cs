using VirtSecScan.Testing;

namespace VirtSecScan.Cli.Tests;

/// <summary><c>feed import</c>, <c>feed status</c>, <c>rules validate</c> self-tests and <c>scan --epss</c>, on copies of the test feed.</summary>
public sealed class FeedCommandTests
{
    private static readonly string Minimal = RepoPaths.Fixture("feeds", "minimal", "advisories");
    private static readonly string Imports = RepoPaths.Fixture("feeds", "import");

    /// <summary>A rules folder (no rulesets) whose advisories/ is a copy of the test feed, minus the files named.</summary>
    private static string RulesWithFeed(TempDir dir, params string[] leaveOut)
    {
        foreach (var f in Directory.EnumerateFiles(Minimal, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(Minimal, f);
            if (!leaveOut.Contains(rel.Replace('\\', '/')))
            {
                dir.Copy(f, Path.Combine("rules", "advisories", rel));
            }
        }

        return Path.Combine(dir.Path, "rules");
    }

    [Fact]
    public void ImportKev_WritesTheCatalogIntoTheFeed()
    {
        using var dir = new TempDir();
        var rules = RulesWithFeed(dir, "kev.json");
        var result = Cli.RunWithRules(rules, "feed", "import", "--kev", Path.Combine(Minimal, "kev.json"));
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("CISA KEV catalog 2025.08.25 (2 CVEs)", result.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(rules, "advisories", "kev.json")));
        Assert.Contains("7 passed", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ImportKevOfTheWrongSchema_IsRefusedWithFileLineAndPath_AndChangesNothing()
    {
        using var dir = new TempDir();
        var rules = RulesWithFeed(dir, "kev.json");
        var bad = Path.Combine(Imports, "kev-wrong-schema.json");
        var result = Cli.RunWithRules(rules, "feed", "import", "--kev", bad);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{bad}:17: $.vulnerabilities[1].cveID", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(rules, "advisories", "kev.json")));
    }

    [Fact]
    public void ImportCsafAndVmsaPage_ConvertToFeedYaml()
    {
        using var dir = new TempDir();
        var rules = RulesWithFeed(dir);

        // The CSAF advisory adds a missing advisory to hosts the self-tests pin down: refused there ...
        var csaf = Path.Combine(Imports, "csaf-esxi-per-line.json");
        var refused = Cli.RunWithRules(rules, "feed", "import", csaf);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("self-tests", refused.Stderr, StringComparison.Ordinal);

        // ... and imported into a feed without self-tests.
        using var other = new TempDir();
        var noTests = RulesWithFeed(other, "tests.yaml");
        var imported = Cli.RunWithRules(noTests, "feed", "import", csaf);
        Assert.True(imported.ExitCode == 0, imported.Stderr);
        Assert.True(File.Exists(Path.Combine(noTests, "advisories", "imported", "TEST-2024-0006.yaml")));
        Assert.Contains("Workstation", imported.Stderr, StringComparison.Ordinal);

        var result = Cli.RunWithRules(rules, "feed", "import", Path.Combine(Imports, "vmsa-page-saved.html"));
        Assert.True(result.ExitCode == 0, result.Stderr);

        // The VMSA page replaces the feed's own VMSA-2024-0006 file (revision 2 over revision 1).
        Assert.Contains("VMSA-2024-0006 revision 2", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Imported by 'virtsecscan feed import'", File.ReadAllText(Path.Combine(rules, "advisories", "vmware", "VMSA-2024-0006.yaml")), StringComparison.Ordinal);
        Assert.Equal(0, Cli.RunWithRules(rules, "rules", "validate").ExitCode);
    }

    [Fact]
    public void ImportThatBreaksASelfTest_IsRefused()
    {
        using var dir = new TempDir();
        var rules = RulesWithFeed(dir);

        // An advisory that makes every 8.0 U1 host vulnerable breaks the "8.0 U1d is patched" self-test.
        var advisory = dir.Write("TEST-BREAK.yaml", "id: TEST-BREAK\npublished: 2024-05-01\ntitle: t\nsource: https://example.invalid\ncves:\n  - id: CVE-2024-11111\n    cvss: 5.0\nfixes:\n  - product: esxi\n    line: \"8.0U1\"\n    fixedBuild: 99999999\n");
        var result = Cli.RunWithRules(rules, "feed", "import", advisory);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("self-tests", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("tests.yaml:", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(rules, "advisories", "imported", "TEST-BREAK.yaml")));
    }

    [Fact]
    public void RulesValidate_RunsTheFeedSelfTests()
    {
        using var dir = new TempDir();
        var rules = RulesWithFeed(dir);
        var ok = Cli.RunWithRules(rules, "rules", "validate");
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains("7 feed self-tests passed", ok.Stdout, StringComparison.Ordinal);

        File.AppendAllText(Path.Combine(rules, "advisories", "tests.yaml"), "  - name: wrong on purpose\n    product: esxi\n    version: 8.0.3\n    build: 24022510\n    missing: [VMSA-2024-0006]\n");
        var bad = Cli.RunWithRules(rules, "rules", "validate");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("wrong on purpose", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_ShowsAgeCountsAndKevDate()
    {
        using var dir = new TempDir();
        var rules = RulesWithFeed(dir);
        var result = Cli.RunWithRules(rules, "feed", "status");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("Advisories:    5", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("catalog 2025.08.25, released 2025-08-25", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("STALE", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Self-tests:    7 (all pass)", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ScanWithEpss_RecordsThePercentileAndTheKevDate()
    {
        using var dir = new TempDir();
        var rules = RulesWithFeed(dir, "epss.csv");
        var host = dir.Write("in/esxi-77/vmware-v.txt", "VMware ESXi 8.0.2 build-22380479\n");
        var epss = dir.Write("epss.csv", "#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\ncve,epss,percentile\nCVE-2024-22252,0.00432,0.61511\n");
        var result = Cli.RunWithRules(rules, "scan", Path.GetDirectoryName(Path.GetDirectoryName(host))!, "--format", "json", "--no-progress", "--epss", epss);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = result.Json();
        var feed = doc.RootElement.GetProperty("scan").GetProperty("advisoryFeed");
        Assert.Equal("2025-08-25", feed.GetProperty("kevDateReleased").GetString());
        Assert.Equal("2025-08-25", feed.GetProperty("epssScoreDate").GetString());
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
        var vmsa = findings.Single(f => f.GetProperty("title").GetString()!.Contains("VMSA-2024-0006", StringComparison.Ordinal));
        Assert.Equal(0.61511, vmsa.GetProperty("epssPercentile").GetDouble());
        Assert.Contains(findings, f => f.GetProperty("ruleId").GetString() == "feed.stale");
    }
}
