using System.CommandLine;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Cli.Commands;

/// <summary>Exit codes of the contract.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int UsageError = 2;
    public const int FindingsAtOrAboveFailOn = 3;
}

/// <summary>The command tree: parse arguments, call the library, set exit codes. Nothing else.</summary>
public static class CommandLine
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var rulesOption = new Option<string?>("--rules") { Description = "Rules folder (default: the rulesets shipped with the tool)", HelpName = "DIR" };
        var root = new RootCommand("VirtSecScan: security posture scanner for virtualized hospital environments.");
        root.Options.Add(rulesOption);
        root.Subcommands.Add(BuildScan(rulesOption, stdout, stderr));
        root.Subcommands.Add(BuildRules(rulesOption, stdout, stderr));
        root.Subcommands.Add(BuildHistory(stdout, stderr));
        root.Subcommands.Add(BuildDiff(stdout, stderr));
        root.Subcommands.Add(BuildSchedule(rulesOption, stdout, stderr));
        root.Subcommands.Add(BuildChecklist(rulesOption, stdout, stderr));
        root.Subcommands.Add(FeedCommand.Build(rulesOption, stdout, stderr));
        root.Subcommands.Add(ExportCommand.Build(stdout, stderr));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine("error: " + error.Message);
            }

            stderr.WriteLine("Run 'virtsecscan --help' for usage.");
            return ExitCodes.UsageError;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex)
        {
            stderr.WriteLine($"internal error: {ex.GetType().Name}: {ex.Message}");
            return ExitCodes.InternalError;
        }
    }

    private static Command BuildScan(Option<string?> rulesOption, TextWriter stdout, TextWriter stderr)
    {
        var scan = new Command("scan", "Scan files and folders and report ranked findings.");
        var options = new ScanOptionSet(scan);
        scan.SetAction(parse => new ScanCommand(stdout, stderr).Execute(options.Bind(parse, rulesOption)));
        return scan;
    }

    private static Command BuildSchedule(Option<string?> rulesOption, TextWriter stdout, TextWriter stderr)
    {
        var schedule = new Command("schedule", "Run scans on a cron schedule, or print a systemd unit and timer or a crontab line for one.");
        var cronHelp = "Five-field cron expression, e.g. \"0 2 * * *\" (02:00 every day)";

        var run = new Command("run", "Stay in the foreground and scan at every cron occurrence (never two scans at once); stops cleanly on SIGTERM.");
        var cron = new Option<string>("--cron") { Description = cronHelp, Required = true, HelpName = "EXPR" };
        var zone = new Option<string?>("--time-zone") { Description = "Time zone of the cron expression (default: the machine's)", HelpName = "ZONE" };
        var scheduleLog = new Option<string?>("--schedule-log") { Description = "Scheduler log file, rolled daily (default: virtsecscan/logs/schedule-.log in the user's data folder)", HelpName = "FILE" };
        run.Options.Add(cron);
        run.Options.Add(zone);
        run.Options.Add(scheduleLog);
        var export = new Option<string?>("--export") { Description = "After each scan, run 'virtsecscan export' with these arguments, e.g. \"jira --project SEC --push https://jira.example --token-env JIRA_TOKEN\"", HelpName = "ARGS" };
        run.Options.Add(export);
        var runOptions = new ScanOptionSet(run);
        run.SetAction(parse =>
        {
            var scan = runOptions.Bind(parse, rulesOption);
            return ScheduleCommand.Run(new ScheduleArguments
            {
                Cron = parse.GetValue(cron)!,
                TimeZone = parse.GetValue(zone),
                ScheduleLog = parse.GetValue(scheduleLog),
                Export = parse.GetValue(export),
                Scan = scan with
                {
                    Output = scan.Output ?? Path.Combine(Path.GetDirectoryName(History.HistoryStore.DefaultPath)!, "reports"),
                    Formats = scan.Formats is ["table"] ? ["json", "table"] : scan.Formats.Contains("json") ? scan.Formats : [.. scan.Formats, "json"],
                },
            }, stdout, stderr);
        });

        var systemd = new Command("systemd", "Print a systemd service and timer that run this scan on the cron schedule.");
        var systemdCron = new Option<string>("--cron") { Description = cronHelp, Required = true, HelpName = "EXPR" };
        systemd.Options.Add(systemdCron);
        var systemdOptions = new ScanOptionSet(systemd);
        systemd.SetAction(parse => ScheduleCommand.Systemd(parse.GetValue(systemdCron)!, ScheduleCommand.ScanCommandLine(systemdOptions.Bind(parse, rulesOption)), stdout, stderr));

        var crontab = new Command("cron", "Print a crontab line that runs this scan on the cron schedule.");
        var crontabCron = new Option<string>("--cron") { Description = cronHelp, Required = true, HelpName = "EXPR" };
        crontab.Options.Add(crontabCron);
        var crontabOptions = new ScanOptionSet(crontab);
        crontab.SetAction(parse => ScheduleCommand.Crontab(parse.GetValue(crontabCron)!, ScheduleCommand.ScanCommandLine(crontabOptions.Bind(parse, rulesOption)), stdout, stderr));

        schedule.Subcommands.Add(run);
        schedule.Subcommands.Add(systemd);
        schedule.Subcommands.Add(crontab);
        return schedule;
    }

    private static Command BuildRules(Option<string?> rulesOption, TextWriter stdout, TextWriter stderr)
    {
        var rules = new Command("rules", "List or validate rules.");
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table", HelpName = "FMT" };
        var profile = new Option<string?>("--profile") { Description = "Only rules of this profile", HelpName = "NAME" };
        var list = new Command("list", "List every rule: id, category, severity, profiles, references.");
        list.Options.Add(format);
        list.Options.Add(profile);
        list.SetAction(parse => RulesCommand.List(parse.GetValue(rulesOption), parse.GetValue(format) ?? "table", parse.GetValue(profile), stdout, stderr));

        var validate = new Command("validate", "Validate ruleset files or folders (default: the shipped rulesets).");
        var paths = new Argument<string[]>("PATH") { Arity = ArgumentArity.ZeroOrMore };
        validate.Arguments.Add(paths);
        validate.SetAction(parse => RulesCommand.Validate(parse.GetValue(rulesOption), parse.GetValue(paths) ?? [], stdout, stderr));

        rules.Subcommands.Add(list);
        rules.Subcommands.Add(validate);
        return rules;
    }

    private static Command BuildHistory(TextWriter stdout, TextWriter stderr)
    {
        var history = new Command("history", "List and show saved scans (see scan --save).");
        var db = new Option<string?>("--db") { Description = "History database (default: virtsecscan/history.db in the user's data folder)", HelpName = "FILE" };
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table", HelpName = "FMT" };
        var limit = new Option<int>("--limit") { Description = "How many scans to list", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "List saved scans, newest first.");
        list.Options.Add(db);
        list.Options.Add(format);
        list.Options.Add(limit);
        list.SetAction(parse => HistoryCommand.List(parse.GetValue(db), parse.GetValue(limit), parse.GetValue(format) ?? "table", stdout, stderr));

        var show = new Command("show", "Show one saved scan (json: the report exactly as written).");
        var scanId = new Argument<long>("SCAN") { Description = "Scan id from 'history list'" };
        show.Arguments.Add(scanId);
        show.Options.Add(db);
        show.Options.Add(format);
        show.SetAction(parse => HistoryCommand.Show(parse.GetValue(db), parse.GetValue(scanId), parse.GetValue(format) ?? "table", stdout, stderr));
        history.Subcommands.Add(list);
        history.Subcommands.Add(show);
        return history;
    }

    private static Command BuildDiff(TextWriter stdout, TextWriter stderr)
    {
        var diff = new Command("diff", "New, persisting, resolved and regressed findings between two saved scans (default: the last two of the same targets).");
        var oldId = new Argument<long?>("OLD") { Arity = ArgumentArity.ZeroOrOne, Description = "Older scan id" };
        var newId = new Argument<long?>("NEW") { Arity = ArgumentArity.ZeroOrOne, Description = "Newer scan id" };
        var db = new Option<string?>("--db") { Description = "History database", HelpName = "FILE" };
        var format = new Option<string>("--format") { Description = "table, json or md", DefaultValueFactory = _ => "table", HelpName = "FMT" };
        diff.Arguments.Add(oldId);
        diff.Arguments.Add(newId);
        diff.Options.Add(db);
        diff.Options.Add(format);
        diff.SetAction(parse => HistoryCommand.Diff(parse.GetValue(db), parse.GetValue(oldId), parse.GetValue(newId), parse.GetValue(format) ?? "table", stdout, stderr));
        return diff;
    }

    private static Command BuildChecklist(Option<string?> rulesOption, TextWriter stdout, TextWriter stderr)
    {
        var checklist = new Command("checklist", "Pre-audit checklist: scan, then give each control of a framework PASS, FAIL, MANUAL, NOT-EVALUATED or WAIVED with its evidence.");
        var framework = new Option<string>("--framework") { Description = "hipaa, mlps-l3, nist-800-125b or nist-800-53 (catalogues in rulesets/compliance/)", Required = true, HelpName = "NAME" };
        var paths = new Argument<string[]>("PATH") { Arity = ArgumentArity.ZeroOrMore, Description = "Files or folders to scan" };
        var site = new Option<string?>("--site") { Description = "Site model", HelpName = "FILE" };
        var profile = new Option<string>("--profile") { Description = "Benchmark profile", DefaultValueFactory = _ => Profiles.Default, HelpName = "NAME" };
        var waivers = new Option<string?>("--waivers") { Description = "Waivers file", HelpName = "FILE" };
        var attestations = new Option<string?>("--attestations") { Description = "Answers to manual items (who, when, evidence)", HelpName = "FILE" };
        var format = new Option<string>("--format") { Description = "table, md, csv, html or json", DefaultValueFactory = _ => "table", HelpName = "FMT" };
        var output = new Option<string?>("--output", "-o") { Description = "Output file", HelpName = "FILE" };
        checklist.Arguments.Add(paths);
        foreach (var option in new Option[] { framework, site, profile, waivers, attestations, format, output })
        {
            checklist.Options.Add(option);
        }

        checklist.SetAction(parse => ChecklistCommand.Execute(new ChecklistArguments
        {
            Framework = parse.GetValue(framework)!,
            Paths = parse.GetValue(paths) ?? [],
            Site = parse.GetValue(site),
            Profile = parse.GetValue(profile) ?? Profiles.Default,
            Waivers = parse.GetValue(waivers),
            Attestations = parse.GetValue(attestations),
            Format = parse.GetValue(format) ?? "table",
            Output = parse.GetValue(output),
            RulesDirectory = parse.GetValue(rulesOption),
        }, stdout, stderr));
        return checklist;
    }

    /// <summary>The rules folder: --rules, else VIRTSECSCAN_RULES, else the rulesets shipped beside the tool.</summary>
    public static string RulesDirectory(string? option)
    {
        if (!string.IsNullOrEmpty(option))
        {
            return option;
        }

        var env = Environment.GetEnvironmentVariable("VIRTSECSCAN_RULES");
        return string.IsNullOrEmpty(env) ? Path.Combine(AppContext.BaseDirectory, "rulesets") : env;
    }

    public static bool TryParseSeverity(string text, out Severity severity) => SeverityNames.TryParse(text, out severity);
}
