using NRules.Fluent.Dsl;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Correlation;

/// <summary>A PACS, LIS or HIS VM (site role) joined with its reservations.</summary>
[Name(SiteFindings.Reservations)]
public sealed class ClinicalVmReservations : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        SiteModel site = null!;
        VmConfig vm = null!;

        When()
            .Match(() => scan)
            .Match(() => site)
            .Match(() => vm, v => SiteFindings.NeedsCapacity(site, v));

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(SiteFindings.ForReservations(vm, site, scan.Profile))));
    }
}

/// <summary>A PACS, LIS or HIS VM (site role) joined with its limits.</summary>
[Name(SiteFindings.Limits)]
public sealed class ClinicalVmLimits : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        SiteModel site = null!;
        VmConfig vm = null!;

        When()
            .Match(() => scan)
            .Match(() => site)
            .Match(() => vm, v => SiteFindings.NeedsCapacity(site, v));

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(SiteFindings.ForLimits(vm, site, scan.Profile))));
    }
}

/// <summary>Each redundancy group of the site, joined with the VMs collected: all members on one host is a finding.</summary>
[Name(SiteFindings.SameHost)]
public sealed class RedundantPairOnOneHost : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        SiteModel site = null!;
        IEnumerable<IConfigFact> vms = null!;

        When()
            .Match(() => scan)
            .Match(() => site, s => !s.Redundancy.IsDefaultOrEmpty)
            .Query(() => vms, q => q.Match<IConfigFact>(f => f.Resource.Type == "vm").Collect());

        Then()
            .Do(ctx => Insert(ctx, site, vms.ToList(), scan.Profile));
    }

    private static void Insert(NRules.RuleModel.IContext ctx, SiteModel site, List<IConfigFact> vms, string profile)
    {
        foreach (var group in site.Redundancy)
        {
            ctx.Insert(new RuleOutcome(SiteFindings.ForRedundancy(group, site, vms, profile)));
        }
    }
}

/// <summary>A clinical VM joined with the site's backup and replica declarations.</summary>
[Name(SiteFindings.Backup)]
public sealed class ClinicalVmBackup : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        SiteModel site = null!;
        IConfigFact vm = null!;

        When()
            .Match(() => scan)
            .Match(() => site)
            .Match(() => vm, v => v.Resource.Type == "vm" && SiteFindings.IsClinical(site, v));

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(SiteFindings.ForBackup(vm, site, scan.Profile))));
    }
}
