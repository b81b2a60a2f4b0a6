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

    public static SiteModel Parse(string text, string file)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "site file", "site", "zones", "systems", "description");
        var zones = ImmutableArray.CreateBuilder<Zone>();
        foreach (var z in y.Sequence(y.Required(root, "zones", "site file"), "zones"))
        {
            var zm = y.Mapping(z, "zone", "id", "name", "kind", "criticality", "phi", "subnets", "vlans", "description");
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
                ParseCriticality(y, zm, $"zone {id}") ?? Criticality.Medium,
                ParseBool(y, zm, "phi", $"zone {id}") ?? false,
                YamlReader.Child(zm, "subnets") is { } s ? y.StringList(s, "subnets") : [],
                YamlReader.Child(zm, "vlans") is { } v
                    ? y.StringList(v, "vlans").Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 4095
                        ? n
                        : throw y.Error(v, $"zone {id}: VLAN '{t}' is not 0..4095")).ToImmutableArray()
                    : []));
        }

        var systems = ImmutableArray.CreateBuilder<SiteSystem>();
        if (YamlReader.Child(root, "systems") is { } sn)
        {
            foreach (var s in y.Sequence(sn, "systems"))
            {
                var sm = y.Mapping(s, "system", "name", "type", "zone", "role", "host", "criticality", "phi", "description");
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
                    ParseCriticality(y, sm, $"system {name}"), ParseBool(y, sm, "phi", $"system {name}")));
            }
        }

        return new SiteModel(y.RequiredString(root, "site", "site file"), zones.ToImmutable(), systems.ToImmutable(), file);
    }

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
