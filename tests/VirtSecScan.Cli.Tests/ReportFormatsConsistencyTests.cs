using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using AngleSharp.Html.Parser;
using VirtSecScan.Reporting;

namespace VirtSecScan.Cli.Tests;

/// <summary>One scan of the demo hospital written in every format: all of them carry the same findings.</summary>
public sealed class ReportFormatsConsistencyTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void All_formats_agree_on_count_rule_ids_and_fingerprints()
    {
        var result = Cli.Run("scan", RepoPaths.DemoHospital, "--no-progress", "--format", "json,sarif,html,csv,md,ocsf,junit", "--output", _dir.Path);
        Assert.True(result.ExitCode is 0 or 3, result.Stderr);
        var expectedFiles = new[] { "findings.json", "findings.sarif", "findings.html", "findings.csv", "findings.md", "findings.ocsf.jsonl", "findings.junit.xml" };
        Assert.Equal(expectedFiles.Order(), Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order());

        using var json = JsonDocument.Parse(File.ReadAllText(_dir.File("findings.json")));
        var expected = json.RootElement.GetProperty("findings").EnumerateArray()
            .Select(f => (Rule: f.GetProperty("ruleId").GetString()!, Fp: f.GetProperty("fingerprint").GetString()!)).ToList();
        Assert.True(expected.Count > 10, "the demo hospital should have findings");
        Assert.Equal(expected.Count, json.RootElement.GetProperty("summary").GetProperty("failed").GetInt32());
        Assert.Equal(expected.Count, expected.Select(e => e.Fp).Distinct().Count());

        using var sarif = JsonDocument.Parse(File.ReadAllText(_dir.File("findings.sarif")));
        var fromSarif = sarif.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray()
            .Select(r => (r.GetProperty("ruleId").GetString()!, r.GetProperty("partialFingerprints").GetProperty("virtsecscan/v1").GetString()!)).ToList();
        Assert.Equal(expected, fromSarif);

        var html = new HtmlParser().ParseDocument(File.ReadAllText(_dir.File("findings.html")));
        var fromHtml = html.QuerySelectorAll("article.finding").Select(a => (a.GetAttribute("data-rule")!, a.GetAttribute("data-fingerprint")!)).ToList();
        Assert.Equal(expected, fromHtml);

        var csv = CsvReportWriter.Parse(File.ReadAllText(_dir.File("findings.csv")));
        var header = csv[0].ToList();
        var fromCsv = csv.Skip(1).Select(r => (r[header.IndexOf("RULE_ID")], r[header.IndexOf("FINDING_UID")])).ToList();
        Assert.Equal(expected, fromCsv);

        var fromOcsf = File.ReadAllLines(_dir.File("findings.ocsf.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("metadata").GetProperty("event_code").GetString()!, e.GetProperty("finding_info").GetProperty("uid").GetString()!)).ToList();
        Assert.Equal(expected, fromOcsf);

        // JUnit groups by category; compare as sets.
        var junit = XDocument.Load(_dir.File("findings.junit.xml"));
        string Prop(XElement c, string name) => c.Element("properties")!.Elements("property").Single(p => p.Attribute("name")!.Value == name).Attribute("value")!.Value;
        var fromJunit = junit.Descendants("testcase").Select(c => (Prop(c, "ruleId"), Prop(c, "fingerprint"))).ToList();
        Assert.Equal(expected.Order(), fromJunit.Order());
        Assert.Equal(expected.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), junit.Root!.Attribute("tests")!.Value);

        // The Markdown summary lists every finding once, in rank order, by fingerprint.
        var fromMd = Regex.Matches(File.ReadAllText(_dir.File("findings.md")), @"^\|.*`([0-9a-f]{32})` \|$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(expected.Select(e => e.Fp), fromMd);
    }

    [Fact]
    public void A_single_format_goes_to_stdout_and_unknown_formats_are_named()
    {
        var sarif = Cli.Run("scan", RepoPaths.DemoHospital, "--no-progress", "--format", "sarif");
        Assert.True(sarif.ExitCode is 0 or 3, sarif.Stderr);
        using var doc = JsonDocument.Parse(sarif.Stdout);
        Assert.Equal("2.1.0", doc.RootElement.GetProperty("version").GetString());
        var rules = doc.RootElement.GetProperty("runs")[0].GetProperty("tool").GetProperty("driver").GetProperty("rules");
        Assert.Contains(rules.EnumerateArray(), r => r.GetProperty("id").GetString() == "vmware.vm.vnc-console-enabled"
            && r.GetProperty("shortDescription").GetProperty("text").GetString()!.Length > 0
            && !r.GetProperty("shortDescription").GetProperty("text").GetString()!.Contains("RIS-01", StringComparison.Ordinal));

        var bad = Cli.Run("scan", RepoPaths.DemoHospital, "--no-progress", "--format", "pdf");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("sarif", bad.Stderr);
        Assert.Contains("junit", bad.Stderr);
    }
}
