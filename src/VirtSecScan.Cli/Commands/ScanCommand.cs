using System.Collections.Immutable;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Spectre.Console;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;
using VirtSecScan.History;
using VirtSecScan.Reporting;

namespace VirtSecScan.Cli.Commands;

public sealed record ScanArguments
{
    public required string[] Paths { get; init; }
    public string? Site { get; init; }
    public required string Profile { get; init; }
    public required string[] Formats { get; init; }
    public string? Output { get; init; }
    public required string Severity { get; init; }
    public string? FailOn { get; init; }
    public bool? Progress { get; init; }
    public required string LogLevel { get; init; }
    public string? LogFile { get; init; }
    public string? RulesDirectory { get; init; }
    public string? Waivers { get; init; }
    public bool Save { get; init; }
    public string? Database { get; init; }
    public string? Epss { get; init; }
    /// <summary>A targets file (live collection); may be given instead of or with PATHs.</summary>
    public string? Targets { get; init; }
    /// <summary>A folder for what the live targets gave (see <c>--save-collected</c>).</summary>
    public string? SaveCollected { get; init; }
}

/// <summary><c>virtsecscan scan</c>: runs a scan and writes the chosen reports.</summary>
public sealed class ScanCommand(TextWriter stdout, TextWriter stderr)
{
    private static readonly string[] KnownFormats = ["table", .. ReportFormats.All.Select(f => f.Name)];

    public int Execute(ScanArguments args)
    {
        PhaseTimings.Mark("cli-start");
        var formats = args.Formats.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(f => f.ToLowerInvariant()).Distinct().ToList();
        if (formats.FirstOrDefault(f => !KnownFormats.Contains(f)) is { } bad)
        {
            return Usage($"unknown format '{bad}' (known: {string.Join(", ", KnownFormats)})");
        }

        if (!SeverityNames.TryParse(args.Severity, out var minimum))
        {
            return Usage($"--severity: '{args.Severity}' is not one of {string.Join(", ", SeverityNames.All)}");
        }

        Severity? failOn = null;
        if (args.FailOn is not null)
        {
            if (!SeverityNames.TryParse(args.FailOn, out var f))
            {
                return Usage($"--fail-on: '{args.FailOn}' is not one of {string.Join(", ", SeverityNames.All)}");
            }

            failOn = f;
        }

        if (!TryLogLevel(args.LogLevel, out var level))
        {
            return Usage($"--log-level: '{args.LogLevel}' is not one of verbose, debug, information, warning, error");
        }

        if (args.Paths.Length == 0 && args.Targets is null)
        {
            return Usage("give at least one file or folder to scan, or --targets FILE");
        }

        if (formats.Count > 1 && args.Output is null)
        {
            return Usage("several formats need --output DIR (one file per format)");
        }

        using var log = CreateLogger(level, args.LogFile);
        var options = new ScanOptions
        {
            Inputs = [.. args.Paths],
            Profile = args.Profile,
            SiteFile = args.Site,
            RulesDirectory = CommandLine.RulesDirectory(args.RulesDirectory),
            WaiversFile = args.Waivers,
            EpssFile = args.Epss,
            TargetsFile = args.Targets,
            SaveCollected = args.SaveCollected,
        };

        ScanReport report;
        try
        {
            log.Information("Scanning {Inputs} with profile {Profile}", args.Paths, args.Profile);
            report = RunWithProgress(options, args.Progress ?? !Console.IsErrorRedirected);
        }
        catch (ScanSetupException ex)
        {
            stderr.WriteLine("error: " + ex.Message);
            foreach (var d in ex.Diagnostics)
            {
                stderr.WriteLine(d.Line is { } line ? $"  {d.File}:{line}: {d.Message}" : $"  {d.File}: {d.Message}");
            }

            log.Error("Scan not started: {Reason}", ex.Message);
            return ExitCodes.UsageError;
        }

        foreach (var c in report.Collected)
        {
            log.Debug("Collected {File} as {Format} ({Facts} facts)", c.File, c.Format, c.Facts);
        }

        foreach (var d in report.Diagnostics)
        {
            var ev = d.Level switch { "error" => LogEventLevel.Error, "warning" => LogEventLevel.Warning, _ => LogEventLevel.Information };
            log.Write(ev, "{Location}: {Message}", d.Line is { } line ? $"{d.File}:{line}" : d.File, d.Message);
        }

        log.Information("Scan done: {Failed} failed, {Passed} passed, {NotEvaluated} not evaluated", report.Findings.Length, report.Passed, report.NotEvaluated.Length);
        HistoryStore? store = null;
        if (args.Save || args.Database is not null)
        {
            store = HistoryCommand.Open(args.Database, stderr);
            if (store is null)
            {
                return ExitCodes.InternalError;
            }
        }

        using (store)
        {
            // Compared once with the last saved scan of the same targets: the JSON/table history and the HTML diff share it.
            var diff = store is null ? null : ScanDiff.SinceLast(store, report);
            if (store is not null && diff is not null)
            {
                var trend = store.Trend(diff.New.TargetsKey)
                    .Select(t => new Engine.Scanning.TrendPoint(t.Id, t.StartedAt, t.Failed, t.Waived))
                    .Append(new Engine.Scanning.TrendPoint(0, report.StartedAt, diff.New.Failed, diff.New.Waived));
                report = report with
                {
                    History = new HistoryInfo(diff.Old.Id, diff.Count(ChangeKind.New), diff.Count(ChangeKind.Persisting), diff.Count(ChangeKind.Resolved),
                        diff.Count(ChangeKind.Regressed), diff.Count(ChangeKind.NotRescanned), [.. trend]),
                };
            }

            var context = ContextFor(formats, options.RulesDirectory);
            PhaseTimings.Mark("history");
            WriteReports(report, formats, args.Output, minimum, context with { Html = HtmlExtras(report, store, diff) });
            PhaseTimings.Mark("write-reports");
            if (args.Save && store is not null)
            {
                var id = store.Save(report, JsonReportWriter.ToJson(report), JsonReportWriter.ToolVersion, FaultInjection.AfterHistoryRow());
                log.Information("Saved scan {ScanId} in {Database}", id, store.Path);
                stderr.WriteLine($"saved as scan {id} in {store.Path}");
            }
        }

        var readable = report.Collected.Count(c => c.Format != Scanner.SiteFormat);
        if (readable == 0 && report.Targets.IsDefaultOrEmpty) // with --targets, target statuses and failure findings are the result
        {
            stderr.WriteLine("error: nothing readable was given: no file was in a known format");
            return ExitCodes.UsageError;
        }

        return failOn is { } threshold && report.Unwaived.Any(f => f.Severity >= threshold)
            ? ExitCodes.FindingsAtOrAboveFailOn
            : ExitCodes.Ok;
    }

