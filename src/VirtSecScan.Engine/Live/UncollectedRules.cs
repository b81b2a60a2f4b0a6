using System.Collections.Immutable;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Live;

/// <summary>
/// What one kind of live target feeds, as rule scopes: a fact type name of <see cref="FactTypes"/> (the
/// <c>appliesTo</c> of YAML rules, e.g. <c>libvirt-domain</c>, <c>vm</c>, <c>esxi-host</c>), or
/// <c>patch:&lt;product&gt;</c> for the patch correlation rules of a product's host build
/// (<c>&lt;product&gt;.patch.advisory-missing</c>, <c>&lt;product&gt;.patch.end-of-support</c>).
/// <c>patch:{driver}</c> stands for the hypervisor a libvirt URI names (<c>qemu</c>, <c>xen</c>; nothing for others).
/// </summary>
/// <param name="Kind">The target kind (<c>libvirt</c>, <c>ssh</c>, <c>vsphere</c>, <c>files</c>).</param>
/// <param name="Platform">For <c>ssh</c>, the platform; null for the other kinds.</param>
/// <param name="WholeTarget">What the target feeds when it failed as a whole (or is not supported).</param>
/// <param name="ByResource">What one resource feeds, by resource name (<c>version</c> ...).</param>
/// <param name="OtherResource">What any other resource feeds (a domain, a VM ...).</param>
public sealed record TargetFeeds(
    string Kind,
    string? Platform,
    ImmutableArray<string> WholeTarget,
    ImmutableDictionary<string, ImmutableArray<string>> ByResource,
    ImmutableArray<string> OtherResource);

/// <summary>One rule that a scope stands for in this scan (profile applied).</summary>
public sealed record ScopedRule(string Id, string Title, string Category, Severity Severity, ImmutableArray<Reference> References,
    ImmutableSortedDictionary<string, ImmutableArray<string>> Compliance);

/// <summary>
/// Rules over what could not be collected are <c>not-evaluated</c>, one finding per rule that would have applied:
/// for a target that failed as a whole (or whose kind is not supported) every rule of the scopes it feeds, named
/// after the target; for a failed resource of a partly collected target the rules of that resource, named after it.
/// The scopes come from <see cref="Table"/>; a collector may instead say exactly what a resource or target feeds
/// through <see cref="ResourceStatus.Feeds"/> / <see cref="TargetStatus.Feeds"/>. Rules are listed only when the scan
/// would run them (data rules of the scan's profile; patch rules only for products the advisory feed covers, as in
/// normal evaluation). These findings are never passed and never count for <c>--fail-on</c>.
/// </summary>
public static class UncollectedRules
{
    /// <summary>Resource ids of these findings start with this (<c>live:&lt;target&gt;</c>, <c>live:&lt;target&gt;/&lt;resource&gt;</c>).</summary>
    public const string IdPrefix = "live:";

    /// <summary>Reasons of these findings start with this.</summary>
    public const string ReasonPrefix = "not collected: ";

    /// <summary>Above this many findings for one target, human-readable reports group them per rule (JSON lists all).</summary>
    public const int GroupAbove = 500;

    public const string LibvirtDomain = "libvirt-domain";
    public const string LibvirtHost = "libvirt-host";
    public const string LibvirtNetwork = "libvirt-network";
    public const string VmwareVm = "vm";
    public const string EsxiHost = "esxi-host";
    public const string ProxmoxVm = "proxmox-vm";
    public const string ProxmoxSnapshot = "proxmox-snapshot";
    public const string DriverPatch = "patch:{driver}";

    public static string Patch(string product) => "patch:" + product;

    private static ImmutableDictionary<string, ImmutableArray<string>> Resources(params (string Name, ImmutableArray<string> Scopes)[] items) =>
        items.ToImmutableDictionary(i => i.Name, i => i.Scopes, StringComparer.Ordinal);

