using System.Collections.Immutable;

namespace VirtSecScan.Core.Site;

public enum Criticality
{
    Low,
    Medium,
    High,
}

/// <summary>A hospital network zone: HIS, PACS, insurance link, DMZ, management ...</summary>
public sealed record Zone(
    string Id,
    string Name,
    string Kind,
    Criticality Criticality,
    bool Phi,
    ImmutableArray<string> Subnets,
    ImmutableArray<int> Vlans)
{
    public static readonly ImmutableArray<string> Kinds =
        ["clinical", "desktop", "insurance-link", "external", "management", "storage", "migration", "other"];

    /// <summary>Zones whose systems face partners or the internet.</summary>
    public bool IsExposureZone => Kind is "insurance-link" or "external";

    /// <summary>VM port groups (or bridges) that carry this zone's traffic.</summary>
    public ImmutableArray<string> PortGroups { get; init; } = [];

    /// <summary>Firewall interfaces facing this zone, as <c>device:interface</c> (device = the rule set's device name).</summary>
    public ImmutableArray<string> Interfaces { get; init; } = [];
}

/// <summary>A VM or host the site file names, with its zone and role.</summary>
public sealed record SiteSystem(
    string Name,
    string Type,
    string Zone,
    string? Role,
    string? Host,
    Criticality? Criticality,
    bool? Phi)
{
    /// <summary>The system's addresses, when the site file names them.</summary>
    public ImmutableArray<string> Addresses { get; init; } = [];
}

/// <summary>What the site model says about one resource.</summary>
public sealed record SiteContext(string ZoneId, string? Role, string? Host, Criticality Criticality, bool Phi, Zone? Zone);

/// <summary>
/// Systems that back each other up (an HIS application pair, a PACS cluster): they must not all run on one host.
/// </summary>
public sealed record RedundancyGroup(string Name, ImmutableArray<string> Members, string? Source = null, int? Line = null);

/// <summary>A backup or replica the site declares for systems (kind <c>backup</c> or <c>replica</c>).</summary>
public sealed record BackupDeclaration(string Kind, ImmutableArray<string> Systems, string? Target, string? Source = null, int? Line = null);

/// <summary>The site model: zones and systems. Lookups are case-insensitive.</summary>
public sealed record SiteModel(string Name, ImmutableArray<Zone> Zones, ImmutableArray<SiteSystem> Systems, string? Source)
{
    /// <summary>Documented exceptions: failing outcomes that are intended (<c>exceptions:</c> in the site file).</summary>
    public ImmutableArray<Findings.DocumentedException> Exceptions { get; init; } = [];

    /// <summary>Redundant groups whose members must run on different hosts (<c>redundancy:</c>).</summary>
    public ImmutableArray<RedundancyGroup> Redundancy { get; init; } = [];

    /// <summary>Backups and replicas the site declares (<c>backups:</c>).</summary>
    public ImmutableArray<BackupDeclaration> Backups { get; init; } = [];

    /// <summary>The first exception whose rule and resource patterns match (globs with * and ?, case-insensitive).</summary>
    public Findings.DocumentedException? FindException(string ruleId, string resourceName, string resourceId) =>
        Exceptions.FirstOrDefault(e => Glob.IsMatch(e.Rule, ruleId)
                                       && (Glob.IsMatch(e.Resource, resourceName) || Glob.IsMatch(e.Resource, resourceId)));

    /// <summary>The backups and replicas that name a system.</summary>
    public IEnumerable<BackupDeclaration> BackupsOf(string name) =>
        Backups.Where(b => b.Systems.Any(s => Glob.IsMatch(s, name)));

    public static SiteModel Empty { get; } = new("unnamed site", [], [], null);

    /// <summary>Zone-to-zone flows the hospital allows (the site file's, else the shipped defaults).</summary>
    public ImmutableArray<AllowedFlow> AllowedFlows { get; init; } = [];

    /// <summary>Port groups the site file declares with VLAN and zone.</summary>
    public ImmutableArray<PortGroup> PortGroups { get; init; } = [];

    /// <summary>VMkernel interfaces the site file declares.</summary>
    public ImmutableArray<VmkernelInterface> Vmkernels { get; init; } = [];

    /// <summary>Hypervisor management ports (from the shipped defaults).</summary>
    public ImmutableArray<ManagementPort> ManagementPorts { get; init; } = [];

