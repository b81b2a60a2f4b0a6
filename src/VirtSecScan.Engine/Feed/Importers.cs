using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Feed;

/// <summary>
/// Turns a vendor's "fixed version" text into a fix row: an ESXi release token (<c>ESXi80U2sb-23305545</c>), an old
/// record form (<c>ESXi_7.0.1-0.0.16850804</c>), a name with a build (<c>8.0 U3d build 24585383</c>), a bare name
/// (<c>8.0 U3b</c>, looked up in the feed's build map), a Windows version (<c>10.0.20348.2582</c>) or a package version.
/// </summary>
public static partial class FixSpec
{
    [GeneratedRegex(@"ESXi(?<maj>\d)(?<min>\d)(?:U(?<u>\d+))?s?[a-z]*-(?<build>\d{5,})", RegexOptions.CultureInvariant)]
    private static partial Regex EsxiToken();

    [GeneratedRegex(@"ESXi_(?<v>\d+\.\d+)\.(?<u>\d+)-[\d.]*?\.?(?<build>\d{6,})", RegexOptions.CultureInvariant)]
    private static partial Regex OldToken();

    [GeneratedRegex(@"(?<v>\d+\.\d+)(?:\.(?<u3>\d+))?\s*(?:(?:Update\s*|U)(?<u>\d+))?\s*(?<p>[a-z]{1,2})?\b", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Name();

    [GeneratedRegex(@"\b(?<build>\d{7,9})\b", RegexOptions.CultureInvariant)]
    private static partial Regex Build();

    /// <summary>The product id a vendor product name stands for, or null.</summary>
    public static string? ProductOf(string name) => name switch
    {
        _ when name.Contains("vCenter", StringComparison.OrdinalIgnoreCase) => Products.Vcenter,
        _ when name.Contains("ESXi", StringComparison.OrdinalIgnoreCase) => Products.Esxi,
        _ when name.Contains("Proxmox", StringComparison.OrdinalIgnoreCase) || name.Contains("pve-", StringComparison.OrdinalIgnoreCase) => Products.ProxmoxVe,
        _ when name.Contains("Hyper-V", StringComparison.OrdinalIgnoreCase) || name.Contains("Windows Server", StringComparison.OrdinalIgnoreCase) => Products.HyperV,
        _ when name.Contains("libvirt", StringComparison.OrdinalIgnoreCase) => Products.Libvirt,
        _ when name.Contains("QEMU", StringComparison.OrdinalIgnoreCase) => Products.Qemu,
        _ when name.Contains("Xen", StringComparison.OrdinalIgnoreCase) || name.Contains("XCP-ng", StringComparison.OrdinalIgnoreCase) => Products.Xen,
        _ => null,
    };

    /// <summary>"8.0 Update 3b", "vCenter Server 8.0 U3b" → "8.0U3b" (for matching names against the build map).</summary>
    public static string? NameKey(string text)
    {
        var m = Name().Match(text);
        return m.Success ? m.Groups["v"].Value + (m.Groups["u"].Success ? "U" + m.Groups["u"].Value : "") + m.Groups["p"].Value.ToLowerInvariant() : null;
    }

    /// <summary>The update line a product text names (<c>ESXi 7.0</c> → 7.0; <c>8.0 U2</c> → 8.0U2), for no-fix rows.</summary>
    public static string? LineOf(string product, string text)
    {
        if (product is Products.Esxi or Products.Vcenter)
        {
            var m = Name().Match(text);
            return m.Success ? m.Groups["v"].Value + (m.Groups["u"].Success ? "U" + m.Groups["u"].Value : "") : null;
        }

        var v = Regex.Match(text, @"\d+(?:\.\d+)+(?:-\S+)?");
        return product == Products.HyperV && v.Success && v.Value.Split('.') is { Length: >= 3 } p ? p[2] : v.Success ? Products.VersionLine(product, v.Value) : null;
    }

    /// <summary>Resolves a fixed-version text to (line, build, version, name); <paramref name="problem"/> says why not.</summary>
    public static (string Line, long? Build, string? Version, string Name)? Resolve(string product, string text, AdvisoryFeed feed, out string? problem)
    {
        problem = null;
        text = text.Trim();
        if (product is Products.Esxi or Products.Vcenter)
        {
            var t = EsxiToken().Match(text);
            if (t.Success)
            {
                var line = $"{t.Groups["maj"].Value}.{t.Groups["min"].Value}" + (t.Groups["u"].Success ? "U" + t.Groups["u"].Value : "");
                return (line, long.Parse(t.Groups["build"].Value, CultureInfo.InvariantCulture), null, t.Value);
            }

            var o = OldToken().Match(text);
            if (o.Success)
            {
                var u = int.Parse(o.Groups["u"].Value, CultureInfo.InvariantCulture);
                return (o.Groups["v"].Value + (u > 0 ? "U" + u : ""), long.Parse(o.Groups["build"].Value, CultureInfo.InvariantCulture), null, o.Value);
            }

            var b = Build().Match(text);
            var key = NameKey(text);
            if (b.Success)
            {
                var build = long.Parse(b.Groups["build"].Value, CultureInfo.InvariantCulture);
                var line = feed.FindBuild(product, build)?.Line ?? (key is null ? null : Regex.Replace(key, "[a-z]+$", ""));
                if (line is not null)
                {
                    return (line, build, null, text);
                }
            }

            if (key is not null)
            {
                var known = feed.Builds.Where(x => x.Product == product && NameKey(x.Name) == key).ToList();
                if (known.Count > 0)
                {
                    var pick = known.MinBy(x => x.Build)!;
                    return (pick.Line, pick.Build, null, text);
                }

                problem = $"'{text}' names no build, and the {product} build map has no release named {key}";
                return null;
            }

            problem = $"'{text}' is not an {product} release (a token such as ESXi80U2sb-23305545, or a name with a build)";
            return null;
        }

        if (product == Products.HyperV)
        {
            var w = Regex.Match(text, @"10\.0\.(?<b>\d{5})\.(?<ubr>\d+)");
            if (w.Success)
            {
                return (w.Groups["b"].Value, long.Parse(w.Groups["ubr"].Value, CultureInfo.InvariantCulture), null, w.Value);
            }

            problem = $"'{text}' is not a Windows version 10.0.<build>.<UBR>";
            return null;
        }

        var v = Regex.Match(text, @"(?:\d+:)?\d+(?:\.\d+)+(?:-[0-9A-Za-z.+~]+)?");
        if (v.Success && Products.VersionLine(product, v.Value) is { } vl)
        {
            return (vl, null, v.Value, text);
        }

        problem = $"'{text}' is not a version";
        return null;
    }
}

/// <summary>
/// Imports a CSAF 2.0 advisory (JSON): <c>document.tracking</c> (id, version, dates), <c>product_tree</c> branches
/// (product names and versions), <c>vulnerabilities[]</c> (<c>cve</c>, CVSS v3 scores, <c>product_status.fixed</c> /
/// <c>first_fixed</c> → fix rows, <c>remediations</c> <c>no_fix_planned</c> / <c>none_available</c> → no-fix rows,
/// <c>workaround</c> details). Products the feed does not know are left out and reported.
/// </summary>
public static class CsafImporter
{
    public static (Advisory Advisory, ImmutableArray<string> Warnings) Import(string text, string file, AdvisoryFeed feed)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new DataFileException(file, (int?)(ex.LineNumber + 1), "not valid JSON: " + ex.Message);
        }

        using (doc)
        {
            var warnings = ImmutableArray.CreateBuilder<string>();
            var root = doc.RootElement;
            var document = Obj(root, "document", "$", file, text);
            var version = Str(document, "csaf_version");
            if (version != "2.0")
            {
                throw new DataFileException(file, LineOf(text, "csaf_version"), $"$.document.csaf_version is '{version ?? "missing"}', expected \"2.0\"");
            }

            var tracking = Obj(document, "tracking", "$.document", file, text);
            var id = Str(tracking, "id") ?? throw new DataFileException(file, LineOf(text, "tracking"), "$.document.tracking.id is missing");
            var (baseId, revision) = SplitRevision(id, Str(tracking, "version"));
            var published = Date(Str(tracking, "initial_release_date")) ?? throw new DataFileException(file, LineOf(text, "initial_release_date"), "$.document.tracking.initial_release_date is missing or not a date");
            var updated = Date(Str(tracking, "current_release_date"));
            var title = Str(document, "title") ?? baseId;
            var severity = document.TryGetProperty("aggregate_severity", out var agg) ? Str(agg, "text")?.ToLowerInvariant() : null;
            var source = document.TryGetProperty("references", out var refs) && refs.ValueKind == JsonValueKind.Array
                ? refs.EnumerateArray().Select(r => Str(r, "url")).FirstOrDefault(u => u is not null)
                : null;

            // product_id → full name along the branch path
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("product_tree", out var tree))
            {
                Walk(tree, "", names);
                if (tree.TryGetProperty("full_product_names", out var full) && full.ValueKind == JsonValueKind.Array)
                {
                    foreach (var p in full.EnumerateArray())
                    {
                        if (Str(p, "product_id") is { } pid)
                        {
                            names[pid] = Str(p, "name") ?? pid;
                        }
                    }
                }
            }

            var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            if (root.TryGetProperty("product_tree", out var t2) && t2.TryGetProperty("product_groups", out var pg) && pg.ValueKind == JsonValueKind.Array)
            {
                foreach (var g in pg.EnumerateArray())
                {
                    if (Str(g, "group_id") is { } gid && g.TryGetProperty("product_ids", out var ids))
                    {
                        groups[gid] = ids.EnumerateArray().Select(i => i.GetString() ?? "").ToList();
                    }
                }
            }

            if (!root.TryGetProperty("vulnerabilities", out var vulns) || vulns.ValueKind != JsonValueKind.Array)
            {
                throw new DataFileException(file, LineOf(text, "vulnerabilities"), "$.vulnerabilities is missing: nothing to import");
            }

            var cves = new List<AdvisoryCve>();
            var rows = new Dictionary<(string Product, string Line, long? Build, string? Version, bool NoFix), (string Name, SortedSet<string> Cves)>();
            var workarounds = new List<string>();
            var index = 0;
            foreach (var v in vulns.EnumerateArray())
            {
                var path = $"$.vulnerabilities[{index}]";
                var cve = Str(v, "cve");
                if (cve is null)
                {
                    warnings.Add($"{path} has no cve; skipped");
                    index++;
                    continue;
                }

                double? cvss = null;
                string? vector = null;
                if (v.TryGetProperty("scores", out var scores) && scores.ValueKind == JsonValueKind.Array)
                {
                    foreach (var s in scores.EnumerateArray())
                    {
                        if (s.TryGetProperty("cvss_v3", out var c3) && c3.TryGetProperty("baseScore", out var bs) && bs.TryGetDouble(out var score))
                        {
                            cvss = Math.Max(cvss ?? 0, score);
                            vector ??= Str(c3, "vectorString");
                        }
                    }
                }

                string? summary = null;
                if (v.TryGetProperty("notes", out var notes) && notes.ValueKind == JsonValueKind.Array)
                {
                    summary = notes.EnumerateArray().Where(n => Str(n, "category") is "summary" or "description").Select(n => Str(n, "text")).FirstOrDefault(t => t is not null);
                }

                summary ??= Str(v, "title");
                cves.Add(new AdvisoryCve(cve, cvss, vector, summary, null, $"https://www.cve.org/CVERecord?id={cve}"));

                IEnumerable<string> Ids(JsonElement e, string name) => e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array
                    ? a.EnumerateArray().Select(x => x.GetString() ?? "")
                    : [];

                if (v.TryGetProperty("product_status", out var status))
                {
                    foreach (var pid in Ids(status, "fixed").Concat(Ids(status, "first_fixed")).Distinct(StringComparer.Ordinal))
                    {
                        var name = names.GetValueOrDefault(pid, pid);
                        if (FixSpec.ProductOf(name) is not { } product)
                        {
                            warnings.Add($"{path}: product '{name}' is not a product the feed knows; left out");
                            continue;
                        }

                        if (FixSpec.Resolve(product, name, feed, out var problem) is { } fix)
                        {
                            Add(rows, (product, fix.Line, fix.Build, fix.Version, false), fix.Name, cve);
                        }
                        else
                        {
                            throw new DataFileException(file, LineOf(text, pid), $"{path}: fixed product {pid}: {problem}");
                        }
                    }
                }

                if (v.TryGetProperty("remediations", out var rems) && rems.ValueKind == JsonValueKind.Array)
                {
                    foreach (var r in rems.EnumerateArray())
                    {
                        var category = Str(r, "category");
                        var pids = Ids(r, "product_ids").Concat(Ids(r, "group_ids").SelectMany(g => groups.GetValueOrDefault(g, []))).ToList();
                        if (category is "no_fix_planned" or "none_available")
                        {
                            foreach (var pid in pids)
                            {
                                var name = names.GetValueOrDefault(pid, pid);
                                if (FixSpec.ProductOf(name) is { } product && FixSpec.LineOf(product, name) is { } line)
                                {
                                    Add(rows, (product, line, null, null, true), name, cve);
                                }
                                else
                                {
                                    warnings.Add($"{path}: no-fix product '{name}' cannot be placed on a line; left out");
                                }
                            }
                        }
                        else if (category is "workaround" or "mitigation" && Str(r, "details") is { } details && !workarounds.Contains(details))
                        {
                            workarounds.Add(details);
                        }
                    }
                }

                index++;
            }

            if (cves.Count == 0)
            {
                throw new DataFileException(file, LineOf(text, "vulnerabilities"), "no vulnerability with a CVE id");
            }

            if (rows.Count == 0)
            {
                throw new DataFileException(file, LineOf(text, "product_status"), "no fixed or no-fix product could be mapped to a feed product and update line");
            }

            var fixes = rows.OrderBy(r => r.Key.Product, StringComparer.Ordinal).ThenBy(r => r.Key.Line, StringComparer.Ordinal)
                .Select(r => new AdvisoryFix(r.Key.Product, r.Key.Line, r.Key.Build, r.Key.NoFix ? null : r.Value.Name, r.Key.NoFix, [.. r.Value.Cves], r.Key.Version))
                .ToImmutableArray();
            var advisory = new Advisory(baseId, revision, published, updated, title, severity, source ?? "urn:csaf:" + baseId,
                [.. cves.DistinctBy(c => c.Id)], fixes, [.. workarounds], [$"Imported from CSAF {Path.GetFileName(file)} (tracking version {Str(tracking, "version") ?? "?"})."], file);
            return (advisory, warnings.ToImmutable());
        }
    }

    private static void Add(Dictionary<(string, string, long?, string?, bool), (string Name, SortedSet<string> Cves)> rows, (string, string, long?, string?, bool) key, string name, string cve)
    {
        if (!rows.TryGetValue(key, out var entry))
        {
            entry = (name, new SortedSet<string>(StringComparer.Ordinal));
            rows[key] = entry;
        }

        entry.Cves.Add(cve);
    }

    private static void Walk(JsonElement node, string prefix, Dictionary<string, string> names)
    {
        if (!node.TryGetProperty("branches", out var branches) || branches.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var b in branches.EnumerateArray())
        {
            var name = Str(b, "name") ?? "";
            var path = (prefix + " " + name).Trim();
            if (b.TryGetProperty("product", out var p) && Str(p, "product_id") is { } pid)
            {
                names[pid] = (path + " " + (Str(p, "name") ?? "")).Trim();
            }

            Walk(b, path, names);
        }
    }

    /// <summary>"VMSA-2024-0019.2" → (VMSA-2024-0019, 3); otherwise the tracking version's first number.</summary>
    public static (string Id, int Revision) SplitRevision(string id, string? trackingVersion)
    {
        var m = Regex.Match(id, @"^(?<id>VMSA-\d{4}-\d{4})\.(?<r>\d+)$");
        if (m.Success)
        {
            return (m.Groups["id"].Value, int.Parse(m.Groups["r"].Value, CultureInfo.InvariantCulture) + 1);
        }

        var r = trackingVersion is null ? null : Regex.Match(trackingVersion, @"^\d+");
        return (id, r is { Success: true } ? Math.Max(1, int.Parse(r.Value, CultureInfo.InvariantCulture)) : 1);
    }

    private static JsonElement Obj(JsonElement e, string name, string parent, string file, string text) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object
            ? v
            : throw new DataFileException(file, LineOf(text, name), $"{parent}.{name} is missing: not a CSAF 2.0 document");

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static DateOnly? Date(string? text) => text is null ? null : KevReader.ParseDate(text.Trim());

    public static int LineOf(string text, string needle)
    {
        var i = text.IndexOf($"\"{needle}\"", StringComparison.Ordinal);
        return i < 0 ? 1 : text.AsSpan(0, i).Count('\n') + 1;
    }
}

