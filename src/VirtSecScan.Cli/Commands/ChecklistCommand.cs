using System.Collections.Immutable;
using VirtSecScan.Engine.Compliance;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Scanning;
using VirtSecScan.Reporting;

namespace VirtSecScan.Cli.Commands;

public sealed record ChecklistArguments
{
    public required string Framework { get; init; }
    public required string[] Paths { get; init; }
    public string? Site { get; init; }
    public required string Profile { get; init; }
    public string? Waivers { get; init; }
    public string? Attestations { get; init; }
    public required string Format { get; init; }
    public string? Output { get; init; }
    public string? RulesDirectory { get; init; }
}

/// <summary><c>virtsecscan checklist</c>: scans, then gives every control of a framework a status with its evidence.</summary>
public static class ChecklistCommand
{
    public static int Execute(ChecklistArguments args, TextWriter stdout, TextWriter stderr)
    {
        var rulesDirectory = CommandLine.RulesDirectory(args.RulesDirectory);
        var available = ComplianceCatalog.Available(rulesDirectory);
        if (!available.TryGetValue(args.Framework, out var catalogPath))
        {
            stderr.WriteLine($"error: unknown framework '{args.Framework}' (known: {string.Join(", ", available.Keys)})");
            return ExitCodes.UsageError;
        }

        if (!ChecklistWriter.Formats.Contains(args.Format))
        {
            stderr.WriteLine($"error: unknown format '{args.Format}' (known: {string.Join(", ", ChecklistWriter.Formats)})");
            return ExitCodes.UsageError;
        }

        if (args.Paths.Length == 0)
        {
            stderr.WriteLine("error: give at least one file or folder to scan");
            return ExitCodes.UsageError;
        }

        ComplianceCatalog catalog;
        ImmutableArray<Attestation> attestations = [];
        try
        {
            catalog = ComplianceCatalog.Parse(File.ReadAllText(catalogPath), Path.Combine("rulesets", "compliance", Path.GetFileName(catalogPath)).Replace('\\', '/'));
            if (args.Attestations is not null)
            {
                attestations = AttestationFile.Parse(File.ReadAllText(args.Attestations), args.Attestations.Replace('\\', '/'));
            }
        }
        catch (DataFileException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return ExitCodes.UsageError;
        }
        catch (IOException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return ExitCodes.UsageError;
        }

        ScanReport report;
        ImmutableArray<LoadedRuleset> rulesets;
        try
        {
            rulesets = Scanner.LoadRules(rulesDirectory).Rulesets;
            report = new Scanner(new ScanOptions
            {
                Inputs = [.. args.Paths],
                Profile = args.Profile,
                SiteFile = args.Site,
                RulesDirectory = rulesDirectory,
                WaiversFile = args.Waivers,
            }).Run();
        }
        catch (ScanSetupException ex)
        {
            stderr.WriteLine("error: " + ex.Message);
            foreach (var d in ex.Diagnostics)
            {
                stderr.WriteLine(d.Line is { } line ? $"  {d.File}:{line}: {d.Message}" : $"  {d.File}: {d.Message}");
            }

            return ExitCodes.UsageError;
        }

        var checklist = ChecklistEvaluator.Evaluate(catalog, report, rulesets.SelectMany(r => r.Rules), attestations);
        if (args.Output is null)
        {
            ChecklistWriter.Write(checklist, args.Format, stdout);
        }
        else
        {
            using var writer = new StreamWriter(args.Output);
            ChecklistWriter.Write(checklist, args.Format, writer);
        }

        foreach (var a in checklist.UnknownAttestations)
        {
            stderr.WriteLine($"warning: {a.File}:{a.Line}: attestation for {a.Control}/{a.Item} names no control item of {catalog.Framework}");
        }

        return ExitCodes.Ok;
    }
}
