using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Reporting.Tests;

public class HtmlReportTests
{
    private static IDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    [Fact]
    public void Demo_hospital_report_has_summary_charts_and_every_finding_with_its_details()
    {
        var report = TestReports.DemoHospital();
        var doc = Parse(HtmlReportWriter.ToHtml(report));

        Assert.NotNull(doc.QuerySelector("section#summary"));
        foreach (var id in new[] { "chart-severity", "chart-category", "chart-systems" })
        {
            var svg = doc.QuerySelector($"svg#{id}");
            Assert.NotNull(svg);
            Assert.NotEmpty(svg!.QuerySelectorAll("rect"));
        }

        // One bar per severity and one per threat category VT01..VT10.
        Assert.Equal(5, doc.QuerySelectorAll("svg#chart-severity g.bar").Length);
        Assert.Equal(10, doc.QuerySelectorAll("svg#chart-category g.bar").Length);

        var articles = doc.QuerySelectorAll("article.finding");
        Assert.Equal(report.Findings.Length, articles.Length);
        Assert.Equal(report.Findings.Select(f => f.Fingerprint), articles.Select(a => a.GetAttribute("data-fingerprint")));
        for (var i = 0; i < articles.Length; i++)
        {
            var f = report.Findings[i];
            var a = articles[i];
            Assert.Equal("#" + f.Rank, a.QuerySelector(".rank")!.TextContent);
            Assert.Equal(f.Title, a.QuerySelector("h3")!.TextContent);
            Assert.Equal(f.Severity.ToName(), a.GetAttribute("data-severity"));
            Assert.Equal(f.Category, a.GetAttribute("data-category"));
            Assert.Equal(f.Evidence.Length, a.QuerySelectorAll("h4 + table.grid")[0].QuerySelectorAll("tbody tr").Length);
            Assert.Equal(f.ScoreFactors.Length, a.QuerySelectorAll("table.grid")[1].QuerySelectorAll("tbody tr").Length);
            Assert.Equal(f.Remediation!.Steps.Length, a.QuerySelectorAll("ol.steps li").Length);
            foreach (var reference in f.References)
            {
                Assert.Contains(a.QuerySelectorAll("ul.refs code"), c => c.TextContent == reference.Id);
            }
        }

        // Filters: severity, category, zone, search; every zone of the findings is offered.
        Assert.NotNull(doc.QuerySelector("input#q[type=search]"));
        var zones = doc.QuerySelectorAll("select#f-zone option").Select(o => o.GetAttribute("value")).ToHashSet();
        Assert.All(report.Findings, f => Assert.Contains(f.Resource.Zone ?? "", zones));
        Assert.Contains("@media print", doc.QuerySelector("style")!.TextContent);
    }

