using System.Globalization;
using System.Text;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>
/// One row per finding, RFC 4180 (comma, CRLF, fields with comma, quote or line break quoted, quotes doubled),
/// UTF-8 with a byte order mark so spreadsheet programs read it as UTF-8. A text value that starts with
/// <c>= + - @</c>, tab or carriage return gets a leading apostrophe, so a spreadsheet never runs it as a formula.
/// </summary>
public static class CsvReportWriter
{
    public static readonly string[] Columns =
    [
        "FINDING_UID", "RANK", "SEVERITY", "SCORE", "CATEGORY", "CATEGORY_NAME", "RULE_ID", "TITLE", "STATUS",
        "RESOURCE_TYPE", "RESOURCE_ID", "RESOURCE_NAME", "HOST", "ZONE", "SOURCE", "LINE", "EVIDENCE",
        "REMEDIATION", "REMEDIATION_STEPS", "REFERENCES", "COMPLIANCE", "SCORE_FACTORS",
        "WAIVER_ID", "WAIVER_JUSTIFICATION", "WAIVER_APPROVER", "WAIVER_EXPIRES", "PROFILE",
    ];

    public static void Write(ScanReport report, TextWriter writer)
    {
        writer.Write(ToCsv(report));
    }

    public static string ToCsv(ScanReport report)
    {
        var sb = new StringBuilder();
        sb.Append('\uFEFF');
        AppendRow(sb, Columns);
        foreach (var f in report.Findings)
        {
            var (file, line) = ReportText.Location(f);
            AppendRow(sb,
            [
                f.Fingerprint,
                ReportText.Int(f.Rank),
                f.Severity.ToName(),
                ReportText.Num(f.Score),
                f.Category,
                ThreatCategory.Names.TryGetValue(f.Category, out var cn) ? cn : "",
                f.RuleId,
                f.Title,
                f.Status.ToName(),
                f.Resource.Type,
                f.Resource.Id,
                f.Resource.Name,
                f.Resource.Host ?? "",
                f.Resource.Zone ?? "",
                file ?? "",
                line is { } l ? ReportText.Int(l) : "",
                string.Join(" | ", f.Evidence.Select(e => $"{e.Key}={e.Actual ?? "(absent)"}" + (e.Expected is null ? "" : $" (expected {e.Expected})"))),
                f.Remediation?.Summary ?? "",
                string.Join(" | ", f.Remediation?.Steps ?? []),
                string.Join(" | ", f.References.Select(r => r.Id)),
                string.Join(" | ", f.Compliance.Select(c => $"{c.Key}: {string.Join(", ", c.Value)}")),
                string.Join(" | ", f.ScoreFactors.Select(s => $"{s.Factor}={s.Value.ToString("0.##", CultureInfo.InvariantCulture)}")),
                f.Waiver?.Id ?? "",
                f.Waiver?.Justification ?? "",
                f.Waiver?.Approver ?? "",
                f.Waiver?.Expires.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                f.Profile ?? "",
            ]);
        }

        return sb.ToString();
    }

    /// <summary>Neutralises a value a spreadsheet would read as a formula (OWASP CSV injection).</summary>
    public static string Neutralise(string value) =>
        value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;

    /// <summary>Quotes a field when RFC 4180 requires it (comma, quote, CR or LF), doubling quotes.</summary>
    public static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static void AppendRow(StringBuilder sb, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(Quote(Neutralise(fields[i])));
        }

        sb.Append("\r\n");
    }

    /// <summary>Reads RFC 4180 text back into rows (for tests and the consistency check); a BOM is skipped.</summary>
    public static List<string[]> Parse(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        var i = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        var quoted = false;
        var any = false;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            any = true;
            if (quoted)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString());
                field.Clear();
                rows.Add([.. row]);
                row.Clear();
                i++;
                any = false;
            }
            else
            {
                field.Append(c);
            }
        }

        if (any)
        {
            row.Add(field.ToString());
            rows.Add([.. row]);
        }

        return rows;
    }
}
