using System.Collections.Immutable;
using System.Globalization;
using VirtSecScan.Core.Network;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Rulesets;
using YamlDotNet.RepresentationModel;

namespace VirtSecScan.Engine.Feed;

/// <summary>The network parts of a site file and the shipped site defaults (<c>rulesets/site-defaults.yaml</c>).</summary>
public static class SiteNetworkLoader
{
    public const string DefaultsFileName = "site-defaults.yaml";

    public static readonly ImmutableArray<string> Protocols = ["tcp", "udp", "icmp", "any"];

    public static ImmutableArray<AllowedFlow> Flows(YamlReader y, YamlNode node, IReadOnlyList<Zone>? zones, string file)
    {
        var flows = ImmutableArray.CreateBuilder<AllowedFlow>();
        foreach (var f in y.Sequence(node, "allowedFlows"))
        {
            var fm = y.Mapping(f, "allowed flow", "from", "to", "protocol", "ports", "reason");
            var from = y.RequiredString(fm, "from", "allowed flow");
            var to = y.RequiredString(fm, "to", "allowed flow");
            foreach (var reference in new[] { from, to })
            {
                if (reference.StartsWith("kind:", StringComparison.Ordinal))
                {
                    if (!Zone.Kinds.Contains(reference[5..]))
                    {
                        throw y.Error(fm, $"allowed flow: '{reference}' names no zone kind ({string.Join(", ", Zone.Kinds)})");
                    }
                }
                else if (reference != "any" && zones is not null && !zones.Any(z => string.Equals(z.Id, reference, StringComparison.OrdinalIgnoreCase)))
                {
                    throw y.Error(fm, $"allowed flow: zone '{reference}' is not defined in zones (use a zone id, kind:KIND or any)");
                }
            }

            var protocol = (y.OptionalString(fm, "protocol", "allowed flow") ?? "any").ToLowerInvariant();
            if (!Protocols.Contains(protocol))
            {
                throw y.Error(fm, $"allowed flow: protocol '{protocol}' is not one of {string.Join(", ", Protocols)}");
            }

            IntervalSet? ports = null;
            if (YamlReader.Child(fm, "ports") is { } pn)
            {
                var text = string.Join(",", y.StringList(pn, "allowed flow: ports"));
                ports = IntervalSet.ParsePorts(text) ?? throw y.Error(pn, $"allowed flow: ports '{text}' are not ports or ranges (443, 8000-8100)");
            }

            flows.Add(new AllowedFlow(from, to, protocol, ports, y.RequiredString(fm, "reason", "allowed flow"), file, YamlReader.LineOf(fm)));
        }

        return flows.ToImmutable();
    }

    public static ImmutableArray<PortGroup> PortGroups(YamlReader y, YamlNode node, IReadOnlyList<Zone> zones)
    {
        var result = ImmutableArray.CreateBuilder<PortGroup>();
        foreach (var p in y.Sequence(node, "portGroups"))
        {
            var pm = y.Mapping(p, "port group", "name", "vlan", "zone", "vswitch", "description");
            var name = y.RequiredString(pm, "name", "port group");
            int? vlan = YamlReader.Child(pm, "vlan") is { } vn ? (int)y.Integer(vn, $"port group {name}: vlan") : null;
            if (vlan is < 0 or > 4095)
            {
                throw y.Error(pm, $"port group {name}: VLAN {vlan} is not 0..4095");
            }

            var zone = y.OptionalString(pm, "zone", $"port group {name}");
            if (zone is not null && !zones.Any(z => string.Equals(z.Id, zone, StringComparison.OrdinalIgnoreCase)))
            {
                throw y.Error(pm, $"port group {name}: zone '{zone}' is not defined in zones");
            }

            result.Add(new PortGroup(name, vlan, zone, YamlReader.LineOf(pm)));
        }

        return result.ToImmutable();
    }

    public static readonly ImmutableArray<string> VmkServices = ["management", "vmotion", "storage", "vsan", "provisioning", "faulttolerance", "replication"];

