using VirtSecScan.Core.Findings;

namespace VirtSecScan.Reporting.Tickets;

public enum TicketActionKind
{
    Create,
    Update,
    Close,
    Reopen,

    /// <summary>An open ticket whose finding is gone but whose resource was not collected again: left open.</summary>
    KeepOpen,
}

/// <summary>One step of the plan: what to do, for which fingerprint, with the finding (when present) and the ledger entry (when known).</summary>
public sealed record TicketAction(TicketActionKind Kind, string Fingerprint, ExportFinding? Finding, LedgerEntry? Entry, string Reason);

/// <summary>Which findings go to the tracker.</summary>
public sealed record TicketFilter
{
    public Severity MinimumSeverity { get; init; } = Severity.Info;
    public IReadOnlySet<string> Categories { get; init; } = new HashSet<string>();
    public IReadOnlySet<string> Zones { get; init; } = new HashSet<string>();

    public bool Matches(ExportFinding f) =>
        f.Severity >= MinimumSeverity
        && (Categories.Count == 0 || Categories.Contains(f.Category))
        && (Zones.Count == 0 || (f.Resource.Zone is { } z && Zones.Contains(z)));
}

/// <summary>
/// Decides, from a report and the ledger, what the tracker must do: a finding with no ticket is created, one
/// with an open ticket is updated, one with a closed ticket is reopened (regressed); an open ticket whose finding
/// is gone is closed only when the report collected its resource again, otherwise it is kept open. Waived
/// findings get no new ticket (an open ticket is updated so it shows the waiver). Pure: no I/O.
/// </summary>
public static class TicketPlanner
{
    public static IReadOnlyList<TicketAction> Plan(ReportFile report, IReadOnlyList<LedgerEntry> ledger, TicketFilter filter)
    {
        var byFingerprint = ledger.ToDictionary(e => e.Fingerprint, StringComparer.Ordinal);
        var present = report.Findings.Select(f => f.Fingerprint).ToHashSet(StringComparer.Ordinal);
        var actions = new List<TicketAction>();
        foreach (var f in report.Findings.Where(filter.Matches).OrderBy(f => f.Rank).ThenBy(f => f.Fingerprint, StringComparer.Ordinal))
        {
            byFingerprint.TryGetValue(f.Fingerprint, out var entry);
            if (entry is null)
            {
                if (!f.IsWaived)
                {
                    actions.Add(new TicketAction(TicketActionKind.Create, f.Fingerprint, f, null, "new finding"));
                }
            }
            else if (entry.IsOpen)
            {
                actions.Add(new TicketAction(TicketActionKind.Update, f.Fingerprint, f, entry, f.IsWaived ? "finding persists (waived)" : "finding persists"));
            }
            else if (!f.IsWaived)
            {
                actions.Add(new TicketAction(TicketActionKind.Reopen, f.Fingerprint, f, entry, "finding is back after its ticket was closed"));
            }
        }

        foreach (var entry in ledger.Where(e => e.IsOpen && !present.Contains(e.Fingerprint)))
        {
            actions.Add(report.Covers(entry.ResourceId, entry.ResourceSource)
                ? new TicketAction(TicketActionKind.Close, entry.Fingerprint, null, entry, "finding resolved: resource collected again without it")
                : new TicketAction(TicketActionKind.KeepOpen, entry.Fingerprint, null, entry, "finding absent but its resource was not collected in this report"));
        }

        return actions;
    }
}
