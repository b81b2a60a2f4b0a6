using System.Collections.Immutable;

namespace VirtSecScan.Core.Network;

/// <summary>What a firewall line does when it matches.</summary>
public enum FirewallAction
{
    Accept,
    Drop,
    Reject,

    /// <summary>Runs another chain; comes back here unless that chain decides.</summary>
    Jump,

    /// <summary>Runs another chain and does not come back (nft <c>goto</c>, iptables <c>-g</c>).</summary>
    Goto,

    /// <summary>Leaves the current chain (iptables RETURN, nft return).</summary>
    Return,

    /// <summary>Matches but decides nothing (LOG, counter, MARK ...): evaluation continues.</summary>
    Continue,
}

/// <summary>Connection-tracking states a line matches (null on the line = any state).</summary>
[Flags]
public enum ConnState
{
    None = 0,
    New = 1,
    Established = 2,
    Related = 4,
    Invalid = 8,
    Untracked = 16,
}

/// <summary>An interface match: a name (a trailing <c>+</c> or <c>*</c> is a prefix wildcard), possibly negated.</summary>
public sealed record InterfaceMatch(string Name, bool Negated = false)
{
    public bool Matches(string iface)
    {
        var hit = Name.EndsWith('+') || Name.EndsWith('*')
            ? iface.StartsWith(Name[..^1], StringComparison.Ordinal)
            : string.Equals(Name, iface, StringComparison.Ordinal);
        return hit != Negated;
    }

    public override string ToString() => (Negated ? "!" : "") + Name;
}

/// <summary>
/// One ordered line of a normalised rule set. Address and port sets are already complemented when the
/// source negated them; null means "any". <see cref="Unmodelled"/> says which part of the line's match could
/// not be modelled (an ipset, a mark, a time window ...): such a line is treated as "may match".
/// </summary>
public sealed record FirewallLine
{
    public required string Table { get; init; }
    public required string Chain { get; init; }
    public InterfaceMatch? In { get; init; }
    public InterfaceMatch? Out { get; init; }
    public IntervalSet? Source { get; init; }
    public IntervalSet? Destination { get; init; }

    /// <summary>Lower-case protocol name (<c>tcp</c>, <c>udp</c>, <c>icmp</c>, <c>ipv6-icmp</c>, or a number); null = any.</summary>
    public string? Protocol { get; init; }
    public bool ProtocolNegated { get; init; }
    public IntervalSet? SourcePorts { get; init; }
    public IntervalSet? DestinationPorts { get; init; }

    /// <summary>Connection states matched; null = any state (a stateless line).</summary>
    public ConnState? States { get; init; }
    public required FirewallAction Action { get; init; }

    /// <summary>The chain a Jump or Goto runs.</summary>
    public string? Target { get; init; }
    public required string File { get; init; }
    public required int Line { get; init; }

    /// <summary>The line as written (trimmed), for evidence and remediation.</summary>
    public required string Text { get; init; }
    public string? Unmodelled { get; init; }

    /// <summary>True for the synthetic line that stands for a base chain's default policy.</summary>
    public bool IsPolicy { get; init; }

    public bool IsTerminal => Action is FirewallAction.Accept or FirewallAction.Drop or FirewallAction.Reject;

    public string Where => $"{File}:{Line}";
}

/// <summary>A chain: base chains have a hook (<c>forward</c>, <c>input</c> ...), a priority and a default policy.</summary>
public sealed record FirewallChain(
    string Family,
    string Table,
    string Name,
    string? Hook,
    int Priority,
    FirewallAction? Policy,
    int? PolicyLine,
    ImmutableArray<FirewallLine> Lines)
{
    /// <summary>Families: <c>ip</c> (IPv4), <c>ip6</c>, <c>inet</c> (both).</summary>
    public bool Applies(bool ipv4) => Family switch
    {
        "ip" => ipv4,
        "ip6" => !ipv4,
        _ => true,
    };
}

/// <summary>An interface the rule set itself describes (pfSense, ASA): name, the subnets it faces, ASA security level.</summary>
public sealed record FirewallInterface(string Name, string? Description, ImmutableArray<string> Subnets, int? SecurityLevel = null);

/// <summary>Something in a rule set the model cannot evaluate, with the reason (ipset contents, NAT ...).</summary>
public sealed record NotModelled(string File, int Line, string What, string Reason);

/// <summary>
/// A firewall's rules in one normalised form. The forwarding path is every filtering base chain with hook
/// <c>prerouting</c>, <c>forward</c> or <c>postrouting</c>, in that order and by priority: a packet crosses only if each accepts it.
/// </summary>
public sealed record FirewallRuleset(
    string Device,
    string Format,
    string File,
    ImmutableArray<FirewallChain> Chains,
    ImmutableArray<FirewallInterface> Interfaces,
    ImmutableArray<NotModelled> NotModelled)
{
    public FirewallChain? FindChain(string family, string table, string name) =>
        Chains.FirstOrDefault(c => c.Table == table && c.Name == name && (c.Family == family || c.Family == "inet" || family == "inet"))
        ?? Chains.FirstOrDefault(c => c.Table == table && c.Name == name);

    /// <summary>Hooks a forwarded packet passes, in order: prerouting, forward, postrouting.</summary>
    public static int? ForwardPathOrder(string? hook) => hook switch
    {
        "prerouting" => 0,
        "forward" => 1,
        "postrouting" => 2,
        _ => null,
    };

    /// <summary>The filtering base chains a forwarded packet of the family crosses, in hook then priority order.</summary>
    public IEnumerable<FirewallChain> ForwardChains(bool ipv4) =>
        Chains.Where(c => ForwardPathOrder(c.Hook) is not null && c.Applies(ipv4)).OrderBy(c => ForwardPathOrder(c.Hook)).ThenBy(c => c.Priority);

    public IEnumerable<FirewallLine> AllLines => Chains.SelectMany(c => c.Lines);
}
