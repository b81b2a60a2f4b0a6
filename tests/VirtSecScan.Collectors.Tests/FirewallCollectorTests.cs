using System.Net;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Network;
using VirtSecScan.Core.Network;

namespace VirtSecScan.Collectors.Tests;

/// <summary>The firewall collectors, on outputs of the real iptables-save, ip6tables-save and nft (fixtures/collectors/network/generate.sh).</summary>
public class FirewallCollectorTests
{
    private const string Dir = "fixtures/collectors/network/";

    internal static FirewallRuleset Ruleset(string path)
    {
        var file = Fixtures.Load(path);
        var detected = CollectorRegistry.Detect(file);
        Assert.NotNull(detected);
        var result = detected.Value.Collector.Collect(file, detected.Value.Format);
        Assert.DoesNotContain(result.Diagnostics, d => d.Level == "error");
        return Assert.IsType<FirewallRuleset>(Assert.Single(result.Facts));
    }

    internal static FirewallRuleset FromText(string text, string name = "inline.rules")
    {
        var file = new InputFile(name, text);
        var detected = CollectorRegistry.Detect(file);
        Assert.NotNull(detected);
        var result = detected.Value.Collector.Collect(file, detected.Value.Format);
        return Assert.IsType<FirewallRuleset>(Assert.Single(result.Facts));
    }

    private static UInt128 Ip(string a) => IntervalSet.ToNumber(IPAddress.Parse(a));

    [Theory]
    [InlineData("sample.iptables-save.txt", "iptables-save")]
    [InlineData("sample.ip6tables-save.txt", "iptables-save")]
    [InlineData("sample.nft.txt", "nftables")]
    [InlineData("sample.nft.json", "nftables-json")]
    public void Real_tool_outputs_are_detected_by_content(string name, string format)
    {
        var detected = CollectorRegistry.Detect(Fixtures.Load(Dir + name));
        Assert.Equal(format, detected?.Format);
    }

    [Fact]
    public void Iptables_save_reads_tables_chains_policies_jumps_and_matches()
    {
        var rs = Ruleset(Dir + "sample.iptables-save.txt");
        Assert.Equal("sample", rs.Device);
        var forward = rs.Chains.Single(c => c.Table == "filter" && c.Name == "FORWARD");
        Assert.Equal("forward", forward.Hook);
        Assert.Equal(FirewallAction.Drop, forward.Policy);
        Assert.Equal(12, forward.Lines.Length);
        Assert.Contains(rs.Chains, c => c.Table == "nat" && c.Name == "PREROUTING");
        Assert.Contains(rs.Chains, c => c.Table == "mangle" && c.Name == "FORWARD");
        var partner = rs.Chains.Single(c => c.Name == "FROM_PARTNER");
        Assert.Null(partner.Hook);
        Assert.Equal(FirewallAction.Return, partner.Lines[^1].Action);

        var jump = forward.Lines.Single(l => l.Target == "FROM_PARTNER");
        Assert.Equal(FirewallAction.Jump, jump.Action);
        Assert.Equal(new InterfaceMatch("eth1"), jump.In);
        Assert.Equal(23, jump.Line);

        var established = forward.Lines[0];
        Assert.Equal(ConnState.Established | ConnState.Related, established.States);

        // -s 10.20.0.0/22 ! -d 10.90.0.0/16 -p tcp -m multiport --dports 80,443,8000:8100
        var negated = forward.Lines.Single(l => l.Line == 26);
        Assert.False(negated.Destination!.Contains(Ip("10.90.1.1")));
        Assert.True(negated.Destination.Contains(Ip("10.10.10.1")));
        Assert.True(negated.DestinationPorts!.Contains(8050));
        Assert.False(negated.DestinationPorts.Contains(8101));
        Assert.Equal("tcp", negated.Protocol);

        var notEth9 = forward.Lines.Single(l => l.Line == 31);
        Assert.Equal(new InterfaceMatch("eth9", Negated: true), notEth9.In);
        Assert.True(notEth9.SourcePorts!.Contains(443));
        Assert.Null(notEth9.States);

        var ipset = forward.Lines.Single(l => l.Line == 29);
        Assert.Contains("blocklist", ipset.Unmodelled);
        Assert.Contains(rs.NotModelled, n => n.What == "ipset" && n.Line == 29);
        Assert.Contains(rs.NotModelled, n => n.What == "DNAT");
        Assert.Contains(rs.NotModelled, n => n.What == "MASQUERADE");
        Assert.Equal(FirewallAction.Continue, forward.Lines[^1].Action); // LOG
        Assert.Equal(FirewallAction.Reject, rs.Chains.Single(c => c.Name == "TO_MGMT").Lines[1].Action);
    }

