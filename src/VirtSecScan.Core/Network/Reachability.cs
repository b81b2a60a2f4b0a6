using System.Collections.Immutable;
using VirtSecScan.Core.Site;

namespace VirtSecScan.Core.Network;

/// <summary>A rule line that allows (or denies) part of a zone-to-zone cell, with the ports it decides.</summary>
public sealed record ReachabilityRule(string File, int Line, string Text, IntervalSet Ports);

/// <summary>
/// One cell of the zone-to-zone matrix for one firewall: what passes from one zone to another on one protocol.
/// Action <c>accept</c> lists the ports that pass and the lines that let them; <c>drop</c> (protocol <c>any</c>) means
/// nothing passes, and names the lines that stop it. <see cref="ReturnPath"/> says how replies get back:
/// <c>stateful</c> (an ESTABLISHED accept), <c>stateless</c> (an accept that does not look at state), <c>none</c>.
/// </summary>
public sealed record ReachabilityCell(
    string Firewall,
    string FromZone,
    string ToZone,
    string Protocol,
    IntervalSet Ports,
    string Action,
    ImmutableArray<ReachabilityRule> Rules,
    string? ReturnPath,
    ImmutableArray<string> Uncertain);

/// <summary>A line that no packet reaches, and the earlier lines that take all its packets.</summary>
public sealed record ShadowedLine(string Firewall, FirewallLine Line, ImmutableArray<FirewallLine> By);

/// <summary>What the reachability analysis found, plus the zone pairs and rule-set parts it could not evaluate.</summary>
public sealed record ReachabilityResult(
    ImmutableArray<ReachabilityCell> Cells,
    ImmutableArray<ShadowedLine> Shadowed,
    ImmutableArray<string> NotEvaluated)
{
    public static ReachabilityResult Empty { get; } = new([], [], []);

    public IEnumerable<ReachabilityCell> Allowed(string from, string to) =>
        Cells.Where(c => c.Action == "accept" && c.FromZone == from && c.ToZone == to);
}

/// <summary>
/// Zone-to-zone reachability through each firewall: for every ordered pair of zones the firewall connects, the
/// protocols and ports a NEW connection can use, computed by first-match evaluation over the atoms of the
/// address and port interval sets (IPv4 and IPv6), each accepted port naming the deciding rule lines.
/// </summary>
public static class ReachabilityAnalyzer
{
    /// <summary>Evaluations allowed per zone pair before the pair is reported as not evaluated.</summary>
    public const long MaxEvaluationsPerPair = 400_000;

    public static ReachabilityResult Analyze(SiteModel site, IEnumerable<FirewallRuleset> rulesets)
    {
        var cells = ImmutableArray.CreateBuilder<ReachabilityCell>();
        var shadowed = ImmutableArray.CreateBuilder<ShadowedLine>();
        var notEvaluated = new List<string>();
        foreach (var ruleset in rulesets.OrderBy(r => r.Device, StringComparer.Ordinal).ThenBy(r => r.File, StringComparer.Ordinal))
        {
            foreach (var (line, by) in FirewallEvaluator.Shadowed(ruleset))
            {
                shadowed.Add(new ShadowedLine(ruleset.Device, line, by));
            }

            foreach (var n in ruleset.NotModelled)
            {
                notEvaluated.Add($"{n.File}:{n.Line}: {n.Reason}");
            }

            if (!ruleset.Chains.Any(c => FirewallRuleset.ForwardPathOrder(c.Hook) is not null))
            {
                notEvaluated.Add($"{ruleset.File}: firewall {ruleset.Device} has no forward chain; zone-to-zone traffic through it is not filtered by this rule set");
                continue;
            }

            var interfaces = InterfacesByZone(site, ruleset);
            var mapped = interfaces.Count > 0;
            foreach (var from in site.Zones)
            {
                foreach (var to in site.Zones)
                {
                    if (from.Id == to.Id || (mapped && (!interfaces.ContainsKey(from.Id) || !interfaces.ContainsKey(to.Id))))
                    {
                        continue;
                    }

                    var ifPairs = mapped
                        ? interfaces[from.Id].SelectMany(i => interfaces[to.Id].Where(o => o != i).Select(o => ((string?)i, (string?)o))).ToList()
                        : [(null, null)];
                    if (ifPairs.Count == 0)
                    {
                        continue;
                    }

                    if (from.AddressSet().IsEmpty || to.AddressSet().IsEmpty)
                    {
                        notEvaluated.Add($"{ruleset.Device}: {from.Id} -> {to.Id} not evaluated: the site model gives {(from.AddressSet().IsEmpty ? from.Id : to.Id)} no subnets");
                        continue;
                    }

                    cells.AddRange(Pair(ruleset, from, to, ifPairs, notEvaluated));
                }
            }
        }

        return new ReachabilityResult(cells.ToImmutable(), shadowed.ToImmutable(), notEvaluated.Distinct().ToImmutableArray());
    }

