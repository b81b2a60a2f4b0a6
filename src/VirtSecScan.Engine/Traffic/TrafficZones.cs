using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Site;

namespace VirtSecScan.Engine.Traffic;

/// <summary>Maps an address to the zone whose subnet holds it (longest prefix wins).</summary>
public interface IAddressZones
{
    Zone? ZoneOf(IPAddress address);
}

/// <summary>What a zone-to-zone policy says about one observed flow.</summary>
public sealed record FlowDecision(string Policy, string Plane, string Reason);

/// <summary>Decides whether a flow from one zone to another is allowed. The site's allowed-flows list plugs in here.</summary>
public interface IZoneFlowPolicy
{
    FlowDecision Decide(Zone from, Zone to, string transport, int serverPort, string protocol);
}

/// <summary>The zones' <c>subnets</c> from site.yaml as an address lookup.</summary>
public sealed class SubnetZones : IAddressZones
{
    private readonly List<(byte[] Network, int Prefix, Zone Zone)> _subnets = [];

    public SubnetZones(IEnumerable<Zone> zones)
    {
        foreach (var zone in zones)
        {
            foreach (var subnet in zone.Subnets)
            {
                if (TryParse(subnet, out var network, out var prefix))
                {
                    _subnets.Add((network, prefix, zone));
                }
            }
        }

        _subnets.Sort((a, b) => b.Prefix.CompareTo(a.Prefix));
    }

    public static bool TryParse(string cidr, out byte[] network, out int prefix)
    {
        network = [];
        prefix = 0;
        var parts = cidr.Trim().Split('/');
        if (!IPAddress.TryParse(parts[0], out var address))
        {
            return false;
        }

        network = address.GetAddressBytes();
        prefix = network.Length * 8;
        return parts.Length == 1 || (int.TryParse(parts[1], out prefix) && prefix >= 0 && prefix <= network.Length * 8);
    }

    public Zone? ZoneOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        foreach (var (network, prefix, zone) in _subnets)
        {
            if (network.Length == bytes.Length && Matches(bytes, network, prefix))
            {
                return zone;
            }
        }

        return null;
    }

    private static bool Matches(byte[] address, byte[] network, int prefix)
    {
        var full = prefix / 8;
        for (var i = 0; i < full; i++)
        {
            if (address[i] != network[i])
            {
                return false;
            }
        }

        var rest = prefix % 8;
        if (rest == 0)
        {
            return true;
        }

        var mask = (byte)(0xFF << (8 - rest));
        return (address[full] & mask) == (network[full] & mask);
    }
}

/// <summary>
/// A baseline zone-to-zone policy from zone kinds, used until the site model carries an allowed-flows list: the
/// management, storage and migration planes are reached only from the management plane (storage and migration also
/// from each other); partner links and the DMZ do not open connections into clinical or desktop zones; flows
/// between clinical and desktop zones, and from inside out to partner links, are allowed. Anything else is not decided.
/// </summary>
public sealed class ZoneKindPolicy : IZoneFlowPolicy
{
    public FlowDecision Decide(Zone from, Zone to, string transport, int serverPort, string protocol)
    {
        if (to.Kind is "management" or "storage" or "migration")
        {
            var allowed = from.Kind == "management" || (to.Kind is "storage" or "migration" && from.Kind is "storage" or "migration");
            return allowed
                ? new FlowDecision("allowed", "management", $"{from.Kind} zone to the {to.Kind} plane")
                : new FlowDecision("denied", "management", $"the {to.Kind} plane ({to.Id}) is reached from a {from.Kind} zone ({from.Id}); only the management plane should reach it");
        }

        if (from.Kind is "insurance-link" or "external" && to.Kind is "clinical" or "desktop")
        {
            return new FlowDecision("denied", "data",
                $"a {from.Kind} zone ({from.Id}) opens connections into a {to.Kind} zone ({to.Id}); partner links and the DMZ should only be reached from inside, through a gateway");
        }

        if (from.Kind is "clinical" or "desktop" or "management" && to.Kind is "clinical" or "desktop" or "insurance-link" or "external")
        {
            return new FlowDecision("allowed", "data", $"{from.Kind} zone to a {to.Kind} zone");
        }

        return new FlowDecision("no-policy", "data", $"no baseline for {from.Kind} to {to.Kind}; list the allowed flows in the site model");
    }
}

