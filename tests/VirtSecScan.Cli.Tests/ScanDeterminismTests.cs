using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary>The same inputs give the same report: byte-identical JSON apart from startedAt, stable fingerprints.</summary>
public sealed class ScanDeterminismTests
{
    [Fact]
    public void TwoRunsGiveByteIdenticalJsonApartFromStartedAt()
    {
        var first = Cli.ScanJson(RepoPaths.DemoHospital);
        var second = Cli.ScanJson(RepoPaths.DemoHospital);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(WithoutStartedAt(first.Stdout), WithoutStartedAt(second.Stdout));
    }

    [Fact]
    public void TwoRunsGiveTheSameFingerprintsInTheSameOrder()
    {
        var first = Fingerprints(Cli.ScanJson(RepoPaths.DemoHospital));
        var second = Fingerprints(Cli.ScanJson(RepoPaths.DemoHospital));

        Assert.NotEmpty(first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void FingerprintsAreUniqueWithinAScan()
    {
        var fingerprints = Fingerprints(Cli.ScanJson(RepoPaths.DemoHospital));

        Assert.Equal(fingerprints.Count, fingerprints.Distinct().Count());
    }

    [Fact]
    public void FingerprintsDoNotDependOnWhereTheFilesAre()
    {
        using var dir = new TempDir();
        dir.CopyTree(RepoPaths.DemoHospital, "elsewhere/demo");

        var original = Fingerprints(Cli.ScanJson(RepoPaths.DemoHospital));
        var moved = Fingerprints(Cli.ScanJson(Path.Combine(dir.Path, "elsewhere", "demo")));

        Assert.NotEmpty(original);
        Assert.Equal(original.Order(StringComparer.Ordinal), moved.Order(StringComparer.Ordinal));
    }

    private static string WithoutStartedAt(string json) =>
        string.Join("\n", json.Split('\n').Where(l => !l.Contains("\"startedAt\"", StringComparison.Ordinal)));

    private static List<string> Fingerprints(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout);
        return doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("fingerprint").GetString()!).ToList();
    }
}