    public Zone? FindZone(string id) => Zones.FirstOrDefault(z => string.Equals(z.Id, id, StringComparison.OrdinalIgnoreCase));

    public SiteSystem? FindSystem(string type, string name) =>
        Systems.FirstOrDefault(s => string.Equals(s.Type, type, StringComparison.OrdinalIgnoreCase)
                                    && string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Zone, role and criticality of a resource; <c>unknown</c>/medium when the site does not name it.</summary>
    public SiteContext Resolve(string type, string name)
    {
        if (type == "zone" && FindZone(name) is { } asZone)
        {
            return new SiteContext(asZone.Id, null, null, asZone.Criticality, asZone.Phi, asZone);
        }

        var system = FindSystem(type, name);
        if (system is null)
        {
            return new SiteContext("unknown", null, null, Criticality.Medium, false, null);
        }

        var zone = FindZone(system.Zone);
        return new SiteContext(
            system.Zone,
            system.Role,
            system.Host,
            system.Criticality ?? zone?.Criticality ?? Criticality.Medium,
            system.Phi ?? zone?.Phi ?? false,
            zone);
    }
}

/// <summary>Case-insensitive glob matching with <c>*</c> (any run of characters) and <c>?</c> (one character).</summary>
public static class Glob
{
    public static bool IsMatch(string pattern, string text) => Match(pattern.AsSpan(), text.AsSpan());

