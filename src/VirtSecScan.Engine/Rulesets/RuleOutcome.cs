using VirtSecScan.Core.Findings;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>
/// A finding inserted into the rules session by a rule's action. A class (reference identity) so two
/// outcomes are never confused by the engine even when their contents are equal.
/// </summary>
public sealed class RuleOutcome(Finding finding)
{
    public Finding Finding { get; } = finding;
}

/// <summary>The scan's own facts every session holds: the profile and the date of the scan.</summary>
public sealed record ScanContext(string Profile, DateOnly Date);
