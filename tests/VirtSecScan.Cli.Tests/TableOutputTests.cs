using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary>The table report, --severity (table only) and --output DIR with several formats.</summary>
public sealed class TableOutputTests(DemoHospitalScan scan) : IClassFixture<DemoHospitalScan>
{
    [Fact]
    public void TableScanExitsWithZero()
    {
        Assert.True(scan.Table.ExitCode == 0, scan.Table.Stderr);
    }

    [Fact]
    public void TableNamesTheTool()
    {
        Assert.Contains("VirtSecScan", scan.Table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void TableShowsTheRankOneFindingFirst()
    {
        using var doc = scan.Json.Json();
        var top = doc.RootElement.GetProperty("findings")[0];
        var title = top.GetProperty("title").GetString()!;

        var rows = TableText.FindingRows(scan.Table.Stdout);

        Assert.NotEmpty(rows);
        Assert.Equal("1", rows[0][0]);
        Assert.StartsWith(title, rows[0][5], StringComparison.Ordinal);
    }

    [Fact]
    public void TableHasOneRowPerFinding()
    {
        using var doc = scan.Json.Json();

        var rows = TableText.FindingRows(scan.Table.Stdout);

        Assert.Equal(doc.RootElement.GetProperty("findings").GetArrayLength(), rows.Count);
    }

    [Fact]
    public void VncPasswordValueNeverAppearsInTable()
    {
        Assert.Contains("VNC", scan.Table.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("demo-not-a-secret", scan.Table.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("demo-not-a-secret", scan.Table.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SeverityHighHidesMediumFindingsFromTheTable()
    {
        var result = Cli.Run("scan", RepoPaths.DemoHospital, "--severity", "high", "--no-progress");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var rows = TableText.FindingRows(result.Stdout);
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Contains(r[2], new[] { "high", "critical" }));
        using var doc = scan.Json.Json();
        var highOrAbove = doc.RootElement.GetProperty("findings").EnumerateArray()
            .Count(f => f.GetProperty("severity").GetString() is "high" or "critical");
        Assert.Equal(highOrAbove, rows.Count);
        Assert.Contains("hidden", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SeverityHighKeepsMediumFindingsInJson()
    {
        var result = Cli.ScanJson(RepoPaths.DemoHospital, "--severity", "high");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = result.Json();
        var severities = doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("severity").GetString()).ToList();
        Assert.Contains("medium", severities);
        Assert.Equal(scan.Json.Json().RootElement.GetProperty("findings").GetArrayLength(), severities.Count);
    }

    [Fact]
    public void OutputDirWithJsonAndTableWritesFindingsJsonAndFindingsTxt()
    {
        using var dir = new TempDir();
        var output = Path.Combine(dir.Path, "report");

        var result = Cli.Run("scan", RepoPaths.DemoHospital, "--output", output, "--format", "json", "table", "--no-progress");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var json = Path.Combine(output, "findings.json");
        var txt = Path.Combine(output, "findings.txt");
        Assert.True(File.Exists(json), "findings.json missing");
        Assert.True(File.Exists(txt), "findings.txt missing");
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("1", doc.RootElement.GetProperty("schemaVersion").GetString());
        Assert.Contains("VirtSecScan", File.ReadAllText(txt), StringComparison.Ordinal);
        Assert.DoesNotContain("\"schemaVersion\"", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralFormatsWithoutOutputIsAUsageError()
    {
        var result = Cli.Run("scan", RepoPaths.DemoHospital, "--format", "json", "table", "--no-progress");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--output", result.Stderr, StringComparison.Ordinal);
    }
}
