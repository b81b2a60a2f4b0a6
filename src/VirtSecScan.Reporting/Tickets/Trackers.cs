using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Reporting.Tickets;

/// <summary>A request the exporter makes (or would make): method, path below the tracker's base URL, JSON body.</summary>
public sealed record TicketRequest(string Action, string Fingerprint, string Method, string Path, JsonNode? Body);

/// <summary>A ticket in the tracker: its human key (SEC-12, INC0010001, 42) and its internal id where the API needs it.</summary>
public sealed record RemoteTicket(string Key, string? RemoteId);

/// <summary>
/// A ticket system. Each tracker knows its payloads (for the request file and the push) and how to find a ticket
/// by fingerprint before creating one, so even a lost ledger does not lead to a duplicate.
/// </summary>
public abstract class Tracker
{
    public abstract string Name { get; }

    /// <summary>Project key, table or repository: the ledger keeps tickets per tracker and target.</summary>
    public abstract string Target { get; }

    public static string Label(string fingerprint) => "vss-" + fingerprint;

    /// <summary>The requests for one planned action, with placeholders where an id is only known at push time.</summary>
    public abstract IEnumerable<TicketRequest> Describe(TicketAction action);

    public abstract Task<RemoteTicket?> FindAsync(string fingerprint, TicketHttp http, CancellationToken ct);

    /// <summary>One create call; a 5xx is not retried here (the caller looks the ticket up again first).</summary>
    public abstract Task<RemoteTicket> CreateOnceAsync(ExportFinding finding, TicketHttp http, CancellationToken ct);

    public abstract Task UpdateAsync(RemoteTicket ticket, ExportFinding finding, TicketHttp http, CancellationToken ct);

    public abstract Task CloseAsync(RemoteTicket ticket, LedgerEntry entry, DateTimeOffset scannedAt, TicketHttp http, CancellationToken ct);

    public abstract Task ReopenAsync(RemoteTicket ticket, ExportFinding finding, TicketHttp http, CancellationToken ct);

