using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Tests;

/// <summary>A rule on a generic configuration fact kind matches facts of that kind only.</summary>
public sealed class ConfigFactKindTests
{
    private const string Ruleset = """
        ruleset: kind-test
        version: "1.0"
        rules:
          - id: kind.rule
            title: Graphics listen on loopback
            category: VT08
            severity: high
            appliesTo: libvirt-domain
            check:
              key: graphics.listen
              op: in
              values: ["127.0.0.1", "::1"]
            rationale: Because.
            remediation:
              summary: Listen on loopback.
              steps:
                - "Fix {name}."
        """;

    [Fact]
    public void RuleAppliesToItsKindOnly()
    {
        var ruleset = RulesetLoader.Parse(Ruleset, "rulesets/kind.yaml");
        var engine = new RuleEngine([ruleset], "stig-8");
        var domain = ConfigFact.Of(new ResourceRef("vm", "libvirt:pacs-01", "pacs-01"), "libvirt-domain", [new Setting("graphics.listen", "0.0.0.0", 12)]);
        var proxmox = ConfigFact.Of(new ResourceRef("vm", "proxmox:101", "pacs-02"), "proxmox-vm", [new Setting("graphics.listen", "0.0.0.0", 3)]);

        var outcomes = engine.Evaluate([domain, proxmox], AdvisoryFeed.Empty, new DateOnly(2026, 11, 27));

        var finding = Assert.Single(outcomes);
        Assert.Equal(FindingStatus.Fail, finding.Status);
        Assert.Equal("libvirt:pacs-01", finding.Resource.Id);
        Assert.Contains(finding.Evidence, e => e.Line == 12);
    }
}