    [Fact]
    public void Ip6tables_save_is_an_ipv6_rule_set()
    {
        var rs = Ruleset(Dir + "sample.ip6tables-save.txt");
        var forward = rs.Chains.Single(c => c.Name == "FORWARD");
        Assert.Equal("ip6", forward.Family);
        Assert.False(forward.Applies(ipv4: true));
        var toDmz = forward.Lines.Single(l => l.Target == "FROM_DMZ");
        Assert.True(toDmz.Source!.Contains(Ip("fd00:40:10::5")));
        Assert.False(toDmz.Source.Contains(Ip("fd00:40:11::5")));
        Assert.Equal("ipv6-icmp", forward.Lines.Single(l => l.Line == 9).Protocol);
        var host = rs.Chains.Single(c => c.Name == "FROM_DMZ").Lines[1];
        Assert.True(host.Destination!.Contains(Ip("fd00:10:10::30")));
        Assert.False(host.Destination.Contains(Ip("fd00:10:10::31")));
    }

    public static TheoryData<string> NftFiles => new() { "sample.nft.txt", "sample.nft.json" };

    [Theory]
    [MemberData(nameof(NftFiles))]
    public void Nftables_text_and_json_give_the_same_model(string name)
    {
        var rs = Ruleset(Dir + name);
        var forward = rs.Chains.Single(c => c.Table == "filter" && c.Name == "forward");
        Assert.Equal("inet", forward.Family);
        Assert.Equal("forward", forward.Hook);
        Assert.Equal(FirewallAction.Drop, forward.Policy);
        Assert.Equal(0, forward.Priority);
        Assert.Equal(-300, rs.Chains.Single(c => c.Table == "raw").Priority);
        Assert.Equal("nat-prerouting", rs.Chains.Single(c => c.Table == "nat").Hook);
        Assert.Contains(rs.NotModelled, n => n.What == "dnat");

        // ct state established,related accept
        Assert.Equal(ConnState.Established | ConnState.Related, forward.Lines[0].States);

        // iifname vmap @zone_verdicts -> one jump line per map element
        var vmap = forward.Lines.Where(l => l.Action == FirewallAction.Jump).ToList();
        Assert.Equal("from_partner,from_dmz", string.Join(",", vmap.Select(l => l.Target)));
        Assert.Equal("eth1,eth3", string.Join(",", vmap.Select(l => l.In)));

        // ip daddr @clinical_v4 tcp dport { 104, 443, 11112 } accept
        var clinical = forward.Lines.First(l => l.Destination?.Contains(Ip("10.10.20.5")) == true);
        Assert.False(clinical.Destination!.Contains(Ip("10.10.30.5")));
        Assert.Equal("104,443,11112", clinical.DestinationPorts!.FormatPorts());
        Assert.Equal("tcp", clinical.Protocol);

        // tcp dport @mgmt_ports (named set of services)
        Assert.Contains(forward.Lines, l => l.DestinationPorts?.FormatPorts() == "443,902,5989");

        // IPv6 rule, ipv6-icmp, goto
        Assert.Contains(forward.Lines, l => l.Source?.Contains(Ip("fd00:20::1")) == true && l.DestinationPorts?.FormatPorts() == "443");
        Assert.Contains(forward.Lines, l => l.Protocol == "ipv6-icmp" && l.Action == FirewallAction.Accept);
        Assert.Contains(forward.Lines, l => l.Action == FirewallAction.Goto && l.Target == "from_mgmt");

        var partner = rs.Chains.Single(c => c.Name == "from_partner");
        Assert.Equal(FirewallAction.Return, partner.Lines[^1].Action);
        var range = partner.Lines[1];
        Assert.True(range.Destination!.Contains(Ip("10.10.10.25")));
        Assert.False(range.Destination.Contains(Ip("10.10.10.30")));
        Assert.Equal("1000-2000", range.DestinationPorts!.FormatPorts());
        Assert.Equal("udp", range.Protocol);

        // ip daddr != 10.10.0.0/16: the complement within IPv4 only
        var dmz = rs.Chains.Single(c => c.Name == "from_dmz").Lines[0];
        Assert.False(dmz.Destination!.Contains(Ip("10.10.1.1")));
        Assert.True(dmz.Destination.Contains(Ip("192.0.2.1")));
        Assert.False(dmz.Destination.Contains(Ip("fd00::1")));
    }

    [Fact]
    public void Nftables_text_lines_point_at_the_rule_and_json_names_the_handle()
    {
        var text = Ruleset(Dir + "sample.nft.txt");
        var line = text.Chains.Single(c => c.Name == "from_partner").Lines[0];
        Assert.Equal(34, line.Line);
        Assert.StartsWith("ip saddr 10.30.10.0/24", line.Text);

        var json = Ruleset(Dir + "sample.nft.json");
        var jl = json.Chains.Single(c => c.Name == "from_partner").Lines[0];
        Assert.Contains("handle 19", jl.Text);
    }

