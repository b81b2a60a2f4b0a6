using System.Text;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>What a writer may use besides the report: rule descriptions (SARIF) and optional HTML sections.</summary>
public sealed record ReportContext
{
    public IReadOnlyDictionary<string, RuleDescription> Rules { get; init; } = new Dictionary<string, RuleDescription>();
    public HtmlReportExtras Html { get; init; } = HtmlReportExtras.None;
}

/// <summary>
/// The file formats of <c>scan --format</c> (the table stays with the CLI, which owns the console): the name given
/// on the command line, the file name used with <c>--output DIR</c>, and the writer. All read the same report.
/// </summary>
public static class ReportFormats
{
    public sealed record Format(string Name, string FileName, Action<ScanReport, Stream, ReportContext> Write);

    public static IReadOnlyList<Format> All { get; } =
    [
        new("json", "findings.json", (r, s, _) => JsonReportWriter.Write(r, s)),
        new("sarif", "findings.sarif", (r, s, c) => SarifReportWriter.Write(r, s, c.Rules)),
        new("html", "findings.html", (r, s, c) => WriteText(s, HtmlReportWriter.ToHtml(r, c.Html))),
        new("csv", "findings.csv", (r, s, _) => WriteText(s, CsvReportWriter.ToCsv(r))),
        new("md", "findings.md", (r, s, _) => WriteText(s, MarkdownReportWriter.ToMarkdown(r))),
        new("ocsf", "findings.ocsf.jsonl", (r, s, _) => OcsfReportWriter.Write(r, s)),
        new("junit", "findings.junit.xml", (r, s, _) => JUnitReportWriter.Write(r, s)),
    ];

    public static Format? Find(string name) => All.FirstOrDefault(f => f.Name == name);

    private static void WriteText(Stream stream, string text)
    {
        var bytes = new UTF8Encoding(false).GetBytes(text);
        stream.Write(bytes);
    }
}
