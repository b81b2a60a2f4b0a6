using System.Collections.Immutable;
using VirtSecScan.Core;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Engine.Scanning;

public sealed record CollectedFile(string File, string Format, int Facts);

public sealed record SkippedFile(string File, string Reason);

public sealed record RulesetInfo(string Name, string Version);

public sealed record FeedInfo(DateOnly? Published, int? AgeDays, int Advisories)
{
    /// <summary>The imported CISA KEV catalog's <c>catalogVersion</c> and <c>dateReleased</c> (null when none was imported).</summary>
    public string? KevCatalogVersion { get; init; }

    public DateOnly? KevDateReleased { get; init; }

    /// <summary>The score date of the EPSS scores in use, if any.</summary>
    public DateOnly? EpssScoreDate { get; init; }
}

/// <summary>Changes since the previous saved scan of the same targets, and the failing-finding trend (history).</summary>
public sealed record HistoryInfo(
    long PreviousScan,
    int New,
    int Persisting,
    int Resolved,
    int Regressed,
    int NotRescanned,
    ImmutableArray<TrendPoint> Trend);

/// <summary>One saved scan in a trend: when, and how many failing and waived findings it had.</summary>
public sealed record TrendPoint(long Scan, DateTimeOffset StartedAt, int Failed, int Waived);

/// <summary>How often one rule passed, failed, could not be decided or hit an error in a scan.</summary>
public sealed record RuleTally(int Pass, int Fail, int NotEvaluated, int Error, int Waived);

/// <summary>Everything one scan found, ready for any report writer.</summary>
public sealed record ScanReport
{
    public required DateTimeOffset StartedAt { get; init; }
    public required ImmutableArray<string> Inputs { get; init; }
    public required string Profile { get; init; }
    public string? Site { get; init; }
    public required ImmutableArray<RulesetInfo> Rulesets { get; init; }
    public required FeedInfo AdvisoryFeed { get; init; }
    public required ImmutableArray<CollectedFile> Collected { get; init; }
    public required ImmutableArray<SkippedFile> Skipped { get; init; }

    /// <summary>Failed checks, ranked 1..n by score.</summary>
    public required ImmutableArray<Finding> Findings { get; init; }
    public required ImmutableArray<Finding> NotEvaluated { get; init; }
    public required int Passed { get; init; }
    public required ImmutableArray<Diagnostic> Diagnostics { get; init; }

    /// <summary>
    /// Every resource the scan read (from the collected facts), so consumers know what was covered: a finding can
    /// only be called resolved by a later scan that collected its resource again.
    /// </summary>
    public ImmutableArray<ResourceRef> Resources { get; init; } = [];

    /// <summary>Outcomes per rule id (pass, fail, not-evaluated, error, waived), for checklists and trends.</summary>
    public ImmutableSortedDictionary<string, RuleTally> RuleResults { get; init; } = ImmutableSortedDictionary<string, RuleTally>.Empty;

    /// <summary>Each waiver of the waivers file and what became of it (active, expired, unused).</summary>
    public ImmutableArray<Waivers.WaiverOutcome> Waivers { get; init; } = [];

    /// <summary>Changes since the previous saved scan and the trend, when a history database was used.</summary>
    public HistoryInfo? History { get; init; }

    /// <summary>Failing findings that no valid waiver covers: what --fail-on and the summary count.</summary>
    public IEnumerable<Finding> Unwaived => Findings.Where(f => f.Status != FindingStatus.Waived);

    public static string ResourceKey(ResourceRef resource) => $"{resource.Type}:{resource.Id}".ToLowerInvariant();

    public int CountAtOrAbove(Severity severity) => Unwaived.Count(f => f.Severity >= severity);

    /// <summary>Failing outcomes covered by a documented exception of the site file; never counted for --fail-on.</summary>
    public ImmutableArray<Finding> Exceptions { get; init; } = [];

    /// <summary>The zone-to-zone matrix of the firewall rule sets scanned (empty when there were none).</summary>
    public VirtSecScan.Core.Network.ReachabilityResult Reachability { get; init; } = VirtSecScan.Core.Network.ReachabilityResult.Empty;

    /// <summary>The live targets of a targets file and how each was collected (empty without --targets).</summary>
    public ImmutableArray<Live.TargetStatus> Targets { get; init; } = [];
}

/// <summary>Progress of a scan, for a progress bar.</summary>
public sealed record ScanProgress(string Stage, int Done, int Total, string? Current);