    /// <summary>Plain-text description shared by the trackers: what, where, evidence, how to fix, references, fingerprint.</summary>
    public static string PlainDescription(ExportFinding f)
    {
        var sb = new StringBuilder();
        sb.Append(f.Title).Append("\n\n");
        sb.Append("Severity: ").Append(f.Severity.ToName()).Append(" · category ").Append(f.Category)
            .Append(ThreatCategory.Names.TryGetValue(f.Category, out var cn) ? " " + cn : "").Append(" · score ").Append(f.Score.ToString("0.0", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Resource: ").Append(f.Resource.Name).Append(" (").Append(f.Resource.Type).Append(' ').Append(f.Resource.Id).Append(')');
        if (f.Resource.Zone is { } zone)
        {
            sb.Append(" · zone ").Append(zone);
        }

        if (f.Resource.Source is { } source)
        {
            sb.Append(" · ").Append(source).Append(f.Resource.Line is { } l ? ":" + l.ToString(CultureInfo.InvariantCulture) : "");
        }

        sb.Append('\n');
        if (f.Evidence.Count > 0)
        {
            sb.Append("\nEvidence:\n");
            foreach (var e in f.Evidence)
            {
                sb.Append("- ").Append(e.Key).Append(" = ").Append(e.Actual ?? "(absent)").Append(e.Expected is null ? "" : " (expected " + e.Expected + ")").Append('\n');
            }
        }

        if (f.RemediationSummary is { } summary)
        {
            sb.Append("\nRemediation: ").Append(summary).Append('\n');
            var n = 1;
            foreach (var step in f.RemediationSteps)
            {
                sb.Append(n++.ToString(CultureInfo.InvariantCulture)).Append(". ").Append(step).Append('\n');
            }
        }

        if (f.References.Count > 0)
        {
            sb.Append("\nReferences: ").Append(string.Join(", ", f.References.Select(r => r.Id))).Append('\n');
        }

        if (f.Waiver is { } w)
        {
            sb.Append("\nWaived until ").Append(w.Expires ?? "?").Append(" by ").Append(w.Approver ?? "?").Append(": ").Append(w.Justification).Append('\n');
        }

        sb.Append("\nRule ").Append(f.RuleId).Append(" · fingerprint ").Append(f.Fingerprint).Append(" (").Append(Label(f.Fingerprint)).Append(")\n");
        return sb.ToString();
    }

    protected static string Collapse(string text, int max)
    {
        var one = string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return one.Length <= max ? one : one[..(max - 1)] + "…";
    }
}

/// <summary>Jira Cloud REST v3: ADF descriptions, the fingerprint as a label, transitions looked up by name.</summary>
public sealed class JiraTracker(string project, string issueType = "Bug", string closeTransition = "Done", string reopenTransition = "To Do") : Tracker
{
    public override string Name => "jira";

    public override string Target => project;

    public static string Priority(Severity s) => s switch
    {
        Severity.Critical => "Highest",
        Severity.High => "High",
        Severity.Medium => "Medium",
        Severity.Low => "Low",
        _ => "Lowest",
    };

    public string Summary(ExportFinding f) => Collapse($"[VirtSecScan] {f.Severity.ToName().ToUpperInvariant()} - {f.Title}", 255);

    public IReadOnlyList<string> Labels(ExportFinding f) =>
        ["virtsecscan", Label(f.Fingerprint), "vss-sev-" + f.Severity.ToName(), "vss-cat-" + f.Category.ToLowerInvariant()];

    public JsonObject CreatePayload(ExportFinding f) => new()
    {
        ["fields"] = new JsonObject
        {
            ["project"] = new JsonObject { ["key"] = project },
            ["issuetype"] = new JsonObject { ["name"] = issueType },
            ["summary"] = Summary(f),
            ["description"] = Adf.Description(f),
            ["labels"] = new JsonArray([.. Labels(f).Select(l => (JsonNode)JsonValue.Create(l)!)]),
            ["priority"] = new JsonObject { ["name"] = Priority(f.Severity) },
        },
    };

    public JsonObject UpdatePayload(ExportFinding f) => new()
    {
        ["fields"] = new JsonObject
        {
            ["summary"] = Summary(f),
            ["description"] = Adf.Description(f),
            ["priority"] = new JsonObject { ["name"] = Priority(f.Severity) },
        },
    };

    public JsonObject SearchPayload(string fingerprint) => new()
    {
        ["jql"] = $"project = \"{project.Replace("\"", "", StringComparison.Ordinal)}\" AND labels = \"{Label(fingerprint)}\"",
        ["fields"] = new JsonArray("status"),
        ["maxResults"] = 1,
    };

    public override IEnumerable<TicketRequest> Describe(TicketAction a)
    {
        var action = a.Kind.ToString().ToLowerInvariant();
        var key = a.Entry?.Key ?? "{key}";
        switch (a.Kind)
        {
            case TicketActionKind.Create:
                yield return new(action, a.Fingerprint, "POST", "/rest/api/3/search/jql", SearchPayload(a.Fingerprint));
                yield return new(action, a.Fingerprint, "POST", "/rest/api/3/issue", CreatePayload(a.Finding!));
                break;
            case TicketActionKind.Update:
                yield return new(action, a.Fingerprint, "PUT", $"/rest/api/3/issue/{Uri.EscapeDataString(key)}", UpdatePayload(a.Finding!));
                break;
            case TicketActionKind.Close:
                yield return new(action, a.Fingerprint, "GET", $"/rest/api/3/issue/{Uri.EscapeDataString(key)}/transitions", null);
                yield return new(action, a.Fingerprint, "POST", $"/rest/api/3/issue/{Uri.EscapeDataString(key)}/transitions",
                    new JsonObject { ["transition"] = new JsonObject { ["id"] = $"{{id of transition '{closeTransition}'}}" } });
                break;
            case TicketActionKind.Reopen:
                yield return new(action, a.Fingerprint, "GET", $"/rest/api/3/issue/{Uri.EscapeDataString(key)}/transitions", null);
                yield return new(action, a.Fingerprint, "POST", $"/rest/api/3/issue/{Uri.EscapeDataString(key)}/transitions",
                    new JsonObject { ["transition"] = new JsonObject { ["id"] = $"{{id of transition '{reopenTransition}'}}" } });
                yield return new(action, a.Fingerprint, "PUT", $"/rest/api/3/issue/{Uri.EscapeDataString(key)}", UpdatePayload(a.Finding!));
                break;
        }
    }

    public override async Task<RemoteTicket?> FindAsync(string fingerprint, TicketHttp http, CancellationToken ct)
    {
        var result = await http.SendAsync("POST", "/rest/api/3/search/jql", SearchPayload(fingerprint), ct).ConfigureAwait(false);
        var issue = result?["issues"]?.AsArray().FirstOrDefault();
        return issue?["key"]?.GetValue<string>() is { } key ? new RemoteTicket(key, issue["id"]?.GetValue<string>()) : null;
    }

    public override async Task<RemoteTicket> CreateOnceAsync(ExportFinding finding, TicketHttp http, CancellationToken ct)
    {
        var result = await http.SendAsync("POST", "/rest/api/3/issue", CreatePayload(finding), ct, retryServerErrors: false).ConfigureAwait(false);
        var key = result?["key"]?.GetValue<string>() ?? throw new TicketHttpException(201, "POST", "/rest/api/3/issue", "the answer has no issue key");
        return new RemoteTicket(key, result["id"]?.GetValue<string>());
    }

    public override Task UpdateAsync(RemoteTicket ticket, ExportFinding finding, TicketHttp http, CancellationToken ct) =>
        http.SendAsync("PUT", $"/rest/api/3/issue/{Uri.EscapeDataString(ticket.Key)}", UpdatePayload(finding), ct);

    public override Task CloseAsync(RemoteTicket ticket, LedgerEntry entry, DateTimeOffset scannedAt, TicketHttp http, CancellationToken ct) =>
        TransitionAsync(ticket.Key, closeTransition, http, ct);

    public override async Task ReopenAsync(RemoteTicket ticket, ExportFinding finding, TicketHttp http, CancellationToken ct)
    {
        await TransitionAsync(ticket.Key, reopenTransition, http, ct).ConfigureAwait(false);
        await UpdateAsync(ticket, finding, http, ct).ConfigureAwait(false);
    }

    private static async Task TransitionAsync(string key, string nameOrId, TicketHttp http, CancellationToken ct)
    {
        var path = $"/rest/api/3/issue/{Uri.EscapeDataString(key)}/transitions";
        var list = (await http.SendAsync("GET", path, null, ct).ConfigureAwait(false))?["transitions"]?.AsArray() ?? [];
        var match = list.FirstOrDefault(t => string.Equals(t?["name"]?.GetValue<string>(), nameOrId, StringComparison.OrdinalIgnoreCase)
                                             || t?["id"]?.GetValue<string>() == nameOrId);
        if (match?["id"]?.GetValue<string>() is not { } id)
        {
            throw new TicketHttpException(400, "POST", path,
                $"no transition '{nameOrId}' for {key} (available: {string.Join(", ", list.Select(t => t?["name"]?.GetValue<string>()))})");
        }

        await http.SendAsync("POST", path, new JsonObject { ["transition"] = new JsonObject { ["id"] = id } }, ct).ConfigureAwait(false);
    }

    /// <summary>Jira's CSV importer file for the findings to create (one Labels column per label).</summary>
    public string ImportCsv(IEnumerable<TicketAction> actions)
    {
        var creates = actions.Where(a => a.Kind == TicketActionKind.Create && a.Finding is not null).ToList();
        var sb = new StringBuilder();
        string[] header = ["Summary", "Issue Type", "Priority", "Labels", "Labels", "Labels", "Labels", "Description"];
        sb.Append(string.Join(',', header)).Append("\r\n");
        foreach (var a in creates)
        {
            var f = a.Finding!;
            string[] row = [Summary(f), issueType, Priority(f.Severity), .. Labels(f), PlainDescription(f)];
            sb.Append(string.Join(',', row.Select(v => CsvReportWriter.Quote(CsvReportWriter.Neutralise(v))))).Append("\r\n");
        }

        return sb.ToString();
    }
}

/// <summary>Atlassian Document Format for Jira Cloud descriptions: plain text nodes only, so nothing is interpreted.</summary>
public static class Adf
{
    public static JsonObject Description(ExportFinding f)
    {
        var content = new JsonArray
        {
            Paragraph(Text(f.Title, "strong")),
            Paragraph(Text($"Severity {f.Severity.ToName()} · category {f.Category} · score {f.Score.ToString("0.0", CultureInfo.InvariantCulture)} · rank {f.Rank.ToString(CultureInfo.InvariantCulture)}")),
            Paragraph(Text("Resource: "), Text($"{f.Resource.Name} ({f.Resource.Id})", "code"),
                Text(f.Resource.Zone is { } z ? $" zone {z}" : " ") ),
        };
        if (f.Evidence.Count > 0)
        {
            content.Add(Heading("Evidence"));
            content.Add(List("bulletList", f.Evidence.Select(e => $"{e.Key} = {e.Actual ?? "(absent)"}" + (e.Expected is null ? "" : $" (expected {e.Expected})"))));
        }

        if (f.RemediationSummary is { } summary)
        {
            content.Add(Heading("Remediation"));
            content.Add(Paragraph(Text(summary)));
            if (f.RemediationSteps.Count > 0)
            {
                content.Add(List("orderedList", f.RemediationSteps));
            }
        }

        if (f.References.Count > 0)
        {
            content.Add(Heading("References"));
            content.Add(List("bulletList", f.References.Select(r => $"{r.Id} {r.Source}")));
        }

        if (f.Waiver is { } w)
        {
            content.Add(Paragraph(Text($"Waived until {w.Expires} by {w.Approver}: {w.Justification}", "em")));
        }

        content.Add(Paragraph(Text("VirtSecScan rule "), Text(f.RuleId, "code"), Text(" · fingerprint "), Text(Tracker.Label(f.Fingerprint), "code")));
        return new JsonObject { ["version"] = 1, ["type"] = "doc", ["content"] = content };
    }

