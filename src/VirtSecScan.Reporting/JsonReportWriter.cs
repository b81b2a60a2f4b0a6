using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>
/// The JSON report of the contract (schemaVersion "1"). Field order and every list's order are fixed, so
/// the same inputs give byte-identical output apart from <c>scan.startedAt</c>.
/// </summary>
public static class JsonReportWriter
{
    public const string SchemaVersion = "1";

    public static string ToolVersion { get; } =
        typeof(JsonReportWriter).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.0.0";

    public static void Write(ScanReport report, Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("schemaVersion", SchemaVersion);
        w.WriteStartObject("tool");
        w.WriteString("name", "VirtSecScan");
        w.WriteString("version", ToolVersion);
        w.WriteEndObject();

        w.WriteStartObject("scan");
        w.WriteString("startedAt", report.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        w.WriteStartArray("inputs");
        foreach (var input in report.Inputs)
        {
            w.WriteStringValue(input);
        }

        w.WriteEndArray();
        w.WriteString("profile", report.Profile);
        WriteNullable(w, "site", report.Site);
        w.WriteStartArray("rulesets");
        foreach (var r in report.Rulesets)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteString("version", r.Version);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("advisoryFeed");
        WriteNullable(w, "published", report.AdvisoryFeed.Published?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        if (report.AdvisoryFeed.AgeDays is { } age)
        {
            w.WriteNumber("ageDays", age);
        }
        else
        {
            w.WriteNull("ageDays");
        }

        w.WriteNumber("advisories", report.AdvisoryFeed.Advisories);
        w.WriteEndObject();
        w.WriteStartArray("collected");
        foreach (var c in report.Collected)
        {
            w.WriteStartObject();
            w.WriteString("file", c.File);
            w.WriteString("format", c.Format);
            w.WriteNumber("facts", c.Facts);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("skipped");
        foreach (var s in report.Skipped)
        {
            w.WriteStartObject();
            w.WriteString("file", s.File);
            w.WriteString("reason", s.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("resources");
        foreach (var r in report.Resources)
        {
            w.WriteStartObject();
            w.WriteString("type", r.Type);
            w.WriteString("id", r.Id);
            w.WriteString("name", r.Name);
            WriteNullable(w, "source", r.Source);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject("summary");
        foreach (var severity in new[] { Severity.Critical, Severity.High, Severity.Medium, Severity.Low, Severity.Info })
        {
            w.WriteNumber(severity.ToName(), report.Findings.Count(f => f.Severity == severity));
        }

        w.WriteStartObject("byCategory");
        foreach (var group in report.Findings.GroupBy(f => f.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            w.WriteNumber(group.Key, group.Count());
        }

        w.WriteEndObject();
        w.WriteNumber("failed", report.Findings.Length);
        w.WriteNumber("passed", report.Passed);
        w.WriteNumber("notEvaluated", report.NotEvaluated.Length);
        w.WriteEndObject();

        w.WriteStartArray("findings");
        foreach (var f in report.Findings)
        {
            WriteFinding(w, f);
        }

        w.WriteEndArray();

        w.WriteStartArray("notEvaluated");
        foreach (var f in report.NotEvaluated)
        {
            w.WriteStartObject();
            w.WriteString("ruleId", f.RuleId);
            w.WriteString("fingerprint", f.Fingerprint);
            w.WriteString("title", f.Title);
            WriteResource(w, f.Resource);
            w.WriteString("reason", f.Reason ?? "not evaluated");
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("diagnostics");
        foreach (var d in report.Diagnostics)
        {
            w.WriteStartObject();
            w.WriteString("level", d.Level);
            w.WriteString("file", d.File);
            if (d.Line is { } line)
            {
                w.WriteNumber("line", line);
            }

            w.WriteString("message", d.Message);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
    }

    public static string ToJson(ScanReport report)
    {
        using var ms = new MemoryStream();
        Write(report, ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteFinding(Utf8JsonWriter w, Finding f)
    {
        w.WriteStartObject();
        w.WriteNumber("rank", f.Rank);
        w.WriteString("fingerprint", f.Fingerprint);
        w.WriteString("ruleId", f.RuleId);
        w.WriteString("title", f.Title);
        w.WriteString("category", f.Category);
        w.WriteString("severity", f.Severity.ToName());
        w.WriteNumber("score", f.Score);
        w.WriteStartArray("scoreFactors");
        foreach (var factor in f.ScoreFactors)
        {
            w.WriteStartObject();
            w.WriteString("factor", factor.Factor);
            w.WriteNumber("value", factor.Value);
            w.WriteString("reason", factor.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteString("status", f.Status.ToName());
        WriteResource(w, f.Resource);
        w.WriteStartArray("evidence");
        foreach (var e in f.Evidence)
        {
            w.WriteStartObject();
            w.WriteString("key", e.Key);
            WriteNullable(w, "actual", e.Actual);
            if (e.Expected is not null)
            {
                w.WriteString("expected", e.Expected);
            }

            if (e.Source is not null)
            {
                w.WriteString("source", e.Source);
            }

            if (e.Line is { } line)
            {
                w.WriteNumber("line", line);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (f.Remediation is { } r)
        {
            w.WriteStartObject("remediation");
            w.WriteString("summary", r.Summary);
            w.WriteStartArray("steps");
            foreach (var step in r.Steps)
            {
                w.WriteStringValue(step);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteStartArray("references");
        foreach (var reference in f.References)
        {
            w.WriteStartObject();
            w.WriteString("id", reference.Id);
            w.WriteString("source", reference.Source);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("compliance");
        foreach (var (framework, ids) in f.Compliance)
        {
            w.WriteStartArray(framework);
            foreach (var id in ids)
            {
                w.WriteStringValue(id);
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
        if (f.Exploitation is { } x)
        {
            w.WriteStartObject("exploitation");
            w.WriteBoolean("knownExploited", x.KnownExploited);
            w.WriteBoolean("ransomwareUse", x.RansomwareUse);
            w.WriteStartArray("kevCves");
            foreach (var cve in x.KevCves)
            {
                w.WriteStringValue(cve);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        WriteNullable(w, "profile", f.Profile);
        w.WriteEndObject();
    }

    private static void WriteResource(Utf8JsonWriter w, ResourceRef r)
    {
        w.WriteStartObject("resource");
        w.WriteString("type", r.Type);
        w.WriteString("id", r.Id);
        w.WriteString("name", r.Name);
        WriteNullable(w, "host", r.Host);
        WriteNullable(w, "zone", r.Zone);
        WriteNullable(w, "source", r.Source);
        if (r.Line is { } line)
        {
            w.WriteNumber("line", line);
        }

        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}
