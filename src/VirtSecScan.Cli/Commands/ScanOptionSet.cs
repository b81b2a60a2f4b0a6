using System.CommandLine;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Cli.Commands;

/// <summary>The options of <c>scan</c>, defined once and added to every command that runs a scan (scan, schedule ...).</summary>
public sealed class ScanOptionSet
{
    private readonly Argument<string[]> _paths = new("PATH") { Arity = ArgumentArity.ZeroOrMore, Description = "Files or folders to scan (folders are walked recursively)" };
    private readonly Option<string?> _site = new("--site") { Description = "Site model (zones, systems); default: site.yaml in a scanned folder", HelpName = "FILE" };
    private readonly Option<string> _profile = new("--profile") { Description = $"Benchmark profile: {string.Join(", ", Profiles.Names.Keys)}", DefaultValueFactory = _ => Profiles.Default, HelpName = "NAME" };
    private readonly Option<string[]> _format = new("--format") { Description = "Report format(s): table, json, sarif, html, csv, md, ocsf, junit", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["table"], HelpName = "FMT" };
    private readonly Option<string?> _output = new("--output", "-o") { Description = "Output file, or folder for several formats (findings.json ...)", HelpName = "PATH" };
    private readonly Option<string> _severity = new("--severity") { Description = "Hide findings below this severity in table output (JSON keeps all)", DefaultValueFactory = _ => "info", HelpName = "MIN" };
    private readonly Option<string?> _failOn = new("--fail-on") { Description = "Exit with 3 when an unwaived finding is at or above this severity", HelpName = "SEVERITY" };
    private readonly Option<bool> _noProgress = new("--no-progress") { Description = "Never show progress" };
    private readonly Option<bool> _forceProgress = new("--progress") { Description = "Show progress on stderr even when it is not a terminal" };
    private readonly Option<string> _logLevel = new("--log-level") { Description = "verbose, debug, information, warning, error", DefaultValueFactory = _ => "warning", HelpName = "LEVEL" };
    private readonly Option<string?> _logFile = new("--log-file") { Description = "Write logs to this file (compact JSON when it ends in .json)", HelpName = "FILE" };
    private readonly Option<string?> _waivers = new("--waivers") { Description = "Waivers file (YAML): accepted risks with justification, approver and expiry", HelpName = "FILE" };
    private readonly Option<bool> _save = new("--save") { Description = "Save the scan in the history database" };
    private readonly Option<string?> _epss = new("--epss") { Description = "EPSS scores (CSV: cve,epss,percentile) to rank findings by; default: epss.csv in the feed folder", HelpName = "FILE" };
    private readonly Option<string?> _targets = new("--targets") { Description = "Targets file (YAML): live libvirt URIs and folders to collect (credentials only from environment variables or files)", HelpName = "FILE" };
    private readonly Option<string?> _saveCollected = new("--save-collected") { Description = "Write what the live targets gave (command outputs, API responses; secrets redacted) under DIR/<target>/, to keep as evidence or scan again offline", HelpName = "DIR" };
    private readonly Option<string?> _db = new("--db") { Description = "History database (default: virtsecscan/history.db in the user's data folder)", HelpName = "FILE" };

    public ScanOptionSet(Command command)
    {
        command.Arguments.Add(_paths);
        foreach (var option in new Option[] { _site, _profile, _format, _output, _severity, _failOn, _noProgress, _forceProgress, _logLevel, _logFile, _waivers, _save, _db, _epss, _targets, _saveCollected })
        {
            command.Options.Add(option);
        }
    }

    public ScanArguments Bind(ParseResult parse, Option<string?> rulesOption) => new()
    {
        Paths = parse.GetValue(_paths) ?? [],
        Site = parse.GetValue(_site),
        Profile = parse.GetValue(_profile) ?? Profiles.Default,
        Formats = parse.GetValue(_format) ?? ["table"],
        Output = parse.GetValue(_output),
        Severity = parse.GetValue(_severity) ?? "info",
        FailOn = parse.GetValue(_failOn),
        Progress = parse.GetValue(_forceProgress) ? true : parse.GetValue(_noProgress) ? false : null,
        LogLevel = parse.GetValue(_logLevel) ?? "warning",
        LogFile = parse.GetValue(_logFile),
        RulesDirectory = parse.GetValue(rulesOption),
        Waivers = parse.GetValue(_waivers),
        Save = parse.GetValue(_save),
        Database = parse.GetValue(_db),
        Epss = parse.GetValue(_epss),
        Targets = parse.GetValue(_targets),
        SaveCollected = parse.GetValue(_saveCollected),
    };
}
