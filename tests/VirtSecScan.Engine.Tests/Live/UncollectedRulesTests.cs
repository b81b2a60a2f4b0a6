using System.Collections.Immutable;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Live;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Engine.Tests.Live;

/// <summary>The rules a failed live target or resource would have fed, against the shipped rulesets and feed.</summary>
public class UncollectedRulesTests
{
    private static readonly Lazy<(ImmutableArray<LoadedRuleset> Rulesets, AdvisoryFeed Feed)> Shipped = new(() => Scanner.LoadRules(RepoPaths.Rulesets));

    private static TargetSpec Target(string name, string kind, string? platform = null, string? uri = null) =>
        new() { Name = name, Kind = kind, Platform = platform, Uri = uri, Source = "targets.yaml", Line = 3 };

    private static TargetStatus Failed(TargetSpec t, string reason = "network: 'list --all --name' failed: error: connection refused") =>
        new(t.Name, t.Kind, "failed", reason, 5, []);

    private static ImmutableArray<Finding> Run(TargetSpec target, TargetStatus status, string profile = "stig-8", AdvisoryFeed? feed = null) =>
        UncollectedRules.Findings([target], [status], Shipped.Value.Rulesets, feed ?? Shipped.Value.Feed, profile);

    private static List<string> DataRules(string appliesTo, string profile) =>
        Shipped.Value.Rulesets.SelectMany(r => r.Rules).Where(r => r.AppliesTo == appliesTo && r.InProfile(profile)).Select(r => r.Id).ToList();

    [Fact]
    public void A_failed_libvirt_target_lists_every_libvirt_domain_rule_once_as_not_evaluated_on_the_target()
    {
        var target = Target("kvm-down", "libvirt", uri: "test:///nowhere.xml");
        var findings = Run(target, Failed(target));

        var expected = DataRules("libvirt-domain", "stig-8").Concat(DataRules("libvirt-network", "stig-8")).ToList();
        Assert.True(expected.Count >= 20, $"only {expected.Count} libvirt-domain rules");
        Assert.Equal(expected.Order(StringComparer.Ordinal), findings.Select(f => f.RuleId).Order(StringComparer.Ordinal));
        Assert.All(findings, f =>
        {
            Assert.Equal(FindingStatus.NotEvaluated, f.Status);
            Assert.Equal(new ResourceRef("target", "live:kvm-down", "kvm-down", Source: "targets.yaml", Line: 3), f.Resource);
            Assert.Equal("not collected: network: 'list --all --name' failed: error: connection refused", f.Reason);
            Assert.True(UncollectedRules.IsUncollected(f));
            Assert.Equal("kvm-down", UncollectedRules.TargetOf(f));
        });
        var rule = Shipped.Value.Rulesets.SelectMany(r => r.Rules).First(r => r.Id == findings[0].RuleId);
        Assert.Equal(rule.Title, findings[0].Title);
        Assert.Equal(rule.SeverityFor("stig-8"), findings[0].Severity);
    }

