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
