namespace VirtSecScan.Cli.Tests;

/// <summary>End to end: the demo hospital's site file exceptions, redundancy pair and OVF appliance show in the report.</summary>
public sealed class SiteExceptionsScanTests(DemoHospitalScan scan) : IClassFixture<DemoHospitalScan>
{
    [Fact]
    public void DocumentedUsbExceptionIsListedWithItsReasonAndNotAsAFinding()
    {
        using var doc = scan.Json.Json();
        var root = doc.RootElement;

        var exception = Assert.Single(root.GetProperty("exceptions").EnumerateArray(),
            e => e.GetProperty("ruleId").GetString() == "vmware.vm.usb-controller-removed");
        Assert.Equal("vdi-nurse-01", exception.GetProperty("resource").GetProperty("name").GetString());
        Assert.Equal("passed-with-exception", exception.GetProperty("status").GetString());
        Assert.Contains("smart-card", exception.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("site.yaml", exception.GetProperty("exception").GetProperty("source").GetString(), StringComparison.Ordinal);
        Assert.Equal(root.GetProperty("exceptions").GetArrayLength(), root.GetProperty("summary").GetProperty("passedWithException").GetInt32());
        Assert.DoesNotContain(root.GetProperty("findings").EnumerateArray(), f =>
            f.GetProperty("ruleId").GetString() == "vmware.vm.usb-controller-removed"
            && f.GetProperty("resource").GetProperty("name").GetString() == "vdi-nurse-01");
    }

    [Fact]
    public void AnExceptionNeverCountsForFailOn()
    {
        using var dir = new TempDir();
        dir.Copy(RepoPaths.Fixture("demo-hospital", "vms", "vdi-nurse-01.vmx"), "vdi-nurse-01.vmx");
        const string site = """
            site: t
            zones:
              - { id: vdi, kind: desktop }
            systems:
              - { name: vdi-nurse-01, type: vm, zone: vdi }
            exceptions:
              - { rule: "vmware.vm.*", resource: vdi-nurse-01, reason: test exception for every VM rule }
            """;
        File.WriteAllText(Path.Combine(dir.Path, "site.yaml"), site);

        var result = Cli.ScanJson(dir.Path, "--fail-on", "low");
        using var doc = result.Json();

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(0, doc.RootElement.GetProperty("findings").GetArrayLength());
        Assert.True(doc.RootElement.GetProperty("exceptions").GetArrayLength() > 0);
    }

    [Fact]
    public void RedundantHisPairOnOneHostIsAFinding()
    {
        using var doc = scan.Json.Json();

        var finding = Assert.Single(doc.RootElement.GetProperty("findings").EnumerateArray(),
            f => f.GetProperty("ruleId").GetString() == "resilience.redundancy.same-host");
        Assert.Equal("VT06", finding.GetProperty("category").GetString());
        Assert.Contains("esxi-02", finding.GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void OvfApplianceIsCollectedAndJudged()
    {
        using var doc = scan.Json.Json();
        var root = doc.RootElement;

        Assert.Contains(root.GetProperty("scan").GetProperty("collected").EnumerateArray(), c =>
            c.GetProperty("format").GetString() == "ovf" && c.GetProperty("file").GetString()!.EndsWith("appliances/lab-middleware-4.2.ovf", StringComparison.Ordinal));
        Assert.Contains(root.GetProperty("findings").EnumerateArray(), f =>
            f.GetProperty("ruleId").GetString() == "vmware.vm.cdrom-disconnected"
            && f.GetProperty("resource").GetProperty("id").GetString()!.StartsWith("ovf:", StringComparison.Ordinal));
    }

    [Fact]
    public void ClinicalVmsWithoutReservationsAreCapacityFindings()
    {
        using var doc = scan.Json.Json();

        var names = doc.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("ruleId").GetString() == "capacity.vm.reservation-set")
            .Select(f => f.GetProperty("resource").GetProperty("name").GetString())
            .ToList();

        Assert.Contains("lis-app-01", names);
        Assert.DoesNotContain("pacs-01", names);
    }
}