    private static JsonObject Heading(string text) =>
        new() { ["type"] = "heading", ["attrs"] = new JsonObject { ["level"] = 3 }, ["content"] = new JsonArray(Text(text)) };

    private static JsonObject Paragraph(params JsonObject[] texts) =>
        new() { ["type"] = "paragraph", ["content"] = new JsonArray([.. texts.Where(t => t["text"]!.GetValue<string>().Length > 0)]) };

    private static JsonObject List(string type, IEnumerable<string> items) =>
        new() { ["type"] = type, ["content"] = new JsonArray([.. items.Select(i => (JsonNode)new JsonObject { ["type"] = "listItem", ["content"] = new JsonArray(Paragraph(Text(i))) })]) };

    private static JsonObject Text(string text, string? mark = null)
    {
        var node = new JsonObject { ["type"] = "text", ["text"] = text.Length == 0 ? " " : text };
        if (mark is not null)
        {
            node["marks"] = new JsonArray(new JsonObject { ["type"] = mark });
        }

        return node;
    }
}

/// <summary>
/// ServiceNow: incidents through the Table API (correlation_id = fingerprint, looked up before any create), or
/// rows for an import set whose transform map coalesces on u_correlation_id.
/// </summary>
public sealed class ServiceNowTracker(string mode = "incident", string importTable = "u_virtsecscan_finding", string? assignmentGroup = null, string closeCode = "Solution provided") : Tracker
{
    public override string Name => "servicenow";

