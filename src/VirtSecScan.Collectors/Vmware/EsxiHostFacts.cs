using System.Text.RegularExpressions;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// Joins the <c>esxi-host</c> facts of one host (one per collected output) into one fact per host, keeping each
/// setting's own file and line, and adds the keys that need several outputs together:
/// <list type="bullet">
/// <item><c>network.allowPromiscuous.accepting</c>, <c>network.allowMacAddressChange.accepting</c>,
/// <c>network.allowForgedTransmits.accepting</c>: the vSwitches and port groups whose security policy accepts
/// ("" when none); present when at least one security policy was collected.</item>
/// <item><c>network.allowPromiscuous.overridden</c> (and the other two): port groups that override the vSwitch
/// policy; present when at least one port group policy was collected.</item>
/// <item><c>network.portgroups.vlan4095</c>: port groups with VLAN ID 4095 (all VLANs to the guests).</item>
/// <item><c>firewall.rulesets.allowAllIp</c>: enabled rulesets that accept connections from any address and whose
/// allowed-IP list the administrator can change (rulesets marked not configurable since 8.0 U2 are left out).</item>
/// </list>
/// A derived key is never present when the outputs it needs were not collected, so its rule is not-evaluated, not passed.
/// </summary>
public static partial class EsxiHostFacts
{
    private static readonly string[] PolicyFlags = ["allowPromiscuous", "allowMacAddressChange", "allowForgedTransmits"];

    [GeneratedRegex(@"^(?<item>(?:vswitch|portgroup)\[[^\]]+\])\.security\.(?<flag>allowPromiscuous|allowMacAddressChange|allowForgedTransmits)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PolicyKey();

    [GeneratedRegex(@"^portgroup\[(?<name>[^\]]+)\]\.security\.overrideVswitch(?<flag>AllowPromiscuous|AllowMacAddressChange|AllowForgedTransmits)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OverrideKey();

    [GeneratedRegex(@"^portgroup\[(?<name>[^\]]+)\]\.vlanId$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VlanKey();

    [GeneratedRegex(@"^firewall\.ruleset\[(?<name>[^\]]+)\]\.allowedIpAddresses$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AllowedIpKey();

    /// <summary>
    /// Merges the esxi-host facts by resource id (the first file's resource names the host; a key read from two
    /// files keeps the later one) and passes every other fact through unchanged, in the original order.
    /// </summary>
    public static List<object> Merge(IEnumerable<object> facts)
    {
        var list = facts.ToList();
        var groups = list.OfType<ConfigFact>().Where(f => f.Kind == EsxiText.Kind)
            .GroupBy(f => f.Resource.Id, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.OrdinalIgnoreCase);
        var result = new List<object>();
        var done = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var fact in list)
        {
            if (fact is not ConfigFact { Kind: EsxiText.Kind } host)
            {
                result.Add(fact);
                continue;
            }

            if (!done.Add(host.Resource.Id))
            {
                continue;
            }

            var parts = groups[host.Resource.Id];
            var settings = parts.SelectMany(p => p.Settings.Values.Select(s => s with { Source = s.Source ?? p.Resource.Source })).ToList();
            var merged = settings.ToSettingMap();
            var resource = parts.Count == 1 ? host.Resource : host.Resource with { Source = CommonFolder(parts.Select(p => p.Resource.Source)) ?? host.Resource.Source, Line = null };
            result.Add(host with { Resource = resource, Settings = merged.SetItems(Derived(merged).Select(d => KeyValuePair.Create(d.Key, d))) });
        }

        return result;
    }

    /// <summary>The folder all the sources share ("hosts/esxi-01/"), or null when they share none.</summary>
    private static string? CommonFolder(IEnumerable<string?> sources)
    {
        var folders = sources.Select(s => s is null ? null : s.Replace('\\', '/')).Select(s => s is null || !s.Contains('/') ? null : s[..(s.LastIndexOf('/') + 1)]).ToList();
        if (folders.Any(f => f is null))
        {
            return null;
        }

        var common = folders[0]!;
        foreach (var f in folders.Skip(1))
        {
            while (common.Length > 0 && !f!.StartsWith(common, StringComparison.Ordinal))
            {
                var cut = common.TrimEnd('/').LastIndexOf('/');
                common = cut < 0 ? "" : common[..(cut + 1)];
            }
        }

        return common.Length > 0 ? common : null;
    }

    /// <summary>The keys computed from several outputs (see the class summary).</summary>
    public static List<Setting> Derived(IReadOnlyDictionary<string, Setting> settings)
    {
        var derived = new List<Setting>();
        foreach (var flag in PolicyFlags)
        {
            var items = settings.Values.Select(s => (s, m: PolicyKey().Match(s.Key)))
                .Where(x => x.m.Success && x.m.Groups["flag"].Value.Equals(flag, StringComparison.OrdinalIgnoreCase)).ToList();
            if (items.Count > 0)
            {
                derived.Add(Summary($"network.{flag}.accepting", items.Where(x => IsTrue(x.s.Value)).Select(x => (x.m.Groups["item"].Value, x.s)).ToList(), items[0].s));
            }

            var overrides = settings.Values.Select(s => (s, m: OverrideKey().Match(s.Key)))
                .Where(x => x.m.Success && x.m.Groups["flag"].Value.Equals(flag, StringComparison.OrdinalIgnoreCase)).ToList();
            if (overrides.Count > 0)
            {
                derived.Add(Summary($"network.{flag}.overridden", overrides.Where(x => IsTrue(x.s.Value)).Select(x => (x.m.Groups["name"].Value, x.s)).ToList(), overrides[0].s));
            }
        }

        var vlans = settings.Values.Select(s => (s, m: VlanKey().Match(s.Key))).Where(x => x.m.Success).ToList();
        if (vlans.Count > 0)
        {
            derived.Add(Summary("network.portgroups.vlan4095", vlans.Where(x => x.s.Value.Trim() == "4095").Select(x => (x.m.Groups["name"].Value, x.s)).ToList(), vlans[0].s));
        }

        var allowed = settings.Values.Select(s => (s, m: AllowedIpKey().Match(s.Key))).Where(x => x.m.Success).ToList();
        if (allowed.Count > 0)
        {
            string? Get(string key) => settings.TryGetValue(key, out var s) ? s.Value : null;
            var open = allowed.Where(x =>
            {
                var name = x.m.Groups["name"].Value;
                return x.s.Value.Trim().Equals("All", StringComparison.OrdinalIgnoreCase)
                       && !IsFalse(Get($"firewall.ruleset[{name}].enabled"))
                       && !IsFalse(Get($"firewall.ruleset[{name}].allowedIpConfigurable"));
            }).Select(x => (x.m.Groups["name"].Value, x.s)).ToList();
            derived.Add(Summary("firewall.rulesets.allowAllIp", open, allowed[0].s));
        }

        return derived;
    }

    private static Setting Summary(string key, List<(string Name, Setting Setting)> offending, Setting first)
    {
        var at = offending.Count > 0 ? offending[0].Setting : first;
        return new Setting(key, string.Join(", ", offending.Select(o => o.Name).Distinct(StringComparer.OrdinalIgnoreCase)), at.Line, at.Source);
    }

    private static bool IsTrue(string value) => value.Trim() is "true" or "True" or "TRUE" or "1" or "Accept" or "accept";

    private static bool IsFalse(string? value) => value?.Trim() is "false" or "False" or "FALSE" or "0";
}
