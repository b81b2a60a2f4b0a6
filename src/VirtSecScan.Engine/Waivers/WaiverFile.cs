using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Waivers;

/// <summary>
/// One waiver as written in a waivers file: what it covers (a fingerprint, or a rule id with a resource
/// pattern), and the formal acceptance (justification, approver, created, expires).
/// </summary>
public sealed record WaiverEntry(
    Waiver Waiver,
    string? Fingerprint,
    string? RuleId,
    string ResourcePattern,
    string? CompensatingControl)
{
    /// <summary>True when the waiver covers the finding (fingerprint, or rule id plus resource name/id glob).</summary>
    public bool Covers(Finding finding)
    {
        if (Fingerprint is not null)
        {
            return string.Equals(Fingerprint, finding.Fingerprint, StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(RuleId, finding.RuleId, StringComparison.OrdinalIgnoreCase)
               && (Glob.IsMatch(ResourcePattern, finding.Resource.Name) || Glob.IsMatch(ResourcePattern, finding.Resource.Id));
    }

    /// <summary>A waiver is valid up to and including its expiry date.</summary>
    public bool IsActiveOn(DateOnly date) => date <= Waiver.Expires;
}

/// <summary>Loads a waivers file (YAML) strictly: unknown keys, missing fields and bad dates name file and line.</summary>
public static class WaiverFile
{
    public static ImmutableArray<WaiverEntry> Parse(string text, string file)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "waivers file", "waivers", "description");
        var result = ImmutableArray.CreateBuilder<WaiverEntry>();
        foreach (var node in y.Sequence(y.Required(root, "waivers", "waivers file"), "waivers"))
        {
            var map = y.Mapping(node, "waiver", "id", "fingerprint", "rule", "resource", "justification", "compensatingControl",
                "approver", "created", "expires", "hipaa");
            var id = y.RequiredString(map, "id", "waiver");
            var what = $"waiver {id}";
            if (result.Any(w => string.Equals(w.Waiver.Id, id, StringComparison.OrdinalIgnoreCase)))
            {
                throw y.Error(map, $"{what} is defined twice");
            }

            var fingerprint = y.OptionalString(map, "fingerprint", what);
            var rule = y.OptionalString(map, "rule", what);
            var resource = y.OptionalString(map, "resource", what);
            if (fingerprint is null == rule is null)
            {
                throw y.Error(map, $"{what}: give either 'fingerprint' or 'rule' (with an optional 'resource' pattern), not both or neither");
            }

            if (fingerprint is not null && (resource is not null || !Regex.IsMatch(fingerprint, "^[0-9a-fA-F]{32}$")))
            {
                throw y.Error(map, $"{what}: 'fingerprint' must be the 32 hex digits of a finding's fingerprint, without 'resource'");
            }

            var justification = y.RequiredString(map, "justification", what);
            var approver = y.RequiredString(map, "approver", what);
            var created = y.Date(y.Required(map, "created", what), $"{what}: created");
            var expires = y.Date(y.Required(map, "expires", what), $"{what}: expires");
            if (expires < created)
            {
                throw y.Error(map, $"{what}: expires {expires:yyyy-MM-dd} is before created {created:yyyy-MM-dd}");
            }

            result.Add(new WaiverEntry(
                new Waiver(id, justification, approver, created, expires, file, YamlReader.LineOf(map)),
                fingerprint,
                rule,
                resource ?? "*",
                y.OptionalString(map, "compensatingControl", what)));
        }

        return result.ToImmutable();
    }
}
