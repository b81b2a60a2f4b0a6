using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Network;

namespace VirtSecScan.Collectors.Network;

/// <summary>
/// <c>nft list ruleset</c> text: tables, base chains (type, hook, priority, policy), named sets and verdict maps,
/// anonymous sets, jump/goto/return and verdicts. NAT statements, rate limits, marks and other matches are listed
/// as not modelled (the line "may match").
/// </summary>
public sealed partial class NftTextCollector : ICollector
{
    public const string Format = "nftables";

    [GeneratedRegex(@"^table\s+(?:(?<family>ip|ip6|inet|arp|bridge|netdev)\s+)?(?<name>\S+)\s*\{\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex TableLine();

    [GeneratedRegex(@"^(?<kind>chain|set|map|flowtable|counter|quota|limit|ct\s+helper|ct\s+timeout|ct\s+expectation|secmark|synproxy)\s+(?<name>\S+)\s*\{\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex BlockLine();

    [GeneratedRegex(@"type\s+(?<type>\w+)\s+hook\s+(?<hook>\w+)(?:\s+device\s+\S+)?\s+priority\s+(?<prio>[^;]+);(?:\s*policy\s+(?<policy>\w+)\s*;)?", RegexOptions.CultureInvariant)]
    private static partial Regex BaseChain();

    [GeneratedRegex(@"\s+#\s*handle\s+\d+\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex HandleSuffix();

    public string? Detect(InputFile file)
    {
        foreach (var raw in file.Lines.Take(200))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("flush ruleset", StringComparison.Ordinal))
            {
                continue;
            }

            return TableLine().IsMatch(line) ? Format : null;
        }

        return null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var notModelled = ImmutableArray.CreateBuilder<NotModelled>();
        var chains = new List<NftChainInfo>();
        var rules = new List<NftRule>();
        var sets = new List<(string, string, NftSet)>();
        string? family = null, table = null;
        var lines = file.Lines;
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0 || text.StartsWith('#') || text == "flush ruleset")
            {
                continue;
            }

            if (table is null)
            {
                var t = TableLine().Match(text);
                if (t.Success)
                {
                    family = t.Groups["family"].Success ? t.Groups["family"].Value : "ip";
                    table = t.Groups["name"].Value;
                }
                else
                {
                    diagnostics.Add(Diagnostic.Warning(file.DisplayPath, i + 1, "expected 'table FAMILY NAME {'; line ignored"));
                }

                continue;
            }

            if (text == "}")
            {
                table = null;
                continue;
            }

            var b = BlockLine().Match(text);
            if (!b.Success)
            {
                if (!text.StartsWith("flags", StringComparison.Ordinal) && !text.StartsWith("comment", StringComparison.Ordinal))
                {
                    diagnostics.Add(Diagnostic.Warning(file.DisplayPath, i + 1, "unexpected line in a table; ignored"));
                }

                continue;
            }

            var kind = b.Groups["kind"].Value;
            var name = b.Groups["name"].Value;
            var start = i;
            var body = new List<(int Line, string Text)>();
            var depth = 1;
            while (++i < lines.Length)
            {
                var l = lines[i].Trim();
                depth += l.Count(c => c == '{') - l.Count(c => c == '}');
                if (depth <= 0)
                {
                    break;
                }

                body.Add((i + 1, l));
            }

            if (depth > 0)
            {
                diagnostics.Add(Diagnostic.Error(file.DisplayPath, start + 1, $"{kind} {name} is not closed (file truncated?)"));
            }

            switch (kind)
            {
                case "chain":
                    ReadChain(file.DisplayPath, family!, table, name, start + 1, body, chains, rules, diagnostics);
                    break;
                case "set" or "map":
                    sets.Add((family!, table, ReadSet(name, body)));
                    break;
                default:
                    diagnostics.Add(Diagnostic.Info(file.DisplayPath, start + 1, $"{kind} {name} is not used by the model"));
                    break;
            }
        }

        var ruleset = NftBuilder.Build(FirewallCommon.DeviceName(file), format, file.DisplayPath, chains, rules, sets, diagnostics, notModelled);
        return new CollectorResult(format, [ruleset], diagnostics.ToImmutable());
    }

    private void ReadChain(string file, string family, string table, string name, int line, List<(int Line, string Text)> body,
        List<NftChainInfo> chains, List<NftRule> rules, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        string? type = null, hook = null;
        var priority = 0;
        FirewallAction? policy = null;
        var policyLine = line;
        for (var k = 0; k < body.Count; k++)
        {
            var (n, text) = body[k];
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }

            var bc = BaseChain().Match(text);
            if (bc.Success && text.StartsWith("type", StringComparison.Ordinal))
            {
                type = bc.Groups["type"].Value;
                hook = bc.Groups["hook"].Value;
                priority = NftBuilder.PriorityOf(bc.Groups["prio"].Value);
                policy = bc.Groups["policy"].Success ? NftBuilder.Verdict(bc.Groups["policy"].Value) : FirewallAction.Accept;
                policyLine = n;
                continue;
            }

            if (text.StartsWith("policy ", StringComparison.Ordinal) || text.StartsWith("comment ", StringComparison.Ordinal))
            {
                continue;
            }

            // A rule whose anonymous set spans lines continues until its braces balance.
            var full = new StringBuilder(text);
            var depth = text.Count(c => c == '{') - text.Count(c => c == '}');
            while (depth > 0 && k + 1 < body.Count)
            {
                var next = body[++k].Text;
                full.Append(' ').Append(next);
                depth += next.Count(c => c == '{') - next.Count(c => c == '}');
            }

            var ruleText = HandleSuffix().Replace(full.ToString(), "");
            rules.Add(ParseRule(family, table, name, n, ruleText, file, diagnostics));
        }

        chains.Add(new NftChainInfo(family, table, name, type, hook, priority, policy, policyLine));
    }

    private static NftSet ReadSet(string name, List<(int Line, string Text)> body)
    {
        var joined = string.Join(" ", body.Select(b => b.Text));
        var type = Regex.Match(joined, @"type\s+([^;]+?)(?:\s+flags|\s+elements|\s+size|\s+policy|\s+auto-merge|\s+counter|\s+timeout|;|$)").Groups[1].Value.Trim();
        var items = ImmutableArray.CreateBuilder<string>();
        var verdicts = ImmutableArray.CreateBuilder<(string, FirewallAction, string?)>();
        var open = joined.IndexOf("elements = {", StringComparison.Ordinal);
        if (open >= 0)
        {
            var close = joined.IndexOf('}', open);
            var inner = joined[(open + 12)..(close < 0 ? joined.Length : close)];
            foreach (var element in inner.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var colon = element.IndexOf(" : ", StringComparison.Ordinal);
                if (colon > 0)
                {
                    var words = FirewallCommon.Words(element[(colon + 3)..]);
                    if (words.Count > 0 && NftBuilder.Verdict(words[0]) is { } v)
                    {
                        verdicts.Add((Unquote(element[..colon].Trim()), v, words.Count > 1 ? words[1] : null));
                    }

                    continue;
                }

                items.Add(Unquote(element.Split(' ')[0]));
            }
        }

        return new NftSet(name, type, items.ToImmutable(), verdicts.ToImmutable());
    }

    private static string Unquote(string s) => s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1] : s;

