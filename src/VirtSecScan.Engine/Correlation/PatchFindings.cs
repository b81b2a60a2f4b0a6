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
    public const string BuildIndeterminate = "patch.build-indeterminate";
    public const string FeedStale = "feed.stale";

    /// <summary>A feed older than this many days is itself a finding.</summary>
    public const int StaleAfterDays = 30;

    /// <summary><c>esxi.patch.advisory-missing</c>, <c>hyper-v.patch.advisory-missing</c> ...</summary>
    public static string AdvisoryMissingFor(string product) => $"{product.ToLowerInvariant()}.patch.advisory-missing";

    public static string EndOfSupportFor(string product) => $"{product.ToLowerInvariant()}.patch.end-of-support";

    public static readonly ImmutableArray<CorrelationRuleInfo> Rules =
    [
        .. Products.All.Select(p => new CorrelationRuleInfo(AdvisoryMissingFor(p), $"{Products.DisplayName(p)} lacks the fixes of a security advisory", "VT02", Severity.High, $"{p} version + advisory",
            "Compares the host's build (or version) with each advisory's fix for the host's own update line (never across lines); "
            + "'indeterminate' when the build cannot be placed; 'no fix' lines stay vulnerable.")),
        .. Products.All.Select(p => new CorrelationRuleInfo(EndOfSupportFor(p), $"{Products.DisplayName(p)} branch is past end of general support", "VT02", Severity.High, $"{p} version + lifecycle",
            "The host's branch (for example ESXi 6.7) has passed its end of general support: no more security fixes.")),
        new(BuildIndeterminate, "Hypervisor version or build cannot be placed: verify the patch level manually", "VT02", Severity.Medium, "hypervisor version",
            "The build is not in the feed's build map, the update line is unknown, or the version could not be read: advisories cannot be judged reliably."),
        new(FeedStale, "The advisory feed is older than 30 days", "VT02", Severity.Medium, "advisory feed",
            "Patch findings are only as current as the feed; import current advisories and the CISA KEV catalog."),
        .. HostCapacity.Rules,
    ];

    private static ImmutableArray<Reference> StigPatchReferences(string profile) => profile switch
    {
        "stig-8" => [new Reference("ESXI-80-000221", "DISA STIG vSphere 8.0 ESXi V2R3"), new Reference("V-258776", "DISA STIG vSphere 8.0 ESXi V2R3")],
        "stig-7" => [new Reference("ESXI-70-000072", "DISA STIG vSphere 7.0 ESXi V1R4")],
        _ => [],
    };

    private static ImmutableArray<Reference> StigFor(HypervisorBuild host, string profile) =>
        host.Product == Products.Esxi ? StigPatchReferences(profile) : [];

    private static readonly ImmutableSortedDictionary<string, ImmutableArray<string>> PatchCompliance =
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, ImmutableArray<string>>
        {
            ["hipaa"] = ["164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)"],
            ["nist-800-53"] = ["RA-5", "SI-2"],
        });

    private static string Describe(HypervisorBuild host) => host.Product switch
    {
        Products.Esxi or Products.Vcenter => $"{host.Version} build-{host.Build.ToString(CultureInfo.InvariantCulture)} (line {host.UpdateLine})",
        Products.HyperV => $"{host.Version} ({host.UpdateName ?? "OS build " + host.UpdateLine})",
        _ => $"{host.Version} (line {host.UpdateLine})",
    };

    /// <summary>How to patch one product to a target, as concrete steps.</summary>
    private static IEnumerable<string> UpgradeSteps(HypervisorBuild host, IReadOnlyList<AdvisoryFix> fixes)
    {
        var name = host.Resource.Name;
        var targets = string.Join(" / ", fixes.Select(f => f.Target));
        switch (host.Product)
        {
            case Products.Esxi:
                foreach (var f in fixes)
                {
                    yield return $"vSphere Lifecycle Manager: remediate the host (or its cluster image) to {f.Target} or a later build of {f.Line}.";
                }

                yield return "esxcli (host in maintenance mode): esxcli software profile update -d /vmfs/volumes/DATASTORE/VMware-ESXi-...-depot.zip -p PROFILE-NAME, then reboot.";
                yield return $"PowerCLI, to confirm afterwards: Get-VMHost {name} | Select-Object Name, Version, Build";
                break;
            case Products.Vcenter:
                yield return $"Take a file-based backup and a snapshot of {name}, then patch it to {targets} or later.";
                yield return "Appliance Management (https://VCENTER:5480) > Update: stage and install the patch; or from the appliance shell: software-packages stage --url, then software-packages install --staged.";
                yield return $"Confirm afterwards: GET https://{name}/api/appliance/system/version shows the new build.";
                break;
            case Products.HyperV:
                yield return $"Install the cumulative update that brings {name} to {targets} or later (Windows Update, WSUS, or the .msu from the Microsoft Update Catalog); drain the node first (Suspend-ClusterNode -Drain) in a cluster.";
                yield return "Reboot, then confirm: Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' | Select-Object CurrentBuild, UBR";
                break;
            case Products.ProxmoxVe:
                yield return $"Migrate guests off {name}, then: apt update && apt full-upgrade (enterprise or no-subscription repository) to reach {targets} or later.";
                yield return "Restart running VMs (or live-migrate them) so they use the new QEMU; reboot for a new kernel. Confirm with pveversion -v.";
                break;
            case Products.Xen:
                yield return $"Apply the vendor update that brings {name} to {targets} or later: XCP-ng: yum update, then reboot; Citrix Hypervisor/XenServer: xe patch-upload / XenCenter Install Update.";
                yield return "Confirm afterwards: xe host-param-list uuid=HOST-UUID (software-version).";
                break;
            default:
                yield return $"Update the distribution packages on {name} to {targets} or later (apt full-upgrade / dnf upgrade), then restart the affected services and guests.";
                yield return "Confirm afterwards: virsh version, and dpkg -l or rpm -q for the package versions.";
                break;
        }
    }

    public static Finding ForAdvisory(HypervisorBuild host, AdvisoryVerdict verdict, ScanContextView scan)
    {
        var advisory = verdict.Advisory;
        var product = Products.DisplayName(host.Product);
        var vulnerable = verdict.Vulnerable.ToList();
        var decided = verdict.Verdict == PatchVerdict.Vulnerable ? vulnerable : verdict.Indeterminate.ToList();
        var cves = decided.Select(c => advisory.FindCve(c.Cve)!).ToList();
        var kev = cves.Where(c => c.Kev is not null).ToList();
        var maxCvss = cves.Max(c => c.Cvss) ?? 0;
        var severity = maxCvss >= 9 ? Severity.Critical : maxCvss >= 7 ? Severity.High : maxCvss >= 4 ? Severity.Medium : Severity.Low;
        if (maxCvss == 0 && advisory.Severity is { } vendor)
        {
            severity = vendor.ToLowerInvariant() switch { "critical" => Severity.Critical, "important" or "high" => Severity.High, "moderate" or "medium" => Severity.Medium, _ => Severity.Low };
        }

        if (kev.Count > 0 && severity < Severity.High)
        {
            severity = Severity.High;
        }

        var noFixOnly = decided.All(c => c.DecidingFix?.NoFix == true);
        var fixRows = decided.Where(c => c.DecidingFix is { NoFix: false }).Select(c => c.DecidingFix!).DistinctBy(f => f.Target).ToList();
        var evidence = ImmutableArray.CreateBuilder<Evidence>();
        evidence.Add(new Evidence(host.Product is Products.Esxi or Products.Vcenter or Products.HyperV ? "build" : "version", Describe(host),
            fixRows.Count > 0 ? string.Join(" / ", fixRows.Select(f => $"{f.Target} or later ({f.Line})")) : "a supported line with a fix",
            host.Resource.Source, host.Resource.Line));
        foreach (var c in decided)
        {
            var cve = advisory.FindCve(c.Cve)!;
            var kevText = cve.Kev is null ? "" : $"; CISA KEV since {cve.Kev.DateAdded:yyyy-MM-dd}{(cve.Kev.RansomwareKnown ? ", known ransomware use" : "")}";
            evidence.Add(new Evidence(c.Cve, $"{c.Explanation}{(cve.Cvss is null ? "" : $"; CVSS {cve.Cvss.Value.ToString("0.0", CultureInfo.InvariantCulture)}")}{kevText}", null, advisory.File, c.DecidingFix?.SourceLine));
        }

        if (host.NotInBuildMap)
        {
            evidence.Add(new Evidence("buildMap", $"build {host.Build.ToString(CultureInfo.InvariantCulture)} is not in the feed's build map; line {host.UpdateLine} taken from the version", null, host.Resource.Source, host.Resource.Line));
        }

        var published = advisory.Updated ?? advisory.Published;
        var days = scan.Date.DayNumber - advisory.Published.DayNumber;
        int? daysSinceFix = null;
        if (!noFixOnly && days > 0 && verdict.Verdict == PatchVerdict.Vulnerable)
        {
            daysSinceFix = days;
            evidence.Add(new Evidence("daysSinceFix", days.ToString(CultureInfo.InvariantCulture), "patched within 30 days (critical) / 90 days", advisory.File));
        }

        var steps = ImmutableArray.CreateBuilder<string>();
        if (noFixOnly)
        {
            steps.Add($"There is no fix for {product} {host.UpdateLine}: upgrade the host to a branch that has one (see {advisory.Id}).");
        }
        else
        {
            steps.AddRange(UpgradeSteps(host, fixRows));
        }

        if (!advisory.Workarounds.IsDefaultOrEmpty)
        {
            steps.AddRange(advisory.Workarounds.Select(w => "Until patched (vendor workaround): " + w));
        }

        var refs = ImmutableArray.CreateBuilder<Reference>();
        refs.Add(new Reference(advisory.Id, advisory.Id.StartsWith("VMSA-", StringComparison.Ordinal) ? "VMware Security Advisory" : "Security advisory"));
        refs.AddRange(decided.Select(c => new Reference(c.Cve, "CVE")));
        refs.AddRange(StigFor(host, scan.Profile));

        var indeterminate = verdict.Verdict == PatchVerdict.Indeterminate;
        return new Finding
        {
            RuleId = AdvisoryMissingFor(host.Product),
            Title = indeterminate
                ? $"{host.Resource.Name}: cannot tell whether {(host.Product is Products.Esxi or Products.Vcenter ? "build " + host.Build.ToString(CultureInfo.InvariantCulture) : host.Version)} contains the fixes of {advisory.Id}"
                : noFixOnly
                    ? $"{host.Resource.Name} is exposed to {advisory.Id} with no fix for {product} {host.UpdateLine}"
                    : $"{host.Resource.Name} is missing {advisory.Id} ({string.Join(", ", decided.Select(c => c.Cve))})",
            Category = noFixOnly ? "VT01" : "VT02",
            Severity = severity,
            Status = indeterminate ? FindingStatus.NotEvaluated : FindingStatus.Fail,
            Reason = indeterminate ? string.Join("; ", decided.Select(c => $"{c.Cve}: {c.Explanation}")) : null,
            Resource = host.Resource,
            Discriminator = advisory.Id,
            Evidence = evidence.ToImmutable(),
            Remediation = new Remediation(
                noFixOnly ? $"Move {host.Resource.Name} to a supported {product} release that fixes {advisory.Id}."
                    : $"Patch {host.Resource.Name} to {string.Join(" / ", fixRows.Select(f => f.Target))} or later (the fix for its update line).",
                steps.ToImmutable()),
            References = refs.ToImmutable(),
            Compliance = PatchCompliance,
            Exploitation = kev.Count > 0 && !indeterminate
                ? new Exploitation(true, kev.Any(c => c.Kev!.RansomwareKnown), kev.Select(c => c.Id).Order(StringComparer.Ordinal).ToImmutableArray())
                : null,
            Profile = scan.Profile,
            Confidence = published > scan.Date ? 0.5 : host.BuildSource is "hal-version" or "build-lab-ex" ? 0.9 : 1.0,
            DaysSinceFix = daysSinceFix,
        };
    }

    public static Finding ForAdvisoryPass(HypervisorBuild host, AdvisoryVerdict verdict, ScanContextView scan) => new()
    {
        RuleId = AdvisoryMissingFor(host.Product),
        Title = $"{host.Resource.Name} has the fixes of {verdict.Advisory.Id}",
        Category = "VT02",
        Severity = Severity.Info,
        Status = FindingStatus.Pass,
        Resource = host.Resource,
        Discriminator = verdict.Advisory.Id,
        Evidence = verdict.Cves.Where(c => c.Verdict == PatchVerdict.NotVulnerable).Select(c => new Evidence(c.Cve, c.Explanation, null, verdict.Advisory.File)).ToImmutableArray(),
        Profile = scan.Profile,
    };

    /// <summary>A host whose version or build cannot be placed: a finding of its own, asking for a manual check.</summary>
    public static Finding ForIndeterminateBuild(HypervisorBuild host, int advisories, ScanContextView scan)
    {
        var product = Products.DisplayName(host.Product);
        var why = host.Unplaced
                  ?? (host.NotInBuildMap && !host.LineCertain ? $"build {host.Build.ToString(CultureInfo.InvariantCulture)} is not in the feed's build map and the version does not name the update line"
                      : host.NotInBuildMap ? $"build {host.Build.ToString(CultureInfo.InvariantCulture)} is not in the feed's build map (newer than the feed, or a build the vendor did not list); line {host.UpdateLine} was taken from the version"
                      : $"the version {host.Version} does not name the update line");
        var check = host.Product switch
        {
            Products.Esxi => "On the host: vmware -vl and esxcli software profile get; compare the build with the vendor's build table (VMware KB 2143832).",
            Products.Vcenter => "GET /api/appliance/system/version (or the VAMI Summary) and compare with the vCenter build table (VMware KB 2143838).",
            Products.HyperV => "Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' | Select CurrentBuild, UBR; compare with the Windows release information.",
            Products.ProxmoxVe => "pveversion -v on the node.",
            Products.Xen => "xe host-param-list uuid=HOST-UUID (software-version).",
            _ => "virsh version and dpkg -l / rpm -q for the QEMU and libvirt packages.",
        };
        return new Finding
        {
            RuleId = BuildIndeterminate,
            Title = $"{host.Resource.Name}: {product} patch level cannot be placed; verify manually",
            Category = "VT02",
            Severity = Severity.Medium,
            Status = FindingStatus.Fail,
            Resource = host.Resource,
            Discriminator = host.Product,
            Reason = why,
            Evidence =
            [
                new Evidence("version", host.Product is Products.Esxi or Products.Vcenter ? $"{host.Version} build-{host.Build.ToString(CultureInfo.InvariantCulture)}" : host.Version, "a version and build the feed can place", host.Resource.Source, host.Resource.Line),
                new Evidence("indeterminate", why, null, host.Resource.Source, host.Resource.Line),
                new Evidence("advisories", advisories.ToString(CultureInfo.InvariantCulture) + $" advisories for {product} in the feed", null),
            ],
            Remediation = new Remediation($"Verify the patch level of {host.Resource.Name} by hand, then update the feed's build map (or fix the collected file).",
                [check, "If the build is newer than the feed: import a current feed (virtsecscan feed import) and scan again."]),
            References = StigFor(host, scan.Profile),
            Compliance = PatchCompliance,
            Profile = scan.Profile,
            Confidence = 1.0,
        };
    }

    /// <summary>The feed itself is older than <see cref="StaleAfterDays"/> days (or has no date at all).</summary>
    public static Finding ForStaleFeed(DateOnly? published, DateOnly? kevReleased, DateOnly scanDate, string profile)
    {
        var age = published is { } p ? scanDate.DayNumber - p.DayNumber : (int?)null;
        var stale = age is null || age > StaleAfterDays;
        var evidence = ImmutableArray.CreateBuilder<Evidence>();
        evidence.Add(new Evidence("feedPublished", published?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "(no advisory dates)", $"within {StaleAfterDays} days of the scan"));
        if (age is { } a)
        {
            evidence.Add(new Evidence("ageDays", a.ToString(CultureInfo.InvariantCulture), $"<= {StaleAfterDays}"));
        }

        evidence.Add(new Evidence("kevCatalog", kevReleased?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "not imported", "a current CISA KEV catalog"));
        return new Finding
        {
            RuleId = FeedStale,
            Title = stale ? $"The advisory feed is {(age is null ? "undated" : $"{age} days old")}: patch findings may miss recent advisories" : "The advisory feed is current",
            Category = "VT02",
            Severity = stale ? Severity.Medium : Severity.Info,
            Status = stale ? FindingStatus.Fail : FindingStatus.Pass,
            Resource = new ResourceRef("feed", "feed:advisories", "advisory feed"),
            Evidence = evidence.ToImmutable(),
            Remediation = new Remediation("Import current advisories and the CISA KEV catalog, then scan again.",
            [
                "virtsecscan feed import --kev known_exploited_vulnerabilities.json (from https://www.cisa.gov/known-exploited-vulnerabilities-catalog)",
                "virtsecscan feed import VENDOR-ADVISORY.json (CSAF 2.0) or a saved VMSA page; then virtsecscan feed status",
            ]),
            Compliance = PatchCompliance,
            Profile = profile,
        };
    }

    public static Finding ForLifecycle(HypervisorBuild host, BranchLifecycle? lifecycle, ScanContextView scan)
    {
        var product = Products.DisplayName(host.Product);
        var steps = host.Product == Products.Esxi
            ? ImmutableArray.Create(
                $"Plan the upgrade of {host.Resource.Name} to a supported ESXi branch (check hardware compatibility first).",
                "vSphere Lifecycle Manager: attach an image of a supported release and remediate; or boot the host from the new ESXi installer and choose Upgrade.",
                $"PowerCLI, to confirm afterwards: Get-VMHost {host.Resource.Name} | Select-Object Name, Version, Build")
            : ImmutableArray.Create(
                $"Plan the upgrade of {host.Resource.Name} to a supported {product} release (check hardware and guest compatibility first).",
                "Move the workloads off the host, upgrade it (in-place upgrade or reinstall), move them back.");
        var baseFinding = new Finding
        {
            RuleId = EndOfSupportFor(host.Product),
            Title = $"{host.Resource.Name} runs {product} {host.Branch}, past end of general support",
            Category = "VT02",
            Severity = Severity.High,
            Status = FindingStatus.Fail,
            Resource = host.Resource,
            Remediation = new Remediation($"Upgrade {host.Resource.Name} to a supported {product} branch; an end-of-support branch gets no security fixes.", steps),
            References = StigFor(host, scan.Profile),
            Compliance = PatchCompliance,
            Profile = scan.Profile,
        };

        if (lifecycle?.EndOfGeneralSupport is not { } end)
        {
            return baseFinding with
            {
                Title = $"{host.Resource.Name}: support lifecycle of {product} {host.Branch} is not in the advisory feed",
                Status = FindingStatus.NotEvaluated,
                Reason = $"the advisory feed has no end-of-support date for {product} {host.Branch}",
                Evidence = [new Evidence("branch", host.Branch, "a branch listed in the feed's lifecycle file", host.Resource.Source, host.Resource.Line)],
            };
        }

        var evidence = new Evidence("branch", $"{product} {host.Branch} ({Describe(host)})",
            $"a branch in general support ({product} {host.Branch} ended {end:yyyy-MM-dd})", host.Resource.Source, host.Resource.Line);
        return end < scan.Date
            ? baseFinding with { Evidence = [evidence, new Evidence("daysPastEndOfSupport", (scan.Date.DayNumber - end.DayNumber).ToString(CultureInfo.InvariantCulture), "0", lifecycle.Source)] }
            : baseFinding with { Status = FindingStatus.Pass, Severity = Severity.Info, Title = $"{host.Resource.Name} runs a supported {product} branch ({host.Branch})", Evidence = [evidence] };
    }
}

/// <summary>What correlation rules need to know about the scan.</summary>
public sealed record ScanContextView(string Profile, DateOnly Date);