    [Fact]
    public void Broken_input_becomes_diagnostics_not_exceptions()
    {
        var file = new InputFile("cut.nft", "table inet t {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tip saddr 10.0.0.1 accept\n");
        var result = new NftTextCollector().Collect(file, NftTextCollector.Format);
        Assert.Contains(result.Diagnostics, d => d.Level == "error" && d.Line == 2);

        var json = new NftJsonCollector().Collect(new InputFile("x.json", "{\"nftables\": [ {\"rule\": "), NftJsonCollector.Format);
        Assert.Contains(json.Diagnostics, d => d.Level == "error");

        var ipt = new IptablesSaveCollector().Collect(new InputFile("x.rules", "*filter\n:FORWARD DROP [0:0]\n-A NOCHAIN -j ACCEPT\ngarbage here\nCOMMIT\n"), IptablesSaveCollector.Format);
        Assert.Contains(ipt.Diagnostics, d => d.Line == 3);
        Assert.Contains(ipt.Diagnostics, d => d.Line == 4);
    }
}

public class PfSenseCollectorTests
{
    private static UInt128 Ip(string a) => IntervalSet.ToNumber(IPAddress.Parse(a));

    [Fact]
    public void Config_xml_interfaces_aliases_rules_in_order_and_port_forwards()
    {
        var rs = FirewallCollectorTests.Ruleset("fixtures/collectors/network/pfsense-config.xml");
        Assert.Equal("pfsense-config-xml", rs.Format);
        Assert.Equal("edge-fw", rs.Device);
        Assert.Contains(rs.Interfaces, i => i.Name == "opt1" && i.Description == "INSURANCE" && i.Subnets.Contains("10.30.10.1/24"));
        var chain = Assert.Single(rs.Chains);
        Assert.Equal(FirewallAction.Drop, chain.Policy);
        var lines = chain.Lines;
        // implicit state line first, then the quick floating block (unresolvable urltable alias), then interface rules
        Assert.Equal(ConnState.Established | ConnState.Related, lines[0].States);
        Assert.Contains("FEED_BLOCKLIST", lines[1].Unmodelled);
        Assert.Equal(FirewallAction.Drop, lines[1].Action);

        var claims = lines.Single(l => l.Text.Contains("claims interface", StringComparison.Ordinal));
        Assert.Equal(new InterfaceMatch("opt1"), claims.In);
        Assert.True(claims.Destination!.Contains(Ip("10.10.10.11")));  // HIS_APP through the nested alias
        Assert.True(claims.Destination.Contains(Ip("10.10.20.5")));
        Assert.False(claims.Destination.Contains(Ip("10.10.10.12")));
        Assert.Equal("443,8443-8445", claims.DestinationPorts!.FormatPorts());
        Assert.True(claims.Source!.Contains(Ip("10.30.10.77")));

        Assert.DoesNotContain(lines, l => l.Text.Contains("vendor support", StringComparison.Ordinal)); // disabled
        var reject = lines.Where(l => l.Action == FirewallAction.Reject).ToList();
        Assert.Equal(["tcp", "udp"], reject.Select(l => l.Protocol!).ToArray());
        Assert.False(reject[0].Destination!.Contains(Ip("10.10.5.5")));
        Assert.True(reject[0].Destination!.Contains(Ip("192.0.2.5")));

        var lanAny = lines.Single(l => l.Text.Contains("Default allow LAN", StringComparison.Ordinal));
        Assert.True(lanAny.Source!.Contains(Ip("fd00:10::5")));
        var webgui = lines.Single(l => l.Text.Contains("webConfigurator", StringComparison.Ordinal));
        Assert.True(webgui.Destination!.Contains(Ip("10.10.0.1")));
        Assert.False(webgui.Destination.Contains(Ip("10.10.0.2")));
        Assert.Contains(rs.NotModelled, n => n.What == "port forward" && n.Reason.Contains("10.10.10.10", StringComparison.Ordinal));
    }