    /// <summary>Zone id -> the device's interfaces facing it: the site's <c>interfaces</c> entries, then the rule set's own interface subnets.</summary>
    public static Dictionary<string, List<string>> InterfacesByZone(SiteModel site, FirewallRuleset ruleset)
    {
        var map = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        void Add(string zone, string iface)
        {
            if (!map.TryGetValue(zone, out var list))
            {
                map[zone] = list = [];
            }

            if (!list.Contains(iface))
            {
                list.Add(iface);
            }
        }

        foreach (var zone in site.Zones)
        {
            foreach (var entry in zone.Interfaces)
            {
                var colon = entry.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && string.Equals(entry[..colon], ruleset.Device, StringComparison.OrdinalIgnoreCase))
                {
                    Add(zone.Id, entry[(colon + 1)..]);
                }
            }
        }

        foreach (var iface in ruleset.Interfaces)
        {
            var subnet = iface.Subnets.Aggregate(IntervalSet.Empty, (acc, s) => IntervalSet.ParseAddress(s) is { } set ? acc.Union(set) : acc);
            foreach (var zone in site.Zones.Where(z => !map.ContainsKey(z.Id) || map[z.Id].Contains(iface.Name)))
            {
                var zoneSet = zone.AddressSet();
                if (!zoneSet.IsEmpty && !subnet.IsEmpty && subnet.IsSupersetOf(zoneSet))
                {
                    Add(zone.Id, iface.Name);
                }
            }
        }

