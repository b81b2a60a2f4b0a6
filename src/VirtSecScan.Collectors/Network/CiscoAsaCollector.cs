using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Network;

namespace VirtSecScan.Collectors.Network;

/// <summary>
/// Cisco ASA running configuration: interfaces (nameif, security-level, addresses), network and service objects and
/// object-groups, extended access-lists bound with <c>access-group ... in|out interface</c> or <c>global</c>, and
/// security-level semantics for interfaces without an inbound access-list (higher to lower allowed, equal levels only
/// with <c>same-security-traffic permit inter-interface</c>). The ASA is stateful: replies return. NAT is listed as not modelled.
/// </summary>
public sealed class CiscoAsaCollector : ICollector
{
    public const string Format = "cisco-asa";

    private static readonly ImmutableDictionary<string, int> NamedPorts = new Dictionary<string, int>
    {
        ["ftp"] = 21, ["ssh"] = 22, ["telnet"] = 23, ["smtp"] = 25, ["domain"] = 53, ["http"] = 80, ["www"] = 80, ["kerberos"] = 88,
        ["pop3"] = 110, ["sunrpc"] = 111, ["ntp"] = 123, ["netbios-ssn"] = 139, ["imap4"] = 143, ["snmp"] = 161, ["snmptrap"] = 162,
        ["ldap"] = 389, ["https"] = 443, ["syslog"] = 514, ["ldaps"] = 636, ["sqlnet"] = 1521, ["nfs"] = 2049, ["tacacs"] = 49,
        ["rdp"] = 3389, ["sip"] = 5060, ["tftp"] = 69, ["bootps"] = 67, ["bootpc"] = 68, ["radius"] = 1645, ["citrix-ica"] = 1494,
    }.ToImmutableDictionary();

    public string? Detect(InputFile file)
    {
        var sawVersion = false;
        var sawAsaWords = 0;
        foreach (var raw in file.Lines.Take(300))
        {
            var line = raw.Trim();
            if (line.StartsWith("ASA Version", StringComparison.Ordinal))
            {
                sawVersion = true;
            }

            if (line.StartsWith("nameif ", StringComparison.Ordinal) || line.StartsWith("security-level ", StringComparison.Ordinal)
                || line.StartsWith("access-group ", StringComparison.Ordinal) || line.StartsWith("object-group ", StringComparison.Ordinal))
            {
                sawAsaWords++;
            }
        }

        return sawVersion || sawAsaWords >= 3 ? Format : null;
    }

    private sealed record AsaInterface(string Name, int Level, List<string> Subnets);

    private sealed record Service(string? Protocol, IntervalSet? Ports);

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var notModelled = ImmutableArray.CreateBuilder<NotModelled>();
        var hostname = FirewallCommon.DeviceName(file);
        var interfaces = new List<AsaInterface>();
        var netObjects = new Dictionary<string, IntervalSet?>(StringComparer.Ordinal);
        var portGroups = new Dictionary<string, IntervalSet?>(StringComparer.Ordinal);
        var serviceGroups = new Dictionary<string, List<Service>>(StringComparer.Ordinal);
        var acls = new Dictionary<string, List<(int Line, string Text, List<string> Words)>>(StringComparer.Ordinal);
        var bindings = new List<(string Acl, string Direction, string? Interface, int Line)>();
        var sameSecurity = false;

