using System.Text.Json;
using System.Xml.Linq;

namespace VirtSecScan.Reporting.Tests;

public class CsvReportTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")")]
    [InlineData("+1", "'+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "'\rx")]
    [InlineData("pacs-01", "pacs-01")]
    [InlineData("", "")]
    public void Formula_starts_get_a_leading_apostrophe(string value, string expected) =>
        Assert.Equal(expected, CsvReportWriter.Neutralise(value));

    [Fact]
    public void Hostile_report_round_trips_and_no_cell_starts_a_formula()
    {
        var report = TestReports.Hostile();
        var csv = CsvReportWriter.ToCsv(report);
        Assert.StartsWith("\uFEFFFINDING_UID,RANK,", csv);
        Assert.EndsWith("\r\n", csv);

        var rows = CsvReportWriter.Parse(csv);
        Assert.Equal(report.Findings.Length + 1, rows.Count);
        Assert.All(rows, r => Assert.Equal(CsvReportWriter.Columns.Length, r.Length));
        foreach (var cell in rows.SelectMany(r => r))
        {
            Assert.False(cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r', $"cell starts a formula: {cell}");
        }

        var header = rows[0].ToList();
        var title = header.IndexOf("TITLE");
        var formulaRow = rows.Single(r => r[title].Contains("HYPERLINK", StringComparison.Ordinal));
        Assert.Equal("'" + TestReports.Formula, formulaRow[title]);
        Assert.Equal("'+cmd|' /C calc'!A0", formulaRow[header.IndexOf("RESOURCE_NAME")]);
        Assert.Equal(report.Findings.Select(f => f.Fingerprint), rows.Skip(1).Select(r => r[0]));
        var waived = rows.Single(r => r[header.IndexOf("STATUS")] == "waived");
        Assert.Equal("CISO Dr. Example", waived[header.IndexOf("WAIVER_APPROVER")]);
    }

    [Fact]
    public void Quotes_commas_and_line_breaks_are_quoted_per_rfc_4180()
    {
        Assert.Equal("\"a,b\"", CsvReportWriter.Quote("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", CsvReportWriter.Quote("say \"hi\""));
        Assert.Equal("\"two\nlines\"", CsvReportWriter.Quote("two\nlines"));
        Assert.Equal("plain", CsvReportWriter.Quote("plain"));
        var rows = CsvReportWriter.Parse("a,\"b,\"\"c\"\"\nd\",e\r\n1,2,3\r\n");
        Assert.Equal(["a", "b,\"c\"\nd", "e"], rows[0]);
        Assert.Equal(["1", "2", "3"], rows[1]);
    }
}

public class OcsfReportTests
{
    [Fact]
    public void Every_line_is_a_detection_finding_with_the_required_fields()
    {
        var report = TestReports.Hostile();
        var lines = OcsfReportWriter.ToJsonLines(report).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(report.Findings.Length, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var e = JsonDocument.Parse(lines[i]).RootElement;
            var f = report.Findings[i];
            Assert.Equal(2004, e.GetProperty("class_uid").GetInt32());
            Assert.Equal(2, e.GetProperty("category_uid").GetInt32());
            Assert.Equal(1, e.GetProperty("activity_id").GetInt32());
            Assert.Equal(200401, e.GetProperty("type_uid").GetInt32());
            Assert.Equal(e.GetProperty("class_uid").GetInt32() * 100 + e.GetProperty("activity_id").GetInt32(), e.GetProperty("type_uid").GetInt32());
            Assert.Equal(TestReports.Started.ToUnixTimeMilliseconds(), e.GetProperty("time").GetInt64());
            Assert.Equal(OcsfReportWriter.SeverityId(f.Severity), e.GetProperty("severity_id").GetInt32());
            Assert.InRange(e.GetProperty("severity_id").GetInt32(), 1, 5);
            var metadata = e.GetProperty("metadata");
            Assert.Equal("1.3.0", metadata.GetProperty("version").GetString());
            Assert.Equal("VirtSecScan", metadata.GetProperty("product").GetProperty("name").GetString());
            Assert.False(string.IsNullOrEmpty(metadata.GetProperty("product").GetProperty("vendor_name").GetString()));
            var info = e.GetProperty("finding_info");
            Assert.Equal(f.Fingerprint, info.GetProperty("uid").GetString());
            Assert.Equal(f.Title, info.GetProperty("title").GetString());
            Assert.Equal(f.Resource.Id, e.GetProperty("resources")[0].GetProperty("uid").GetString());
            Assert.Equal(f.Status == Core.Findings.FindingStatus.Waived ? 3 : 1, e.GetProperty("status_id").GetInt32());
            Assert.False(string.IsNullOrEmpty(e.GetProperty("remediation").GetProperty("desc").GetString()));
        }
    }
}

public class JUnitReportTests
{
    [Fact]
    public void One_case_per_finding_failures_and_waived_skipped()
    {
        var report = TestReports.Hostile();
        var doc = XDocument.Parse(JUnitReportWriter.ToXml(report));
        var root = doc.Root!;
        Assert.Equal("testsuites", root.Name.LocalName);
        Assert.Equal("3", root.Attribute("tests")!.Value);
        Assert.Equal("2", root.Attribute("failures")!.Value);
        Assert.Equal("1", root.Attribute("skipped")!.Value);
        var cases = root.Descendants("testcase").ToList();
        Assert.Equal(3, cases.Count);
        Assert.Equal(report.Findings.Select(f => f.Fingerprint).Order(), cases.Select(c => c.Element("properties")!.Elements("property").Single(p => p.Attribute("name")!.Value == "fingerprint").Attribute("value")!.Value).Order());
        Assert.Equal(2, cases.Count(c => c.Element("failure") is not null));
        Assert.Single(cases, c => c.Element("skipped") is not null);
        // Control characters from data never make the XML invalid, hostile text is text.
        Assert.Contains(cases, c => c.Attribute("name")!.Value.Contains(TestReports.EvilName, StringComparison.Ordinal));
    }
}

public class MarkdownReportTests
{
    [Fact]
    public void Summary_lists_every_finding_with_its_fingerprint_and_escapes_markup()
    {
        var report = TestReports.Hostile();
        var md = MarkdownReportWriter.ToMarkdown(report);
        Assert.StartsWith("# VirtSecScan report", md);
        foreach (var f in report.Findings)
        {
            Assert.Contains($"`{f.Fingerprint}`", md);
        }

        Assert.DoesNotContain("<img", md);
        Assert.DoesNotContain("<script>", md);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", md);
        var tableRows = md.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && l.Contains('`')).ToList();
        Assert.Equal(report.Findings.Length, tableRows.Count);
        Assert.All(tableRows, r => Assert.Equal(8, r.Replace("\\|", "", StringComparison.Ordinal).Count(c => c == '|')));
        Assert.Contains("## Waived", md);
    }
}