    public override string Target => mode == "import-set" ? "import:" + importTable : "incident";

    private bool ImportSet => mode == "import-set";

    public static (int Impact, int Urgency) ImpactUrgency(Severity s) => s switch
    {
        Severity.Critical => (1, 1),
        Severity.High => (1, 2),
        Severity.Medium => (2, 2),
        Severity.Low => (2, 3),
        _ => (3, 3),
    };

    public JsonObject IncidentPayload(ExportFinding f)
    {
        var (impact, urgency) = ImpactUrgency(f.Severity);
        var o = new JsonObject
        {
            ["short_description"] = Collapse($"[VirtSecScan] {f.Title}", 160),
            ["description"] = PlainDescription(f),
            ["correlation_id"] = f.Fingerprint,
            ["correlation_display"] = "VirtSecScan",
            ["impact"] = impact.ToString(CultureInfo.InvariantCulture),
            ["urgency"] = urgency.ToString(CultureInfo.InvariantCulture),
            ["category"] = "security",
        };
        if (assignmentGroup is not null)
        {
            o["assignment_group"] = assignmentGroup;
        }

        return o;
    }

    public JsonObject ImportRow(string action, ExportFinding? f, LedgerEntry? e)
    {
        var o = new JsonObject
        {
            ["u_action"] = action,
            ["u_correlation_id"] = f?.Fingerprint ?? e!.Fingerprint,
            ["u_rule_id"] = f?.RuleId ?? e!.RuleId,
            ["u_resource_id"] = f?.Resource.Id ?? e!.ResourceId,
            ["u_short_description"] = Collapse($"[VirtSecScan] {f?.Title ?? e!.Title}", 160),
        };
        if (f is not null)
        {
            var (impact, urgency) = ImpactUrgency(f.Severity);
            o["u_description"] = PlainDescription(f);
            o["u_severity"] = f.Severity.ToName();
            o["u_impact"] = impact.ToString(CultureInfo.InvariantCulture);
            o["u_urgency"] = urgency.ToString(CultureInfo.InvariantCulture);
            o["u_zone"] = f.Resource.Zone;
        }

        if (assignmentGroup is not null)
        {
            o["u_assignment_group"] = assignmentGroup;
        }

        return o;
    }

