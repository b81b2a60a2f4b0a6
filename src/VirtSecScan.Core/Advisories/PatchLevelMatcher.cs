using System.Collections.Immutable;
using System.Globalization;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Core.Advisories;

public enum PatchVerdict
{
    /// <summary>The advisory has no row for the host's branch: it says nothing about this host.</summary>
    NotApplicable,
    NotVulnerable,
    Vulnerable,

    /// <summary>The build cannot be placed relative to the fixes: verify by hand.</summary>
    Indeterminate,
}

/// <summary>The verdict for one CVE on one host, with the fix row that decided it.</summary>
public sealed record CveVerdict(string Cve, PatchVerdict Verdict, AdvisoryFix? DecidingFix, string Explanation);

/// <summary>The roll-up for one advisory on one host.</summary>
public sealed record AdvisoryVerdict(Advisory Advisory, PatchVerdict Verdict, ImmutableArray<CveVerdict> Cves)
{
    public IEnumerable<CveVerdict> Vulnerable => Cves.Where(c => c.Verdict == PatchVerdict.Vulnerable);
    public IEnumerable<CveVerdict> Indeterminate => Cves.Where(c => c.Verdict == PatchVerdict.Indeterminate);
}

/// <summary>
/// Decides whether a host build contains an advisory's fixes, comparing only within the host's update
/// line: a fix row for the host's line decides; otherwise the highest older line of the branch; a host
/// line older than every fixed line is vulnerable unless its number is at or above the lowest fix, which
/// is indeterminate (a back-in-time build can be numerically higher without the fix); "no fix" rows keep
/// every host of that line vulnerable.
/// </summary>
public static class PatchLevelMatcher
{
    public static AdvisoryVerdict Evaluate(HypervisorBuild host, Advisory advisory)
    {
        var results = ImmutableArray.CreateBuilder<CveVerdict>();
        foreach (var cve in advisory.Cves.OrderBy(c => c.Id, StringComparer.Ordinal))
        {
            var rows = advisory.Fixes
                .Where(f => string.Equals(f.Product, host.Product, StringComparison.OrdinalIgnoreCase)
                            && (f.Cves.IsDefaultOrEmpty || f.Cves.Contains(cve.Id, StringComparer.OrdinalIgnoreCase))
                            && BranchOf(f.Line) == host.Branch)
                .ToList();
            results.Add(EvaluateCve(host, cve.Id, rows));
        }

        var cves = results.ToImmutable();
        var verdict = cves.Any(c => c.Verdict == PatchVerdict.Vulnerable) ? PatchVerdict.Vulnerable
            : cves.Any(c => c.Verdict == PatchVerdict.Indeterminate) ? PatchVerdict.Indeterminate
            : cves.Any(c => c.Verdict == PatchVerdict.NotVulnerable) ? PatchVerdict.NotVulnerable
            : PatchVerdict.NotApplicable;
        return new AdvisoryVerdict(advisory, verdict, cves);
    }

    private static CveVerdict EvaluateCve(HypervisorBuild host, string cve, List<AdvisoryFix> rows)
    {
        if (rows.Count == 0)
        {
            return new CveVerdict(cve, PatchVerdict.NotApplicable, null, $"no fix row for branch {host.Branch}");
        }

        if (host.Unplaced is { } why)
        {
            return new CveVerdict(cve, PatchVerdict.Indeterminate, null, $"the host's version cannot be placed ({why}); verify by hand");
        }

        if (!host.LineCertain)
        {
            return UncertainLine(host, cve, rows);
        }

        var own = rows.FirstOrDefault(r => SameLine(r.Line, host.UpdateLine));
        if (own is not null)
        {
            return Compare(host, cve, own, $"fix for the host's own line {host.UpdateLine}");
        }

        var hostUpdate = UpdateNumber(host.UpdateLine);
        var older = rows.Where(r => UpdateNumber(r.Line) < hostUpdate)
            .OrderByDescending(r => UpdateNumber(r.Line))
            .FirstOrDefault();
        if (older is not null)
        {
            return Compare(host, cve, older, $"host line {host.UpdateLine} has no row; nearest older line {older.Line} decides");
        }

        // The host's line is older than every fixed line.
        var fixedBuilds = rows.Where(r => !r.NoFix && r.FixedBuild is not null).ToList();
        if (fixedBuilds.Count == 0)
        {
            return rows.FirstOrDefault(r => r.NoFix) is { } noFix
                ? new CveVerdict(cve, PatchVerdict.Vulnerable, noFix, $"no fix for {host.Branch} lines older than {noFix.Line}")
                : new CveVerdict(cve, PatchVerdict.Indeterminate, rows[0], $"the feed has no row for line {host.UpdateLine} and no build to compare with; verify by hand");
        }

        var lowest = fixedBuilds.OrderBy(r => r.FixedBuild).First();
        if (host.Build >= lowest.FixedBuild)
        {
            return new CveVerdict(cve, PatchVerdict.Indeterminate, lowest,
                $"build {host.Build} of line {host.UpdateLine} is numerically at or above the {lowest.Line} fix {Name(lowest)}, "
                + "but the fix exists only on newer lines; verify the host's patch level by hand");
        }

        return new CveVerdict(cve, PatchVerdict.Vulnerable, lowest,
            $"line {host.UpdateLine} is older than every fixed line; the first fix is {Name(lowest)} on {lowest.Line}");
    }

