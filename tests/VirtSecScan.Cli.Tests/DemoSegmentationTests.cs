using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary>The demo hospital's firewalls: the matrix and the two seeded violations, each naming its rule line.</summary>
public sealed class DemoSegmentationTests(DemoHospitalScan scan) : IClassFixture<DemoHospitalScan>
{
    private static List<JsonElement> Findings(JsonDocument doc, string ruleId) =>
        doc.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("ruleId").GetString() == ruleId).ToList();

    [Fact]
    public void The_over_broad_insurance_rule_is_reported_with_its_line()
    {
        using var doc = scan.Json.Json();
        var f = Assert.Single(Findings(doc, "net.exposure.insurance-to-clinical"));
        var resource = f.GetProperty("resource");
        Assert.Equal("his", resource.GetProperty("name").GetString());
        Assert.EndsWith("firewalls/perimeter-fw.nft.txt", resource.GetProperty("source").GetString());
        Assert.Equal(13, resource.GetProperty("line").GetInt32());
        Assert.Equal("VT07", f.GetProperty("category").GetString());
        Assert.Contains("tcp/0-442,444-65535", f.GetProperty("title").GetString());
        Assert.Contains("line 13", f.GetProperty("remediation").GetProperty("steps")[0].GetString());
        Assert.Contains("tcp port(s) 443", f.GetProperty("remediation").GetProperty("steps")[0].GetString());
    }

    [Fact]
    public void The_management_exposure_is_reported_with_its_line()
    {
        using var doc = scan.Json.Json();
        var f = Assert.Single(Findings(doc, "net.exposure.management-ports"));
        var resource = f.GetProperty("resource");
        Assert.Equal("management", resource.GetProperty("name").GetString());
        Assert.EndsWith("firewalls/internal-fw.iptables-save.txt", resource.GetProperty("source").GetString());
        Assert.Equal(26, resource.GetProperty("line").GetInt32());
        Assert.Contains("tcp/443,902", f.GetProperty("title").GetString());
        Assert.Equal("VT10", f.GetProperty("category").GetString());
    }

    [Fact]
    public void No_other_zone_exposure_in_the_demo()
    {
        using var doc = scan.Json.Json();
        Assert.Empty(Findings(doc, "net.exposure.external-to-clinical"));
        Assert.Empty(Findings(doc, "net.exposure.migration-network"));
        Assert.Empty(Findings(doc, "net.exposure.storage-network"));
        Assert.Empty(Findings(doc, "net.firewall.any-to-any"));
    }

    [Fact]
    public void The_report_has_the_reachability_matrix()
    {
        using var doc = scan.Json.Json();
        var cells = doc.RootElement.GetProperty("reachability").GetProperty("cells").EnumerateArray().ToList();
        var cell = Assert.Single(cells, c => c.GetProperty("firewall").GetString() == "perimeter-fw"
                                             && c.GetProperty("fromZone").GetString() == "portal-dmz"
                                             && c.GetProperty("toZone").GetString() == "his"
                                             && c.GetProperty("protocol").GetString() == "tcp");
        Assert.Equal("443,8443", cell.GetProperty("ports").GetString());
        Assert.Equal("stateful", cell.GetProperty("returnPath").GetString());
        Assert.Contains(cells, c => c.GetProperty("firewall").GetString() == "internal-fw" && c.GetProperty("action").GetString() == "drop");
        var shadowed = Assert.Single(doc.RootElement.GetProperty("reachability").GetProperty("shadowed").EnumerateArray());
        Assert.Equal(14, shadowed.GetProperty("line").GetInt32());
    }

    [Fact]
    public void The_table_prints_the_zone_matrix()
    {
        Assert.Contains("Zone-to-zone reachability through perimeter-fw", scan.Table.Stdout);
        Assert.Contains("Zone-to-zone reachability through internal-fw", scan.Table.Stdout);
    }
}
