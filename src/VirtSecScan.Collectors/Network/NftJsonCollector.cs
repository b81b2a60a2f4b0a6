using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Network;

namespace VirtSecScan.Collectors.Network;

/// <summary>
/// <c>nft -j list ruleset</c> JSON: chains with hook, priority and policy, named sets and verdict maps, rule
/// expressions (match, vmap, verdicts, jump/goto). A rule's line is the line its object starts on and its text names
/// the rule handle, so <c>nft delete rule FAMILY TABLE CHAIN handle N</c> reaches it.
/// </summary>
public sealed class NftJsonCollector : ICollector
{
    public const string Format = "nftables-json";

    public string? Detect(InputFile file)
    {
        var head = file.Text.AsSpan().TrimStart();
        if (!head.StartsWith("{"))
        {
            return null;
        }

        var probe = head[..Math.Min(head.Length, 200)].ToString().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
        return probe.StartsWith("{\"nftables\":[", StringComparison.Ordinal) ? Format : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var notModelled = ImmutableArray.CreateBuilder<NotModelled>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(file.Text, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            return new CollectorResult(format, [], [Diagnostic.Error(file.DisplayPath, (int?)(ex.LineNumber + 1), $"not valid JSON: {ex.Message}")]);
        }

        using (doc)
        {
            if (!doc.RootElement.TryGetProperty("nftables", out var items) || items.ValueKind != JsonValueKind.Array)
            {
                return new CollectorResult(format, [], [Diagnostic.Error(file.DisplayPath, 1, "no \"nftables\" array")]);
            }

            var lineOf = ElementLines(file.Text);
            var chains = new List<NftChainInfo>();
            var rules = new List<NftRule>();
            var sets = new List<(string, string, NftSet)>();
            var index = 0;
            foreach (var item in items.EnumerateArray())
            {
                var line = index < lineOf.Count ? lineOf[index] : 1;
                index++;
                if (item.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var prop in item.EnumerateObject())
                {
                    var o = prop.Value;
                    try
                    {
                        switch (prop.Name)
                        {
                            case "chain":
                                chains.Add(new NftChainInfo(Str(o, "family") ?? "ip", Str(o, "table") ?? "", Str(o, "name") ?? "", Str(o, "type"), Str(o, "hook"),
                                    o.TryGetProperty("prio", out var prio) ? Prio(prio) : 0,
                                    Str(o, "hook") is null ? null : NftBuilder.Verdict(Str(o, "policy") ?? "accept"), line));
                                break;
                            case "set" or "map":
                                sets.Add((Str(o, "family") ?? "ip", Str(o, "table") ?? "", ReadSet(o)));
                                break;
                            case "rule":
                                rules.Add(ReadRule(o, line, file.DisplayPath, diagnostics));
                                break;
                        }
                    }
                    catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
                    {
                        diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{prop.Name} object not understood: {ex.Message}"));
                    }
                }
            }

            var ruleset = NftBuilder.Build(FirewallCommon.DeviceName(file), format, file.DisplayPath, chains, rules, sets, diagnostics, notModelled);
            return new CollectorResult(format, [ruleset], diagnostics.ToImmutable());
        }
    }

