using System.Collections.Immutable;
using Microsoft.Data.Sqlite;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.History.Tests;

/// <summary>The SQLite history: migrations, one-transaction saves, listing, loading and diffs.</summary>
public sealed class HistoryStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Db => Path.Combine(_dir.Path, "history.db");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void NewDatabaseIsMigratedToTheLatestSchemaAndReopensWithoutChange()
    {
        using (var store = new HistoryStore(Db))
        {
            Assert.Equal(1, store.SchemaVersion);
        }

        using var again = new HistoryStore(Db);
        Assert.Equal(1, again.SchemaVersion);
        Assert.Empty(again.List());
    }

    [Fact]
    public void DatabaseFromANewerVersionIsRefusedWithAClearMessage()
    {
        using (var store = new HistoryStore(Db))
        {
        }

        using (var raw = new SqliteConnection($"Data Source={Db};Pooling=False"))
        {
            raw.Open();
            using var cmd = raw.CreateCommand();
            cmd.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', '2030-01-01')";
            cmd.ExecuteNonQuery();
        }

        var ex = Assert.Throws<InvalidOperationException>(() => new HistoryStore(Db));
        Assert.Contains("schema version 99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SavedScanKeepsFindingsResourcesAndTheReportJson()
    {
        using var store = new HistoryStore(Db);
        var report = Reports.Of(["vm:a", "vm:b"], Reports.Fail("rule.x", "a"), Reports.Fail("rule.y", "b", Severity.Critical));

        var id = store.Save(report, "{\"schemaVersion\":\"1\"}", "0.1.0");

        var scan = store.Load(id)!;
        Assert.Equal(2, scan.Summary.Failed);
        Assert.Equal(2, scan.Summary.Resources);
        Assert.Equal(["rule.y", "rule.x"], scan.Findings.Select(f => f.RuleId));
        Assert.Contains("vm:b", scan.Resources);
        Assert.Equal("{\"schemaVersion\":\"1\"}", store.ReportJson(id));
    }

    [Fact]
    public void SaveThatFailsHalfWayLeavesNoPartialScan()
    {
        using var store = new HistoryStore(Db);
        var report = Reports.Of(["vm:a", "vm:b"], Reports.Fail("rule.x", "a"), Reports.Fail("rule.y", "b"));

        Assert.Throws<IOException>(() => store.Save(report, "{}", "0.1.0", row =>
        {
            if (row == 1)
            {
                throw new IOException("disk full");
            }
        }));

        Assert.Empty(store.List());
        using var raw = new SqliteConnection($"Data Source={Db};Pooling=False");
        raw.Open();
        using var cmd = raw.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM findings";
        Assert.Equal(0L, (long)cmd.ExecuteScalar()!);
    }

    [Fact]
    public void DiffClassifiesNewPersistingResolvedRegressedAndNotRescanned()
    {
        using var store = new HistoryStore(Db);
        var resources = ImmutableArray.Create("vm:a", "vm:b", "vm:c", "vm:d");

        // Scan 1: "flap" fails on a. Scan 2: it is fixed. Scan 3 (old) and 4 (new) below.
        store.Save(Reports.Of(resources, Reports.Fail("flap", "a")), "{}", "t");
        store.Save(Reports.Of(resources), "{}", "t");
        var old = store.Save(Reports.Of(resources,
            Reports.Fail("stays", "a"), Reports.Fail("fixed", "b"), Reports.Fail("gone-host", "d")), "{}", "t");
        var @new = store.Save(Reports.Of(["vm:a", "vm:b", "vm:c"],
            Reports.Fail("stays", "a"), Reports.Fail("fresh", "c"), Reports.Fail("flap", "a")), "{}", "t");

        var diff = ScanDiff.FromStore(store, null, null)!;

        Assert.Equal(old, diff.Old.Id);
        Assert.Equal(@new, diff.New.Id);
        Assert.Equal(ChangeKind.Persisting, Kind(diff, "stays"));
        Assert.Equal(ChangeKind.New, Kind(diff, "fresh"));
        Assert.Equal(ChangeKind.Regressed, Kind(diff, "flap"));
        Assert.Equal(ChangeKind.Resolved, Kind(diff, "fixed"));
        Assert.Equal(ChangeKind.NotRescanned, Kind(diff, "gone-host"));
    }

    [Fact]
    public void DiffNeedsTwoScansOfTheSameTargets()
    {
        using var store = new HistoryStore(Db);
        store.Save(Reports.Of(["vm:a"], Reports.Fail("x", "a")), "{}", "t");
        store.Save(Reports.Of(["vm:a"], Reports.Fail("x", "a")) with { Inputs = ["/elsewhere"] }, "{}", "t");

        Assert.Null(ScanDiff.FromStore(store, null, null));
    }

    [Fact]
    public void WaivedFindingStaysOpenForTheDiff()
    {
        using var store = new HistoryStore(Db);
        store.Save(Reports.Of(["vm:a"], Reports.Fail("x", "a")), "{}", "t");
        store.Save(Reports.Of(["vm:a"], Reports.Fail("x", "a") with { Status = FindingStatus.Waived }), "{}", "t");

        var diff = ScanDiff.FromStore(store, null, null)!;

        Assert.Equal(ChangeKind.Persisting, Assert.Single(diff.Changes).Kind);
    }

    private static ChangeKind Kind(ScanDiff diff, string rule) => Assert.Single(diff.Changes, c => c.Finding.RuleId == rule).Kind;
}

/// <summary>Small scan reports for history tests.</summary>
internal static class Reports
{
    public static Finding Fail(string rule, string vm, Severity severity = Severity.Medium) => new()
    {
        RuleId = rule,
        Title = rule + " on " + vm,
        Category = "VT04",
        Severity = severity,
        Status = FindingStatus.Fail,
        Resource = new ResourceRef("vm", vm, vm),
        Score = (int)severity * 10,
    };

    public static ScanReport Of(ImmutableArray<string> resources, params Finding[] findings) => new()
    {
        StartedAt = new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero),
        Inputs = ["/srv/hospital"],
        Profile = "stig-8",
        Rulesets = [],
        AdvisoryFeed = new FeedInfo(null, null, 0),
        Collected = [],
        Skipped = [],
        Findings = [.. findings],
        NotEvaluated = [],
        Passed = 0,
        Diagnostics = [],
        Resources = [.. resources.Select(r => new ResourceRef(r.Split(':')[0], r.Split(':')[1], r.Split(':')[1]))],
    };
}