    private static readonly HashSet<string> TwoWordKeys =
    [
        "ip saddr", "ip daddr", "ip protocol", "ip6 saddr", "ip6 daddr", "ip6 nexthdr", "tcp dport", "tcp sport", "udp dport", "udp sport",
        "th dport", "th sport", "tcp flags", "icmp type", "icmp code", "icmpv6 type", "ct state", "ct status", "ct mark", "ct direction",
        "meta l4proto", "meta nfproto", "meta iifname", "meta oifname", "meta iif", "meta oif", "meta mark", "meta skuid", "meta pkttype",
        "ip dscp", "ip ttl", "ip length", "ether saddr", "ether type", "fib daddr", "fib saddr", "meta protocol", "vlan id",
    ];

    /// <summary>Tokens of a rule: words, quoted strings (unquoted), and <c>{</c>, <c>}</c>, <c>,</c> on their own.</summary>
    private static List<string> Tokens(string text)
    {
        var tokens = new List<string>();
        var sb = new StringBuilder();
        var quoted = false;
        var depth = 0;
        void Flush()
        {
            if (sb.Length > 0)
            {
                tokens.Add(sb.ToString());
                sb.Clear();
            }
        }

        foreach (var c in text)
        {
            if (quoted)
            {
                if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    sb.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                Flush();
            }
            else if (c is '{' or '}' || (c == ',' && depth > 0))
            {
                Flush();
                tokens.Add(c.ToString());
                depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            }
            else
            {
                sb.Append(c);
            }
        }

        Flush();
        return tokens;
    }

