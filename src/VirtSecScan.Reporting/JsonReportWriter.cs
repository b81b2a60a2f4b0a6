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
        WriteNullable(w, "kevCatalogVersion", report.AdvisoryFeed.KevCatalogVersion);
        WriteNullable(w, "kevDateReleased", report.AdvisoryFeed.KevDateReleased?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        WriteNullable(w, "epssScoreDate", report.AdvisoryFeed.EpssScoreDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
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
        WriteTargets(w, report);
        w.WriteEndObject();

        w.WriteStartObject("summary");
        foreach (var severity in new[] { Severity.Critical, Severity.High, Severity.Medium, Severity.Low, Severity.Info })
        {
            w.WriteNumber(severity.ToName(), report.Unwaived.Count(f => f.Severity == severity));
        }

        w.WriteStartObject("byCategory");
        foreach (var group in report.Unwaived.GroupBy(f => f.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            w.WriteNumber(group.Key, group.Count());
        }

        w.WriteEndObject();
        w.WriteNumber("failed", report.Unwaived.Count());
        w.WriteNumber("passed", report.Passed);
        w.WriteNumber("notEvaluated", report.NotEvaluated.Length);
        w.WriteNumber("waived", report.Findings.Count(f => f.Status == FindingStatus.Waived));
        w.WriteNumber("passedWithException", report.Exceptions.Length);
        w.WriteEndObject();

        w.WriteStartArray("findings");
        // Fingerprints (a SHA-256 each) are computed on all cores before the sequential write.
        var fingerprints = report.Findings.AsParallel().AsOrdered().Select(f => f.Fingerprint).ToArray();
        for (var i = 0; i < report.Findings.Length; i++)
        {
            WriteFinding(w, report.Findings[i], fingerprints[i]);
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

        w.WriteStartArray("exceptions");
        foreach (var f in report.Exceptions)
        {
            w.WriteStartObject();
            w.WriteString("ruleId", f.RuleId);
            w.WriteString("fingerprint", f.Fingerprint);
            w.WriteString("title", f.Title);
            w.WriteString("category", f.Category);
            w.WriteString("severity", f.Severity.ToName());
            w.WriteString("status", f.Status.ToName());
            WriteResource(w, f.Resource);
            if (f.Discriminator.Length > 0)
            {
                w.WriteString("item", f.Discriminator);
            }

            w.WriteString("reason", f.Exception?.Reason ?? "");
            w.WriteStartObject("exception");
            w.WriteString("rule", f.Exception?.Rule ?? "");
            w.WriteString("resource", f.Exception?.Resource ?? "");
            WriteNullable(w, "source", f.Exception?.Source);
            if (f.Exception?.Line is { } exceptionLine)
            {
                w.WriteNumber("line", exceptionLine);
            }

            w.WriteEndObject();
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

        w.WriteStartArray("waivers");
        foreach (var o in report.Waivers)
        {
            w.WriteStartObject();
            w.WriteString("id", o.Waiver.Id);
            w.WriteString("state", o.StateName);
            w.WriteNumber("matched", o.Matched);
            w.WriteString("expires", o.Waiver.Expires.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            w.WriteString("approver", o.Waiver.Approver);
            WriteNullable(w, "source", o.Waiver.Source);
            if (o.Waiver.Line is { } wl)
            {
                w.WriteNumber("line", wl);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (report.History is { } h)
        {
            w.WriteStartObject("history");
            w.WriteNumber("previousScan", h.PreviousScan);
            w.WriteStartObject("changes");
            w.WriteNumber("new", h.New);
            w.WriteNumber("persisting", h.Persisting);
            w.WriteNumber("resolved", h.Resolved);
            w.WriteNumber("regressed", h.Regressed);
            w.WriteNumber("notRescanned", h.NotRescanned);
            w.WriteEndObject();
            w.WriteStartArray("trend");
            foreach (var t in h.Trend)
            {
                w.WriteStartObject();
                w.WriteNumber("scan", t.Scan);
                w.WriteString("startedAt", t.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                w.WriteNumber("failed", t.Failed);
                w.WriteNumber("waived", t.Waived);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        WriteReachability(w, report.Reachability);
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>The zone-to-zone matrix: one cell per firewall, zone pair and protocol, with the deciding rule lines.</summary>
    private static void WriteReachability(Utf8JsonWriter w, VirtSecScan.Core.Network.ReachabilityResult r)
    {
        w.WriteStartObject("reachability");
        w.WriteStartArray("cells");
        foreach (var c in r.Cells)
        {
            w.WriteStartObject();
            w.WriteString("firewall", c.Firewall);
            w.WriteString("fromZone", c.FromZone);
            w.WriteString("toZone", c.ToZone);
            w.WriteString("protocol", c.Protocol);
            w.WriteString("ports", c.Protocol is "tcp" or "udp" ? c.Ports.FormatPorts() : "");
            w.WriteString("action", c.Action);
            WriteNullable(w, "returnPath", c.ReturnPath);
            w.WriteStartArray("rules");
            foreach (var rule in c.Rules)
            {
                w.WriteStartObject();
                w.WriteString("source", rule.File);
                w.WriteNumber("line", rule.Line);
                w.WriteString("text", rule.Text);
                if (c.Action == "accept" && c.Protocol is "tcp" or "udp")
                {
                    w.WriteString("ports", rule.Ports.FormatPorts());
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("uncertain");
            foreach (var u in c.Uncertain)
            {
                w.WriteStringValue(u);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("shadowed");
        foreach (var s in r.Shadowed)
        {
            w.WriteStartObject();
            w.WriteString("firewall", s.Firewall);
            w.WriteString("source", s.Line.File);
            w.WriteNumber("line", s.Line.Line);
            w.WriteString("text", s.Line.Text);
            w.WriteStartArray("by");
            foreach (var b in s.By)
            {
                w.WriteStartObject();
                w.WriteString("source", b.File);
                w.WriteNumber("line", b.Line);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("notEvaluated");
        foreach (var n in r.NotEvaluated)
        {
            w.WriteStringValue(n);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static string ToJson(ScanReport report)
    {
        using var ms = new MemoryStream();
        Write(report, ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteFinding(Utf8JsonWriter w, Finding f, string? fingerprint = null)
    {
        w.WriteStartObject();
        w.WriteNumber("rank", f.Rank);
        w.WriteString("fingerprint", fingerprint ?? f.Fingerprint);
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

        if (f.DaysSinceFix is { } daysSinceFix)
        {
            w.WriteNumber("daysSinceFix", daysSinceFix);
        }

        if (f.EpssPercentile is { } epss)
        {
            w.WriteNumber("epssPercentile", epss);
        }

        WriteNullable(w, "profile", f.Profile);
        if (f.Waiver is { } waiver)
        {
            w.WriteStartObject("waiver");
            w.WriteString("id", waiver.Id);
            w.WriteString("justification", waiver.Justification);
            w.WriteString("approver", waiver.Approver);
            w.WriteString("created", waiver.Created.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            w.WriteString("expires", waiver.Expires.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

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

    /// <summary><c>scan.targets</c>: each live target with status, reason, duration and its resources (only with --targets).</summary>
    private static void WriteTargets(Utf8JsonWriter w, ScanReport report)
    {
        if (report.Targets.IsDefaultOrEmpty)
        {
            return;
        }

        w.WriteStartArray("targets");
        foreach (var t in report.Targets)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("kind", t.Kind);
            w.WriteString("status", t.Status);
            WriteNullable(w, "reason", t.Reason);
            w.WriteNumber("durationMs", t.DurationMs);
            w.WriteNumber("rulesNotEvaluated", report.NotEvaluated.Count(f => VirtSecScan.Engine.Live.UncollectedRules.TargetOf(f) == t.Name));
            if (t.RoundTrips is { } roundTrips)
            {
                w.WriteNumber("roundTrips", roundTrips);
            }

            w.WriteStartArray("resources");
            foreach (var r in t.Resources)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteString("status", r.Status);
                WriteNullable(w, "reason", r.Reason);
                w.WriteNumber("durationMs", r.DurationMs);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}
