using System.Collections.Immutable;

namespace VirtSecScan.Core.Network;

/// <summary>One packet as the evaluator sees it. Interfaces are null when the site model does not say which interface faces a zone.</summary>
public sealed record Packet(UInt128 Source, UInt128 Destination, string Protocol, int SourcePort, int DestinationPort, string? In, string? Out, ConnState State)
{
    public bool Ipv4 => IntervalSet.IsIpv4(Source);
}

/// <summary>What a rule set does with a packet: accepted or not, the lines that decided (one per base chain), and why it may differ.</summary>
public sealed record Verdict(bool Accepted, ImmutableArray<FirewallLine> Deciding, ImmutableArray<string> Uncertain);

/// <summary>First-match evaluation of a normalised rule set over one packet, following jumps, gotos and returns.</summary>
public static class FirewallEvaluator
{
    private enum Match { No, Yes, Maybe }

    private const int MaxDepth = 32;

    /// <summary>
    /// Runs the packet through every filtering base chain of its family on the forwarding path (prerouting, forward, postrouting). Lines with an unmodelled
    /// match (or an interface the site model does not place) are assumed to match when they accept or jump and not
    /// to match when they drop, so the answer over-approximates what can pass; <see cref="Verdict.Uncertain"/> says so.
    /// </summary>
    public static Verdict Evaluate(FirewallRuleset ruleset, Packet packet)
    {
        var deciding = ImmutableArray.CreateBuilder<FirewallLine>();
        var uncertain = new List<string>();
        var stages = ruleset.ForwardChains(packet.Ipv4).ToList();
        foreach (var chain in stages)
        {
            var (decision, line) = RunChain(ruleset, chain, packet, uncertain, 0);
            if (decision is null)
            {
                // End of a base chain: its policy decides (netfilter's default is accept).
                var accept = chain.Policy != FirewallAction.Drop && chain.Policy != FirewallAction.Reject;
                deciding.Add(PolicyLine(ruleset, chain));
                if (!accept)
                {
                    return new Verdict(false, deciding.ToImmutable(), uncertain.Distinct().ToImmutableArray());
                }

                continue;
            }

            deciding.Add(line!);
            if (decision != FirewallAction.Accept)
            {
                return new Verdict(false, deciding.ToImmutable(), uncertain.Distinct().ToImmutableArray());
            }
        }

        // An accept policy of a stage that only passes packets on (an empty mangle chain) is not worth naming
        // when another stage's line decided.
        var decisive = deciding.Where(l => !(l.IsPolicy && l.Action == FirewallAction.Accept)).ToImmutableArray();
        return new Verdict(true, decisive.IsEmpty ? deciding.ToImmutable() : decisive, uncertain.Distinct().ToImmutableArray());
    }

    /// <summary>A synthetic line standing for a base chain's default policy, pointing at the policy's own line.</summary>
    public static FirewallLine PolicyLine(FirewallRuleset ruleset, FirewallChain chain) => new()
    {
        Table = chain.Table,
        Chain = chain.Name,
        Action = chain.Policy ?? FirewallAction.Accept,
        File = ruleset.File,
        Line = chain.PolicyLine ?? 0,
        Text = $"policy {(chain.Policy ?? FirewallAction.Accept).ToString().ToLowerInvariant()} of {chain.Table}/{chain.Name}",
        IsPolicy = true,
    };

    /// <summary>Runs one chain: a terminal decision with its line, or null when the chain ran out or returned.</summary>
    private static (FirewallAction? Decision, FirewallLine? Line) RunChain(FirewallRuleset ruleset, FirewallChain chain, Packet p, List<string> uncertain, int depth)
    {
        if (depth > MaxDepth)
        {
            uncertain.Add($"jumps nested deeper than {MaxDepth} in {chain.Table}/{chain.Name}");
            return (null, null);
        }

        foreach (var line in chain.Lines)
        {
            var m = Matches(line, p, out var why);
            if (m == Match.No)
            {
                continue;
            }

            if (m == Match.Maybe)
            {
                if (line.Action is FirewallAction.Drop or FirewallAction.Reject or FirewallAction.Return)
                {
                    uncertain.Add($"{line.Where} may also match ({why}); assumed not to");
                    continue;
                }

                uncertain.Add($"{line.Where} may not match ({why}); assumed to");
            }

            switch (line.Action)
            {
                case FirewallAction.Accept or FirewallAction.Drop or FirewallAction.Reject:
                    return (line.Action, line);
                case FirewallAction.Return:
                    return (null, null);
                case FirewallAction.Jump or FirewallAction.Goto:
                {
                    var target = line.Target is null ? null : ruleset.FindChain(chain.Family, chain.Table, line.Target);
                    if (target is null)
                    {
                        uncertain.Add($"{line.Where} jumps to unknown chain {line.Target}");
                        continue;
                    }

                    var (decision, decidingLine) = RunChain(ruleset, target, p, uncertain, depth + 1);
                    if (decision is not null)
                    {
                        return (decision, decidingLine);
                    }

                    if (line.Action == FirewallAction.Goto)
                    {
                        return (null, null);
                    }

                    continue;
                }

                default:
                    continue;
            }
        }

        return (null, null);
    }