    /// <summary>
    /// THE table: target kind (and ssh platform) to the rule scopes it feeds. Add a row for a new kind or platform;
    /// a kind without a row (and <c>files</c>, whose content is unknown until read) feeds nothing, so its failure
    /// finding (<c>collect.target-failed</c>) stands alone. libvirt's <c>/etc/libvirt/qemu.conf</c>
    /// (<c>libvirt-host</c>) is not read by live collection, so libvirt rows do not list it.
    /// </summary>
    public static ImmutableArray<TargetFeeds> Table { get; } =
    [
        new("libvirt", null,
            [LibvirtDomain, LibvirtNetwork, Patch(Products.Libvirt), DriverPatch],
            Resources(("version", [Patch(Products.Libvirt), DriverPatch])),
            [LibvirtDomain]),
        new("ssh", "libvirt",
            [LibvirtDomain, LibvirtNetwork, Patch(Products.Libvirt), DriverPatch],
            Resources(("version", [Patch(Products.Libvirt), DriverPatch])),
            [LibvirtDomain]),
        new("ssh", "esxi",
            [EsxiHost, Patch(Products.Esxi)],
            Resources(("version", [Patch(Products.Esxi)])),
            [EsxiHost]),
        new("ssh", "proxmox",
            [ProxmoxVm, ProxmoxSnapshot, Patch(Products.ProxmoxVe)],
            Resources(("version", [Patch(Products.ProxmoxVe)])),
            [ProxmoxVm, ProxmoxSnapshot]),
        new("vsphere", null,
            [VmwareVm, EsxiHost, Patch(Products.Esxi), Patch(Products.Vcenter)],
            Resources(("about", [Patch(Products.Vcenter)]), ("inventory", [VmwareVm, EsxiHost, Patch(Products.Esxi)])),
            [VmwareVm]), // host/<name> resources set their own Feeds (esxi-host, patch:esxi)
        new("files", null, [], Resources(), []),
    ];

    /// <summary>The row for a target, or null when its kind feeds nothing known.</summary>
    public static TargetFeeds? RowOf(TargetSpec target) =>
        Table.FirstOrDefault(r => r.Kind == target.Kind && (r.Platform is null || string.Equals(r.Platform, target.Platform, StringComparison.Ordinal)));

    /// <summary>The scopes a target that failed as a whole would have fed.</summary>
    public static ImmutableArray<string> ScopesOf(TargetSpec target, TargetStatus status) =>
        Expand(target, status.Feeds ?? RowOf(target)?.WholeTarget ?? []);

    /// <summary>The scopes one failed resource would have fed.</summary>
    public static ImmutableArray<string> ScopesOf(TargetSpec target, ResourceStatus resource)
    {
        if (resource.Feeds is { } explicitFeeds)
        {
            return Expand(target, explicitFeeds);
        }

        var row = RowOf(target);
        return row is null ? [] : Expand(target, row.ByResource.TryGetValue(resource.Name, out var scopes) ? scopes : row.OtherResource);
    }

    /// <summary>The hypervisor a libvirt URI names: <c>qemu:///system</c>, <c>qemu+ssh://...</c> give qemu; xen and libxl give xen.</summary>
    public static string? DriverOf(TargetSpec target)
    {
        if (target.Kind == "ssh" && target.Platform == "libvirt")
        {
            return Products.Qemu; // virsh's default connection on a KVM host
        }

        if (target.Uri is not { } uri)
        {
            return null;
        }

        var scheme = uri.Split(':', 2)[0].Split('+', 2)[0].ToLowerInvariant();
        return scheme switch
        {
            "qemu" => Products.Qemu,
            "xen" or "libxl" => Products.Xen,
            _ => null,
        };
    }

    private static ImmutableArray<string> Expand(TargetSpec target, ImmutableArray<string> scopes) =>
        scopes.IsDefault
            ? []
            : scopes.Select(s => s == DriverPatch ? DriverOf(target) is { } d ? Patch(d) : null : s)
                .OfType<string>().Distinct(StringComparer.Ordinal).ToImmutableArray();

    /// <summary>True for a scope whose rules are about a VM (a guest); the others are about a host.</summary>
    public static bool IsVmScope(string scope) =>
        !scope.StartsWith("patch:", StringComparison.Ordinal)
        && scope is not (EsxiHost or LibvirtHost or "hypervisor")
        && !scope.EndsWith("-host", StringComparison.Ordinal);

    /// <summary>The rules one scope stands for in a scan with these rulesets, feed and profile, ordered by id.</summary>
    public static ImmutableArray<ScopedRule> RulesOf(string scope, IEnumerable<LoadedRuleset> rulesets, AdvisoryFeed feed, string profile)
    {
        var rules = new List<ScopedRule>();
        if (scope.StartsWith("patch:", StringComparison.Ordinal))
        {
            var product = scope["patch:".Length..];
            var infos = PatchFindings.Rules.ToDictionary(r => r.Id, StringComparer.Ordinal);
            // As in evaluation: advisory rules join advisories for the product, lifecycle rules the product's lifecycles.
            if (feed.Advisories.Any(a => a.CoversProduct(product)) && infos.TryGetValue(PatchFindings.AdvisoryMissingFor(product), out var advisory))
            {
                rules.Add(FromInfo(advisory));
            }

            if (feed.Lifecycles.Any(l => string.Equals(l.Product, product, StringComparison.OrdinalIgnoreCase))
                && infos.TryGetValue(PatchFindings.EndOfSupportFor(product), out var lifecycle))
            {
                rules.Add(FromInfo(lifecycle));
            }
        }
        else
        {
            rules.AddRange(rulesets.SelectMany(r => r.Rules)
                .Where(r => string.Equals(r.AppliesTo, scope, StringComparison.Ordinal) && r.InProfile(profile))
                .Select(r => new ScopedRule(r.Id, r.Title, r.Category, r.SeverityFor(profile), r.ReferencesFor(profile), r.Compliance)));
            if (scope == EsxiHost)
            {
                // The host capacity correlation rule joins every esxi-host fact (with the VMs placed on it).
                rules.AddRange(HostCapacity.Rules.Select(FromInfo));
            }
        }

        return rules.DistinctBy(r => r.Id, StringComparer.Ordinal).OrderBy(r => r.Id, StringComparer.Ordinal).ToImmutableArray();
    }

