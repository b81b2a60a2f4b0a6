using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Engine.Tests;

/// <summary>The network fixtures scanned as files give exactly the failures their README promises.</summary>
public sealed class LibvirtNetworkScanTests
{
    [Fact]
    public void NetworkFixturesGiveTheDocumentedFailures()
    {
        var report = new Scanner(new ScanOptions
        {
            Inputs = [RepoPaths.Fixture("collectors", "libvirt", "networks")],
            RulesDirectory = RepoPaths.Rulesets,
            StartedAt = new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero),
        }).Run();

        var failed = report.Findings.Where(f => f.Status == FindingStatus.Fail && f.RuleId.StartsWith("libvirt.network.", StringComparison.Ordinal))
            .Select(f => $"{f.Resource.Name} {f.RuleId}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
        [
            "default6 libvirt.network.ipv6-routed-behind-nat",
            "his-open libvirt.network.forward-open",
            "his-open libvirt.network.tftp-service",
            "host-bridge libvirt.network.guests-on-physical-segment",
            "macvtap-imaging libvirt.network.guest-rx-filters-trusted",
            "macvtap-imaging libvirt.network.guests-on-physical-segment",
            "ovs-clinical libvirt.network.guests-on-physical-segment",
            "ovs-clinical libvirt.network.vlan-trunk-to-guests",
            "pacs-routed libvirt.network.dhcp-pool-whole-routed-subnet",
            "pacs-routed libvirt.network.forward-route",
        ], failed);
        Assert.DoesNotContain(report.NotEvaluated, f => f.RuleId.StartsWith("libvirt.network.", StringComparison.Ordinal));
        Assert.All(report.Findings.Where(f => f.RuleId.StartsWith("libvirt.network.", StringComparison.Ordinal)),
            f => Assert.StartsWith("libvirt-net:", f.Resource.Id, StringComparison.Ordinal));
        var error = Assert.Single(report.Diagnostics, d => d.Level == "error");
        Assert.EndsWith("network-external-entity.xml", error.File, StringComparison.Ordinal);
    }
}
