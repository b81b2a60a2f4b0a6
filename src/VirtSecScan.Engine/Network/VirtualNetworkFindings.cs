using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Correlation;

namespace VirtSecScan.Engine.Network;

/// <summary>One VM NIC as the inventory sees it: VM, NIC, port group (or bridge), VLAN and the zone they lead to.</summary>
public sealed record VmNic(ResourceRef Vm, string Nic, string PortGroup, int? Vlan, string? Zone, string? Source, int? Line);

/// <summary>
/// The virtual network inventory: VM NIC -> port group -> VLAN -> zone (from .vmx <c>ethernetN.networkName</c>, libvirt
/// <c>interface[N].source.*</c>, Proxmox <c>netN</c> bridge/tag), checked against the site model; VLAN 4095 trunks handed
/// to VMs; VMkernel interfaces whose networks carry VM traffic or sit in the wrong zone.
/// </summary>
public static partial class VirtualNetworkFindings
{
    public const string ZoneMismatch = "net.vm.port-group-zone-mismatch";
    public const string Trunk = "net.vm.trunk-to-guest";
    public const string VmkShared = "net.vmkernel.shared-with-vms";
    public const string VmkZone = "net.vmkernel.wrong-zone";

    public static readonly ImmutableArray<CorrelationRuleInfo> Rules =
    [
        new(ZoneMismatch, "A VM's NIC is on a port group of another zone than the site model gives the VM", "VT07", Severity.High, "vm + site model",
            "The NIC's port group (or bridge, or VLAN) belongs to a different zone: the VM bypasses the zone's firewall."),
        new(Trunk, "A VM's NIC is on a VLAN 4095 (all VLANs) trunk port group", "VT10", Severity.High, "vm + site model",
            "VLAN 4095 on a standard vSwitch hands every VLAN, management and vMotion included, to the guest."),
        new(VmkShared, "A VMkernel interface for management, vMotion or storage shares its network with VMs", "VT10", Severity.High, "site model + vm",
            "Management, migration and storage VMkernel traffic must have port groups and VLANs that no VM NIC uses."),
        new(VmkZone, "A VMkernel interface sits in a zone of the wrong kind", "VT10", Severity.Medium, "site model",
            "vMotion belongs in a migration zone, storage in a storage zone, management in a management zone."),
    ];

