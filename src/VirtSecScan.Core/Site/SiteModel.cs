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
}

/// <summary>A VM or host the site file names, with its zone and role.</summary>
public sealed record SiteSystem(
    string Name,
    string Type,
    string Zone,
    string? Role,
    string? Host,
    Criticality? Criticality,
    bool? Phi);

/// <summary>What the site model says about one resource.</summary>
public sealed record SiteContext(string ZoneId, string? Role, string? Host, Criticality Criticality, bool Phi, Zone? Zone);

/// <summary>The site model: zones and systems. Lookups are case-insensitive.</summary>
public sealed record SiteModel(string Name, ImmutableArray<Zone> Zones, ImmutableArray<SiteSystem> Systems, string? Source)
{
    public static SiteModel Empty { get; } = new("unnamed site", [], [], null);

    public Zone? FindZone(string id) => Zones.FirstOrDefault(z => string.Equals(z.Id, id, StringComparison.OrdinalIgnoreCase));

    public SiteSystem? FindSystem(string type, string name) =>
        Systems.FirstOrDefault(s => string.Equals(s.Type, type, StringComparison.OrdinalIgnoreCase)
                                    && string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Zone, role and criticality of a resource; <c>unknown</c>/medium when the site does not name it.</summary>
    public SiteContext Resolve(string type, string name)
    {
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
