using System.Collections.Concurrent;
using System.Collections.Immutable;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>
/// Turns one data rule and one fact into outcomes: one per fact, or one per selected item for
/// <c>forEach</c> rules. Called from the action of the NRules rule compiled for the data rule.
/// </summary>
public sealed class DataRuleEvaluator(DataRule rule, string profile)
{
    private readonly ConditionEvaluator _check = new(profile, rule.Absent);
    private readonly ConditionEvaluator _where = new(profile, null, absentMeansFail: true);

    // Per-profile constants of the rule, computed once instead of once per outcome (a scan makes hundreds of thousands).
    private readonly ImmutableArray<Reference> _references = rule.ReferencesFor(profile);
    private readonly Severity _severity = rule.SeverityFor(profile);

    // forEach: the item a key yields (null: no match). Key names repeat across VMs, so each distinct key is matched
    // against the regex once per scan rather than once per VM. Bounded, in case keys are unique per VM. Concurrent:
    // sessions over partitions of the facts fire in parallel (RuleEngine).
    private readonly ConcurrentDictionary<string, string?> _itemOfKey = new(StringComparer.Ordinal);
    private int _cachedKeys;
    private const int MaxCachedKeys = 65536;

    public DataRule Rule { get; } = rule;

    public IEnumerable<object> Evaluate(IConfigFact fact)
    {
        if (Rule.ForEach is null)
        {
            yield return new RuleOutcome(ToFinding(fact, _check.Evaluate(Rule.Check, fact), ""));
            yield break;
        }

        var items = new List<string>();
        foreach (var key in FactIndex.Of(fact).Keys)
        {
            if (ItemOf(key) is { } found)
            {
                items.Add(found);
            }
        }

        if (items.Count > 1)
        {
            items = items.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        }

        var selected = 0;
        foreach (var item in items)
        {
            if (Rule.Where is not null && _where.Evaluate(Rule.Where, fact, item).Verdict != Verdict.Pass)
            {
                continue;
            }

            selected++;
            yield return new RuleOutcome(ToFinding(fact, _check.Evaluate(Rule.Check, fact, item), item.ToLowerInvariant()));
        }

        if (selected == 0)
        {
            var none = new ConditionResult(Verdict.Pass, [new Evidence("devices", "no matching device", null, fact.Resource.Source)]);
            yield return new RuleOutcome(ToFinding(fact, none, ""));
        }
    }

    /// <summary>
    /// Drops evidence that repeats itself: a present/absent test of a key that another leaf shows with its value
    /// (the "first available key" pattern), and identical entries.
    /// </summary>
    private static ImmutableArray<Evidence> Tidy(ImmutableArray<Evidence> evidence)
    {
        if (evidence.Length <= 1)
        {
            return evidence; // nothing can repeat (the common case: one leaf)
        }

        static bool IsPresenceTest(Evidence e) => e.Expected is "present" or "absent";
        return evidence
            .Where(e => !IsPresenceTest(e) || !evidence.Any(o => !IsPresenceTest(o) && string.Equals(o.Key, e.Key, StringComparison.OrdinalIgnoreCase)))
            .Distinct()
            .ToImmutableArray();
    }

    private string? ItemOf(string key)
    {
        if (_itemOfKey.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var m = Rule.ForEach!.Match(key);
        var item = m.Success ? m.Groups["item"].Value : null;
        if (Volatile.Read(ref _cachedKeys) < MaxCachedKeys && _itemOfKey.TryAdd(key, item))
        {
            Interlocked.Increment(ref _cachedKeys);
        }

        return item;
    }

    private Finding ToFinding(IConfigFact fact, ConditionResult result, string item) => new()
    {
        RuleId = Rule.Id,
        Title = item.Length == 0 ? $"{Rule.Title} on {fact.Resource.Name}" : $"{Rule.Title} on {fact.Resource.Name} ({item})",
        Category = Rule.Category,
        Severity = _severity,
        Status = result.Verdict switch
        {
            Verdict.Pass => FindingStatus.Pass,
            Verdict.Fail => FindingStatus.Fail,
            _ => FindingStatus.NotEvaluated,
        },
        Resource = fact.Resource,
        Discriminator = item,
        Evidence = Tidy(WithEvidenceKeys(fact, result.Evidence)),
        // A passing check has nothing to fix: it carries no remediation (passes are counted, never listed).
        Remediation = result.Verdict == Verdict.Pass
            ? null
            : Rule.Remediation with
            {
                Steps = Rule.Remediation.Steps.Select(step => step.Replace("{name}", fact.Resource.Name, StringComparison.Ordinal)
                    .Replace("{item}", item, StringComparison.Ordinal)).ToImmutableArray(),
            },
        References = _references,
        Compliance = Rule.Compliance,
        Reason = result.Verdict == Verdict.NotEvaluated && Rule.Needs is not null
            ? $"{result.Reason ?? "not decided"}; to decide it, collect: {Rule.Needs}"
            : result.Reason,
        Profile = profile,
    };

    /// <summary>
    /// Appends the rule's <c>evidence</c> keys the fact has, after the deciding evidence. Secrets are shown only as set,
    /// except in traffic facts, whose values are descriptions the collector wrote (a <c>credential</c> there says how a
    /// credential was exposed, never the credential).
    /// </summary>
    private ImmutableArray<Evidence> WithEvidenceKeys(IConfigFact fact, ImmutableArray<Evidence> evidence)
    {
        if (Rule.EvidenceKeys.IsDefaultOrEmpty)
        {
            return evidence;
        }

        var builder = evidence.ToBuilder();
        foreach (var key in Rule.EvidenceKeys)
        {
            if (FactIndex.Of(fact).Get(key) is { } setting && !evidence.Any(e => string.Equals(e.Key, setting.Key, StringComparison.OrdinalIgnoreCase)))
            {
                var shown = fact is ConfigFact { Kind: "traffic-flow" } ? setting.Value : ConditionEvaluator.Shown(setting.Key, setting.Value);
                builder.Add(new Evidence(setting.Key, shown, null, fact.Resource.Source, setting.Line));
            }
        }

        return builder.ToImmutable();
    }
}
