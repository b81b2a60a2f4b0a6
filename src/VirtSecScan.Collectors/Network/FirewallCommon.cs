using System.Collections.Immutable;
using System.Text;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core.Network;

namespace VirtSecScan.Collectors.Network;

/// <summary>Helpers shared by the firewall collectors.</summary>
internal static class FirewallCommon
{
    /// <summary>The device a rule set belongs to: a <c># device: NAME</c> comment, else the file name without extensions.</summary>
    public static string DeviceName(InputFile file)
    {
        foreach (var line in file.Lines.Take(20))
        {
            var t = line.Trim();
            if (t.StartsWith("# device:", StringComparison.OrdinalIgnoreCase))
            {
                var name = t[9..].Trim();
                if (name.Length > 0)
                {
                    return name;
                }
            }
        }

        var stem = file.DisplayPath.Replace('\\', '/').Split('/')[^1];
        var dot = stem.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? stem[..dot] : stem;
    }

    /// <summary>Splits a command line into words; double or single quotes group, backslash escapes a quote.</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var sb = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == '\\' && i + 1 < text.Length && text[i + 1] == quote)
                {
                    sb.Append(quote);
                    i++;
                }
                else if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    sb.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(sb.ToString());
                    sb.Clear();
                    inWord = false;
                }
            }
            else
            {
                sb.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(sb.ToString());
        }

        return words;
    }

    /// <summary>A union of address texts; null when any of them is not an address.</summary>
    public static IntervalSet? Addresses(IEnumerable<string> texts)
    {
        var set = IntervalSet.Empty;
        foreach (var t in texts)
        {
            if (IntervalSet.ParseAddress(t) is not { } one)
            {
                return null;
            }

            set = set.Union(one);
        }

        return set;
    }

    public static IntervalSet Complement(IntervalSet set, bool ipv4) =>
        (ipv4 ? IntervalSet.AllIpv4 : IntervalSet.AllIpv6).Subtract(set);

    public static readonly ImmutableDictionary<string, string> ProtocolNumbers = new Dictionary<string, string>
    {
        ["1"] = "icmp",
        ["6"] = "tcp",
        ["17"] = "udp",
        ["58"] = "ipv6-icmp",
        ["icmpv6"] = "ipv6-icmp",
        ["ipv6-icmp"] = "ipv6-icmp",
        ["icmp"] = "icmp",
        ["tcp"] = "tcp",
        ["udp"] = "udp",
        ["all"] = "all",
    }.ToImmutableDictionary();

    public static string NormaliseProtocol(string p) =>
        ProtocolNumbers.TryGetValue(p.ToLowerInvariant(), out var n) ? n : p.ToLowerInvariant();

    public static ConnState? States(IEnumerable<string> names, out string? unknown)
    {
        unknown = null;
        var s = ConnState.None;
        foreach (var n in names)
        {
            switch (n.Trim().ToLowerInvariant())
            {
                case "new": s |= ConnState.New; break;
                case "established": s |= ConnState.Established; break;
                case "related": s |= ConnState.Related; break;
                case "invalid": s |= ConnState.Invalid; break;
                case "untracked": s |= ConnState.Untracked; break;
                case "dnat" or "snat": unknown = n; break;
                case "": break;
                default: unknown = n; break;
            }
        }

        return s;
    }

    public const ConnState AllStates = ConnState.New | ConnState.Established | ConnState.Related | ConnState.Invalid | ConnState.Untracked;
}
