using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using VirtSecScan.Core.Findings;
using VirtSecScan.Reporting.Tickets;

namespace VirtSecScan.Cli.Commands;

/// <summary>
/// <c>virtsecscan export jira|servicenow|github --report findings.json</c>: plans tickets from a JSON report and the
/// local ledger, writes the requests it would make (and a Jira CSV import file), prints the plan with
/// <c>--dry-run</c>, or sends it with <c>--push URL</c> using a token read from an environment variable.
/// </summary>
public static class ExportCommand
{
    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var export = new Command("export", "Export findings to a ticket system without duplicates (Jira, ServiceNow, GitHub).");
        export.Subcommands.Add(BuildTracker("jira", "Jira Cloud (REST v3)", "JIRA_API_TOKEN", stdout, stderr));
        export.Subcommands.Add(BuildTracker("servicenow", "ServiceNow incidents or an import set", "SERVICENOW_TOKEN", stdout, stderr));
        export.Subcommands.Add(BuildTracker("github", "GitHub issues", "GITHUB_TOKEN", stdout, stderr));
        return export;
    }

    private static Command BuildTracker(string name, string description, string defaultTokenEnv, TextWriter stdout, TextWriter stderr)
    {
        var report = new Option<string>("--report") { Description = "JSON report of a scan (findings.json)", Required = true, HelpName = "FILE" };
        var outDir = new Option<string?>("--out") { Description = "Folder for the request file (and the Jira CSV import file); default: the report's folder", HelpName = "DIR" };
        var push = new Option<string?>("--push") { Description = "Send the requests to this base URL", HelpName = "URL" };
        var tokenEnv = new Option<string>("--token-env") { Description = $"Environment variable that holds the token (default {defaultTokenEnv})", DefaultValueFactory = _ => defaultTokenEnv, HelpName = "NAME" };
        var user = new Option<string?>("--user") { Description = "User name for basic authentication (Jira Cloud: the account e-mail); default: bearer token", HelpName = "NAME" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan; write and send nothing" };
        var ledger = new Option<string?>("--ledger") { Description = $"Ledger file (default {TicketLedger.DefaultPath})", HelpName = "FILE" };
        var minSeverity = new Option<string>("--min-severity") { Description = "Only findings at or above this severity", DefaultValueFactory = _ => "info", HelpName = "SEVERITY" };
        var category = new Option<string[]>("--category") { Description = "Only these threat categories (VT01..VT10)", AllowMultipleArgumentsPerToken = true, HelpName = "VTnn" };
        var zone = new Option<string[]>("--zone") { Description = "Only findings in these zones", AllowMultipleArgumentsPerToken = true, HelpName = "ZONE" };
        var command = new Command(name, $"Export to {description}.");
        foreach (var o in new Option[] { report, outDir, push, tokenEnv, user, dryRun, ledger, minSeverity, category, zone })
        {
            command.Options.Add(o);
        }

        Option<string>? project = null, issueType = null, closeTransition = null, reopenTransition = null, mode = null, importTable = null, closeCode = null;
        Option<string?>? assignmentGroup = null, repo = null;
        switch (name)
        {
            case "jira":
                project = new Option<string>("--project") { Description = "Jira project key", Required = true, HelpName = "KEY" };
                issueType = new Option<string>("--issue-type") { Description = "Issue type for new tickets", DefaultValueFactory = _ => "Bug", HelpName = "NAME" };
                closeTransition = new Option<string>("--close-transition") { Description = "Transition (name or id) that closes a ticket", DefaultValueFactory = _ => "Done", HelpName = "NAME" };
                reopenTransition = new Option<string>("--reopen-transition") { Description = "Transition (name or id) that reopens a ticket", DefaultValueFactory = _ => "To Do", HelpName = "NAME" };
                command.Options.Add(project);
                command.Options.Add(issueType);
                command.Options.Add(closeTransition);
                command.Options.Add(reopenTransition);
                break;
            case "servicenow":
                mode = new Option<string>("--mode") { Description = "incident (Table API) or import-set", DefaultValueFactory = _ => "incident", HelpName = "MODE" };
                importTable = new Option<string>("--import-table") { Description = "Import set table for --mode import-set", DefaultValueFactory = _ => "u_virtsecscan_finding", HelpName = "TABLE" };
                assignmentGroup = new Option<string?>("--assignment-group") { Description = "Assignment group for new incidents", HelpName = "NAME" };
                closeCode = new Option<string>("--close-code") { Description = "Close code for resolved incidents", DefaultValueFactory = _ => "Solution provided", HelpName = "CODE" };
                command.Options.Add(mode);
                command.Options.Add(importTable);
                command.Options.Add(assignmentGroup);
                command.Options.Add(closeCode);
                break;
            default:
                repo = new Option<string?>("--repo") { Description = "Repository as OWNER/NAME", Required = true, HelpName = "OWNER/NAME" };
                command.Options.Add(repo);
                break;
        }

        command.SetAction(parse =>
        {
            Tracker tracker;
            switch (name)
            {
                case "jira":
                    tracker = new JiraTracker(parse.GetValue(project!)!, parse.GetValue(issueType!)!, parse.GetValue(closeTransition!)!, parse.GetValue(reopenTransition!)!);
                    break;
                case "servicenow":
                    var m = parse.GetValue(mode!)!;
                    if (m is not ("incident" or "import-set"))
                    {
                        stderr.WriteLine($"error: --mode must be incident or import-set, not '{m}'");
                        return ExitCodes.UsageError;
                    }

                    tracker = new ServiceNowTracker(m, parse.GetValue(importTable!)!, parse.GetValue(assignmentGroup!), parse.GetValue(closeCode!)!);
                    break;
                default:
                    var r = parse.GetValue(repo!)!;
                    if (r.Split('/') is not [{ Length: > 0 }, { Length: > 0 }])
                    {
                        stderr.WriteLine($"error: --repo must be OWNER/NAME, not '{r}'");
                        return ExitCodes.UsageError;
                    }

                    tracker = new GitHubTracker(r);
                    break;
            }

            return Run(tracker, new ExportArguments
            {
                Report = parse.GetValue(report)!,
                Out = parse.GetValue(outDir),
                Push = parse.GetValue(push),
                TokenEnv = parse.GetValue(tokenEnv)!,
                User = parse.GetValue(user),
                DryRun = parse.GetValue(dryRun),
                Ledger = parse.GetValue(ledger),
                MinSeverity = parse.GetValue(minSeverity)!,
                Categories = parse.GetValue(category) ?? [],
                Zones = parse.GetValue(zone) ?? [],
            }, stdout, stderr);
        });
        return command;
    }

    private sealed record ExportArguments
    {
        public required string Report { get; init; }
        public string? Out { get; init; }
        public string? Push { get; init; }
        public required string TokenEnv { get; init; }
        public string? User { get; init; }
        public bool DryRun { get; init; }
        public string? Ledger { get; init; }
        public required string MinSeverity { get; init; }
        public required string[] Categories { get; init; }
        public required string[] Zones { get; init; }
    }

    private static int Run(Tracker tracker, ExportArguments args, TextWriter stdout, TextWriter stderr)
    {
        if (!SeverityNames.TryParse(args.MinSeverity, out var minimum))
        {
            stderr.WriteLine($"error: --min-severity: '{args.MinSeverity}' is not one of {string.Join(", ", SeverityNames.All)}");
            return ExitCodes.UsageError;
        }

        var categories = args.Categories.SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(c => c.ToUpperInvariant()).ToHashSet();
        if (categories.FirstOrDefault(c => !ThreatCategory.IsValid(c)) is { } badCategory)
        {
            stderr.WriteLine($"error: --category: '{badCategory}' is not one of VT01..VT10");
            return ExitCodes.UsageError;
        }

        Uri? pushUri = null;
        if (args.Push is not null && (!Uri.TryCreate(args.Push, UriKind.Absolute, out pushUri) || pushUri.Scheme is not ("http" or "https")))
        {
            stderr.WriteLine($"error: --push must be an http or https URL, not '{args.Push}'");
            return ExitCodes.UsageError;
        }

        string? token = null;
        if (pushUri is not null && !args.DryRun)
        {
            token = Environment.GetEnvironmentVariable(args.TokenEnv);
            if (string.IsNullOrEmpty(token))
            {
                stderr.WriteLine($"error: the environment variable {args.TokenEnv} holds no token (the token is never taken from the command line)");
                return ExitCodes.UsageError;
            }
        }

        ReportFile report;
        try
        {
            report = ReportFile.Load(args.Report);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            stderr.WriteLine($"error: cannot read the report {args.Report}: {ex.Message}");
            return ExitCodes.UsageError;
        }

        var filter = new TicketFilter
        {
            MinimumSeverity = minimum,
            Categories = categories,
            Zones = args.Zones.SelectMany(z => z.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToHashSet(StringComparer.Ordinal),
        };
        using var ledger = new TicketLedger(args.Ledger ?? TicketLedger.DefaultPath);
        var exporter = new TicketExporter(tracker, ledger);
        var plan = exporter.Plan(report, filter);
        var counts = string.Join(", ", Enum.GetValues<TicketActionKind>().Select(k => $"{plan.Count(a => a.Kind == k)} {Name(k)}"));

        if (args.DryRun)
        {
            stdout.WriteLine($"Plan for {tracker.Name} {tracker.Target} ({report.Findings.Count} findings in the report, ledger {args.Ledger ?? TicketLedger.DefaultPath}):");
            foreach (var a in plan)
            {
                var what = a.Finding is { } f ? $"{f.Severity.ToName(),-8} {f.Resource.Name}: {f.Title}" : $"{a.Entry!.Key}: {a.Entry.Title}";
                stdout.WriteLine($"  {Name(a.Kind),-9} {a.Entry?.Key ?? "(new)",-12} {a.Fingerprint}  {what}");
            }

            stdout.WriteLine(counts);
            return ExitCodes.Ok;
        }

        if (pushUri is null)
        {
            var dir = args.Out ?? Path.GetDirectoryName(Path.GetFullPath(args.Report))!;
            Directory.CreateDirectory(dir);
            var requests = Path.Combine(dir, $"{tracker.Name}-requests.json");
            File.WriteAllText(requests, TicketExporter.RequestsJson(tracker, plan, null), new UTF8Encoding(false));
            stdout.WriteLine($"wrote {requests}");
            if (tracker is JiraTracker jira)
            {
                var csv = Path.Combine(dir, "jira-import.csv");
                File.WriteAllText(csv, jira.ImportCsv(plan), new UTF8Encoding(true));
                stdout.WriteLine($"wrote {csv}");
            }

            stdout.WriteLine(counts);
            return ExitCodes.Ok;
        }

        var auth = args.User is { } u
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{u}:{token}")))
            : new AuthenticationHeaderValue("Bearer", token);
        using var client = new HttpClient(new HttpClientHandler(), disposeHandler: true) { Timeout = TimeSpan.FromSeconds(100) };
        var http = new TicketHttp(client, pushUri, auth);
        var summary = exporter.PushAsync(plan, http, report.StartedAt, stdout, CancellationToken.None).GetAwaiter().GetResult();
        stdout.WriteLine($"{summary.Created} created, {summary.Adopted} found already, {summary.Updated} updated, {summary.Closed} closed, {summary.Reopened} reopened, {summary.KeptOpen} kept open; {http.Requests} requests, {http.Waits.Count} waits");
        foreach (var error in summary.Errors)
        {
            stderr.WriteLine("error: " + error);
        }

        return summary.Errors.Count == 0 ? ExitCodes.Ok : ExitCodes.InternalError;
    }

    private static string Name(TicketActionKind k) => k switch
    {
        TicketActionKind.KeepOpen => "keep-open",
        _ => k.ToString().ToLowerInvariant(),
    };
}
