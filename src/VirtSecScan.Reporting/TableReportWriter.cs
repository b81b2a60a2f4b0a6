using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>
/// The ranked table for people: a severity chart, a category × severity matrix, then the findings in
/// rank order with their top evidence and first remediation step. <c>--severity</c> hides lower rows here only.
/// </summary>
public static class TableReportWriter
{
    public static void Write(ScanReport report, IAnsiConsole console, Severity minimum = Severity.Info, int? limit = null)
    {
        var unwaived = report.Unwaived.ToList();
        var waivedCount = report.Findings.Length - unwaived.Count;
        var shown = unwaived.Where(f => f.Severity >= minimum).ToList();
        console.Write(new Rule($"[bold]VirtSecScan[/] {Markup.Escape(JsonReportWriter.ToolVersion)} · profile [bold]{Markup.Escape(report.Profile)}[/]").LeftJustified());
        console.MarkupLine(
            $"{report.Collected.Length} files collected, {report.Skipped.Length} skipped, {report.Diagnostics.Count(d => d.Level == "error")} input errors · "
            + $"[red]{unwaived.Count} failed[/], [green]{report.Passed} passed[/], [yellow]{report.NotEvaluated.Length} not evaluated[/]"
            + (waivedCount > 0 ? $", [blue]{waivedCount} waived[/]" : "")
            + (report.AdvisoryFeed.Published is { } p ? $" · advisory feed {p:yyyy-MM-dd} ({report.AdvisoryFeed.AgeDays} days old)" : ""));
        if (report.History is { } h)
        {
            console.MarkupLine($"Since scan {h.PreviousScan}: [red]{h.New} new[/], [darkorange]{h.Regressed} regressed[/], [yellow]{h.Persisting} persisting[/], [green]{h.Resolved} resolved[/]"
                + (h.NotRescanned > 0 ? $", [dim]{h.NotRescanned} not rescanned[/]" : "")
                + (h.Trend.Length > 1 ? " · trend of failing findings: " + string.Join(" → ", h.Trend.Select(t => t.Failed.ToString(CultureInfo.InvariantCulture))) : ""));
        }

        console.WriteLine();

        if (unwaived.Count > 0)
        {
            var chart = new BarChart().Width(60).Label("[bold]Findings by severity[/]");
            foreach (var severity in new[] { Severity.Critical, Severity.High, Severity.Medium, Severity.Low, Severity.Info })
            {
                chart.AddItem(severity.ToName(), unwaived.Count(f => f.Severity == severity), ColorOf(severity));
            }

            console.Write(chart);
            console.WriteLine();
            console.Write(CategoryMatrix(report));
            console.WriteLine();
        }

        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn(new TableColumn("#").RightAligned());
        table.AddColumn(new TableColumn("Score").RightAligned());
        table.AddColumn("Severity");
        table.AddColumn("Cat.");
        table.AddColumn("Resource");
        table.AddColumn("Finding");
        table.AddColumn("Fix first");
        foreach (var f in limit is { } n ? shown.Take(n) : shown)
        {
            var evidence = f.Evidence.FirstOrDefault();
            var what = Markup.Escape(f.Title)
                + (evidence is null ? "" : $"\n[dim]{Markup.Escape(evidence.Key)} = {Markup.Escape(Shorten(evidence.Actual ?? "", 70))}"
                    + (evidence.Expected is null ? "" : $" (expected {Markup.Escape(Shorten(evidence.Expected, 50))})") + "[/]")
                + (f.References.IsEmpty ? "" : $"\n[dim]{Markup.Escape(string.Join(", ", f.References.Take(3).Select(r => r.Id)))}[/]");
            table.AddRow(
                new Text(f.Rank.ToString(CultureInfo.InvariantCulture)),
                new Text(f.Score.ToString("0.0", CultureInfo.InvariantCulture)),
                new Markup($"[{ColorOf(f.Severity).ToMarkup()}]{f.Severity.ToName()}[/]"),
                new Text(f.Category),
                new Markup($"{Markup.Escape(f.Resource.Name)}\n[dim]{Markup.Escape(f.Resource.Zone ?? "")}[/]"),
                new Markup(what),
                new Text(Shorten(f.Remediation?.Steps.FirstOrDefault() ?? "", 90)));
        }

        if (shown.Count > 0)
        {
            console.Write(table);
        }
        else
        {
            console.MarkupLine("[green]No findings at or above the chosen severity.[/]");
        }

        if (shown.Count < unwaived.Count)
        {
            console.MarkupLine($"[dim]{unwaived.Count - shown.Count} findings below '{minimum.ToName()}' are hidden here (they are in the JSON report).[/]");
        }

        WriteReachability(report, console);

        if (report.NotEvaluated.Length > 0)
        {
            // Rules over what a live target did not give are summed up per target (there can be thousands); examples are the others.
            var examples = report.NotEvaluated.Where(f => !VirtSecScan.Engine.Live.UncollectedRules.IsUncollected(f)).Take(5).ToList();
            console.MarkupLine($"[yellow]{report.NotEvaluated.Length} checks could not be evaluated[/] (never counted as passed)" + (examples.Count > 0 ? ", for example:" : ":"));
            foreach (var f in examples)
            {
                console.MarkupLine($"  [dim]{Markup.Escape(f.RuleId)} on {Markup.Escape(f.Resource.Name)}: {Markup.Escape(Shorten(f.Reason ?? "", 100))}[/]");
            }

            foreach (var g in report.NotEvaluated.GroupBy(VirtSecScan.Engine.Live.UncollectedRules.TargetOf).Where(g => g.Key is not null).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var resources = g.Select(f => f.Resource.Id).Distinct(StringComparer.Ordinal).Count();
                var reasons = g.Select(f => f.Reason).Distinct(StringComparer.Ordinal).ToList();
                var rules = g.Select(f => f.RuleId).Distinct(StringComparer.Ordinal).Count();
                console.MarkupLine($"  [dim]{g.Count()} checks ({rules} {(rules == 1 ? "rule" : "rules")}, {resources} {(resources == 1 ? "resource" : "resources")}) on target {Markup.Escape(g.Key!)}: "
                    + $"{Markup.Escape(Shorten(reasons.Count == 1 ? reasons[0] ?? "" : "not collected: " + string.Join(", ", reasons.Select(r => (r ?? "")[VirtSecScan.Engine.Live.UncollectedRules.ReasonPrefix.Length..].Split(':')[0]).Distinct(StringComparer.Ordinal)) + " (reasons per resource in the JSON report)", 100))}[/]");
            }
        }

        if (report.Exceptions.Length > 0)
        {
            console.MarkupLine($"[dim]{report.Exceptions.Length} failing checks are documented exceptions in the site file (passed-with-exception), for example:[/]");
            foreach (var f in report.Exceptions.Take(5))
            {
                console.MarkupLine($"  [dim]{Markup.Escape(f.RuleId)} on {Markup.Escape(f.Resource.Name)}: {Markup.Escape(Shorten(f.Exception?.Reason ?? "", 100))}[/]");
            }
        }

        foreach (var d in report.Diagnostics.Where(d => d.Level != "info"))
        {
            var where = d.Line is { } l ? $"{d.File}:{l}" : d.File;
            console.MarkupLine($"[{(d.Level == "error" ? "red" : "yellow")}]{d.Level}[/] {Markup.Escape(where)}: {Markup.Escape(d.Message)}");
        }
    }

