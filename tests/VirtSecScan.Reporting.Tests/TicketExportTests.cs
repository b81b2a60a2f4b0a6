using System.Collections.Immutable;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;
using VirtSecScan.Reporting.Tickets;

namespace VirtSecScan.Reporting.Tests;

public sealed class TicketExportTests : IDisposable
{
    private const string Token = "test-token-not-a-secret";
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Finding F(string rule, string vm, Severity severity = Severity.High, string category = "VT08", string zone = "pacs") =>
        TestReports.Finding(rule, vm, severity, category, zone, score: 10 * (int)severity + vm.Length);

    /// <summary>A report as the CLI writes it and the exporter reads it; every VM given is in scan.resources.</summary>
    private static ReportFile Json(IEnumerable<string> collectedVms, params Finding[] findings)
    {
        var report = TestReports.Report(findings) with
        {
            Resources = [.. collectedVms.Select(vm => new ResourceRef("vm", $"vmware-vm:{vm.ToLowerInvariant()}", vm, null, null, $"vms/{vm}.vmx", 1))],
            Collected = [.. collectedVms.Select(vm => new CollectedFile($"vms/{vm}.vmx", "vmware-vmx", 10))],
        };
        return ReportFile.Parse(JsonReportWriter.ToJson(report));
    }

    private static readonly string[] AllVms = ["pacs-01", "emr-01", "lis-01", "ris-01"];

    private static ReportFile First() => Json(AllVms,
        F("vmware.vm.console-copy-disabled", "pacs-01"),
        F("vmware.vm.console-paste-disabled", "emr-01", Severity.Medium, zone: "emr"),
        F("vmware.vm.floppy-removed", "lis-01", Severity.Low, "VT04", "lis"));

    /// <summary>The rescan: the floppy on lis-01 is fixed (lis-01 was read again), a new finding on ris-01.</summary>
    private static ReportFile Second() => Json(AllVms,
        F("vmware.vm.console-copy-disabled", "pacs-01"),
        F("vmware.vm.console-paste-disabled", "emr-01", Severity.Medium, zone: "emr"),
        F("vmware.vm.vnc-console-enabled", "ris-01", Severity.Critical, "VT03", "ris"));

    private TicketLedger Ledger(string name = "tickets.db") => new(_dir.File(name));

    private static TicketHttp Http(FakeTrackerServer server, HttpClient client, AuthenticationHeaderValue auth) =>
        new(client, server.BaseUri, auth, (_, _) => Task.CompletedTask);

    private static AuthenticationHeaderValue Bearer => new("Bearer", Token);

    [Fact]
    public void Plan_creates_new_findings_and_a_rescan_with_one_fixed_and_one_new_closes_one_and_creates_one()
    {
        var first = First();
        var plan = TicketPlanner.Plan(first, [], new TicketFilter());
        Assert.Equal(3, plan.Count(a => a.Kind == TicketActionKind.Create));
        Assert.Equal(3, plan.Count);

        var ledger = plan.Select(a => Entry(a.Finding!, "SEC-" + a.Finding!.Rank)).ToList();
        var again = TicketPlanner.Plan(first, ledger, new TicketFilter());
        Assert.All(again, a => Assert.Equal(TicketActionKind.Update, a.Kind));

        var rescan = TicketPlanner.Plan(Second(), ledger, new TicketFilter());
        Assert.Single(rescan, a => a.Kind == TicketActionKind.Close);
        Assert.Single(rescan, a => a.Kind == TicketActionKind.Create);
        Assert.Equal(2, rescan.Count(a => a.Kind == TicketActionKind.Update));
        Assert.Equal("vmware.vm.floppy-removed", rescan.Single(a => a.Kind == TicketActionKind.Close).Entry!.RuleId);
    }

    [Fact]
    public void A_resolved_finding_is_closed_only_when_its_resource_was_collected_again()
    {
        var ledger = TicketPlanner.Plan(First(), [], new TicketFilter()).Select(a => Entry(a.Finding!, "SEC-" + a.Finding!.Rank)).ToList();
        var withoutLis = Json(["pacs-01", "emr-01"], F("vmware.vm.console-copy-disabled", "pacs-01"), F("vmware.vm.console-paste-disabled", "emr-01", Severity.Medium, zone: "emr"));
        var plan = TicketPlanner.Plan(withoutLis, ledger, new TicketFilter());
        Assert.DoesNotContain(plan, a => a.Kind == TicketActionKind.Close);
        Assert.Single(plan, a => a.Kind == TicketActionKind.KeepOpen);
    }

