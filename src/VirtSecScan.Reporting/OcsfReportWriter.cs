using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>
/// OCSF Detection Finding (class_uid 2004, category_uid 2 Findings), one JSON object per line. Each finding is an
/// activity 1 (Create) event with the required attributes of OCSF 1.x (activity_id, category_uid, class_uid,
/// type_uid, time in epoch milliseconds, severity_id, metadata.product and metadata.version, finding_info.uid and
/// title); waived findings have status_id 3 (Suppressed). What OCSF has no attribute for goes to <c>unmapped</c>.
/// </summary>
public static class OcsfReportWriter
{
    public const string OcsfVersion = "1.3.0";
    public const int ClassUid = 2004;
    public const int CategoryUid = 2;

    public static void Write(ScanReport report, Stream stream)
    {
        var newline = "\n"u8.ToArray();
        foreach (var f in report.Findings)
        {
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                WriteEvent(w, report, f);
            }

            stream.Write(newline);
        }
    }

    public static string ToJsonLines(ScanReport report)
    {
        using var ms = new MemoryStream();
        Write(report, ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public static int SeverityId(Severity s) => s switch
    {
        Severity.Info => 1,
        Severity.Low => 2,
        Severity.Medium => 3,
        Severity.High => 4,
        Severity.Critical => 5,
        _ => 0,
    };

    private static string SeverityCaption(Severity s) => s switch
    {
        Severity.Info => "Informational",
        Severity.Low => "Low",
        Severity.Medium => "Medium",
        Severity.High => "High",
        Severity.Critical => "Critical",
        _ => "Unknown",
    };

    private static void WriteEvent(Utf8JsonWriter w, ScanReport report, Finding f)
    {
        var time = report.StartedAt.ToUnixTimeMilliseconds();
        var waived = f.Status == FindingStatus.Waived;
        w.WriteStartObject();
        w.WriteNumber("activity_id", 1);
        w.WriteString("activity_name", "Create");
        w.WriteNumber("category_uid", CategoryUid);
        w.WriteString("category_name", "Findings");
        w.WriteNumber("class_uid", ClassUid);
        w.WriteString("class_name", "Detection Finding");
        w.WriteNumber("type_uid", (ClassUid * 100) + 1);
        w.WriteString("type_name", "Detection Finding: Create");
        w.WriteNumber("time", time);
        w.WriteNumber("severity_id", SeverityId(f.Severity));
        w.WriteString("severity", SeverityCaption(f.Severity));
        w.WriteNumber("status_id", waived ? 3 : 1);
        w.WriteString("status", waived ? "Suppressed" : "New");
        w.WriteString("status_code", f.Status.ToName());
        if (waived && f.Waiver is { } wv)
        {
            w.WriteString("status_detail", $"waived until {wv.Expires:yyyy-MM-dd} by {wv.Approver}: {wv.Justification}");
        }

        w.WriteString("message", f.Title);
        w.WriteBoolean("is_alert", !waived);
        w.WriteNumber("confidence_id", f.Confidence >= 0.9 ? 3 : f.Confidence >= 0.5 ? 2 : 1);
        w.WriteNumber("risk_score", (int)Math.Round(f.Score));
        w.WriteNumber("risk_level_id", f.Severity switch { Severity.Critical => 4, Severity.High => 3, Severity.Medium => 2, Severity.Low => 1, _ => 0 });
        w.WriteString("risk_level", f.Severity switch { Severity.Critical => "Critical", Severity.High => "High", Severity.Medium => "Medium", Severity.Low => "Low", _ => "Info" });

        w.WriteStartObject("metadata");
        w.WriteString("version", OcsfVersion);
        w.WriteString("event_code", f.RuleId);
        w.WriteString("uid", f.Fingerprint + "-" + time.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteStartObject("product");
        w.WriteString("name", "VirtSecScan");
        w.WriteString("vendor_name", "VirtSecScan");
        w.WriteString("version", JsonReportWriter.ToolVersion);
        w.WriteString("uid", "virtsecscan");
        w.WriteEndObject();
        w.WriteStartArray("profiles");
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject("finding_info");
        w.WriteString("uid", f.Fingerprint);
        w.WriteString("title", f.Title);
        if (f.Remediation is { } rem)
        {
            w.WriteString("desc", rem.Summary);
        }

        w.WriteStartArray("types");
        w.WriteStringValue(f.Category + (ThreatCategory.Names.TryGetValue(f.Category, out var cn) ? " " + cn : ""));
        w.WriteEndArray();
        w.WriteStartObject("analytic");
        w.WriteNumber("type_id", 1);
        w.WriteString("type", "Rule");
        w.WriteString("uid", f.RuleId);
        w.WriteString("name", f.RuleId);
        w.WriteString("category", f.Category);
        w.WriteEndObject();
        w.WriteNumber("created_time", time);
        if (ReportText.Location(f).File is { } file)
        {
            w.WriteStartArray("data_sources");
            w.WriteStringValue(file);
            w.WriteEndArray();
        }

        w.WriteEndObject();

        w.WriteStartArray("resources");
        w.WriteStartObject();
        w.WriteString("uid", f.Resource.Id);
        w.WriteString("name", f.Resource.Name);
        w.WriteString("type", f.Resource.Type);
        if (f.Resource.Type == "host")
        {
            w.WriteString("hostname", f.Resource.Name);
        }

        if (f.Resource.Zone is { } zone)
        {
            w.WriteString("zone", zone);
        }

        if (f.Resource.Host is { } host)
        {
            w.WriteStartArray("labels");
            w.WriteStringValue("host:" + host);
            w.WriteEndArray();
        }

        w.WriteEndObject();
        w.WriteEndArray();

        if (!f.Evidence.IsEmpty)
        {
            w.WriteStartArray("evidences");
            foreach (var e in f.Evidence)
            {
                w.WriteStartObject();
                w.WriteStartObject("data");
                w.WriteString("key", e.Key);
                if (e.Actual is not null)
                {
                    w.WriteString("actual", e.Actual);
                }

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
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        if (f.Remediation is { } r)
        {
            w.WriteStartObject("remediation");
            w.WriteString("desc", r.Summary + (r.Steps.IsEmpty ? "" : "\n" + string.Join("\n", r.Steps.Select((s, i) => $"{i + 1}. {s}"))));
            w.WriteStartArray("references");
            foreach (var reference in f.References)
            {
                w.WriteStringValue(reference.Id);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        var cves = f.References.Where(x => x.Id.StartsWith("CVE-", StringComparison.OrdinalIgnoreCase)).ToList();
        if (cves.Count > 0)
        {
            w.WriteStartArray("vulnerabilities");
            foreach (var cve in cves)
            {
                w.WriteStartObject();
                w.WriteStartObject("cve");
                w.WriteString("uid", cve.Id);
                w.WriteEndObject();
                if (f.Exploitation is { } x && x.KevCves.Contains(cve.Id))
                {
                    w.WriteBoolean("is_exploit_available", true);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteStartObject("unmapped");
        w.WriteString("category", f.Category);
        w.WriteNumber("rank", f.Rank);
        w.WriteNumber("score", f.Score);
        w.WriteString("profile", f.Profile ?? report.Profile);
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
        w.WriteStartArray("score_factors");
        foreach (var sf in f.ScoreFactors)
        {
            w.WriteStartObject();
            w.WriteString("factor", sf.Factor);
            w.WriteNumber("value", sf.Value);
            w.WriteString("reason", sf.Reason);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (f.Waiver is { } waiver)
        {
            w.WriteStartObject("waiver");
            w.WriteString("id", waiver.Id);
            w.WriteString("justification", waiver.Justification);
            w.WriteString("approver", waiver.Approver);
            w.WriteString("expires", waiver.Expires.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }
}
