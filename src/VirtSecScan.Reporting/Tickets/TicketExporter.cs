using System.Text.Json;
using System.Text.Json.Nodes;

namespace VirtSecScan.Reporting.Tickets;

/// <summary>What a push did.</summary>
public sealed record PushSummary(int Created, int Adopted, int Updated, int Closed, int Reopened, int KeptOpen, IReadOnlyList<string> Errors);

/// <summary>
/// Runs a plan against a tracker: create (after looking the fingerprint up, so a lost ledger still makes no
/// duplicate; the ledger entry is written right after the create, before anything else), update, close, reopen.
/// An error on one ticket is reported and the others go on.
/// </summary>
public sealed class TicketExporter(Tracker tracker, TicketLedger ledger)
{
    public const int CreateAttempts = 3;

    public IReadOnlyList<TicketAction> Plan(ReportFile report, TicketFilter filter) =>
        TicketPlanner.Plan(report, ledger.All(tracker.Name, tracker.Target), filter);

    /// <summary>The requests of a plan as a JSON document (the request file).</summary>
    public static string RequestsJson(Tracker tracker, IEnumerable<TicketAction> plan, Uri? baseUri)
    {
        var requests = new JsonArray();
        foreach (var action in plan)
        {
            foreach (var r in tracker.Describe(action))
            {
                requests.Add(new JsonObject
                {
                    ["action"] = r.Action,
                    ["fingerprint"] = r.Fingerprint,
                    ["method"] = r.Method,
                    ["path"] = r.Path,
                    ["body"] = r.Body?.DeepClone(),
                });
            }
        }

        var doc = new JsonObject
        {
            ["tracker"] = tracker.Name,
            ["target"] = tracker.Target,
            ["baseUrl"] = baseUri?.AbsoluteUri,
            ["requests"] = requests,
        };
        return doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public async Task<PushSummary> PushAsync(IReadOnlyList<TicketAction> plan, TicketHttp http, DateTimeOffset scannedAt, TextWriter log, CancellationToken ct)
    {
        int created = 0, adopted = 0, updated = 0, closed = 0, reopened = 0, kept = 0;
        var errors = new List<string>();
        foreach (var action in plan)
        {
            try
            {
                switch (action.Kind)
                {
                    case TicketActionKind.Create:
                        var f = action.Finding!;
                        var (ticket, wasFound) = await CreateOrFindAsync(f, http, ct).ConfigureAwait(false);
                        ledger.Save(Entry(f, ticket, LedgerStates.Open, scannedAt));
                        if (wasFound)
                        {
                            await tracker.UpdateAsync(ticket, f, http, ct).ConfigureAwait(false);
                            adopted++;
                            log.WriteLine($"found    {ticket.Key} for {f.Fingerprint} (already in the tracker); updated");
                        }
                        else
                        {
                            created++;
                            log.WriteLine($"created  {ticket.Key} for {f.Fingerprint}: {f.Title}");
                        }

                        break;
                    case TicketActionKind.Update:
                        await tracker.UpdateAsync(Remote(action.Entry!), action.Finding!, http, ct).ConfigureAwait(false);
                        ledger.Save(action.Entry! with { Title = action.Finding!.Title, Updated = scannedAt });
                        updated++;
                        log.WriteLine($"updated  {action.Entry!.Key} for {action.Fingerprint}");
                        break;
                    case TicketActionKind.Close:
                        await tracker.CloseAsync(Remote(action.Entry!), action.Entry!, scannedAt, http, ct).ConfigureAwait(false);
                        ledger.Save(action.Entry! with { State = LedgerStates.Closed, Updated = scannedAt });
                        closed++;
                        log.WriteLine($"closed   {action.Entry!.Key} for {action.Fingerprint} (resolved)");
                        break;
                    case TicketActionKind.Reopen:
                        await tracker.ReopenAsync(Remote(action.Entry!), action.Finding!, http, ct).ConfigureAwait(false);
                        ledger.Save(action.Entry! with { State = LedgerStates.Open, Title = action.Finding!.Title, Updated = scannedAt });
                        reopened++;
                        log.WriteLine($"reopened {action.Entry!.Key} for {action.Fingerprint} (regressed)");
                        break;
                    case TicketActionKind.KeepOpen:
                        kept++;
                        log.WriteLine($"kept     {action.Entry!.Key} open: {action.Reason}");
                        break;
                }
            }
            catch (Exception ex) when (ex is TicketHttpException or HttpRequestException or JsonException or InvalidOperationException)
            {
                errors.Add($"{action.Kind.ToString().ToLowerInvariant()} {action.Fingerprint}: {ex.Message}");
            }
        }

        return new PushSummary(created, adopted, updated, closed, reopened, kept, errors);
    }

    private async Task<(RemoteTicket Ticket, bool Found)> CreateOrFindAsync(ExportFinding f, TicketHttp http, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await tracker.FindAsync(f.Fingerprint, http, ct).ConfigureAwait(false) is { } existing)
            {
                return (existing, true);
            }

            try
            {
                return (await tracker.CreateOnceAsync(f, http, ct).ConfigureAwait(false), false);
            }
            catch (TicketHttpException ex) when (ex.Status >= 500 && attempt < CreateAttempts)
            {
                // The create may have gone through before the error: look it up again before trying once more.
                await http.WaitAsync(TicketHttp.Backoff(attempt), ct).ConfigureAwait(false);
            }
        }
    }

    private LedgerEntry Entry(ExportFinding f, RemoteTicket ticket, string state, DateTimeOffset at) => new()
    {
        Tracker = tracker.Name,
        Target = tracker.Target,
        Fingerprint = f.Fingerprint,
        Key = ticket.Key,
        RemoteId = ticket.RemoteId,
        State = state,
        RuleId = f.RuleId,
        ResourceId = f.Resource.Id,
        ResourceSource = f.Resource.Source,
        Title = f.Title,
        Updated = at,
    };

    private static RemoteTicket Remote(LedgerEntry e) => new(e.Key, e.RemoteId);
}
