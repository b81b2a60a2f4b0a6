using System.Collections.Immutable;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Cli.Commands;

/// <summary><c>virtsecscan rules list</c> and <c>rules validate</c>.</summary>
public static class RulesCommand
{
    /// <summary>The C# rules (correlation and network analysis), listed next to the data rules.</summary>
    private static ImmutableArray<CorrelationRuleInfo> CorrelationRules =>
        PatchFindings.Rules.AddRange(SiteFindings.Rules).AddRange(VirtSecScan.Engine.Network.NetworkFindings.Rules).AddRange(VirtSecScan.Engine.Network.VirtualNetworkFindings.Rules);

    public static int List(string? rulesOption, string format, string? profile, TextWriter stdout, TextWriter stderr)
    {
        if (format is not ("table" or "json"))
        {
            stderr.WriteLine($"error: unknown format '{format}' (table, json)");
            return ExitCodes.UsageError;
        }

        if (profile is not null && !Profiles.IsKnown(profile))
        {
            stderr.WriteLine($"error: unknown profile '{profile}' ({string.Join(", ", Profiles.Names.Keys)})");
            return ExitCodes.UsageError;
        }

        System.Collections.Immutable.ImmutableArray<LoadedRuleset> rulesets;
        try
        {
            rulesets = Scanner.LoadRules(CommandLine.RulesDirectory(rulesOption)).Rulesets;
        }
        catch (ScanSetupException ex)
        {
            return Report(ex, stderr);
        }

        var rules = rulesets.SelectMany(r => r.Rules).Where(r => profile is null || r.InProfile(profile))
            .OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
        if (format == "json")
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartArray();
                foreach (var r in rules)
                {
                    w.WriteStartObject();
                    w.WriteString("id", r.Id);
                    w.WriteString("title", r.Title);
                    w.WriteString("category", r.Category);
                    w.WriteString("severity", r.Severity.ToName());
                    w.WriteString("appliesTo", r.AppliesTo);
                    w.WriteString("kind", "data");
                    w.WriteString("ruleset", r.Ruleset);
                    w.WriteString("file", r.File);
                    w.WriteNumber("line", r.Line);
                    w.WriteStartArray("profiles");
                    foreach (var p in r.Profiles.IsDefaultOrEmpty ? Profiles.Names.Keys : r.Profiles)
                    {
                        w.WriteStringValue(p);
                    }

                    w.WriteEndArray();
                    w.WriteStartArray("references");
                    foreach (var reference in r.References)
                    {
                        w.WriteStartObject();
                        w.WriteString("id", reference.Id);
                        w.WriteString("source", reference.Source);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                foreach (var c in CorrelationRules)
                {
                    w.WriteStartObject();
                    w.WriteString("id", c.Id);
                    w.WriteString("title", c.Title);
                    w.WriteString("category", c.Category);
                    w.WriteString("severity", c.Severity.ToName());
                    w.WriteString("appliesTo", c.AppliesTo);
                    w.WriteString("kind", "correlation");
                    w.WriteString("description", c.Description);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            stdout.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
            return ExitCodes.Ok;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumns("Rule id", "Cat.", "Severity", "Applies to", "Profiles", "References");
        foreach (var r in rules)
        {
            table.AddRow(
                Markup.Escape(r.Id), r.Category, r.Severity.ToName(), r.AppliesTo,
                Markup.Escape(r.Profiles.IsDefaultOrEmpty ? "all" : string.Join(", ", r.Profiles)),
                Markup.Escape(string.Join(", ", r.References.Select(x => x.Id).Distinct().Take(4))));
        }

        foreach (var c in CorrelationRules)
        {
            var source = c.Id.StartsWith("net.", StringComparison.Ordinal) ? "site model (C# network analyser)"
                : c.AppliesTo.Contains("site", StringComparison.Ordinal) ? "site file (C# correlation rule)"
                : "advisory feed (C# correlation rule)";
            table.AddRow(Markup.Escape(c.Id), c.Category, c.Severity.ToName(), Markup.Escape(c.AppliesTo), "all", source);
        }

        console.Write(table);
        console.MarkupLine($"{rules.Count + CorrelationRules.Length} rules ({rules.Count} data rules, {CorrelationRules.Length} correlation rules)");
        return ExitCodes.Ok;
    }

    public static int Validate(string? rulesOption, string[] paths, TextWriter stdout, TextWriter stderr)
    {
        var targets = paths.Length > 0 ? paths : [CommandLine.RulesDirectory(rulesOption)];
        var errors = 0;
        var rules = 0;
        foreach (var target in targets)
        {
            if (Directory.Exists(target))
            {
                try
                {
                    var (rulesets, feed) = Scanner.LoadRules(target);
                    rules += rulesets.Sum(r => r.Rules.Length);
                    var failures = FeedSelfTest.Run(feed);
                    if (!failures.IsEmpty)
                    {
                        throw new ScanSetupException($"the advisory feed fails {failures.Length} of its {feed.Tests.Length} self-tests", failures);
                    }

                    stdout.WriteLine($"{target}: {rulesets.Length} rulesets, {rulesets.Sum(r => r.Rules.Length)} rules, {feed.Advisories.Length} advisories, {feed.Tests.Length} feed self-tests passed: valid");
                }
                catch (ScanSetupException ex)
                {
                    errors += ex.Diagnostics.Length;
                    Report(ex, stderr);
                }
            }
            else if (File.Exists(target))
            {
                try
                {
                    var text = File.ReadAllText(target);
                    if (string.Equals(Path.GetFileName(target), AdvisoryFeedLoader.TestsFile, StringComparison.OrdinalIgnoreCase))
                    {
                        var cases = FeedSelfTest.Parse(text, target);
                        stdout.WriteLine($"{target}: {cases.Length} feed self-tests: valid (run them with 'rules validate' on the rules folder)");
                    }
                    else if (Path.GetFullPath(target).Replace('\\', '/').Contains("/advisories/", StringComparison.Ordinal))
                    {
                        AdvisoryFeedLoader.ValidateFile(text, target);
                        stdout.WriteLine($"{target}: valid advisory feed file");
                    }
                    else
                    {
                        var ruleset = RulesetLoader.Parse(text, target);
                        rules += ruleset.Rules.Length;
                        stdout.WriteLine($"{target}: {ruleset.Rules.Length} rules: valid");
                    }
                }
                catch (DataFileException ex)
                {
                    errors++;
                    stderr.WriteLine(ex.Message);
                }
            }
            else
            {
                stderr.WriteLine($"error: not found: {target}");
                return ExitCodes.UsageError;
            }
        }

        if (errors > 0)
        {
            stderr.WriteLine($"{errors} error(s)");
            return ExitCodes.UsageError;
        }

        return ExitCodes.Ok;
    }

    private static int Report(ScanSetupException ex, TextWriter stderr)
    {
        stderr.WriteLine("error: " + ex.Message);
        foreach (var d in ex.Diagnostics)
        {
            stderr.WriteLine(d.Line is { } line ? $"{d.File}:{line}: {d.Message}" : $"{d.File}: {d.Message}");
        }

        return ExitCodes.UsageError;
    }
}
