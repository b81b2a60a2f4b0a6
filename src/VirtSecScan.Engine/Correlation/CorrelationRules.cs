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
            .Match(() => host)
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
            .Match(() => host)
            .Match(() => lifecycle, l => l.Product == host.Product && l.Branch == host.Branch);

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(PatchFindings.ForLifecycle(host, lifecycle, new ScanContextView(scan.Profile, scan.Date)))));
    }
}

/// <summary>A host whose branch the feed does not know: its support cannot be judged, and the report says so.</summary>
[Name(PatchFindings.EndOfSupport + ".unknown-branch")]
public sealed class HostBranchUnknown : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        HypervisorBuild host = null!;

        When()
            .Match(() => scan)
            .Match(() => host)
            .Not<BranchLifecycle>(l => l.Product == host.Product && l.Branch == host.Branch);

        Then()
            .Do(ctx => ctx.Insert(new RuleOutcome(PatchFindings.ForLifecycle(host, null, new ScanContextView(scan.Profile, scan.Date)))));
    }
}
