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

    public DataRule Rule { get; } = rule;

    public IEnumerable<object> Evaluate(IConfigFact fact)
    {
        if (Rule.ForEach is null)
        {
            yield return new RuleOutcome(ToFinding(fact, _check.Evaluate(Rule.Check, fact), ""));
            yield break;
        }

        var items = fact.Settings.Keys
            .Select(k => Rule.ForEach.Match(k))
            .Where(m => m.Success)
            .Select(m => m.Groups["item"].Value)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();

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

    private Finding ToFinding(IConfigFact fact, ConditionResult result, string item) => new()
    {
        RuleId = Rule.Id,
        Title = item.Length == 0 ? $"{Rule.Title} on {fact.Resource.Name}" : $"{Rule.Title} on {fact.Resource.Name} ({item})",
        Category = Rule.Category,
        Severity = Rule.SeverityFor(profile),
        Status = result.Verdict switch
        {
            Verdict.Pass => FindingStatus.Pass,
            Verdict.Fail => FindingStatus.Fail,
            _ => FindingStatus.NotEvaluated,
        },
        Resource = fact.Resource,
        Discriminator = item,
        Evidence = WithEvidenceKeys(fact, result.Evidence),
        Remediation = Rule.Remediation with
        {
            Steps = Rule.Remediation.Steps.Select(step => step.Replace("{name}", fact.Resource.Name, StringComparison.Ordinal)
                .Replace("{item}", item, StringComparison.Ordinal)).ToImmutableArray(),
        },
        References = Rule.ReferencesFor(profile),
        Compliance = Rule.Compliance,
        Reason = result.Reason,
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
            if (fact.Get(key) is { } setting && !evidence.Any(e => string.Equals(e.Key, setting.Key, StringComparison.OrdinalIgnoreCase)))
            {
                var shown = fact is ConfigFact { Kind: "traffic-flow" } ? setting.Value : ConditionEvaluator.Shown(setting.Key, setting.Value);
                builder.Add(new Evidence(setting.Key, shown, null, fact.Resource.Source, setting.Line));
            }
        }

        return builder.ToImmutable();
    }
}
