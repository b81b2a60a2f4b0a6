using VirtSecScan.Collectors;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Network;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Network;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Tests;

/// <summary>Site model network sections, shipped defaults, the virtual network inventory and the segmentation findings.</summary>
public class NetworkSegmentationTests
{
    private const string Site = """
        site: Test Hospital
        zones:
          - id: his
            kind: clinical
            subnets: [10.10.10.0/24, "fd00:10:10::/64"]
            vlans: [110]
            portGroups: [HIS-110]
            interfaces: [fw:eth1]
          - id: ins
            kind: insurance-link
            subnets: [10.30.10.0/24]
            vlans: [310]
            portGroups: [INS-310]
            interfaces: [fw:eth2]
          - id: mgmt
            kind: management
            subnets: [10.90.0.0/24]
            interfaces: [fw:eth9]
          - id: vmotion
            kind: migration
            subnets: [10.92.0.0/24]
            interfaces: [fw:eth8]
        systems:
          - { name: his-app, type: vm, zone: his }
          - { name: ins-gw, type: vm, zone: ins }
        portGroups:
          - { name: TRUNK, vlan: 4095 }
          - { name: VMOTION-920, vlan: 920, zone: vmotion }
        vmkernel:
          - { host: esxi-01, interface: vmk1, portGroup: VMOTION-920, services: [vmotion] }
          - { host: esxi-01, interface: vmk2, portGroup: HIS-110, services: [storage] }
        allowedFlows:
          - { from: ins, to: his, protocol: tcp, ports: [443], reason: claims }
        """;

    private static SiteDefaults Defaults() =>
        SiteNetworkLoader.LoadDefaults(RepoPaths.Combine("rulesets"));

    private static SiteModel Load() => SiteModelLoader.Parse(Site, "site.yaml", Defaults());

    [Fact]
    public void Site_file_network_sections_load_and_defaults_fill_the_rest()
    {
        var site = Load();
        var his = site.FindZone("his")!;
        Assert.Equal(Criticality.High, his.Criticality); // from the kind default
        Assert.True(his.Phi);
        Assert.Equal(["HIS-110"], his.PortGroups.ToArray());
        Assert.Equal("ins", site.ZoneOfPortGroup("INS-310")?.Id);
        Assert.Equal("vmotion", site.ZoneOfPortGroup("VMOTION-920")?.Id);
        Assert.Single(site.AllowedFlows); // the site's flows replace the defaults
        Assert.Equal(4, site.ManagementPorts.Length); // management ports come from the defaults
        Assert.NotNull(site.AllowedBy(site.FindZone("ins")!, his, "tcp", 443));
        Assert.Null(site.AllowedBy(site.FindZone("ins")!, his, "tcp", 22));
        Assert.Equal(2, site.Vmkernels.Length);
    }

    [Fact]
    public void Shipped_defaults_apply_when_the_site_has_no_flows()
    {
        var site = SiteModelLoader.Parse("site: x\nzones:\n  - { id: vdi, kind: desktop, subnets: [10.20.0.0/22] }\n  - { id: his, kind: clinical }\n", "s.yaml", Defaults());
        Assert.NotNull(site.AllowedBy(site.FindZone("vdi")!, site.FindZone("his")!, "tcp", 443));
        Assert.Null(site.AllowedBy(site.FindZone("vdi")!, site.FindZone("his")!, "tcp", 3389));
    }

    [Theory]
    [InlineData("allowedFlows:\n  - { from: nowhere, to: his, reason: r }\n", "zone 'nowhere'")]
    [InlineData("allowedFlows:\n  - { from: his, to: his, protocol: sctp, reason: r }\n", "protocol 'sctp'")]
    [InlineData("allowedFlows:\n  - { from: his, to: his, ports: [99999], reason: r }\n", "ports")]
    [InlineData("vmkernel:\n  - { host: h, interface: vmk0, portGroup: p, services: [coffee] }\n", "service 'coffee'")]
    public void Bad_network_sections_name_the_line(string yaml, string message)
    {
        var text = "site: x\nzones:\n  - { id: his, kind: clinical, subnets: [10.0.0.0/24] }\n" + yaml;
        var ex = Assert.Throws<DataFileException>(() => SiteModelLoader.Parse(text, "s.yaml"));
        Assert.Contains(message, ex.Problem, StringComparison.Ordinal);
        Assert.Equal(5, ex.Line);
    }

    [Fact]
    public void A_bad_subnet_is_an_error()
    {
        var ex = Assert.Throws<DataFileException>(() => SiteModelLoader.Parse("site: x\nzones:\n  - { id: his, kind: clinical, subnets: [10.0.0.300/24] }\n", "s.yaml"));
        Assert.Contains("10.0.0.300/24", ex.Problem, StringComparison.Ordinal);
    }

    private static string Vmx(string name, params string[] nics) =>
        $"config.version = \"8\"\nvirtualHW.version = \"19\"\ndisplayName = \"{name}\"\n" + string.Join("", nics.Select((n, i) => $"ethernet{i}.present = \"TRUE\"\nethernet{i}.networkName = \"{n}\"\n"));

