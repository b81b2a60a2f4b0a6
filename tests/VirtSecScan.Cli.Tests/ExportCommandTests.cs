using System.Text.Json;
using VirtSecScan.Reporting.Tests;

namespace VirtSecScan.Cli.Tests;

/// <summary>virtsecscan export: plan, request files, and a push to a local stand-in of Jira with the token from the environment.</summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string DemoReport()
    {
        var path = _dir.File("findings.json");
        var scan = Cli.Run("scan", RepoPaths.DemoHospital, "--no-progress", "--format", "json", "--output", path);
        Assert.True(scan.ExitCode is 0 or 3, scan.Stderr);
        return path;
    }

    [Fact]
    public void Dry_run_prints_the_plan_and_the_default_run_writes_requests_and_a_jira_csv()
    {
        var report = DemoReport();
        var count = JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("findings").GetArrayLength();
        var ledger = _dir.File("ledger.db");

        var dry = Cli.RunRaw("export", "jira", "--report", report, "--project", "SEC", "--ledger", ledger, "--dry-run");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains($"{count} create, 0 update, 0 close, 0 reopen, 0 keep-open", dry.Stdout);
        Assert.False(File.Exists(_dir.File("jira-requests.json")));

        var high = Cli.RunRaw("export", "jira", "--report", report, "--project", "SEC", "--ledger", ledger, "--dry-run", "--min-severity", "high", "--category", "VT02");
        var highVt02 = JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("findings").EnumerateArray()
            .Count(f => f.GetProperty("category").GetString() == "VT02" && f.GetProperty("severity").GetString() is "high" or "critical"
                        && f.GetProperty("status").GetString() != "waived");
        Assert.True(highVt02 > 0);
        Assert.Contains($"{highVt02} create", high.Stdout);

        var write = Cli.RunRaw("export", "jira", "--report", report, "--project", "SEC", "--ledger", ledger, "--out", _dir.Path);
        Assert.Equal(0, write.ExitCode);
        var requests = JsonDocument.Parse(File.ReadAllText(_dir.File("jira-requests.json"))).RootElement.GetProperty("requests");
        Assert.Equal(count, requests.EnumerateArray().Count(r => r.GetProperty("path").GetString() == "/rest/api/3/issue"));
        Assert.Equal(count + 1, Reporting.CsvReportWriter.Parse(File.ReadAllText(_dir.File("jira-import.csv"))).Count);

        var gh = Cli.RunRaw("export", "github", "--report", report, "--repo", "hospital/infra", "--ledger", ledger, "--out", _dir.Path);
        Assert.Equal(0, gh.ExitCode);
        Assert.True(File.Exists(_dir.File("github-requests.json")));
        var sn = Cli.RunRaw("export", "servicenow", "--report", report, "--mode", "import-set", "--ledger", ledger, "--out", _dir.Path);
        Assert.Equal(0, sn.ExitCode);
        Assert.Contains("u_correlation_id", File.ReadAllText(_dir.File("servicenow-requests.json")));
    }

    [Fact]
    public void Push_reads_the_token_from_the_environment_never_prints_it_and_a_second_push_creates_nothing()
    {
        var report = DemoReport();
        var count = JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("findings").GetArrayLength();
        var variable = "VSS_TEST_TOKEN_" + Guid.NewGuid().ToString("N");
        const string token = "tok-3f1b2c-not-a-real-secret";
        using var server = new FakeTrackerServer("Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("officer@example.org:" + token)));
        var args = new[] { "export", "jira", "--report", report, "--project", "SEC", "--ledger", _dir.File("ledger.db"), "--push", server.BaseUri.AbsoluteUri, "--token-env", variable, "--user", "officer@example.org" };

        var missing = Cli.RunRaw(args);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains(variable, missing.Stderr);

        Environment.SetEnvironmentVariable(variable, token);
        try
        {
            var first = Cli.RunRaw(args);
            Assert.True(first.ExitCode == 0, first.Stderr);
            Assert.Equal(count, server.Tickets.Count);
            Assert.Contains($"{count} created", first.Stdout);

            var second = Cli.RunRaw(args);
            Assert.True(second.ExitCode == 0, second.Stderr);
            Assert.Equal(count, server.Tickets.Count);
            Assert.Contains($"0 created, 0 found already, {count} updated", second.Stdout);

            foreach (var output in new[] { missing, first, second })
            {
                Assert.DoesNotContain(token, output.Stdout + output.Stderr);
            }

            Assert.DoesNotContain(token, string.Concat(server.Requests.Select(r => r.Path + r.Body)));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