    private static bool Match(ReadOnlySpan<char> p, ReadOnlySpan<char> t)
    {
        int pi = 0, ti = 0, star = -1, mark = 0;
        while (ti < t.Length)
        {
            if (pi < p.Length && (p[pi] == '?' || char.ToLowerInvariant(p[pi]) == char.ToLowerInvariant(t[ti])))
            {
                pi++;
                ti++;
            }
            else if (pi < p.Length && p[pi] == '*')
            {
                star = pi++;
                mark = ti;
            }
            else if (star >= 0)
            {
                pi = star + 1;
                ti = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (pi < p.Length && p[pi] == '*')
        {
            pi++;
        }

        return pi == p.Length;
    }
}

/// <summary>A port group (vSphere) or bridge the site file declares, with its VLAN and zone.</summary>
public sealed record PortGroup(string Name, int? Vlan, string? Zone, int? Line = null)
{
    /// <summary>VLAN 4095 on a standard vSwitch hands every VLAN (a trunk) to the VM.</summary>
    public bool IsTrunk => Vlan == 4095;
}

/// <summary>A VMkernel interface: host, name, port group and its services (management, vmotion, storage ...).</summary>
public sealed record VmkernelInterface(string Host, string Name, string PortGroup, ImmutableArray<string> Services, int? Line = null);

/// <summary>One allowed flow of the zone policy. From and To are zone ids or <c>kind:KIND</c>; ports null = all.</summary>
public sealed record AllowedFlow(string From, string To, string Protocol, VirtSecScan.Core.Network.IntervalSet? Ports, string Reason, string? Source = null, int? Line = null)
{
    public bool Covers(Zone from, Zone to, string protocol, ushort port) =>
        Refers(From, from) && Refers(To, to)
        && (Protocol == "any" || string.Equals(Protocol, protocol, StringComparison.OrdinalIgnoreCase))
        && (Ports is null || Ports.Contains(port));

    public static bool Refers(string reference, Zone zone) =>
        reference == "any"
        || string.Equals(reference, zone.Id, StringComparison.OrdinalIgnoreCase)
        || (reference.StartsWith("kind:", StringComparison.Ordinal) && string.Equals(reference[5..], zone.Kind, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Ports on which a hypervisor platform serves its management interfaces.</summary>
public sealed record ManagementPort(string Platform, string Protocol, VirtSecScan.Core.Network.IntervalSet Ports, string What);

/// <summary>Network parts of the site model (zones' port groups and firewall interfaces, allowed flows, management ports).</summary>
public static class SiteNetwork
{
    /// <summary>The zone whose subnets hold the address (longest prefix wins), or null.</summary>
    public static Zone? ZoneOfAddress(this SiteModel site, System.Net.IPAddress address)
    {
        var value = VirtSecScan.Core.Network.IntervalSet.ToNumber(address);
        Zone? best = null;
        UInt128 bestSize = UInt128.MaxValue;
        foreach (var zone in site.Zones)
        {
            foreach (var r in zone.AddressSet().Ranges)
            {
                if (value >= r.Low && value <= r.High && r.High - r.Low <= bestSize)
                {
                    best = zone;
                    bestSize = r.High - r.Low;
                }
            }
        }

        return best;
    }

    /// <summary>Every address of the zone's subnets (IPv4 and IPv6) as one set; unparsable subnets are left out.</summary>
    public static VirtSecScan.Core.Network.IntervalSet AddressSet(this Zone zone) =>
        zone.Subnets.Aggregate(VirtSecScan.Core.Network.IntervalSet.Empty,
            (acc, s) => VirtSecScan.Core.Network.IntervalSet.ParseAddress(s) is { } set ? acc.Union(set) : acc);

    /// <summary>The zone a port group carries: a zone's <c>portGroups</c> list, else the port group's VLAN in a zone's <c>vlans</c>.</summary>
    public static Zone? ZoneOfPortGroup(this SiteModel site, string portGroup)
    {
        var declared = site.PortGroups.FirstOrDefault(p => string.Equals(p.Name, portGroup, StringComparison.OrdinalIgnoreCase));
        if (declared?.Zone is { } z && site.FindZone(z) is { } zone)
        {
            return zone;
        }

        return site.Zones.FirstOrDefault(zz => zz.PortGroups.Contains(portGroup, StringComparer.OrdinalIgnoreCase))
               ?? (declared?.Vlan is { } vlan ? site.ZoneOfVlan(vlan) : null);
    }

    public static Zone? ZoneOfVlan(this SiteModel site, int vlan) => site.Zones.FirstOrDefault(z => z.Vlans.Contains(vlan));

    /// <summary>The first allowed flow that covers the zone pair, protocol and port, or null (the policy denies it).</summary>
    public static AllowedFlow? AllowedBy(this SiteModel site, Zone from, Zone to, string protocol, ushort port) =>
        site.AllowedFlows.FirstOrDefault(f => f.Covers(from, to, protocol, port));

    /// <summary>The ports of <paramref name="ports"/> the policy does not allow from one zone to another.</summary>
    public static VirtSecScan.Core.Network.IntervalSet NotAllowed(this SiteModel site, Zone from, Zone to, string protocol, VirtSecScan.Core.Network.IntervalSet ports)
    {
        var allowed = VirtSecScan.Core.Network.IntervalSet.Empty;
        foreach (var f in site.AllowedFlows.Where(f => AllowedFlow.Refers(f.From, from) && AllowedFlow.Refers(f.To, to)
                                                         && (f.Protocol == "any" || string.Equals(f.Protocol, protocol, StringComparison.OrdinalIgnoreCase))))
        {
            allowed = allowed.Union(f.Ports ?? VirtSecScan.Core.Network.IntervalSet.AllPorts);
        }

        return ports.Subtract(allowed);
    }

    /// <summary>The zones a firewall device's interface faces, from zones' <c>interfaces</c> entries (<c>device:interface</c>).</summary>
    public static IEnumerable<Zone> ZonesOfInterface(this SiteModel site, string device, string iface) =>
        site.Zones.Where(z => z.Interfaces.Any(i => string.Equals(i, $"{device}:{iface}", StringComparison.OrdinalIgnoreCase)));
}

/// <summary>The shipped hospital defaults (<c>rulesets/site-defaults.yaml</c>): per zone kind criticality and PHI,
/// the allowed flows used when a site file has none, and hypervisor management ports.</summary>
public sealed record SiteDefaults(
    ImmutableDictionary<string, (Criticality Criticality, bool Phi)> ZoneKinds,
    ImmutableArray<AllowedFlow> AllowedFlows,
    ImmutableArray<ManagementPort> ManagementPorts,
    string? Source)
{
    public static SiteDefaults None { get; } = new(ImmutableDictionary<string, (Criticality, bool)>.Empty, [], [], null);

    /// <summary>The site with the defaults filled in where the site file says nothing.</summary>
    public SiteModel ApplyTo(SiteModel site) => site with
    {
        AllowedFlows = site.AllowedFlows.IsDefaultOrEmpty ? AllowedFlows : site.AllowedFlows,
        ManagementPorts = site.ManagementPorts.IsDefaultOrEmpty ? ManagementPorts : site.ManagementPorts,
    };
}
