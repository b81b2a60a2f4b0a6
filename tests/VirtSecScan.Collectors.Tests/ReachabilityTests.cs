using System.Collections.Immutable;
using VirtSecScan.Core.Network;
using VirtSecScan.Core.Site;

namespace VirtSecScan.Collectors.Tests;

/// <summary>Zone-to-zone reachability on rule sets whose answer is known by construction.</summary>
public class ReachabilityTests
{
    private static Zone Z(string id, string kind, string subnet, params string[] interfaces) =>
        new(id, id, kind, Criticality.Medium, false, [subnet], []) { Interfaces = [.. interfaces] };

    /// <summary>Zones on the sample rule sets' interfaces (device "sample" = the fixture file's name).</summary>
    private static SiteModel SampleSite(string device = "sample") => new("test", [
        Z("partner", "insurance-link", "10.30.10.0/24", $"{device}:eth1"),
        Z("his", "clinical", "10.10.10.0/24", $"{device}:eth2"),
        Z("vdi", "desktop", "10.20.0.0/22", $"{device}:eth6"),
        Z("mgmt", "management", "10.90.0.0/24", $"{device}:eth9"),
    ], [], null);

    private static ReachabilityResult Analyze(SiteModel site, FirewallRuleset rs) => ReachabilityAnalyzer.Analyze(site, [rs]);

    private static ReachabilityCell Cell(ReachabilityResult r, string from, string to, string protocol) =>
        Assert.Single(r.Cells, c => c.FromZone == from && c.ToZone == to && c.Protocol == protocol);

    [Fact]
    public void Iptables_sample_first_match_through_user_chains_and_return()
    {
        var r = Analyze(SampleSite(), FirewallCollectorTests.Ruleset("fixtures/collectors/network/sample.iptables-save.txt"));

        // partner -> his: tcp 443 by FROM_PARTNER line 33; every other tcp port only through the stateless
        // "! -i eth9 --sport 443" line 31 (an attacker picks source port 443).
        var tcp = Cell(r, "partner", "his", "tcp");
        Assert.Equal("any", tcp.Ports.FormatPorts());
        var by33 = Assert.Single(tcp.Rules, x => x.Line == 33);
        Assert.Equal("443", by33.Ports.FormatPorts());
        Assert.Equal("0-442,444-65535", Assert.Single(tcp.Rules, x => x.Line == 31).Ports.FormatPorts());
        Assert.Equal("stateful", tcp.ReturnPath);
        Assert.Contains(tcp.Uncertain, u => u.Contains("blocklist", StringComparison.Ordinal));
        Assert.DoesNotContain(r.Cells, c => c.FromZone == "partner" && c.ToZone == "his" && c.Protocol == "udp");

        // vdi -> mgmt: TO_MGMT rejects 443/902/5989 and drops the rest; nothing passes.
        var drop = Cell(r, "vdi", "mgmt", "any");
        Assert.Equal("drop", drop.Action);
        Assert.Contains(drop.Rules, x => x.Line == 37);
        Assert.Contains(drop.Rules, x => x.Line == 38);

        // mgmt -> his: only the icmp line 30 (the sport rule excludes eth9).
        Assert.Equal(30, Assert.Single(Cell(r, "mgmt", "his", "icmp").Rules).Line);
        Assert.DoesNotContain(r.Cells, c => c.FromZone == "mgmt" && c.ToZone == "his" && c.Protocol is "tcp" or "udp");

        // his -> partner: udp 53 by the first of two identical lines.
        var udp = Cell(r, "his", "partner", "udp");
        Assert.Equal("53", udp.Ports.FormatPorts());
        Assert.Equal(27, Assert.Single(udp.Rules).Line);

        // vdi -> his: 80, 443, 8000-8100 by line 26, the rest of tcp by the sport rule.
        var vdi = Cell(r, "vdi", "his", "tcp");
        Assert.Equal("80,443,8000-8100", Assert.Single(vdi.Rules, x => x.Line == 26).Ports.FormatPorts());
    }

    [Fact]
    public void Shadowed_lines_name_the_lines_that_take_their_packets()
    {
        var r = Analyze(SampleSite(), FirewallCollectorTests.Ruleset("fixtures/collectors/network/sample.iptables-save.txt"));
        var dup = Assert.Single(r.Shadowed, s => s.Line.Line == 28);
        Assert.Equal(27, Assert.Single(dup.By).Line);
        var drop = Assert.Single(r.Shadowed, s => s.Line.Line == 34);
        Assert.Equal(33, Assert.Single(drop.By).Line);
        Assert.DoesNotContain(r.Shadowed, s => s.Line.Line is 26 or 27 or 33 or 37);
    }