        string? block = null, blockName = null;
        AsaInterface? currentIf = null;
        var lines = file.Lines;
        for (var i = 0; i < lines.Length; i++)
        {
            var raw = lines[i];
            var n = i + 1;
            var text = raw.Trim();
            if (text.Length == 0 || text.StartsWith('!') || text.StartsWith(':'))
            {
                block = null;
                continue;
            }

            var w = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            var indented = raw.StartsWith(' ');
            if (!indented)
            {
                block = null;
                currentIf = null;
                switch (w[0])
                {
                    case "hostname" when w.Count > 1:
                        hostname = w[1];
                        break;
                    case "interface":
                        block = "interface";
                        currentIf = new AsaInterface("", 0, []);
                        break;
                    case "object" when w.Count >= 3:
                        block = "object-" + w[1];
                        blockName = w[2];
                        if (w[1] == "network")
                        {
                            netObjects[blockName] = IntervalSet.Empty;
                        }
                        else if (w[1] == "service")
                        {
                            serviceGroups[blockName] = [];
                        }

                        break;
                    case "object-group" when w.Count >= 3:
                        block = "group-" + w[1];
                        blockName = w[2];
                        if (w[1] == "network")
                        {
                            netObjects[blockName] = IntervalSet.Empty;
                        }
                        else if (w[1] == "service" && w.Count >= 4)
                        {
                            block = "group-port";
                            portGroups[blockName] = IntervalSet.Empty;
                        }
                        else if (w[1] == "service")
                        {
                            serviceGroups[blockName] = [];
                        }

                        break;
                    case "access-list" when w.Count >= 3:
                        if (w[1 + 1] is "remark")
                        {
                            break;
                        }

                        if (!acls.TryGetValue(w[1], out var list))
                        {
                            acls[w[1]] = list = [];
                        }

                        list.Add((n, text, w));
                        break;
                    case "access-group" when w.Count >= 3:
                        bindings.Add((w[1], w[2], w.Count >= 5 && w[3] == "interface" ? w[4] : null, n));
                        break;
                    case "same-security-traffic" when w.Contains("inter-interface"):
                        sameSecurity = true;
                        break;
                    case "nat":
                        notModelled.Add(new NotModelled(file.DisplayPath, n, "nat", "ASA NAT is not modelled; access-lists are evaluated with the addresses they name (real IPs on ASA 8.3 and later)"));
                        break;
                }

                continue;
            }

            switch (block)
            {
                case "interface" when currentIf is not null:
                    if (w[0] == "nameif" && w.Count > 1)
                    {
                        currentIf = currentIf with { Name = w[1] };
                        interfaces.Add(currentIf);
                    }
                    else if (w[0] == "security-level" && w.Count > 1 && int.TryParse(w[1], NumberStyles.None, CultureInfo.InvariantCulture, out var level))
                    {
                        var index = interfaces.IndexOf(currentIf);
                        currentIf = currentIf with { Level = level };
                        if (index >= 0)
                        {
                            interfaces[index] = currentIf;
                        }
                    }
                    else if (w[0] == "ip" && w.Count >= 4 && w[1] == "address")
                    {
                        currentIf.Subnets.Add($"{w[2]}/{w[3]}");
                    }
                    else if (w[0] == "ipv6" && w.Count >= 3 && w[1] == "address")
                    {
                        currentIf.Subnets.Add(w[2]);
                    }

                    break;
                case "object-network" or "group-network":
                {
                    if (w[0] == "nat")
                    {
                        notModelled.Add(new NotModelled(file.DisplayPath, n, "nat", $"object NAT of {blockName} ({text}) is not modelled; access-lists are evaluated with the addresses they name"));
                        break;
                    }

                    var set = w[0] switch
                    {
                        "host" when w.Count > 1 => IntervalSet.ParseAddress(w[1]),
                        "subnet" when w.Count > 2 => IntervalSet.ParseAddress($"{w[1]}/{w[2]}"),
                        "subnet" when w.Count > 1 => IntervalSet.ParseAddress(w[1]),
                        "range" when w.Count > 2 => IntervalSet.ParseAddress($"{w[1]}-{w[2]}"),
                        "network-object" when w.Count > 2 && w[1] == "host" => IntervalSet.ParseAddress(w[2]),
                        "network-object" when w.Count > 2 && w[1] == "object" => netObjects.GetValueOrDefault(w[2]),
                        "network-object" when w.Count > 2 => IntervalSet.ParseAddress($"{w[1]}/{w[2]}"),
                        "network-object" when w.Count > 1 => IntervalSet.ParseAddress(w[1]),
                        "group-object" when w.Count > 1 => netObjects.GetValueOrDefault(w[1]),
                        "description" or "nat" => IntervalSet.Empty,
                        "fqdn" => null,
                        _ => null,
                    };
                    if (set is null || netObjects[blockName!] is null)
                    {
                        if (w[0] != "description")
                        {
                            diagnostics.Add(Diagnostic.Info(file.DisplayPath, n, $"'{text}' in {blockName} is not modelled; the object counts as unknown"));
                            netObjects[blockName!] = null;
                        }
                    }
                    else
                    {
                        netObjects[blockName!] = netObjects[blockName!]!.Union(set);
                    }

                    break;
                }

                case "group-port":
                    if (w[0] == "port-object" && Ports(w, 1, out _) is { } ports && portGroups[blockName!] is { } pg)
                    {
                        portGroups[blockName!] = pg.Union(ports);
                    }
                    else if (w[0] == "group-object" && w.Count > 1 && portGroups.GetValueOrDefault(w[1]) is { } other && portGroups[blockName!] is { } pg2)
                    {
                        portGroups[blockName!] = pg2.Union(other);
                    }
                    else if (w[0] != "description")
                    {
                        portGroups[blockName!] = null;
                    }

                    break;
                case "object-service" or "group-service":
                    if (w[0] is "service" or "service-object" && w.Count > 1)
                    {
                        var proto = w[1] == "ip" ? null : FirewallCommon.NormaliseProtocol(w[1]);
                        var k = w.IndexOf("destination");
                        IntervalSet? servicePorts = null;
                        if (k > 0)
                        {
                            servicePorts = Ports(w, k + 1, out _);
                        }
                        else if (w.Count > 2 && w[2] is "eq" or "range" or "lt" or "gt" or "neq")
                        {
                            servicePorts = Ports(w, 2, out _);
                        }

                        serviceGroups[blockName!].Add(new Service(proto, servicePorts));
                    }
                    else if (w[0] == "group-object" && w.Count > 1 && serviceGroups.TryGetValue(w[1], out var inner))
                    {
                        serviceGroups[blockName!].AddRange(inner);
                    }

                    break;
            }
        }

