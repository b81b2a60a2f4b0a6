using System.Collections.Immutable;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Network;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Correlation;

namespace VirtSecScan.Engine.Network;

/// <summary>
/// The segmentation analyser the scanner runs after collection: the zone-to-zone matrix of every firewall rule set,
/// then findings for flows the allowed-flows policy does not allow, each naming the rule line to change.
/// </summary>
public static class NetworkFindings
{
    public const string InsuranceToClinical = "net.exposure.insurance-to-clinical";
    public const string ExternalToClinical = "net.exposure.external-to-clinical";
    public const string ManagementPorts = "net.exposure.management-ports";
    public const string ToMigration = "net.exposure.migration-network";
    public const string ToStorage = "net.exposure.storage-network";
    public const string AnySourceToClinical = "net.firewall.any-source-to-clinical";
    public const string AnyToAny = "net.firewall.any-to-any";
    public const string Shadowed = "net.firewall.shadowed-rule";
    public const string NotModelledRule = "net.firewall.not-modelled";
    public const string PairNotEvaluated = "net.reachability.not-evaluated";

    public static readonly ImmutableArray<CorrelationRuleInfo> Rules =
    [
        new(InsuranceToClinical, "Insurance or NRCMS link reaches a clinical zone beyond the allowed flows", "VT07", Severity.High, "firewall rule set + site model",
            "A firewall lets a NEW connection from an insurance-link zone into a clinical zone on a protocol or port the allowed-flows policy does not list."),
        new(ExternalToClinical, "Internet or portal zone reaches a clinical zone beyond the allowed flows", "VT07", Severity.High, "firewall rule set + site model",
            "A firewall lets a NEW connection from an external zone (internet, reservation portal DMZ) into a clinical zone beyond the allowed-flows policy."),
        new(ManagementPorts, "A non-management zone reaches hypervisor management ports", "VT10", Severity.High, "firewall rule set + site model",
            "ESXi 443/902/5989, Proxmox 8006, libvirt 16509/16514 or Hyper-V WinRM 5985/5986 in a management zone are reachable from another zone."),
        new(ToMigration, "A non-management zone reaches the vMotion / live-migration network", "VT10", Severity.High, "firewall rule set + site model",
            "Migration traffic carries VM memory in clear text; no other zone should reach the migration network."),
        new(ToStorage, "A non-management zone reaches the storage network", "VT05", Severity.High, "firewall rule set + site model",
            "iSCSI/NFS storage networks should be reachable only by the hypervisors' VMkernel interfaces."),
        new(AnySourceToClinical, "A firewall rule accepts any source into a clinical zone", "VT07", Severity.Medium, "firewall rule set + site model",
            "An accept line without a source address or interface restriction whose destination includes a clinical subnet."),
        new(AnyToAny, "A firewall rule accepts any source to any destination on any port", "VT07", Severity.High, "firewall rule set",
            "An accept line with no address, interface, protocol, port or state restriction."),
        new(Shadowed, "A firewall rule can never match (shadowed by earlier rules)", "VT04", Severity.Low, "firewall rule set",
            "Every packet the line matches is decided earlier; the line is dead and often hides an intended restriction."),
    ];