    [Fact]
    public void Established_accept_does_not_open_new_flows_and_gives_a_stateful_return_path()
    {
        const string rules = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i eth1 -o eth2 -p tcp --dport 443 -j ACCEPT\n-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\nCOMMIT\n";
        var site = new SiteModel("t", [Z("a", "desktop", "10.1.0.0/16", "fw:eth1"), Z("b", "clinical", "10.2.0.0/16", "fw:eth2")], [], null);
        var r = Analyze(site, FirewallCollectorTests.FromText(rules, "fw.rules"));
        var ab = Cell(r, "a", "b", "tcp");
        Assert.Equal("443", ab.Ports.FormatPorts());
        Assert.Equal(3, Assert.Single(ab.Rules).Line);
        Assert.Equal("stateful", ab.ReturnPath);
        Assert.Equal("drop", Cell(r, "b", "a", "any").Action);
    }

    [Fact]
    public void Without_state_tracking_the_return_path_is_missing_or_stateless()
    {
        const string none = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i eth1 -o eth2 -p tcp --dport 443 -j ACCEPT\nCOMMIT\n";
        const string stateless = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i eth1 -o eth2 -p tcp --dport 443 -j ACCEPT\n-A FORWARD -i eth2 -o eth1 -p tcp --sport 443 -j ACCEPT\nCOMMIT\n";
        var site = new SiteModel("t", [Z("a", "desktop", "10.1.0.0/16", "fw:eth1"), Z("b", "clinical", "10.2.0.0/16", "fw:eth2")], [], null);
        Assert.Equal("none", Cell(Analyze(site, FirewallCollectorTests.FromText(none, "fw.rules")), "a", "b", "tcp").ReturnPath);

        var r = Analyze(site, FirewallCollectorTests.FromText(stateless, "fw.rules"));
        Assert.Equal("stateless", Cell(r, "a", "b", "tcp").ReturnPath);
        // The "return" rule by source port opens every destination port from b to a.
        Assert.Equal("any", Cell(r, "b", "a", "tcp").Ports.FormatPorts());
    }

    [Fact]
    public void Nftables_sets_vmaps_and_ipv6_in_the_matrix()
    {
        var site = new SiteModel("test", [
            Z("partner", "insurance-link", "10.30.10.0/24", "sample:eth1"),
            Z("his", "clinical", "10.10.10.0/24", "sample:eth2") with { Subnets = ["10.10.10.0/24", "fd00:10:10::/64"] },
            Z("vdi", "desktop", "10.20.0.0/22", "sample:eth6") with { Subnets = ["10.20.0.0/22", "fd00:20::/56"] },
            Z("mgmt", "management", "10.90.0.0/24", "sample:eth9"),
        ], [], null);
        foreach (var file in new[] { "sample.nft.txt", "sample.nft.json" })
        {
            var r = Analyze(site, FirewallCollectorTests.Ruleset("fixtures/collectors/network/" + file));
            // from_partner (via the vmap): tcp 443 to his; udp 1000-2000 only to .20-.29.
            Assert.Equal("443", Cell(r, "partner", "his", "tcp").Ports.FormatPorts());
            Assert.Equal("1000-2000", Cell(r, "partner", "his", "udp").Ports.FormatPorts());
            // vdi -> mgmt: the named set 443/902/5989; the later "443 drop" is shadowed.
            Assert.Equal("443,902,5989", Cell(r, "vdi", "mgmt", "tcp").Ports.FormatPorts());
            Assert.Contains(r.Shadowed, s => s.Line.DestinationPorts?.FormatPorts() == "443" && s.Line.Action == FirewallAction.Drop);
            // vdi -> his: 104/443/11112 over IPv4 and 443 over IPv6, ipv6-icmp accepted.
            Assert.Equal("104,443,11112", Cell(r, "vdi", "his", "tcp").Ports.FormatPorts());
            Assert.Single(Cell(r, "vdi", "his", "ipv6-icmp").Rules);
            // mgmt goes to from_mgmt (goto): everything.
            Assert.Equal("any", Cell(r, "mgmt", "his", "udp").Ports.FormatPorts());
        }
    }

    [Fact]
    public void Zone_of_address_is_longest_prefix_over_ipv4_and_ipv6()
    {
        var site = new SiteModel("t", [
            new Zone("wide", "w", "other", Criticality.Low, false, ["10.0.0.0/8"], []),
            new Zone("his", "h", "clinical", Criticality.High, true, ["10.10.10.0/24", "fd00:10:10::/64"], []),
        ], [], null);
        Assert.Equal("his", site.ZoneOfAddress(System.Net.IPAddress.Parse("10.10.10.7"))?.Id);
        Assert.Equal("wide", site.ZoneOfAddress(System.Net.IPAddress.Parse("10.10.11.7"))?.Id);
        Assert.Equal("his", site.ZoneOfAddress(System.Net.IPAddress.Parse("fd00:10:10::7"))?.Id);
        Assert.Null(site.ZoneOfAddress(System.Net.IPAddress.Parse("192.0.2.1")));
        Assert.Equal("his", site.ZoneOfAddress(System.Net.IPAddress.Parse("::ffff:10.10.10.7"))?.Id);
    }
}
