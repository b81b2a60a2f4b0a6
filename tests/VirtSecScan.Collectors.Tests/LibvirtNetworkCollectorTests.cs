using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Libvirt;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

public sealed class LibvirtNetworkCollectorTests
{
    private const string Dir = "fixtures/collectors/libvirt/networks/";

    private static readonly LibvirtNetworkCollector Networks = new();

    private static ConfigFact Network(string name)
    {
        var file = Fixtures.Load(Dir + name);
        Assert.Equal(LibvirtNetworkCollector.FormatId, CollectorRegistry.Detect(file)?.Format);
        var result = Networks.Collect(file, LibvirtNetworkCollector.FormatId);
        Assert.DoesNotContain(result.Diagnostics, d => d.Level != "info");
        return Assert.IsType<ConfigFact>(Assert.Single(result.Facts));
    }

    private static string Value(ConfigFact fact, string key) => Assert.IsType<Setting>(fact.Get(key)).Value;

    private static int Line(ConfigFact fact, string key) => Assert.IsType<Setting>(fact.Get(key)).Line;

    [Fact]
    public void DefaultNatNetworkIsFlattenedWithLines()
    {
        var fact = Network("default-nat.xml");

        Assert.Equal("libvirt-network", fact.Kind);
        Assert.Equal("host", fact.Resource.Type);
        Assert.Equal("libvirt-net:6c1f2a8e-3b4d-4e5f-9a0b-1c2d3e4f5a6b", fact.Resource.Id);
        Assert.Equal("default", fact.Resource.Name);
        Assert.Equal(2, fact.Resource.Line);
        Assert.Equal("nat", Value(fact, "forward.mode"));
        Assert.Equal("nat", Value(fact, "forward.mode.effective"));
        Assert.Equal(4, Line(fact, "forward.mode"));
        Assert.Equal("1024", Value(fact, "forward.nat.port.start"));
        Assert.Equal("virbr0", Value(fact, "bridge.name"));
        Assert.Equal("on", Value(fact, "bridge.stp"));
        Assert.Equal(9, Line(fact, "bridge.stp"));
        Assert.Equal("192.168.122.1", Value(fact, "ip[0].address"));
        Assert.Equal("255.255.255.0", Value(fact, "ip[0].netmask"));
        Assert.Equal("24", Value(fact, "ip[0].prefix.effective"));
        Assert.Equal("ipv4", Value(fact, "ip[0].family.effective"));
        Assert.Equal("192.168.122.2", Value(fact, "ip[0].dhcp.range[0].start"));
        Assert.Equal(13, Line(fact, "ip[0].dhcp.range[0].end"));
        Assert.Equal("true", Value(fact, "ip[0].dhcp.coversSubnet"));
        Assert.Equal("false", Value(fact, "ipv6.present"));
        Assert.Equal("no", Value(fact, "trustGuestRxFilters.any"));
        Assert.Equal("no", Value(fact, "vlan.trunk.any"));
        Assert.Null(fact.Get("connections")); // the live count of guests: not configuration
    }

    [Fact]
    public void IsolatedNetworkHasNoForwardAndAPartialPool()
    {
        var fact = Network("isolated.xml");

        Assert.Null(fact.Get("forward.mode"));
        Assert.Equal("isolated", Value(fact, "forward.mode.effective"));
        Assert.Equal("false", Value(fact, "ip[0].dhcp.coversSubnet"));
        Assert.Equal("lis-middleware", Value(fact, "ip[0].dhcp.host[1].name"));
        Assert.Equal("hours", Value(fact, "ip[0].dhcp.range[0].lease.unit"));
        Assert.Equal("no", Value(fact, "dns.enable"));
        Assert.Equal("yes", Value(fact, "domain.localOnly"));
    }