    [Fact]
    public void The_libvirt_uri_names_the_hypervisor_whose_patch_rules_are_listed_when_the_feed_covers_it()
    {
        var feed = new AdvisoryFeed(
            [new Advisory("QSA-1", 1, new DateOnly(2026, 1, 1), null, "a qemu fix", "high", "test", [], [new AdvisoryFix(Products.Qemu, "8.2", null, null, false, [], "8.2.9")], [], [], null)],
            [], []);
        var qemu = Target("kvm1", "libvirt", uri: "qemu+ssh://audit@kvm1/system");
        Assert.Contains(Run(qemu, Failed(qemu), feed: feed), f => f.RuleId == PatchFindings.AdvisoryMissingFor(Products.Qemu) && f.Resource.Type == "host" && f.Resource.Name == "kvm1");
        var test = Target("lab", "libvirt", uri: "test:///default");
        Assert.DoesNotContain(Run(test, Failed(test), feed: feed), f => f.RuleId.Contains(".patch.", StringComparison.Ordinal));
        // The shipped feed has no qemu advisories: no qemu patch rule runs in a normal scan, so none is listed.
        Assert.DoesNotContain(Run(qemu, Failed(qemu)), f => f.RuleId.Contains(".patch.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_domain_of_a_partial_target_lists_its_rules_on_the_domain_and_the_other_resources_nothing()
    {
        var target = Target("lab", "libvirt", uri: "test:///default");
        var status = new TargetStatus("lab", "libvirt", "partial", "1 of 3 resources could not be collected", 5,
        [
            new ResourceStatus("version", "collected", null, 1),
            new ResourceStatus("web", "collected", null, 1),
            new ResourceStatus("db", "failed", "not-found: 'dumpxml' failed: error: failed to get domain 'db'", 1),
        ]);
        var findings = Run(target, status);

        Assert.Equal(DataRules("libvirt-domain", "stig-8").Order(StringComparer.Ordinal), findings.Select(f => f.RuleId).Order(StringComparer.Ordinal));
        Assert.All(findings, f =>
        {
            Assert.Equal(new ResourceRef("vm", "live:lab/db", "db", Host: "lab", Source: "libvirt://lab/db"), f.Resource);
            Assert.StartsWith("not collected: not-found:", f.Reason);
        });
    }

    [Fact]
    public void Ssh_esxi_proxmox_and_vsphere_targets_feed_their_platforms_rules()
    {
        var esx = Target("esx1", "ssh", "esxi");
        var esxFindings = Run(esx, Failed(esx, "authentication: host key SHA256:x does not match the pinned hostKeyFingerprint"));
        var esxiHost = DataRules("esxi-host", "stig-8");
        Assert.Subset(esxFindings.Select(f => f.RuleId).ToHashSet(), esxiHost.Concat(HostCapacity.Rules.Select(r => r.Id)).ToHashSet());
        Assert.Contains(esxFindings, f => f.RuleId == PatchFindings.AdvisoryMissing);
        Assert.Contains(esxFindings, f => f.RuleId == PatchFindings.EndOfSupport);
        Assert.Equal(esxiHost.Count + HostCapacity.Rules.Length + 2, esxFindings.Length);
        Assert.All(esxFindings, f => Assert.Equal(("host", "esx1"), (f.Resource.Type, f.Resource.Name)));

        var pve = Target("pve1", "ssh", "proxmox");
        var pveFindings = Run(pve, Failed(pve)).Select(f => f.RuleId).Order(StringComparer.Ordinal);
        Assert.Equal(DataRules("proxmox-vm", "stig-8").Concat(DataRules("proxmox-snapshot", "stig-8")).Order(StringComparer.Ordinal), pveFindings);

        var vc = Target("vc", "vsphere");
        var vcFindings = Run(vc, new TargetStatus("vc", "vsphere", "not-supported", "vsphere targets are not supported yet", 0, []));
        Assert.Subset(vcFindings.Select(f => f.RuleId).ToHashSet(), DataRules("vm", "stig-8").ToHashSet());
        Assert.Subset(vcFindings.Select(f => f.RuleId).ToHashSet(), esxiHost.ToHashSet());
        Assert.Contains(vcFindings, f => f.RuleId == PatchFindings.AdvisoryMissing);
        var vmRules = DataRules("vm", "stig-8");
        Assert.All(vcFindings, f => Assert.Equal(vmRules.Contains(f.RuleId) ? "target" : "host", f.Resource.Type));
    }

    [Fact]
    public void Only_rules_of_the_scans_profile_are_listed()
    {
        var esx = Target("esx1", "ssh", "esxi");
        var all = Shipped.Value.Rulesets.SelectMany(r => r.Rules).Where(r => r.AppliesTo == "esxi-host").ToList();
        var stig7Only = all.Where(r => r.InProfile("stig-7") && !r.InProfile("stig-8")).Select(r => r.Id).ToList();
        var stig8Only = all.Where(r => r.InProfile("stig-8") && !r.InProfile("stig-7")).Select(r => r.Id).ToList();
        Assert.NotEmpty(stig7Only);
        Assert.NotEmpty(stig8Only);

        var under7 = Run(esx, Failed(esx), "stig-7").Select(f => f.RuleId).ToHashSet();
        var under8 = Run(esx, Failed(esx), "stig-8").Select(f => f.RuleId).ToHashSet();
        Assert.Superset(stig7Only.ToHashSet(), under7);
        Assert.Empty(under7.Intersect(stig8Only));
        Assert.Superset(stig8Only.ToHashSet(), under8);
        Assert.Empty(under8.Intersect(stig7Only));
    }

    [Fact]
    public void A_files_target_feeds_nothing_known_and_a_collected_target_nothing_at_all()
    {
        var files = Target("exports", "files");
        Assert.Empty(Run(files, Failed(files, "not-found: exports does not exist")));

        var lab = Target("lab", "libvirt", uri: "test:///default");
        Assert.Empty(Run(lab, new TargetStatus("lab", "libvirt", "collected", null, 5, [new ResourceStatus("web", "collected", null, 1)])));
    }

    [Fact]
    public void A_collector_can_say_what_a_resource_or_target_feeds_and_the_table_yields()
    {
        var lab = Target("lab", "libvirt", uri: "test:///default");
        var status = new TargetStatus("lab", "libvirt", "partial", "1 of 1 resources could not be collected", 5,
            [new ResourceStatus("qemu.conf", "failed", "permission: denied", 1) { Feeds = ["libvirt-host"] }]);
        var findings = Run(lab, status);
        Assert.Equal(DataRules("libvirt-host", "stig-8").Order(StringComparer.Ordinal), findings.Select(f => f.RuleId).Order(StringComparer.Ordinal));
        Assert.All(findings, f => Assert.Equal(("host", "lab", "live:lab/qemu.conf"), (f.Resource.Type, f.Resource.Name, f.Resource.Id)));

        Assert.Empty(Run(lab, Failed(lab) with { Feeds = [] }));
    }

    [Fact]
    public void Every_scope_of_the_table_is_a_known_fact_type_or_a_patch_scope()
    {
        var scopes = UncollectedRules.Table.SelectMany(r => r.WholeTarget.Concat(r.OtherResource).Concat(r.ByResource.Values.SelectMany(v => v)));
        Assert.All(scopes, s => Assert.True(
            FactTypes.ByName.ContainsKey(s) || s == UncollectedRules.DriverPatch || (s.StartsWith("patch:", StringComparison.Ordinal) && Products.IsKnown(s["patch:".Length..])),
            $"unknown scope {s}"));
        Assert.All(TargetsFileLoader.Kinds, k => Assert.Contains(UncollectedRules.Table, r => r.Kind == k));
        Assert.All(TargetsFileLoader.SshPlatforms, p => Assert.Contains(UncollectedRules.Table, r => r.Kind == "ssh" && r.Platform == p));
    }
}
