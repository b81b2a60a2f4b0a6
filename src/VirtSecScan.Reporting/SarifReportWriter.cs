using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>What SARIF says about a rule beyond what its findings carry (title and rationale from the ruleset).</summary>
public sealed record RuleDescription(string Title, string? Rationale);

/// <summary>
/// SARIF 2.1.0 for GitHub code scanning and DefectDojo: one rule per rule id (help text and markdown with the
/// remediation, <c>security-severity</c>), one result per finding with <c>partialFingerprints</c>
/// (<c>virtsecscan/v1</c>), the source file and line as the location, the rank as <c>rank</c>, and waived
/// findings as <c>suppressions</c> with the justification. Input diagnostics become tool execution notifications.
/// </summary>
public static class SarifReportWriter
{
    public const string FingerprintKey = "virtsecscan/v1";
    public const string SchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";

    public static void Write(ScanReport report, Stream stream, IReadOnlyDictionary<string, RuleDescription>? rules = null)
    {
        rules ??= new Dictionary<string, RuleDescription>();
        var ruleIds = report.Findings.Select(f => f.RuleId).Distinct().Order(StringComparer.Ordinal).ToList();
        var ruleIndex = ruleIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);

        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("$schema", SchemaUri);
        w.WriteString("version", "2.1.0");
        w.WriteStartArray("runs");
        w.WriteStartObject();