    [Fact]
    public void Vm_nics_are_checked_against_their_zone_trunks_and_vmkernel_networks()
    {
        var site = Load();
        var facts = new object[]
        {
            TestVms.Parse(Vmx("his-app", "HIS-110"), "vms/his-app.vmx"),
            TestVms.Parse(Vmx("ins-gw", "INS-310", "HIS-110", "TRUNK"), "vms/ins-gw.vmx"),
        };
        var findings = VirtualNetworkFindings.Analyze(site, facts, "stig-8").ToList();

        var mismatch = Assert.Single(findings, f => f.RuleId == VirtualNetworkFindings.ZoneMismatch && f.Status == FindingStatus.Fail);
        Assert.Equal("ins-gw", mismatch.Resource.Name);
        Assert.Equal("ethernet1", mismatch.Discriminator);
        Assert.Equal(7, mismatch.Evidence[0].Line);
        Assert.Equal(2, findings.Count(f => f.RuleId == VirtualNetworkFindings.ZoneMismatch && f.Status == FindingStatus.Pass));

        var trunk = Assert.Single(findings, f => f.RuleId == VirtualNetworkFindings.Trunk);
        Assert.Equal("ethernet2", trunk.Discriminator);

        // vmk2 (storage) is on the HIS VM port group: shared with both VMs; vmk1 has its own network.
        var shared = Assert.Single(findings, f => f.RuleId == VirtualNetworkFindings.VmkShared && f.Status == FindingStatus.Fail);
        Assert.Equal("vmk2", shared.Discriminator);
        Assert.Equal("VT05", shared.Category);
        Assert.Contains(findings, f => f.RuleId == VirtualNetworkFindings.VmkShared && f.Status == FindingStatus.Pass && f.Discriminator == "vmk1");
        Assert.Contains(findings, f => f.RuleId == VirtualNetworkFindings.VmkZone && f.Discriminator == "vmk2|zone");
    }

    private static FirewallRuleset Rules(string text)
    {
        var file = new InputFile("fw.rules", "# device: fw\n" + text);
        var (collector, format) = CollectorRegistry.Detect(file)!.Value;
        return Assert.IsType<FirewallRuleset>(Assert.Single(collector.Collect(file, format).Facts));
    }

    [Fact]
    public void Exposure_findings_name_the_line_and_pass_when_within_policy()
    {
        var site = Load();
        var within = Rules("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i eth2 -o eth1 -p tcp --dport 443 -j ACCEPT\nCOMMIT\n");
        var (_, ok) = NetworkFindings.Analyze(site, [within], "stig-8");
        Assert.Contains(ok, f => f.RuleId == NetworkFindings.InsuranceToClinical && f.Status == FindingStatus.Pass);
        Assert.DoesNotContain(ok, f => f.Status == FindingStatus.Fail && f.RuleId.StartsWith("net.exposure", StringComparison.Ordinal));

        var broad = Rules("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i eth2 -o eth1 -p tcp --dport 443 -j ACCEPT\n-A FORWARD -i eth2 -p tcp -m multiport --dports 22,443,902 -j ACCEPT\n-A FORWARD -i eth2 -d 10.92.0.0/24 -j ACCEPT\nCOMMIT\n");
        var (reach, bad) = NetworkFindings.Analyze(site, [broad], "stig-8");
        var exposure = Assert.Single(bad, f => f.RuleId == NetworkFindings.InsuranceToClinical && f.Status == FindingStatus.Fail);
        Assert.Equal(5, exposure.Resource.Line); // "# device" is line 1
        Assert.Contains("tcp/22,902", exposure.Title, StringComparison.Ordinal);
        var mgmt = Assert.Single(bad, f => f.RuleId == NetworkFindings.ManagementPorts && f.Status == FindingStatus.Fail && f.Title.StartsWith("ins", StringComparison.Ordinal));
        Assert.Contains("tcp/443,902", mgmt.Title, StringComparison.Ordinal);
        Assert.Equal("VT10", mgmt.Category);
        // Line 5 (any destination) and line 6 (the vMotion subnet) both open the migration network.
        var migration = bad.Where(f => f.RuleId == NetworkFindings.ToMigration && f.Status == FindingStatus.Fail).Select(f => f.Resource.Line).Order().ToArray();
        Assert.Equal([5, 6], migration.Select(l => l ?? 0).ToArray());
        Assert.NotEmpty(reach.Cells);
    }

    [Fact]
    public void Any_to_any_and_any_source_lines_are_findings()
    {
        var site = Load();
        var rs = Rules("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -d 10.10.10.0/24 -p tcp --dport 80 -j ACCEPT\n-A FORWARD -j ACCEPT\nCOMMIT\n");
        var (_, findings) = NetworkFindings.Analyze(site, [rs], "stig-8");
        Assert.Equal(4, Assert.Single(findings, f => f.RuleId == NetworkFindings.AnySourceToClinical).Resource.Line);
        Assert.Equal(5, Assert.Single(findings, f => f.RuleId == NetworkFindings.AnyToAny).Resource.Line);
    }
}