    /// <summary>
    /// The host's update line is a guess: only what holds for every line of the branch is decided (no fix
    /// anywhere, or a build below every fix); everything else is indeterminate.
    /// </summary>
    private static CveVerdict UncertainLine(HypervisorBuild host, string cve, List<AdvisoryFix> rows)
    {
        if (rows.All(r => r.NoFix))
        {
            return new CveVerdict(cve, PatchVerdict.Vulnerable, rows[0], $"the vendor ships no fix for any {host.Branch} line in the feed");
        }

        var builds = rows.Where(r => r.FixedBuild is not null).ToList();
        if (builds.Count > 0 && builds.Count == rows.Count(r => !r.NoFix) && host.Build < builds.Min(r => r.FixedBuild))
        {
            var lowest = builds.OrderBy(r => r.FixedBuild).First();
            return new CveVerdict(cve, PatchVerdict.Vulnerable, lowest,
                $"build {host.Build} is below every fix of branch {host.Branch} (lowest {Name(lowest)} on {lowest.Line})");
        }

        return new CveVerdict(cve, PatchVerdict.Indeterminate, rows.FirstOrDefault(r => !r.NoFix) ?? rows[0],
            $"the host's update line within {host.Branch} is not known (the version does not say and the build is not in the build map); verify by hand");
    }

    private static CveVerdict Compare(HypervisorBuild host, string cve, AdvisoryFix row, string why)
    {
        if (row.NoFix)
        {
            return new CveVerdict(cve, PatchVerdict.Vulnerable, row, $"the vendor ships no fix for line {row.Line}");
        }

        if (row.FixedVersion is { } fixedVersion)
        {
            string? actual = row.Package is null ? host.Version : host.Packages.GetValueOrDefault(row.Package);
            var what = row.Package is null ? "version" : $"package {row.Package}";
            if (actual is null || !VersionComparer.LooksLikeVersion(actual))
            {
                return new CveVerdict(cve, PatchVerdict.Indeterminate, row, $"the host did not report {what}; verify it is {fixedVersion} or later by hand");
            }

            return VersionComparer.Instance.Compare(actual, fixedVersion) < 0
                ? new CveVerdict(cve, PatchVerdict.Vulnerable, row, $"{what} {actual} < fixed {fixedVersion} ({why})")
                : new CveVerdict(cve, PatchVerdict.NotVulnerable, row, $"{what} {actual} >= fixed {fixedVersion} ({why})");
        }

        if (row.FixedBuild is null)
        {
            return new CveVerdict(cve, PatchVerdict.Indeterminate, row, $"the feed has no fixed build for line {row.Line}");
        }

        return host.Build < row.FixedBuild
            ? new CveVerdict(cve, PatchVerdict.Vulnerable, row, $"build {host.Build} < fixed build {Name(row)} ({why})")
            : new CveVerdict(cve, PatchVerdict.NotVulnerable, row, $"build {host.Build} >= fixed build {Name(row)} ({why})");
    }

    private static string Name(AdvisoryFix row) => row.Target;

    /// <summary>"8.0U2" → "8.0"; "6.7" → "6.7"; version-numbered lines ("8.2", "20348") are their own branch.</summary>
    public static string BranchOf(string line)
    {
        var u = line.IndexOf('U', StringComparison.OrdinalIgnoreCase);
        return u < 0 ? line : line[..u];
    }

    /// <summary>"8.0U2" → 2; "8.0" (GA) → 0.</summary>
    public static int UpdateNumber(string line)
    {
        var u = line.IndexOf('U', StringComparison.OrdinalIgnoreCase);
        return u < 0 ? 0 : int.TryParse(line[(u + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    private static bool SameLine(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
