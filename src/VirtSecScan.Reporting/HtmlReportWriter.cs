using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>
/// One self-contained HTML file for auditors and officers: inline CSS and SVG charts, no fetch of any
/// kind (hospital networks are closed), a print stylesheet, and the ranked findings with evidence, score
/// factors, remediation and references. Every value from scanned data goes through <see cref="E"/>
/// (HTML-encoded, always inside double-quoted attributes or element text); the only script is the fixed
/// filter below, which reads data attributes and never holds data. A Content-Security-Policy allows that
/// script by its hash only, so even an injected handler would not run.
/// </summary>
public static class HtmlReportWriter
{
    /// <summary>The filter script. Fixed text: it never contains data, it reads <c>data-*</c> attributes.</summary>
    public const string FilterScript =
        "(function(){" +
        "var d=document,q=d.getElementById('q'),sev=d.getElementById('f-sev'),cat=d.getElementById('f-cat')," +
        "zone=d.getElementById('f-zone'),wv=d.getElementById('f-waived'),shown=d.getElementById('shown')," +
        "items=d.querySelectorAll('article.finding');" +
        "function apply(){var t=q.value.toLowerCase().trim(),n=0;" +
        "for(var i=0;i<items.length;i++){var a=items[i].dataset;" +
        "var ok=(!t||a.search.indexOf(t)>=0)&&(!sev.value||Number(a.sevrank)>=Number(sev.value))" +
        "&&(!cat.value||a.category===cat.value)&&(!zone.value||a.zone===zone.value)&&(wv.checked||a.status!=='waived');" +
        "items[i].hidden=!ok;if(ok){n++;}}" +
        "shown.textContent=String(n);}" +
        "[q,sev,cat,zone,wv].forEach(function(el){el.addEventListener('input',apply);el.addEventListener('change',apply);});" +
        "d.querySelector('form.filters').addEventListener('submit',function(e){e.preventDefault();});" +
        "d.documentElement.className+=' js';apply();})();";

