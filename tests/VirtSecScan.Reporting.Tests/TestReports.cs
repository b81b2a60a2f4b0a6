using System.Collections.Immutable;
using VirtSecScan.Core;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting.Tests;

/// <summary>Small hand-made reports, including hostile strings in every field that comes from scanned data.</summary>
internal static class TestReports
{
    public const string EvilName = "<img src=x onerror=alert(1)>";
    public const string EvilTitle = "Copy enabled on </script><script>alert(1)</script>";
    public const string EvilAttr = "\" onmouseover=\"alert(1)\" x=\"";
    public const string EvilZone = "dmz' autofocus onfocus='alert(2)";
    public const string Formula = "=HYPERLINK(\"http://example.invalid/x\",\"click\")";

    public static readonly DateTimeOffset Started = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    public static Finding Finding(
        string ruleId, string name, Severity severity = Severity.High, string category = "VT08", string? zone = "pacs",
        string discriminator = "", double score = 50, string? title = null, string type = "vm", string? source = null, int? line = 12)
    {
        return new Finding
        {
            RuleId = ruleId,
            Title = title ?? $"Rule {ruleId} fails on {name}",
            Category = category,
            Severity = severity,
            Status = FindingStatus.Fail,
            Resource = new ResourceRef(type, $"vmware-vm:{name.ToLowerInvariant()}", name, "esxi-01", zone, source ?? $"vms/{name}.vmx", line),
            Discriminator = discriminator,
            Evidence = [new Evidence("isolation.tools.copy.disable", "FALSE", "TRUE", source ?? $"vms/{name}.vmx", line)],
            Remediation = new Remediation($"Set isolation.tools.copy.disable to TRUE on {name}.", [$"PowerCLI: Get-VM '{name}' | New-AdvancedSetting -Name isolation.tools.copy.disable -Value TRUE"]),
            References = [new Reference("VMCH-80-000189", "DISA STIG vSphere 8.0 VM V2R3")],
            Compliance = ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty.Add("hipaa", ["164.312(a)(1)"]),
            Score = score,
            ScoreFactors = [new ScoreFactor("severity", 40, $"{severity.ToName()} severity"), new ScoreFactor("assetCriticality", 1.25, $"{name} holds patient data")],
            Profile = "stig-8",
        };
    }

    public static Finding Waived(Finding f, string justification = "Vendor-validated PACS build; compensating control: console access restricted") =>
        f with
        {
            Status = FindingStatus.Waived,
            Waiver = new Waiver("W-001", justification, "CISO Dr. Example", new DateOnly(2026, 10, 1), new DateOnly(2027, 3, 31), "waivers.yaml", 4),
        };

    public static ScanReport Report(params Finding[] findings)
    {
        var ranked = findings.OrderByDescending(f => f.Score).Select((f, i) => f with { Rank = i + 1 }).ToImmutableArray();
        return new ScanReport
        {
            StartedAt = Started,
            Inputs = ["fixtures/test"],
            Profile = "stig-8",
            Site = null,
            Rulesets = [new RulesetInfo("vmware-vm", "2026.11.1")],
            AdvisoryFeed = new FeedInfo(new DateOnly(2026, 11, 1), 26, 5),
            Collected = [.. findings.Select(f => new CollectedFile(f.Resource.Source!, "vmware-vmx", 10)).DistinctBy(c => c.File)],
            Skipped = [new SkippedFile("fixtures/test/notes.txt", "unknown format")],
            Findings = ranked,
            NotEvaluated = [],
            Passed = 40,
            Diagnostics = [Diagnostic.Warning("fixtures/test/bad.vmx", 3, "line is not key = value")],
        };
    }

    /// <summary>A report whose scanned values are hostile: markup, attribute breakers, formulas, control characters.</summary>
    public static ScanReport Hostile()
    {
        var evil = Finding("vmware.vm.console-copy-disabled", EvilName, Severity.Critical, zone: EvilZone, title: EvilTitle, score: 90) with
        {
            Evidence = [new Evidence("isolation.tools.copy.disable", EvilAttr, "TRUE\u0001", "vms/evil.vmx", 7)],
            Remediation = new Remediation(Formula, ["javascript:alert(3)", "<script>alert(4)</script>"]),
        };
        var formula = Finding("vmware.vm.console-paste-disabled", "+cmd|' /C calc'!A0", Severity.Medium, title: Formula, score: 30);
        var waived = Waived(Finding("vmware.vm.floppy-removed", "pacs-01", Severity.Low, score: 10, discriminator: "floppy0"),
            "<b>accepted</b> \" onclick=\"alert(5)");
        return Report(evil, formula, waived);
    }

    /// <summary>The demo hospital scanned with the repository's rulesets.</summary>
    public static ScanReport DemoHospital() => DemoLazy.Value;

    private static readonly Lazy<ScanReport> DemoLazy = new(() => new Scanner(new ScanOptions
    {
        Inputs = [RepoPaths.DemoHospital],
        RulesDirectory = RepoPaths.Rulesets,
        StartedAt = Started,
    }).Run());
}