    [Fact]
    public void A_finding_back_after_its_ticket_closed_reopens_and_filters_apply()
    {
        var first = First();
        var ledger = TicketPlanner.Plan(first, [], new TicketFilter()).Select(a => Entry(a.Finding!, "SEC-" + a.Finding!.Rank, a.Finding!.RuleId.Contains("floppy") ? LedgerStates.Closed : LedgerStates.Open)).ToList();
        var plan = TicketPlanner.Plan(first, ledger, new TicketFilter());
        Assert.Equal("vmware.vm.floppy-removed", plan.Single(a => a.Kind == TicketActionKind.Reopen).Finding!.RuleId);

        Assert.Single(TicketPlanner.Plan(first, [], new TicketFilter { MinimumSeverity = Severity.High }));
        Assert.Single(TicketPlanner.Plan(first, [], new TicketFilter { Categories = new HashSet<string> { "VT04" } }));
        Assert.Single(TicketPlanner.Plan(first, [], new TicketFilter { Zones = new HashSet<string> { "emr" } }));
    }

    [Fact]
    public async Task Jira_push_twice_creates_no_duplicate_and_the_rescan_makes_one_close_and_one_create()
    {
        using var server = new FakeTrackerServer("Bearer " + Token);
        using var client = new HttpClient();
        using var ledger = Ledger();
        var jira = new JiraTracker("SEC");
        var exporter = new TicketExporter(jira, ledger);

        var first = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        Assert.Equal(3, first.Created);
        Assert.Empty(first.Errors);
        Assert.Equal(3, server.Tickets.Count);
        Assert.All(server.Tickets.Values, t => Assert.Contains(t.Labels, l => l.StartsWith("vss-", StringComparison.Ordinal) && l.Length == 36));

        var second = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        Assert.Equal((0, 3), (second.Created, second.Updated));
        Assert.Equal(3, server.Tickets.Count);
        Assert.Equal(3, server.Count("POST", "/rest/api/3/issue"));

        var third = await exporter.PushAsync(exporter.Plan(Second(), new TicketFilter()), Http(server, client, Bearer), Second().StartedAt, TextWriter.Null, default);
        Assert.Equal((1, 1, 2), (third.Created, third.Closed, third.Updated));
        Assert.Equal(4, server.Tickets.Count);
        Assert.Single(server.Tickets.Values, t => t.State == "Done");
        Assert.Single(ledger.All("jira", "SEC"), e => e.State == LedgerStates.Closed);

        // The request bodies are what Jira Cloud v3 expects: ADF description, project, labels with the fingerprint.
        var create = JsonNode.Parse(server.Requests.First(r => r.Method == "POST" && r.Path == "/rest/api/3/issue").Body)!;
        Assert.Equal("doc", create["fields"]!["description"]!["type"]!.GetValue<string>());
        Assert.Equal(1, create["fields"]!["description"]!["version"]!.GetValue<int>());
        Assert.Equal("SEC", create["fields"]!["project"]!["key"]!.GetValue<string>());
        Assert.Contains(server.Requests, r => r.Method == "POST" && r.Path.EndsWith("/transitions", StringComparison.Ordinal) && r.Body.Contains("\"31\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rate_limit_waits_for_retry_after_and_server_errors_are_retried()
    {
        using var server = new FakeTrackerServer("Bearer " + Token);
        using var client = new HttpClient();
        using var ledger = Ledger();
        server.Faults.Add(new Fault("POST", "/rest/api/3/search/jql", 429, RetryAfter: "7"));
        server.Faults.Add(new Fault("POST", "/rest/api/3/issue", 503));
        var exporter = new TicketExporter(new JiraTracker("SEC"), ledger);
        var http = Http(server, client, Bearer);
        var summary = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), http, First().StartedAt, TextWriter.Null, default);

        Assert.Empty(summary.Errors);
        Assert.Equal(3, summary.Created);
        Assert.Contains(TimeSpan.FromSeconds(7), http.Waits);
        Assert.Equal(3, server.Tickets.Count);
        Assert.Equal(4, server.Count("POST", "/rest/api/3/issue")); // one 503, then three creates
        Assert.Empty(server.Faults);
    }

    [Fact]
    public async Task GitHub_rate_limit_403_with_retry_after_is_waited_for_and_a_plain_403_is_an_error()
    {
        using var server = new FakeTrackerServer("Bearer " + Token);
        using var client = new HttpClient();
        using var ledger = Ledger();
        server.Faults.Add(new Fault("POST", "/repos/hospital/infra/issues", 403, RetryAfter: "3"));
        var exporter = new TicketExporter(new GitHubTracker("hospital/infra"), ledger);
        var http = Http(server, client, Bearer);
        var summary = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), http, First().StartedAt, TextWriter.Null, default);
        Assert.Empty(summary.Errors);
        Assert.Equal(3, summary.Created);
        Assert.Contains(TimeSpan.FromSeconds(3), http.Waits);

