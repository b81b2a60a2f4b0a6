namespace VirtSecScan.Reporting;

/// <summary>
/// Optional data the HTML report shows when another part of the tool has it: zone-to-zone reachability
/// (from segmentation analysis), a trend of earlier scans and a diff against the previous scan (from the
/// history store). Each section is rendered only when its data is present.
/// </summary>
public sealed record HtmlReportExtras
{
    /// <summary>Zone pairs that can reach each other; an empty list draws no heatmap.</summary>
    public IReadOnlyList<ReachabilityCell> Reachability { get; init; } = [];

    /// <summary>Finding counts of earlier scans, oldest first; fewer than two points draw no trend.</summary>
    public IReadOnlyList<TrendPoint> Trend { get; init; } = [];

    /// <summary>How this scan compares with the previous one, if known.</summary>
    public ScanDiffSummary? Diff { get; init; }

    public static HtmlReportExtras None { get; } = new();
}

/// <summary>
/// One cell of the reachability heatmap: traffic from <paramref name="FromZone"/> to <paramref name="ToZone"/> is
/// allowed on <paramref name="Ports"/> (e.g. <c>tcp/443</c>, <c>any</c>) by <paramref name="Rules"/> (rule names or ids).
/// A cell with no ports means "evaluated and denied".
/// </summary>
public sealed record ReachabilityCell(string FromZone, string ToZone, IReadOnlyList<string> Ports, IReadOnlyList<string> Rules);

/// <summary>Unwaived finding counts of one scan, for the trend chart.</summary>
public sealed record TrendPoint(DateTimeOffset ScannedAt, int Critical, int High, int Medium, int Low, int Info)
{
    public int Total => Critical + High + Medium + Low + Info;
}

/// <summary>
/// The diff of this scan against the previous one: counts, and the state of each current finding
/// (<c>new</c>, <c>persisting</c>, <c>regressed</c>) by fingerprint.
/// </summary>
public sealed record ScanDiffSummary(int New, int Persisting, int Resolved, int Regressed)
{
    public IReadOnlyDictionary<string, string> StateByFingerprint { get; init; } = new Dictionary<string, string>();
}