    private JsonObject ClosePayload(string title, DateTimeOffset? scannedAt) => new()
    {
        ["state"] = "6",
        ["close_code"] = closeCode,
        ["close_notes"] = $"VirtSecScan no longer finds this ({Collapse(title, 200)}) in the scan "
            + (scannedAt is { } at ? $"of {ReportText.Date(at)}" : "of the exported report") + ", which read the resource again.",
    };

    private static JsonObject ReopenPayload(ExportFinding f) => new()
    {
        ["state"] = "1",
        ["work_notes"] = $"VirtSecScan finds this again: {Collapse(f.Title, 200)}",
    };

    private static string LookupPath(string fp) =>
        "/api/now/table/incident?sysparm_query=" + Uri.EscapeDataString("correlation_id=" + fp) + "&sysparm_fields=sys_id,number,state&sysparm_limit=1";

    public override IEnumerable<TicketRequest> Describe(TicketAction a)
    {
        var action = a.Kind.ToString().ToLowerInvariant();
        if (ImportSet)
        {
            if (a.Kind != TicketActionKind.KeepOpen)
            {
                yield return new(action, a.Fingerprint, "POST", $"/api/now/import/{Uri.EscapeDataString(importTable)}", ImportRow(action, a.Finding, a.Entry));
            }

            yield break;
        }

        var sysId = a.Entry?.RemoteId ?? "{sys_id}";
        var path = $"/api/now/table/incident/{Uri.EscapeDataString(sysId)}";
        switch (a.Kind)
        {
            case TicketActionKind.Create:
                yield return new(action, a.Fingerprint, "GET", LookupPath(a.Fingerprint), null);
                yield return new(action, a.Fingerprint, "POST", "/api/now/table/incident", IncidentPayload(a.Finding!));
                break;
            case TicketActionKind.Update:
                var update = IncidentPayload(a.Finding!);
                update.Remove("correlation_id");
                update["work_notes"] = "VirtSecScan still finds this.";
                yield return new(action, a.Fingerprint, "PATCH", path, update);
                break;
            case TicketActionKind.Close:
                yield return new(action, a.Fingerprint, "PATCH", path, ClosePayload(a.Entry!.Title, null));
                break;
            case TicketActionKind.Reopen:
                yield return new(action, a.Fingerprint, "PATCH", path, ReopenPayload(a.Finding!));
                break;
        }
    }

    public override async Task<RemoteTicket?> FindAsync(string fingerprint, TicketHttp http, CancellationToken ct)
    {
        if (ImportSet)
        {
            return null; // the transform map coalesces on u_correlation_id
        }

        var result = await http.SendAsync("GET", LookupPath(fingerprint), null, ct).ConfigureAwait(false);
        var row = result?["result"]?.AsArray().FirstOrDefault();
        return row?["sys_id"]?.GetValue<string>() is { } sysId ? new RemoteTicket(row["number"]?.GetValue<string>() ?? sysId, sysId) : null;
    }

    public override async Task<RemoteTicket> CreateOnceAsync(ExportFinding finding, TicketHttp http, CancellationToken ct)
    {
        if (ImportSet)
        {
            var imported = await http.SendAsync("POST", $"/api/now/import/{Uri.EscapeDataString(importTable)}", ImportRow("create", finding, null), ct).ConfigureAwait(false);
            var row = imported?["result"]?.AsArray().FirstOrDefault();
            return new RemoteTicket(row?["display_value"]?.GetValue<string>() ?? row?["sys_id"]?.GetValue<string>() ?? finding.Fingerprint, row?["sys_id"]?.GetValue<string>());
        }

        var result = await http.SendAsync("POST", "/api/now/table/incident", IncidentPayload(finding), ct, retryServerErrors: false).ConfigureAwait(false);
        var record = result?["result"];
        var sysId = record?["sys_id"]?.GetValue<string>() ?? throw new TicketHttpException(201, "POST", "/api/now/table/incident", "the answer has no sys_id");
        return new RemoteTicket(record["number"]?.GetValue<string>() ?? sysId, sysId);
    }

