using System.Collections.Immutable;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Site;

namespace VirtSecScan.Core.Scoring;

/// <summary>
/// The explainable score of the threat model: severity × exploitation × exposure × asset criticality ×
/// confidence. Every factor that moved the score is listed with its reason.
/// </summary>
public static class RiskScorer
{
    public static double BaseScore(Severity severity) => severity switch
    {
        Severity.Critical => 50,
        Severity.High => 40,
        Severity.Medium => 25,
        Severity.Low => 12,
        _ => 4,
    };

    /// <summary>A fix older than this counts fully in the fix-age factor.</summary>
    public const int MaxFixAgeDays = 365;
    public const double MaxFixAgeFactor = 1.25;
    public const double MaxEpssFactor = 1.1;

    /// <summary>The highest score a finding of <paramref name="severity"/> can reach without known exploitation.</summary>
    public static double NonKevCeiling(Severity severity) => BaseScore(severity) * 1.3 * 1.5 * MaxFixAgeFactor * MaxEpssFactor;

    public static Finding Score(Finding finding, SiteContext site)
    {
        var factors = ImmutableArray.CreateBuilder<ScoreFactor>();
        var baseScore = BaseScore(finding.Severity);
        factors.Add(new ScoreFactor("severity", baseScore, $"{finding.Severity.ToName()} severity"));
        var score = baseScore;

        if (finding.Exploitation is { KnownExploited: true } exploitation)
        {
            var value = exploitation.RansomwareUse ? 1.8 : 1.5;
            var why = exploitation.RansomwareUse
                ? $"in CISA KEV with known ransomware use ({string.Join(", ", exploitation.KevCves)})"
                : $"in CISA KEV ({string.Join(", ", exploitation.KevCves)})";
            factors.Add(new ScoreFactor("exploitation", value, why));
            score *= value;
        }

        if (site.Zone is { IsExposureZone: true } zone)
        {
            factors.Add(new ScoreFactor("exposure", 1.3, $"in zone {zone.Id} ({zone.Kind}), reachable from partners or the internet"));
            score *= 1.3;
        }

        var (criticality, why2) = site.Criticality switch
        {
            Criticality.High when site.Phi => (1.5, $"{Describe(site)} holds patient data (high criticality)"),
            Criticality.High => (1.4, $"{Describe(site)} is a high-criticality system"),
            Criticality.Low => (0.8, $"{Describe(site)} is a low-criticality system"),
            _ when site.Phi => (1.2, $"{Describe(site)} holds patient data"),
            _ => (1.0, site.ZoneId == "unknown" ? "not named in the site model (medium criticality assumed)" : $"{Describe(site)} is of medium criticality"),
        };
        factors.Add(new ScoreFactor("assetCriticality", criticality, why2));
        score *= criticality;

        if (finding.DaysSinceFix is > 0 and var days)
        {
            var value = Math.Round(1 + (Math.Min(days, MaxFixAgeDays) / (double)MaxFixAgeDays * (MaxFixAgeFactor - 1)), 3);
            factors.Add(new ScoreFactor("fixAge", value, $"a fix has been available for {days} days"));
            score *= value;
        }

        if (finding.EpssPercentile is { } percentile)
        {
            var value = Math.Round(1 + (Math.Clamp(percentile, 0, 1) * (MaxEpssFactor - 1)), 3);
            factors.Add(new ScoreFactor("epss", value, $"EPSS percentile {percentile.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}"));
            score *= value;
        }

        if (finding.Confidence < 1.0)
        {
            factors.Add(new ScoreFactor("confidence", finding.Confidence, "the evidence is inferred, not read directly"));
            score *= finding.Confidence;
        }
        else
        {
            factors.Add(new ScoreFactor("confidence", 1.0, "configuration read from the source"));
        }

        // Known exploitation ranks above everything else of the same severity: lift a KEV finding above the
        // highest score a finding of its severity can reach without KEV (known ransomware use higher still).
        if (finding.Exploitation is { KnownExploited: true } kev)
        {
            var floor = NonKevCeiling(finding.Severity) * (kev.RansomwareUse ? 1.2 : 1.1);
            if (score < floor)
            {
                factors.Add(new ScoreFactor("kevPriority", Math.Round(floor / score, 3),
                    $"known exploited: ranked above every finding of {finding.Severity.ToName()} severity that is not"));
                score = floor;
            }
        }

        return finding with { Score = Math.Round(score, 1, MidpointRounding.AwayFromZero), ScoreFactors = factors.ToImmutable() };
    }

    private static string Describe(SiteContext site) =>
        site.Role is null ? $"zone {site.ZoneId}" : $"{site.Role} in zone {site.ZoneId}";

    /// <summary>Orders by score descending, then severity, rule id and resource name; assigns rank 1..n.</summary>
    public static ImmutableArray<Finding> Rank(IEnumerable<Finding> findings) =>
        findings
            .OrderByDescending(f => f.Score)
            .ThenByDescending(f => f.Severity)
            .ThenBy(f => f.RuleId, StringComparer.Ordinal)
            .ThenBy(f => f.Resource.Name, StringComparer.Ordinal)
            .ThenBy(f => f.Discriminator, StringComparer.Ordinal)
            .Select((f, i) => f with { Rank = i + 1 })
            .ToImmutableArray();
}
