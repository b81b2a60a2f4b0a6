using System.Collections.Immutable;
using System.Xml;
using System.Xml.Linq;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Network;

namespace VirtSecScan.Collectors.Network;

/// <summary>
/// pfSense and OPNsense <c>config.xml</c>: interfaces with their subnets, aliases (host, network, port; nested),
/// filter rules in order per interface (pass/block/reject, quick floating rules first), and port forwards (listed
/// as not modelled). pf keeps state for passed connections, so replies always return. DTDs are prohibited.
/// </summary>
public sealed class PfSenseCollector : ICollector
{
    public const string PfSense = "pfsense-config-xml";
    public const string OpnSense = "opnsense-config-xml";

    public string? Detect(InputFile file)
    {
        var head = file.Text.Length > 2000 ? file.Text[..2000] : file.Text;
        if (!head.TrimStart().StartsWith('<'))
        {
            return null;
        }

        return head.Contains("<pfsense>", StringComparison.Ordinal) ? PfSense
            : head.Contains("<opnsense>", StringComparison.Ordinal) ? OpnSense
            : null;
    }

    internal static XDocument? LoadXml(InputFile file, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        try
        {
            return SafeXml.Parse(file.Text, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, ex.LineNumber > 0 ? ex.LineNumber : null, $"not readable XML: {ex.Message}"));
            return null;
        }
    }

    private static int LineOf(XObject x) => x is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0;

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var notModelled = ImmutableArray.CreateBuilder<NotModelled>();
        var doc = LoadXml(file, diagnostics);
        if (doc?.Root is not { } root)
        {
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var device = root.Element("system")?.Element("hostname")?.Value.Trim() is { Length: > 0 } h ? h : FirewallCommon.DeviceName(file);

        // Interfaces: name -> (subnets, address)
        var interfaces = ImmutableArray.CreateBuilder<FirewallInterface>();
        var ifNets = new Dictionary<string, IntervalSet>(StringComparer.OrdinalIgnoreCase);
        var ifAddrs = new Dictionary<string, IntervalSet>(StringComparer.OrdinalIgnoreCase);
        foreach (var i in root.Element("interfaces")?.Elements() ?? [])
        {
            var subnets = new List<string>();
            var nets = IntervalSet.Empty;
            var addrs = IntervalSet.Empty;
            foreach (var (a, p) in new[] { ("ipaddr", "subnet"), ("ipaddrv6", "subnetv6") })
            {
                var addr = i.Element(a)?.Value.Trim();
                var prefix = i.Element(p)?.Value.Trim();
                if (addr is { Length: > 0 } && IntervalSet.ParseAddress(addr) is { } host)
                {
                    addrs = addrs.Union(host);
                    if (prefix is { Length: > 0 } && IntervalSet.ParseAddress($"{addr}/{prefix}") is { } net)
                    {
                        nets = nets.Union(net);
                        subnets.Add($"{addr}/{prefix}");
                    }
                }
            }

            ifNets[i.Name.LocalName] = nets;
            ifAddrs[i.Name.LocalName] = addrs;
            interfaces.Add(new FirewallInterface(i.Name.LocalName, i.Element("descr")?.Value.Trim(), subnets.ToImmutableArray()));
        }

        // Aliases
        var aliases = new Dictionary<string, XElement>(StringComparer.Ordinal);
        foreach (var a in root.Element("aliases")?.Elements("alias") ?? [])
        {
            if (a.Element("name")?.Value.Trim() is { Length: > 0 } name)
            {
                aliases[name] = a;
            }
        }

        var lines = ImmutableArray.CreateBuilder<FirewallLine>();
        var filter = root.Element("filter");
        var filterLine = filter is null ? 0 : LineOf(filter);
        lines.Add(new FirewallLine
        {
            Table = "filter",
            Chain = "rules",
            States = ConnState.Established | ConnState.Related,
            Action = FirewallAction.Accept,
            File = file.DisplayPath,
            Line = filterLine,
            Text = "pf keeps state: replies to passed connections are accepted (implicit)",
        });

        var rules = (filter?.Elements("rule") ?? []).ToList();
        // Quick floating rules are evaluated before interface rules; the rest in order.
        var ordered = rules.Where(r => IsFloating(r) && r.Element("quick") is not null)
            .Concat(rules.Where(r => !IsFloating(r)))
            .ToList();
        foreach (var r in rules.Where(r => IsFloating(r) && r.Element("quick") is null))
        {
            notModelled.Add(new NotModelled(file.DisplayPath, LineOf(r), "floating rule", "a floating rule without 'quick' applies by last match; not modelled"));
        }

        foreach (var r in ordered)
        {
            if (r.Element("disabled") is not null)
            {
                continue;
            }

            var n = LineOf(r);
            if (r.Element("type") is null)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, n, "filter rule without a type; skipped"));
                continue;
            }

            var type = r.Element("type")!.Value.Trim();
            var action = type switch { "pass" => FirewallAction.Accept, "block" => FirewallAction.Drop, "reject" => FirewallAction.Reject, "match" => FirewallAction.Continue, _ => FirewallAction.Continue };
            var unmodelled = new List<string>();
            var family = r.Element("ipprotocol")?.Value.Trim() switch { "inet6" => IntervalSet.AllIpv6, "inet46" => IntervalSet.AllAddresses, _ => IntervalSet.AllIpv4 };
            var src = Endpoint(r.Element("source"), family, ifNets, ifAddrs, aliases, unmodelled, out var sport);
            var dst = Endpoint(r.Element("destination"), family, ifNets, ifAddrs, aliases, unmodelled, out var dport);
            var protocol = r.Element("protocol")?.Value.Trim().ToLowerInvariant();
            var protocols = protocol switch
            {
                null or "" or "any" => new string?[] { null },
                "tcp/udp" => ["tcp", "udp"],
                "icmp" => [family.Equals(IntervalSet.AllIpv6) ? "ipv6-icmp" : "icmp"],
                var p => [FirewallCommon.NormaliseProtocol(p)],
            };
            if (r.Element("direction")?.Value.Trim() is "out")
            {
                unmodelled.Add("outbound-direction rule");
            }

            var descr = r.Element("descr")?.Value.Trim();
            var ifaces = (r.Element("interface")?.Value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var iface in ifaces.Length == 0 ? [""] : ifaces)
            {
                foreach (var p in protocols)
                {
                    lines.Add(new FirewallLine
                    {
                        Table = "filter",
                        Chain = "rules",
                        In = iface.Length == 0 ? null : new InterfaceMatch(iface),
                        Source = src,
                        Destination = dst,
                        Protocol = p,
                        SourcePorts = p is "tcp" or "udp" ? sport : null,
                        DestinationPorts = p is "tcp" or "udp" ? dport : null,
                        Action = action,
                        File = file.DisplayPath,
                        Line = n,
                        Text = $"{type} on {string.Join(",", ifaces)} {protocol ?? "any"} from {Describe(r.Element("source"))} to {Describe(r.Element("destination"))}" + (descr is { Length: > 0 } ? $" \"{descr}\"" : ""),
                        Unmodelled = unmodelled.Count == 0 ? null : string.Join("; ", unmodelled),
                    });
                }
            }
        }

        foreach (var nat in root.Element("nat")?.Elements("rule") ?? [])
        {
            var target = nat.Element("target")?.Value.Trim();
            notModelled.Add(new NotModelled(file.DisplayPath, LineOf(nat), "port forward",
                $"port forward on {nat.Element("interface")?.Value.Trim()} to {target}:{nat.Element("local-port")?.Value.Trim()}: destination NAT is not modelled; its associated filter rule is evaluated with the internal address"));
        }

        if (root.Descendants("Filter").Any(f => f.Parent?.Name.LocalName == "Firewall" && f.Descendants("rule").Any()))
        {
            notModelled.Add(new NotModelled(file.DisplayPath, 0, "OPNsense MVC filter rules", "rules under OPNsense/Firewall/Filter (automation rules) are not modelled"));
        }

        var chain = new FirewallChain("inet", "filter", "rules", "forward", 0, FirewallAction.Drop, filterLine, lines.ToImmutable());
        var ruleset = new FirewallRuleset(device, format, file.DisplayPath, [chain], interfaces.ToImmutable(), notModelled.ToImmutable());
        return new CollectorResult(format, [ruleset], diagnostics.ToImmutable());
    }

    private static bool IsFloating(XElement r) => r.Element("floating")?.Value.Trim() == "yes";

    private static string Describe(XElement? e)
    {
        if (e is null || e.Element("any") is not null)
        {
            return "any";
        }

        var not = e.Element("not") is not null ? "!" : "";
        var what = e.Element("network")?.Value.Trim() is { Length: > 0 } net ? net + " net" : e.Element("address")?.Value.Trim() ?? "any";
        var port = e.Element("port")?.Value.Trim() is { Length: > 0 } p ? $" port {p}" : "";
        return not + what + port;
    }

    private static IntervalSet? Endpoint(XElement? e, IntervalSet family, Dictionary<string, IntervalSet> nets, Dictionary<string, IntervalSet> addrs,
        Dictionary<string, XElement> aliases, List<string> unmodelled, out IntervalSet? ports)
    {
        ports = null;
        if (e is null)
        {
            return null;
        }

        if (e.Element("port")?.Value.Trim() is { Length: > 0 } portText)
        {
            ports = ResolvePorts(portText, aliases, unmodelled, 0);
        }

        IntervalSet? set = null;
        if (e.Element("any") is not null)
        {
            set = null;
        }
        else if (e.Element("network")?.Value.Trim() is { Length: > 0 } network)
        {
            if (network.EndsWith("ip", StringComparison.Ordinal) && addrs.TryGetValue(network[..^2], out var ip))
            {
                set = ip;
            }
            else if (network == "(self)")
            {
                set = addrs.Values.Aggregate(IntervalSet.Empty, (a, b) => a.Union(b));
            }
            else if (nets.TryGetValue(network, out var net))
            {
                set = net;
            }
            else
            {
                unmodelled.Add($"network {network}");
            }
        }
        else if (e.Element("address")?.Value.Trim() is { Length: > 0 } address)
        {
            set = ResolveAddresses(address, aliases, unmodelled, 0);
        }

        if (set is not null && e.Element("not") is not null)
        {
            set = family.Subtract(set);
        }

        return set is null ? (family.Equals(IntervalSet.AllAddresses) ? null : family) : set.Intersect(family);
    }

    private static IntervalSet? ResolveAddresses(string text, Dictionary<string, XElement> aliases, List<string> unmodelled, int depth)
    {
        var set = IntervalSet.Empty;
        foreach (var part in text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            if (IntervalSet.ParseAddress(part) is { } one)
            {
                set = set.Union(one);
            }
            else if (aliases.TryGetValue(part, out var alias) && depth < 8)
            {
                var type = alias.Element("type")?.Value.Trim();
                if (type is "host" or "network")
                {
                    set = set.Union(ResolveAddresses(alias.Element("address")?.Value ?? "", aliases, unmodelled, depth + 1) ?? IntervalSet.Empty);
                }
                else
                {
                    unmodelled.Add($"alias {part} of type {type} (contents not in config.xml)");
                }
            }
            else
            {
                unmodelled.Add($"address {part}");
            }
        }

        return set;
    }

    private static IntervalSet? ResolvePorts(string text, Dictionary<string, XElement> aliases, List<string> unmodelled, int depth)
    {
        var set = IntervalSet.Empty;
        foreach (var part in text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            if (IntervalSet.ParsePorts(part.Replace(':', '-')) is { } p)
            {
                set = set.Union(p);
            }
            else if (aliases.TryGetValue(part, out var alias) && alias.Element("type")?.Value.Trim() == "port" && depth < 8)
            {
                set = set.Union(ResolvePorts(alias.Element("address")?.Value ?? "", aliases, unmodelled, depth + 1) ?? IntervalSet.Empty);
            }
            else
            {
                unmodelled.Add($"port {part}");
                return null;
            }
        }

        return set;
    }
}
