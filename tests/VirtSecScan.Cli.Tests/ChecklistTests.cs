using System.Text.Json;
using AngleSharp.Html.Parser;

namespace VirtSecScan.Cli.Tests;

/// <summary>Pre-audit checklists on the demo hospital: every control has a status, FAIL names its findings, attestations count.</summary>
public sealed class ChecklistTests : IDisposable
{
    private static readonly string[] Statuses = ["PASS", "FAIL", "MANUAL", "NOT-EVALUATED", "WAIVED"];
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("hipaa")]
    [InlineData("mlps-l3")]
    [InlineData("nist-800-125b")]
    [InlineData("nist-800-53")]
    public void EveryControlHasAStatusAndEveryFailNamesItsFindings(string framework)
    {
        var result = Cli.Run("checklist", "--framework", framework, RepoPaths.DemoHospital, "--format", "json");

        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        var controls = doc.RootElement.GetProperty("controls").EnumerateArray().ToList();
        Assert.NotEmpty(controls);
        Assert.All(controls, c => Assert.Contains(c.GetProperty("status").GetString(), Statuses));
        Assert.All(controls.Where(c => c.GetProperty("status").GetString() == "FAIL"), c =>
            Assert.True(c.GetProperty("findings").GetArrayLength() > 0 || c.GetProperty("reason").GetString()!.Contains("answered no", StringComparison.Ordinal)));
    }

    [Fact]
    public void HipaaOnTheDemoHospitalFailsAccessControlWithVmFindings()
    {
        var result = Cli.Run("checklist", "--framework", "hipaa", RepoPaths.DemoHospital, "--format", "json");

        using var doc = JsonDocument.Parse(result.Stdout);
        var access = Control(doc, "164.312(a)(1)");
        Assert.Equal("FAIL", access.GetProperty("status").GetString());
        Assert.Contains(access.GetProperty("findings").EnumerateArray(), f => f.GetProperty("ruleId").GetString()!.StartsWith("vmware.vm.", StringComparison.Ordinal));
        Assert.Equal("MANUAL", Control(doc, "164.308(a)(6)(ii)").GetProperty("status").GetString());
        Assert.Equal("FAIL", Control(doc, "164.308(a)(7)(ii)(A)").GetProperty("status").GetString()); // the backup and redundancy checks of the site file fail
    }

    [Fact]
    public void AttestationsTurnManualItemsIntoPassOrFail()
    {
        var file = Path.Combine(_dir.Path, "attestations.yaml");
        File.WriteAllText(file, """
            attestations:
              - framework: hipaa
                control: "164.308(a)(6)(ii)"
                item: incident-plan
                answer: yes
                by: Backup lead
                date: 2026-11-20
                evidence: Backup policy v3
              - framework: hipaa
                control: "164.308(a)(5)(ii)(C)"
                item: failed-logins
                answer: no
                by: CISO
                date: 2026-11-20
              - framework: hipaa
                control: "164.999"
                item: nothing
                answer: yes
                by: CISO
                date: 2026-11-20
            """);

        var result = Cli.Run("checklist", "--framework", "hipaa", RepoPaths.DemoHospital, "--format", "json", "--attestations", file);

        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("PASS", Control(doc, "164.308(a)(6)(ii)").GetProperty("status").GetString());
        Assert.Equal("FAIL", Control(doc, "164.308(a)(5)(ii)(C)").GetProperty("status").GetString());
        Assert.Contains("attestations.yaml:15: attestation for 164.999/nothing names no control item", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void BadAttestationNamesFileAndLine()
    {
        var file = Path.Combine(_dir.Path, "attestations.yaml");
        File.WriteAllText(file, "attestations:\n  - framework: hipaa\n    control: x\n    item: y\n    answer: maybe\n    by: a\n    date: 2026-01-01\n");

        var result = Cli.Run("checklist", "--framework", "hipaa", RepoPaths.DemoHospital, "--attestations", file);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("answer 'maybe' is not one of yes, no, n/a", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(":2", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFrameworkListsTheKnownOnes()
    {
        var result = Cli.Run("checklist", "--framework", "sox", RepoPaths.DemoHospital);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("hipaa, mlps-l3, nist-800-125b, nist-800-53", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void HtmlAndCsvAndMarkdownCarryTheSameControls()
    {
        var json = Cli.Run("checklist", "--framework", "nist-800-53", RepoPaths.DemoHospital, "--format", "json");
        var html = Cli.Run("checklist", "--framework", "nist-800-53", RepoPaths.DemoHospital, "--format", "html");
        var csv = Cli.Run("checklist", "--framework", "nist-800-53", RepoPaths.DemoHospital, "--format", "csv");
        var md = Cli.Run("checklist", "--framework", "nist-800-53", RepoPaths.DemoHospital, "--format", "md");

        using var doc = JsonDocument.Parse(json.Stdout);
        var ids = doc.RootElement.GetProperty("controls").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToList();
        var page = new HtmlParser().ParseDocument(html.Stdout);
        Assert.Empty(page.QuerySelectorAll("script"));
        Assert.Equal(ids, page.QuerySelectorAll("tbody tr").Select(tr => tr.QuerySelector("td")!.TextContent));
        Assert.Equal(ids.Count + 1, csv.Stdout.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.All(ids, id => Assert.Contains($"| {id} |", md.Stdout, StringComparison.Ordinal));
    }

    [Fact]
    public void CsvFieldNeutralisesFormulas()
    {
        Assert.Equal("'=HYPERLINK(\"x\")", Reporting.ChecklistWriter.CsvField("=HYPERLINK(\"x\")").Trim('"').Replace("\"\"", "\"", StringComparison.Ordinal));
        Assert.Equal("\"'+1,2\"", Reporting.ChecklistWriter.CsvField("+1,2"));
        Assert.Equal("plain", Reporting.ChecklistWriter.CsvField("plain"));
    }

    private static JsonElement Control(JsonDocument doc, string id) =>
        doc.RootElement.GetProperty("controls").EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);
}
