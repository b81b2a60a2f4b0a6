using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using VirtSecScan.History;

namespace VirtSecScan.Cli.Commands;

/// <summary><c>history list</c>, <c>history show</c> and <c>diff</c>: read the scan history database.</summary>
public static class HistoryCommand
{
    public static int List(string? db, int limit, string format, TextWriter stdout, TextWriter stderr)
    {
        if (Open(db, stderr) is not { } store)
        {
            return ExitCodes.UsageError;
        }

        using (store)
        {
            var scans = store.List(limit);
            if (format == "json")
            {
                using var ms = new MemoryStream();
                using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                {
                    w.WriteStartArray();
                    foreach (var s in scans)
                    {
                        WriteSummary(w, s);
                    }

                    w.WriteEndArray();
                }

                stdout.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
                return ExitCodes.Ok;
            }

            if (scans.IsEmpty)
            {
                stdout.WriteLine($"No saved scans in {store.Path}. Run 'virtsecscan scan PATH --save' first.");
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Rounded);
            foreach (var column in new[] { "Scan", "Started (UTC)", "Inputs", "Profile", "Failed", "Waived", "Passed", "Not evaluated", "Resources" })
            {
                table.AddColumn(column);
            }

            foreach (var s in scans)
            {
                table.AddRow(
                    s.Id.ToString(CultureInfo.InvariantCulture),
                    s.StartedAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    Markup.Escape(s.Inputs),
                    Markup.Escape(s.Profile),
                    s.Failed.ToString(CultureInfo.InvariantCulture),
                    s.Waived.ToString(CultureInfo.InvariantCulture),
                    s.Passed.ToString(CultureInfo.InvariantCulture),
                    s.NotEvaluated.ToString(CultureInfo.InvariantCulture),
                    s.Resources.ToString(CultureInfo.InvariantCulture));
            }

            Console(stdout).Write(table);
            return ExitCodes.Ok;
        }
    }

