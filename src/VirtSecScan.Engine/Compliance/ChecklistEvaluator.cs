using System.Collections.Immutable;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Engine.Compliance;

public enum ControlStatus
{
    Pass,
    Fail,
    Manual,
    NotEvaluated,
    Waived,
}

/// <summary>A manual item and its answer, if any.</summary>
public sealed record ManualAnswer(ManualItem Item, Attestation? Attestation);

/// <summary>One control's verdict with everything behind it.</summary>
public sealed record ControlResult(
    Control Control,
    ControlStatus Status,
    string Reason,
    ImmutableSortedDictionary<string, RuleTally> EvidenceRules,
    ImmutableArray<Finding> Findings,
    ImmutableArray<ManualAnswer> Manual)
{
    public string StatusName => NameOf(Status);

    public static string NameOf(ControlStatus status) => status switch
    {
        ControlStatus.Pass => "PASS",
        ControlStatus.Fail => "FAIL",
        ControlStatus.Manual => "MANUAL",
        ControlStatus.Waived => "WAIVED",
        _ => "NOT-EVALUATED",
    };
}

/// <summary>A framework's checklist for one scan.</summary>
public sealed record Checklist(ComplianceCatalog Catalog, ScanReport Report, ImmutableArray<ControlResult> Controls, ImmutableArray<Attestation> UnknownAttestations)
{
    public int Count(ControlStatus status) => Controls.Count(c => c.Status == status);
}

/// <summary>
/// Gives each control of a catalogue a status from a scan: the rules that give evidence are those whose
/// compliance tags name the control or whose id matches the control's patterns, among the rules that ran.
/// A failing finding makes the control FAIL; a control whose rules could not all be decided is never PASS.
/// </summary>
public static class ChecklistEvaluator
{
    public static Checklist Evaluate(
        ComplianceCatalog catalog,
        ScanReport report,
        IEnumerable<DataRule> rules,
        IReadOnlyList<Attestation> attestations)
    {
        // Compliance tags per rule id, from the rulesets and from findings of C# rules (which carry their tags).
        var tags = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        void AddTags(string ruleId, ImmutableSortedDictionary<string, ImmutableArray<string>> compliance)
        {
            if (compliance.TryGetValue(catalog.Framework, out var ids))
            {
                if (!tags.TryGetValue(ruleId, out var set))
                {
                    tags[ruleId] = set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                }

                set.UnionWith(ids);
            }
        }

        foreach (var rule in rules)
        {
            AddTags(rule.Id, rule.Compliance);
        }

        foreach (var f in report.Findings.Concat(report.NotEvaluated))
        {
            AddTags(f.RuleId, f.Compliance);
        }

        var mine = attestations.Where(a => string.Equals(a.Framework, catalog.Framework, StringComparison.OrdinalIgnoreCase)).ToList();
        var results = ImmutableArray.CreateBuilder<ControlResult>();
        foreach (var control in catalog.Controls)
        {
            var evidence = report.RuleResults
                .Where(r => control.MatchesRule(r.Key) || (tags.TryGetValue(r.Key, out var t) && t.Any(control.MatchesTag)))
                .ToImmutableSortedDictionary(StringComparer.Ordinal);
            var findings = report.Findings.Where(f => evidence.ContainsKey(f.RuleId) && f.Status is FindingStatus.Fail or FindingStatus.Waived or FindingStatus.Error).ToImmutableArray();
            var manual = control.Manual
                .Select(item => new ManualAnswer(item, mine.LastOrDefault(a =>
                    string.Equals(a.Control, control.Id, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Item, item.Id, StringComparison.OrdinalIgnoreCase))))
                .ToImmutableArray();
            var (status, reason) = Decide(evidence, findings, manual);
            results.Add(new ControlResult(control, status, reason, evidence, findings, manual));
        }

        var unknown = mine.Where(a => !catalog.Controls.Any(c =>
            string.Equals(c.Id, a.Control, StringComparison.OrdinalIgnoreCase) && c.Manual.Any(m => string.Equals(m.Id, a.Item, StringComparison.OrdinalIgnoreCase))))
            .ToImmutableArray();
        return new Checklist(catalog, report, results.ToImmutable(), unknown);
    }

    private static (ControlStatus, string) Decide(
        ImmutableSortedDictionary<string, RuleTally> evidence, ImmutableArray<Finding> findings, ImmutableArray<ManualAnswer> manual)
    {
        var failing = findings.Count(f => f.Status == FindingStatus.Fail);
        if (failing > 0)
        {
            return (ControlStatus.Fail, $"{failing} failing finding(s)");
        }

        var deniedItems = manual.Where(m => m.Attestation is { Satisfied: false }).ToList();
        if (deniedItems.Count > 0)
        {
            return (ControlStatus.Fail, $"manual item(s) answered no: {string.Join(", ", deniedItems.Select(m => m.Item.Id))}");
        }

        var undecided = evidence.Where(e => e.Value.Fail == 0 && (e.Value.NotEvaluated > 0 || e.Value.Error > 0)).Select(e => e.Key).ToList();
        if (undecided.Count > 0)
        {
            return (ControlStatus.NotEvaluated, $"could not be decided for every resource: {string.Join(", ", undecided.Take(5))}{(undecided.Count > 5 ? " ..." : "")}");
        }

        var waived = findings.Count(f => f.Status == FindingStatus.Waived);
        if (waived > 0)
        {
            return (ControlStatus.Waived, $"{waived} finding(s) covered by waivers");
        }

        var open = manual.Where(m => m.Attestation is null).ToList();
        if (open.Count > 0)
        {
            return (ControlStatus.Manual, evidence.IsEmpty
                ? $"{open.Count} manual item(s) to answer"
                : $"automated checks pass ({evidence.Count} rule(s)); {open.Count} manual item(s) to answer");
        }

        if (evidence.IsEmpty && manual.IsEmpty)
        {
            return (ControlStatus.NotEvaluated, "no rule of this scan gives evidence for this control");
        }

        return (ControlStatus.Pass, evidence.IsEmpty
            ? "every manual item is attested"
            : $"{evidence.Sum(e => e.Value.Pass)} check(s) passed in {evidence.Count} rule(s)" + (manual.IsEmpty ? "" : "; manual items attested"));
    }
}