    private static Table CategoryMatrix(ScanReport report)
    {
        var severities = new[] { Severity.Critical, Severity.High, Severity.Medium, Severity.Low, Severity.Info };
        var matrix = new Table().Border(TableBorder.Simple).Title("[bold]Threat category × severity[/]");
        matrix.AddColumn("Category");
        foreach (var s in severities)
        {
            matrix.AddColumn(new TableColumn(s.ToName()).Centered());
        }

        matrix.AddColumn(new TableColumn("total").Centered());
        foreach (var (id, name) in ThreatCategory.Names)
        {
            var inCategory = report.Unwaived.Where(f => f.Category == id).ToList();
            var cells = new List<IRenderable> { new Markup($"{id} [dim]{Markup.Escape(name)}[/]") };
            foreach (var s in severities)
            {
                var n = inCategory.Count(f => f.Severity == s);
                cells.Add(n == 0 ? new Markup("[dim]·[/]") : new Markup($"[{ColorOf(s).ToMarkup()}]{n}[/]"));
            }

            cells.Add(new Text(inCategory.Count.ToString(CultureInfo.InvariantCulture)));
            matrix.AddRow(cells);
        }

        return matrix;
    }

    /// <summary>One zone-to-zone matrix per firewall: rows are source zones, columns destination zones, cells what passes.</summary>
    private static void WriteReachability(ScanReport report, IAnsiConsole console)
    {
        foreach (var firewall in report.Reachability.Cells.Select(c => c.Firewall).Distinct())
        {
            var cells = report.Reachability.Cells.Where(c => c.Firewall == firewall).ToList();
            var zones = cells.Select(c => c.FromZone).Concat(cells.Select(c => c.ToZone)).Distinct().ToList();
            var matrix = new Table().Border(TableBorder.Simple).Title($"[bold]Zone-to-zone reachability through {Markup.Escape(firewall)}[/] [dim](new connections; row = from, column = to)[/]");
            matrix.AddColumn("from \\ to");
            foreach (var z in zones)
            {
                matrix.AddColumn(new TableColumn(Markup.Escape(z)).Centered());
            }

            foreach (var from in zones)
            {
                var row = new List<IRenderable> { new Markup($"[bold]{Markup.Escape(from)}[/]") };
                foreach (var to in zones)
                {
                    var pair = cells.Where(c => c.FromZone == from && c.ToZone == to).ToList();
                    if (from == to || pair.Count == 0)
                    {
                        row.Add(new Markup("[dim]·[/]"));
                        continue;
                    }

                    var allowed = pair.Where(c => c.Action == "accept").ToList();
                    if (allowed.Count == 0)
                    {
                        row.Add(new Markup("[green]-[/]"));
                        continue;
                    }

                    var text = string.Join("\n", allowed.Select(c => c.Protocol is "tcp" or "udp" ? $"{c.Protocol}/{Shorten(c.Ports.FormatPorts(), 14)}" : c.Protocol));
                    var open = allowed.Any(c => c.Protocol is "tcp" or "udp" && c.Ports.Equals(VirtSecScan.Core.Network.IntervalSet.AllPorts));
                    row.Add(new Markup(open ? $"[red]{Markup.Escape(text)}[/]" : Markup.Escape(text)));
                }

                matrix.AddRow(row);
            }

            console.Write(matrix);
        }

        foreach (var s in report.Reachability.Shadowed)
        {
            console.MarkupLine($"[dim]shadowed: {Markup.Escape(s.Line.File)}:{s.Line.Line} `{Markup.Escape(Shorten(s.Line.Text, 80))}` (by line {string.Join(", ", s.By.Select(b => b.Line))})[/]");
        }
    }

    private static Color ColorOf(Severity severity) => severity switch
    {
        Severity.Critical => Color.Red,
        Severity.High => Color.OrangeRed1,
        Severity.Medium => Color.Yellow,
        Severity.Low => Color.SteelBlue1,
        _ => Color.Grey,
    };

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
