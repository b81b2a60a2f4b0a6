using System.Text.Json;
using System.Text.RegularExpressions;

namespace VirtSecScan.Cli.Tests;

/// <summary>End to end: <c>scan fixtures/demo-hospital --format json</c> gives the report of the contract.</summary>
public sealed class ScanJsonReportTests(DemoHospitalScan scan) : IClassFixture<DemoHospitalScan>
{
    private static readonly string[] Severities = ["info", "low", "medium", "high", "critical"];

    [Fact]
    public void ScanExitsWithZero()
    {
        Assert.True(scan.Json.ExitCode == 0, scan.Json.Stderr);
    }

    [Fact]
    public void ReportIsJsonWithSchemaVersionOne()
    {
        using var doc = scan.Json.Json();

        Assert.Equal("1", doc.RootElement.GetProperty("schemaVersion").GetString());
        Assert.Equal("VirtSecScan", doc.RootElement.GetProperty("tool").GetProperty("name").GetString());
    }

    [Fact]
    public void FindingsAreRankedOneToNByNonIncreasingScore()
    {
        using var doc = scan.Json.Json();
        var findings = Findings(doc);

        Assert.NotEmpty(findings);
        Assert.Equal(Enumerable.Range(1, findings.Count), findings.Select(f => f.GetProperty("rank").GetInt32()));
        var scores = findings.Select(f => f.GetProperty("score").GetDouble()).ToList();
        for (var i = 1; i < scores.Count; i++)
        {
            Assert.True(scores[i] <= scores[i - 1], $"rank {i + 1} scores {scores[i]}, above rank {i} ({scores[i - 1]})");
        }
    }

    [Fact]
    public void EveryFindingHasTheFieldsOfTheContract()
    {
        using var doc = scan.Json.Json();

        Assert.All(Findings(doc), f =>
        {
            var what = f.GetProperty("title").GetString();
            Assert.Matches("^[0-9a-f]{32}$", f.GetProperty("fingerprint").GetString());
            Assert.Matches("^VT(0[1-9]|10)$", f.GetProperty("category").GetString());
            Assert.Contains(f.GetProperty("severity").GetString(), Severities);
            Assert.Contains(f.GetProperty("status").GetString(), new[] { "fail", "error" });
            Assert.False(string.IsNullOrEmpty(f.GetProperty("ruleId").GetString()), what);

            var resource = f.GetProperty("resource");
            Assert.Contains(resource.GetProperty("type").GetString(), new[] { "vm", "host", "feed", "zone", "firewall", "flow" }); // flow: a conversation in a traffic sample
            Assert.False(string.IsNullOrEmpty(resource.GetProperty("id").GetString()), what);
            Assert.False(string.IsNullOrEmpty(resource.GetProperty("name").GetString()), what);

            var evidence = f.GetProperty("evidence");
            Assert.True(evidence.GetArrayLength() > 0, $"{what}: no evidence");
            Assert.All(evidence.EnumerateArray(), e => Assert.False(string.IsNullOrEmpty(e.GetProperty("key").GetString())));

            var remediation = f.GetProperty("remediation");
            Assert.False(string.IsNullOrEmpty(remediation.GetProperty("summary").GetString()), what);
            Assert.True(remediation.GetProperty("steps").GetArrayLength() > 0, $"{what}: no remediation steps");

            Assert.Equal(JsonValueKind.Array, f.GetProperty("references").ValueKind);
        });
    }

    [Fact]
    public void AdvisoryFindingsReferenceTheirAdvisoryAndCves()
    {
        using var doc = scan.Json.Json();
        var advisories = Findings(doc).Where(f => f.GetProperty("ruleId").GetString() == "esxi.patch.advisory-missing").ToList();

        Assert.NotEmpty(advisories);
        Assert.All(advisories, f =>
        {
            var ids = f.GetProperty("references").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
            Assert.Contains(ids, id => Regex.IsMatch(id!, @"^VMSA-\d{4}-\d{4}$"));
            Assert.Contains(ids, id => Regex.IsMatch(id!, @"^CVE-\d{4}-\d+$"));
        });
    }

    [Fact]
    public void FindingsCoverAtLeastFiveCategories()
    {
        using var doc = scan.Json.Json();

        var categories = Findings(doc).Select(f => f.GetProperty("category").GetString()).Distinct().ToList();

        Assert.True(categories.Count >= 5, "categories: " + string.Join(", ", categories));
    }

    [Fact]
    public void CollectedListsTheVmxAndEveryEsxiVersionFormat()
    {
        using var doc = scan.Json.Json();

        var formats = doc.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray()
            .Select(c => c.GetProperty("format").GetString()).ToHashSet();

        Assert.Superset(new HashSet<string?> { "vmware-vmx", "vmware-vl", "esxcli-system-version", "vmware-v" }, formats);
    }

    [Fact]
    public void EveryVmFileIsCollected()
    {
        using var doc = scan.Json.Json();
        var collected = doc.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray()
            .Where(c => c.GetProperty("format").GetString() == "vmware-vmx")
            .Select(c => Path.GetFileName(c.GetProperty("file").GetString()))
            .ToHashSet();

        var vmx = Directory.GetFiles(Path.Combine(RepoPaths.DemoHospital, "vms"), "*.vmx").Select(Path.GetFileName).ToHashSet();

        Assert.Equal(vmx, collected);
    }

    [Fact]
    public void NotesTxtIsSkippedAsUnknownFormat()
    {
        using var doc = scan.Json.Json();

        var skipped = doc.RootElement.GetProperty("scan").GetProperty("skipped").EnumerateArray().ToList();

        var notes = Assert.Single(skipped, s => s.GetProperty("file").GetString()!.EndsWith("/notes.txt", StringComparison.Ordinal));
        Assert.Equal("unknown format", notes.GetProperty("reason").GetString());
    }

    [Fact]
    public void VncPasswordValueNeverAppearsInJson()
    {
        Assert.Contains("\"vmware.vm.vnc-console-enabled\"", scan.Json.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("demo-not-a-secret", scan.Json.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("demo-not-a-secret", scan.Json.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SummaryCountsMatchTheFindings()
    {
        using var doc = scan.Json.Json();
        var findings = Findings(doc);
        var summary = doc.RootElement.GetProperty("summary");

        foreach (var severity in Severities)
        {
            Assert.Equal(findings.Count(f => f.GetProperty("severity").GetString() == severity), summary.GetProperty(severity).GetInt32());
        }

        Assert.Equal(findings.Count, summary.GetProperty("byCategory").EnumerateObject().Sum(p => p.Value.GetInt32()));
    }

    private static List<JsonElement> Findings(JsonDocument doc) =>
        doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
}