    public override Task UpdateAsync(RemoteTicket ticket, ExportFinding finding, TicketHttp http, CancellationToken ct)
    {
        if (ImportSet)
        {
            return http.SendAsync("POST", $"/api/now/import/{Uri.EscapeDataString(importTable)}", ImportRow("update", finding, null), ct);
        }

        var update = IncidentPayload(finding);
        update.Remove("correlation_id");
        update["work_notes"] = "VirtSecScan still finds this.";
        return http.SendAsync("PATCH", $"/api/now/table/incident/{Uri.EscapeDataString(ticket.RemoteId ?? ticket.Key)}", update, ct);
    }

    public override Task CloseAsync(RemoteTicket ticket, LedgerEntry entry, DateTimeOffset scannedAt, TicketHttp http, CancellationToken ct) =>
        ImportSet
            ? http.SendAsync("POST", $"/api/now/import/{Uri.EscapeDataString(importTable)}", ImportRow("close", null, entry), ct)
            : http.SendAsync("PATCH", $"/api/now/table/incident/{Uri.EscapeDataString(ticket.RemoteId ?? ticket.Key)}", ClosePayload(entry.Title, scannedAt), ct);

    public override Task ReopenAsync(RemoteTicket ticket, ExportFinding finding, TicketHttp http, CancellationToken ct) =>
        ImportSet
            ? http.SendAsync("POST", $"/api/now/import/{Uri.EscapeDataString(importTable)}", ImportRow("reopen", finding, null), ct)
            : http.SendAsync("PATCH", $"/api/now/table/incident/{Uri.EscapeDataString(ticket.RemoteId ?? ticket.Key)}", ReopenPayload(finding), ct);
}

/// <summary>GitHub issues: the fingerprint as a label and as a hidden marker in the body; close and reopen by state.</summary>
public sealed class GitHubTracker(string repository) : Tracker
{
    public override string Name => "github";

    public override string Target => repository;

    public static string Marker(string fingerprint) => $"<!-- virtsecscan-fingerprint: {fingerprint} -->";

    public JsonObject IssuePayload(ExportFinding f, bool withLabels) 
    {
        var o = new JsonObject
        {
            ["title"] = Collapse($"[VirtSecScan] {f.Severity.ToName()}: {f.Title}", 250),
            ["body"] = Body(f),
        };
        if (withLabels)
        {
            o["labels"] = new JsonArray("virtsecscan", Label(f.Fingerprint), "severity:" + f.Severity.ToName());
        }

        return o;
    }

    public static string Body(ExportFinding f)
    {
        var sb = new StringBuilder();
        sb.Append(Marker(f.Fingerprint)).Append("\n\n");
        sb.Append("**").Append(MarkdownReportWriter.Esc(f.Title)).Append("**\n\n");
        sb.Append("| | |\n|---|---|\n");
        sb.Append("| Severity | ").Append(f.Severity.ToName()).Append(" |\n");
        sb.Append("| Category | ").Append(MarkdownReportWriter.Esc(f.Category)).Append(" |\n");
        sb.Append("| Score | ").Append(f.Score.ToString("0.0", CultureInfo.InvariantCulture)).Append(" |\n");
        sb.Append("| Resource | ").Append(MarkdownReportWriter.Esc($"{f.Resource.Name} ({f.Resource.Id})")).Append(" |\n");
        sb.Append("| Zone | ").Append(MarkdownReportWriter.Esc(f.Resource.Zone ?? "")).Append(" |\n");
        if (f.Evidence.Count > 0)
        {
            sb.Append("\n### Evidence\n\n");
            foreach (var e in f.Evidence)
            {
                sb.Append("- ").Append(MarkdownReportWriter.Esc($"{e.Key} = {e.Actual ?? "(absent)"}" + (e.Expected is null ? "" : $" (expected {e.Expected})"))).Append('\n');
            }
        }

        if (f.RemediationSummary is { } summary)
        {
            sb.Append("\n### Remediation\n\n").Append(MarkdownReportWriter.Esc(summary)).Append("\n\n");
            var n = 1;
            foreach (var step in f.RemediationSteps)
            {
                sb.Append(n++.ToString(CultureInfo.InvariantCulture)).Append(". ").Append(MarkdownReportWriter.Esc(step)).Append('\n');
            }
        }

        if (f.References.Count > 0)
        {
            sb.Append("\n### References\n\n");
            foreach (var r in f.References)
            {
                sb.Append("- ").Append(MarkdownReportWriter.Esc($"{r.Id} {r.Source}")).Append('\n');
            }
        }

        sb.Append("\nRule `").Append(f.RuleId.Replace("`", "'", StringComparison.Ordinal)).Append("` · fingerprint `").Append(f.Fingerprint).Append("`\n");
        return sb.ToString();
    }