/// <summary>
/// Imports a VMware Security Advisory page saved from the Broadcom support portal (HTML): the advisory id (with its
/// <c>.N</c> revision suffix), issue and update dates, synopsis, and the Response Matrix tables (columns Product,
/// Version, CVE Identifier / CVE(s), CVSSv3, Severity, Fixed Version, Workarounds). Parsed with AngleSharp; no script
/// runs and nothing is fetched. A row whose fixed version cannot be placed is an error naming the page line.
/// </summary>
public static partial class VmsaHtmlImporter
{
    [GeneratedRegex(@"VMSA-\d{4}-\d{4}(?:\.\d+)?", RegexOptions.CultureInvariant)]
    private static partial Regex VmsaId();

    [GeneratedRegex(@"CVE-\d{4}-\d{4,}", RegexOptions.CultureInvariant)]
    private static partial Regex Cve();

    public static (Advisory Advisory, ImmutableArray<string> Warnings) Import(string html, string file, AdvisoryFeed feed)
    {
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false, IsKeepingSourceReferences = true });
        using var doc = parser.ParseDocument(html);
        foreach (var e in doc.QuerySelectorAll("script, style, noscript").ToList())
        {
            e.Remove();
        }

        var text = Regex.Replace(doc.Body?.TextContent ?? "", @"[ \t\r\f\v\u00a0]+", " ");
        var warnings = ImmutableArray.CreateBuilder<string>();
        var idMatch = VmsaId().Matches(text).Cast<Match>().OrderByDescending(m => m.Value.Length).FirstOrDefault()
                      ?? throw new DataFileException(file, 1, "no VMSA id (VMSA-YYYY-NNNN) on the page: not a VMware security advisory");
        var (id, revision) = CsafImporter.SplitRevision(idMatch.Value, null);
        var published = DateAfter(text, "Issue Date") ?? DateAfter(text, "Initial Publication Date")
                        ?? throw new DataFileException(file, 1, $"{id}: no 'Issue Date' on the page");
        var updated = DateAfter(text, "Updated On") ?? DateAfter(text, "Last Updated");
        var synopsis = Regex.Match(text, @"Synopsis:?\s*(?<s>[^\n]{10,300})");
        var title = synopsis.Success ? synopsis.Groups["s"].Value.Trim() : (doc.Title ?? id).Trim();

        var cvss = new Dictionary<string, double>(StringComparer.Ordinal);
        var rows = new Dictionary<(string Product, string Line, long? Build, bool NoFix), (string Name, SortedSet<string> Cves)>();
        var workarounds = new List<string>();
        var tables = 0;
        foreach (var table in doc.QuerySelectorAll("table"))
        {
            var trs = table.QuerySelectorAll("tr").ToList();
            if (trs.Count < 2)
            {
                continue;
            }

            var header = trs[0].Children.Select(c => Regex.Replace(c.TextContent, @"\s+", " ").Trim()).ToList();
            int Col(params string[] names)
            {
                var i = header.FindIndex(h => names.Any(n => h.StartsWith(n, StringComparison.OrdinalIgnoreCase)));
                return i >= 0 ? i : header.FindIndex(h => names.Any(n => h.Contains(n, StringComparison.OrdinalIgnoreCase)));
            }

            var (product, version, cveCol, cvssCol, fixedCol, workCol) = (Col("Product"), Col("Version"), Col("CVE"), Col("CVSS"), Col("Fixed Version"), Col("Workaround"));
            if (product < 0 || fixedCol < 0 || cveCol < 0)
            {
                continue;
            }

            tables++;
            foreach (var tr in trs.Skip(1))
            {
                var cells = tr.Children.Select(c => Regex.Replace(c.TextContent, @"\s+", " ").Trim()).ToList();
                string Cell(int i) => i >= 0 && i < cells.Count ? cells[i] : "";
                var line = tr.SourceReference?.Position.Line ?? 1;
                var productName = Cell(product);
                var rowCves = Cve().Matches(Cell(cveCol)).Select(m => m.Value).ToList();
                if (rowCves.Count == 0 || productName.Length == 0)
                {
                    continue;
                }

                if (FixSpec.ProductOf(productName) is not { } prod)
                {
                    warnings.Add($"{file}:{line}: product '{productName}' is not a product the feed knows; left out");
                    continue;
                }

                // CVSS of the products the feed covers only (a VMSA scores the same CVE differently per product).
                var scores = Regex.Matches(Cell(cvssCol), @"\d+(?:\.\d)?").Select(m => double.Parse(m.Value, CultureInfo.InvariantCulture)).ToList();
                for (var i = 0; i < rowCves.Count; i++)
                {
                    var score = scores.Count == rowCves.Count ? scores[i] : scores.Count > 0 ? scores.Max() : (double?)null;
                    if (score is { } sc && sc <= 10)
                    {
                        cvss[rowCves[i]] = Math.Max(cvss.GetValueOrDefault(rowCves[i]), sc);
                    }
                }

                var fixedText = Cell(fixedCol);
                if (Regex.IsMatch(fixedText, @"^(N/?A|Unaffected|Not affected)\b", RegexOptions.IgnoreCase))
                {
                    continue;
                }

                if (Regex.IsMatch(fixedText, @"^(None|Patch Pending|No fix|\[?Patch pending)", RegexOptions.IgnoreCase) || fixedText.Length == 0)
                {
                    var lineOf = FixSpec.LineOf(prod, Cell(version)) ?? throw new DataFileException(file, line, $"no-fix row: version '{Cell(version)}' is not an update line");
                    Add(rows, (prod, lineOf, null, true), fixedText, rowCves);
                    continue;
                }

                // A cell may list several fixes ("ESXi80U1d-23299997, ESXi80U2sb-23305545").
                var parts = Regex.Split(fixedText, @"\s*(?:,|;|\bor\b)\s*").Where(p => p.Length > 0).ToList();
                foreach (var part in parts)
                {
                    var spec = FixSpec.Resolve(prod, part + (Regex.IsMatch(part, @"\d+\.\d+") ? "" : " " + Cell(version)), feed, out var problem)
                               ?? throw new DataFileException(file, line, $"{id}: fixed version: {problem}");
                    Add(rows, (prod, spec.Line, spec.Build, false), spec.Name, rowCves);
                }

                var w = Cell(workCol);
                if (w.Length > 0 && !Regex.IsMatch(w, @"^(None|N/?A)$", RegexOptions.IgnoreCase) && !workarounds.Contains(w))
                {
                    workarounds.Add(w);
                }
            }
        }

        if (tables == 0)
        {
            throw new DataFileException(file, 1, $"{id}: no Response Matrix table (columns Product, CVE, Fixed Version) on the page");
        }

        if (rows.Count == 0)
        {
            throw new DataFileException(file, 1, $"{id}: the Response Matrix has no row for a product the feed knows");
        }

        var cveIds = rows.Values.SelectMany(r => r.Cves).Distinct().Order(StringComparer.Ordinal).ToList();
        var cves = cveIds.Select(c => new AdvisoryCve(c, cvss.TryGetValue(c, out var s) ? s : null, null, null, null, $"https://www.cve.org/CVERecord?id={c}")).ToImmutableArray();
        var max = cves.Max(c => c.Cvss) ?? 0;
        var severity = max >= 9 ? "critical" : max >= 7 ? "important" : max >= 4 ? "moderate" : "low";
        var fixes = rows.OrderBy(r => r.Key.Product, StringComparer.Ordinal).ThenBy(r => r.Key.Line, StringComparer.Ordinal)
            .Select(r => new AdvisoryFix(r.Key.Product, r.Key.Line, r.Key.Build, r.Key.NoFix ? null : r.Value.Name, r.Key.NoFix, [.. r.Value.Cves]))
            .ToImmutableArray();
        var source = Regex.Match(html, @"saved from url=\(\d+\)(?<u>\S+)") is { Success: true } sm ? sm.Groups["u"].Value.TrimEnd('-', '>', ' ') : $"https://support.broadcom.com/ (VMSA {id})";
        var advisory = new Advisory(id, revision, published, updated, title, severity, source, cves, fixes, [.. workarounds],
            [$"Imported from the saved VMSA page {Path.GetFileName(file)} ({idMatch.Value}); CVSS from the response matrix."], file);
        return (advisory, warnings.ToImmutable());
    }

    private static void Add(Dictionary<(string, string, long?, bool), (string Name, SortedSet<string> Cves)> rows, (string, string, long?, bool) key, string name, IEnumerable<string> cves)
    {
        if (!rows.TryGetValue(key, out var entry))
        {
            entry = (name, new SortedSet<string>(StringComparer.Ordinal));
            rows[key] = entry;
        }

        entry.Cves.UnionWith(cves);
    }

    private static DateOnly? DateAfter(string text, string label)
    {
        var m = Regex.Match(text, Regex.Escape(label) + @"\s*:?\s*(?<d>\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|[A-Z][a-z]+ \d{1,2},? \d{4})");
        if (!m.Success)
        {
            return null;
        }

        var d = m.Groups["d"].Value;
        string[] formats = ["yyyy-MM-dd", "M/d/yyyy", "MMMM d, yyyy", "MMMM d yyyy", "MMM d, yyyy"];
        return DateOnly.TryParseExact(d, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;
    }
}
