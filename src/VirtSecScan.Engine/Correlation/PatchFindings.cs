using System.Collections.Immutable;
using System.Globalization;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Engine.Correlation;

/// <summary>Descriptions of the C# correlation rules, for <c>rules list</c> and for the findings they make.</summary>
public sealed record CorrelationRuleInfo(string Id, string Title, string Category, Severity Severity, string AppliesTo, string Description);

/// <summary>Builds the findings of the patch-level correlation rules (advisories, end of support).</summary>
public static class PatchFindings
{
    public const string AdvisoryMissing = "esxi.patch.advisory-missing";
    public const string EndOfSupport = "esxi.patch.end-of-support";

    public static readonly ImmutableArray<CorrelationRuleInfo> Rules =
    [
        new(AdvisoryMissing, "Hypervisor build lacks the fixes of a security advisory", "VT02", Severity.High, "hypervisor + advisory",
            "Compares the host's build with each advisory's fixed build for the host's own update line (never across lines); "
            + "'indeterminate' when the build cannot be placed; 'no fix' lines stay vulnerable."),
        new(EndOfSupport, "Hypervisor branch is past end of general support", "VT02", Severity.High, "hypervisor + lifecycle",
            "The host's branch (for example ESXi 6.7) has passed its end of general support: no more security fixes."),
        .. HostCapacity.Rules,
    ];

    private static ImmutableArray<Reference> StigPatchReferences(string profile) => profile switch
    {
        "stig-8" => [new Reference("ESXI-80-000221", "DISA STIG vSphere 8.0 ESXi V2R3"), new Reference("V-258776", "DISA STIG vSphere 8.0 ESXi V2R3")],
        "stig-7" => [new Reference("ESXI-70-000072", "DISA STIG vSphere 7.0 ESXi V1R4")],
        _ => [],
    };