    [Fact]
    public void Hostile_values_stay_text_no_script_or_handler_comes_from_data()
    {
        var report = TestReports.Hostile();
        var html = HtmlReportWriter.ToHtml(report);
        var doc = Parse(html);

        // Exactly one script, and it is the fixed filter script.
        var scripts = doc.QuerySelectorAll("script");
        Assert.Single(scripts);
        Assert.Equal(HtmlReportWriter.FilterScript, scripts[0].TextContent);
        Assert.Null(scripts[0].GetAttribute("src"));

        // No element carries an event handler attribute, and nothing from the data became an element.
        foreach (var element in doc.All)
        {
            Assert.DoesNotContain(element.Attributes, a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain(element.Attributes, a => a.Name == "autofocus" || (a.Name == "x" && element.NamespaceUri != "http://www.w3.org/2000/svg"));
        }

        Assert.Empty(doc.QuerySelectorAll("img, iframe, object, embed, h3 *, td *:not(code), ol.steps code *"));
        Assert.Single(doc.QuerySelectorAll(".waiver b"));

        // The hostile text is shown as text.
        var evil = doc.QuerySelectorAll("article.finding")[0];
        Assert.Equal(TestReports.EvilTitle, evil.QuerySelector("h3")!.TextContent);
        Assert.Equal(TestReports.EvilName, evil.QuerySelector(".resource b")!.TextContent);
        Assert.Equal(TestReports.EvilZone, evil.GetAttribute("data-zone"));
        Assert.Contains(evil.QuerySelectorAll("td"), td => td.TextContent == TestReports.EvilAttr);
        Assert.Contains(evil.QuerySelectorAll("ol.steps code"), c => c.TextContent == "<script>alert(4)</script>");
        Assert.Contains(doc.QuerySelectorAll("select#f-zone option"), o => o.GetAttribute("value") == TestReports.EvilZone);
        Assert.Contains(doc.QuerySelectorAll("svg#chart-systems text"), t => t.TextContent.StartsWith("<img src=x", StringComparison.Ordinal));
    }

    [Fact]
    public void Report_is_self_contained_and_locked_down_by_its_content_security_policy()
    {
        var doc = Parse(HtmlReportWriter.ToHtml(TestReports.Hostile()));
        Assert.Empty(doc.QuerySelectorAll("link, img, iframe, [src]"));
        Assert.Empty(doc.QuerySelectorAll("a[href^=http]"));
        var css = doc.QuerySelector("style")!.TextContent;
        Assert.DoesNotContain("@import", css);
        Assert.DoesNotContain("url(", css);
        Assert.DoesNotContain("@font-face", css);
        var csp = doc.QuerySelector("meta[http-equiv=Content-Security-Policy]")!.GetAttribute("content")!;
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("script-src 'sha256-", csp);
        Assert.DoesNotContain("unsafe-inline'; script", csp.Replace("style-src 'unsafe-inline'", "", StringComparison.Ordinal));

        // The hash in the policy is the hash of the script that is there.
        var hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(doc.QuerySelector("script")!.TextContent)));
        Assert.Contains($"'sha256-{hash}'", csp);
    }

    [Fact]
    public void Waived_finding_shows_a_badge_and_the_justification()
    {
        var doc = Parse(HtmlReportWriter.ToHtml(TestReports.Hostile()));
        var waived = doc.QuerySelectorAll("article.finding.waived");
        Assert.Single(waived);
        Assert.Equal("waived", waived[0].GetAttribute("data-status"));
        Assert.Equal("waived", waived[0].QuerySelector(".waived-badge")!.TextContent);
        Assert.Contains("<b>accepted</b> \" onclick=\"alert(5)", waived[0].QuerySelector(".waiver")!.TextContent);
        Assert.Contains("CISO Dr. Example", waived[0].QuerySelector(".waiver")!.TextContent);
        Assert.Equal("1", doc.QuerySelectorAll(".card-waived .n")[0].TextContent);
    }

    [Fact]
    public void Heatmap_trend_and_diff_appear_only_with_their_data()
    {
        var report = TestReports.Hostile();
        var plain = Parse(HtmlReportWriter.ToHtml(report));
        Assert.Null(plain.QuerySelector("#chart-reachability"));
        Assert.Null(plain.QuerySelector("#chart-trend"));
        Assert.Null(plain.QuerySelector("#diff"));

        var extras = new HtmlReportExtras
        {
            Reachability =
            [
                new ReachabilityCell("clinical", "insurer", ["tcp/2575", "tcp/443"], ["fw:rule-12"]),
                new ReachabilityCell("guest", "clinical", ["any"], ["fw:" + TestReports.EvilName]),
                new ReachabilityCell("insurer", "clinical", [], []),
            ],
            Trend =
            [
                new TrendPoint(TestReports.Started.AddDays(-14), 1, 3, 5, 2, 0),
                new TrendPoint(TestReports.Started.AddDays(-7), 1, 2, 4, 2, 0),
                new TrendPoint(TestReports.Started, 1, 0, 1, 0, 0),
            ],
            Diff = new ScanDiffSummary(1, 1, 3, 1)
            {
                StateByFingerprint = new Dictionary<string, string> { [report.Findings[0].Fingerprint] = "regressed" },
            },
        };
        var doc = Parse(HtmlReportWriter.ToHtml(report, extras));
        var heat = doc.QuerySelector("svg#chart-reachability")!;
        Assert.Equal(9, heat.QuerySelectorAll("g.cell").Length); // 3 zones x 3 zones
        Assert.Contains(heat.QuerySelectorAll("title"), t => t.TextContent.Contains("clinical → insurer: tcp/2575, tcp/443 (rules: fw:rule-12)", StringComparison.Ordinal));
        Assert.Contains(heat.QuerySelectorAll("text"), t => t.TextContent == "any");
        Assert.Contains(heat.QuerySelectorAll("title"), t => t.TextContent.Contains("insurer → clinical: denied", StringComparison.Ordinal));
        Assert.Contains(heat.QuerySelectorAll("title"), t => t.TextContent.Contains(TestReports.EvilName, StringComparison.Ordinal));
        Assert.Empty(doc.QuerySelectorAll("img"));

        var trend = doc.QuerySelector("svg#chart-trend")!;
        Assert.Equal(2, trend.QuerySelectorAll("polyline").Length);
        Assert.Equal(3, trend.QuerySelectorAll("circle").Length);
        Assert.Equal(4, doc.QuerySelectorAll("#diff .card").Length);
        Assert.Equal("regressed", doc.QuerySelectorAll("article.finding")[0].QuerySelector(".state-regressed")!.TextContent);
    }

    [Fact]
    public void A_report_without_findings_still_renders()
    {
        var doc = Parse(HtmlReportWriter.ToHtml(TestReports.Report()));
        Assert.Empty(doc.QuerySelectorAll("article.finding"));
        Assert.Equal("No findings.", doc.QuerySelector("#findings p.none")!.TextContent);
        Assert.NotNull(doc.QuerySelector("svg#chart-severity"));
    }
}
