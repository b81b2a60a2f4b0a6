using System.Text.Json;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Reporting.Tests;

public class SarifReportTests
{
    private static JsonElement Sarif(Engine.Scanning.ScanReport report, IReadOnlyDictionary<string, RuleDescription>? rules = null) =>
        JsonDocument.Parse(SarifReportWriter.ToSarif(report, rules)).RootElement;

    [Fact]
    public void Demo_hospital_sarif_has_the_structure_of_the_2_1_0_schema()
    {
        var report = TestReports.DemoHospital();
        var log = Sarif(report);
        Assert.Empty(SarifStructure.Check(log));
        var run = log.GetProperty("runs")[0];
        Assert.Equal(report.Findings.Length, run.GetProperty("results").GetArrayLength());
        Assert.Equal(report.Findings.Select(f => f.RuleId).Distinct().Count(), run.GetProperty("tool").GetProperty("driver").GetProperty("rules").GetArrayLength());
    }

    [Fact]
    public void Structural_check_catches_what_the_schema_forbids()
    {
        var bad = JsonDocument.Parse("""
            {"version":"2.0.0","runs":[{"tool":{"driver":{"rules":[{"id":"a"}]}},"results":[
              {"ruleId":"b","ruleIndex":0,"level":"fatal","message":{},"rank":120,"suppressions":[{"status":"maybe"}],"extra":1,
               "locations":[{"physicalLocation":{"artifactLocation":{"uri":"a b\\c"},"region":{"startLine":0}}}]},
              {"ruleId":"a","message":{"text":"x"}}]}]}
            """).RootElement;
        var errors = SarifStructure.Check(bad);
        Assert.Contains(errors, e => e.Contains("$.version", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("driver.name is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("level 'fatal'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("message needs text or id", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("rank", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("suppressions[0].kind is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("extra is not a property of result", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("startLine", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("points at rule a, not b", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("on all results or on none", StringComparison.Ordinal));
    }

    [Fact]
    public void Rules_carry_help_remediation_and_security_severity()
    {
        var report = TestReports.Hostile();
        var rules = new Dictionary<string, RuleDescription>
        {
            ["vmware.vm.console-copy-disabled"] = new("Copying from the VM console to the client is allowed", "Copy lets data leave the VM."),
        };
        var driver = Sarif(report, rules).GetProperty("runs")[0].GetProperty("tool").GetProperty("driver");
        var rule = driver.GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "vmware.vm.console-copy-disabled");
        Assert.Equal("Copying from the VM console to the client is allowed", rule.GetProperty("shortDescription").GetProperty("text").GetString());
        Assert.Equal("Copy lets data leave the VM.", rule.GetProperty("fullDescription").GetProperty("text").GetString());
        Assert.Contains("Remediation", rule.GetProperty("help").GetProperty("text").GetString());
        Assert.Contains("### Remediation", rule.GetProperty("help").GetProperty("markdown").GetString());
        Assert.Equal("9.5", rule.GetProperty("properties").GetProperty("security-severity").GetString());
        Assert.Equal("error", rule.GetProperty("defaultConfiguration").GetProperty("level").GetString());

        // Markup from scanned data cannot open HTML in the markdown help: outside code spans it is escaped.
        var markdown = rule.GetProperty("help").GetProperty("markdown").GetString()!;
        Assert.Contains("`<script>alert(4)</script>`", markdown);
        var outsideCode = System.Text.RegularExpressions.Regex.Replace(markdown, "`[^`\n]*`", "");
        Assert.DoesNotContain("<script", outsideCode);
        Assert.DoesNotContain("<img", outsideCode);
    }

    [Fact]
    public void Results_have_fingerprints_locations_and_waived_ones_are_suppressed()
    {
        var report = TestReports.Hostile();
        var results = Sarif(report).GetProperty("runs")[0].GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(3, results.Count);
        for (var i = 0; i < results.Count; i++)
        {
            var f = report.Findings[i];
            var r = results[i];
            Assert.Equal(f.Fingerprint, r.GetProperty("partialFingerprints").GetProperty("virtsecscan/v1").GetString());
            var phys = r.GetProperty("locations")[0].GetProperty("physicalLocation");
            Assert.Equal(f.Resource.Line, phys.GetProperty("region").GetProperty("startLine").GetInt32());
            Assert.StartsWith("vms/", phys.GetProperty("artifactLocation").GetProperty("uri").GetString());
            Assert.Equal(f.Resource.Id, r.GetProperty("locations")[0].GetProperty("logicalLocations")[0].GetProperty("fullyQualifiedName").GetString());
        }

        var waived = results.Single(r => r.GetProperty("suppressions").GetArrayLength() == 1);
        var suppression = waived.GetProperty("suppressions")[0];
        Assert.Equal("external", suppression.GetProperty("kind").GetString());
        Assert.Equal("accepted", suppression.GetProperty("status").GetString());
        Assert.Equal("<b>accepted</b> \" onclick=\"alert(5)", suppression.GetProperty("justification").GetString());
        Assert.Equal("2027-03-31", suppression.GetProperty("properties").GetProperty("expires").GetString());
        Assert.All(results.Where(r => r.GetProperty("ruleId").GetString() != "vmware.vm.floppy-removed"),
            r => Assert.Equal(0, r.GetProperty("suppressions").GetArrayLength()));
    }

    [Fact]
    public void Uris_are_escaped_and_lines_fall_back_to_evidence()
    {
        var f = TestReports.Finding("r.one", "vm one", source: "exports/vm one#1.vmx", line: null) with
        {
            Evidence = [new Evidence("k", "v", null, "exports/vm one#1.vmx", 9)],
        };
        var r = Sarif(TestReports.Report(f)).GetProperty("runs")[0].GetProperty("results")[0];
        var phys = r.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.Equal("exports/vm%20one%231.vmx", phys.GetProperty("artifactLocation").GetProperty("uri").GetString());
        Assert.Equal(9, phys.GetProperty("region").GetProperty("startLine").GetInt32());
        Assert.Equal("open", Sarif(TestReports.Report(f with { Status = FindingStatus.Error })).GetProperty("runs")[0].GetProperty("results")[0].GetProperty("kind").GetString());
    }
}
