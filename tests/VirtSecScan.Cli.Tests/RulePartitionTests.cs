using VirtSecScan.Engine.Scanning;
using VirtSecScan.Reporting;

namespace VirtSecScan.Cli.Tests;

/// <summary>
/// Per-fact rules run over partitions of the facts in parallel sessions (RuleEngine); joins and aggregates over
/// several facts run in one session. Whatever the number of partitions, the report must be the same, finding for
/// finding and in the same order: a join split across partitions would lose or change findings.
/// </summary>
public sealed class RulePartitionTests
{
    private static readonly DateTimeOffset Started = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(64)] // more partitions than facts of most kinds: a host and its VMs always land in different sessions
    public void ReportIsIdenticalForAnyNumberOfPartitions(int partitions)
    {
        using var dir = EstateWithDuplicates();

        var one = Scan(dir.Path, 1);
        var many = Scan(dir.Path, partitions);

        Assert.Equal(one, many);
    }

    [Fact]
    public void TheComparedReportHasJoinedAndTiedFindings()
    {
        // Guards the test above: the estate must exercise what partitioning could break.
        using var dir = EstateWithDuplicates();
        var report = Run(dir.Path, 64);

        // Joins of several facts: a host with the VMs placed on it (evaluated, not "no VM placed"), a redundancy group with
        // its members, hosts with the feed's advisories.
        Assert.True(report.RuleResults.TryGetValue("esxi.host.cpu-overcommit", out var cpu) && cpu.Pass + cpu.Fail > 0);
        Assert.True(report.RuleResults.TryGetValue("resilience.redundancy.same-host", out var redundancy) && redundancy.Pass + redundancy.Fail > 0);
        Assert.True(report.RuleResults.TryGetValue("esxi.patch.advisory-missing", out var patch) && patch.Fail > 0);

        // Two files describe pacs-01: its findings tie on every sort key, so their order comes from evaluation.
        var pacs = report.Findings.Concat(report.NotEvaluated).Where(f => f.Resource.Name == "pacs-01")
            .GroupBy(f => (f.RuleId, f.Discriminator)).Where(g => g.Count() == 2).ToList();
        Assert.NotEmpty(pacs);
        Assert.Contains(pacs, g => g.Select(f => f.Resource.Source).Distinct().Count() == 2);
    }

    private static string Scan(string path, int partitions) => JsonReportWriter.ToJson(Run(path, partitions));

    private static ScanReport Run(string path, int partitions) => new Scanner(new ScanOptions
    {
        Inputs = [path],
        RulesDirectory = RepoPaths.Rulesets,
        StartedAt = Started,
        RulePartitions = partitions,
    }).Run();

    /// <summary>The demo hospital plus a second copy of pacs-01 (same name, console copy allowed) in another folder.</summary>
    private static TempDir EstateWithDuplicates()
    {
        var dir = new TempDir();
        dir.CopyTree(RepoPaths.DemoHospital, ".");
        var copy = File.ReadAllText(Path.Combine(RepoPaths.DemoHospital, "vms", "pacs-01.vmx"));
        dir.Write("vms-restored/pacs-01.vmx", copy.Replace("isolation.tools.copy.disable", "isolation.tools.copy.disabled-by-restore", StringComparison.Ordinal)
                                               + "isolation.tools.copy.disable = \"FALSE\"\n");
        return dir;
    }
}