        // Chains: each bound access-list becomes a chain ending in its implicit deny.
        var chains = ImmutableArray.CreateBuilder<FirewallChain>();
        var global = bindings.FirstOrDefault(b => b.Direction == "global");
        foreach (var (name, entries) in acls)
        {
            var chainLines = ImmutableArray.CreateBuilder<FirewallLine>();
            foreach (var (line, text, words) in entries)
            {
                chainLines.AddRange(AclLines(file.DisplayPath, name, line, text, words, netObjects, portGroups, serviceGroups, interfaces, diagnostics));
            }

            chains.Add(new FirewallChain("inet", "asa", name, null, 0, null, null, chainLines.ToImmutable()));
        }

        FirewallLine Synthetic(string chain, int line, string text, FirewallAction action, InterfaceMatch? inIf = null, InterfaceMatch? outIf = null, string? target = null, ConnState? states = null) => new()
        {
            Table = "asa",
            Chain = chain,
            In = inIf,
            Out = outIf,
            States = states,
            Action = action,
            Target = target,
            File = file.DisplayPath,
            Line = line,
            Text = text,
        };

        var inbound = ImmutableArray.CreateBuilder<FirewallLine>();
        inbound.Add(Synthetic("in", 0, "stateful inspection: replies to permitted connections return (implicit)", FirewallAction.Accept, states: ConnState.Established | ConnState.Related));
        foreach (var iface in interfaces)
        {
            var binding = bindings.FirstOrDefault(b => b.Direction == "in" && b.Interface == iface.Name);
            if (binding.Acl is not null && acls.ContainsKey(binding.Acl))
            {
                inbound.Add(Synthetic("in", binding.Line, $"access-group {binding.Acl} in interface {iface.Name}", FirewallAction.Jump, new InterfaceMatch(iface.Name), target: binding.Acl));
                if (global.Acl is not null && acls.ContainsKey(global.Acl))
                {
                    inbound.Add(Synthetic("in", global.Line, $"access-group {global.Acl} global", FirewallAction.Jump, new InterfaceMatch(iface.Name), target: global.Acl));
                }

                inbound.Add(Synthetic("in", binding.Line, $"implicit deny at the end of {binding.Acl}", FirewallAction.Drop, new InterfaceMatch(iface.Name)));
                continue;
            }

            if (global.Acl is not null && acls.ContainsKey(global.Acl))
            {
                inbound.Add(Synthetic("in", global.Line, $"access-group {global.Acl} global", FirewallAction.Jump, new InterfaceMatch(iface.Name), target: global.Acl));
                inbound.Add(Synthetic("in", global.Line, $"implicit deny at the end of {global.Acl}", FirewallAction.Drop, new InterfaceMatch(iface.Name)));
                continue;
            }

            foreach (var other in interfaces.Where(o => o != iface))
            {
                var allowed = iface.Level > other.Level || (iface.Level == other.Level && sameSecurity);
                inbound.Add(Synthetic("in", 0,
                    $"security-level {iface.Level} ({iface.Name}) to {other.Level} ({other.Name}): {(allowed ? "permitted" : "denied")} without an inbound access-list",
                    allowed ? FirewallAction.Accept : FirewallAction.Drop, new InterfaceMatch(iface.Name), new InterfaceMatch(other.Name)));
            }
        }