        w.WriteStartObject("tool");
        w.WriteStartObject("driver");
        w.WriteString("name", "VirtSecScan");
        w.WriteString("version", JsonReportWriter.ToolVersion);
        w.WriteString("semanticVersion", JsonReportWriter.ToolVersion);
        w.WriteString("organization", "VirtSecScan developers");
        w.WriteStartArray("rules");
        foreach (var id in ruleIds)
        {
            var findings = report.Findings.Where(f => f.RuleId == id).ToList();
            WriteRule(w, id, findings, rules.TryGetValue(id, out var d) ? d : null);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteStartArray("invocations");
        w.WriteStartObject();
        w.WriteBoolean("executionSuccessful", true);
        w.WriteString("startTimeUtc", ReportText.Date(report.StartedAt));
        w.WriteStartArray("toolExecutionNotifications");
        foreach (var diag in report.Diagnostics)
        {
            w.WriteStartObject();
            w.WriteString("level", diag.Level switch { "error" => "error", "warning" => "warning", _ => "note" });
            w.WriteStartObject("message");
            w.WriteString("text", diag.Message);
            w.WriteEndObject();
            if (UriOf(diag.File) is { } uri)
            {
                w.WriteStartArray("locations");
                w.WriteStartObject();
                WritePhysical(w, uri, diag.Line);
                w.WriteEndObject();
                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();

        w.WriteStartArray("results");
        foreach (var f in report.Findings)
        {
            WriteResult(w, f, ruleIndex[f.RuleId]);
        }

        w.WriteEndArray();

        w.WriteStartObject("properties");
        w.WriteString("profile", report.Profile);
        w.WriteNumber("passed", report.Passed);
        w.WriteNumber("notEvaluated", report.NotEvaluated.Length);
        w.WriteEndObject();

        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
    }

    public static string ToSarif(ScanReport report, IReadOnlyDictionary<string, RuleDescription>? rules = null)
    {
        using var ms = new MemoryStream();
        Write(report, ms, rules);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteRule(Utf8JsonWriter w, string id, List<Finding> findings, RuleDescription? description)
    {
        var first = findings[0];
        var severity = findings.Max(f => f.Severity);
        var title = description?.Title ?? first.Title;
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("name", RuleName(id));
        w.WriteStartObject("shortDescription");
        w.WriteString("text", title);
        w.WriteEndObject();
        w.WriteStartObject("fullDescription");
        w.WriteString("text", description?.Rationale ?? first.Remediation?.Summary ?? title);
        w.WriteEndObject();

        var text = new StringBuilder();
        var md = new StringBuilder();
        text.Append(title).Append('\n');
        md.Append("**").Append(Md(title)).Append("**\n\n");
        if (description?.Rationale is { } rationale)
        {
            text.Append('\n').Append(rationale).Append('\n');
            md.Append(Md(rationale)).Append("\n\n");
        }

        text.Append("\nCategory: ").Append(first.Category).Append(ThreatCategory.Names.TryGetValue(first.Category, out var cn) ? " " + cn : "").Append('\n');
        md.Append("Threat category: **").Append(Md(first.Category)).Append("** ").Append(Md(cn ?? "")).Append("\n\n");
        if (first.Remediation is { } r)
        {
            text.Append("\nRemediation (as written for ").Append(first.Resource.Name).Append("): ").Append(r.Summary).Append('\n');
            md.Append("### Remediation\n\n").Append(Md(r.Summary)).Append(" _(steps as written for ").Append(Md(first.Resource.Name)).Append(")_\n\n");
            var n = 1;
            foreach (var step in r.Steps)
            {
                text.Append("  ").Append(n).Append(". ").Append(step).Append('\n');
                md.Append(n).Append(". `").Append(step.Replace('`', '\'').Replace('\n', ' ').Replace('\r', ' ')).Append("`\n");
                n++;
            }

            md.Append('\n');
        }

        if (!first.References.IsEmpty)
        {
            text.Append("\nReferences: ").Append(string.Join(", ", first.References.Select(x => $"{x.Id} ({x.Source})"))).Append('\n');
            md.Append("### References\n\n");
            foreach (var reference in first.References)
            {
                md.Append("- `").Append(reference.Id.Replace("`", "'", StringComparison.Ordinal)).Append("` ").Append(Md(reference.Source)).Append('\n');
            }
        }

        w.WriteStartObject("help");
        w.WriteString("text", text.ToString().TrimEnd());
        w.WriteString("markdown", md.ToString().TrimEnd());
        w.WriteEndObject();
        w.WriteStartObject("defaultConfiguration");
        w.WriteString("level", Level(severity));
        w.WriteEndObject();
        w.WriteStartObject("properties");
        w.WriteString("security-severity", ReportText.SecuritySeverity(severity));
        w.WriteString("severity", severity.ToName());
        w.WriteString("category", first.Category);
        w.WriteStartArray("tags");
        w.WriteStringValue("security");
        w.WriteStringValue(first.Category);
        foreach (var reference in first.References)
        {
            w.WriteStringValue(reference.Id);
        }

        w.WriteEndArray();
        w.WriteString("precision", "high");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteResult(Utf8JsonWriter w, Finding f, int ruleIndex)
    {
        w.WriteStartObject();
        w.WriteString("ruleId", f.RuleId);
        w.WriteNumber("ruleIndex", ruleIndex);
        var fail = f.Status is FindingStatus.Fail or FindingStatus.Waived;
        w.WriteString("kind", fail ? "fail" : "open");
        w.WriteString("level", fail ? Level(f.Severity) : "none");
        w.WriteStartObject("message");
        var evidence = f.Evidence.FirstOrDefault();
        w.WriteString("text", f.Title + (evidence is null ? "" : $" ({evidence.Key} = {evidence.Actual ?? "absent"}" + (evidence.Expected is null ? ")" : $", expected {evidence.Expected})")));
        w.WriteEndObject();

        w.WriteStartArray("locations");
        w.WriteStartObject();
        var (file, line) = ReportText.Location(f);
        if (UriOf(file) is { } uri)
        {
            WritePhysical(w, uri, line);
        }

        w.WriteStartArray("logicalLocations");
        w.WriteStartObject();
        w.WriteString("name", f.Resource.Name);
        w.WriteString("fullyQualifiedName", f.Resource.Id);
        w.WriteString("kind", "resource");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();

        w.WriteStartObject("partialFingerprints");
        w.WriteString(FingerprintKey, f.Fingerprint);
        w.WriteEndObject();
        if (fail)
        {
            w.WriteNumber("rank", Math.Round(Math.Clamp(f.Score, 0, 100), 1));
        }

        // All results carry suppressions (empty when not waived): SARIF wants it present on all or none.
        w.WriteStartArray("suppressions");
        if (f.Status == FindingStatus.Waived)
        {
            w.WriteStartObject();
            w.WriteString("kind", "external");
            w.WriteString("status", "accepted");
            w.WriteString("justification", f.Waiver?.Justification ?? "waived");
            if (f.Waiver is { } waiver)
            {
                w.WriteStartObject("properties");
                w.WriteString("waiverId", waiver.Id);
                w.WriteString("approver", waiver.Approver);
                w.WriteString("created", waiver.Created.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("expires", waiver.Expires.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartObject("properties");
        w.WriteString("fingerprint", f.Fingerprint);
        w.WriteString("severity", f.Severity.ToName());
        w.WriteString("security-severity", ReportText.SecuritySeverity(f.Severity));
        w.WriteString("category", f.Category);
        w.WriteNumber("score", f.Score);
        w.WriteNumber("virtsecscanRank", f.Rank);
        w.WriteString("status", f.Status.ToName());
        w.WriteString("resourceType", f.Resource.Type);
        w.WriteString("resourceId", f.Resource.Id);
        w.WriteString("resourceName", f.Resource.Name);
        if (f.Resource.Zone is { } zone)
        {
            w.WriteString("zone", zone);
        }

        if (f.Resource.Host is { } host)
        {
            w.WriteString("host", host);
        }

        w.WriteStartArray("evidence");
        foreach (var e in f.Evidence)
        {
            w.WriteStartObject();
            w.WriteString("key", e.Key);
            if (e.Actual is not null)
            {
                w.WriteString("actual", e.Actual);
            }

            if (e.Expected is not null)
            {
                w.WriteString("expected", e.Expected);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("references");
        foreach (var reference in f.References)
        {
            w.WriteStringValue(reference.Id);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WritePhysical(Utf8JsonWriter w, string uri, int? line)
    {
        w.WriteStartObject("physicalLocation");
        w.WriteStartObject("artifactLocation");
        w.WriteString("uri", uri);
        w.WriteEndObject();
        if (line is >= 1)
        {
            w.WriteStartObject("region");
            w.WriteNumber("startLine", line.Value);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    /// <summary>A relative URI reference for a repository-relative path (segments escaped), a file URI for an absolute path.</summary>
    internal static string? UriOf(string? path)
    {
        if (string.IsNullOrWhiteSpace(path) || path.Contains("://", StringComparison.Ordinal))
        {
            return null;
        }

        if (Path.IsPathFullyQualified(path))
        {
            return new Uri(path).AbsoluteUri;
        }

        return string.Join('/', path.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString));
    }

    internal static string Level(Severity s) => s switch
    {
        Severity.Critical or Severity.High => "error",
        Severity.Medium => "warning",
        _ => "note",
    };

    /// <summary>A PascalCase name from a dotted rule id (SARIF's rule name is an identifier-like string).</summary>
    private static string RuleName(string id) =>
        string.Concat(id.Split(['.', '-', '_'], StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));

    private static string Md(string text) => MarkdownReportWriter.Esc(text);
}
