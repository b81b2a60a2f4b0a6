using System.Collections.Immutable;
using VirtSecScan.Core;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Engine.Scanning;

public sealed record CollectedFile(string File, string Format, int Facts);

public sealed record SkippedFile(string File, string Reason);

public sealed record RulesetInfo(string Name, string Version);

public sealed record FeedInfo(DateOnly? Published, int? AgeDays, int Advisories);

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

    /// <summary>Every resource the scan read (from the collected facts), so consumers know what was covered.</summary>
    public ImmutableArray<ResourceRef> Resources { get; init; } = [];

    public int CountAtOrAbove(Severity severity) => Findings.Count(f => f.Severity >= severity);
}

/// <summary>Progress of a scan, for a progress bar.</summary>
public sealed record ScanProgress(string Stage, int Done, int Total, string? Current);
