using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Cronos;
using Serilog;
using Serilog.Events;
using VirtSecScan.Cli.Scheduling;
using VirtSecScan.History;

namespace VirtSecScan.Cli.Commands;

/// <summary>What a scheduled scan runs: the scan arguments plus where reports go.</summary>
public sealed record ScheduleArguments
{
    public required string Cron { get; init; }
    public string? TimeZone { get; init; }
    public required ScanArguments Scan { get; init; }
    public string? ScheduleLog { get; init; }

    /// <summary>Arguments of <c>virtsecscan export</c> run after each scan (for example <c>jira --project SEC --push URL</c>).</summary>
    public string? Export { get; init; }
}

/// <summary>
/// <c>schedule run</c> (foreground scheduler for systemd or a container), <c>schedule systemd</c> (a service
/// and timer) and <c>schedule cron</c> (a crontab line).
/// </summary>
public static class ScheduleCommand
{
    public static int Run(ScheduleArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (!TryParse(args.Cron, stderr, out var cron) || !TryZone(args.TimeZone, stderr, out var zone))
        {
            return ExitCodes.UsageError;
        }

        if (args.Scan.Paths.Length == 0 && args.Scan.Targets is null)
        {
            stderr.WriteLine("error: give at least one file or folder to scan");
            return ExitCodes.UsageError;
        }

        var logPath = args.ScheduleLog ?? Path.Combine(Path.GetDirectoryName(HistoryStore.DefaultPath)!, "logs", "schedule-.log");
        using var log = new LoggerConfiguration()
            .MinimumLevel.Information()
            .WriteTo.File(logPath, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 31,
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {Message:lj}{NewLine}{Exception}")
            .WriteTo.Console(outputTemplate: "[{Level:u3}] {Message:lj}{NewLine}", standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            log.Information("SIGTERM received: finishing the current scan, if any, then stopping");
            stop.Cancel();
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
        {
            ctx.Cancel = true;
            log.Information("Interrupted: stopping");
            stop.Cancel();
        });

        log.Information("Scheduler started: cron '{Cron}' ({Zone}), scanning {Paths}, reports in {Output}, history in {Db}",
            args.Cron, zone.Id, args.Scan.Paths, args.Scan.Output, HistoryCommand.DatabasePath(args.Scan.Database));
        var scheduler = new ScanScheduler(cron, zone, TimeProvider.System, occurrence => Task.Run(() =>
        {
            var folder = Path.Combine(args.Scan.Output!, "scan-" + occurrence.UtcDateTime.ToString("yyyyMMdd'T'HHmm'Z'", CultureInfo.InvariantCulture));
            var scanArgs = args.Scan with { Output = folder, Save = true, Progress = false };
            var exit = new ScanCommand(TextWriter.Null, stderr).Execute(scanArgs);
            if (exit is not (ExitCodes.Ok or ExitCodes.FindingsAtOrAboveFailOn))
            {
                throw new InvalidOperationException($"the scan exited with {exit}");
            }

            log.Information("Reports written to {Folder} (exit code {Exit})", folder, exit);
            if (args.Export is { } export)
            {
                var exportExit = ExportAfterScan(export, Path.Combine(folder, "findings.json"), TextWriter.Null, stderr);
                log.Information("Ticket export '{Tracker}' finished with exit code {Exit}", SplitArguments(export).FirstOrDefault(), exportExit);
                if (exportExit != ExitCodes.Ok)
                {
                    throw new InvalidOperationException($"the ticket export exited with {exportExit}");
                }
            }
        }), log);
        scheduler.RunAsync(stop.Token).GetAwaiter().GetResult();
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Runs <c>virtsecscan export ARGS --report REPORT</c> in-process after a scheduled scan. The token is read by the
    /// export command from its environment variable, never from these arguments.
    /// </summary>
    public static int ExportAfterScan(string exportArguments, string report, TextWriter stdout, TextWriter stderr) =>
        CommandLine.Run(["export", .. SplitArguments(exportArguments), "--report", report], stdout, stderr);

    /// <summary>Splits an argument string on spaces, keeping single- or double-quoted parts together.</summary>
    public static List<string> SplitArguments(string text)
    {
        var result = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        var has = false;
        foreach (var c in text)
        {
            if (quote is { } q)
            {
                if (c == q)
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                has = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (has || current.Length > 0)
                {
                    result.Add(current.ToString());
                    current.Clear();
                    has = false;
                }
            }
            else
            {
                current.Append(c);
            }
        }

        if (has || current.Length > 0)
        {
            result.Add(current.ToString());
        }

        return result;
    }

    /// <summary>A systemd service (oneshot scan) and timer (the cron schedule as OnCalendar).</summary>
    public static int Systemd(string cronText, string commandLine, TextWriter stdout, TextWriter stderr)
    {
        if (!TryParse(cronText, stderr, out _))
        {
            return ExitCodes.UsageError;
        }

        string onCalendar;
        try
        {
            onCalendar = CronTranslator.ToOnCalendar(cronText);
        }
        catch (FormatException ex)
        {
            stderr.WriteLine($"error: --cron: {ex.Message}");
            return ExitCodes.UsageError;
        }

        var sb = new StringBuilder();
        sb.AppendLine("# /etc/systemd/system/virtsecscan.service");
        sb.AppendLine("[Unit]");
        sb.AppendLine("Description=VirtSecScan scheduled scan");
        sb.AppendLine("Wants=network-online.target");
        sb.AppendLine("After=network-online.target");
        sb.AppendLine();
        sb.AppendLine("[Service]");
        sb.AppendLine("Type=oneshot");
        sb.AppendLine("User=virtsecscan");
        sb.AppendLine("# Exit code 3 means the scan completed with findings at or above --fail-on: not a service failure.");
        sb.AppendLine("SuccessExitStatus=3");
        sb.AppendLine("NoNewPrivileges=yes");
        sb.AppendLine("ProtectSystem=strict");
        sb.AppendLine("StateDirectory=virtsecscan");
        sb.AppendLine("Environment=XDG_DATA_HOME=/var/lib");
        sb.AppendLine(CultureInfo.InvariantCulture, $"ExecStart={commandLine}");
        sb.AppendLine();
        sb.AppendLine("# /etc/systemd/system/virtsecscan.timer");
        sb.AppendLine("[Unit]");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Description=VirtSecScan scan on cron schedule '{cronText}'");
        sb.AppendLine();
        sb.AppendLine("[Timer]");
        sb.AppendLine(CultureInfo.InvariantCulture, $"OnCalendar={onCalendar}");
        sb.AppendLine("Persistent=true");
        sb.AppendLine();
        sb.AppendLine("[Install]");
        sb.AppendLine("WantedBy=timers.target");
        stdout.Write(sb.ToString());
        return ExitCodes.Ok;
    }

    /// <summary>A crontab line running the scan at the cron schedule.</summary>
    public static int Crontab(string cronText, string commandLine, TextWriter stdout, TextWriter stderr)
    {
        if (!TryParse(cronText, stderr, out _))
        {
            return ExitCodes.UsageError;
        }

        stdout.WriteLine($"{cronText} {commandLine} >/dev/null 2>>\"$HOME/.local/share/virtsecscan/cron.log\"");
        return ExitCodes.Ok;
    }

    /// <summary>The scan command line a service or crontab runs: this executable, scan, the paths and options, --save.</summary>
    public static string ScanCommandLine(ScanArguments scan)
    {
        var exe = Environment.ProcessPath is { } p && !Path.GetFileNameWithoutExtension(p).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? p
            : "virtsecscan";
        var parts = new List<string> { exe };
        if (scan.RulesDirectory is not null)
        {
            parts.AddRange(["--rules", Path.GetFullPath(scan.RulesDirectory)]);
        }

        parts.Add("scan");
        parts.AddRange(scan.Paths.Select(Path.GetFullPath));
        void Opt(string name, string? value)
        {
            if (value is not null)
            {
                parts.AddRange([name, value]);
            }
        }

        Opt("--site", scan.Site is null ? null : Path.GetFullPath(scan.Site));
        Opt("--profile", scan.Profile);
        Opt("--waivers", scan.Waivers is null ? null : Path.GetFullPath(scan.Waivers));
        Opt("--fail-on", scan.FailOn);
        Opt("--epss", scan.Epss is null ? null : Path.GetFullPath(scan.Epss));
        foreach (var f in scan.Formats)
        {
            Opt("--format", f);
        }

        Opt("--output", scan.Output is null ? null : Path.GetFullPath(scan.Output));
        Opt("--db", scan.Database is null ? null : Path.GetFullPath(scan.Database));
        parts.Add("--save");
        parts.Add("--no-progress");
        return string.Join(' ', parts.Select(Quote));
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=:,".Contains(c, StringComparison.Ordinal)) ? arg : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static bool TryParse(string text, TextWriter stderr, out CronExpression cron)
    {
        try
        {
            cron = CronExpression.Parse(text, CronFormat.Standard);
            return true;
        }
        catch (CronFormatException ex)
        {
            stderr.WriteLine($"error: --cron '{text}': {ex.Message}");
            cron = null!;
            return false;
        }
    }

    private static bool TryZone(string? id, TextWriter stderr, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Local;
        if (id is null)
        {
            return true;
        }

        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            stderr.WriteLine($"error: --time-zone: '{id}' is not a known time zone");
            return false;
        }
    }
}
