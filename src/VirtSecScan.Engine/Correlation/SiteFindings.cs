using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Site;

namespace VirtSecScan.Engine.Correlation;

/// <summary>
/// Capacity (VT09) and resilience (VT06) checks that join a VM's configuration with what the site file says
/// about it: its role, the redundancy groups it belongs to, and the backups and replicas declared for it.
/// Host overcommit needs host hardware facts and is not judged here.
/// </summary>
public static partial class SiteFindings
{
    public const string Reservations = "capacity.vm.reservation-set";
    public const string Limits = "capacity.vm.no-limit";
    public const string SameHost = "resilience.redundancy.same-host";
    public const string Backup = "resilience.backup.declared";

    public static readonly ImmutableArray<CorrelationRuleInfo> Rules =
    [
        new(Reservations, "A PACS, LIS or HIS VM has no CPU or memory reservation", "VT09", Severity.Medium, "vm + site role",
            "VMs whose site role names PACS, LIS or HIS must reserve CPU (sched.cpu.min) and memory (sched.mem.min) so that contention on the host cannot starve them."),
        new(Limits, "A PACS, LIS or HIS VM has a CPU or memory limit", "VT09", Severity.Medium, "vm + site role",
            "A CPU (sched.cpu.max) or memory (sched.mem.max) limit caps a PACS, LIS or HIS VM below what it was given, even when the host is idle."),
        new(SameHost, "All members of a redundant pair run on one host", "VT06", Severity.High, "site redundancy group + vm",
            "Members of a site 'redundancy' group must run on different hosts; one host failure otherwise stops the service. Reported on the last member collected, "
            + "with the group as discriminator. Not evaluated when a member's host is unknown."),
        new(Backup, "A clinical VM has no backup or replica declared", "VT06", Severity.Medium, "vm + site backups",
            "Every clinical VM (zone kind clinical, or a role naming HIS, EMR, LIS, PACS or RIS) should be named by a backup or replica entry of the site file."),
    ];