    private string Issues => $"/repos/{repository}/issues";

    private string LookupPath(string fp) => $"{Issues}?labels={Uri.EscapeDataString(Label(fp))}&state=all&per_page=1";

    public override IEnumerable<TicketRequest> Describe(TicketAction a)
    {
        var action = a.Kind.ToString().ToLowerInvariant();
        var number = a.Entry?.Key ?? "{number}";
        switch (a.Kind)
        {
            case TicketActionKind.Create:
                yield return new(action, a.Fingerprint, "GET", LookupPath(a.Fingerprint), null);
                yield return new(action, a.Fingerprint, "POST", Issues, IssuePayload(a.Finding!, withLabels: true));
                break;
            case TicketActionKind.Update:
                yield return new(action, a.Fingerprint, "PATCH", $"{Issues}/{number}", IssuePayload(a.Finding!, withLabels: false));
                break;
            case TicketActionKind.Close:
                yield return new(action, a.Fingerprint, "PATCH", $"{Issues}/{number}", new JsonObject { ["state"] = "closed", ["state_reason"] = "completed" });
                break;
            case TicketActionKind.Reopen:
                var reopen = IssuePayload(a.Finding!, withLabels: false);
                reopen["state"] = "open";
                yield return new(action, a.Fingerprint, "PATCH", $"{Issues}/{number}", reopen);
                break;
        }
    }

    public override async Task<RemoteTicket?> FindAsync(string fingerprint, TicketHttp http, CancellationToken ct)
    {
        var result = await http.SendAsync("GET", LookupPath(fingerprint), null, ct).ConfigureAwait(false);
        var issue = result?.AsArray().FirstOrDefault();
        return issue?["number"] is { } n ? new RemoteTicket(n.GetValue<int>().ToString(CultureInfo.InvariantCulture), issue["node_id"]?.GetValue<string>()) : null;
    }

    public override async Task<RemoteTicket> CreateOnceAsync(ExportFinding finding, TicketHttp http, CancellationToken ct)
    {
        var result = await http.SendAsync("POST", Issues, IssuePayload(finding, withLabels: true), ct, retryServerErrors: false).ConfigureAwait(false);
        var number = result?["number"]?.GetValue<int>() ?? throw new TicketHttpException(201, "POST", Issues, "the answer has no issue number");
        return new RemoteTicket(number.ToString(CultureInfo.InvariantCulture), result["node_id"]?.GetValue<string>());
    }

    public override Task UpdateAsync(RemoteTicket ticket, ExportFinding finding, TicketHttp http, CancellationToken ct) =>
        http.SendAsync("PATCH", $"{Issues}/{ticket.Key}", IssuePayload(finding, withLabels: false), ct);

    public override Task CloseAsync(RemoteTicket ticket, LedgerEntry entry, DateTimeOffset scannedAt, TicketHttp http, CancellationToken ct) =>
        http.SendAsync("PATCH", $"{Issues}/{ticket.Key}", new JsonObject { ["state"] = "closed", ["state_reason"] = "completed" }, ct);

    public override Task ReopenAsync(RemoteTicket ticket, ExportFinding finding, TicketHttp http, CancellationToken ct)
    {
        var reopen = IssuePayload(finding, withLabels: false);
        reopen["state"] = "open";
        return http.SendAsync("PATCH", $"{Issues}/{ticket.Key}", reopen, ct);
    }
}
