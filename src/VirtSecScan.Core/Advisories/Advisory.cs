using System.Collections.Immutable;

namespace VirtSecScan.Core.Advisories;

/// <summary>CISA KEV membership of a CVE.</summary>
public sealed record KevEntry(DateOnly DateAdded, bool RansomwareKnown, DateOnly? DueDate = null);

public sealed record AdvisoryCve(string Id, double? Cvss, string? Vector, string? Summary, KevEntry? Kev, string? Source);

/// <summary>
/// The fix for one product and update line: a fixed build, or <see cref="NoFix"/> when the vendor ships
/// none for that line. Version-numbered products (Proxmox VE, QEMU, libvirt, Xen) give a
/// <see cref="FixedVersion"/> instead of a build, compared with the host's version or, when
/// <see cref="Package"/> is set, with that package's version on the host.
/// </summary>
public sealed record AdvisoryFix(string Product, string Line, long? FixedBuild, string? FixedName, bool NoFix, ImmutableArray<string> Cves,
    string? FixedVersion = null, string? Package = null, int? SourceLine = null)
{
    /// <summary>What the host must reach, for reports: the release name, the build or the (package) version.</summary>
    public string Target => FixedName
        ?? FixedBuild?.ToString(System.Globalization.CultureInfo.InvariantCulture)
        ?? (FixedVersion is null ? "(none)" : Package is null ? FixedVersion : $"{Package} {FixedVersion}");
}

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

    /// <summary>The CISA KEV catalog imported into the feed folder (<c>kev.json</c>), if any.</summary>
    public KevCatalog? Kev { get; init; }

    /// <summary>EPSS scores imported into the feed folder (<c>epss.csv</c>) or given with <c>scan --epss</c>.</summary>
    public EpssTable? Epss { get; init; }

    /// <summary>The feed's own test cases (<c>tests.yaml</c>): run at every import and by <c>rules validate</c>.</summary>
    public ImmutableArray<FeedTestCase> Tests { get; init; } = [];

    /// <summary>True when the feed has a build map for <paramref name="product"/>.</summary>
    public bool HasBuildMap(string product) =>
        Builds.Any(b => string.Equals(b.Product, product, StringComparison.OrdinalIgnoreCase));

    /// <summary>The newest publication or revision date in the feed.</summary>
    public DateOnly? Published => Advisories.IsEmpty ? null : Advisories.Max(a => a.Updated ?? a.Published);

    public BuildInfo? FindBuild(string product, long build) =>
        Builds.FirstOrDefault(b => b.Build == build && string.Equals(b.Product, product, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The CISA Known Exploited Vulnerabilities catalog, keyed by CVE id.</summary>
public sealed record KevCatalog(string CatalogVersion, DateOnly? DateReleased, ImmutableDictionary<string, KevEntry> Entries, string? File)
{
    public KevEntry? Find(string cve) => Entries.TryGetValue(cve, out var e) ? e : null;
}

/// <summary>One EPSS score: probability of exploitation in the next 30 days, and its percentile.</summary>
public sealed record EpssScore(double Epss, double Percentile);

/// <summary>EPSS scores keyed by CVE id, with the model version and score date of the file's comment line.</summary>
public sealed record EpssTable(string? ModelVersion, DateOnly? ScoreDate, ImmutableDictionary<string, EpssScore> Scores, string? File)
{
    public EpssScore? Find(string cve) => Scores.TryGetValue(cve, out var s) ? s : null;
}

/// <summary>
/// One self-test of the feed: a product at a version/build and the advisories it must be missing (and, optionally,
/// those it must be indeterminate for). A feed whose matching disagrees is refused.
/// </summary>
public sealed record FeedTestCase(
    string Name,
    string Product,
    string Version,
    long Build,
    string? UpdateLine,
    ImmutableSortedDictionary<string, string> Packages,
    ImmutableArray<string> ExpectMissing,
    ImmutableArray<string>? ExpectIndeterminate,
    string File,
    int SourceLine);