    private ScanReport RunWithProgress(ScanOptions options, bool showProgress)
    {
        if (!showProgress)
        {
            return new Scanner(options).Run();
        }

        // --progress forces the bar even when stderr is not a terminal (for example under a CI log viewer).
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stderr),
            Interactive = InteractionSupport.Yes,
            Ansi = Console.IsErrorRedirected ? AnsiSupport.Yes : AnsiSupport.Detect,
        });
        ScanReport? report = null;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var collect = ctx.AddTask("Collecting", maxValue: 1);
                var evaluate = ctx.AddTask("Evaluating rules", maxValue: 1);
                var progress = new SynchronousProgress<ScanProgress>(p =>
                {
                    var task = p.Stage == "collect" ? collect : evaluate;
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    if (p.Stage == "collect")
                    {
                        // A long file (a packet capture) shows its packets and bytes per second.
                        task.Description = p.Current is { } current && current.Contains("pkts/s", StringComparison.Ordinal)
                            ? Markup.Escape(current)
                            : "Collecting";
                    }
                });
                report = new Scanner(options, progress).Run();
            });
        return report!;
    }

    /// <summary>Rule titles and rationales for SARIF's rule descriptions (the rules were validated when the scan ran).</summary>
    /// <summary>What the HTML report shows besides findings: the zone matrix, the trend and the diff with the last saved scan.</summary>
    private static HtmlReportExtras HtmlExtras(ScanReport report, HistoryStore? store, ScanDiff? diff)
    {
        var cells = report.Reachability.Cells
            .GroupBy(c => (c.FromZone, c.ToZone))
            .Select(g => new ReachabilityCell(
                g.Key.FromZone,
                g.Key.ToZone,
                [.. g.Where(c => c.Action == "accept").Select(c => $"{c.Protocol}/{c.Ports.FormatPorts()}").Distinct()],
                [.. g.Where(c => c.Action == "accept").SelectMany(c => c.Rules).Select(r => $"{r.File}:{r.Line}").Distinct()]))
            .ToList();
        var trend = new List<Reporting.TrendPoint>();
        ScanDiffSummary? diffSummary = null;
        if (store is not null)
        {
            var key = HistoryStore.TargetsKeyOf(report.Inputs);
            trend.AddRange(store.SeverityTrend(key).Select(t => new Reporting.TrendPoint(t.StartedAt, t.Critical, t.High, t.Medium, t.Low, t.Info)));
            var now = report.Unwaived.Where(f => f.Status == FindingStatus.Fail).ToList();
            trend.Add(new Reporting.TrendPoint(report.StartedAt, now.Count(f => f.Severity == Severity.Critical), now.Count(f => f.Severity == Severity.High),
                now.Count(f => f.Severity == Severity.Medium), now.Count(f => f.Severity == Severity.Low), now.Count(f => f.Severity == Severity.Info)));
            if (diff is not null)
            {
                diffSummary = new ScanDiffSummary(diff.Count(ChangeKind.New), diff.Count(ChangeKind.Persisting), diff.Count(ChangeKind.Resolved), diff.Count(ChangeKind.Regressed))
                {
                    StateByFingerprint = diff.Changes.Where(c => c.Kind is ChangeKind.New or ChangeKind.Persisting or ChangeKind.Regressed)
                        .ToDictionary(c => c.Finding.Fingerprint, c => c.KindName, StringComparer.Ordinal),
                };
            }
        }

        return new HtmlReportExtras { Reachability = cells, Trend = trend, Diff = diffSummary };
    }

    private static ReportContext ContextFor(List<string> formats, string rulesDirectory)
    {
        if (!formats.Contains("sarif"))
        {
            return new ReportContext();
        }

        var (rulesets, _) = Scanner.LoadRules(rulesDirectory);
        var rules = rulesets.SelectMany(r => r.Rules).GroupBy(r => r.Id, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new RuleDescription(g.First().Title, g.First().Rationale), StringComparer.Ordinal);
        return new ReportContext { Rules = rules };
    }

    private void WriteReports(ScanReport report, List<string> formats, string? output, Severity minimum, ReportContext context)
    {
        foreach (var format in formats)
        {
            string? target = null;
            if (output is not null)
            {
                var isDir = formats.Count > 1 || Directory.Exists(output) || output.EndsWith('/') || output.EndsWith('\\');
                if (isDir)
                {
                    Directory.CreateDirectory(output);
                }

                target = isDir ? Path.Combine(output, ReportFormats.Find(format)?.FileName ?? "findings.txt") : output;
            }

            switch (format)
            {
                case var name when ReportFormats.Find(name) is { } writer:
                    if (target is null)
                    {
                        using var stdoutStream = new MemoryStream();
                        writer.Write(report, stdoutStream, context);
                        stdout.Write(System.Text.Encoding.UTF8.GetString(stdoutStream.ToArray()));
                        if (name == "json")
                        {
                            stdout.WriteLine();
                        }
                    }
                    else
                    {
                        using var file = File.Create(target);
                        writer.Write(report, file, context);
                    }

                    break;
                default:
                    if (target is null)
                    {
                        var console = AnsiConsole.Create(new AnsiConsoleSettings
                        {
                            Out = new AnsiConsoleOutput(stdout),
                            Ansi = stdout == Console.Out && !Console.IsOutputRedirected ? AnsiSupport.Detect : AnsiSupport.No,
                            ColorSystem = stdout == Console.Out && !Console.IsOutputRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
                        });
                        if (stdout != Console.Out || Console.IsOutputRedirected)
                        {
                            console.Profile.Width = 160;
                        }

                        TableReportWriter.Write(report, console, minimum);
                    }
                    else
                    {
                        using var writer = new StreamWriter(target);
                        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
                        console.Profile.Width = 160;
                        TableReportWriter.Write(report, console, minimum);
                    }

                    break;
            }
        }
    }

    private int Usage(string message)
    {
        stderr.WriteLine("error: " + message);
        return ExitCodes.UsageError;
    }

    private static bool TryLogLevel(string text, out LogEventLevel level)
    {
        level = text.ToLowerInvariant() switch
        {
            "verbose" => LogEventLevel.Verbose,
            "debug" => LogEventLevel.Debug,
            "information" or "info" => LogEventLevel.Information,
            "warning" or "warn" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            _ => (LogEventLevel)(-1),
        };
        return (int)level >= 0;
    }

    private Serilog.Core.Logger CreateLogger(LogEventLevel level, string? file)
    {
        var config = new LoggerConfiguration().MinimumLevel.Is(level).Enrich.WithProperty("Tool", "virtsecscan");
        if (file is null)
        {
            config = config.WriteTo.Console(outputTemplate: "[{Level:u3}] {Message:lj}{NewLine}{Exception}", standardErrorFromLevel: LogEventLevel.Verbose);
        }
        else if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            config = config.WriteTo.File(new CompactJsonFormatter(), file);
        }
        else
        {
            config = config.WriteTo.File(file, outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {Message:lj}{NewLine}{Exception}");
        }

        return config.CreateLogger();
    }
}

/// <summary>
/// Test-only fault injection, off unless an environment variable names a marker file: used by the test that kills
/// the process in the middle of <c>scan --save</c> to prove a scan is saved whole or not at all.
/// </summary>
internal static class FaultInjection
{
    public const string PauseDuringSave = "VIRTSECSCAN_TEST_PAUSE_DURING_SAVE";

    public static Action<int>? AfterHistoryRow()
    {
        var marker = Environment.GetEnvironmentVariable(PauseDuringSave);
        if (string.IsNullOrEmpty(marker))
        {
            return null;
        }

        return row =>
        {
            if (row == 1)
            {
                File.WriteAllText(marker, "paused inside the save transaction");
                Thread.Sleep(Timeout.Infinite);
            }
        };
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (the scan is synchronous).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
