using System.Net;
using VirtSecScan.Core.Network;

namespace VirtSecScan.Core.Tests;

public class IntervalSetTests
{
    private static IntervalSet A(string text) => IntervalSet.ParseAddress(text)!;

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("10.1.2.3/255.255.0.0", "10.1.0.0/16")]
    [InlineData("10.0.0.5", "10.0.0.5")]
    [InlineData("10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9")]
    [InlineData("fd00:10::1/48", "fd00:10::/48")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    public void Addresses_parse_and_format(string text, string formatted) =>
        Assert.Equal(formatted, A(text).FormatAddresses());

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/255.0.255.0")]
    [InlineData("host-a")]
    public void Invalid_addresses_are_null(string text) => Assert.Null(IntervalSet.ParseAddress(text));

    [Fact]
    public void Set_algebra_on_intervals()
    {
        var net = A("10.0.0.0/24");
        var hole = A("10.0.0.128/25");
        Assert.Equal("10.0.0.0/25", net.Subtract(hole).FormatAddresses());
        Assert.Equal(net, net.Subtract(hole).Union(hole));
        Assert.True(net.IsSupersetOf(hole));
        Assert.False(hole.IsSupersetOf(net));
        Assert.True(A("10.0.0.0/8").Intersect(A("fd00::/8")).IsEmpty);
        Assert.True(IntervalSet.AllIpv4.Contains(IntervalSet.ToNumber(IPAddress.Parse("192.0.2.1"))));
        Assert.False(IntervalSet.AllIpv6.Contains(IntervalSet.ToNumber(IPAddress.Parse("192.0.2.1"))));
        Assert.Equal(IntervalSet.AllAddresses, IntervalSet.AllIpv4.Union(IntervalSet.AllIpv6));
    }

    [Fact]
    public void Ports_parse_merge_and_split_into_atoms()
    {
        var ports = IntervalSet.ParsePorts("443,80,8000:8100,81")!;
        Assert.Equal("80-81,443,8000-8100", ports.FormatPorts());
        Assert.Equal("0-1023", IntervalSet.ParsePorts(":1023")!.FormatPorts());
        Assert.Null(IntervalSet.ParsePorts("70000"));
        Assert.Null(IntervalSet.ParsePorts("90-80"));
        var atoms = IntervalSet.AllPorts.Atoms([IntervalSet.ParsePorts("443")!, IntervalSet.ParsePorts("400-500")!]);
        Assert.Equal(5, atoms.Count); // 0-399, 400-442, 443, 444-500, 501-65535
        Assert.Equal("any", IntervalSet.AllPorts.FormatPorts());
    }
}
