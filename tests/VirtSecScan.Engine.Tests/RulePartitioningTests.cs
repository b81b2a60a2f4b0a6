using NRules.Fluent.Dsl;
using NRules.RuleModel;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Engine.Tests;

/// <summary>Which rules may run over partitions of the facts (per-fact) and which must see all facts in one session.</summary>
public sealed class RulePartitioningTests
{
    [Fact]
    public void JoinsAndAggregatesOverCollectedFactsSeeAllFacts()
    {
        var (rulesets, _) = Scanner.LoadRules(RepoPaths.Rulesets);
        var engine = new RuleEngine(rulesets, "stig-8");

        // An ESXi host joined with the VMs placed on it; a redundancy group collected over all VMs.
        Assert.Contains("esxi.host.capacity", engine.CrossFactRules);
        Assert.Contains(SiteFindings.SameHost, engine.CrossFactRules);
        // One host with the feed (replicated in every session), one VM with the site model, data rules: per fact.
        Assert.DoesNotContain(PatchFindings.AdvisoryMissing, engine.CrossFactRules);
        Assert.DoesNotContain(PatchFindings.BuildIndeterminate, engine.CrossFactRules);
        Assert.DoesNotContain(SiteFindings.Reservations, engine.CrossFactRules);
        Assert.DoesNotContain("vmware.vm.console-copy-disabled", engine.CrossFactRules);
    }

    [Fact]
    public void ARuleJoiningTwoCollectedFactsIsNotPerFact()
    {
        Assert.False(RuleEngine.IsPerFact(Definition(new TwoVmsRule())));
        Assert.False(RuleEngine.IsPerFact(Definition(new VmWithoutTwinRule())));
        Assert.False(RuleEngine.IsPerFact(Definition(new SiteOnlyRule())));
        Assert.True(RuleEngine.IsPerFact(Definition(new VmWithAdvisoriesRule())));
    }

    private static IRuleDefinition Definition(Rule rule) => new NRules.Fluent.RuleDefinitionFactory().Create(rule);

    private sealed class TwoVmsRule : Rule
    {
        public override void Define()
        {
            VmConfig a = null!;
            VmConfig b = null!;
            When().Match(() => a).Match(() => b, v => v.Resource.Name == a.Resource.Name && !ReferenceEquals(v, a));
            Then().Do(_ => Nothing());
        }
    }

    private sealed class VmWithoutTwinRule : Rule
    {
        public override void Define()
        {
            VmConfig a = null!;
            When().Match(() => a).Not<VmConfig>(v => v.Resource.Name == a.Resource.Name && !ReferenceEquals(v, a));
            Then().Do(_ => Nothing());
        }
    }

    /// <summary>No collected fact at all: in every partition it would fire once.</summary>
    private sealed class SiteOnlyRule : Rule
    {
        public override void Define()
        {
            SiteModel site = null!;
            When().Match(() => site);
            Then().Do(_ => Nothing());
        }
    }

    private sealed class VmWithAdvisoriesRule : Rule
    {
        public override void Define()
        {
            VmConfig vm = null!;
            IEnumerable<Advisory> advisories = null!;
            When().Match(() => vm).Query(() => advisories, q => q.Match<Advisory>().Collect());
            Then().Do(_ => Nothing());
        }
    }

    private static void Nothing()
    {
    }
}