    [GeneratedRegex(@"(?:^|[^a-z])(?:pacs|lis|his)(?:$|[^a-z])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CapacityRole();

    [GeneratedRegex(@"(?:^|[^a-z])(?:pacs|lis|his|emr|ris)(?:$|[^a-z])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ClinicalRole();

    private static readonly ImmutableSortedDictionary<string, ImmutableArray<string>> CapacityCompliance =
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, ImmutableArray<string>>
        {
            ["hipaa"] = ["164.308(a)(7)(ii)(B)"],
            ["nist-800-53"] = ["SC-6", "CP-2(2)"],
        });

    private static readonly ImmutableSortedDictionary<string, ImmutableArray<string>> ResilienceCompliance =
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, ImmutableArray<string>>
        {
            ["hipaa"] = ["164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"],
            ["nist-800-53"] = ["CP-9", "CP-10", "SC-36"],
        });

    /// <summary>The site role of a VM, when the site file names it.</summary>
    public static string? RoleOf(SiteModel site, IConfigFact vm) => site.FindSystem("vm", vm.Resource.Name)?.Role;

    /// <summary>True for a VM whose site role names PACS, LIS or HIS.</summary>
    public static bool NeedsCapacity(SiteModel site, IConfigFact vm) =>
        RoleOf(site, vm) is { } role && CapacityRole().IsMatch(role);

    /// <summary>True for a VM in a clinical zone or with a clinical role.</summary>
    public static bool IsClinical(SiteModel site, IConfigFact vm)
    {
        var system = site.FindSystem("vm", vm.Resource.Name);
        if (system is null)
        {
            return false;
        }

        return site.FindZone(system.Zone)?.Kind == "clinical" || (system.Role is { } role && ClinicalRole().IsMatch(role));
    }

    /// <summary>A reservation is set when the value is a number above 0.</summary>
    private static bool Positive(Setting? s) =>
        s is not null && double.TryParse(s.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0;

    /// <summary>A limit is set when the value is a number of 0 or more (a missing key, -1 or "unlimited" is no limit).</summary>
    private static bool IsLimit(Setting? s) =>
        s is not null && double.TryParse(s.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0;

    private static Evidence EvidenceOf(IConfigFact vm, string key, string expected) =>
        vm.Get(key) is { } s
            ? new Evidence(s.Key, s.Value, expected, vm.Resource.Source, s.Line)
            : new Evidence(key, null, expected, vm.Resource.Source);

    public static Finding ForReservations(IConfigFact vm, SiteModel site, string profile)
    {
        var cpu = vm.Get("sched.cpu.min");
        var mem = vm.Get("sched.mem.min");
        var missing = new List<string>();
        if (!Positive(cpu))
        {
            missing.Add("CPU");
        }

        if (!Positive(mem))
        {
            missing.Add("memory");
        }

        var role = RoleOf(site, vm);
        return new Finding
        {
            RuleId = Reservations,
            Title = missing.Count == 0
                ? $"{vm.Resource.Name} ({role}) reserves CPU and memory"
                : $"{vm.Resource.Name} ({role}) has no {string.Join(" or ", missing)} reservation",
            Category = "VT09",
            Severity = Severity.Medium,
            Status = missing.Count == 0 ? FindingStatus.Pass : FindingStatus.Fail,
            Resource = vm.Resource,
            Evidence =
            [
                new Evidence("site.role", role, "PACS, LIS or HIS role (site file)", site.Source),
                EvidenceOf(vm, "sched.cpu.min", "CPU reservation in MHz above 0"),
                EvidenceOf(vm, "sched.mem.min", "memory reservation in MB above 0"),
            ],
            Remediation = new Remediation(
                $"Reserve CPU and memory for {vm.Resource.Name} so that host contention cannot starve it.",
                [
                    $"PowerCLI: Get-VM '{vm.Resource.Name}' | Get-VMResourceConfiguration | Set-VMResourceConfiguration -CpuReservationMhz <MHz> -MemReservationGB <GB>",
                    "vSphere Client: VM > Edit Settings > Virtual Hardware > CPU > Reservation, and Memory > Reservation (for example 'Reserve all guest memory')",
                    "Size the reservation from the system's measured peak; check that the host and cluster admission control still have room.",
                ]),
            Compliance = CapacityCompliance,
            Profile = profile,
        };
    }

    public static Finding ForLimits(IConfigFact vm, SiteModel site, string profile)
    {
        var cpu = vm.Get("sched.cpu.max");
        var mem = vm.Get("sched.mem.max");
        var limited = new List<string>();
        if (IsLimit(cpu))
        {
            limited.Add($"CPU {cpu!.Value} MHz");
        }

        if (IsLimit(mem))
        {
            limited.Add($"memory {mem!.Value} MB");
        }

        var role = RoleOf(site, vm);
        return new Finding
        {
            RuleId = Limits,
            Title = limited.Count == 0
                ? $"{vm.Resource.Name} ({role}) has no CPU or memory limit"
                : $"{vm.Resource.Name} ({role}) is capped by a {string.Join(" and ", limited)} limit",
            Category = "VT09",
            Severity = Severity.Medium,
            Status = limited.Count == 0 ? FindingStatus.Pass : FindingStatus.Fail,
            Resource = vm.Resource,
            Evidence =
            [
                new Evidence("site.role", role, "PACS, LIS or HIS role (site file)", site.Source),
                EvidenceOf(vm, "sched.cpu.max", "no limit (key absent)"),
                EvidenceOf(vm, "sched.mem.max", "no limit (key absent)"),
            ],
            Remediation = new Remediation(
                $"Remove the CPU and memory limits of {vm.Resource.Name}; use reservations and shares to protect it instead.",
                [
                    $"PowerCLI: Get-VM '{vm.Resource.Name}' | Get-VMResourceConfiguration | Set-VMResourceConfiguration -CpuLimitMhz $null -MemLimitGB $null",
                    "vSphere Client: VM > Edit Settings > Virtual Hardware > CPU > Limit = Unlimited, and Memory > Limit = Unlimited",
                ]),
            Compliance = CapacityCompliance,
            Profile = profile,
        };
    }

    /// <summary>One outcome per redundancy group: fail when all members run on one host, not evaluated when a host is unknown.</summary>
    public static Finding ForRedundancy(RedundancyGroup group, SiteModel site, IReadOnlyCollection<IConfigFact> vms, string profile)
    {
        var evidence = ImmutableArray.CreateBuilder<Evidence>();
        var hosts = new List<string?>();
        foreach (var member in group.Members)
        {
            var fact = vms.FirstOrDefault(v => string.Equals(v.Resource.Name, member, StringComparison.OrdinalIgnoreCase));
            var host = site.FindSystem("vm", member)?.Host ?? fact?.Resource.Host;
            hosts.Add(host);
            evidence.Add(new Evidence($"{member}.host", host ?? "unknown", "a host no other member uses", fact?.Resource.Source ?? site.Source));
        }

        // The finding is reported on the last member the scan collected (the one to move), so zone and criticality resolve.
        var anchor = group.Members.Reverse()
                         .Select(m => vms.FirstOrDefault(v => string.Equals(v.Resource.Name, m, StringComparison.OrdinalIgnoreCase))?.Resource)
                         .FirstOrDefault(r => r is not null)
                     ?? new ResourceRef("vm", "vm:name:" + group.Members[^1].ToLowerInvariant(), group.Members[^1], site.FindSystem("vm", group.Members[^1])?.Host,
                         Source: group.Source, Line: group.Line);
        var known = hosts.Where(h => h is not null).Select(h => h!).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var unknown = hosts.Count(h => h is null);
        FindingStatus status;
        string? reason = null;
        if (known.Count >= 2)
        {
            status = FindingStatus.Pass;
        }
        else if (unknown > 0)
        {
            status = FindingStatus.NotEvaluated;
            reason = $"the host of {string.Join(", ", group.Members.Where((m, i) => hosts[i] is null))} is not known (add host: to its systems entry in the site file)";
        }
        else
        {
            status = FindingStatus.Fail;
        }

        return new Finding
        {
            RuleId = SameHost,
            Title = status == FindingStatus.Fail
                ? $"Redundant group {group.Name} ({string.Join(", ", group.Members)}) runs entirely on host {known[0]}"
                : $"Redundant group {group.Name} is spread over hosts",
            Category = "VT06",
            Severity = Severity.High,
            Status = status,
            Reason = reason,
            Resource = anchor,
            Discriminator = "redundancy:" + group.Name.ToLowerInvariant(),
            Evidence = evidence.ToImmutable(),
            Remediation = new Remediation(
                $"Run the members of {group.Name} on different hosts and keep them apart with an anti-affinity rule.",
                [
                    $"PowerCLI: New-DrsRule -Cluster (Get-Cluster <cluster>) -Name '{group.Name}-anti-affinity' -KeepTogether:$false -VM {string.Join(",", group.Members.Select(m => $"'{m}'"))}",
                    "vSphere Client: Cluster > Configure > VM/Host Rules > Add > Separate Virtual Machines",
                    "Then migrate one member to another host (vMotion), and update host: in the site file.",
                ]),
            Compliance = ResilienceCompliance,
            Profile = profile,
        };
    }

    public static Finding ForBackup(IConfigFact vm, SiteModel site, string profile)
    {
        var declared = site.BackupsOf(vm.Resource.Name).ToList();
        var system = site.FindSystem("vm", vm.Resource.Name);
        return new Finding
        {
            RuleId = Backup,
            Title = declared.Count == 0
                ? $"No backup or replica is declared for clinical VM {vm.Resource.Name}"
                : $"{vm.Resource.Name} has a backup or replica declared",
            Category = "VT06",
            Severity = Severity.Medium,
            Status = declared.Count == 0 ? FindingStatus.Fail : FindingStatus.Pass,
            Resource = vm.Resource,
            Evidence =
            [
                new Evidence("site.zone", system?.Zone, "clinical system (site file)", site.Source),
                new Evidence("site.backups", declared.Count == 0 ? "none" : string.Join("; ", declared.Select(d => $"{d.Kind}{(d.Target is null ? "" : ": " + d.Target)}")),
                    "a backup or replica entry naming the VM", declared.FirstOrDefault()?.Source ?? site.Source, declared.FirstOrDefault()?.Line),
            ],
            Remediation = new Remediation(
                $"Back up or replicate {vm.Resource.Name}, and declare it under backups: in the site file.",
                [
                    "Add the VM to a backup job (image-level, application-consistent for databases) with an off-host copy, or replicate it to a second site.",
                    $"Site file: backups: - {{ kind: backup, systems: [{vm.Resource.Name}], target: <job and retention> }}",
                    "Test a restore; a backup that has never been restored is not evidence.",
                ]),
            Compliance = ResilienceCompliance,
            Profile = profile,
        };
    }
}
