using System.Collections.Immutable;
using System.Globalization;
using VirtSecScan.Core;
using VirtSecScan.Core.Network;

namespace VirtSecScan.Collectors.Network;

/// <summary>A value on the right of an nftables match: literal items (addresses, ranges, names) or a named set.</summary>
internal sealed record NftValue(ImmutableArray<string> Items, string? SetRef);

/// <summary>One nftables match: key (<c>ip saddr</c>, <c>tcp dport</c>, <c>iifname</c>, <c>ct state</c> ...), negation, value.</summary>
internal sealed record NftMatch(string Key, bool Negated, NftValue Value);

/// <summary>A verdict map: the key it looks up and its elements (or a named map).</summary>
internal sealed record NftVmap(string Key, ImmutableArray<(string Key, FirewallAction Action, string? Target)> Elements, string? MapRef);

/// <summary>One nftables rule in the shape both the text and the JSON reader produce.</summary>
internal sealed record NftRule(
    string Family, string Table, string Chain, int Line, string Text,
    ImmutableArray<NftMatch> Matches, FirewallAction Action, string? Target, NftVmap? Vmap,
    ImmutableArray<string> Unmodelled, string? Nat);

internal sealed record NftSet(string Name, string Type, ImmutableArray<string> Items, ImmutableArray<(string Key, FirewallAction Action, string? Target)> Verdicts);

internal sealed record NftChainInfo(string Family, string Table, string Name, string? Type, string? Hook, int Priority, FirewallAction? Policy, int Line);

/// <summary>Turns parsed nftables tables (text or JSON) into the normalised model.</summary>
internal static class NftBuilder
{
    public static int PriorityOf(string text) => text.Trim() switch
    {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" => -100,
        "filter" => 0,
        "security" => 50,
        "srcnat" => 100,
        var t when int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
        var t when t.Contains('+') || t.Contains('-') => PriorityOf(t.Split(['+', '-'])[0]) + (t.Contains('+') ? 1 : -1) * (int.TryParse(t.Split(['+', '-'])[^1].Trim(), out var d) ? d : 0),
        _ => 0,
    };

    public static FirewallAction? Verdict(string word) => word switch
    {
        "accept" => FirewallAction.Accept,
        "drop" => FirewallAction.Drop,
        "reject" => FirewallAction.Reject,
        "return" => FirewallAction.Return,
        "continue" => FirewallAction.Continue,
        "jump" => FirewallAction.Jump,
        "goto" => FirewallAction.Goto,
        _ => null,
    };

    public static FirewallRuleset Build(
        string device, string format, string file,
        IReadOnlyList<NftChainInfo> chains, IReadOnlyList<NftRule> rules, IReadOnlyList<(string Family, string Table, NftSet Set)> sets,
        ImmutableArray<Diagnostic>.Builder diagnostics, ImmutableArray<NotModelled>.Builder notModelled)
    {
        var result = ImmutableArray.CreateBuilder<FirewallChain>();
        foreach (var chain in chains)
        {
            var lines = ImmutableArray.CreateBuilder<FirewallLine>();
            foreach (var rule in rules.Where(r => r.Family == chain.Family && r.Table == chain.Table && r.Chain == chain.Name))
            {
                if (rule.Nat is { } nat)
                {
                    notModelled.Add(new NotModelled(file, rule.Line, nat, $"{nat} in {chain.Family} {chain.Table} {chain.Name}: address translation is not modelled; reachability uses the addresses the filter rules name"));
                }

                foreach (var line in Lines(rule, chain, sets, file, diagnostics))
                {
                    lines.Add(line);
                }
            }

            // Only filter-type base chains decide what crosses; nat/route chains do not drop by policy here.
            var hook = chain.Type is null or "filter" ? chain.Hook : chain.Hook is null ? null : chain.Type + "-" + chain.Hook;
            result.Add(new FirewallChain(chain.Family, chain.Table, chain.Name, hook, chain.Priority, chain.Policy, chain.Policy is null ? null : chain.Line, lines.ToImmutable()));
        }

        return new FirewallRuleset(device, format, file, result.ToImmutable(), [], notModelled.ToImmutable());
    }