        server.Faults.Add(new Fault("PATCH", "/repos/hospital/infra/issues/", 403));
        var again = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        Assert.Single(again.Errors);
        Assert.Contains("403", again.Errors[0]);
        Assert.Equal(2, again.Updated);
    }

    [Fact]
    public async Task A_create_that_went_through_before_a_5xx_is_found_again_not_duplicated()
    {
        using var server = new FakeTrackerServer("Bearer " + Token);
        using var client = new HttpClient();
        using var ledger = Ledger();
        server.Faults.Add(new Fault("POST", "/rest/api/3/issue", 502, ApplyAnyway: true));
        var exporter = new TicketExporter(new JiraTracker("SEC"), ledger);
        var summary = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        Assert.Empty(summary.Errors);
        Assert.Equal(3, server.Tickets.Count);
        Assert.Equal((2, 1), (summary.Created, summary.Adopted));
        Assert.Equal(3, ledger.All("jira", "SEC").Count);
    }

    [Fact]
    public async Task With_a_lost_ledger_existing_tickets_are_found_by_label_not_created_again()
    {
        using var server = new FakeTrackerServer("Bearer " + Token);
        using var client = new HttpClient();
        using (var ledger = Ledger("a.db"))
        {
            var exporter = new TicketExporter(new JiraTracker("SEC"), ledger);
            await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        }

        using var fresh = Ledger("b.db");
        var again = new TicketExporter(new JiraTracker("SEC"), fresh);
        var summary = await again.PushAsync(again.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        Assert.Equal((0, 3), (summary.Created, summary.Adopted));
        Assert.Equal(3, server.Tickets.Count);
    }

    [Fact]
    public async Task A_wrong_token_is_an_error_for_each_ticket_and_nothing_is_recorded()
    {
        using var server = new FakeTrackerServer("Bearer " + Token);
        using var client = new HttpClient();
        using var ledger = Ledger();
        var exporter = new TicketExporter(new JiraTracker("SEC"), ledger);
        var summary = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, new AuthenticationHeaderValue("Bearer", "wrong")), First().StartedAt, TextWriter.Null, default);
        Assert.Equal(3, summary.Errors.Count);
        Assert.All(summary.Errors, e => Assert.Contains("401", e));
        Assert.Empty(ledger.All("jira", "SEC"));
    }

    [Fact]
    public async Task ServiceNow_incidents_carry_the_fingerprint_as_correlation_id_and_close_with_state_6()
    {
        using var server = new FakeTrackerServer("Bearer " + Token);
        using var client = new HttpClient();
        using var ledger = Ledger();
        var exporter = new TicketExporter(new ServiceNowTracker(), ledger);
        var first = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        Assert.Equal(3, first.Created);
        var create = JsonNode.Parse(server.Requests.First(r => r.Method == "POST").Body)!;
        Assert.Equal(First().Findings.Select(f => f.Fingerprint).Order(), server.Tickets.Values.Select(t => t.Labels.Single()).Order());
        Assert.Equal("VirtSecScan", create["correlation_display"]!.GetValue<string>());
        Assert.Equal(3, server.Count("GET", "/api/now/table/incident?sysparm_query=correlation_id"));

        var rescan = await exporter.PushAsync(exporter.Plan(Second(), new TicketFilter()), Http(server, client, Bearer), Second().StartedAt, TextWriter.Null, default);
        Assert.Equal((1, 1, 2), (rescan.Created, rescan.Closed, rescan.Updated));
        Assert.Single(server.Tickets.Values, t => t.State == "6");
        Assert.Equal(4, server.Tickets.Count);
    }

    [Fact]
    public async Task GitHub_issues_are_labelled_marked_closed_and_reopened()
    {
        using var server = new FakeTrackerServer("Bearer " + Token);
        using var client = new HttpClient();
        using var ledger = Ledger();
        var exporter = new TicketExporter(new GitHubTracker("hospital/infra"), ledger);
        await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        var body = JsonNode.Parse(server.Requests.First(r => r.Method == "POST").Body)!["body"]!.GetValue<string>();
        Assert.StartsWith("<!-- virtsecscan-fingerprint: ", body);
        await exporter.PushAsync(exporter.Plan(Second(), new TicketFilter()), Http(server, client, Bearer), Second().StartedAt, TextWriter.Null, default);
        Assert.Single(server.Tickets.Values, t => t.State == "closed");

        // The fixed finding comes back: its issue is reopened, not duplicated.
        var back = await exporter.PushAsync(exporter.Plan(First(), new TicketFilter()), Http(server, client, Bearer), First().StartedAt, TextWriter.Null, default);
        Assert.Equal((0, 1), (back.Created, back.Reopened));
        Assert.Equal(4, server.Tickets.Count);
        Assert.DoesNotContain(server.Tickets.Values, t => t.State == "closed" && t.Labels.Contains(Tracker.Label(First().Findings.Single(f => f.RuleId.Contains("floppy")).Fingerprint)));
    }

    [Fact]
    public void Request_file_and_jira_csv_show_the_payloads_and_neutralise_formulas()
    {
        var hostile = ReportFile.Parse(JsonReportWriter.ToJson(TestReports.Hostile()));
        var jira = new JiraTracker("SEC");
        var plan = TicketPlanner.Plan(hostile, [], new TicketFilter());
        Assert.Equal(2, plan.Count); // the waived finding gets no new ticket
        var doc = JsonDocument.Parse(TicketExporter.RequestsJson(jira, plan, null)).RootElement;
        var requests = doc.GetProperty("requests").EnumerateArray().ToList();
        Assert.Equal(4, requests.Count); // search + create per finding
        var create = requests.First(r => r.GetProperty("path").GetString() == "/rest/api/3/issue").GetProperty("body").GetProperty("fields");
        Assert.Contains(create.GetProperty("labels").EnumerateArray(), l => l.GetString() == Tracker.Label(plan[0].Fingerprint));
        Assert.Equal("doc", create.GetProperty("description").GetProperty("type").GetString());
        Assert.All(Texts(create.GetProperty("description")), t => Assert.False(string.IsNullOrEmpty(t)));

        var rows = CsvReportWriter.Parse(jira.ImportCsv(plan));
        Assert.Equal(3, rows.Count);
        Assert.All(rows.SelectMany(r => r), c => Assert.False(c.Length > 0 && c[0] is '=' or '+' or '-' or '@'));
    }

    private static IEnumerable<string> Texts(JsonElement node)
    {
        if (node.TryGetProperty("text", out var t))
        {
            yield return t.GetString()!;
        }

        if (node.TryGetProperty("content", out var c))
        {
            foreach (var child in c.EnumerateArray().SelectMany(Texts))
            {
                yield return child;
            }
        }
    }

    private static LedgerEntry Entry(ExportFinding f, string key, string state = LedgerStates.Open) => new()
    {
        Tracker = "jira",
        Target = "SEC",
        Fingerprint = f.Fingerprint,
        Key = key,
        State = state,
        RuleId = f.RuleId,
        ResourceId = f.Resource.Id,
        ResourceSource = f.Resource.Source,
        Title = f.Title,
        Updated = DateTimeOffset.UnixEpoch,
    };
}

public class ReportFileTests
{
    [Fact]
    public void Demo_report_lists_the_resources_it_read_and_a_resource_with_an_error_is_not_covered()
    {
        var json = JsonReportWriter.ToJson(TestReports.DemoHospital());
        var file = ReportFile.Parse(json);
        Assert.Equal(TestReports.DemoHospital().Findings.Length, file.Findings.Count);
        Assert.Contains("host:esxi-02", file.CoveredResources);
        var demo = TestReports.DemoHospital();
        Assert.True(demo.Resources.Length > 16);
        Assert.Equal(demo.Resources.Length, JsonDocument.Parse(json).RootElement.GetProperty("scan").GetProperty("resources").GetArrayLength());

        var broken = TestReports.Finding("vmware.vm.parse", "lis-01") with { Status = FindingStatus.Error };
        var withError = ReportFile.Parse(JsonReportWriter.ToJson(TestReports.Report(broken)));
        Assert.False(withError.Covers(broken.Resource.Id, broken.Resource.Source));
        Assert.Throws<FormatException>(() => ReportFile.Parse("{\"schemaVersion\":\"9\"}"));
    }
}