        return map;
    }

    private static IEnumerable<ReachabilityCell> Pair(FirewallRuleset ruleset, Zone from, Zone to, List<(string? In, string? Out)> ifPairs, List<string> notEvaluated)
    {
        var lines = ruleset.AllLines.ToList();
        var srcSplit = lines.Select(l => l.Source).OfType<IntervalSet>().ToList();
        var dstSplit = lines.Select(l => l.Destination).OfType<IntervalSet>().ToList();
        var dportAtoms = IntervalSet.AllPorts.Atoms(lines.Select(l => l.DestinationPorts).OfType<IntervalSet>());
        var sportAtoms = IntervalSet.AllPorts.Atoms(lines.Select(l => l.SourcePorts).OfType<IntervalSet>());

        // (protocol) -> deciding-lines key -> (lines, ports)
        var accepted = new SortedDictionary<string, Dictionary<string, (ImmutableArray<FirewallLine> Lines, IntervalSet Ports)>>(StringComparer.Ordinal);
        var sample = new Dictionary<string, Packet>();
        var denyLines = new Dictionary<string, FirewallLine>();
        var uncertain = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var ipv4 in new[] { true, false })
        {
            var family = ipv4 ? IntervalSet.AllIpv4 : IntervalSet.AllIpv6;
            var src = from.AddressSet().Intersect(family);
            var dst = to.AddressSet().Intersect(family);
            if (src.IsEmpty || dst.IsEmpty)
            {
                continue;
            }

            if (!ruleset.ForwardChains(ipv4).Any())
            {
                // An iptables-save file speaks for IPv4 only, ip6tables-save for IPv6 only.
                notEvaluated.Add($"{ruleset.File}: firewall {ruleset.Device} has no {(ipv4 ? "IPv4" : "IPv6")} forward chain; {(ipv4 ? "IPv4" : "IPv6")} traffic through it is not evaluated from this file");
                continue;
            }

            var srcAtoms = src.Atoms(srcSplit);
            var dstAtoms = dst.Atoms(dstSplit);
            var protocols = new[] { "tcp", "udp", ipv4 ? "icmp" : "ipv6-icmp" };
            var cost = (long)srcAtoms.Count * dstAtoms.Count * ifPairs.Count * (2L * dportAtoms.Count * sportAtoms.Count + 1);
            if (cost > MaxEvaluationsPerPair)
            {
                notEvaluated.Add($"{ruleset.Device}: {from.Id} -> {to.Id} ({(ipv4 ? "IPv4" : "IPv6")}) not evaluated: {cost} evaluations exceed the limit of {MaxEvaluationsPerPair}");
                continue;
            }

            foreach (var protocol in protocols)
            {
                var ported = protocol is "tcp" or "udp";
                foreach (var (inIf, outIf) in ifPairs)
                {
                    foreach (var s in srcAtoms)
                    {
                        foreach (var d in dstAtoms)
                        {
                            foreach (var dp in ported ? dportAtoms : [new Interval(0, 0)])
                            {
                                foreach (var sp in ported ? sportAtoms : [new Interval(0, 0)])
                                {
                                    var packet = new Packet(s.Low, d.Low, protocol, (int)sp.Low, (int)dp.Low, inIf, outIf, ConnState.New);
                                    var verdict = FirewallEvaluator.Evaluate(ruleset, packet);
                                    if (!verdict.Accepted)
                                    {
                                        foreach (var l in verdict.Deciding)
                                        {
                                            denyLines.TryAdd(l.Where, l);
                                        }

                                        continue;
                                    }

                                    foreach (var u in verdict.Uncertain)
                                    {
                                        uncertain.Add(u);
                                    }

                                    var key = string.Join("|", verdict.Deciding.Select(l => l.Where));
                                    if (!accepted.TryGetValue(protocol, out var byKey))
                                    {
                                        accepted[protocol] = byKey = [];
                                    }

                                    var ports = ported ? IntervalSet.Of(dp.Low, dp.High) : IntervalSet.Empty;
                                    byKey[key] = byKey.TryGetValue(key, out var existing)
                                        ? (existing.Lines, existing.Ports.Union(ports))
                                        : (verdict.Deciding, ports);
                                    sample.TryAdd(protocol, packet);
                                    break; // one source port that passes is enough for this destination port
                                }
                            }
                        }
                    }
                }
            }
        }

        if (accepted.Count == 0)
        {
            var rules = denyLines.Values.OrderBy(l => l.File, StringComparer.Ordinal).ThenBy(l => l.Line).Take(5)
                .Select(l => new ReachabilityRule(l.File, l.Line, l.Text, IntervalSet.Empty)).ToImmutableArray();
            yield return new ReachabilityCell(ruleset.Device, from.Id, to.Id, "any", IntervalSet.Empty, "drop", rules, null, []);
            yield break;
        }

        foreach (var (protocol, byKey) in accepted)
        {
            var perLine = new Dictionary<string, (FirewallLine Line, IntervalSet Ports)>();
            foreach (var (_, (decidingLines, ports)) in byKey)
            {
                foreach (var l in decidingLines)
                {
                    perLine[l.Where] = perLine.TryGetValue(l.Where, out var e) ? (e.Line, e.Ports.Union(ports)) : (l, ports);
                }
            }

            var all = byKey.Values.Aggregate(IntervalSet.Empty, (acc, v) => acc.Union(v.Ports));
            var rules = perLine.Values.OrderBy(v => v.Line.File, StringComparer.Ordinal).ThenBy(v => v.Line.Line)
                .Select(v => new ReachabilityRule(v.Line.File, v.Line.Line, v.Line.Text, v.Ports)).ToImmutableArray();
            yield return new ReachabilityCell(ruleset.Device, from.Id, to.Id, protocol, all, "accept", rules,
                ReturnPathOf(ruleset, sample[protocol]), uncertain.Take(5).ToImmutableArray());
        }
    }

    /// <summary>How the reply to an accepted packet gets back: through an ESTABLISHED accept (stateful), an accept that
    /// ignores state (stateless), or not at all (none).</summary>
    public static string ReturnPathOf(FirewallRuleset ruleset, Packet forward)
    {
        var reply = new Packet(forward.Destination, forward.Source, forward.Protocol, forward.DestinationPort, forward.SourcePort, forward.Out, forward.In, ConnState.Established);
        var verdict = FirewallEvaluator.Evaluate(ruleset, reply);
        if (!verdict.Accepted)
        {
            return "none";
        }

        return verdict.Deciding.All(l => l.States is { } s && (s & ConnState.New) == 0) ? "stateful" : "stateless";
    }
}