    private static readonly string ScriptHash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(FilterScript)));

    public static void Write(ScanReport report, TextWriter writer, HtmlReportExtras? extras = null) =>
        writer.Write(ToHtml(report, extras));

    public static string ToHtml(ScanReport report, HtmlReportExtras? extras = null)
    {
        extras ??= HtmlReportExtras.None;
        var h = new StringBuilder(64 * 1024);
        var open = report.Findings.Where(f => !ReportText.IsWaived(f)).ToList();
        var waived = report.Findings.Count(ReportText.IsWaived);

        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; ")
            .Append("script-src 'sha256-").Append(ScriptHash).Append("'; base-uri 'none'; form-action 'none'\">\n");
        h.Append("<meta name=\"generator\" content=\"VirtSecScan ").Append(E(JsonReportWriter.ToolVersion)).Append("\">\n");
        h.Append("<title>VirtSecScan report · ").Append(E(report.Profile)).Append(" · ").Append(E(ReportText.Date(report.StartedAt))).Append("</title>\n");
        h.Append("<style>").Append(Css).Append("</style>\n</head>\n<body>\n");

        // Header
        h.Append("<header class=\"top\">\n<h1>VirtSecScan security report</h1>\n<p class=\"meta\">");
        h.Append("Scanned ").Append(E(ReportText.Date(report.StartedAt))).Append(" · profile <b>").Append(E(report.Profile)).Append("</b>");
        h.Append(" · inputs ").Append(E(string.Join(", ", report.Inputs)));
        if (report.Site is { } site)
        {
            h.Append(" · site model ").Append(E(site));
        }

        if (report.AdvisoryFeed.Published is { } published)
        {
            h.Append(" · advisory feed ").Append(E(published.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
                .Append(" (").Append(ReportText.Int(report.AdvisoryFeed.AgeDays ?? 0)).Append(" days old)");
        }

        h.Append(" · VirtSecScan ").Append(E(JsonReportWriter.ToolVersion)).Append("</p>\n</header>\n<main>\n");

        // Summary
        h.Append("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
        Card(h, "open findings", open.Count, "card-fail");
        foreach (var s in ReportText.SeveritiesHighFirst)
        {
            Card(h, s.ToName(), open.Count(f => f.Severity == s), "sev-" + s.ToName());
        }

        Card(h, "waived", waived, "card-waived");
        Card(h, "passed checks", report.Passed, "card-pass");
        Card(h, "not evaluated", report.NotEvaluated.Length, "card-ne");
        h.Append("</div>\n");
        if (report.NotEvaluated.Length > 0)
        {
            h.Append("<p class=\"note\">Checks that could not be evaluated are never counted as passed.</p>\n");
        }

        if (extras.Diff is { } diff)
        {
            h.Append("<div class=\"cards\" id=\"diff\">\n");
            Card(h, "new since last scan", diff.New, "diff-new");
            Card(h, "persisting", diff.Persisting, "diff-persisting");
            Card(h, "resolved", diff.Resolved, "diff-resolved");
            Card(h, "regressed", diff.Regressed, "diff-regressed");
            h.Append("</div>\n");
        }

        h.Append("<div class=\"charts\">\n");
        ChartBox(h, "Findings by severity", BarChart("chart-severity", "Open findings by severity",
            ReportText.SeveritiesHighFirst.Select(s => (s.ToName(), open.Count(f => f.Severity == s), SeverityColor(s))).ToList()));
        ChartBox(h, "Findings by threat category", BarChart("chart-category", "Open findings by threat category",
            ThreatCategory.Names.Select(c => ($"{c.Key} {c.Value}", open.Count(f => f.Category == c.Key), "#37474f")).ToList()));
        var top = open.GroupBy(f => f.Resource.Id)
            .Select(g => (Name: g.First().Resource.Name + (g.First().Resource.Zone is { } z ? $" ({z})" : ""), Count: g.Count(), Score: g.Sum(f => f.Score)))
            .OrderByDescending(x => x.Count).ThenByDescending(x => x.Score).ThenBy(x => x.Name, StringComparer.Ordinal)
            .Take(10).ToList();
        ChartBox(h, "Top affected systems", BarChart("chart-systems", "Systems with the most open findings",
            top.Select(t => (t.Name, t.Count, "#6a1b9a")).ToList()));
        if (extras.Reachability.Count > 0)
        {
            ChartBox(h, "Zone-to-zone reachability", Heatmap(extras.Reachability), wide: true);
        }

        if (extras.Trend.Count >= 2)
        {
            ChartBox(h, "Trend of open findings", TrendChart(extras.Trend), wide: true);
        }

        h.Append("</div>\n</section>\n");

        // Findings
        h.Append("<section id=\"findings\">\n<h2>Findings, ranked</h2>\n");
        h.Append("<form class=\"filters\" role=\"search\" aria-label=\"Filter findings\">\n");
        h.Append("<label>Search <input type=\"search\" id=\"q\" placeholder=\"VM, rule, setting, reference\"></label>\n");
        h.Append("<label>Severity <select id=\"f-sev\"><option value=\"\">all</option>");
        foreach (var s in ReportText.SeveritiesHighFirst)
        {
            h.Append("<option value=\"").Append(ReportText.Int((int)s)).Append("\">").Append(s.ToName()).Append(" and above</option>");
        }

        h.Append("</select></label>\n<label>Category <select id=\"f-cat\"><option value=\"\">all</option>");
        foreach (var (id, name) in ThreatCategory.Names)
        {
            h.Append("<option value=\"").Append(id).Append("\">").Append(id).Append(' ').Append(E(name)).Append("</option>");
        }

        h.Append("</select></label>\n<label>Zone <select id=\"f-zone\"><option value=\"\">all</option>");
        foreach (var zone in report.Findings.Select(f => f.Resource.Zone ?? "").Distinct().Order(StringComparer.Ordinal))
        {
            h.Append("<option value=\"").Append(E(zone)).Append("\">").Append(zone.Length == 0 ? "(no zone)" : E(zone)).Append("</option>");
        }

        h.Append("</select></label>\n<label class=\"check\"><input type=\"checkbox\" id=\"f-waived\" checked> show waived</label>\n");
        h.Append("<span class=\"count\"><span id=\"shown\">").Append(ReportText.Int(report.Findings.Length)).Append("</span> of ")
            .Append(ReportText.Int(report.Findings.Length)).Append(" shown</span>\n</form>\n");
        if (report.Findings.Length == 0)
        {
            h.Append("<p class=\"none\">No findings.</p>\n");
        }

        foreach (var f in report.Findings)
        {
            FindingArticle(h, f, extras.Diff);
        }

        h.Append("</section>\n");

        // Not evaluated
        if (report.NotEvaluated.Length > 0)
        {
            h.Append("<section id=\"not-evaluated\">\n<h2>Not evaluated</h2>\n<table class=\"grid\"><thead><tr><th>Rule</th><th>Resource</th><th>Reason</th></tr></thead><tbody>\n");
            // A live target that left more than UncollectedRules.GroupAbove checks unevaluated is shown as one row per rule.
            var grouped = report.NotEvaluated.GroupBy(VirtSecScan.Engine.Live.UncollectedRules.TargetOf)
                .Where(g => g.Key is not null && g.Count() > VirtSecScan.Engine.Live.UncollectedRules.GroupAbove)
                .Select(g => g.Key!).ToHashSet(StringComparer.Ordinal);
            foreach (var f in report.NotEvaluated.Where(f => VirtSecScan.Engine.Live.UncollectedRules.TargetOf(f) is not { } t || !grouped.Contains(t)))
            {
                h.Append("<tr><td><code>").Append(E(f.RuleId)).Append("</code></td><td>").Append(E(f.Resource.Name)).Append("</td><td>")
                    .Append(E(f.Reason ?? "not evaluated")).Append("</td></tr>\n");
            }

            foreach (var g in report.NotEvaluated.Where(f => VirtSecScan.Engine.Live.UncollectedRules.TargetOf(f) is { } t && grouped.Contains(t))
                         .GroupBy(f => (Target: VirtSecScan.Engine.Live.UncollectedRules.TargetOf(f)!, f.RuleId)).OrderBy(g => g.Key.Target, StringComparer.Ordinal).ThenBy(g => g.Key.RuleId, StringComparer.Ordinal))
            {
                var names = g.Select(f => f.Resource.Name).Distinct(StringComparer.Ordinal).ToList();
                var reasons = g.Select(f => f.Reason ?? "").Distinct(StringComparer.Ordinal).ToList();
                h.Append("<tr><td><code>").Append(E(g.Key.RuleId)).Append("</code></td><td>")
                    .Append(E($"{names.Count} resources of target {g.Key.Target}: {string.Join(", ", names.Take(5))}{(names.Count > 5 ? ", ..." : "")}")).Append("</td><td>")
                    .Append(E(reasons.Count == 1 ? reasons[0] : $"{reasons[0]} (and {reasons.Count - 1} other reasons; all in the JSON report)")).Append("</td></tr>\n");
            }

            h.Append("</tbody></table>\n</section>\n");
        }

        // Coverage
        h.Append("<section id=\"coverage\">\n<h2>Coverage</h2>\n<table class=\"grid\"><thead><tr><th>File</th><th>Format</th><th>Facts</th></tr></thead><tbody>\n");
        foreach (var c in report.Collected)
        {
            h.Append("<tr><td>").Append(E(c.File)).Append("</td><td><code>").Append(E(c.Format)).Append("</code></td><td class=\"num\">")
                .Append(ReportText.Int(c.Facts)).Append("</td></tr>\n");
        }

        foreach (var s in report.Skipped)
        {
            h.Append("<tr class=\"skipped\"><td>").Append(E(s.File)).Append("</td><td colspan=\"2\">skipped: ").Append(E(s.Reason)).Append("</td></tr>\n");
        }

        h.Append("</tbody></table>\n");
        if (report.Diagnostics.Length > 0)
        {
            h.Append("<h3>Diagnostics</h3>\n<ul class=\"diagnostics\">\n");
            foreach (var d in report.Diagnostics)
            {
                h.Append("<li class=\"diag-").Append(E(d.Level)).Append("\"><b>").Append(E(d.Level)).Append("</b> ")
                    .Append(E(d.Line is { } l ? $"{d.File}:{l.ToString(CultureInfo.InvariantCulture)}" : d.File)).Append(": ").Append(E(d.Message)).Append("</li>\n");
            }

            h.Append("</ul>\n");
        }

        h.Append("</section>\n</main>\n<footer><p>Generated by VirtSecScan ").Append(E(JsonReportWriter.ToolVersion))
            .Append(". Patient data and secrets are never shown; secrets are reported as present only.</p></footer>\n");
        h.Append("<script>").Append(FilterScript).Append("</script>\n</body>\n</html>\n");
        return h.ToString();
    }

    /// <summary>HTML-encodes text for element content and double-quoted attribute values.</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static void Card(StringBuilder h, string label, int value, string css) =>
        h.Append("<div class=\"card ").Append(css).Append("\"><span class=\"n\">").Append(ReportText.Int(value)).Append("</span><span class=\"l\">")
            .Append(E(label)).Append("</span></div>\n");

    private static void ChartBox(StringBuilder h, string title, string svg, bool wide = false) =>
        h.Append("<figure class=\"chart").Append(wide ? " wide" : "").Append("\"><figcaption>").Append(E(title)).Append("</figcaption>\n").Append(svg).Append("</figure>\n");

    private static void FindingArticle(StringBuilder h, Finding f, ScanDiffSummary? diff)
    {
        var sev = f.Severity.ToName();
        var status = f.Status.ToName();
        var search = string.Join(' ', new[] { f.Title, f.RuleId, f.Resource.Name, f.Resource.Id, f.Resource.Zone ?? "", f.Resource.Host ?? "", f.Category, sev, status }
            .Concat(f.Evidence.Select(e => e.Key))
            .Concat(f.References.Select(r => r.Id))).ToLowerInvariant();
        var state = diff?.StateByFingerprint.TryGetValue(f.Fingerprint, out var s) == true ? s : null;

        h.Append("<article class=\"finding sev-").Append(sev).Append(ReportText.IsWaived(f) ? " waived" : "").Append("\" id=\"f-").Append(E(f.Fingerprint))
            .Append("\" data-fingerprint=\"").Append(E(f.Fingerprint))
            .Append("\" data-rule=\"").Append(E(f.RuleId))
            .Append("\" data-severity=\"").Append(sev)
            .Append("\" data-sevrank=\"").Append(ReportText.Int((int)f.Severity))
            .Append("\" data-category=\"").Append(E(f.Category))
            .Append("\" data-zone=\"").Append(E(f.Resource.Zone ?? ""))
            .Append("\" data-status=\"").Append(E(status))
            .Append("\" data-search=\"").Append(E(search)).Append("\">\n");
        h.Append("<header><span class=\"rank\">#").Append(ReportText.Int(f.Rank)).Append("</span>")
            .Append("<span class=\"badge sev-").Append(sev).Append("\">").Append(sev).Append("</span>")
            .Append("<span class=\"badge cat\" title=\"").Append(E(ThreatCategory.Names.TryGetValue(f.Category, out var cn) ? cn : "")).Append("\">").Append(E(f.Category)).Append("</span>");
        if (ReportText.IsWaived(f))
        {
            h.Append("<span class=\"badge waived-badge\">waived</span>");
        }
        else if (f.Status == FindingStatus.Error)
        {
            h.Append("<span class=\"badge error-badge\">error</span>");
        }

        if (state is not null)
        {
            h.Append("<span class=\"badge state-").Append(E(state)).Append("\">").Append(E(state)).Append("</span>");
        }

        if (f.Exploitation is { KnownExploited: true } x)
        {
            h.Append("<span class=\"badge kev\">CISA KEV").Append(x.RansomwareUse ? " · ransomware" : "").Append("</span>");
        }

        h.Append("<h3>").Append(E(f.Title)).Append("</h3><span class=\"score\">score ").Append(ReportText.Num(f.Score)).Append("</span></header>\n");

        h.Append("<p class=\"resource\"><b>").Append(E(f.Resource.Name)).Append("</b> <span class=\"dim\">").Append(E(f.Resource.Type)).Append(' ').Append(E(f.Resource.Id)).Append("</span>");
        if (f.Resource.Host is { } host)
        {
            h.Append(" · host ").Append(E(host));
        }

        if (f.Resource.Zone is { } zone)
        {
            h.Append(" · zone ").Append(E(zone));
        }

        var (file, line) = ReportText.Location(f);
        if (file is not null)
        {
            h.Append(" · <code>").Append(E(file)).Append(line is { } l ? ":" + ReportText.Int(l) : "").Append("</code>");
        }

        h.Append("</p>\n");

        if (f.Waiver is { } w)
        {
            h.Append("<div class=\"waiver\"><b>Waived</b> until ").Append(E(w.Expires.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
                .Append(" by ").Append(E(w.Approver)).Append(" (").Append(E(w.Id)).Append(", created ")
                .Append(E(w.Created.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))).Append("): ").Append(E(w.Justification)).Append("</div>\n");
        }

        h.Append("<div class=\"cols\">\n<div><h4>Evidence</h4>");
        if (f.Evidence.IsEmpty)
        {
            h.Append("<p class=\"dim\">none recorded</p>");
        }
        else
        {
            h.Append("<table class=\"grid\"><thead><tr><th>Setting</th><th>Actual</th><th>Expected</th><th>Where</th></tr></thead><tbody>");
            foreach (var e in f.Evidence)
            {
                h.Append("<tr><td><code>").Append(E(e.Key)).Append("</code></td><td>").Append(E(e.Actual ?? "(absent)")).Append("</td><td>")
                    .Append(E(e.Expected ?? "")).Append("</td><td class=\"dim\">").Append(E(e.Source ?? "")).Append(e.Line is { } el ? ":" + ReportText.Int(el) : "")
                    .Append("</td></tr>");
            }

            h.Append("</tbody></table>");
        }

        h.Append("</div>\n<div><h4>Why it ranks here</h4>");
        if (f.ScoreFactors.IsEmpty)
        {
            h.Append("<p class=\"dim\">no score factors</p>");
        }
        else
        {
            h.Append("<table class=\"grid\"><thead><tr><th>Factor</th><th>Value</th><th>Reason</th></tr></thead><tbody>");
            foreach (var sf in f.ScoreFactors)
            {
                h.Append("<tr><td>").Append(E(sf.Factor)).Append("</td><td class=\"num\">").Append(E(sf.Value.ToString("0.##", CultureInfo.InvariantCulture)))
                    .Append("</td><td>").Append(E(sf.Reason)).Append("</td></tr>");
            }

            h.Append("</tbody></table>");
        }

        h.Append("</div>\n</div>\n");
        if (f.Remediation is { } r)
        {
            h.Append("<h4>Remediation</h4><p>").Append(E(r.Summary)).Append("</p>");
            if (!r.Steps.IsEmpty)
            {
                h.Append("<ol class=\"steps\">");
                foreach (var step in r.Steps)
                {
                    h.Append("<li><code>").Append(E(step)).Append("</code></li>");
                }

                h.Append("</ol>");
            }

            h.Append('\n');
        }

        if (!f.References.IsEmpty || !f.Compliance.IsEmpty)
        {
            h.Append("<h4>References</h4><ul class=\"refs\">");
            foreach (var reference in f.References)
            {
                h.Append("<li><code>").Append(E(reference.Id)).Append("</code> ").Append(E(reference.Source)).Append("</li>");
            }

            foreach (var (framework, ids) in f.Compliance)
            {
                h.Append("<li>").Append(E(framework)).Append(": ").Append(E(string.Join(", ", ids))).Append("</li>");
            }

            h.Append("</ul>\n");
        }

        h.Append("<p class=\"fp dim\">rule <code>").Append(E(f.RuleId)).Append("</code> · fingerprint <code>").Append(E(f.Fingerprint)).Append("</code>");
        if (f.Profile is { } profile)
        {
            h.Append(" · profile ").Append(E(profile));
        }

        h.Append("</p>\n</article>\n");
    }

    /// <summary>A horizontal bar chart as inline SVG; labels are escaped text.</summary>
    internal static string BarChart(string id, string label, IReadOnlyList<(string Label, int Value, string Color)> bars)
    {
        const int labelWidth = 250, barArea = 260, rowHeight = 22, width = labelWidth + barArea + 40;
        var height = Math.Max(1, bars.Count) * rowHeight + 8;
        var max = Math.Max(1, bars.Count == 0 ? 1 : bars.Max(b => b.Value));
        var s = new StringBuilder();
        s.Append("<svg id=\"").Append(E(id)).Append("\" class=\"svg-chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"").Append(E(label))
            .Append("\" viewBox=\"0 0 ").Append(ReportText.Int(width)).Append(' ').Append(ReportText.Int(height))
            .Append("\" width=\"").Append(ReportText.Int(width)).Append("\" height=\"").Append(ReportText.Int(height)).Append("\">");
        if (bars.Count == 0)
        {
            s.Append("<text x=\"4\" y=\"16\" class=\"lbl\">no data</text>");
        }

        for (var i = 0; i < bars.Count; i++)
        {
            var (text, value, color) = bars[i];
            var y = 4 + (i * rowHeight);
            var w = value == 0 ? 0 : Math.Max(2, (int)Math.Round(barArea * (double)value / max));
            var shown = text.Length > 34 ? text[..33] + "…" : text;
            s.Append("<g class=\"bar\"><title>").Append(E(text)).Append(": ").Append(ReportText.Int(value)).Append("</title>")
                .Append("<text x=\"").Append(ReportText.Int(labelWidth - 6)).Append("\" y=\"").Append(ReportText.Int(y + 14)).Append("\" text-anchor=\"end\" class=\"lbl\">").Append(E(shown)).Append("</text>")
                .Append("<rect x=\"").Append(ReportText.Int(labelWidth)).Append("\" y=\"").Append(ReportText.Int(y + 2)).Append("\" width=\"").Append(ReportText.Int(w))
                .Append("\" height=\"").Append(ReportText.Int(rowHeight - 6)).Append("\" fill=\"").Append(color).Append("\"/>")
                .Append("<text x=\"").Append(ReportText.Int(labelWidth + w + 5)).Append("\" y=\"").Append(ReportText.Int(y + 14)).Append("\" class=\"val\">").Append(ReportText.Int(value)).Append("</text></g>");
        }

        s.Append("</svg>");
        return s.ToString();
    }

    /// <summary>A zone × zone grid: colour by how many ports are open from the row zone to the column zone.</summary>
    internal static string Heatmap(IReadOnlyList<ReachabilityCell> cells)
    {
        var zones = cells.SelectMany(c => new[] { c.FromZone, c.ToZone }).Distinct().Order(StringComparer.Ordinal).ToList();
        var byPair = cells.GroupBy(c => (c.FromZone, c.ToZone))
            .ToDictionary(g => g.Key, g => (Ports: g.SelectMany(c => c.Ports).Distinct().Order(StringComparer.Ordinal).ToList(),
                Rules: g.SelectMany(c => c.Rules).Distinct().Order(StringComparer.Ordinal).ToList()));
        const int cell = 34, left = 150, topPad = 150;
        var width = left + (zones.Count * cell) + 10;
        var height = topPad + (zones.Count * cell) + 10;
        var s = new StringBuilder();
        s.Append("<svg id=\"chart-reachability\" class=\"svg-chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Zone-to-zone reachability (rows: from, columns: to)\" viewBox=\"0 0 ")
            .Append(ReportText.Int(width)).Append(' ').Append(ReportText.Int(height)).Append("\" width=\"").Append(ReportText.Int(width)).Append("\" height=\"").Append(ReportText.Int(height)).Append("\">");
        for (var i = 0; i < zones.Count; i++)
        {
            var name = zones[i].Length > 20 ? zones[i][..19] + "…" : zones[i];
            s.Append("<text class=\"lbl\" x=\"").Append(ReportText.Int(left - 6)).Append("\" y=\"").Append(ReportText.Int(topPad + (i * cell) + 21)).Append("\" text-anchor=\"end\">").Append(E(name)).Append("</text>");
            var cx = left + (i * cell) + 21;
            s.Append("<text class=\"lbl\" transform=\"translate(").Append(ReportText.Int(cx)).Append(',').Append(ReportText.Int(topPad - 6)).Append(") rotate(-60)\">").Append(E(name)).Append("</text>");
        }

        for (var r = 0; r < zones.Count; r++)
        {
            for (var c = 0; c < zones.Count; c++)
            {
                var x = left + (c * cell);
                var y = topPad + (r * cell);
                string fill, label, tip;
                if (byPair.TryGetValue((zones[r], zones[c]), out var v))
                {
                    var any = v.Ports.Any(p => p.Equals("any", StringComparison.OrdinalIgnoreCase) || p == "*");
                    fill = v.Ports.Count == 0 ? "#c8e6c9" : any || v.Ports.Count >= 5 ? "#c62828" : v.Ports.Count >= 2 ? "#ef6c00" : "#fbc02d";
                    label = v.Ports.Count == 0 ? "" : any ? "any" : ReportText.Int(v.Ports.Count);
                    tip = $"{zones[r]} → {zones[c]}: " + (v.Ports.Count == 0 ? "denied" : string.Join(", ", v.Ports)) + (v.Rules.Count > 0 ? " (rules: " + string.Join(", ", v.Rules) + ")" : "");
                }
                else
                {
                    fill = r == c ? "#eeeeee" : "#fafafa";
                    label = "";
                    tip = $"{zones[r]} → {zones[c]}: no data";
                }

                s.Append("<g class=\"cell\"><title>").Append(E(tip)).Append("</title><rect x=\"").Append(ReportText.Int(x)).Append("\" y=\"").Append(ReportText.Int(y))
                    .Append("\" width=\"").Append(ReportText.Int(cell - 2)).Append("\" height=\"").Append(ReportText.Int(cell - 2)).Append("\" fill=\"").Append(fill).Append("\"/>");
                if (label.Length > 0)
                {
                    s.Append("<text class=\"val\" x=\"").Append(ReportText.Int(x + 16)).Append("\" y=\"").Append(ReportText.Int(y + 20)).Append("\" text-anchor=\"middle\">").Append(E(label)).Append("</text>");
                }

                s.Append("</g>");
            }
        }

        s.Append("</svg>");
        return s.ToString();
    }

    /// <summary>Open findings per scan over time: total and critical+high as two lines.</summary>
    internal static string TrendChart(IReadOnlyList<TrendPoint> points)
    {
        const int width = 560, height = 200, left = 40, right = 20, top = 14, bottom = 36;
        var ordered = points.OrderBy(p => p.ScannedAt).ToList();
        var max = Math.Max(1, ordered.Max(p => p.Total));
        double X(int i) => left + ((width - left - right) * (ordered.Count == 1 ? 0.5 : (double)i / (ordered.Count - 1)));
        double Y(int v) => top + ((height - top - bottom) * (1 - ((double)v / max)));
        string Line(Func<TrendPoint, int> value) => string.Join(' ', ordered.Select((p, i) =>
            X(i).ToString("0.#", CultureInfo.InvariantCulture) + "," + Y(value(p)).ToString("0.#", CultureInfo.InvariantCulture)));
        var s = new StringBuilder();
        s.Append("<svg id=\"chart-trend\" class=\"svg-chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Open findings per scan\" viewBox=\"0 0 ")
            .Append(ReportText.Int(width)).Append(' ').Append(ReportText.Int(height)).Append("\" width=\"").Append(ReportText.Int(width)).Append("\" height=\"").Append(ReportText.Int(height)).Append("\">");
        s.Append("<line x1=\"").Append(ReportText.Int(left)).Append("\" y1=\"").Append(ReportText.Int(height - bottom)).Append("\" x2=\"").Append(ReportText.Int(width - right))
            .Append("\" y2=\"").Append(ReportText.Int(height - bottom)).Append("\" stroke=\"#90a4ae\"/>");
        s.Append("<text class=\"lbl\" x=\"4\" y=\"").Append(ReportText.Int(top + 4)).Append("\">").Append(ReportText.Int(max)).Append("</text>");
        s.Append("<polyline fill=\"none\" stroke=\"#37474f\" stroke-width=\"2\" points=\"").Append(Line(p => p.Total)).Append("\"/>");
        s.Append("<polyline fill=\"none\" stroke=\"#c62828\" stroke-width=\"2\" stroke-dasharray=\"5 3\" points=\"").Append(Line(p => p.Critical + p.High)).Append("\"/>");
        for (var i = 0; i < ordered.Count; i++)
        {
            var p = ordered[i];
            s.Append("<g><title>").Append(E(ReportText.Date(p.ScannedAt))).Append(": ").Append(ReportText.Int(p.Total)).Append(" open, ")
                .Append(ReportText.Int(p.Critical + p.High)).Append(" critical or high</title><circle cx=\"").Append(X(i).ToString("0.#", CultureInfo.InvariantCulture))
                .Append("\" cy=\"").Append(Y(p.Total).ToString("0.#", CultureInfo.InvariantCulture)).Append("\" r=\"3.5\" fill=\"#37474f\"/></g>");
            if (i == 0 || i == ordered.Count - 1 || ordered.Count <= 8)
            {
                s.Append("<text class=\"lbl\" text-anchor=\"middle\" x=\"").Append(X(i).ToString("0.#", CultureInfo.InvariantCulture)).Append("\" y=\"").Append(ReportText.Int(height - bottom + 16)).Append("\">")
                    .Append(E(p.ScannedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))).Append("</text>");
            }
        }

        s.Append("<text class=\"lbl\" x=\"").Append(ReportText.Int(left)).Append("\" y=\"").Append(ReportText.Int(height - 4)).Append("\">— all open  - - critical + high</text>");
        s.Append("</svg>");
        return s.ToString();
    }

    private static string SeverityColor(Severity s) => s switch
    {
        Severity.Critical => "#b71c1c",
        Severity.High => "#e65100",
        Severity.Medium => "#f9a825",
        Severity.Low => "#1565c0",
        _ => "#757575",
    };

    private const string Css = """
:root{--fg:#1c2430;--dim:#5f6b7a;--line:#d5dbe3;--bg:#f6f8fa;--crit:#b71c1c;--high:#e65100;--med:#f9a825;--low:#1565c0;--info:#757575}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff}
header.top{background:#102a43;color:#fff;padding:18px 28px}
header.top h1{margin:0 0 4px;font-size:22px}
header.top .meta{margin:0;color:#d9e2ec;font-size:13px}
main{padding:8px 28px 28px;max-width:1280px}
h2{border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:28px}
h3{font-size:15px;margin:0;flex:1 1 auto}
h4{margin:12px 0 4px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--dim)}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.dim{color:var(--dim)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px;background:var(--bg)}
.card .n{display:block;font-size:24px;font-weight:700}
.card .l{font-size:12px;color:var(--dim)}
.card.sev-critical .n{color:var(--crit)}.card.sev-high .n{color:var(--high)}.card.sev-medium .n{color:#b58100}.card.sev-low .n{color:var(--low)}
.card-pass .n{color:#2e7d32}.card-ne .n{color:#8d6e00}.card-waived .n{color:#6a1b9a}
.charts{display:flex;flex-wrap:wrap;gap:14px}
figure.chart{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px;background:#fff;flex:0 1 auto;max-width:100%;overflow-x:auto}
figure.chart figcaption{font-weight:600;margin-bottom:6px}
.svg-chart{display:block;max-width:100%;height:auto}
.svg-chart .lbl{font-size:12px;fill:#37474f}
.svg-chart .val{font-size:12px;font-weight:600;fill:#1c2430}
.filters{display:none;flex-wrap:wrap;gap:12px;align-items:end;padding:10px;border:1px solid var(--line);border-radius:8px;background:var(--bg);margin:10px 0;position:sticky;top:0;z-index:1}
.js .filters{display:flex}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--dim);gap:2px}
.filters label.check{flex-direction:row;align-items:center;gap:6px}
.filters input[type=search]{min-width:240px}
.filters input,.filters select{font:inherit;padding:4px 6px}
.filters .count{margin-left:auto;color:var(--dim)}
article.finding{border:1px solid var(--line);border-left:6px solid var(--info);border-radius:6px;padding:10px 14px;margin:12px 0;break-inside:avoid-page}
article.sev-critical{border-left-color:var(--crit)}article.sev-high{border-left-color:var(--high)}article.sev-medium{border-left-color:var(--med)}article.sev-low{border-left-color:var(--low)}
article.waived{opacity:.8;background:repeating-linear-gradient(135deg,#fff,#fff 12px,#faf5ff 12px,#faf5ff 24px)}
article.finding header{display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.rank{font-weight:700;color:var(--dim);min-width:2.5em}
.score{color:var(--dim);font-size:12px}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:11px;font-weight:700;color:#fff;background:var(--info);text-transform:uppercase}
.badge.sev-critical{background:var(--crit)}.badge.sev-high{background:var(--high)}.badge.sev-medium{background:var(--med);color:#222}.badge.sev-low{background:var(--low)}
.badge.cat{background:#37474f}.badge.waived-badge{background:#6a1b9a}.badge.error-badge{background:#000}.badge.kev{background:#880e4f}
.badge.state-new{background:#00838f}.badge.state-regressed{background:#ad1457}.badge.state-persisting{background:#78909c}
.resource{margin:6px 0}
.waiver{border:1px dashed #6a1b9a;background:#f8f0fc;padding:6px 10px;border-radius:6px;margin:6px 0}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table.grid{border-collapse:collapse;width:100%;font-size:13px}
table.grid th,table.grid td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
table.grid th{background:var(--bg)}
td.num{text-align:right}
ol.steps{margin:4px 0 4px 20px;padding:0}ol.steps li{margin:3px 0}
ul.refs{margin:4px 0 4px 20px;padding:0}
.fp{font-size:12px;margin:8px 0 0}
tr.skipped td{color:var(--dim)}
.diag-error b{color:var(--crit)}.diag-warning b{color:#8d6e00}
footer{padding:12px 28px;color:var(--dim);font-size:12px;border-top:1px solid var(--line)}
.note{color:#8d6e00}
@media (max-width:800px){.cols{grid-template-columns:1fr}}
@media print{
 @page{margin:14mm}
 body{font-size:10.5pt}
 header.top{background:none;color:#000;border-bottom:2px solid #000;padding:0 0 6px}
 header.top .meta{color:#000}
 main{padding:0;max-width:none}
 .filters,.js .filters{display:none!important}
 article.finding{break-inside:avoid;page-break-inside:avoid}
 article.waived{background:none}
 figure.chart{break-inside:avoid}
 .badge{border:1px solid #000;-webkit-print-color-adjust:exact;print-color-adjust:exact}
 a{color:#000}
}
""";
}
