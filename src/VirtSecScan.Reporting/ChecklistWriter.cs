using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using VirtSecScan.Engine.Compliance;

namespace VirtSecScan.Reporting;

/// <summary>Pre-audit checklists as a table, Markdown, CSV, self-contained HTML and JSON. Every value from data is escaped.</summary>
public static class ChecklistWriter
{
    public static readonly string[] Formats = ["table", "md", "csv", "html", "json"];

    public static void Write(Checklist checklist, string format, TextWriter output)
    {
        switch (format)
        {
            case "md":
                output.Write(Markdown(checklist));
                break;
            case "csv":
                output.Write(Csv(checklist));
                break;
            case "html":
                output.Write(Html(checklist));
                break;
            case "json":
                output.Write(Json(checklist));
                break;
            default:
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
                console.Profile.Width = 160;
                Table(checklist, console);
                break;
        }
    }

    public static void Table(Checklist c, IAnsiConsole console)
    {
        console.Write(new Rule($"[bold]{Markup.Escape(c.Catalog.Title)}[/]").LeftJustified());
        if (c.Catalog.Note is { } note)
        {
            console.MarkupLine($"[dim]{Markup.Escape(note)}[/]");
        }

        var chart = new BarChart().Width(50).Label("[bold]Controls by status[/]");
        chart.AddItem("FAIL", c.Count(ControlStatus.Fail), Color.Red);
        chart.AddItem("NOT-EVALUATED", c.Count(ControlStatus.NotEvaluated), Color.Yellow);
        chart.AddItem("MANUAL", c.Count(ControlStatus.Manual), Color.Blue);
        chart.AddItem("WAIVED", c.Count(ControlStatus.Waived), Color.Purple);
        chart.AddItem("PASS", c.Count(ControlStatus.Pass), Color.Green);
        console.Write(chart);

        var table = new Table().Border(TableBorder.Rounded).Expand();
        foreach (var column in new[] { "Control", "Title", "Level", "Status", "Why", "Findings / open items" })
        {
            table.AddColumn(column);
        }

        foreach (var r in c.Controls)
        {
            table.AddRow(
                Markup.Escape(r.Control.Id),
                Markup.Escape(r.Control.Title),
                Markup.Escape(r.Control.Level ?? ""),
                Markup.Escape(r.StatusName),
                Markup.Escape(r.Reason),
                Markup.Escape(Details(r)));
        }

        console.Write(table);
        foreach (var a in c.UnknownAttestations)
        {
            console.MarkupLine($"[yellow]{Markup.Escape($"{a.File}:{a.Line}")}: attestation for {Markup.Escape(a.Control)}/{Markup.Escape(a.Item)} names no control item of {Markup.Escape(c.Catalog.Framework)}[/]");
        }
    }