    [Fact]
    public void RoutedNetworkKeepsDevInterfacesIpv6AndRoutes()
    {
        var fact = Network("route.xml");

        Assert.Equal("route", Value(fact, "forward.mode.effective"));
        Assert.Equal("eno2", Value(fact, "forward.dev"));
        Assert.Equal("eno2", Value(fact, "forward.interface[0].dev"));
        Assert.Equal("25", Value(fact, "ip[0].prefix.effective"));
        Assert.Equal("true", Value(fact, "ip[0].dhcp.coversSubnet"));
        Assert.Equal("ipv6", Value(fact, "ip[1].family.effective"));
        Assert.Equal("64", Value(fact, "ip[1].prefix.effective"));
        Assert.Equal("true", Value(fact, "ipv6.present"));
        Assert.Equal(14, Line(fact, "ipv6.present"));
        Assert.Equal("10.20.30.2", Value(fact, "route[0].gateway"));
    }

    [Fact]
    public void DirectAndOpenModesAreRead()
    {
        Assert.Equal("bridge", Value(Network("bridge.xml"), "forward.mode.effective"));
        var open = Network("open.xml");
        Assert.Equal("open", Value(open, "forward.mode.effective"));
        Assert.Equal("/var/lib/tftpboot", Value(open, "ip[0].tftp.root"));
        Assert.Equal("pxelinux.0", Value(open, "ip[0].dhcp.bootp.file"));
        Assert.Equal("false", Value(open, "ip[0].dhcp.coversSubnet"));

        var macvtap = Network("macvtap-passthrough.xml");
        Assert.Equal("passthrough", Value(macvtap, "forward.mode.effective"));
        Assert.Equal("ens1f1", Value(macvtap, "forward.interface[1].dev"));
        Assert.Equal("yes", Value(macvtap, "trustGuestRxFilters"));
        Assert.Equal("yes", Value(macvtap, "trustGuestRxFilters.any"));
        Assert.Equal("network", Value(macvtap, "trustGuestRxFilters.where"));
    }

    [Fact]
    public void PortgroupTrunksAreFound()
    {
        var fact = Network("ovs-trunk.xml");

        Assert.Equal("openvswitch", Value(fact, "virtualport.type"));
        Assert.Equal("pacs", Value(fact, "portgroup[0].name"));
        Assert.Equal("110", Value(fact, "portgroup[0].vlan.tag[0].id"));
        Assert.Equal("untagged", Value(fact, "portgroup[1].vlan.tag[0].nativeMode"));
        Assert.Equal("yes", Value(fact, "vlan.trunk.any"));
        Assert.Equal("portgroup lab-trunk", Value(fact, "vlan.trunk.where"));
        Assert.Equal(13, Line(fact, "vlan.trunk.any"));
    }

    [Fact]
    public void NatNetworkWithIpv6WithoutIpv6Nat()
    {
        var fact = Network("nat-ipv6-routed.xml");

        Assert.Equal("nat", Value(fact, "forward.mode.effective"));
        Assert.Null(fact.Get("forward.nat.ipv6"));
        Assert.Equal("true", Value(fact, "ipv6.present"));
        Assert.Null(fact.Get("ip[1].dhcp.coversSubnet")); // IPv4 only
        Assert.Equal("false", Value(fact, "ip[0].dhcp.coversSubnet"));
    }

