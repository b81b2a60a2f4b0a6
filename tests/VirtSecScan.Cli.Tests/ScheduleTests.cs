using System.Diagnostics;
using Cronos;
using Microsoft.Extensions.Time.Testing;
using Serilog;
using VirtSecScan.Cli.Scheduling;

namespace VirtSecScan.Cli.Tests;

/// <summary>The scheduler on a fake clock, the cron translation for systemd, and a real SIGTERM.</summary>
public sealed class ScheduleTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task OneMinuteCronRunsTwiceAndNeverOverlapsASlowScan()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 1, 59, 30, TimeSpan.Zero));
        var firstScan = new TaskCompletionSource();
        var started = new List<DateTimeOffset>();
        var running = 0;
        var maxRunning = 0;
        using var stop = new CancellationTokenSource();
        var scheduler = new ScanScheduler(CronExpression.Parse("* * * * *"), TimeZoneInfo.Utc, clock, async occurrence =>
        {
            lock (started)
            {
                started.Add(occurrence);
                maxRunning = Math.Max(maxRunning, ++running);
            }

            if (started.Count == 1)
            {
                await firstScan.Task; // the first scan is slow: it runs until the test lets it finish
            }

            lock (started)
            {
                running--;
            }
        }, new LoggerConfiguration().CreateLogger());

        var loop = scheduler.RunAsync(stop.Token);
        await WaitUntil(() => scheduler.Waiting == new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero));
        clock.Advance(TimeSpan.FromSeconds(30)); // 02:00 - first occurrence
        await WaitUntil(() => started.Count == 1);
        clock.Advance(TimeSpan.FromMinutes(3)); // 02:01, 02:02, 02:03 fall while the first scan runs
        await Task.Delay(200);
        Assert.Single(started);

        firstScan.SetResult();
        await WaitUntil(() => scheduler.Skipped == 3 && scheduler.Waiting == new DateTimeOffset(2026, 11, 27, 2, 4, 0, TimeSpan.Zero));
        clock.Advance(TimeSpan.FromMinutes(1)); // 02:04 - second run
        await WaitUntil(() => started.Count == 2);
        stop.Cancel();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, scheduler.Runs);
        Assert.Equal(1, maxRunning);
        Assert.Equal(1, scheduler.MaxConcurrent);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero), started[0]);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 2, 4, 0, TimeSpan.Zero), started[1]);
    }

    [Fact]
    public async Task AFailedScanIsLoggedAndTheScheduleGoesOn()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 1, 59, 0, TimeSpan.Zero));
        var calls = 0;
        using var stop = new CancellationTokenSource();
        var scheduler = new ScanScheduler(CronExpression.Parse("* * * * *"), TimeZoneInfo.Utc, clock, _ =>
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("vCenter unreachable");
        }, new LoggerConfiguration().CreateLogger());

        var loop = scheduler.RunAsync(stop.Token);
        await WaitUntil(() => scheduler.Waiting == new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero));
        clock.Advance(TimeSpan.FromMinutes(1));
        await WaitUntil(() => calls == 1);
        await WaitUntil(() => scheduler.Waiting == new DateTimeOffset(2026, 11, 27, 2, 1, 0, TimeSpan.Zero));
        clock.Advance(TimeSpan.FromMinutes(1));
        await WaitUntil(() => calls == 2);
        stop.Cancel();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("0 2 * * *", "*-*-* 02:00:00")]
    [InlineData("*/15 * * * *", "*-*-* *:00/15:00")]
    [InlineData("30 6 * * 1-5", "Mon..Fri *-*-* 06:30:00")]
    [InlineData("0 3 1 */3 *", "*-01/3-01 03:00:00")]
    [InlineData("0 22 * * sun,wed", "Sun,Wed *-*-* 22:00:00")]
    [InlineData("0 1 * * 0", "Sun *-*-* 01:00:00")]
    public void CronTranslatesToOnCalendar(string cron, string expected)
    {
        Assert.Equal(expected, CronTranslator.ToOnCalendar(cron));
    }

    [Theory]
    [InlineData("0 2 1 * 1", "EITHER")]
    [InlineData("0 2-6/2 * * *", "range with a step")]
    [InlineData("0 25 * * *", "hour: '25'")]
    [InlineData("0 2 * *", "five-field")]
    public void CronThatSystemdCannotExpressIsRefused(string cron, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => CronTranslator.ToOnCalendar(cron));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SystemdCommandPrintsAServiceAndTimer()
    {
        var result = Cli.Run("schedule", "systemd", "--cron", "0 2 * * *", RepoPaths.DemoHospital, "--db", "/var/lib/virtsecscan/history.db");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Type=oneshot", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("OnCalendar=*-*-* 02:00:00", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(" scan " + RepoPaths.DemoHospital, result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--save", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void CronCommandPrintsACrontabLineAndRefusesABadExpression()
    {
        var good = Cli.Run("schedule", "cron", "--cron", "0 2 * * *", RepoPaths.DemoHospital);
        var bad = Cli.Run("schedule", "cron", "--cron", "61 2 * * *", RepoPaths.DemoHospital);

        Assert.StartsWith("0 2 * * * ", good.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--cron '61 2 * * *'", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ScheduleRunStopsCleanlyOnSigterm()
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "virtsecscan.dll");
        var log = Path.Combine(_dir.Path, "schedule-.log");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                cli, "--rules", RepoPaths.Rulesets, "schedule", "run", "--cron", "0 2 1 1 *", RepoPaths.DemoHospital,
                "--db", Path.Combine(_dir.Path, "h.db"), "--output", Path.Combine(_dir.Path, "reports"), "--schedule-log", log,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.StandardOutput.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            lock (stderr)
            {
                if (stderr.ToString().Contains("Next scan at", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Thread.Sleep(50);
        }

        Assert.False(process.HasExited, "the scheduler exited before it was told to stop: " + stderr);
        Assert.Equal(0, Kill(process.Id, 15));
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(0, process.ExitCode);
        var logText = string.Concat(Directory.GetFiles(_dir.Path, "schedule-*.log").Select(File.ReadAllText));
        Assert.Contains("SIGTERM received", logText, StringComparison.Ordinal);
        Assert.Contains("Scheduler stopped after 0 scan(s)", logText, StringComparison.Ordinal);
    }

    [Fact]
    public void AfterAScanTheConfiguredExportRunsOnItsReport()
    {
        var folder = Path.Combine(_dir.Path, "scan-20261127T0200Z");
        Assert.Equal(0, Cli.Run("scan", RepoPaths.DemoHospital, "--format", "json", "table", "--output", folder, "--no-progress").ExitCode);
        var ledger = Path.Combine(_dir.Path, "tickets.db");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = Commands.ScheduleCommand.ExportAfterScan($"jira --project SEC --ledger '{ledger}' --dry-run", Path.Combine(folder, "findings.json"), stdout, stderr);

        Assert.Equal(0, exit);
        Assert.Matches(@"\d+ create, 0 update, 0 close, 0 reopen", stdout.ToString());
    }

    [Theory]
    [InlineData("jira --project SEC", new[] { "jira", "--project", "SEC" })]
    [InlineData("github --repo 'it/sec ops' --dry-run", new[] { "github", "--repo", "it/sec ops", "--dry-run" })]
    [InlineData("  servicenow   --assignment-group \"Clinical IT\" ", new[] { "servicenow", "--assignment-group", "Clinical IT" })]
    public void ExportArgumentsAreSplitLikeAShell(string text, string[] expected)
    {
        Assert.Equal(expected, Commands.ScheduleCommand.SplitArguments(text));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the scheduler");
            await Task.Delay(10);
        }
    }
}