    private static Match Matches(FirewallLine line, Packet p, out string? why)
    {
        why = null;
        if (line.Source is { } s && !s.Contains(p.Source))
        {
            return Match.No;
        }

        if (line.Destination is { } d && !d.Contains(p.Destination))
        {
            return Match.No;
        }

        if (line.Protocol is { } proto && (proto == p.Protocol) == line.ProtocolNegated)
        {
            return Match.No;
        }

        if ((line.SourcePorts is not null || line.DestinationPorts is not null) && p.Protocol is not ("tcp" or "udp"))
        {
            return Match.No;
        }

        if (line.SourcePorts is { } sp && !sp.Contains((UInt128)p.SourcePort))
        {
            return Match.No;
        }

        if (line.DestinationPorts is { } dp && !dp.Contains((UInt128)p.DestinationPort))
        {
            return Match.No;
        }

        if (line.States is { } st && (st & p.State) == 0)
        {
            return Match.No;
        }

        var maybe = new List<string>();
        foreach (var (match, iface, dir) in new[] { (line.In, p.In, "in"), (line.Out, p.Out, "out") })
        {
            if (match is null)
            {
                continue;
            }

            if (iface is null)
            {
                maybe.Add($"{dir} interface {match} is not placed in a zone by the site model");
            }
            else if (!match.Matches(iface))
            {
                return Match.No;
            }
        }

        if (line.Unmodelled is { } u)
        {
            maybe.Add(u);
        }

        if (maybe.Count > 0)
        {
            why = string.Join("; ", maybe);
            return Match.Maybe;
        }

        return Match.Yes;
    }

    /// <summary>True when the line matches every packet of the other line's match as far as interfaces, protocol and state go.</summary>
    internal static bool CoversDiscrete(FirewallLine earlier, FirewallLine later)
    {
        if (earlier.Unmodelled is not null)
        {
            return false;
        }

        if (earlier.In is not null && earlier.In != later.In)
        {
            return false;
        }

        if (earlier.Out is not null && earlier.Out != later.Out)
        {
            return false;
        }

        if (earlier.Protocol is not null && (earlier.ProtocolNegated || later.ProtocolNegated || earlier.Protocol != later.Protocol))
        {
            return false;
        }

        if ((earlier.SourcePorts is not null || earlier.DestinationPorts is not null) && later.Protocol is not ("tcp" or "udp"))
        {
            return false;
        }

        if (earlier.States is { } es && (later.States is not { } ls || (ls & ~es) != 0))
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// Lines no packet can reach matching: every packet they match is matched first by earlier terminal lines of the
    /// same chain. Returns each shadowed line with the earlier lines that cover it.
    /// </summary>
    public static IEnumerable<(FirewallLine Line, ImmutableArray<FirewallLine> By)> Shadowed(FirewallRuleset ruleset, int maxAtoms = 20000)
    {
        foreach (var chain in ruleset.Chains)
        {
            var universe = chain.Family switch { "ip" => IntervalSet.AllIpv4, "ip6" => IntervalSet.AllIpv6, _ => IntervalSet.AllAddresses };
            for (var i = 1; i < chain.Lines.Length; i++)
            {
                var line = chain.Lines[i];
                if (line.Action == FirewallAction.Continue)
                {
                    continue;
                }

                var earlier = chain.Lines.Take(i).Where(e => e.IsTerminal && CoversDiscrete(e, line)).ToList();
                if (earlier.Count == 0)
                {
                    continue;
                }

                var src = (line.Source ?? universe).Intersect(universe);
                var dst = (line.Destination ?? universe).Intersect(universe);
                var portsApply = line.Protocol is "tcp" or "udp";
                var sp = portsApply ? line.SourcePorts ?? IntervalSet.AllPorts : IntervalSet.AllPorts;
                var dp = portsApply ? line.DestinationPorts ?? IntervalSet.AllPorts : IntervalSet.AllPorts;
                var srcAtoms = src.Atoms(earlier.Select(e => e.Source ?? universe));
                var dstAtoms = dst.Atoms(earlier.Select(e => e.Destination ?? universe));
                var spAtoms = portsApply ? sp.Atoms(earlier.Select(e => e.SourcePorts ?? IntervalSet.AllPorts)) : [new Interval(0, 0)];
                var dpAtoms = portsApply ? dp.Atoms(earlier.Select(e => e.DestinationPorts ?? IntervalSet.AllPorts)) : [new Interval(0, 0)];
                if ((long)srcAtoms.Count * dstAtoms.Count * spAtoms.Count * dpAtoms.Count > maxAtoms || srcAtoms.Count == 0 || dstAtoms.Count == 0)
                {
                    continue;
                }

                var used = new HashSet<FirewallLine>();
                var all = true;
                foreach (var s in srcAtoms)
                {
                    foreach (var d in dstAtoms)
                    {
                        foreach (var a in spAtoms)
                        {
                            foreach (var b in dpAtoms)
                            {
                                var cover = earlier.FirstOrDefault(e =>
                                    (e.Source?.Contains(s.Low) ?? true) && (e.Destination?.Contains(d.Low) ?? true)
                                    && (e.SourcePorts is null || (portsApply && e.SourcePorts.Contains(a.Low)))
                                    && (e.DestinationPorts is null || (portsApply && e.DestinationPorts.Contains(b.Low))));
                                if (cover is null)
                                {
                                    all = false;
                                    break;
                                }

                                used.Add(cover);
                            }

                            if (!all)
                            {
                                break;
                            }
                        }

                        if (!all)
                        {
                            break;
                        }
                    }

                    if (!all)
                    {
                        break;
                    }
                }

                if (all)
                {
                    yield return (line, used.OrderBy(u => u.Line).ToImmutableArray());
                }
            }
        }
    }
}