    /// <summary>The 1-based line on which each element of the top-level "nftables" array starts.</summary>
    private static List<int> ElementLines(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var lines = new List<int>();
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 2 && reader.TokenType == JsonTokenType.StartObject)
                {
                    var offset = (int)reader.TokenStartIndex;
                    lines.Add(1 + bytes.AsSpan(0, offset).Count((byte)'\n'));
                }
            }
        }
        catch (JsonException)
        {
            // The document parsed above; anything odd here only costs line numbers.
        }

        return lines;
    }

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;

    private static int Prio(JsonElement prio) => prio.ValueKind switch
    {
        JsonValueKind.Number => prio.GetInt32(),
        JsonValueKind.String => NftBuilder.PriorityOf(prio.GetString()!),
        _ => 0,
    };

    private static NftSet ReadSet(JsonElement o)
    {
        var type = o.TryGetProperty("type", out var t) ? t.ValueKind == JsonValueKind.Array ? string.Join(" . ", t.EnumerateArray().Select(x => x.GetString())) : t.GetString() ?? "" : "";
        var items = ImmutableArray.CreateBuilder<string>();
        var verdicts = ImmutableArray.CreateBuilder<(string, FirewallAction, string?)>();
        if (o.TryGetProperty("elem", out var elem) && elem.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in elem.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2)
                {
                    var key = Values(e[0]).FirstOrDefault() ?? "";
                    if (Verdict(e[1]) is { } v)
                    {
                        verdicts.Add((key, v.Action, v.Target));
                    }

                    continue;
                }

                items.AddRange(Values(e));
            }
        }

        return new NftSet(Str(o, "name") ?? "", type, items.ToImmutable(), verdicts.ToImmutable());
    }

    /// <summary>Literal items of a right-hand value: strings, numbers, prefixes, ranges, anonymous sets, set elements.</summary>
    private static IEnumerable<string> Values(JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.String:
                yield return v.GetString()!;
                break;
            case JsonValueKind.Number:
                yield return v.GetRawText();
                break;
            case JsonValueKind.Array:
                foreach (var x in v.EnumerateArray())
                {
                    foreach (var s in Values(x))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonValueKind.Object:
                if (v.TryGetProperty("prefix", out var p))
                {
                    yield return $"{Str(p, "addr")}/{Str(p, "len")}";
                }
                else if (v.TryGetProperty("range", out var r) && r.GetArrayLength() == 2)
                {
                    yield return $"{Values(r[0]).First()}-{Values(r[1]).First()}";
                }
                else if (v.TryGetProperty("set", out var s))
                {
                    foreach (var x in Values(s))
                    {
                        yield return x;
                    }
                }
                else if (v.TryGetProperty("elem", out var e) && e.TryGetProperty("val", out var val))
                {
                    foreach (var x in Values(val))
                    {
                        yield return x;
                    }
                }

                break;
        }
    }

    private static (FirewallAction Action, string? Target)? Verdict(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var p in v.EnumerateObject())
        {
            if (NftBuilder.Verdict(p.Name) is { } a)
            {
                return (a, p.Value.ValueKind == JsonValueKind.Object ? Str(p.Value, "target") : null);
            }
        }

        return null;
    }

    private static string? KeyOf(JsonElement left)
    {
        if (left.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (left.TryGetProperty("payload", out var p))
        {
            return $"{Str(p, "protocol")} {Str(p, "field")}";
        }

        if (left.TryGetProperty("meta", out var m))
        {
            var key = Str(m, "key");
            return key is "iifname" or "oifname" or "iif" or "oif" ? key : $"meta {key}";
        }

        if (left.TryGetProperty("ct", out var c))
        {
            return $"ct {Str(c, "key")}";
        }

        return left.EnumerateObject().FirstOrDefault().Name;
    }

    private static NftRule ReadRule(JsonElement o, int line, string file, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var family = Str(o, "family") ?? "ip";
        var table = Str(o, "table") ?? "";
        var chain = Str(o, "chain") ?? "";
        var matches = ImmutableArray.CreateBuilder<NftMatch>();
        var unmodelled = ImmutableArray.CreateBuilder<string>();
        var text = new StringBuilder();
        FirewallAction action = FirewallAction.Continue;
        string? target = null;
        NftVmap? vmap = null;
        string? nat = null;
        if (o.TryGetProperty("expr", out var exprs) && exprs.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in exprs.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var stmt = e.EnumerateObject().FirstOrDefault();
                switch (stmt.Name)
                {
                    case "match":
                    {
                        var key = KeyOf(stmt.Value.GetProperty("left"));
                        var op = Str(stmt.Value, "op") ?? "==";
                        var right = stmt.Value.GetProperty("right");
                        var value = right.ValueKind == JsonValueKind.String && right.GetString()!.StartsWith('@')
                            ? new NftValue([], right.GetString()![1..])
                            : new NftValue(Values(right).ToImmutableArray(), null);
                        var shown = value.SetRef is null ? (value.Items.Length == 1 ? value.Items[0] : "{ " + string.Join(", ", value.Items) + " }") : "@" + value.SetRef;
                        text.Append($"{key} {(op is "==" or "in" ? "" : op + " ")}{shown} ");
                        if (key is null || op is not ("==" or "!=" or "in"))
                        {
                            unmodelled.Add($"{key} {op} {shown}");
                            break;
                        }

                        matches.Add(new NftMatch(key, op == "!=", value));
                        break;
                    }

                    case "vmap":
                    {
                        var key = KeyOf(stmt.Value.GetProperty("key")) ?? "?";
                        var data = stmt.Value.GetProperty("data");
                        if (data.ValueKind == JsonValueKind.String)
                        {
                            vmap = new NftVmap(key, [], data.GetString()!.TrimStart('@'));
                            text.Append($"{key} vmap {data.GetString()} ");
                        }
                        else
                        {
                            var elements = ImmutableArray.CreateBuilder<(string, FirewallAction, string?)>();
                            foreach (var pair in data.GetProperty("set").EnumerateArray())
                            {
                                if (pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2 && Verdict(pair[1]) is { } v)
                                {
                                    elements.Add((Values(pair[0]).FirstOrDefault() ?? "", v.Action, v.Target));
                                }
                            }

                            vmap = new NftVmap(key, elements.ToImmutable(), null);
                            text.Append($"{key} vmap {{ {string.Join(", ", elements.Select(x => $"{x.Item1} : {x.Item2.ToString().ToLowerInvariant()}{(x.Item3 is null ? "" : " " + x.Item3)}"))} }} ");
                        }

                        break;
                    }

                    case "counter" or "log":
                        text.Append(stmt.Name).Append(' ');
                        break;
                    case "dnat" or "snat" or "masquerade" or "redirect":
                        nat = stmt.Name;
                        text.Append(stmt.Name).Append(' ');
                        break;
                    case "xt":
                        unmodelled.Add($"iptables-nft compatibility expression ({Str(stmt.Value, "type")} {Str(stmt.Value, "name")})");
                        text.Append("xt ").Append(Str(stmt.Value, "name")).Append(' ');
                        break;
                    default:
                        if (NftBuilder.Verdict(stmt.Name) is { } verdict)
                        {
                            action = verdict;
                            target = stmt.Value.ValueKind == JsonValueKind.Object ? Str(stmt.Value, "target") : null;
                            text.Append(stmt.Name).Append(target is null ? "" : " " + target).Append(' ');
                        }
                        else
                        {
                            unmodelled.Add(stmt.Name);
                            text.Append(stmt.Name).Append(' ');
                        }

                        break;
                }
            }
        }

        var handle = Str(o, "handle");
        var ruleText = $"{family} {table} {chain} handle {handle}: {text.ToString().Trim()}";
        if (Str(o, "comment") is { } comment)
        {
            ruleText += $" comment \"{comment}\"";
        }

        return new NftRule(family, table, chain, line, ruleText, matches.ToImmutable(), action, target, vmap, unmodelled.ToImmutable(), nat);
    }

    internal static string Invariant(int n) => n.ToString(CultureInfo.InvariantCulture);
}
