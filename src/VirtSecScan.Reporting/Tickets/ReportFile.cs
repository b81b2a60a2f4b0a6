using System.Globalization;
using System.Text.Json;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Reporting.Tickets;

public sealed record ExportResource(string Type, string Id, string Name, string? Host, string? Zone, string? Source, int? Line);

public sealed record ExportEvidence(string Key, string? Actual, string? Expected);

public sealed record ExportWaiver(string? Id, string Justification, string? Approver, string? Expires);

/// <summary>A finding as read back from a JSON report: what a ticket needs, with the report's own fingerprint.</summary>
public sealed record ExportFinding
{
    public required string Fingerprint { get; init; }
    public required string RuleId { get; init; }
    public required string Title { get; init; }
    public required string Category { get; init; }
    public required Severity Severity { get; init; }
    public double Score { get; init; }
    public int Rank { get; init; }
    public required string Status { get; init; }
    public required ExportResource Resource { get; init; }
    public IReadOnlyList<ExportEvidence> Evidence { get; init; } = [];
    public string? RemediationSummary { get; init; }
    public IReadOnlyList<string> RemediationSteps { get; init; } = [];
    public IReadOnlyList<Reference> References { get; init; } = [];
    public ExportWaiver? Waiver { get; init; }

    public bool IsWaived => Status == "waived";
}

/// <summary>
/// The JSON report (contract schemaVersion "1") read back for ticket export. Unknown fields are ignored, so
/// reports with later additions still load. Also knows which resources the scan actually collected, so that
/// "resolved" is only ever concluded for a resource that was read again.
/// </summary>
public sealed class ReportFile
{
    public required DateTimeOffset StartedAt { get; init; }
    public required IReadOnlyList<ExportFinding> Findings { get; init; }

    /// <summary>Resource ids the scan read successfully (scan.resources when present, else inferred from results).</summary>
    public required IReadOnlySet<string> CoveredResources { get; init; }

    /// <summary>Files a collector read (scan.collected[].file).</summary>
    public required IReadOnlySet<string> CollectedFiles { get; init; }

    /// <summary>Resource ids that had an error (could not be parsed): never counted as covered.</summary>
    public required IReadOnlySet<string> FailedResources { get; init; }

    /// <summary>Whether the scan read this resource again: its id was collected, or its source file was, and it had no error.</summary>
    public bool Covers(string resourceId, string? source) =>
        !FailedResources.Contains(resourceId)
        && (CoveredResources.Contains(resourceId) || (source is not null && CollectedFiles.Contains(source)));

    public static ReportFile Load(string path) => Parse(File.ReadAllText(path));

    public static ReportFile Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (Str(root, "schemaVersion") is not { } version || version != "1")
        {
            throw new FormatException("not a VirtSecScan JSON report (schemaVersion \"1\" expected)");
        }

        var scan = root.GetProperty("scan");
        var started = DateTimeOffset.Parse(Str(scan, "startedAt") ?? "1970-01-01T00:00:00Z", CultureInfo.InvariantCulture);
        var findings = new List<ExportFinding>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        var failed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in Array(root, "findings"))
        {
            var finding = ReadFinding(f);
            findings.Add(finding);
            if (finding.Status == "error")
            {
                failed.Add(finding.Resource.Id);
            }
            else
            {
                covered.Add(finding.Resource.Id);
            }
        }

        foreach (var ne in Array(root, "notEvaluated"))
        {
            if (ne.TryGetProperty("resource", out var r) && Str(r, "id") is { } id)
            {
                covered.Add(id);
            }
        }

        foreach (var r in Array(scan, "resources"))
        {
            if (Str(r, "id") is { } id)
            {
                covered.Add(id);
            }
        }

        var files = Array(scan, "collected").Select(c => Str(c, "file")).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return new ReportFile { StartedAt = started, Findings = findings, CoveredResources = covered, CollectedFiles = files, FailedResources = failed };
    }

    private static ExportFinding ReadFinding(JsonElement f)
    {
        var r = f.GetProperty("resource");
        SeverityNames.TryParse(Str(f, "severity"), out var severity);
        ExportWaiver? waiver = null;
        if (f.TryGetProperty("waiver", out var w) && w.ValueKind == JsonValueKind.Object)
        {
            waiver = new ExportWaiver(Str(w, "id"), Str(w, "justification") ?? "", Str(w, "approver") ?? Str(w, "approvedBy"), Str(w, "expires"));
        }

        var remediation = f.TryGetProperty("remediation", out var rem) && rem.ValueKind == JsonValueKind.Object ? rem : (JsonElement?)null;
        return new ExportFinding
        {
            Fingerprint = Str(f, "fingerprint") ?? throw new FormatException("a finding has no fingerprint"),
            RuleId = Str(f, "ruleId") ?? "",
            Title = Str(f, "title") ?? "",
            Category = Str(f, "category") ?? "",
            Severity = severity,
            Score = f.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 0,
            Rank = f.TryGetProperty("rank", out var rk) && rk.ValueKind == JsonValueKind.Number ? rk.GetInt32() : 0,
            Status = Str(f, "status") ?? "fail",
            Resource = new ExportResource(Str(r, "type") ?? "", Str(r, "id") ?? "", Str(r, "name") ?? "", Str(r, "host"), Str(r, "zone"), Str(r, "source"),
                r.TryGetProperty("line", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : null),
            Evidence = Array(f, "evidence").Select(e => new ExportEvidence(Str(e, "key") ?? "", Str(e, "actual"), Str(e, "expected"))).ToList(),
            RemediationSummary = remediation is { } rs ? Str(rs, "summary") : null,
            RemediationSteps = remediation is { } rs2 ? Array(rs2, "steps").Select(x => x.GetString() ?? "").ToList() : [],
            References = Array(f, "references").Select(x => new Reference(Str(x, "id") ?? "", Str(x, "source") ?? "")).ToList(),
            Waiver = waiver,
        };
    }

    private static IEnumerable<JsonElement> Array(JsonElement e, string name) =>
        e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().ToList() : [];

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
