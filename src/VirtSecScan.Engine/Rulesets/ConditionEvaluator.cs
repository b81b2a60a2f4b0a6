using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>The verdict of a condition with the evidence that decided it.</summary>
public sealed record ConditionResult(Verdict Verdict, ImmutableArray<Evidence> Evidence, string? Reason = null);

/// <summary>
/// Evaluates rule conditions on a fact with three-valued logic (pass, fail, not-evaluated). A missing key
/// takes the leaf's <c>default</c>, else the leaf's or the rule's absent policy for the profile, else
/// not-evaluated: a missing value never passes silently.
/// </summary>
public sealed class ConditionEvaluator(string profile, AbsentPolicy? ruleAbsent, bool absentMeansFail = false)
{
    public ConditionResult Evaluate(Condition condition, IConfigFact fact, string? item = null) => condition switch
    {
        LeafCondition leaf => EvaluateLeaf(leaf, fact, item),
        AllCondition all => Combine(all.Items.Select(c => Evaluate(c, fact, item)).ToList(), isAll: true),
        AnyCondition any => Combine(any.Items.Select(c => Evaluate(c, fact, item)).ToList(), isAll: false),
        NotCondition not => Negate(Evaluate(not.Inner, fact, item)),
        _ => throw new InvalidOperationException("unknown condition " + condition.GetType().Name),
    };

    private static ConditionResult Combine(List<ConditionResult> parts, bool isAll)
    {
        var evidence = parts.SelectMany(p => p.Evidence).ToImmutableArray();
        var decisive = isAll ? Verdict.Fail : Verdict.Pass;
        Verdict verdict;
        if (parts.Any(p => p.Verdict == decisive))
        {
            verdict = decisive;
        }
        else if (parts.Any(p => p.Verdict == Verdict.NotEvaluated))
        {
            verdict = Verdict.NotEvaluated;
        }
        else
        {
            verdict = isAll ? Verdict.Pass : Verdict.Fail;
        }

        var reason = verdict == Verdict.NotEvaluated ? string.Join("; ", parts.Where(p => p.Reason is not null).Select(p => p.Reason)) : null;
        return new ConditionResult(verdict, evidence, reason);
    }

    private static ConditionResult Negate(ConditionResult inner) => inner with
    {
        Verdict = inner.Verdict switch
        {
            Verdict.Pass => Verdict.Fail,
            Verdict.Fail => Verdict.Pass,
            _ => Verdict.NotEvaluated,
        },
    };

    private ConditionResult EvaluateLeaf(LeafCondition leaf, IConfigFact fact, string? item)
    {
        var key = item is null ? leaf.Key : leaf.Key.Replace("{item}", item, StringComparison.Ordinal);
        var setting = FactIndex.Of(fact).Get(key);
        var source = setting?.Source ?? fact.Resource.Source;
        var expected = Expected(leaf);

        if (leaf.Op is "present" or "absent")
        {
            var pass = (setting is not null) == (leaf.Op == "present");
            return new ConditionResult(pass ? Verdict.Pass : Verdict.Fail,
                [new Evidence(setting?.Key ?? key, setting is null ? "(absent)" : Shown(setting.Key, setting.Value), expected, source, setting?.Line)]);
        }

        string value;
        string actual;
        int? line = setting?.Line;
        if (setting is not null)
        {
            value = setting.Value;
            actual = Shown(setting.Key, setting.Value);
        }
        else if (leaf.Default is not null)
        {
            value = leaf.Default;
            actual = $"(absent; platform default {Shown(key, leaf.Default)})";
        }
        else
        {
            var verdict = absentMeansFail ? Verdict.Fail : leaf.Absent?.For(profile) ?? ruleAbsent?.For(profile) ?? Verdict.NotEvaluated;
            var reason = verdict == Verdict.NotEvaluated ? $"'{key}' was not collected" : null;
            return new ConditionResult(verdict, [new Evidence(key, "(absent)", expected, source, null)], reason);
        }

        var (ok, problem) = Test(leaf, value);
        var ev = new Evidence(setting?.Key ?? key, problem is null ? actual : $"{actual} ({problem})", expected, source, line);
        return new ConditionResult(ok ? Verdict.Pass : Verdict.Fail, [ev]);
    }