    private static readonly ImmutableSortedDictionary<string, ImmutableArray<string>> Compliance =
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, ImmutableArray<string>>
        {
            ["hipaa"] = ["164.312(e)(1)"],
            ["nist-800-53"] = ["SC-7", "AC-4"],
        });

    /// <summary>Analyses every firewall rule set among the facts; returns the matrix and the findings (fail, pass, not-evaluated).</summary>
    public static (ReachabilityResult Reachability, ImmutableArray<Finding> Findings) Analyze(SiteModel site, IEnumerable<object> facts, string profile)
    {
        var all = facts.ToList();
        var findings = new List<Finding>(VirtualNetworkFindings.Analyze(site, all, profile));
        var rulesets = all.OfType<FirewallRuleset>().ToList();
        if (rulesets.Count == 0)
        {
            return (ReachabilityResult.Empty, findings.ToImmutableArray());
        }

        var result = ReachabilityAnalyzer.Analyze(site, rulesets);
        findings.AddRange(ZoneFindings(site, result, profile));
        findings.AddRange(LineFindings(site, rulesets, result, profile));
        foreach (var rs in rulesets)
        {
            foreach (var n in rs.NotModelled)
            {
                findings.Add(new Finding
                {
                    RuleId = NotModelledRule,
                    Title = $"{n.What} in firewall {rs.Device} is not modelled",
                    Category = "VT07",
                    Severity = Severity.Info,
                    Status = FindingStatus.NotEvaluated,
                    Resource = FirewallResource(rs.Device, n.File, n.Line),
                    Discriminator = $"{n.What}|{n.Line}",
                    Reason = n.Reason,
                    Profile = profile,
                });
            }
        }

        foreach (var note in result.NotEvaluated.Where(n => n.Contains(" not evaluated", StringComparison.Ordinal)))
        {
            var device = note.Split(':')[0];
            findings.Add(new Finding
            {
                RuleId = PairNotEvaluated,
                Title = $"Zone-to-zone reachability through {device} not evaluated",
                Category = "VT07",
                Severity = Severity.Info,
                Status = FindingStatus.NotEvaluated,
                Resource = FirewallResource(device, null, null),
                Discriminator = note,
                Reason = note,
                Profile = profile,
            });
        }

        return (result, findings.ToImmutableArray());
    }

    private static ResourceRef FirewallResource(string device, string? file, int? line) =>
        new("firewall", $"firewall:{device}", device, null, null, file, line);

    private static ResourceRef ZoneResource(Zone zone, string? file, int? line) =>
        new("zone", $"zone:{zone.Id}", zone.Id, null, zone.Id, file, line);

    private static IEnumerable<Finding> ZoneFindings(SiteModel site, ReachabilityResult result, string profile)
    {
        var evaluatedPairs = result.Cells.Select(c => (c.Firewall, c.FromZone, c.ToZone)).Distinct().ToList();
        foreach (var (device, fromId, toId) in evaluatedPairs)
        {
            var from = site.FindZone(fromId)!;
            var to = site.FindZone(toId)!;
            var ruleId = RuleFor(from, to);
            if (ruleId is null)
            {
                continue;
            }

            var cells = result.Cells.Where(c => c.Firewall == device && c.FromZone == fromId && c.ToZone == toId && c.Action == "accept").ToList();
            var violations = new Dictionary<(string File, int Line), (ReachabilityRule Rule, List<string> Excess, List<string> Protocols)>();
            foreach (var cell in cells)
            {
                foreach (var rule in cell.Rules)
                {
                    var excess = Excess(site, ruleId, from, to, cell.Protocol, rule.Ports);
                    if (excess is null)
                    {
                        continue;
                    }

                    var key = (rule.File, rule.Line);
                    if (!violations.TryGetValue(key, out var v))
                    {
                        violations[key] = v = (rule, [], []);
                    }

                    v.Excess.Add(excess);
                    v.Protocols.Add(cell.Protocol);
                }
            }

            if (violations.Count == 0)
            {
                yield return new Finding
                {
                    RuleId = ruleId,
                    Title = $"{from.Id} -> {to.Id} through {device} stays within the allowed flows",
                    Category = Category(ruleId),
                    Severity = Severity.High,
                    Status = FindingStatus.Pass,
                    Resource = ZoneResource(to, null, null),
                    Discriminator = $"{device}|{from.Id}",
                    Profile = profile,
                };
                continue;
            }

            foreach (var ((file, line), (rule, excess, protocols)) in violations.OrderBy(v => v.Key.File, StringComparer.Ordinal).ThenBy(v => v.Key.Line))
            {
                var allowed = site.AllowedFlows.Where(f => AllowedFlow.Refers(f.From, from) && AllowedFlow.Refers(f.To, to)).ToList();
                var allowedText = allowed.Count == 0
                    ? "nothing (no allowed flow names this pair)"
                    : string.Join("; ", allowed.Select(f => $"{f.Protocol}/{f.Ports?.FormatPorts() ?? "any"} ({f.Reason})"));
                var steps = ImmutableArray.CreateBuilder<string>();
                var narrowTo = allowed.Where(f => f.Protocol == "any" || protocols.Contains(f.Protocol)).ToList();
                if (ruleId == ManagementPorts)
                {
                    steps.Add($"In {file} line {line}, take the management port(s) {string.Join(", ", excess)} out of the rule `{rule.Text}` (or remove it): hypervisor management belongs to the management zone; administer the hosts from a jump host there.");
                }
                else if (narrowTo.Count == 0)
                {
                    steps.Add($"In {file} line {line}, remove the rule `{rule.Text}`: the site policy allows no {string.Join("/", protocols.Distinct())} flow from {from.Id} to {to.Id}.");
                }
                else
                {
                    steps.Add($"In {file} line {line}, narrow the rule `{rule.Text}` to {string.Join(" or ", narrowTo.Select(f => $"{f.Protocol} port(s) {f.Ports?.FormatPorts() ?? "any"}"))} (allowed flow: {narrowTo[0].Reason}), or remove it.");
                }

                if (rule.Text.Contains(" handle ", StringComparison.Ordinal))
                {
                    steps.Add($"The rule is `{rule.Text.Split(':')[0]}`: `nft delete rule {rule.Text.Split(':')[0]}` removes it; add the narrowed rule in its place.");
                }

                steps.Add($"Re-run the scan: the {from.Id} -> {to.Id} cell of the reachability matrix must list only the allowed flows.");
                yield return new Finding
                {
                    RuleId = ruleId,
                    Title = $"{from.Id} reaches {to.Id} on {string.Join(", ", excess)} through {device} beyond the allowed flows",
                    Category = Category(ruleId),
                    Severity = Severity.High,
                    Status = FindingStatus.Fail,
                    Resource = ZoneResource(to, file, line),
                    Discriminator = $"{device}|{from.Id}|{rule.Text}",
                    Evidence =
                    [
                        new Evidence("reachability", $"{from.Id} -> {to.Id}: {string.Join(", ", excess)} allowed by {device}", $"only {allowedText}", file, line),
                        new Evidence("rule", rule.Text, null, file, line),
                    ],
                    Remediation = new Remediation($"Narrow or remove the firewall rule at {file}:{line} so that {from.Id} reaches {to.Id} only as the allowed flows say.", steps.ToImmutable()),
                    Compliance = Compliance,
                    Profile = profile,
                };
            }
        }
    }

    private static string Category(string ruleId) => Rules.First(r => r.Id == ruleId).Category;

    private static string? RuleFor(Zone from, Zone to)
    {
        if (to.Kind == "clinical" && from.Kind == "insurance-link")
        {
            return InsuranceToClinical;
        }

        if (to.Kind == "clinical" && from.Kind == "external")
        {
            return ExternalToClinical;
        }

        if (from.Kind == "management")
        {
            return null;
        }

        return to.Kind switch
        {
            "management" => ManagementPorts,
            "migration" when from.Kind != "migration" => ToMigration,
            "storage" when from.Kind != "storage" => ToStorage,
            _ => null,
        };
    }

    /// <summary>What of the rule's ports the policy does not allow, as text (<c>tcp/22,8080</c>), or null when all is allowed.</summary>
    private static string? Excess(SiteModel site, string ruleId, Zone from, Zone to, string protocol, IntervalSet ports)
    {
        var policyProtocol = protocol == "ipv6-icmp" ? "icmp" : protocol;
        if (protocol is not ("tcp" or "udp"))
        {
            // Port-less protocols: allowed only when a flow names the protocol (or any).
            var allowed = site.AllowedFlows.Any(f => AllowedFlow.Refers(f.From, from) && AllowedFlow.Refers(f.To, to) && (f.Protocol == "any" || f.Protocol == policyProtocol));
            // ICMP into management is not a management-port exposure.
            return allowed || ruleId == ManagementPorts ? null : protocol;
        }

        var excess = site.NotAllowed(from, to, protocol, ports);
        if (ruleId == ManagementPorts)
        {
            var mgmt = site.ManagementPorts.Where(m => m.Protocol == protocol).Aggregate(IntervalSet.Empty, (acc, m) => acc.Union(m.Ports));
            excess = excess.Intersect(mgmt);
        }

        return excess.IsEmpty ? null : $"{protocol}/{excess.FormatPorts()}";
    }

    private static IEnumerable<Finding> LineFindings(SiteModel site, List<FirewallRuleset> rulesets, ReachabilityResult result, string profile)
    {
        var clinical = site.Zones.Where(z => z.Kind == "clinical").ToList();
        foreach (var rs in rulesets)
        {
            foreach (var line in rs.Chains.Where(c => FirewallRuleset.ForwardPathOrder(c.Hook) is not null).SelectMany(c => c.Lines).DistinctBy(l => l.Where))
            {
                if (line.Action != FirewallAction.Accept || line.In is not null || line.Unmodelled is not null
                    || (line.States is { } st && (st & ConnState.New) == 0) || !IsAny(line.Source))
                {
                    continue;
                }

                if (line.Destination is null && line.Out is null && line.Protocol is null && line.DestinationPorts is null && line.SourcePorts is null)
                {
                    yield return LineFinding(AnyToAny, rs, line, "accepts every packet from anywhere to anywhere",
                        $"Replace `{line.Text}` in {line.File} line {line.Line} with rules that name the source zone, destination and ports of each allowed flow.", profile);
                    continue;
                }

                if (line.Protocol is "icmp" or "ipv6-icmp")
                {
                    continue; // ping from anywhere is not a service exposure
                }

                var hit = clinical.Where(z => line.Destination is null || line.Destination.Overlaps(z.AddressSet())).Select(z => z.Id).ToList();
                if (hit.Count > 0)
                {
                    yield return LineFinding(AnySourceToClinical, rs, line, $"accepts any source into clinical zone(s) {string.Join(", ", hit)}",
                        $"In {line.File} line {line.Line}, restrict `{line.Text}` to the source subnets or interface of the zones that need it.", profile);
                }
            }
        }

        foreach (var s in result.Shadowed)
        {
            var rs = rulesets.First(r => r.Device == s.Firewall);
            yield return LineFinding(Shadowed, rs, s.Line, $"is shadowed by {string.Join(", ", s.By.Select(b => $"line {b.Line}"))}",
                $"In {s.Line.File}, delete line {s.Line.Line} (`{s.Line.Text}`) or move it above line {s.By[0].Line} if its {s.Line.Action.ToString().ToLowerInvariant()} was intended.", profile);
        }
    }

    private static bool IsAny(IntervalSet? set) =>
        set is null || set.IsSupersetOf(IntervalSet.AllIpv4) || set.IsSupersetOf(IntervalSet.AllIpv6);

    private static Finding LineFinding(string ruleId, FirewallRuleset rs, FirewallLine line, string what, string step, string profile)
    {
        var info = Rules.First(r => r.Id == ruleId);
        return new Finding
        {
            RuleId = ruleId,
            Title = $"Rule at {line.File}:{line.Line} of {rs.Device} {what}",
            Category = info.Category,
            Severity = info.Severity,
            Status = FindingStatus.Fail,
            Resource = FirewallResource(rs.Device, line.File, line.Line),
            Discriminator = $"{line.Table}|{line.Chain}|{line.Text}",
            Evidence = [new Evidence("rule", line.Text, null, line.File, line.Line)],
            Remediation = new Remediation($"Change the rule at {line.File}:{line.Line}.", [step]),
            Compliance = Compliance,
            Profile = profile,
        };
    }
}