    internal static NftRule ParseRule(string family, string table, string chain, int line, string text, string file, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var t = Tokens(text);
        var matches = ImmutableArray.CreateBuilder<NftMatch>();
        var unmodelled = ImmutableArray.CreateBuilder<string>();
        FirewallAction action = FirewallAction.Continue;
        string? target = null;
        NftVmap? vmap = null;
        string? nat = null;
        var i = 0;

        List<string> Group()
        {
            var items = new List<string>();
            i++; // past {
            while (i < t.Count && t[i] != "}")
            {
                if (t[i] != ",")
                {
                    items.Add(t[i]);
                }

                i++;
            }

            i++; // past }
            return items;
        }

        while (i < t.Count)
        {
            var w = t[i];
            string? key = null;
            if (i + 1 < t.Count && TwoWordKeys.Contains(w + " " + t[i + 1]))
            {
                key = w + " " + t[i + 1];
                i += 2;
                if (key.StartsWith("meta i", StringComparison.Ordinal) || key.StartsWith("meta o", StringComparison.Ordinal))
                {
                    key = key[5..];
                }
            }
            else if (w is "iifname" or "oifname" or "iif" or "oif")
            {
                key = w;
                i++;
            }

            if (key is not null)
            {
                if (i < t.Count && t[i] == "set")
                {
                    unmodelled.Add($"{key} set {(i + 1 < t.Count ? t[i + 1] : "")}");
                    i += 2;
                    continue;
                }

                var negated = false;
                if (i < t.Count && t[i] is "!=" or "ne")
                {
                    negated = true;
                    i++;
                }
                else if (i < t.Count && t[i] is "==" or "eq")
                {
                    i++;
                }
                else if (i < t.Count && t[i] is "<" or ">" or "<=" or ">=" or "lt" or "gt" or "le" or "ge")
                {
                    unmodelled.Add($"{key} {t[i]} {(i + 1 < t.Count ? t[i + 1] : "")}");
                    i += 2;
                    continue;
                }

                if (i >= t.Count)
                {
                    diagnostics.Add(Diagnostic.Warning(file, line, $"'{key}' without a value"));
                    break;
                }

                if (t[i] == "vmap")
                {
                    i++;
                    if (i < t.Count && t[i].StartsWith('@'))
                    {
                        vmap = new NftVmap(key, [], t[i][1..]);
                        i++;
                    }
                    else if (i < t.Count && t[i] == "{")
                    {
                        var elements = ImmutableArray.CreateBuilder<(string, FirewallAction, string?)>();
                        var items = Group();
                        var k = 0;
                        while (k < items.Count)
                        {
                            // items: key ":" verdict [target]
                            if (k + 2 < items.Count && items[k + 1] == ":" && NftBuilder.Verdict(items[k + 2]) is { } v)
                            {
                                var hasTarget = v is FirewallAction.Jump or FirewallAction.Goto;
                                elements.Add((items[k], v, hasTarget && k + 3 < items.Count ? items[k + 3] : null));
                                k += hasTarget ? 4 : 3;
                            }
                            else
                            {
                                unmodelled.Add($"vmap element {items[k]}");
                                k++;
                            }
                        }

                        vmap = new NftVmap(key, elements.ToImmutable(), null);
                    }

                    continue;
                }

                NftValue value;
                if (t[i] == "{")
                {
                    value = new NftValue(Group().ToImmutableArray(), null);
                }
                else if (t[i].StartsWith('@'))
                {
                    value = new NftValue([], t[i][1..]);
                    i++;
                }
                else
                {
                    value = new NftValue(key == "ct state" ? t[i].Split(',').ToImmutableArray() : [t[i]], null);
                    i++;
                }

                matches.Add(new NftMatch(key, negated, value));
                continue;
            }

            switch (w)
            {
                case "counter":
                    i++;
                    if (i < t.Count && t[i] == "packets")
                    {
                        i += 4;
                    }

                    break;
                case "log":
                    i++;
                    while (i < t.Count && t[i] is "prefix" or "level" or "flags" or "group" or "snaplen" or "queue-threshold")
                    {
                        i += 2;
                    }

                    break;
                case "comment":
                    i += 2;
                    break;
                case "limit":
                    var startLimit = i;
                    i++;
                    while (i < t.Count && NftBuilder.Verdict(t[i]) is null && t[i] is not ("counter" or "log" or "comment"))
                    {
                        i++;
                    }

                    unmodelled.Add(string.Join(' ', t.Skip(startLimit).Take(i - startLimit)));
                    break;
                case "reject":
                    action = FirewallAction.Reject;
                    i++;
                    if (i < t.Count && t[i] == "with")
                    {
                        i = t.Count;
                    }

                    break;
                case "dnat" or "snat" or "masquerade" or "redirect":
                    nat = w;
                    i = t.Count;
                    break;
                case "notrack":
                    i++;
                    break;
                default:
                    if (NftBuilder.Verdict(w) is { } verdict)
                    {
                        action = verdict;
                        i++;
                        if (verdict is FirewallAction.Jump or FirewallAction.Goto && i < t.Count)
                        {
                            target = t[i++];
                        }
                    }
                    else
                    {
                        unmodelled.Add(w);
                        i++;
                    }

                    break;
            }
        }

        return new NftRule(family, table, chain, line, text, matches.ToImmutable(), action, target, vmap, unmodelled.ToImmutable(), nat);
    }
}
