using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Traffic;

namespace VirtSecScan.Engine.Tests;

/// <summary>Flows get zones from the site's subnets and a decision from the (baseline) zone policy.</summary>
public sealed class TrafficZonesTests
{
    private static readonly Core.Site.SiteModel Site =
        SiteModelLoader.Parse(File.ReadAllText(Path.Combine(RepoPaths.DemoHospital, "site.yaml")), "site.yaml");

    private static ConfigFact Flow(string client, string server, string port, string protocol = "tcp") =>
        ConfigFact.Of(new ResourceRef("flow", $"pcap:{client}->{server}", $"{client} -> {server}:{port}/tcp"), TrafficZones.Kind,
        [
            new Setting("client", client, 1), new Setting("server", server, 1), new Setting("serverPort", port, 1),
            new Setting("transport", "tcp", 1), new Setting("protocol", protocol, 1),
        ]);

    [Theory]
    [InlineData("10.30.10.5", "10.10.10.20", "2575", "insurance-link", "his", "denied", "data")]
    [InlineData("10.20.0.15", "10.90.0.11", "443", "vdi", "management", "denied", "management")]
    [InlineData("10.20.0.15", "10.91.0.5", "2049", "vdi", "storage", "denied", "management")]
    [InlineData("10.10.10.20", "10.10.30.10", "2575", "his", "lis", "allowed", "data")]
    [InlineData("10.90.0.11", "10.90.0.12", "8000", "management", "management", "same-zone", "management")]
    public void ZonesAndPolicyFromTheSiteSubnets(string client, string server, string port, string clientZone, string serverZone, string policy, string plane)
    {
        var annotated = TrafficZones.Annotate(Flow(client, server, port), Site);

        Assert.Equal(clientZone, annotated.Get("clientZone")!.Value);
        Assert.Equal(serverZone, annotated.Get("serverZone")!.Value);
        Assert.Equal(policy, annotated.Get("zonePolicy")!.Value);
        Assert.Equal(plane, annotated.Get("zonePlane")!.Value);
        Assert.Equal(serverZone, annotated.Resource.Zone);
    }

    [Fact]
    public void TheSiteAllowedFlowsDecideNotTheZoneKinds()
    {
        // Clinical to clinical is allowed only on the ports the site lists (HL7, DICOM, HTTPS), not on Telnet.
        var hl7 = TrafficZones.Annotate(Flow("10.10.10.20", "10.10.30.10", "2575"), Site);
        var telnet = TrafficZones.Annotate(Flow("10.10.10.20", "10.10.30.10", "23", "telnet"), Site);
        var baseline = TrafficZones.Annotate(Flow("10.10.10.20", "10.10.30.10", "23", "telnet"), Site, policy: new ZoneKindPolicy());

        Assert.Equal("allowed", hl7.Get("zonePolicy")!.Value);
        Assert.Contains("HL7 v2 (MLLP)", hl7.Get("zonePolicyReason")!.Value, StringComparison.Ordinal);
        Assert.Equal("denied", telnet.Get("zonePolicy")!.Value);
        Assert.Contains("tcp/23", telnet.Get("zonePolicyReason")!.Value, StringComparison.Ordinal);
        Assert.Equal("allowed", baseline.Get("zonePolicy")!.Value);
    }

    [Fact]
    public void AddressesOutsideEveryZoneAreUnmapped()
    {
        var annotated = TrafficZones.Annotate(Flow("192.0.2.1", "10.10.10.20", "2575"), Site);

        Assert.Equal("unmapped", annotated.Get("zonePolicy")!.Value);
        Assert.Null(annotated.Get("clientZone"));
    }

    [Fact]
    public void AGroupedClientSubnetMapsByItsNetworkAddress()
    {
        var annotated = TrafficZones.Annotate(Flow("10.30.10.0/24", "10.10.10.20", "2575"), Site);

        Assert.Equal("insurance-link", annotated.Get("clientZone")!.Value);
    }

    [Fact]
    public void HttpsToTheManagementZoneIsEsxiManagement()
    {
        Assert.Equal("esxi-management", TrafficZones.Annotate(Flow("10.20.0.15", "10.90.0.11", "443", "tls1.3"), Site).Get("service")!.Value);
        Assert.Null(TrafficZones.Annotate(Flow("10.20.0.15", "10.10.10.20", "443", "tls1.3"), Site).Get("service"));
    }

    [Fact]
    public void ALongerPrefixWins()
    {
        var zones = new SubnetZones(
        [
            new Core.Site.Zone("wide", "wide", "other", Core.Site.Criticality.Low, false, ["10.0.0.0/8"], []),
            new Core.Site.Zone("narrow", "narrow", "clinical", Core.Site.Criticality.High, true, ["10.10.10.0/24"], []),
        ]);

        Assert.Equal("narrow", zones.ZoneOf(System.Net.IPAddress.Parse("10.10.10.9"))!.Id);
        Assert.Equal("wide", zones.ZoneOf(System.Net.IPAddress.Parse("10.9.10.9"))!.Id);
    }
}