    public static ImmutableArray<VmkernelInterface> Vmkernels(YamlReader y, YamlNode node)
    {
        var result = ImmutableArray.CreateBuilder<VmkernelInterface>();
        foreach (var v in y.Sequence(node, "vmkernel"))
        {
            var vm = y.Mapping(v, "vmkernel interface", "host", "interface", "portGroup", "services", "description");
            var host = y.RequiredString(vm, "host", "vmkernel interface");
            var name = y.RequiredString(vm, "interface", $"vmkernel interface on {host}");
            var services = YamlReader.Child(vm, "services") is { } sn ? y.StringList(sn, $"{host} {name}: services") : [];
            foreach (var s in services.Where(s => !VmkServices.Contains(s)))
            {
                throw y.Error(vm, $"{host} {name}: service '{s}' is not one of {string.Join(", ", VmkServices)}");
            }

            result.Add(new VmkernelInterface(host, name, y.RequiredString(vm, "portGroup", $"{host} {name}"), services, YamlReader.LineOf(vm)));
        }

        return result.ToImmutable();
    }

    /// <summary>Loads the shipped defaults; errors name file and line.</summary>
    public static SiteDefaults ParseDefaults(string text, string file)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "site defaults", "defaults", "zoneKinds", "allowedFlows", "managementPorts", "description");
        var kinds = ImmutableDictionary.CreateBuilder<string, (Criticality, bool)>();
        if (YamlReader.Child(root, "zoneKinds") is YamlMappingNode km)
        {
            foreach (var (k, v) in km.Children)
            {
                var kind = y.Scalar(k, "zone kind");
                if (!Zone.Kinds.Contains(kind))
                {
                    throw y.Error(k, $"zone kind '{kind}' is not one of {string.Join(", ", Zone.Kinds)}");
                }

                var m = y.Mapping(v, $"zone kind {kind}", "criticality", "phi");
                var c = y.RequiredString(m, "criticality", kind) switch
                {
                    "low" => Criticality.Low,
                    "medium" => Criticality.Medium,
                    "high" => Criticality.High,
                    var other => throw y.Error(m, $"zone kind {kind}: criticality '{other}' is not low, medium or high"),
                };
                kinds[kind] = (c, string.Equals(y.OptionalString(m, "phi", kind), "true", StringComparison.OrdinalIgnoreCase));
            }
        }

        var mgmt = ImmutableArray.CreateBuilder<ManagementPort>();
        if (YamlReader.Child(root, "managementPorts") is { } mn)
        {
            foreach (var p in y.Sequence(mn, "managementPorts"))
            {
                var pm = y.Mapping(p, "management port", "platform", "protocol", "ports", "what");
                var portText = string.Join(",", y.StringList(y.Required(pm, "ports", "management port"), "ports"));
                mgmt.Add(new ManagementPort(
                    y.RequiredString(pm, "platform", "management port"),
                    (y.OptionalString(pm, "protocol", "management port") ?? "tcp").ToLowerInvariant(),
                    IntervalSet.ParsePorts(portText) ?? throw y.Error(pm, $"management port: '{portText}' are not ports"),
                    y.RequiredString(pm, "what", "management port")));
            }
        }

        var flows = YamlReader.Child(root, "allowedFlows") is { } af ? Flows(y, af, null, file) : [];
        return new SiteDefaults(kinds.ToImmutable(), flows, mgmt.ToImmutable(), file);
    }

    /// <summary>Loads <c>site-defaults.yaml</c> from the rules folder, or no defaults when it is absent.</summary>
    public static SiteDefaults LoadDefaults(string rulesDirectory)
    {
        var path = Path.Combine(rulesDirectory, DefaultsFileName);
        return File.Exists(path) ? ParseDefaults(File.ReadAllText(path), "rulesets/" + DefaultsFileName) : SiteDefaults.None;
    }

    internal static string Invariant(int n) => n.ToString(CultureInfo.InvariantCulture);
}
