using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.History;

/// <summary>A saved scan as <c>history list</c> shows it.</summary>
public sealed record ScanSummary(
    long Id,
    DateTimeOffset StartedAt,
    string TargetsKey,
    string Inputs,
    string Profile,
    int Failed,
    int Waived,
    int Passed,
    int NotEvaluated,
    int Resources);

/// <summary>One finding of a saved scan, by fingerprint.</summary>
public sealed record StoredFinding(
    string Fingerprint,
    string RuleId,
    string Title,
    string Category,
    string Severity,
    string Status,
    double Score,
    string ResourceKey,
    string ResourceName,
    string? Zone);

/// <summary>A saved scan with its findings and the resources it collected.</summary>
public sealed record StoredScan(ScanSummary Summary, ImmutableArray<StoredFinding> Findings, ImmutableHashSet<string> Resources)
{
    /// <summary>A scan not yet saved (id 0), in the stored shape, so it can be compared with the history.</summary>
    public static StoredScan FromReport(ScanReport report) => new(
        new ScanSummary(0, report.StartedAt, HistoryStore.TargetsKeyOf(report.Inputs), string.Join(", ", report.Inputs), report.Profile,
            report.Unwaived.Count(), report.Findings.Count(f => f.Status == FindingStatus.Waived), report.Passed, report.NotEvaluated.Length, report.Resources.Length),
        [.. report.Findings.Select(f => new StoredFinding(f.Fingerprint, f.RuleId, f.Title, f.Category, f.Severity.ToName(), f.Status.ToName(), f.Score,
            ScanReport.ResourceKey(f.Resource), f.Resource.Name, f.Resource.Zone))],
        report.Resources.Select(ScanReport.ResourceKey).ToImmutableHashSet(StringComparer.Ordinal));
}

/// <summary>
/// The scan history: a SQLite database with versioned migrations. Each scan is written in one transaction,
/// so a crash or kill during <see cref="Save"/> leaves either the whole scan or nothing.
/// </summary>
public sealed class HistoryStore : IDisposable
{
    /// <summary>Versioned migrations, applied in order; each runs in its own transaction. Never edit a shipped one: add the next.</summary>
    private static readonly (int Version, string Name, string Sql)[] Migrations =
    [
        (1, "scans, findings and collected resources", """
            CREATE TABLE scans (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                started_at TEXT NOT NULL,
                targets_key TEXT NOT NULL,
                inputs TEXT NOT NULL,
                profile TEXT NOT NULL,
                tool_version TEXT NOT NULL,
                failed INTEGER NOT NULL,
                waived INTEGER NOT NULL,
                passed INTEGER NOT NULL,
                not_evaluated INTEGER NOT NULL,
                report_json TEXT NOT NULL
            );
            CREATE INDEX scans_by_targets ON scans (targets_key, id);
            CREATE TABLE findings (
                scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
                fingerprint TEXT NOT NULL,
                rule_id TEXT NOT NULL,
                title TEXT NOT NULL,
                category TEXT NOT NULL,
                severity TEXT NOT NULL,
                status TEXT NOT NULL,
                score REAL NOT NULL,
                resource_key TEXT NOT NULL,
                resource_name TEXT NOT NULL,
                zone TEXT,
                PRIMARY KEY (scan_id, fingerprint)
            );
            CREATE INDEX findings_by_fingerprint ON findings (fingerprint, scan_id);
            CREATE TABLE resources (
                scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
                resource_key TEXT NOT NULL,
                PRIMARY KEY (scan_id, resource_key)
            );
            """),
    ];

    private readonly SqliteConnection _connection;

    public HistoryStore(string path)
    {
        Path = path;
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
        Migrate();
    }

    public string Path { get; }

    /// <summary>The default database: <c>virtsecscan/history.db</c> in the user's data folder (XDG_DATA_HOME on Linux).</summary>
    public static string DefaultPath
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            var root = !string.IsNullOrEmpty(xdg) ? xdg : Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
            if (string.IsNullOrEmpty(root))
            {
                root = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            }