    private static IEnumerable<FirewallLine> Lines(NftRule rule, NftChainInfo chain, IReadOnlyList<(string Family, string Table, NftSet Set)> sets, string file, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        NftSet? FindSet(string name) => sets.FirstOrDefault(s => s.Family == rule.Family && s.Table == rule.Table && s.Set.Name == name).Set;

        ImmutableArray<string> Items(NftValue v, List<string> unmodelled)
        {
            if (v.SetRef is null)
            {
                return v.Items;
            }

            var set = FindSet(v.SetRef);
            if (set is null)
            {
                unmodelled.Add($"@{v.SetRef} (set not in this rule set)");
                return [];
            }

            if (set.Items.IsEmpty && set.Type.Contains("addr", StringComparison.Ordinal))
            {
                unmodelled.Add($"@{v.SetRef} (empty or dynamic set: contents filled at run time)");
            }

            return set.Items;
        }

        var unmodelled = new List<string>(rule.Unmodelled);
        IntervalSet? src = null, dst = null, sport = null, dport = null;
        var inIfs = new List<InterfaceMatch?> { null };
        var outIfs = new List<InterfaceMatch?> { null };
        var protos = new List<(string? Proto, bool Neg)> { (null, false) };
        ConnState? states = null;

        foreach (var m in rule.Matches)
        {
            var items = Items(m.Value, unmodelled);
            var key = m.Key;
            var addressKey = key is "ip saddr" or "ip daddr" or "ip6 saddr" or "ip6 daddr";
            if (addressKey)
            {
                var set = FirewallCommon.Addresses(items);
                if (set is null)
                {
                    unmodelled.Add($"{key} {string.Join(",", items)}");
                    continue;
                }

                var v4 = key.StartsWith("ip ", StringComparison.Ordinal);
                set = set.Intersect(v4 ? IntervalSet.AllIpv4 : IntervalSet.AllIpv6);
                if (m.Negated)
                {
                    set = FirewallCommon.Complement(set, v4);
                }

                if (key.EndsWith("saddr", StringComparison.Ordinal))
                {
                    src = src is null ? set : src.Intersect(set);
                }
                else
                {
                    dst = dst is null ? set : dst.Intersect(set);
                }

                continue;
            }

            switch (key)
            {
                case "tcp dport" or "udp dport" or "th dport" or "tcp sport" or "udp sport" or "th sport":
                {
                    var ports = IntervalSet.ParsePorts(string.Join(",", items));
                    if (ports is null)
                    {
                        unmodelled.Add($"{key} {string.Join(",", items)}");
                        break;
                    }

                    if (m.Negated)
                    {
                        ports = IntervalSet.AllPorts.Subtract(ports);
                    }

                    if (key.EndsWith("dport", StringComparison.Ordinal))
                    {
                        dport = ports;
                    }
                    else
                    {
                        sport = ports;
                    }

                    if (!key.StartsWith("th", StringComparison.Ordinal))
                    {
                        protos = [(key[..3], false)];
                    }

                    break;
                }

                case "meta l4proto" or "ip protocol" or "ip6 nexthdr":
                    protos = items.Count() == 1 || !m.Negated
                        ? items.Select(i => ((string?)FirewallCommon.NormaliseProtocol(i), m.Negated)).ToList()
                        : [(null, false)];
                    if (m.Negated && items.Length > 1)
                    {
                        unmodelled.Add($"{key} != {{{string.Join(",", items)}}}");
                    }

                    break;
                case "meta nfproto":
                    foreach (var i in items)
                    {
                        var fam = i == "ipv4" ? IntervalSet.AllIpv4 : IntervalSet.AllIpv6;
                        src = src is null ? fam : src.Intersect(fam);
                    }

                    break;
                case "iifname" or "iif" or "oifname" or "oif":
                {
                    var list = items.Select(i => (InterfaceMatch?)new InterfaceMatch(i, m.Negated)).ToList();
                    if (m.Negated && list.Count > 1)
                    {
                        unmodelled.Add($"{key} != {{{string.Join(",", items)}}}");
                        break;
                    }

                    if (key.StartsWith('i'))
                    {
                        inIfs = list;
                    }
                    else
                    {
                        outIfs = list;
                    }

                    break;
                }

                case "ct state":
                {
                    var s = FirewallCommon.States(items, out var unknown);
                    if (unknown is not null)
                    {
                        unmodelled.Add($"ct state {unknown}");
                    }

                    states = m.Negated ? FirewallCommon.AllStates & ~s : s;
                    break;
                }

                case "icmp type" or "icmpv6 type" or "icmp code" or "tcp flags":
                    if (key.StartsWith("icmpv6", StringComparison.Ordinal))
                    {
                        protos = [("ipv6-icmp", false)];
                    }
                    else if (key.StartsWith("icmp", StringComparison.Ordinal))
                    {
                        protos = [("icmp", false)];
                    }

                    break;
                default:
                    unmodelled.Add($"{key}{(m.Negated ? " !=" : "")} {string.Join(",", items)}".Trim());
                    break;
            }
        }

        var verdicts = new List<(InterfaceMatch? In, InterfaceMatch? Out, IntervalSet? Src, IntervalSet? Dst, IntervalSet? DPort, string? Proto, FirewallAction Action, string? Target)>();
        if (rule.Vmap is { } vmap)
        {
            var elements = vmap.MapRef is null ? vmap.Elements : FindSet(vmap.MapRef)?.Verdicts ?? [];
            if (vmap.MapRef is not null && FindSet(vmap.MapRef) is null)
            {
                diagnostics.Add(Diagnostic.Warning(file, rule.Line, $"verdict map @{vmap.MapRef} is not in this rule set"));
            }

            foreach (var (k, action, target) in elements)
            {
                switch (vmap.Key)
                {
                    case "iifname" or "iif":
                        verdicts.Add((new InterfaceMatch(k), null, null, null, null, null, action, target));
                        break;
                    case "oifname" or "oif":
                        verdicts.Add((null, new InterfaceMatch(k), null, null, null, null, action, target));
                        break;
                    case "ip saddr" or "ip6 saddr":
                        verdicts.Add((null, null, IntervalSet.ParseAddress(k), null, null, null, action, target));
                        break;
                    case "ip daddr" or "ip6 daddr":
                        verdicts.Add((null, null, null, IntervalSet.ParseAddress(k), null, null, action, target));
                        break;
                    case "tcp dport" or "udp dport":
                        verdicts.Add((null, null, null, null, IntervalSet.ParsePorts(k), vmap.Key[..3], action, target));
                        break;
                    case "meta l4proto" or "ip protocol":
                        verdicts.Add((null, null, null, null, null, FirewallCommon.NormaliseProtocol(k), action, target));
                        break;
                    default:
                        diagnostics.Add(Diagnostic.Info(file, rule.Line, $"verdict map keyed by {vmap.Key} is not modelled; the rule is skipped"));
                        break;
                }
            }
        }
        else
        {
            verdicts.Add((null, null, null, null, null, null, rule.Action, rule.Target));
        }

        foreach (var v in verdicts)
        {
            foreach (var i in v.In is null ? inIfs : [v.In])
            {
                foreach (var o in v.Out is null ? outIfs : [v.Out])
                {
                    foreach (var (p, neg) in v.Proto is null ? protos : [(v.Proto, false)])
                    {
                        yield return new FirewallLine
                        {
                            Table = chain.Table,
                            Chain = chain.Name,
                            In = i,
                            Out = o,
                            Source = v.Src is null ? src : src?.Intersect(v.Src) ?? v.Src,
                            Destination = v.Dst is null ? dst : dst?.Intersect(v.Dst) ?? v.Dst,
                            Protocol = p,
                            ProtocolNegated = neg,
                            SourcePorts = sport,
                            DestinationPorts = v.DPort ?? dport,
                            States = states,
                            Action = v.Action,
                            Target = v.Target,
                            File = file,
                            Line = rule.Line,
                            Text = rule.Text,
                            Unmodelled = unmodelled.Count == 0 ? null : string.Join("; ", unmodelled.Distinct()),
                        };
                    }
                }
            }
        }
    }
}
