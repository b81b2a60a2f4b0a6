using System.Collections.Immutable;
using System.Globalization;
using VirtSecScan.Core;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Engine.Waivers;

/// <summary>What became of one waiver in one scan.</summary>
public enum WaiverState
{
    /// <summary>Valid on the scan date and covering at least one finding.</summary>
    Active,

    /// <summary>Past its expiry date: the findings it covered are raised again.</summary>
    Expired,

    /// <summary>Matched no failing finding: stale, or written for a resource that no longer exists.</summary>
    Unused,
}

public sealed record WaiverOutcome(Waiver Waiver, WaiverState State, int Matched)
{
    public string StateName => State switch
    {
        WaiverState.Active => "active",
        WaiverState.Expired => "expired",
        _ => "unused",
    };
}

/// <summary>
/// Applies waivers to failing findings on a given date. An active waiver turns a failing finding into
/// <see cref="FindingStatus.Waived"/>; an expired one leaves it failing with evidence that the waiver expired.
/// Each waiver's outcome is returned so the report can show expired and unused waivers.
/// </summary>
public static class WaiverApplier
{
    public static (ImmutableArray<Finding> Findings, ImmutableArray<WaiverOutcome> Outcomes, ImmutableArray<Diagnostic> Diagnostics) Apply(
        IEnumerable<Finding> findings, IReadOnlyList<WaiverEntry> waivers, DateOnly date)
    {
        var matched = new int[waivers.Count];
        var result = ImmutableArray.CreateBuilder<Finding>();
        foreach (var finding in findings)
        {
            if (finding.Status != FindingStatus.Fail)
            {
                result.Add(finding);
                continue;
            }

            var current = finding;
            var waived = false;
            for (var i = 0; i < waivers.Count; i++)
            {
                var entry = waivers[i];
                if (!entry.Covers(finding))
                {
                    continue;
                }

                matched[i]++;
                if (!waived && entry.IsActiveOn(date))
                {
                    current = current with { Status = FindingStatus.Waived, Waiver = entry.Waiver };
                    waived = true;
                }
                else if (!entry.IsActiveOn(date))
                {
                    current = current with
                    {
                        Evidence = current.Evidence.Add(new Evidence(
                            "waiver",
                            $"waiver {entry.Waiver.Id} expired on {entry.Waiver.Expires.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}",
                            null,
                            entry.Waiver.Source,
                            entry.Waiver.Line)),
                    };
                }
            }

            if (waived)
            {
                // An active waiver wins over an expired one; drop the expired-waiver evidence from the waived finding.
                current = current with { Evidence = current.Evidence.RemoveAll(e => e.Key == "waiver") };
            }

            result.Add(current);
        }

        var outcomes = ImmutableArray.CreateBuilder<WaiverOutcome>();
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        for (var i = 0; i < waivers.Count; i++)
        {
            var w = waivers[i].Waiver;
            var expires = w.Expires.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            if (matched[i] == 0)
            {
                outcomes.Add(new WaiverOutcome(w, waivers[i].IsActiveOn(date) ? WaiverState.Unused : WaiverState.Expired, 0));
                diagnostics.Add(Diagnostic.Warning(w.Source ?? "", w.Line, waivers[i].IsActiveOn(date)
                    ? $"waiver {w.Id} matched no failing finding; remove it or correct its rule, resource or fingerprint"
                    : $"waiver {w.Id} expired on {expires} and matched no failing finding; remove it"));
            }
            else if (!waivers[i].IsActiveOn(date))
            {
                outcomes.Add(new WaiverOutcome(w, WaiverState.Expired, matched[i]));
                diagnostics.Add(Diagnostic.Warning(w.Source ?? "", w.Line,
                    $"waiver {w.Id} expired on {expires}; its {matched[i]} finding(s) are raised again until it is renewed or the problem is fixed"));
            }
            else
            {
                outcomes.Add(new WaiverOutcome(w, WaiverState.Active, matched[i]));
            }
        }

        return (result.ToImmutable(), outcomes.ToImmutable(), diagnostics.ToImmutable());
    }
}
