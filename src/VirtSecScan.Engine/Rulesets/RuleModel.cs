using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>The verdict of one condition on one fact.</summary>
public enum Verdict
{
    Pass,
    Fail,
    NotEvaluated,
}

/// <summary>What a missing key means: one verdict for every profile, or one per profile.</summary>
public sealed record AbsentPolicy(Verdict? Always, ImmutableSortedDictionary<string, Verdict> ByProfile)
{
    public Verdict? For(string profile) => ByProfile.TryGetValue(profile, out var v) ? v : Always;
}

public abstract record Condition(int Line);

public sealed record LeafCondition(
    string Key,
    string Op,
    ImmutableArray<string> Values,
    string? Default,
    AbsentPolicy? Absent,
    Regex? Pattern,
    int Line) : Condition(Line);

public sealed record AllCondition(ImmutableArray<Condition> Items, int Line) : Condition(Line);

public sealed record AnyCondition(ImmutableArray<Condition> Items, int Line) : Condition(Line);

public sealed record NotCondition(Condition Inner, int Line) : Condition(Line);

/// <summary>A reference as written in a rule, optionally shown only under some profiles.</summary>
public sealed record RuleReference(string Id, string Source, ImmutableArray<string> Profiles);

/// <summary>A rule written as data in a ruleset YAML file.</summary>
public sealed record DataRule
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required string Category { get; init; }
    public required Severity Severity { get; init; }
    public ImmutableSortedDictionary<string, Severity> SeverityByProfile { get; init; } = ImmutableSortedDictionary<string, Severity>.Empty;
    public required string AppliesTo { get; init; }
    public ImmutableArray<string> Profiles { get; init; } = [];
    public Regex? ForEach { get; init; }
    public Condition? Where { get; init; }
    public required Condition Check { get; init; }
    public AbsentPolicy? Absent { get; init; }
    public required string Rationale { get; init; }
    public required Remediation Remediation { get; init; }
    public ImmutableArray<RuleReference> References { get; init; } = [];
    public ImmutableSortedDictionary<string, ImmutableArray<string>> Compliance { get; init; } =
        ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty;
    /// <summary>Settings attached to the finding as evidence whatever decided it (observed counters of a traffic flow ...).</summary>
    public ImmutableArray<string> EvidenceKeys { get; init; } = [];
    public required string Ruleset { get; init; }

    /// <summary>What must be collected to decide the rule; added to the reason of a not-evaluated outcome.</summary>
    public string? Needs { get; init; }
    public required string File { get; init; }
    public required int Line { get; init; }

    public bool InProfile(string profile) => Profiles.IsDefaultOrEmpty || Profiles.Contains(profile, StringComparer.OrdinalIgnoreCase);

    public Severity SeverityFor(string profile) => SeverityByProfile.TryGetValue(profile, out var s) ? s : Severity;

    public ImmutableArray<Reference> ReferencesFor(string profile) =>
        References.Where(r => r.Profiles.IsDefaultOrEmpty || r.Profiles.Contains(profile, StringComparer.OrdinalIgnoreCase))
            .Select(r => new Reference(r.Id, r.Source))
            .ToImmutableArray();
}

/// <summary>A loaded ruleset file.</summary>
public sealed record LoadedRuleset(string Name, string Version, string File, ImmutableArray<DataRule> Rules);

/// <summary>The known profiles: benchmark and version whose semantics the rules follow.</summary>
public static class Profiles
{
    public const string Default = "stig-8";

    public static IReadOnlyDictionary<string, string> Names { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["stig-8"] = "DISA STIG VMware vSphere 8.0 (V2R3)",
        ["stig-7"] = "DISA STIG VMware vSphere 7.0 (V1R4)",
        ["scg"] = "VMware vSphere / VCF Security Configuration Guide (8.0 and 9.1 additions)",
    };

    public static bool IsKnown(string profile) => Names.ContainsKey(profile);
}

/// <summary>A fact type YAML rules can apply to: a CLR type, and for <see cref="Core.Facts.ConfigFact"/> its kind.</summary>
public sealed record FactType(string Name, Type Type, string? Kind, string Description);

/// <summary>
/// The fact types YAML rules can apply to. A collector that emits a new kind of <see cref="Core.Facts.ConfigFact"/>
/// registers the kind here, with one line saying what it is.
/// </summary>
public static class FactTypes
{
    private static readonly FactType[] Known =
    [
        new("vm", typeof(Core.Facts.VmConfig), null, "VMware VM configuration (.vmx, OVF, vSphere API)"),
        new("hypervisor", typeof(Core.Facts.HypervisorBuild), null, "hypervisor product, version and build"),
        new("esxi-host", typeof(Core.Facts.ConfigFact), "esxi-host", "ESXi host settings from esxcli outputs"),
        new("libvirt-domain", typeof(Core.Facts.ConfigFact), "libvirt-domain", "libvirt domain XML (virsh dumpxml)"),
        new("libvirt-host", typeof(Core.Facts.ConfigFact), "libvirt-host", "libvirt host configuration (/etc/libvirt/qemu.conf)"),
        new("proxmox-vm", typeof(Core.Facts.ConfigFact), "proxmox-vm", "Proxmox VE VM configuration (qm config, pvesh JSON)"),
        new("hyperv-vm", typeof(Core.Facts.ConfigFact), "hyperv-vm", "Hyper-V VM (Get-VM and related cmdlets as JSON)"),
        new("proxmox-snapshot", typeof(Core.Facts.ConfigFact), "proxmox-snapshot", "a snapshot section of a Proxmox VE VM configuration"),
        new("traffic-flow", typeof(Core.Facts.ConfigFact), "traffic-flow", "a conversation seen in a packet capture (pcap, pcapng)"),
        new("libvirt-network", typeof(Core.Facts.ConfigFact), "libvirt-network", "libvirt virtual network XML (virsh net-dumpxml)"),
    ];

    public static IReadOnlyDictionary<string, FactType> ByName { get; } =
        new SortedDictionary<string, FactType>(Known.ToDictionary(k => k.Name, StringComparer.Ordinal), StringComparer.Ordinal);
}
