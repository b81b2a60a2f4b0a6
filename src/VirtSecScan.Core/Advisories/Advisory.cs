using System.Collections.Immutable;

namespace VirtSecScan.Core.Advisories;

/// <summary>CISA KEV membership of a CVE.</summary>
public sealed record KevEntry(DateOnly DateAdded, bool RansomwareKnown);

public sealed record AdvisoryCve(string Id, double? Cvss, string? Vector, string? Summary, KevEntry? Kev, string? Source);

/// <summary>
/// The fix for one product and update line: a fixed build, or <see cref="NoFix"/> when the vendor ships
/// none for that line.
/// </summary>
public sealed record AdvisoryFix(string Product, string Line, long? FixedBuild, string? FixedName, bool NoFix, ImmutableArray<string> Cves);

public sealed record Advisory(
    string Id,
    int Revision,
    DateOnly Published,
    DateOnly? Updated,
    string Title,
    string? Severity,
    string Source,
    ImmutableArray<AdvisoryCve> Cves,
    ImmutableArray<AdvisoryFix> Fixes,
    ImmutableArray<string> Workarounds,
    ImmutableArray<string> Notes,
    string? File)
{
    public bool CoversProduct(string product) =>
        Fixes.Any(f => string.Equals(f.Product, product, StringComparison.OrdinalIgnoreCase));

    public AdvisoryCve? FindCve(string id) => Cves.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Support lifecycle of one product branch (for example ESXi 6.7).</summary>
public sealed record BranchLifecycle(string Product, string Branch, DateOnly? EndOfGeneralSupport, string? Source);

/// <summary>A known build: number, release name and update line.</summary>
public sealed record BuildInfo(string Product, long Build, string Name, string Line, DateOnly? Released);

/// <summary>The whole offline feed.</summary>
public sealed record AdvisoryFeed(
    ImmutableArray<Advisory> Advisories,
    ImmutableArray<BranchLifecycle> Lifecycles,
    ImmutableArray<BuildInfo> Builds)
{
    public static AdvisoryFeed Empty { get; } = new([], [], []);

    /// <summary>The newest publication or revision date in the feed.</summary>
    public DateOnly? Published => Advisories.IsEmpty ? null : Advisories.Max(a => a.Updated ?? a.Published);

    public BuildInfo? FindBuild(string product, long build) =>
        Builds.FirstOrDefault(b => b.Build == build && string.Equals(b.Product, product, StringComparison.OrdinalIgnoreCase));
}