    public static int Show(string? db, long id, string format, TextWriter stdout, TextWriter stderr)
    {
        if (Open(db, stderr) is not { } store)
        {
            return ExitCodes.UsageError;
        }

        using (store)
        {
            if (store.Load(id) is not { } scan)
            {
                stderr.WriteLine($"error: no scan {id} in {store.Path} (see 'virtsecscan history list')");
                return ExitCodes.UsageError;
            }

            if (format == "json")
            {
                stdout.WriteLine(store.ReportJson(id));
                return ExitCodes.Ok;
            }

            var s = scan.Summary;
            var console = Console(stdout);
            console.MarkupLine($"[bold]Scan {s.Id}[/] · {s.StartedAt:yyyy-MM-dd HH:mm} UTC · {Markup.Escape(s.Inputs)} · profile {Markup.Escape(s.Profile)}");
            console.MarkupLine($"[red]{s.Failed} failed[/], [blue]{s.Waived} waived[/], [green]{s.Passed} passed[/], [yellow]{s.NotEvaluated} not evaluated[/], {s.Resources} resources collected");
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var column in new[] { "Score", "Severity", "Status", "Rule", "Resource", "Fingerprint" })
            {
                table.AddColumn(column);
            }

            foreach (var f in scan.Findings)
            {
                table.AddRow(f.Score.ToString("0.0", CultureInfo.InvariantCulture), f.Severity, f.Status, Markup.Escape(f.RuleId), Markup.Escape(f.ResourceName), f.Fingerprint);
            }

            console.Write(table);
            return ExitCodes.Ok;
        }
    }

    public static int Diff(string? db, long? oldId, long? newId, string format, TextWriter stdout, TextWriter stderr)
    {
        if (Open(db, stderr) is not { } store)
        {
            return ExitCodes.UsageError;
        }

        using (store)
        {
            var diff = ScanDiff.FromStore(store, oldId, newId);
            if (diff is null)
            {
                stderr.WriteLine(oldId is null || newId is null
                    ? $"error: {store.Path} does not hold two scans of the same targets yet; run 'virtsecscan scan PATH --save' twice"
                    : $"error: scan {oldId} or {newId} is not in {store.Path}");
                return ExitCodes.UsageError;
            }

            switch (format)
            {
                case "json":
                    stdout.WriteLine(DiffJson(diff));
                    break;
                case "md":
                    stdout.Write(DiffMarkdown(diff));
                    break;
                default:
                    WriteDiffTable(diff, Console(stdout));
                    break;
            }

            return ExitCodes.Ok;
        }
    }

    public static string DiffJson(ScanDiff diff)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WritePropertyName("old");
            WriteSummary(w, diff.Old);
            w.WritePropertyName("new");
            WriteSummary(w, diff.New);
            w.WriteStartObject("counts");
            foreach (var kind in Enum.GetValues<ChangeKind>())
            {
                w.WriteNumber(FindingChange.NameOf(kind), diff.Count(kind));
            }

            w.WriteEndObject();
            w.WriteStartArray("changes");
            foreach (var c in diff.Changes)
            {
                w.WriteStartObject();
                w.WriteString("change", c.KindName);
                w.WriteString("fingerprint", c.Finding.Fingerprint);
                w.WriteString("ruleId", c.Finding.RuleId);
                w.WriteString("title", c.Finding.Title);
                w.WriteString("severity", c.Finding.Severity);
                w.WriteString("category", c.Finding.Category);
                w.WriteString("resource", c.Finding.ResourceName);
                w.WriteString("resourceKey", c.Finding.ResourceKey);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    public static string DiffMarkdown(ScanDiff diff)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# Changes from scan {diff.Old.Id} ({diff.Old.StartedAt:yyyy-MM-dd}) to scan {diff.New.Id} ({diff.New.StartedAt:yyyy-MM-dd})");
        sb.AppendLine();
        sb.AppendLine("| Change | Count |");
        sb.AppendLine("|---|---:|");
        foreach (var kind in Enum.GetValues<ChangeKind>())
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {FindingChange.NameOf(kind)} | {diff.Count(kind)} |");
        }

        sb.AppendLine();
        sb.AppendLine("| Change | Severity | Rule | Resource | Fingerprint |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var c in diff.Changes)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {c.KindName} | {c.Finding.Severity} | {Md(c.Finding.RuleId)} | {Md(c.Finding.ResourceName)} | `{c.Finding.Fingerprint}` |");
        }

        return sb.ToString();
    }

    private static void WriteDiffTable(ScanDiff diff, IAnsiConsole console)
    {
        console.MarkupLine($"[bold]Scan {diff.Old.Id}[/] ({diff.Old.StartedAt:yyyy-MM-dd HH:mm}) → [bold]scan {diff.New.Id}[/] ({diff.New.StartedAt:yyyy-MM-dd HH:mm})");
        var chart = new BarChart().Width(50).Label("[bold]Changes[/]");
        chart.AddItem("new", diff.Count(ChangeKind.New), Color.Red);
        chart.AddItem("regressed", diff.Count(ChangeKind.Regressed), Color.Orange1);
        chart.AddItem("persisting", diff.Count(ChangeKind.Persisting), Color.Yellow);
        chart.AddItem("resolved", diff.Count(ChangeKind.Resolved), Color.Green);
        chart.AddItem("not rescanned", diff.Count(ChangeKind.NotRescanned), Color.Grey);
        console.Write(chart);
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "Change", "Severity", "Rule", "Resource" })
        {
            table.AddColumn(column);
        }

        foreach (var c in diff.Changes.Where(c => c.Kind != ChangeKind.Persisting))
        {
            table.AddRow(c.KindName, c.Finding.Severity, Markup.Escape(c.Finding.RuleId), Markup.Escape(c.Finding.ResourceName));
        }

        if (table.Rows.Count > 0)
        {
            console.Write(table);
        }

        console.MarkupLine($"[dim]{diff.Count(ChangeKind.Persisting)} persisting findings not listed; use --format json for all.[/]");
    }

    private static void WriteSummary(Utf8JsonWriter w, ScanSummary s)
    {
        w.WriteStartObject();
        w.WriteNumber("id", s.Id);
        w.WriteString("startedAt", s.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        w.WriteString("targetsKey", s.TargetsKey);
        w.WriteString("inputs", s.Inputs);
        w.WriteString("profile", s.Profile);
        w.WriteNumber("failed", s.Failed);
        w.WriteNumber("waived", s.Waived);
        w.WriteNumber("passed", s.Passed);
        w.WriteNumber("notEvaluated", s.NotEvaluated);
        w.WriteNumber("resources", s.Resources);
        w.WriteEndObject();
    }

    private static string Md(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>Opens the history database: --db, else VIRTSECSCAN_DB, else the default in the user's data folder.</summary>
    public static HistoryStore? Open(string? db, TextWriter stderr)
    {
        var path = DatabasePath(db);
        try
        {
            return new HistoryStore(path);
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            stderr.WriteLine($"error: cannot open the history database {path}: {ex.Message}");
            return null;
        }
    }

    public static string DatabasePath(string? db)
    {
        if (!string.IsNullOrEmpty(db))
        {
            return db;
        }

        var env = Environment.GetEnvironmentVariable("VIRTSECSCAN_DB");
        return string.IsNullOrEmpty(env) ? HistoryStore.DefaultPath : env;
    }

    private static IAnsiConsole Console(TextWriter stdout)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 160;
        return console;
    }
}
