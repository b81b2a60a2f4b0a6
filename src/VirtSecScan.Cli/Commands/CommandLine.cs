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
        var paths = new Argument<string[]>("PATH") { Arity = ArgumentArity.ZeroOrMore, Description = "Files or folders to scan (folders are walked recursively)" };
        var site = new Option<string?>("--site") { Description = "Site model (zones, systems); default: site.yaml in a scanned folder", HelpName = "FILE" };
        var profile = new Option<string>("--profile") { Description = $"Benchmark profile: {string.Join(", ", Profiles.Names.Keys)}", DefaultValueFactory = _ => Profiles.Default, HelpName = "NAME" };
        var format = new Option<string[]>("--format") { Description = "Report format(s): table, json, sarif, html, csv, md, ocsf, junit", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["table"], HelpName = "FMT" };
        var output = new Option<string?>("--output", "-o") { Description = "Output file, or folder for several formats (findings.json ...)", HelpName = "PATH" };
        var severity = new Option<string>("--severity") { Description = "Hide findings below this severity in table output (JSON keeps all)", DefaultValueFactory = _ => "info", HelpName = "MIN" };
        var failOn = new Option<string?>("--fail-on") { Description = "Exit with 3 when a finding is at or above this severity", HelpName = "SEVERITY" };
        var noProgress = new Option<bool>("--no-progress") { Description = "Never show progress" };
        var forceProgress = new Option<bool>("--progress") { Description = "Show progress on stderr even when it is not a terminal" };
        var logLevel = new Option<string>("--log-level") { Description = "verbose, debug, information, warning, error", DefaultValueFactory = _ => "warning", HelpName = "LEVEL" };
        var logFile = new Option<string?>("--log-file") { Description = "Write logs to this file (compact JSON when it ends in .json)", HelpName = "FILE" };

        var scan = new Command("scan", "Scan files and folders and report ranked findings.");
        scan.Arguments.Add(paths);
        foreach (var option in new Option[] { site, profile, format, output, severity, failOn, noProgress, forceProgress, logLevel, logFile })
        {
            scan.Options.Add(option);
        }

        scan.SetAction(parse => new ScanCommand(stdout, stderr).Execute(new ScanArguments
        {
            Paths = parse.GetValue(paths) ?? [],
            Site = parse.GetValue(site),
            Profile = parse.GetValue(profile) ?? Profiles.Default,
            Formats = parse.GetValue(format) ?? ["table"],
            Output = parse.GetValue(output),
            Severity = parse.GetValue(severity) ?? "info",
            FailOn = parse.GetValue(failOn),
            Progress = parse.GetValue(forceProgress) ? true : parse.GetValue(noProgress) ? false : null,
            LogLevel = parse.GetValue(logLevel) ?? "warning",
            LogFile = parse.GetValue(logFile),
            RulesDirectory = parse.GetValue(rulesOption),
        }));
        return scan;
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
