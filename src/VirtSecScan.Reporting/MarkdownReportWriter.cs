using System.Globalization;
using System.Text;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>
/// A Markdown summary for pull requests, wikis and e-mail: counts by severity and category, then one table row
/// per finding (rank, severity, category, resource, finding, first fix, fingerprint). Scanned text is escaped so
/// it cannot open links, HTML or tables.
/// </summary>
public static class MarkdownReportWriter
{
    public static void Write(ScanReport report, TextWriter writer) => writer.Write(ToMarkdown(report));

    public static string ToMarkdown(ScanReport report)
    {
        var open = report.Findings.Where(f => !ReportText.IsWaived(f)).ToList();
        var sb = new StringBuilder();
        sb.Append("# VirtSecScan report\n\n");
        sb.Append("Scanned ").Append(ReportText.Date(report.StartedAt)).Append(" · profile `").Append(Code(report.Profile)).Append("` · ")
            .Append(ReportText.Int(report.Collected.Length)).Append(" files collected, ").Append(ReportText.Int(report.Skipped.Length)).Append(" skipped · VirtSecScan ")
            .Append(JsonReportWriter.ToolVersion).Append("\n\n");
        sb.Append("**").Append(ReportText.Int(report.Findings.Length)).Append(" findings** (").Append(ReportText.Int(open.Count)).Append(" open, ")
            .Append(ReportText.Int(report.Findings.Length - open.Count)).Append(" waived), ").Append(ReportText.Int(report.Passed)).Append(" checks passed, ")
            .Append(ReportText.Int(report.NotEvaluated.Length)).Append(" not evaluated (never counted as passed).\n\n");

        sb.Append("| Severity | Open |\n|---|---:|\n");
        foreach (var s in ReportText.SeveritiesHighFirst)
        {
            sb.Append("| ").Append(s.ToName()).Append(" | ").Append(ReportText.Int(open.Count(f => f.Severity == s))).Append(" |\n");
        }

        sb.Append("\n| Category | Open |\n|---|---:|\n");
        foreach (var (id, name) in ThreatCategory.Names)
        {
            var n = open.Count(f => f.Category == id);
            if (n > 0)
            {
                sb.Append("| ").Append(id).Append(' ').Append(Esc(name)).Append(" | ").Append(ReportText.Int(n)).Append(" |\n");
            }
        }

        sb.Append("\n## Findings\n\n");
        if (report.Findings.Length == 0)
        {
            sb.Append("No findings.\n");
        }
        else
        {
            sb.Append("| # | Severity | Cat. | Resource | Finding | Fix first | Fingerprint |\n|---:|---|---|---|---|---|---|\n");
            foreach (var f in report.Findings)
            {
                sb.Append("| ").Append(ReportText.Int(f.Rank))
                    .Append(" | ").Append(f.Severity.ToName()).Append(ReportText.IsWaived(f) ? " (waived)" : "")
                    .Append(" | ").Append(Esc(f.Category))
                    .Append(" | ").Append(Esc(f.Resource.Name)).Append(f.Resource.Zone is { } z ? " (" + Esc(z) + ")" : "")
                    .Append(" | ").Append(Esc(f.Title))
                    .Append(" | ").Append(Esc(Shorten(f.Remediation?.Steps.FirstOrDefault() ?? f.Remediation?.Summary ?? "", 140)))
                    .Append(" | `").Append(Code(f.Fingerprint)).Append("` |\n");
            }
        }

        var waived = report.Findings.Where(ReportText.IsWaived).ToList();
        if (waived.Count > 0)
        {
            sb.Append("\n## Waived\n\n");
            foreach (var f in waived)
            {
                sb.Append("- ").Append(Esc(f.Title)).Append(f.Waiver is { } w
                    ? $": {Esc(w.Justification)} (approved by {Esc(w.Approver)}, expires {w.Expires.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)})"
                    : "").Append('\n');
            }
        }

        var problems = report.Diagnostics.Where(d => d.Level != "info").ToList();
        if (problems.Count > 0)
        {
            sb.Append("\n## Input problems\n\n");
            foreach (var d in problems)
            {
                sb.Append("- ").Append(d.Level).Append(' ').Append(Esc(d.Line is { } l ? $"{d.File}:{l.ToString(CultureInfo.InvariantCulture)}" : d.File))
                    .Append(": ").Append(Esc(d.Message)).Append('\n');
            }
        }

        return sb.ToString();
    }

    /// <summary>Escapes Markdown and inline HTML in table cells and text; line breaks become spaces.</summary>
    public static string Esc(string text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\r' or '\n': sb.Append(' '); break;
                case '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '#' or '!' or '~': sb.Append('\\').Append(c); break;
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
    }

    private static string Code(string text) => text.Replace("`", "'", StringComparison.Ordinal).Replace('\n', ' ').Replace('\r', ' ').Replace("|", "\\|", StringComparison.Ordinal);

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
