using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using VirtSecScan.History;

namespace VirtSecScan.Cli.Tests;

/// <summary>scan --save, history list/show, diff and --waivers through the command line.</summary>
public sealed class HistoryCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string Db => Path.Combine(_dir.Path, "history.db");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SavedScansAreListedShownAndDiffed()
    {
        var first = Cli.ScanJson(RepoPaths.DemoHospital, "--save", "--db", Db);
        var second = Cli.ScanJson(RepoPaths.DemoHospital, "--save", "--db", Db);
        Assert.Contains("saved as scan 1", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("saved as scan 2", second.Stderr, StringComparison.Ordinal);

        var list = Cli.RunRaw("history", "list", "--db", Db, "--format", "json");
        using var scans = JsonDocument.Parse(list.Stdout);
        Assert.Equal([2L, 1L], scans.RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()));

        var shown = Cli.RunRaw("history", "show", "1", "--db", Db, "--format", "json");
        using var report = JsonDocument.Parse(shown.Stdout);
        using var original = first.Json();
        Assert.Equal(
            original.RootElement.GetProperty("findings").GetArrayLength(),
            report.RootElement.GetProperty("findings").GetArrayLength());

        var diff = Cli.RunRaw("diff", "--db", Db, "--format", "json");
        Assert.Equal(0, diff.ExitCode);
        using var changes = JsonDocument.Parse(diff.Stdout);
        var counts = changes.RootElement.GetProperty("counts");
        Assert.Equal(0, counts.GetProperty("new").GetInt32());
        Assert.Equal(original.RootElement.GetProperty("summary").GetProperty("failed").GetInt32(), counts.GetProperty("persisting").GetInt32());
    }

    [Fact]
    public void FixingOneProblemShowsAsResolvedAndANewOneAsNew()
    {
        var estate = Path.Combine(_dir.Path, "estate");
        Directory.CreateDirectory(estate);
        var vmx = Path.Combine(estate, "lis-01.vmx");
        File.WriteAllText(vmx, "displayName = \"lis-01\"\nisolation.tools.copy.disable = \"FALSE\"\n");
        Assert.Equal(0, Cli.ScanJson(estate, "--save", "--db", Db).ExitCode);
        File.WriteAllText(vmx, "displayName = \"lis-01\"\nisolation.tools.copy.disable = \"TRUE\"\nisolation.tools.paste.disable = \"FALSE\"\n");
        Assert.Equal(0, Cli.ScanJson(estate, "--save", "--db", Db).ExitCode);

        var diff = Cli.RunRaw("diff", "1", "2", "--db", Db, "--format", "json");

        using var doc = JsonDocument.Parse(diff.Stdout);
        var changes = doc.RootElement.GetProperty("changes").EnumerateArray()
            .Select(c => (c.GetProperty("change").GetString(), c.GetProperty("ruleId").GetString())).ToList();
        Assert.Contains(("resolved", "vmware.vm.console-copy-disabled"), changes);
        Assert.Contains(("new", "vmware.vm.console-paste-disabled"), changes);
    }

    [Fact]
    public void ReportOfASavedScanShowsChangesSinceTheLastOneAndTheTrend()
    {
        var estate = Path.Combine(_dir.Path, "estate");
        Directory.CreateDirectory(estate);
        var vmx = Path.Combine(estate, "lis-01.vmx");
        File.WriteAllText(vmx, "displayName = \"lis-01\"\nisolation.tools.copy.disable = \"FALSE\"\n");
        var first = Cli.ScanJson(estate, "--save", "--db", Db);
        File.WriteAllText(vmx, "displayName = \"lis-01\"\nisolation.tools.copy.disable = \"TRUE\"\n");
        Cli.ScanJson(estate, "--save", "--db", Db);
        var third = Cli.ScanJson(estate, "--save", "--db", Db);
        var table = Cli.Run("scan", estate, "--db", Db, "--no-progress");

        using (var doc = first.Json())
        {
            Assert.False(doc.RootElement.TryGetProperty("history", out _));
        }

        using var last = third.Json();
        var history = last.RootElement.GetProperty("history");
        Assert.Equal(2, history.GetProperty("previousScan").GetInt64());
        Assert.Equal(0, history.GetProperty("changes").GetProperty("new").GetInt32());
        Assert.Equal([1L, 2L, 0L], history.GetProperty("trend").EnumerateArray().Select(t => t.GetProperty("scan").GetInt64()));
        Assert.Contains("Since scan 3:", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void DiffWithoutTwoScansIsAUsageError()
    {
        var result = Cli.RunRaw("diff", "--db", Db);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("does not hold two scans", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void WaivedFindingStaysInTheReportAndDoesNotTriggerFailOn()
    {
        var estate = Path.Combine(_dir.Path, "estate");
        Directory.CreateDirectory(estate);
        File.WriteAllText(Path.Combine(estate, "lis-01.vmx"), "displayName = \"lis-01\"\nisolation.tools.copy.disable = \"FALSE\"\n");
        var before = Cli.ScanJson(estate, "--fail-on", "low");
        Assert.Equal(3, before.ExitCode);
        using var doc = before.Json();
        var failing = doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("fingerprint").GetString()).ToList();
        var waivers = Path.Combine(_dir.Path, "waivers.yaml");
        File.WriteAllText(waivers, "waivers:\n" + string.Concat(failing.Select((fp, i) =>
            $"  - id: W-{i}\n    fingerprint: {fp}\n    justification: accepted for the test\n    approver: CISO\n    created: 2026-01-01\n    expires: 2099-12-31\n")));

        var after = Cli.ScanJson(estate, "--fail-on", "low", "--waivers", waivers);

        Assert.Equal(0, after.ExitCode);
        using var waived = after.Json();
        var findings = waived.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(failing.Count, findings.Count);
        Assert.All(findings, f => Assert.Equal("waived", f.GetProperty("status").GetString()));
        Assert.All(findings, f => Assert.Equal("CISO", f.GetProperty("waiver").GetProperty("approver").GetString()));
        Assert.Equal(0, waived.RootElement.GetProperty("summary").GetProperty("failed").GetInt32());
        Assert.Equal(failing.Count, waived.RootElement.GetProperty("summary").GetProperty("waived").GetInt32());
    }

    [Fact]
    public void BadWaiversFileStopsTheScanNamingFileAndLine()
    {
        var waivers = Path.Combine(_dir.Path, "waivers.yaml");
        File.WriteAllText(waivers, "waivers:\n  - id: W-1\n    rule: x\n    approver: a\n");

        var result = Cli.ScanJson(RepoPaths.DemoHospital, "--waivers", waivers);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("waivers.yaml:2:", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void KillingTheProcessDuringSaveLeavesNoPartialScan()
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "virtsecscan.dll");
        var marker = Path.Combine(_dir.Path, "paused");
        Assert.Equal(0, Cli.ScanJson(RepoPaths.DemoHospital, "--save", "--db", Db).ExitCode);

        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { cli, "--rules", RepoPaths.Rulesets, "scan", RepoPaths.DemoHospital, "--save", "--db", Db, "--format", "json", "--no-progress" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["VIRTSECSCAN_TEST_PAUSE_DURING_SAVE"] = marker;
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(marker) && !process.HasExited && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }

        Assert.True(File.Exists(marker), "the scan never reached the save transaction");
        process.Kill(entireProcessTree: true);
        process.WaitForExit();

        using (var raw = new SqliteConnection($"Data Source={Db};Pooling=False"))
        {
            raw.Open();
            using var check = raw.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", check.ExecuteScalar());
        }

        using var store = new HistoryStore(Db);
        var scan = Assert.Single(store.List());
        Assert.Equal(1, scan.Id);
        var loaded = store.Load(1)!;
        Assert.Equal(scan.Failed + scan.Waived, loaded.Findings.Count(f => f.Status is "fail" or "waived"));
    }
}
