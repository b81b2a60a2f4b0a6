using System.Collections.Immutable;
using System.Globalization;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Rulesets;
using YamlDotNet.RepresentationModel;

namespace VirtSecScan.Engine.Feed;

/// <summary>Loads a site model (<c>site.yaml</c>) strictly; errors name file and line.</summary>
public static class SiteModelLoader
{
    /// <summary>True when the text looks like a site file (a mapping with top-level <c>zones</c> and <c>site</c>).</summary>
    public static bool LooksLikeSite(string text) =>
        text.Contains("zones:", StringComparison.Ordinal) && (text.StartsWith("site:", StringComparison.Ordinal) || text.Contains("\nsite:", StringComparison.Ordinal));

    public static SiteModel Parse(string text, string file) => Parse(text, file, null);

    /// <summary>Parses a site file; <paramref name="defaults"/> fill zone criticality/PHI by kind, allowed flows and management ports the file leaves out.</summary>
    public static SiteModel Parse(string text, string file, SiteDefaults? defaults)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "site file", "site", "zones", "systems", "description",
            "exceptions", "redundancy", "backups", "allowedFlows", "portGroups", "vmkernel");
        var zones = ImmutableArray.CreateBuilder<Zone>();
        foreach (var z in y.Sequence(y.Required(root, "zones", "site file"), "zones"))
        {
            var zm = y.Mapping(z, "zone", "id", "name", "kind", "criticality", "phi", "subnets", "vlans", "description", "portGroups", "interfaces");
            var id = y.RequiredString(zm, "id", "zone");
            var kind = y.RequiredString(zm, "kind", $"zone {id}");
            if (!Zone.Kinds.Contains(kind))
            {
                throw y.Error(zm, $"zone {id}: kind '{kind}' is not one of {string.Join(", ", Zone.Kinds)}");
            }

            if (zones.Any(existing => string.Equals(existing.Id, id, StringComparison.OrdinalIgnoreCase)))
            {
                throw y.Error(zm, $"zone {id} is defined twice");
            }

            zones.Add(new Zone(
                id,
                y.OptionalString(zm, "name", "zone") ?? id,
                kind,
                ParseCriticality(y, zm, $"zone {id}") ?? KindDefault(defaults, kind)?.Criticality ?? Criticality.Medium,
                ParseBool(y, zm, "phi", $"zone {id}") ?? KindDefault(defaults, kind)?.Phi ?? false,
                YamlReader.Child(zm, "subnets") is { } s ? y.StringList(s, "subnets") : [],
                YamlReader.Child(zm, "vlans") is { } v
                    ? y.StringList(v, "vlans").Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 4095
                        ? n
                        : throw y.Error(v, $"zone {id}: VLAN '{t}' is not 0..4095")).ToImmutableArray()
                    : [])
            {
                PortGroups = YamlReader.Child(zm, "portGroups") is { } pg ? y.StringList(pg, $"zone {id}: portGroups") : [],
                Interfaces = YamlReader.Child(zm, "interfaces") is { } ifs ? y.StringList(ifs, $"zone {id}: interfaces") : [],
            });
            foreach (var subnet in zones[^1].Subnets)
            {
                if (VirtSecScan.Core.Network.IntervalSet.ParseAddress(subnet) is null)
                {
                    throw y.Error(zm, $"zone {id}: subnet '{subnet}' is not an IPv4 or IPv6 prefix");
                }
            }
        }

        var systems = ImmutableArray.CreateBuilder<SiteSystem>();
        if (YamlReader.Child(root, "systems") is { } sn)
        {
            foreach (var s in y.Sequence(sn, "systems"))
            {
                var sm = y.Mapping(s, "system", "name", "type", "zone", "role", "host", "criticality", "phi", "description", "addresses");
                var name = y.RequiredString(sm, "name", "system");
                var type = y.RequiredString(sm, "type", $"system {name}");
                if (type is not ("vm" or "host"))
                {
                    throw y.Error(sm, $"system {name}: type must be vm or host");
                }

                var zone = y.RequiredString(sm, "zone", $"system {name}");
                if (!zones.Any(z => string.Equals(z.Id, zone, StringComparison.OrdinalIgnoreCase)))
                {
                    throw y.Error(sm, $"system {name}: zone '{zone}' is not defined in zones");
                }

                systems.Add(new SiteSystem(name, type, zone, y.OptionalString(sm, "role", name), y.OptionalString(sm, "host", name),
                    ParseCriticality(y, sm, $"system {name}"), ParseBool(y, sm, "phi", $"system {name}"))
                {
                    Addresses = YamlReader.Child(sm, "addresses") is { } an ? y.StringList(an, $"system {name}: addresses") : [],
                });
            }
        }

        var site = new SiteModel(y.RequiredString(root, "site", "site file"), zones.ToImmutable(), systems.ToImmutable(), file)
        {
            Exceptions = ParseExceptions(y, root, file),
            Redundancy = ParseRedundancy(y, root, file),
            Backups = ParseBackups(y, root, file),
            AllowedFlows = YamlReader.Child(root, "allowedFlows") is { } af ? SiteNetworkLoader.Flows(y, af, zones, file) : [],
            PortGroups = YamlReader.Child(root, "portGroups") is { } pgs ? SiteNetworkLoader.PortGroups(y, pgs, zones) : [],
            Vmkernels = YamlReader.Child(root, "vmkernel") is { } vmk ? SiteNetworkLoader.Vmkernels(y, vmk) : [],
        };
        return defaults is null ? site : defaults.ApplyTo(site);
    }

    /// <summary><c>exceptions:</c> documented, intended failing states: rule (id or glob), resource (name, id or glob), reason.</summary>
    private static ImmutableArray<Core.Findings.DocumentedException> ParseExceptions(YamlReader y, YamlMappingNode root, string file)
    {
        if (YamlReader.Child(root, "exceptions") is not { } node)
        {
            return [];
        }

        var result = ImmutableArray.CreateBuilder<Core.Findings.DocumentedException>();
        foreach (var e in y.Sequence(node, "exceptions"))
        {
            var em = y.Mapping(e, "exception", "rule", "resource", "reason");
            var rule = y.RequiredString(em, "rule", "exception");
            var resource = y.RequiredString(em, "resource", $"exception for {rule}");
            var reason = y.RequiredString(em, "reason", $"exception for {rule} on {resource}");
            if (string.IsNullOrWhiteSpace(reason))
            {
                throw y.Error(em, $"exception for {rule} on {resource}: reason must say why the state is intended");
            }

            if (rule.Trim() == "*" && resource.Trim() == "*")
            {
                throw y.Error(em, "an exception for every rule on every resource is not an exception; name a rule or a resource");
            }

            result.Add(new Core.Findings.DocumentedException(rule.Trim(), resource.Trim(), reason.Trim(), file, YamlReader.LineOf(em)));
        }

        return result.ToImmutable();
    }

    /// <summary><c>redundancy:</c> groups of systems that back each other up and must run on different hosts.</summary>
    private static ImmutableArray<RedundancyGroup> ParseRedundancy(YamlReader y, YamlMappingNode root, string file)
    {
        if (YamlReader.Child(root, "redundancy") is not { } node)
        {
            return [];
        }

        var result = ImmutableArray.CreateBuilder<RedundancyGroup>();
        foreach (var g in y.Sequence(node, "redundancy"))
        {
            var gm = y.Mapping(g, "redundancy group", "name", "members", "description");
            var name = y.RequiredString(gm, "name", "redundancy group");
            var members = y.StringList(y.Required(gm, "members", $"redundancy group {name}"), "members");
            if (members.Length < 2)
            {
                throw y.Error(gm, $"redundancy group {name}: needs at least two members");
            }

            if (result.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw y.Error(gm, $"redundancy group {name} is defined twice");
            }

            result.Add(new RedundancyGroup(name, members, file, YamlReader.LineOf(gm)));
        }

        return result.ToImmutable();
    }

    /// <summary><c>backups:</c> backup jobs and replicas, each naming the systems (names or globs) it protects.</summary>
    private static ImmutableArray<BackupDeclaration> ParseBackups(YamlReader y, YamlMappingNode root, string file)
    {
        if (YamlReader.Child(root, "backups") is not { } node)
        {
            return [];
        }

        var result = ImmutableArray.CreateBuilder<BackupDeclaration>();
        foreach (var b in y.Sequence(node, "backups"))
        {
            var bm = y.Mapping(b, "backup", "kind", "systems", "target", "description");
            var kind = y.RequiredString(bm, "kind", "backup");
            if (kind is not ("backup" or "replica"))
            {
                throw y.Error(bm, $"backup kind '{kind}' is not backup or replica");
            }

            var systems = y.StringList(y.Required(bm, "systems", $"{kind} entry"), "systems");
            if (systems.IsEmpty)
            {
                throw y.Error(bm, $"{kind} entry: systems is empty");
            }

            result.Add(new BackupDeclaration(kind, systems, y.OptionalString(bm, "target", kind), file, YamlReader.LineOf(bm)));
        }

        return result.ToImmutable();
    }

    private static (Criticality Criticality, bool Phi)? KindDefault(SiteDefaults? defaults, string kind) =>
        defaults is not null && defaults.ZoneKinds.TryGetValue(kind, out var d) ? d : null;

    private static Criticality? ParseCriticality(YamlReader y, YamlMappingNode map, string what) =>
        y.OptionalString(map, "criticality", what) switch
        {
            null => null,
            "low" => Criticality.Low,
            "medium" => Criticality.Medium,
            "high" => Criticality.High,
            var other => throw y.Error(map, $"{what}: criticality '{other}' is not low, medium or high"),
        };

    private static bool? ParseBool(YamlReader y, YamlMappingNode map, string key, string what) =>
        y.OptionalString(map, key, what)?.ToLowerInvariant() switch
        {
            null => null,
            "true" or "yes" => true,
            "false" or "no" => false,
            var other => throw y.Error(map, $"{what}: {key} '{other}' is not true or false"),
        };
}