    [Fact]
    public void ExternalEntityIsNotResolved()
    {
        using var dir = new TempDir();
        var marker = "marker-" + Guid.NewGuid().ToString("N");
        var target = dir.Write("leak.txt", marker);
        var xml = $"<?xml version=\"1.0\"?>\n<!DOCTYPE network [<!ENTITY leak SYSTEM \"{new Uri(target).AbsoluteUri}\">]>\n<network><name>&leak;</name><forward mode='nat'/></network>\n";
        var file = new InputFile("xxe.xml", xml);

        Assert.Equal(LibvirtNetworkCollector.FormatId, CollectorRegistry.Detect(file)?.Format);
        var result = Networks.Collect(file, LibvirtNetworkCollector.FormatId);

        Assert.Empty(result.Facts);
        var error = Assert.Single(result.Diagnostics, d => d.Level == "error");
        Assert.Equal("xxe.xml", error.File);
        Assert.Equal(2, error.Line);
        Assert.DoesNotContain(marker, error.Message, StringComparison.Ordinal);
        Assert.Contains("DTD", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DoctypeFixtureIsAnErrorWithoutFact()
    {
        var file = Fixtures.Load(Dir + "network-external-entity.xml");
        var result = Networks.Collect(file, Networks.Detect(file)!);

        Assert.Empty(result.Facts);
        Assert.Contains(result.Diagnostics, d => d.Level == "error" && d.File == file.DisplayPath && d.Line is not null);
    }

    [Fact]
    public void NotWellFormedIsADiagnosticWithALine()
    {
        var file = new InputFile("broken.xml", "<network>\n  <name>x</name>\n  <forward mode='nat'>\n</network>\n");
        Assert.Equal(LibvirtNetworkCollector.FormatId, Networks.Detect(file));

        var result = Networks.Collect(file, LibvirtNetworkCollector.FormatId);

        Assert.Empty(result.Facts);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("error", error.Level);
        Assert.Equal(4, error.Line);
    }

    [Fact]
    public void UnreadableValuesAreWarningsNotExceptions()
    {
        var file = new InputFile("odd.xml", "<network>\n  <forward mode='route'/>\n  <ip address='10.0.0.300' netmask='255.0.255.0'>\n    <dhcp><range start='x' end='y'/></dhcp>\n  </ip>\n</network>\n");

        var result = Networks.Collect(file, Networks.Detect(file)!);

        var fact = Assert.IsType<ConfigFact>(Assert.Single(result.Facts));
        Assert.Equal("odd", fact.Resource.Name); // no <name>: the file name
        Assert.Equal("libvirt-net:odd", fact.Resource.Id);
        Assert.Null(fact.Get("ip[0].prefix.effective"));
        Assert.Null(fact.Get("ip[0].dhcp.coversSubnet"));
        Assert.Contains(result.Diagnostics, d => d.Level == "warning" && d.Line == 3 && d.Message.Contains("not an IP address", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Level == "warning" && d.Line == 3 && d.Message.Contains("netmask", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Level == "warning" && d.Line == 1 && d.Message.Contains("no <name>", StringComparison.Ordinal));
    }

    [Fact]
    public void DnsmasqOptionsAndMetadataAreHandled()
    {
        var file = new InputFile("ns.xml", "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>\n  <name>ns</name>\n" +
            "  <metadata><app:x xmlns:app='http://example.org/app'>free text</app:x></metadata>\n" +
            "  <dnsmasq:options>\n    <dnsmasq:option value='dhcp-option=3'/>\n  </dnsmasq:options>\n</network>\n");

        Assert.Equal(LibvirtNetworkCollector.FormatId, CollectorRegistry.Detect(file)?.Format);
        var fact = Assert.IsType<ConfigFact>(Assert.Single(Networks.Collect(file, LibvirtNetworkCollector.FormatId).Facts));

        Assert.Equal("dhcp-option=3", Value(fact, "dnsmasq:option[0]"));
        Assert.Equal(5, Line(fact, "dnsmasq:option[0]"));
        Assert.DoesNotContain(fact.Settings.Values, s => s.Value.Contains("free text", StringComparison.Ordinal));
        Assert.Equal("isolated", Value(fact, "forward.mode.effective"));
    }

    [Fact]
    public void DetectionIsByContentAndDoesNotTakeOtherXml()
    {
        Assert.Null(Networks.Detect(new InputFile("default.xml", "<domain type='kvm'><name>default</name></domain>\n")));
        Assert.Null(Networks.Detect(new InputFile("node.xml", "<node>\n  <network><name>default</name></network>\n</node>\n")));
        Assert.Null(Networks.Detect(new InputFile("x.ovf", "<?xml version=\"1.0\"?>\n<Envelope><NetworkSection><Network ovf:name='VM Network'/></NetworkSection></Envelope>\n")));
        Assert.Null(Networks.Detect(new InputFile("networks.xml", "<networks><network>x</network></networks>\n")));
        Assert.Equal(LibvirtNetworkCollector.FormatId, Networks.Detect(new InputFile("anything.txt",
            "<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE.\n-->\n<network>\n  <name>default</name>\n</network>\n")));
        var domain = new InputFile("d.xml", "<domain type='kvm'><name>x</name></domain>\n");
        Assert.Equal(LibvirtDomainCollector.FormatId, CollectorRegistry.Detect(domain)?.Format);
    }
}
