using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace VirtSecScan.Core.Findings;

/// <summary>What a finding is about: a VM, a host, a zone ...</summary>
public sealed record ResourceRef(
    string Type,
    string Id,
    string Name,
    string? Host = null,
    string? Zone = null,
    string? Source = null,
    int? Line = null);

/// <summary>One piece of evidence: the setting, what it is, what it should be, and where it was read.</summary>
public sealed record Evidence(
    string Key,
    string? Actual,
    string? Expected = null,
    string? Source = null,
    int? Line = null);

/// <summary>What to do about a finding: a sentence and concrete steps (PowerCLI, esxcli, vSphere Client).</summary>
public sealed record Remediation(string Summary, ImmutableArray<string> Steps);

/// <summary>A published identifier (STIG id, SCG id, advisory id, CVE id) exactly as published.</summary>
public sealed record Reference(string Id, string Source);

/// <summary>One factor of a finding's score, with the reason a person can check.</summary>
public sealed record ScoreFactor(string Factor, double Value, string Reason);

/// <summary>A formal risk acceptance that covers a finding until it expires (from a waivers file).</summary>
public sealed record Waiver(
    string Id,
    string Justification,
    string Approver,
    DateOnly Created,
    DateOnly Expires,
    string? Source = null,
    int? Line = null);

/// <summary>
/// A documented exception from the site file: the rule (id or glob), the resource (name, id or glob) and why
/// the failing state is intended (status <see cref="FindingStatus.PassedWithException"/>).
/// </summary>
public sealed record DocumentedException(string Rule, string Resource, string Reason, string? Source = null, int? Line = null);

/// <summary>Exploitation facts attached to a finding (from an advisory feed and CISA KEV).</summary>
public sealed record Exploitation(bool KnownExploited, bool RansomwareUse, ImmutableArray<string> KevCves);

/// <summary>
/// The result of one rule on one resource. Immutable; the ranking step fills score, factors and rank
/// through <c>with</c> expressions.
/// </summary>
public sealed record Finding
{
    public required string RuleId { get; init; }
    public required string Title { get; init; }
    public required string Category { get; init; }
    public required Severity Severity { get; init; }
    public required FindingStatus Status { get; init; }
    public required ResourceRef Resource { get; init; }

    /// <summary>What distinguishes two findings of one rule on one resource (a device, a CVE set ...).</summary>
    public string Discriminator { get; init; } = "";
    public ImmutableArray<Evidence> Evidence { get; init; } = [];
    public Remediation? Remediation { get; init; }
    public ImmutableArray<Reference> References { get; init; } = [];
    public ImmutableSortedDictionary<string, ImmutableArray<string>> Compliance { get; init; } =
        ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty;

    /// <summary>Why a check could not be decided (for not-evaluated and error).</summary>
    public string? Reason { get; init; }

    /// <summary>Evidence confidence: 1.0 for configuration read from the source, lower for inferred.</summary>
    public double Confidence { get; init; } = 1.0;
    public Exploitation? Exploitation { get; init; }
    public string? Profile { get; init; }

    /// <summary>The waiver covering this finding (status <see cref="FindingStatus.Waived"/>), if any.</summary>
    public Waiver? Waiver { get; init; }

    /// <summary>Days since the fix for this finding was published (patch findings); older fixes raise the score.</summary>
    public int? DaysSinceFix { get; init; }

    /// <summary>The highest EPSS percentile (0..1) of the finding's CVEs, when EPSS scores were given.</summary>
    public double? EpssPercentile { get; init; }
    /// <summary>The site file's documented exception covering this finding (status <see cref="FindingStatus.PassedWithException"/>).</summary>
    public DocumentedException? Exception { get; init; }

    public double Score { get; init; }
    public ImmutableArray<ScoreFactor> ScoreFactors { get; init; } = [];
    public int Rank { get; init; }

    /// <summary>Stable identity: rule, resource identity and discriminator only; never time, order or paths.</summary>
    public string Fingerprint => FingerprintOf(RuleId, Resource.Type, Resource.Id, Discriminator);

    public static string FingerprintOf(string ruleId, string resourceType, string resourceId, string discriminator)
    {
        var text = string.Join('\u001f', ruleId, resourceType, resourceId.ToLowerInvariant(), discriminator.ToLowerInvariant());
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }
}
