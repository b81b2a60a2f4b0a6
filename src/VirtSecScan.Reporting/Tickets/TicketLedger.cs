using System.Globalization;
using Microsoft.Data.Sqlite;

namespace VirtSecScan.Reporting.Tickets;

/// <summary>One ticket the exporter made: which finding, which ticket, open or closed.</summary>
public sealed record LedgerEntry
{
    public required string Tracker { get; init; }
    public required string Target { get; init; }
    public required string Fingerprint { get; init; }
    public required string Key { get; init; }
    public string? RemoteId { get; init; }
    public required string State { get; init; }
    public required string RuleId { get; init; }
    public required string ResourceId { get; init; }
    public string? ResourceSource { get; init; }
    public required string Title { get; init; }
    public required DateTimeOffset Updated { get; init; }

    public bool IsOpen => State == LedgerStates.Open;
}

public static class LedgerStates
{
    public const string Open = "open";
    public const string Closed = "closed";
}

/// <summary>
/// The local ledger (SQLite) that maps a finding's fingerprint to its ticket, per tracker and target (Jira
/// project, ServiceNow table, GitHub repository). An entry is written right after the ticket is created, before
/// any further call, so a failure later can never lead to a second ticket.
/// </summary>
public sealed class TicketLedger : IDisposable
{
    private readonly SqliteConnection _connection;

    public TicketLedger(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("""
            CREATE TABLE IF NOT EXISTS tickets (
              tracker TEXT NOT NULL, target TEXT NOT NULL, fingerprint TEXT NOT NULL,
              key TEXT NOT NULL, remote_id TEXT, state TEXT NOT NULL,
              rule_id TEXT NOT NULL, resource_id TEXT NOT NULL, resource_source TEXT, title TEXT NOT NULL,
              updated TEXT NOT NULL,
              PRIMARY KEY (tracker, target, fingerprint));
            """);
    }

    /// <summary>The default ledger: tickets.db in the user's VirtSecScan data folder (beside the history store).</summary>
    public static string DefaultPath =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "virtsecscan", "tickets.db");

    public IReadOnlyList<LedgerEntry> All(string tracker, string target)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT tracker, target, fingerprint, key, remote_id, state, rule_id, resource_id, resource_source, title, updated FROM tickets WHERE tracker = $t AND target = $g ORDER BY fingerprint";
        cmd.Parameters.AddWithValue("$t", tracker);
        cmd.Parameters.AddWithValue("$g", target);
        using var reader = cmd.ExecuteReader();
        var list = new List<LedgerEntry>();
        while (reader.Read())
        {
            list.Add(new LedgerEntry
            {
                Tracker = reader.GetString(0),
                Target = reader.GetString(1),
                Fingerprint = reader.GetString(2),
                Key = reader.GetString(3),
                RemoteId = reader.IsDBNull(4) ? null : reader.GetString(4),
                State = reader.GetString(5),
                RuleId = reader.GetString(6),
                ResourceId = reader.GetString(7),
                ResourceSource = reader.IsDBNull(8) ? null : reader.GetString(8),
                Title = reader.GetString(9),
                Updated = DateTimeOffset.Parse(reader.GetString(10), CultureInfo.InvariantCulture),
            });
        }

        return list;
    }

    public void Save(LedgerEntry e)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            INSERT INTO tickets (tracker, target, fingerprint, key, remote_id, state, rule_id, resource_id, resource_source, title, updated)
            VALUES ($tracker, $target, $fp, $key, $rid, $state, $rule, $res, $src, $title, $updated)
            ON CONFLICT (tracker, target, fingerprint) DO UPDATE SET
              key = excluded.key, remote_id = excluded.remote_id, state = excluded.state, rule_id = excluded.rule_id,
              resource_id = excluded.resource_id, resource_source = excluded.resource_source, title = excluded.title, updated = excluded.updated;
            """;
        cmd.Parameters.AddWithValue("$tracker", e.Tracker);
        cmd.Parameters.AddWithValue("$target", e.Target);
        cmd.Parameters.AddWithValue("$fp", e.Fingerprint);
        cmd.Parameters.AddWithValue("$key", e.Key);
        cmd.Parameters.AddWithValue("$rid", (object?)e.RemoteId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$state", e.State);
        cmd.Parameters.AddWithValue("$rule", e.RuleId);
        cmd.Parameters.AddWithValue("$res", e.ResourceId);
        cmd.Parameters.AddWithValue("$src", (object?)e.ResourceSource ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$title", e.Title);
        cmd.Parameters.AddWithValue("$updated", e.Updated.UtcDateTime.ToString("o", CultureInfo.InvariantCulture));
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    private void Execute(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