    private static readonly ImmutableSortedDictionary<string, ImmutableArray<string>> PatchCompliance =
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, ImmutableArray<string>>
        {
            ["hipaa"] = ["164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)"],
            ["nist-800-53"] = ["RA-5", "SI-2"],
        });

    public static Finding ForAdvisory(HypervisorBuild host, AdvisoryVerdict verdict, ScanContextView scan)
    {
        var advisory = verdict.Advisory;
        var vulnerable = verdict.Vulnerable.ToList();
        var decided = verdict.Verdict == PatchVerdict.Vulnerable ? vulnerable : verdict.Indeterminate.ToList();
        var cves = decided.Select(c => advisory.FindCve(c.Cve)!).ToList();
        var kev = cves.Where(c => c.Kev is not null).ToList();
        var maxCvss = cves.Max(c => c.Cvss) ?? 0;
        var severity = maxCvss >= 9 ? Severity.Critical : maxCvss >= 7 ? Severity.High : maxCvss >= 4 ? Severity.Medium : Severity.Low;
        if (kev.Count > 0 && severity < Severity.High)
        {
            severity = Severity.High;
        }

        var noFixOnly = decided.All(c => c.DecidingFix?.NoFix == true);
        var fixRows = decided.Where(c => c.DecidingFix is { NoFix: false }).Select(c => c.DecidingFix!).DistinctBy(f => f.FixedBuild).ToList();
        var evidence = ImmutableArray.CreateBuilder<Evidence>();
        evidence.Add(new Evidence("build", $"{host.Version} build-{host.Build.ToString(CultureInfo.InvariantCulture)} (line {host.UpdateLine})",
            fixRows.Count > 0 ? string.Join(" / ", fixRows.Select(f => $"{f.FixedName ?? f.FixedBuild?.ToString(CultureInfo.InvariantCulture)} or later ({f.Line})")) : "a supported line with a fix",
            host.Resource.Source, host.Resource.Line));
        foreach (var c in decided)
        {
            var cve = advisory.FindCve(c.Cve)!;
            var kevText = cve.Kev is null ? "" : $"; CISA KEV since {cve.Kev.DateAdded:yyyy-MM-dd}{(cve.Kev.RansomwareKnown ? ", known ransomware use" : "")}";
            evidence.Add(new Evidence(c.Cve, $"{c.Explanation}{(cve.Cvss is null ? "" : $"; CVSS {cve.Cvss.Value.ToString("0.0", CultureInfo.InvariantCulture)}")}{kevText}", null, advisory.File));
        }

        var published = advisory.Updated ?? advisory.Published;
        var days = scan.Date.DayNumber - advisory.Published.DayNumber;
        if (!noFixOnly && days > 0)
        {
            evidence.Add(new Evidence("daysSinceFix", days.ToString(CultureInfo.InvariantCulture), "patched within 30 days (critical) / 90 days", advisory.File));
        }

        var steps = ImmutableArray.CreateBuilder<string>();
        if (noFixOnly)
        {
            steps.Add($"There is no fix for ESXi {host.UpdateLine}: upgrade the host to a branch that has one (see {advisory.Id}).");
        }
        else
        {
            foreach (var f in fixRows)
            {
                steps.Add($"vSphere Lifecycle Manager: remediate the host (or its cluster image) to {f.FixedName ?? f.FixedBuild?.ToString(CultureInfo.InvariantCulture)} or a later build of {f.Line}.");
            }

            steps.Add("esxcli (host in maintenance mode): esxcli software profile update -d /vmfs/volumes/DATASTORE/VMware-ESXi-...-depot.zip -p PROFILE-NAME, then reboot.");
        }

        steps.Add($"PowerCLI, to confirm afterwards: Get-VMHost {host.Resource.Name} | Select-Object Name, Version, Build");
        if (!advisory.Workarounds.IsDefaultOrEmpty)
        {
            steps.AddRange(advisory.Workarounds.Select(w => "Until patched (vendor workaround): " + w));
        }

        var refs = ImmutableArray.CreateBuilder<Reference>();
        refs.Add(new Reference(advisory.Id, "VMware Security Advisory"));
        refs.AddRange(decided.Select(c => new Reference(c.Cve, "CVE")));
        refs.AddRange(StigPatchReferences(scan.Profile));

        var indeterminate = verdict.Verdict == PatchVerdict.Indeterminate;
        return new Finding
        {
            RuleId = AdvisoryMissing,
            Title = indeterminate
                ? $"{host.Resource.Name}: cannot tell whether build {host.Build.ToString(CultureInfo.InvariantCulture)} contains the fixes of {advisory.Id}"
                : noFixOnly
                    ? $"{host.Resource.Name} is exposed to {advisory.Id} with no fix for ESXi {host.UpdateLine}"
                    : $"{host.Resource.Name} is missing {advisory.Id} ({string.Join(", ", decided.Select(c => c.Cve))})",
            Category = noFixOnly ? "VT01" : "VT02",
            Severity = severity,
            Status = indeterminate ? FindingStatus.NotEvaluated : FindingStatus.Fail,
            Reason = indeterminate ? string.Join("; ", decided.Select(c => $"{c.Cve}: {c.Explanation}")) : null,
            Resource = host.Resource,
            Discriminator = advisory.Id,
            Evidence = evidence.ToImmutable(),
            Remediation = new Remediation(
                noFixOnly ? $"Move {host.Resource.Name} to a supported ESXi release that fixes {advisory.Id}." : $"Patch {host.Resource.Name} to the fixed build of its update line.",
                steps.ToImmutable()),
            References = refs.ToImmutable(),
            Compliance = PatchCompliance,
            Exploitation = kev.Count > 0 && !indeterminate
                ? new Exploitation(true, kev.Any(c => c.Kev!.RansomwareKnown), kev.Select(c => c.Id).Order(StringComparer.Ordinal).ToImmutableArray())
                : null,
            Profile = scan.Profile,
            Confidence = published > scan.Date ? 0.5 : 1.0,
        };
    }

    public static Finding ForAdvisoryPass(HypervisorBuild host, AdvisoryVerdict verdict, ScanContextView scan) => new()
    {
        RuleId = AdvisoryMissing,
        Title = $"{host.Resource.Name} has the fixes of {verdict.Advisory.Id}",
        Category = "VT02",
        Severity = Severity.Info,
        Status = FindingStatus.Pass,
        Resource = host.Resource,
        Discriminator = verdict.Advisory.Id,
        Evidence = verdict.Cves.Where(c => c.Verdict == PatchVerdict.NotVulnerable).Select(c => new Evidence(c.Cve, c.Explanation, null, verdict.Advisory.File)).ToImmutableArray(),
        Profile = scan.Profile,
    };

    public static Finding ForLifecycle(HypervisorBuild host, BranchLifecycle? lifecycle, ScanContextView scan)
    {
        var steps = ImmutableArray.Create(
            $"Plan the upgrade of {host.Resource.Name} to a supported ESXi branch (check hardware compatibility first).",
            "vSphere Lifecycle Manager: attach an image of a supported release and remediate; or boot the host from the new ESXi installer and choose Upgrade.",
            $"PowerCLI, to confirm afterwards: Get-VMHost {host.Resource.Name} | Select-Object Name, Version, Build");
        var baseFinding = new Finding
        {
            RuleId = EndOfSupport,
            Title = $"{host.Resource.Name} runs ESXi {host.Branch}, past end of general support",
            Category = "VT02",
            Severity = Severity.High,
            Status = FindingStatus.Fail,
            Resource = host.Resource,
            Remediation = new Remediation($"Upgrade {host.Resource.Name} to a supported ESXi branch; an end-of-support branch gets no security fixes.", steps),
            References = StigPatchReferences(scan.Profile),
            Compliance = PatchCompliance,
            Profile = scan.Profile,
        };

        if (lifecycle?.EndOfGeneralSupport is not { } end)
        {
            return baseFinding with
            {
                Title = $"{host.Resource.Name}: support lifecycle of ESXi {host.Branch} is not in the advisory feed",
                Status = FindingStatus.NotEvaluated,
                Reason = $"the advisory feed has no end-of-support date for ESXi {host.Branch}",
                Evidence = [new Evidence("branch", host.Branch, "a branch listed in the feed's lifecycle file", host.Resource.Source, host.Resource.Line)],
            };
        }

        var evidence = new Evidence("branch", $"ESXi {host.Branch} (build {host.Build.ToString(CultureInfo.InvariantCulture)})",
            $"a branch in general support (ESXi {host.Branch} ended {end:yyyy-MM-dd})", host.Resource.Source, host.Resource.Line);
        return end < scan.Date
            ? baseFinding with { Evidence = [evidence, new Evidence("daysPastEndOfSupport", (scan.Date.DayNumber - end.DayNumber).ToString(CultureInfo.InvariantCulture), "0", lifecycle.Source)] }
            : baseFinding with { Status = FindingStatus.Pass, Severity = Severity.Info, Title = $"{host.Resource.Name} runs a supported ESXi branch ({host.Branch})", Evidence = [evidence] };
    }
}

/// <summary>What correlation rules need to know about the scan.</summary>
public sealed record ScanContextView(string Profile, DateOnly Date);
