using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Feed;

/// <summary>
/// Reads the CISA Known Exploited Vulnerabilities catalog as published (<c>known_exploited_vulnerabilities.json</c>):
/// <c>catalogVersion</c>, <c>dateReleased</c>, <c>count</c>, <c>vulnerabilities[]</c> with the schema's required
/// <c>cveID</c>, <c>vendorProject</c>, <c>product</c>, <c>vulnerabilityName</c>, <c>dateAdded</c>, <c>shortDescription</c>,
/// <c>requiredAction</c>, <c>dueDate</c> and the optional <c>knownRansomwareCampaignUse</c> (<c>Known</c>/<c>Unknown</c>).
/// Any deviation is a <see cref="DataFileException"/> naming the file, the line and the JSON path.
/// </summary>
public static partial class KevReader
{
    private static readonly string[] Required = ["cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded", "shortDescription", "requiredAction", "dueDate"];

    [GeneratedRegex(@"^CVE-\d{4}-\d{4,}$", RegexOptions.CultureInvariant)]
    private static partial Regex CveId();

    public static KevCatalog Parse(string text, string file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new DataFileException(file, (int?)(ex.LineNumber + 1), "not valid JSON: " + ex.Message);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DataFileException(file, 1, "not a CISA KEV catalog: the top level must be an object with catalogVersion, dateReleased and vulnerabilities");
            }

            string Top(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()!
                : throw new DataFileException(file, LineOfProperty(text, name, 1), $"not a CISA KEV catalog: $.{name} (a string) is missing");

            var version = Top("catalogVersion");
            var released = ParseDate(Top("dateReleased"));
            if (!root.TryGetProperty("vulnerabilities", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new DataFileException(file, LineOfProperty(text, "vulnerabilities", 1), "not a CISA KEV catalog: $.vulnerabilities (an array) is missing");
            }

            var entries = ImmutableDictionary.CreateBuilder<string, KevEntry>(StringComparer.OrdinalIgnoreCase);
            var i = 0;
            foreach (var v in list.EnumerateArray())
            {
                var path = $"$.vulnerabilities[{i.ToString(CultureInfo.InvariantCulture)}]";
                var at = LineOfArrayItem(text, "vulnerabilities", i);
                if (v.ValueKind != JsonValueKind.Object)
                {
                    throw new DataFileException(file, at, $"{path} is not an object");
                }

                foreach (var name in Required)
                {
                    if (!v.TryGetProperty(name, out var p) || p.ValueKind != JsonValueKind.String)
                    {
                        throw new DataFileException(file, at, $"{path}.{name} (a string) is missing: not the CISA KEV schema");
                    }
                }

                var cve = v.GetProperty("cveID").GetString()!.Trim();
                if (!CveId().IsMatch(cve))
                {
                    throw new DataFileException(file, at, $"{path}.cveID '{cve}' is not a CVE id");
                }

                var added = ParseDate(v.GetProperty("dateAdded").GetString()!) ?? throw new DataFileException(file, at, $"{path}.dateAdded is not a date (YYYY-MM-DD)");
                var due = ParseDate(v.GetProperty("dueDate").GetString()!);
                var ransomware = v.TryGetProperty("knownRansomwareCampaignUse", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : "Unknown";
                if (ransomware is not ("Known" or "Unknown"))
                {
                    throw new DataFileException(file, at, $"{path}.knownRansomwareCampaignUse must be Known or Unknown, not '{ransomware}'");
                }

                entries[cve] = new KevEntry(added, ransomware == "Known", due);
                i++;
            }

            return new KevCatalog(version, released, entries.ToImmutable(), file);
        }
    }

    /// <summary>A date or date-time (<c>2025-08-25</c>, <c>2025-08-25T14:00:00.000Z</c>) as a date.</summary>
    public static DateOnly? ParseDate(string text) =>
        text.Length >= 10 && DateOnly.TryParseExact(text[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;

    /// <summary>The line of the <paramref name="index"/>-th element of a top-level array property.</summary>
    public static int LineOfArrayItem(string text, string property, int index)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        var inArray = false;
        var count = -1;
        try
        {
            while (reader.Read())
            {
                if (!inArray && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals(property))
                {
                    inArray = reader.Read() && reader.TokenType == JsonTokenType.StartArray;
                    continue;
                }

                if (inArray && reader.CurrentDepth == 2 && reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray or JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null)
                {
                    if (++count == index)
                    {
                        return LineAt(bytes, (int)reader.TokenStartIndex);
                    }
                }

                if (inArray && reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == 1)
                {
                    break;
                }
            }
        }
        catch (JsonException)
        {
            // fall through: no line
        }

        return 1;
    }

    private static int LineOfProperty(string text, string property, int fallback)
    {
        var i = text.IndexOf($"\"{property}\"", StringComparison.Ordinal);
        return i < 0 ? fallback : text.AsSpan(0, i).Count('\n') + 1;
    }

    private static int LineAt(byte[] bytes, int offset) => bytes.AsSpan(0, offset).Count((byte)'\n') + 1;
}

/// <summary>
/// Reads FIRST EPSS scores: an optional comment line <c>#model_version:v2023.03.01,score_date:2023-06-08T00:00:00+0000</c>,
/// the header <c>cve,epss,percentile</c>, then one row per CVE. A bad row is an error naming file and line.
/// </summary>
public static class EpssReader
{
    public static EpssTable Parse(string text, string file)
    {
        string? model = null;
        DateOnly? date = null;
        var scores = ImmutableDictionary.CreateBuilder<string, EpssScore>(StringComparer.OrdinalIgnoreCase);
        var header = false;
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim().TrimStart('\uFEFF');
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                foreach (var part in line.TrimStart('#').Split(','))
                {
                    var kv = part.Split(':', 2);
                    if (kv.Length == 2 && kv[0].Trim() == "model_version")
                    {
                        model = kv[1].Trim();
                    }
                    else if (kv.Length == 2 && kv[0].Trim() == "score_date")
                    {
                        date = KevReader.ParseDate(kv[1].Trim());
                    }
                }

                continue;
            }

            var cells = line.Split(',');
            if (!header)
            {
                if (cells.Length < 3 || cells[0].Trim() != "cve" || cells[1].Trim() != "epss" || cells[2].Trim() != "percentile")
                {
                    throw new DataFileException(file, n + 1, "not an EPSS file: expected the header 'cve,epss,percentile'");
                }

                header = true;
                continue;
            }

            if (cells.Length < 3 || !cells[0].StartsWith("CVE-", StringComparison.OrdinalIgnoreCase)
                || !double.TryParse(cells[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var epss)
                || !double.TryParse(cells[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var percentile)
                || epss is < 0 or > 1 || percentile is < 0 or > 1)
            {
                throw new DataFileException(file, n + 1, $"not an EPSS row (cve,epss,percentile with values 0..1): {(line.Length > 60 ? line[..60] + "..." : line)}");
            }

            scores[cells[0].Trim()] = new EpssScore(epss, percentile);
        }

        if (!header)
        {
            throw new DataFileException(file, 1, "not an EPSS file: no 'cve,epss,percentile' header");
        }

        return new EpssTable(model, date, scores.ToImmutable(), file);
    }
}