    public static string Markdown(Checklist c)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {Md(c.Catalog.Title)}");
        sb.AppendLine();
        if (c.Catalog.Note is { } note)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"> {Md(note)}");
            sb.AppendLine();
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"Scan of {Md(string.Join(", ", c.Report.Inputs))} on {c.Report.StartedAt:yyyy-MM-dd}, profile {Md(c.Report.Profile)}.");
        sb.AppendLine();
        sb.AppendLine("| Status | Controls |");
        sb.AppendLine("|---|---:|");
        foreach (var s in Enum.GetValues<ControlStatus>())
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {StatusName(s)} | {c.Count(s)} |");
        }

        sb.AppendLine();
        sb.AppendLine("| Control | Title | Level | Status | Why |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in c.Controls)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {Md(r.Control.Id)} | {Md(r.Control.Title)} | {Md(r.Control.Level ?? "")} | **{r.StatusName}** | {Md(r.Reason)} |");
        }

        foreach (var r in c.Controls.Where(r => !r.Findings.IsEmpty || !r.Manual.IsEmpty))
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"## {Md(r.Control.Id)} {Md(r.Control.Title)}: {r.StatusName}");
            foreach (var f in r.Findings)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {f.Status.ToString().ToLowerInvariant()}: `{Md(f.RuleId)}` on {Md(f.Resource.Name)} ({Md(f.Title)}), fingerprint `{f.Fingerprint}`");
            }

            foreach (var m in r.Manual)
            {
                sb.AppendLine(m.Attestation is { } a
                    ? $"- [{(a.Satisfied ? "x" : " ")}] {Md(m.Item.Text)} (answered {Md(a.Answer)} by {Md(a.By)} on {a.Date:yyyy-MM-dd}{(a.Evidence is null ? "" : "; " + Md(a.Evidence))})"
                    : $"- [ ] {Md(m.Item.Text)} (to answer: `{Md(r.Control.Id)}` / `{Md(m.Item.Id)}`)");
            }
        }

        return sb.ToString();
    }

    public static string Csv(Checklist c)
    {
        var sb = new StringBuilder();
        sb.Append("framework,control,title,level,status,reason,findings,open_manual_items\r\n");
        foreach (var r in c.Controls)
        {
            var fields = new[]
            {
                c.Catalog.Framework, r.Control.Id, r.Control.Title, r.Control.Level ?? "", r.StatusName, r.Reason,
                string.Join("; ", r.Findings.Select(f => $"{f.RuleId} on {f.Resource.Name} [{f.Fingerprint}]")),
                string.Join("; ", r.Manual.Where(m => m.Attestation is null).Select(m => m.Item.Id)),
            };
            sb.Append(string.Join(',', fields.Select(CsvField))).Append("\r\n");
        }

        return sb.ToString();
    }

    public static string Html(Checklist c)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(c.Catalog.Title)).Append("</title>\n<style>")
            .Append("body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}")
            .Append(".PASS{background:#dff5e1}.FAIL{background:#fde0e0}.MANUAL{background:#e3ecfb}.WAIVED{background:#efe3fb}.NOT-EVALUATED{background:#fff6d6}")
            .Append("@media print{body{margin:0}}</style></head><body>\n");
        sb.Append("<h1>").Append(E(c.Catalog.Title)).Append("</h1>\n");
        if (c.Catalog.Note is { } note)
        {
            sb.Append("<p><em>").Append(E(note)).Append("</em></p>\n");
        }

        sb.Append("<p>Scan of ").Append(E(string.Join(", ", c.Report.Inputs))).Append(" on ").Append(c.Report.StartedAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
            .Append(", profile ").Append(E(c.Report.Profile)).Append(".</p>\n");
        sb.Append(StatusBar(c));
        sb.Append("<table><thead><tr><th>Control</th><th>Title</th><th>Level</th><th>Status</th><th>Why</th><th>Findings and manual items</th></tr></thead><tbody>\n");
        foreach (var r in c.Controls)
        {
            sb.Append("<tr class=\"").Append(r.StatusName).Append("\"><td>").Append(E(r.Control.Id)).Append("</td><td>").Append(E(r.Control.Title))
                .Append("</td><td>").Append(E(r.Control.Level ?? "")).Append("</td><td><strong>").Append(r.StatusName).Append("</strong></td><td>")
                .Append(E(r.Reason)).Append("</td><td><ul>");
            foreach (var f in r.Findings)
            {
                sb.Append("<li>").Append(E($"{f.Status.ToString().ToLowerInvariant()}: {f.RuleId} on {f.Resource.Name}")).Append(" <code>").Append(f.Fingerprint).Append("</code></li>");
            }

            foreach (var m in r.Manual)
            {
                sb.Append("<li>").Append(m.Attestation is { } a ? (a.Satisfied ? "&#9745; " : "&#9746; ") : "&#9744; ").Append(E(m.Item.Text));
                if (m.Attestation is { } at)
                {
                    sb.Append(" <small>(").Append(E($"{at.Answer}, {at.By}, {at.Date:yyyy-MM-dd}")).Append(")</small>");
                }

                sb.Append("</li>");
            }

            sb.Append("</ul></td></tr>\n");
        }

        sb.Append("</tbody></table>\n</body></html>\n");
        return sb.ToString();
    }

    public static string Json(Checklist c)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("framework", c.Catalog.Framework);
            w.WriteString("title", c.Catalog.Title);
            w.WriteString("scanStartedAt", c.Report.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteStartObject("summary");
            foreach (var s in Enum.GetValues<ControlStatus>())
            {
                w.WriteNumber(StatusName(s), c.Count(s));
            }

            w.WriteEndObject();
            w.WriteStartArray("controls");
            foreach (var r in c.Controls)
            {
                w.WriteStartObject();
                w.WriteString("id", r.Control.Id);
                w.WriteString("title", r.Control.Title);
                if (r.Control.Level is { } level)
                {
                    w.WriteString("level", level);
                }

                w.WriteString("status", r.StatusName);
                w.WriteString("reason", r.Reason);
                w.WriteStartArray("rules");
                foreach (var (rule, t) in r.EvidenceRules)
                {
                    w.WriteStartObject();
                    w.WriteString("ruleId", rule);
                    w.WriteNumber("pass", t.Pass);
                    w.WriteNumber("fail", t.Fail);
                    w.WriteNumber("notEvaluated", t.NotEvaluated);
                    w.WriteNumber("error", t.Error);
                    w.WriteNumber("waived", t.Waived);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("findings");
                foreach (var f in r.Findings)
                {
                    w.WriteStartObject();
                    w.WriteString("fingerprint", f.Fingerprint);
                    w.WriteString("ruleId", f.RuleId);
                    w.WriteString("status", f.Status.ToString().ToLowerInvariant());
                    w.WriteString("resource", f.Resource.Name);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartArray("manual");
                foreach (var m in r.Manual)
                {
                    w.WriteStartObject();
                    w.WriteString("id", m.Item.Id);
                    w.WriteString("text", m.Item.Text);
                    if (m.Attestation is { } a)
                    {
                        w.WriteString("answer", a.Answer);
                        w.WriteString("by", a.By);
                        w.WriteString("date", a.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>A CSV field (RFC 4180) that a spreadsheet never runs as a formula.</summary>
    public static string CsvField(string value) => CsvReportWriter.Quote(CsvReportWriter.Neutralise(value));

    private static string StatusBar(Checklist c)
    {
        var total = Math.Max(1, c.Controls.Length);
        var colors = new Dictionary<ControlStatus, string>
        {
            [ControlStatus.Fail] = "#d9534f",
            [ControlStatus.NotEvaluated] = "#f0ad4e",
            [ControlStatus.Manual] = "#5b8def",
            [ControlStatus.Waived] = "#9b6bd3",
            [ControlStatus.Pass] = "#5cb85c",
        };
        var sb = new StringBuilder("<svg role=\"img\" aria-label=\"controls by status\" width=\"600\" height=\"46\" viewBox=\"0 0 600 46\">");
        double x = 0;
        foreach (var (status, color) in colors)
        {
            var n = c.Count(status);
            var w = 600.0 * n / total;
            if (n > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.##}\" y=\"0\" width=\"{w:0.##}\" height=\"24\" fill=\"{color}\"><title>{StatusName(status)}: {n}</title></rect>");
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 2:0.##}\" y=\"40\" font-size=\"11\">{StatusName(status)} {n}</text>");
            }

            x += w;
        }

        return sb.Append("</svg>\n").ToString();
    }

    private static string Details(ControlResult r) =>
        string.Join("; ", r.Findings.GroupBy(f => f.RuleId, StringComparer.Ordinal)
            .Select(g => $"{g.Key} on {string.Join(", ", g.Select(f => f.Resource.Name).Distinct().Take(3))}{(g.Select(f => f.Resource.Name).Distinct().Count() > 3 ? " ..." : "")}")
            .Concat(r.Manual.Where(m => m.Attestation is null).Select(m => "open: " + m.Item.Id)));

    private static string StatusName(ControlStatus s) => ControlResult.NameOf(s);

    private static string Md(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