        chains.Add(new FirewallChain("inet", "asa", "in", "forward", 0, FirewallAction.Drop, 0, inbound.ToImmutable()));
        var outbound = ImmutableArray.CreateBuilder<FirewallLine>();
        foreach (var b in bindings.Where(b => b.Direction == "out" && b.Interface is not null && acls.ContainsKey(b.Acl)))
        {
            outbound.Add(Synthetic("out", 0, "stateful inspection (implicit)", FirewallAction.Accept, states: ConnState.Established | ConnState.Related));
            outbound.Add(Synthetic("out", b.Line, $"access-group {b.Acl} out interface {b.Interface}", FirewallAction.Jump, outIf: new InterfaceMatch(b.Interface!), target: b.Acl));
            outbound.Add(Synthetic("out", b.Line, $"implicit deny at the end of {b.Acl}", FirewallAction.Drop, outIf: new InterfaceMatch(b.Interface!)));
        }

        if (outbound.Count > 0)
        {
            chains.Add(new FirewallChain("inet", "asa", "out", "forward", 10, FirewallAction.Accept, null, outbound.ToImmutable()));
        }

        foreach (var b in bindings.Where(b => !acls.ContainsKey(b.Acl)))
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, b.Line, $"access-group binds {b.Acl}, which has no access-list entries"));
        }

        var fwInterfaces = interfaces.Select(i => new FirewallInterface(i.Name, null, i.Subnets.ToImmutableArray(), i.Level)).ToImmutableArray();
        var ruleset = new FirewallRuleset(hostname, format, file.DisplayPath, chains.ToImmutable(), fwInterfaces, notModelled.ToImmutable());
        return new CollectorResult(format, [ruleset], diagnostics.ToImmutable());
    }

    /// <summary>Parses <c>eq P</c>, <c>range A B</c>, <c>lt P</c>, <c>gt P</c>, <c>neq P</c> at <paramref name="k"/>; null if not a port operator.</summary>
    private static IntervalSet? Ports(List<string> w, int k, out int used)
    {
        used = 0;
        if (k >= w.Count)
        {
            return null;
        }

        int? P(int idx) => idx < w.Count ? int.TryParse(w[idx], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : NamedPorts.TryGetValue(w[idx], out var named) ? named : null : null;
        switch (w[k])
        {
            case "eq" when P(k + 1) is { } e:
                used = 2;
                return IntervalSet.Of((UInt128)e, (UInt128)e);
            case "neq" when P(k + 1) is { } ne:
                used = 2;
                return IntervalSet.AllPorts.Subtract(IntervalSet.Of((UInt128)ne, (UInt128)ne));
            case "lt" when P(k + 1) is { } lt:
                used = 2;
                return IntervalSet.Of(0, (UInt128)Math.Max(0, lt - 1));
            case "gt" when P(k + 1) is { } gt:
                used = 2;
                return IntervalSet.Of((UInt128)(gt + 1), 65535);
            case "range" when P(k + 1) is { } a && P(k + 2) is { } b:
                used = 3;
                return IntervalSet.Of((UInt128)a, (UInt128)b);
            default:
                return null;
        }
    }

    private static IEnumerable<FirewallLine> AclLines(string file, string acl, int n, string text, List<string> w,
        Dictionary<string, IntervalSet?> objects, Dictionary<string, IntervalSet?> portGroups, Dictionary<string, List<Service>> services,
        List<AsaInterface> interfaces, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var k = 2;
        if (k < w.Count && w[k] == "line")
        {
            k += 2;
        }

        if (k >= w.Count || w[k] != "extended")
        {
            diagnostics.Add(Diagnostic.Info(file, n, $"access-list {acl}: only extended entries are modelled"));
            yield break;
        }

        k++;
        if (k >= w.Count || w[k] is not ("permit" or "deny"))
        {
            diagnostics.Add(Diagnostic.Warning(file, n, $"access-list {acl}: expected permit or deny"));
            yield break;
        }

        var action = w[k++] == "permit" ? FirewallAction.Accept : FirewallAction.Drop;
        var unmodelled = new List<string>();
        List<Service> protocols;
        if (k + 1 < w.Count && w[k] is "object-group" or "object" && services.TryGetValue(w[k + 1], out var svc))
        {
            protocols = svc.Count > 0 ? svc : [new Service(null, null)];
            k += 2;
        }
        else if (k < w.Count)
        {
            var p = w[k++];
            protocols = [new Service(p is "ip" ? null : p == "icmp6" ? "ipv6-icmp" : FirewallCommon.NormaliseProtocol(p), null)];
        }
        else
        {
            yield break;
        }

        IntervalSet? Address(ref int j)
        {
            if (j >= w.Count)
            {
                return null;
            }

            var word = w[j];
            switch (word)
            {
                case "any":
                    j++;
                    return null;
                case "any4":
                    j++;
                    return IntervalSet.AllIpv4;
                case "any6":
                    j++;
                    return IntervalSet.AllIpv6;
                case "host" when j + 1 < w.Count:
                    j += 2;
                    return IntervalSet.ParseAddress(w[j - 1]);
                case "object" or "object-group" when j + 1 < w.Count:
                    j += 2;
                    if (objects.TryGetValue(w[j - 1], out var o) && o is not null)
                    {
                        return o;
                    }

                    unmodelled.Add($"{word} {w[j - 1]}");
                    return null;
                case "interface" when j + 1 < w.Count:
                    j += 2;
                    var ifName = w[j - 1];
                    var addrs = interfaces.FirstOrDefault(i => i.Name == ifName)?.Subnets
                        .Select(s => IntervalSet.ParseAddress(s.Split('/')[0])).OfType<IntervalSet>()
                        .Aggregate(IntervalSet.Empty, (a, b) => a.Union(b));
                    return addrs ?? IntervalSet.Empty;
                default:
                    if (IPAddress.TryParse(word, out _) && j + 1 < w.Count && IPAddress.TryParse(w[j + 1], out _))
                    {
                        j += 2;
                        return IntervalSet.ParseAddress($"{word}/{w[j - 1]}");
                    }

                    if (word.Contains('/', StringComparison.Ordinal))
                    {
                        j++;
                        return IntervalSet.ParseAddress(word);
                    }

                    unmodelled.Add(word);
                    j++;
                    return null;
            }
        }

        IntervalSet? PortSpec(ref int j)
        {
            if (j + 1 < w.Count && w[j] == "object-group" && portGroups.TryGetValue(w[j + 1], out var pg))
            {
                j += 2;
                if (pg is null)
                {
                    unmodelled.Add($"port group {w[j - 1]}");
                }

                return pg;
            }

            var ports = Ports(w, j, out var used);
            j += used;
            return ports;
        }

        var src = Address(ref k);
        var sport = PortSpec(ref k);
        var dst = Address(ref k);
        var dport = PortSpec(ref k);
        if (w.Skip(k).Contains("inactive"))
        {
            yield break;
        }

        foreach (var s in protocols)
        {
            var ported = s.Protocol is "tcp" or "udp";
            yield return new FirewallLine
            {
                Table = "asa",
                Chain = acl,
                Source = src,
                Destination = dst,
                Protocol = s.Protocol,
                SourcePorts = ported ? sport : null,
                DestinationPorts = ported ? (s.Ports is null ? dport : dport?.Intersect(s.Ports) ?? s.Ports) : null,
                Action = action,
                File = file,
                Line = n,
                Text = text,
                Unmodelled = unmodelled.Count == 0 ? null : string.Join("; ", unmodelled),
            };
        }
    }
}