    private static (bool Ok, string? Problem) Test(LeafCondition leaf, string raw)
    {
        var value = raw.Trim();
        switch (leaf.Op)
        {
            case "equals": return (Eq(value, leaf.Values[0]), null);
            case "not-equals": return (!Eq(value, leaf.Values[0]), null);
            case "in": return (leaf.Values.Any(v => Eq(value, v)), null);
            case "not-in": return (!leaf.Values.Any(v => Eq(value, v)), null);
            case "regex":
            case "not-regex":
                try
                {
                    var m = leaf.Pattern!.IsMatch(value);
                    return (leaf.Op == "regex" ? m : !m, null);
                }
                catch (RegexMatchTimeoutException)
                {
                    return (false, "pattern timed out");
                }

            case "lt" or "le" or "gt" or "ge":
                if (!TryNumber(value, out var n))
                {
                    return (false, "not a number");
                }

                TryNumber(leaf.Values[0], out var limit);
                return (Compare(n.CompareTo(limit), leaf.Op), null);
            default:
                var a = ParseVersion(value);
                if (a is null)
                {
                    return (false, "not a version");
                }

                return (Compare(CompareVersions(a, ParseVersion(leaf.Values[0])!), leaf.Op["version-".Length..]), null);
        }
    }

    private static bool Compare(int cmp, string op) => op switch
    {
        "lt" => cmp < 0,
        "le" => cmp <= 0,
        "gt" => cmp > 0,
        _ => cmp >= 0,
    };

    private static bool Eq(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);

    public static bool TryNumber(string text, out double value) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>"8.0.10" → [8, 0, 10]; a leading "vmx-" is ignored so hardware versions compare as numbers.</summary>
    public static int[]? ParseVersion(string text)
    {
        var t = text.Trim();
        if (t.StartsWith("vmx-", StringComparison.OrdinalIgnoreCase))
        {
            t = t[4..];
        }

        var parts = t.Split('.');
        var numbers = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return null;
            }
        }

        return numbers;
    }

    private static int CompareVersions(int[] a, int[] b)
    {
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : 0;
            var y = i < b.Length ? b[i] : 0;
            if (x != y)
            {
                return x.CompareTo(y);
            }
        }

        return 0;
    }

    // The expected-value text depends on the leaf only: built once per leaf, not once per fact.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<LeafCondition, string> ExpectedTexts = new();

    private static string Expected(LeafCondition leaf) => ExpectedTexts.GetValue(leaf, static l => ExpectedText(l));

    private static string ExpectedText(LeafCondition leaf) => leaf.Op switch
    {
        "equals" => leaf.Values[0],
        "not-equals" => "not " + leaf.Values[0],
        "in" => "one of: " + string.Join(", ", leaf.Values.Select(v => v.Length == 0 ? "\"\"" : v)),
        "not-in" => "none of: " + string.Join(", ", leaf.Values.Select(v => v.Length == 0 ? "\"\"" : v)),
        "present" => "present",
        "absent" => "absent",
        "regex" => $"matches /{leaf.Values[0]}/",
        "not-regex" => $"does not match /{leaf.Values[0]}/",
        "lt" => "< " + leaf.Values[0],
        "le" => "<= " + leaf.Values[0],
        "gt" => "> " + leaf.Values[0],
        "ge" => ">= " + leaf.Values[0],
        _ => leaf.Op["version-".Length..] switch
        {
            "lt" => "version < ",
            "le" => "version <= ",
            "gt" => "version > ",
            _ => "version >= ",
        } + leaf.Values[0],
    };

    /// <summary>The value as a report may show it: secrets are replaced by a note that they are set.</summary>
    public static string Shown(string key, string value) =>
        SecretKeys.IsSecret(key) ? (value.Length == 0 ? "(empty)" : "(set; value not shown)") : value;
}
