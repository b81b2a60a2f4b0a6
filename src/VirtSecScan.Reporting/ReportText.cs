using System.Globalization;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Reporting;

/// <summary>Small shared helpers for the writers: severity order and numbers, invariant formatting.</summary>
internal static class ReportText
{
    public static readonly Severity[] SeveritiesHighFirst = [Severity.Critical, Severity.High, Severity.Medium, Severity.Low, Severity.Info];

    public static string Num(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static bool IsWaived(Finding f) => f.Status == FindingStatus.Waived;

    /// <summary>GitHub code scanning's reading of security-severity: &gt;= 9 critical, 7-8.9 high, 4-6.9 medium, &lt; 4 low.</summary>
    public static string SecuritySeverity(Severity s) => s switch
    {
        Severity.Critical => "9.5",
        Severity.High => "8.0",
        Severity.Medium => "5.5",
        Severity.Low => "3.0",
        _ => "0.0",
    };

    /// <summary>Where a finding was read: the resource's file and line, else the first evidence entry that has a line.</summary>
    public static (string? File, int? Line) Location(Finding f)
    {
        if (f.Resource.Source is { } source)
        {
            var line = f.Resource.Line ?? f.Evidence.FirstOrDefault(e => e.Line is not null && (e.Source is null || e.Source == source))?.Line;
            return (source, line);
        }

        var evidence = f.Evidence.FirstOrDefault(e => e.Source is not null && e.Line is not null);
        return evidence is null ? (null, null) : (evidence.Source, evidence.Line);
    }

    public static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