            return System.IO.Path.Combine(root, "virtsecscan", "history.db");
        }
    }

    /// <summary>The schema version after migration.</summary>
    public int SchemaVersion => Convert.ToInt32(Scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"), CultureInfo.InvariantCulture);

    /// <summary>What identifies "the same targets" across scans: the scanned paths (absolute, sorted), hashed.</summary>
    public static string TargetsKeyOf(IEnumerable<string> inputs)
    {
        var text = string.Join('\n', inputs.Select(i => System.IO.Path.GetFullPath(i).TrimEnd('/', '\\')).Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 8));
    }

    /// <summary>
    /// Saves a scan in one transaction and returns its id. <paramref name="afterFinding"/> is called after each
    /// finding row (used by tests to interrupt a save half-way).
    /// </summary>
    public long Save(ScanReport report, string reportJson, string toolVersion, Action<int>? afterFinding = null)
    {
        using var tx = _connection.BeginTransaction();
        using var insertScan = Command("""
            INSERT INTO scans (started_at, targets_key, inputs, profile, tool_version, failed, waived, passed, not_evaluated, report_json)
            VALUES ($started, $targets, $inputs, $profile, $tool, $failed, $waived, $passed, $ne, $json);
            SELECT last_insert_rowid();
            """, tx);
        insertScan.Parameters.AddWithValue("$started", report.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        insertScan.Parameters.AddWithValue("$targets", TargetsKeyOf(report.Inputs));
        insertScan.Parameters.AddWithValue("$inputs", string.Join(", ", report.Inputs));
        insertScan.Parameters.AddWithValue("$profile", report.Profile);
        insertScan.Parameters.AddWithValue("$tool", toolVersion);
        insertScan.Parameters.AddWithValue("$failed", report.Unwaived.Count());
        insertScan.Parameters.AddWithValue("$waived", report.Findings.Count(f => f.Status == FindingStatus.Waived));
        insertScan.Parameters.AddWithValue("$passed", report.Passed);
        insertScan.Parameters.AddWithValue("$ne", report.NotEvaluated.Length);
        insertScan.Parameters.AddWithValue("$json", reportJson);
        var id = Convert.ToInt64(insertScan.ExecuteScalar(), CultureInfo.InvariantCulture);

        using var insertFinding = Command("""
            INSERT OR REPLACE INTO findings (scan_id, fingerprint, rule_id, title, category, severity, status, score, resource_key, resource_name, zone)
            VALUES ($scan, $fp, $rule, $title, $cat, $sev, $status, $score, $rkey, $rname, $zone)
            """, tx);
        var parameters = new[] { "$scan", "$fp", "$rule", "$title", "$cat", "$sev", "$status", "$score", "$rkey", "$rname", "$zone" }
            .ToDictionary(n => n, n => insertFinding.Parameters.Add(n, SqliteType.Text));
        parameters["$scan"].SqliteType = SqliteType.Integer;
        parameters["$score"].SqliteType = SqliteType.Real;
        insertFinding.Prepare();
        var n = 0;
        foreach (var f in report.Findings)
        {
            parameters["$scan"].Value = id;
            parameters["$fp"].Value = f.Fingerprint;
            parameters["$rule"].Value = f.RuleId;
            parameters["$title"].Value = f.Title;
            parameters["$cat"].Value = f.Category;
            parameters["$sev"].Value = f.Severity.ToName();
            parameters["$status"].Value = f.Status.ToName();
            parameters["$score"].Value = f.Score;
            parameters["$rkey"].Value = ScanReport.ResourceKey(f.Resource);
            parameters["$rname"].Value = f.Resource.Name;
            parameters["$zone"].Value = (object?)f.Resource.Zone ?? DBNull.Value;
            insertFinding.ExecuteNonQuery();
            afterFinding?.Invoke(++n);
        }

        using var insertResource = Command("INSERT OR IGNORE INTO resources (scan_id, resource_key) VALUES ($scan, $key)", tx);
        var scanParam = insertResource.Parameters.Add("$scan", SqliteType.Integer);
        var keyParam = insertResource.Parameters.Add("$key", SqliteType.Text);
        insertResource.Prepare();
        foreach (var key in report.Resources.Select(ScanReport.ResourceKey).Distinct(StringComparer.Ordinal))
        {
            scanParam.Value = id;
            keyParam.Value = key;
            insertResource.ExecuteNonQuery();
        }

        tx.Commit();
        return id;
    }

    /// <summary>Saved scans, newest first.</summary>
    public ImmutableArray<ScanSummary> List(int limit = 50, string? targetsKey = null)
    {
        using var cmd = Command($"""
            SELECT s.id, s.started_at, s.targets_key, s.inputs, s.profile, s.failed, s.waived, s.passed, s.not_evaluated,
                   (SELECT COUNT(*) FROM resources r WHERE r.scan_id = s.id)
            FROM scans s {(targetsKey is null ? "" : "WHERE s.targets_key = $targets")}
            ORDER BY s.id DESC LIMIT $limit
            """);
        cmd.Parameters.AddWithValue("$limit", limit);
        if (targetsKey is not null)
        {
            cmd.Parameters.AddWithValue("$targets", targetsKey);
        }

        using var reader = cmd.ExecuteReader();
        var result = ImmutableArray.CreateBuilder<ScanSummary>();
        while (reader.Read())
        {
            result.Add(ReadSummary(reader));
        }

        return result.ToImmutable();
    }

    public ScanSummary? Find(long id)
    {
        using var cmd = Command("""
            SELECT s.id, s.started_at, s.targets_key, s.inputs, s.profile, s.failed, s.waived, s.passed, s.not_evaluated,
                   (SELECT COUNT(*) FROM resources r WHERE r.scan_id = s.id)
            FROM scans s WHERE s.id = $id
            """);
        cmd.Parameters.AddWithValue("$id", id);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadSummary(reader) : null;
    }

    /// <summary>The JSON report stored with a scan, exactly as it was written.</summary>
    public string? ReportJson(long id)
    {
        using var cmd = Command("SELECT report_json FROM scans WHERE id = $id");
        cmd.Parameters.AddWithValue("$id", id);
        return cmd.ExecuteScalar() as string;
    }

    public StoredScan? Load(long id)
    {
        if (Find(id) is not { } summary)
        {
            return null;
        }

        using var cmd = Command("""
            SELECT fingerprint, rule_id, title, category, severity, status, score, resource_key, resource_name, zone
            FROM findings WHERE scan_id = $id ORDER BY score DESC, fingerprint
            """);
        cmd.Parameters.AddWithValue("$id", id);
        var findings = ImmutableArray.CreateBuilder<StoredFinding>();
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                findings.Add(new StoredFinding(
                    reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetDouble(6), reader.GetString(7), reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
            }
        }

        using var res = Command("SELECT resource_key FROM resources WHERE scan_id = $id");
        res.Parameters.AddWithValue("$id", id);
        var resources = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        using (var reader = res.ExecuteReader())
        {
            while (reader.Read())
            {
                resources.Add(reader.GetString(0));
            }
        }

        return new StoredScan(summary, findings.ToImmutable(), resources.ToImmutable());
    }

    /// <summary>True when the finding was failing (or waived) in a scan of the same targets before <paramref name="beforeScanId"/>.</summary>
    public bool FailedBefore(string fingerprint, string targetsKey, long beforeScanId)
    {
        using var cmd = Command("""
            SELECT 1 FROM findings f JOIN scans s ON s.id = f.scan_id
            WHERE f.fingerprint = $fp AND s.targets_key = $targets AND s.id < $before AND f.status IN ('fail', 'waived')
            LIMIT 1
            """);
        cmd.Parameters.AddWithValue("$fp", fingerprint);
        cmd.Parameters.AddWithValue("$targets", targetsKey);
        cmd.Parameters.AddWithValue("$before", beforeScanId);
        return cmd.ExecuteScalar() is not null;
    }

    /// <summary>Failing-finding counts per severity for the last scans of the same targets, oldest first (for trend charts).</summary>
    public ImmutableArray<(long Id, DateTimeOffset StartedAt, int Failed, int Waived)> Trend(string targetsKey, int limit = 20) =>
        List(limit, targetsKey).Reverse().Select(s => (s.Id, s.StartedAt, s.Failed, s.Waived)).ToImmutableArray();

    /// <summary>Failing (unwaived) findings per severity of the last scans of the same targets, oldest first.</summary>
    public ImmutableArray<(DateTimeOffset StartedAt, int Critical, int High, int Medium, int Low, int Info)> SeverityTrend(string targetsKey, int limit = 20)
    {
        using var cmd = Command("""
            SELECT s.started_at,
                   SUM(f.severity = 'critical'), SUM(f.severity = 'high'), SUM(f.severity = 'medium'), SUM(f.severity = 'low'), SUM(f.severity = 'info')
            FROM scans s LEFT JOIN findings f ON f.scan_id = s.id AND f.status = 'fail'
            WHERE s.id IN (SELECT id FROM scans WHERE targets_key = $targets ORDER BY id DESC LIMIT $limit)
            GROUP BY s.id ORDER BY s.id
            """);
        cmd.Parameters.AddWithValue("$targets", targetsKey);
        cmd.Parameters.AddWithValue("$limit", limit);
        using var r = cmd.ExecuteReader();
        var result = ImmutableArray.CreateBuilder<(DateTimeOffset, int, int, int, int, int)>();
        while (r.Read())
        {
            int N(int i) => r.IsDBNull(i) ? 0 : r.GetInt32(i);
            result.Add((DateTimeOffset.Parse(r.GetString(0), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                N(1), N(2), N(3), N(4), N(5)));
        }

        return result.ToImmutable();
    }

    public void Dispose()
    {
        _connection.Dispose();
    }

    private void Migrate()
    {
        Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        var current = SchemaVersion;
        if (current > Migrations[^1].Version)
        {
            throw new InvalidOperationException(
                $"the history database {Path} has schema version {current}, newer than this VirtSecScan knows ({Migrations[^1].Version}); use a newer VirtSecScan");
        }

        foreach (var (version, name, sql) in Migrations.Where(m => m.Version > current))
        {
            using var tx = _connection.BeginTransaction();
            using (var cmd = Command(sql, tx))
            {
                cmd.ExecuteNonQuery();
            }

            using (var mark = Command("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($v, $n, $t)", tx))
            {
                mark.Parameters.AddWithValue("$v", version);
                mark.Parameters.AddWithValue("$n", name);
                mark.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                mark.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    private static ScanSummary ReadSummary(SqliteDataReader r) => new(
        r.GetInt64(0),
        DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        r.GetInt32(5),
        r.GetInt32(6),
        r.GetInt32(7),
        r.GetInt32(8),
        r.GetInt32(9));

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    private void Execute(string sql)
    {
        using var cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var cmd = Command(sql);
        return cmd.ExecuteScalar();
    }
}
