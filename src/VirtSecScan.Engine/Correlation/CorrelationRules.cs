using NRules.Fluent.Dsl;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Correlation;

/// <summary>A host's build, joined with every advisory for its product: missing fixes become findings.</summary>
[Name(PatchFindings.AdvisoryMissing)]
public sealed class HostMissingAdvisoryFixes : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        HypervisorBuild host = null!;
        Advisory advisory = null!;
        AdvisoryVerdict verdict = null!;

        When()
            .Match(() => scan)
            .Match(() => host, h => h.Unplaced == null)
            .Match(() => advisory, a => a.CoversProduct(host.Product))
            .Let(() => verdict, () => PatchLevelMatcher.Evaluate(host, advisory))
            .Having(() => verdict.Verdict != PatchVerdict.NotApplicable);

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(verdict.Verdict == PatchVerdict.NotVulnerable
                ? PatchFindings.ForAdvisoryPass(host, verdict, new ScanContextView(scan.Profile, scan.Date))
                : PatchFindings.ForAdvisory(host, verdict, new ScanContextView(scan.Profile, scan.Date)))));
    }
}

/// <summary>A host's branch, joined with its support lifecycle: past end of general support is a finding.</summary>
[Name(PatchFindings.EndOfSupport)]
public sealed class HostBranchSupport : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        HypervisorBuild host = null!;
        BranchLifecycle lifecycle = null!;

        When()
            .Match(() => scan)
            .Match(() => host, h => h.Unplaced == null)
            .Match(() => lifecycle, l => l.Product == host.Product && l.Branch == host.Branch);

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(PatchFindings.ForLifecycle(host, lifecycle, new ScanContextView(scan.Profile, scan.Date)))));
    }
}

/// <summary>
/// A host whose branch the feed does not know (for a product the feed has lifecycle data for): its support cannot
/// be judged, and the report says so.
/// </summary>
[Name(PatchFindings.EndOfSupport + ".unknown-branch")]
public sealed class HostBranchUnknown : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        HypervisorBuild host = null!;

        When()
            .Match(() => scan)
            .Match(() => host, h => h.Unplaced == null)
            .Exists<BranchLifecycle>(l => l.Product == host.Product)
            .Not<BranchLifecycle>(l => l.Product == host.Product && l.Branch == host.Branch);

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(PatchFindings.ForLifecycle(host, null, new ScanContextView(scan.Profile, scan.Date)))));
    }
}

/// <summary>
/// A host whose build cannot be placed (not in the feed's build map, update line unknown, version unreadable):
/// a finding of its own asking for a manual check, never a silent pass.
/// </summary>
[Name(PatchFindings.BuildIndeterminate)]
public sealed class HostBuildIndeterminate : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        HypervisorBuild host = null!;
        IEnumerable<Advisory> advisories = null!;

        When()
            .Match(() => scan)
            .Match(() => host, h => h.Unplaced != null || h.NotInBuildMap || !h.LineCertain)
            .Query(() => advisories, q => q.Match<Advisory>(a => a.CoversProduct(host.Product)).Collect());

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(PatchFindings.ForIndeterminateBuild(host, advisories.Count(), new ScanContextView(scan.Profile, scan.Date)))));
    }
}
