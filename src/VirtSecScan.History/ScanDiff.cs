using System.Collections.Immutable;

namespace VirtSecScan.History;

/// <summary>How a finding changed between two scans of the same targets.</summary>
public enum ChangeKind
{
    /// <summary>Failing now, never failing before in this history.</summary>
    New,

    /// <summary>Failing in both scans.</summary>
    Persisting,

    /// <summary>Failing before; the new scan collected the resource again and the finding is gone.</summary>
    Resolved,

    /// <summary>Failing now, not in the old scan, but failing in an earlier one: it came back.</summary>
    Regressed,

    /// <summary>Failing before; the new scan did not collect the resource, so nothing can be said.</summary>
    NotRescanned,
}

public sealed record FindingChange(ChangeKind Kind, StoredFinding Finding)
{
    public string KindName => NameOf(Kind);

    public static string NameOf(ChangeKind kind) => kind switch
    {
        ChangeKind.New => "new",
        ChangeKind.Persisting => "persisting",
        ChangeKind.Resolved => "resolved",
        ChangeKind.Regressed => "regressed",
        _ => "not-rescanned",
    };
}

/// <summary>The differences between two saved scans, by fingerprint.</summary>
public sealed record ScanDiff(ScanSummary Old, ScanSummary New, ImmutableArray<FindingChange> Changes)
{
    public int Count(ChangeKind kind) => Changes.Count(c => c.Kind == kind);

    /// <summary>
    /// Compares two scans. A finding counts as open when it is failing or waived. It is resolved only when
    /// the new scan collected its resource; <paramref name="failedEarlier"/> tells whether a fingerprint
    /// was open in a scan before the old one (a regression).
    /// </summary>
    public static ScanDiff Compute(StoredScan old, StoredScan @new, Func<string, bool> failedEarlier)
    {
        static bool Open(StoredFinding f) => f.Status is "fail" or "waived";
        var before = old.Findings.Where(Open).ToDictionary(f => f.Fingerprint, StringComparer.Ordinal);
        var after = @new.Findings.Where(Open).ToDictionary(f => f.Fingerprint, StringComparer.Ordinal);
        var changes = new List<FindingChange>();
        foreach (var (fp, f) in after)
        {
            changes.Add(new FindingChange(
                before.ContainsKey(fp) ? ChangeKind.Persisting : failedEarlier(fp) ? ChangeKind.Regressed : ChangeKind.New,
                f));
        }

        foreach (var (fp, f) in before.Where(b => !after.ContainsKey(b.Key)))
        {
            changes.Add(new FindingChange(@new.Resources.Contains(f.ResourceKey) ? ChangeKind.Resolved : ChangeKind.NotRescanned, f));
        }

        return new ScanDiff(
            old.Summary,
            @new.Summary,
            changes.OrderBy(c => c.Kind).ThenByDescending(c => c.Finding.Score).ThenBy(c => c.Finding.RuleId, StringComparer.Ordinal)
                .ThenBy(c => c.Finding.ResourceName, StringComparer.Ordinal).ToImmutableArray());
    }

    /// <summary>The changes of a scan not yet saved against the last saved scan of the same targets (null if there is none).</summary>
    public static ScanDiff? SinceLast(HistoryStore store, Engine.Scanning.ScanReport report)
    {
        var current = StoredScan.FromReport(report);
        if (store.List(1, current.Summary.TargetsKey).FirstOrDefault() is not { } last || store.Load(last.Id) is not { } previous)
        {
            return null;
        }

        return Compute(previous, current, fp => store.FailedBefore(fp, current.Summary.TargetsKey, last.Id));
    }

    /// <summary>The diff of two scans in the store (ids), or of the last two scans of <paramref name="targetsKey"/>.</summary>
    public static ScanDiff? FromStore(HistoryStore store, long? oldId, long? newId, string? targetsKey = null)
    {
        if (oldId is null || newId is null)
        {
            var anchor = newId is { } n ? store.Find(n) : null;
            var key = anchor?.TargetsKey ?? targetsKey ?? store.List(1).FirstOrDefault()?.TargetsKey;
            if (key is null)
            {
                return null;
            }

            var recent = store.List(100, key);
            var newer = newId is { } nid ? recent.FirstOrDefault(s => s.Id == nid) : recent.FirstOrDefault();
            if (newer is null)
            {
                return null;
            }

            var older = oldId is { } oid ? recent.FirstOrDefault(s => s.Id == oid) : recent.FirstOrDefault(s => s.Id < newer.Id);
            if (older is null)
            {
                return null;
            }

            (oldId, newId) = (older.Id, newer.Id);
        }

        var o = store.Load(oldId.Value);
        var w = store.Load(newId.Value);
        if (o is null || w is null)
        {
            return null;
        }

        var targets = w.Summary.TargetsKey;
        var oldScanId = o.Summary.Id;
        return Compute(o, w, fp => store.FailedBefore(fp, targets, oldScanId));
    }
}