    private static ScopedRule FromInfo(CorrelationRuleInfo info) =>
        new(info.Id, info.Title, info.Category, info.Severity, [], ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty);

    /// <summary>
    /// One <c>not-evaluated</c> finding per rule that a failed target, or a failed resource of a partly collected
    /// target, would have fed. <paramref name="targets"/> are the specs the statuses were collected from (by name).
    /// </summary>
    public static ImmutableArray<Finding> Findings(IEnumerable<TargetSpec> targets, IEnumerable<TargetStatus> statuses,
        IEnumerable<LoadedRuleset> rulesets, AdvisoryFeed feed, string profile)
    {
        var specs = targets.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var loaded = rulesets.ToList();
        var cache = new Dictionary<string, ImmutableArray<ScopedRule>>(StringComparer.Ordinal);
        ImmutableArray<ScopedRule> Rules(string scope)
        {
            if (!cache.TryGetValue(scope, out var rules))
            {
                cache[scope] = rules = RulesOf(scope, loaded, feed, profile);
            }

            return rules;
        }

        var findings = ImmutableArray.CreateBuilder<Finding>();
        var seen = new HashSet<(string, string, string)>();
        foreach (var status in statuses)
        {
            if (!specs.TryGetValue(status.Name, out var target))
            {
                continue;
            }

            if (status.Status is "failed" or "not-supported")
            {
                foreach (var scope in ScopesOf(target, status))
                {
                    var vm = IsVmScope(scope);
                    var resource = new ResourceRef(vm ? "target" : "host", IdPrefix + target.Name, target.Name, Source: target.Source, Line: target.Line);
                    foreach (var rule in Rules(scope))
                    {
                        if (seen.Add((rule.Id, resource.Type, resource.Id)))
                        {
                            findings.Add(Make(rule, resource, target, status.Reason, profile));
                        }
                    }
                }
            }

            if (status.Resources.IsDefault)
            {
                continue;
            }

            foreach (var r in status.Resources.Where(r => r.Status == "failed"))
            {
                foreach (var scope in ScopesOf(target, r))
                {
                    var vm = IsVmScope(scope);
                    var resource = new ResourceRef(vm ? "vm" : "host", $"{IdPrefix}{target.Name}/{r.Name}", vm ? r.Name : target.Name,
                        Host: vm ? target.Name : null, Source: $"{target.Kind}://{target.Name}/{r.Name}");
                    foreach (var rule in Rules(scope))
                    {
                        if (seen.Add((rule.Id, resource.Type, resource.Id)))
                        {
                            findings.Add(Make(rule, resource, target, r.Reason, profile));
                        }
                    }
                }
            }
        }

        return findings.ToImmutable();
    }

    private static Finding Make(ScopedRule rule, ResourceRef resource, TargetSpec target, string? reason, string profile) => new()
    {
        RuleId = rule.Id,
        Title = rule.Title,
        Category = rule.Category,
        Severity = rule.Severity,
        Status = FindingStatus.NotEvaluated,
        Resource = resource,
        Evidence = [new Evidence("collection", "failed", "collected", target.Source, target.Line)],
        References = rule.References,
        Compliance = rule.Compliance,
        Reason = ReasonPrefix + (reason ?? "no reason given"),
        Profile = profile,
    };

    /// <summary>True for a finding made here (a rule over something a live target did not give).</summary>
    public static bool IsUncollected(Finding finding) =>
        finding.Status == FindingStatus.NotEvaluated
        && finding.Resource.Id.StartsWith(IdPrefix, StringComparison.Ordinal)
        && finding.Reason is { } reason && reason.StartsWith(ReasonPrefix, StringComparison.Ordinal);

    /// <summary>The target a finding made here is about, else null.</summary>
    public static string? TargetOf(Finding finding) =>
        IsUncollected(finding) ? finding.Resource.Id[IdPrefix.Length..].Split('/', 2)[0] : null;
}