/// <summary>
/// The site model's allowed-flows policy (the site file's <c>allowedFlows</c>, else the shipped hospital defaults):
/// a flow between two zones is allowed only when an allowed flow covers its zones, transport and server port.
/// </summary>
public sealed class SiteFlowPolicy(SiteModel site) : IZoneFlowPolicy
{
    public FlowDecision Decide(Zone from, Zone to, string transport, int serverPort, string protocol)
    {
        var plane = to.Kind is "management" or "storage" or "migration" ? "management" : "data";
        if (serverPort is < 0 or > ushort.MaxValue)
        {
            return new FlowDecision("no-policy", plane, "the flow has no server port to judge");
        }

        if (site.AllowedBy(from, to, transport, (ushort)serverPort) is { } flow)
        {
            var where = flow.Source is null ? "" : $" ({flow.Source}{(flow.Line is { } l ? $":{l}" : "")})";
            return new FlowDecision("allowed", plane, $"allowed flow {flow.From} -> {flow.To} {flow.Protocol}: {flow.Reason}{where}");
        }

        return new FlowDecision("denied", plane,
            $"no allowed flow of the site model permits {from.Id} ({from.Kind}) -> {to.Id} ({to.Kind}) on {transport}/{serverPort}; add one to allowedFlows if this flow is intended");
    }
}

/// <summary>
/// Adds zones to traffic facts (<c>clientZone</c>, <c>serverZone</c>, <c>zonePolicy</c> ...) from the site model's
/// subnets and a zone-flow policy, and gives flow findings the server zone's context for ranking.
/// Kept apart so that the site model's own address lookup and allowed-flows policy can replace the two interfaces.
/// </summary>
public static class TrafficZones
{
    public const string Kind = "traffic-flow";

    public static ConfigFact Annotate(ConfigFact fact, SiteModel site, IAddressZones? zones = null, IZoneFlowPolicy? policy = null)
    {
        zones ??= new SubnetZones(site.Zones);
        policy ??= site.AllowedFlows.IsDefaultOrEmpty ? new ZoneKindPolicy() : new SiteFlowPolicy(site);
        var line = fact.Resource.Line ?? 0;
        // A client may be a subnet (clients grouped by /24 or /64 in large captures): its network address decides.
        var client = IPAddress.TryParse(fact.Get("client")?.Value.Split('/')[0], out var c) ? zones.ZoneOf(c) : null;
        var server = IPAddress.TryParse(fact.Get("server")?.Value, out var s) ? zones.ZoneOf(s) : null;
        var added = new List<Setting>();
        if (client is not null)
        {
            added.Add(new Setting("clientZone", client.Id, line));
            added.Add(new Setting("clientZoneKind", client.Kind, line));
        }

        if (server is not null)
        {
            added.Add(new Setting("serverZone", server.Id, line));
            added.Add(new Setting("serverZoneKind", server.Kind, line));
            added.Add(new Setting("serverZonePhi", server.Phi ? "true" : "false", line));
        }

        FlowDecision decision;
        if (client is null || server is null)
        {
            decision = new FlowDecision("unmapped", "data",
                site.Zones.Length == 0 ? "no site model with zone subnets" : "an address is outside every zone's subnets");
        }
        else if (string.Equals(client.Id, server.Id, StringComparison.OrdinalIgnoreCase))
        {
            decision = new FlowDecision("same-zone", server.Kind is "management" or "storage" or "migration" ? "management" : "data", $"within zone {server.Id}");
        }
        else
        {
            decision = policy.Decide(client, server, fact.Get("transport")?.Value ?? "", int.TryParse(fact.Get("serverPort")?.Value, out var port) ? port : 0,
                fact.Get("protocol")?.Value ?? "");
        }

        var protocol = fact.Get("protocol")?.Value;
        var serverPort = fact.Get("serverPort")?.Value;
        var service = protocol switch
        {
            "vmotion" => "vmotion",
            "esxi-management" => "esxi-management",
            _ when serverPort == "443" && fact.Get("transport")?.Value == "tcp" && server?.Kind == "management" => "esxi-management",
            _ => null,
        };
        if (service is not null)
        {
            added.Add(new Setting("service", service, line));
        }

        added.Add(new Setting("zonePolicy", decision.Policy, line));
        added.Add(new Setting("zonePlane", decision.Plane, line));
        added.Add(new Setting("zonePolicyReason", decision.Reason, line));
        return fact with
        {
            Resource = fact.Resource with { Zone = server?.Id ?? "unknown" },
            Settings = fact.Settings.SetItems(added.Select(a => new KeyValuePair<string, Setting>(a.Key, a))),
        };
    }

    /// <summary>The site context a flow finding is ranked with: its server's zone.</summary>
    public static SiteContext Context(SiteModel site, ResourceRef resource)
    {
        var zone = resource.Zone is { } id ? site.FindZone(id) : null;
        return zone is null
            ? new SiteContext("unknown", null, null, Criticality.Medium, false, null)
            : new SiteContext(zone.Id, "traffic", null, zone.Criticality, zone.Phi, zone);
    }
}