    [GeneratedRegex(@"^ethernet(?<n>\d+)\.networkName$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VmxNic();

    [GeneratedRegex(@"^(?<nic>interface\[\d+\])\.source\.(?:bridge|network|portgroup)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LibvirtNic();

    [GeneratedRegex(@"^net\d+$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ProxmoxNic();

    /// <summary>Every VM NIC the facts describe, with the zone its port group, bridge or VLAN leads to.</summary>
    public static List<VmNic> Inventory(SiteModel site, IEnumerable<object> facts)
    {
        var nics = new List<VmNic>();
        foreach (var fact in facts.OfType<IConfigFact>())
        {
            if (fact.Resource.Type != "vm")
            {
                continue;
            }

            foreach (var (key, setting) in fact.Settings)
            {
                // A key's first letter rules out most keys before any of the three patterns runs.
                var first = key.Length == 0 ? '\0' : char.ToLowerInvariant(key[0]);
                if (first is not ('e' or 'i' or 'n'))
                {
                    continue;
                }

                if (VmxNic().Match(key) is { Success: true } m)
                {
                    var n = m.Groups["n"].Value;
                    if (fact.Get($"ethernet{n}.present")?.Value.Equals("FALSE", StringComparison.OrdinalIgnoreCase) == true)
                    {
                        continue;
                    }

                    var pg = site.PortGroups.FirstOrDefault(p => string.Equals(p.Name, setting.Value, StringComparison.OrdinalIgnoreCase));
                    nics.Add(new VmNic(fact.Resource, $"ethernet{n}", setting.Value, pg?.Vlan, site.ZoneOfPortGroup(setting.Value)?.Id, fact.Resource.Source, setting.Line));
                }
                else if (LibvirtNic().Match(key) is { Success: true } lm)
                {
                    var nic = lm.Groups["nic"].Value;
                    var vlanText = fact.Get($"{nic}.vlan.tag")?.Value ?? fact.Get($"{nic}.vlan.tag.id")?.Value;
                    int? vlan = int.TryParse(vlanText, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
                    var zone = vlan is { } vv ? site.ZoneOfVlan(vv)?.Id : site.ZoneOfPortGroup(setting.Value)?.Id;
                    nics.Add(new VmNic(fact.Resource, nic, setting.Value, vlan, zone, fact.Resource.Source, setting.Line));
                }
                else if (ProxmoxNic().IsMatch(key) && setting.Value.Contains("bridge=", StringComparison.Ordinal))
                {
                    var parts = setting.Value.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
                    var bridge = parts.GetValueOrDefault("bridge") ?? "";
                    int? vlan = int.TryParse(parts.GetValueOrDefault("tag"), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : null;
                    var zone = vlan is { } vv ? site.ZoneOfVlan(vv)?.Id : site.ZoneOfPortGroup(bridge)?.Id;
                    nics.Add(new VmNic(fact.Resource, key, bridge, vlan, zone, fact.Resource.Source, setting.Line));
                }
            }
        }

        return nics;
    }

    public static IEnumerable<Finding> Analyze(SiteModel site, IEnumerable<object> facts, string profile)
    {
        var nics = Inventory(site, facts);
        foreach (var nic in nics)
        {
            var vmSite = site.Resolve("vm", nic.Vm.Name);
            var resource = nic.Vm with { Zone = vmSite.ZoneId };
            if (nic.Vlan == 4095 || site.PortGroups.Any(p => p.IsTrunk && string.Equals(p.Name, nic.PortGroup, StringComparison.OrdinalIgnoreCase)))
            {
                yield return new Finding
                {
                    RuleId = Trunk,
                    Title = $"{nic.Nic} of {nic.Vm.Name} is on port group {nic.PortGroup} with VLAN 4095 (every VLAN)",
                    Category = "VT10",
                    Severity = Severity.High,
                    Status = FindingStatus.Fail,
                    Resource = resource,
                    Discriminator = nic.Nic,
                    Evidence = [new Evidence($"{nic.Nic}.networkName", nic.PortGroup, "a port group with the VM's own VLAN", nic.Source, nic.Line)],
                    Remediation = new Remediation($"Move {nic.Nic} of {nic.Vm.Name} to a port group tagged with its zone's VLAN.",
                        [$"PowerCLI: Get-VM '{nic.Vm.Name}' | Get-NetworkAdapter -Name 'Network adapter {NicNumber(nic.Nic) + 1}' | Set-NetworkAdapter -Portgroup '<{vmSite.ZoneId} port group>' -Confirm:$false",
                         "Keep VLAN 4095 (virtual guest tagging) for appliances that must tag, and document them."]),
                    Profile = profile,
                };
            }

            if (vmSite.ZoneId == "unknown" || nic.Zone is null)
            {
                continue;
            }

            var matches = string.Equals(vmSite.ZoneId, nic.Zone, StringComparison.OrdinalIgnoreCase);
            yield return new Finding
            {
                RuleId = ZoneMismatch,
                Title = matches
                    ? $"{nic.Nic} of {nic.Vm.Name} is on a port group of its zone {vmSite.ZoneId}"
                    : $"{nic.Nic} of {nic.Vm.Name} (zone {vmSite.ZoneId}) is on port group {nic.PortGroup} of zone {nic.Zone}",
                Category = "VT07",
                Severity = Severity.High,
                Status = matches ? FindingStatus.Pass : FindingStatus.Fail,
                Resource = resource,
                Discriminator = nic.Nic,
                Evidence = [new Evidence($"{nic.Nic}.networkName", $"{nic.PortGroup} (zone {nic.Zone}{(nic.Vlan is { } vl ? $", VLAN {vl}" : "")})", $"a port group of zone {vmSite.ZoneId}", nic.Source, nic.Line)],
                Remediation = matches ? null : new Remediation(
                    $"Connect {nic.Nic} of {nic.Vm.Name} to a port group of zone {vmSite.ZoneId}, or correct the site model if the VM moved zones.",
                    [$"PowerCLI: Get-VM '{nic.Vm.Name}' | Get-NetworkAdapter -Name 'Network adapter {NicNumber(nic.Nic) + 1}' | Set-NetworkAdapter -Portgroup '<{vmSite.ZoneId} port group>' -Confirm:$false"]),
                Profile = profile,
            };
        }

        foreach (var vmk in site.Vmkernels)
        {
            var resource = new ResourceRef("host", $"host:{vmk.Host}", vmk.Host, null, site.Resolve("host", vmk.Host).ZoneId, site.Source, vmk.Line);
            var sensitive = vmk.Services.Where(s => s is "management" or "vmotion" or "storage" or "vsan" or "provisioning" or "faulttolerance" or "replication").ToList();
            if (sensitive.Count == 0)
            {
                continue;
            }

            var pg = site.PortGroups.FirstOrDefault(p => string.Equals(p.Name, vmk.PortGroup, StringComparison.OrdinalIgnoreCase));
            var sharing = nics.Where(n => string.Equals(n.PortGroup, vmk.PortGroup, StringComparison.OrdinalIgnoreCase)
                                          || (pg?.Vlan is { } vlan && n.Vlan == vlan)).ToList();
            var storage = sensitive.All(s => s is "storage" or "vsan");
            var category = storage ? "VT05" : "VT10";
            yield return new Finding
            {
                RuleId = VmkShared,
                Title = sharing.Count == 0
                    ? $"{vmk.Name} ({string.Join(", ", sensitive)}) on {vmk.Host} has a network of its own"
                    : $"{vmk.Name} ({string.Join(", ", sensitive)}) on {vmk.Host} shares {vmk.PortGroup} with VM NICs of {string.Join(", ", sharing.Select(s => s.Vm.Name).Distinct().Take(5))}",
                Category = category,
                Severity = Severity.High,
                Status = sharing.Count == 0 ? FindingStatus.Pass : FindingStatus.Fail,
                Resource = resource,
                Discriminator = vmk.Name,
                Evidence = [new Evidence($"{vmk.Name}.portGroup", vmk.PortGroup + (pg?.Vlan is { } pv ? $" (VLAN {pv})" : ""), "a port group and VLAN no VM uses", site.Source, vmk.Line),
                            .. sharing.Take(5).Select(s => new Evidence($"{s.Vm.Name} {s.Nic}", s.PortGroup, null, s.Source, s.Line))],
                Remediation = sharing.Count == 0 ? null : new Remediation(
                    $"Give {vmk.Name} on {vmk.Host} a dedicated port group and VLAN, and move the VMs off {vmk.PortGroup}.",
                    [$"esxcli network ip interface list   # on {vmk.Host}: confirm {vmk.Name} and its port group",
                     $"Create a {string.Join("/", sensitive)} port group with its own VLAN, move {vmk.Name} to it (vSphere Client: Host > Configure > VMkernel adapters > Migrate)."]),
                Profile = profile,
            };

            var zone = site.ZoneOfPortGroup(vmk.PortGroup);
            var expected = sensitive.Contains("management") ? "management" : sensitive.Contains("vmotion") ? "migration" : storage ? "storage" : null;
            if (zone is not null && expected is not null && zone.Kind != expected)
            {
                yield return new Finding
                {
                    RuleId = VmkZone,
                    Title = $"{vmk.Name} ({string.Join(", ", sensitive)}) on {vmk.Host} is in zone {zone.Id} ({zone.Kind}), not a {expected} zone",
                    Category = "VT10",
                    Severity = Severity.Medium,
                    Status = FindingStatus.Fail,
                    Resource = resource,
                    Discriminator = vmk.Name + "|zone",
                    Evidence = [new Evidence($"{vmk.Name}.portGroup", $"{vmk.PortGroup} (zone {zone.Id})", $"a port group of a {expected} zone", site.Source, vmk.Line)],
                    Remediation = new Remediation($"Move {vmk.Name} on {vmk.Host} to a port group of a {expected} zone.", [$"vSphere Client: {vmk.Host} > Configure > VMkernel adapters > {vmk.Name} > Edit settings"]),
                    Profile = profile,
                };
            }
        }
    }

    private static int NicNumber(string nic) =>
        int.TryParse(new string(nic.Where(char.IsDigit).ToArray()), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
}