    [Fact]
    public void Interfaces_place_zones_by_subnet_and_the_matrix_follows_the_rules()
    {
        var rs = FirewallCollectorTests.Ruleset("fixtures/collectors/network/pfsense-config.xml");
        var site = new VirtSecScan.Core.Site.SiteModel("t", [
            new("his", "his", "clinical", VirtSecScan.Core.Site.Criticality.High, true, ["10.10.10.0/24"], []),
            new("ins", "ins", "insurance-link", VirtSecScan.Core.Site.Criticality.Medium, false, ["10.30.10.0/24"], []),
            new("mgmt", "mgmt", "management", VirtSecScan.Core.Site.Criticality.High, false, ["10.90.0.0/24"], []),
        ], [], null);
        var r = ReachabilityAnalyzer.Analyze(site, [rs]);
        var cell = Assert.Single(r.Cells, c => c.FromZone == "ins" && c.ToZone == "his" && c.Action == "accept");
        Assert.Equal("tcp", cell.Protocol);
        Assert.Equal("443,8443-8445", cell.Ports.FormatPorts());
        Assert.Equal("stateful", cell.ReturnPath);
        Assert.Equal("drop", Assert.Single(r.Cells, c => c.FromZone == "mgmt" && c.ToZone == "ins").Action);
    }

    [Fact]
    public void An_external_entity_is_not_resolved()
    {
        var xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE pfsense [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>\n<pfsense><system><hostname>&x;</hostname></system></pfsense>\n";
        var file = new InputFile("evil.xml", xml);
        var result = new PfSenseCollector().Collect(file, PfSenseCollector.PfSense);
        Assert.Empty(result.Facts);
        Assert.Contains(result.Diagnostics, d => d.Level == "error" && d.Message.Contains("DTD", StringComparison.OrdinalIgnoreCase));
    }
}

public class CiscoAsaCollectorTests
{
    private static VirtSecScan.Core.Site.Zone Z(string id, string kind, string subnet) =>
        new(id, id, kind, VirtSecScan.Core.Site.Criticality.Medium, false, [subnet], []);

    [Fact]
    public void Access_groups_object_groups_and_security_levels()
    {
        var rs = FirewallCollectorTests.Ruleset("fixtures/collectors/network/asa-running-config.txt");
        Assert.Equal("cisco-asa", rs.Format);
        Assert.Equal("core-asa", rs.Device);
        Assert.Contains(rs.Interfaces, i => i.Name == "insurance" && i.SecurityLevel == 50);
        Assert.Contains(rs.NotModelled, n => n.What == "nat");
        var acl = rs.Chains.Single(c => c.Name == "INSURANCE-IN").Lines;
        Assert.DoesNotContain(acl, l => l.Text.Contains("3389", StringComparison.Ordinal)); // inactive
        Assert.Equal("443,8443-8445", acl[0].DestinationPorts!.FormatPorts());
        Assert.Equal(2, acl.Count(l => l.Line == 60)); // service object-group: tcp 104 and udp 53

        var site = new VirtSecScan.Core.Site.SiteModel("t", [
            Z("his", "clinical", "10.10.10.0/24"), Z("emr", "clinical", "10.10.20.0/24"),
            Z("ins", "insurance-link", "10.30.10.0/24"), Z("nrcms", "insurance-link", "10.30.20.0/24"),
            Z("internet", "external", "198.51.100.0/24") with { Interfaces = ["core-asa:outside"] },
            Z("mgmt", "management", "10.90.0.0/24"),
        ], [], null);
        var r = ReachabilityAnalyzer.Analyze(site, [rs]);
        ReachabilityCell Cell(string from, string to, string proto) => Assert.Single(r.Cells, c => c.FromZone == from && c.ToZone == to && c.Protocol == proto);

        // insurance (ACL): his tcp 443/8443-8445 to .10/.11 only; emr tcp 443.. and tcp 104 / udp 53 to the range
        Assert.Equal("443,8443-8445", Cell("ins", "his", "tcp").Ports.FormatPorts());
        Assert.Equal("104,443,8443-8445", Cell("ins", "emr", "tcp").Ports.FormatPorts());
        Assert.Equal("53", Cell("ins", "emr", "udp").Ports.FormatPorts());
        // insurance -> nrcms: the ACL's explicit deny (no security-level fallback)
        Assert.Equal("drop", Cell("nrcms", "mgmt", "any").Action); // 50 -> 100 without an ACL: denied
        // nrcms (50, no ACL) -> insurance (50): same-security-traffic permit inter-interface
        Assert.Equal("any", Cell("nrcms", "ins", "tcp").Ports.FormatPorts());
        // inside (100) -> nrcms (50): higher to lower is permitted
        Assert.Equal("any", Cell("his", "nrcms", "udp").Ports.FormatPorts());
        // outside: the "permit ip any any" line opens everything; the later 8443 line is shadowed
        Assert.Equal("any", Cell("internet", "his", "tcp").Ports.FormatPorts());
        Assert.Contains(r.Shadowed, s => s.Line.Text.Contains("eq 8443", StringComparison.Ordinal));
        Assert.Equal("stateful", Cell("ins", "his", "tcp").ReturnPath);
    }
}
