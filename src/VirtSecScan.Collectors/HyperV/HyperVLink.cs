using VirtSecScan.Core;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.HyperV;

/// <summary>
/// Joins Hyper-V cmdlet outputs read from different files (Get-VMFirmware.json, Get-VMSecurity.json ...) to the VMs of
/// Get-VM: by VMId, else VMName, preferring VMs read from the same folder. Get-VMHost output applies to the VMs of the same
/// folder or the same ComputerName. Parts that match no VM are dropped and reported.
/// </summary>
public static class HyperVLink
{
    public static List<object> Apply(List<object> facts, ICollection<Diagnostic>? diagnostics)
    {
        var parts = facts.OfType<ConfigFact>().Where(f => f.Kind == HyperVCollector.PartKind).ToList();
        if (parts.Count == 0)
        {
            return facts;
        }

        var vms = facts.OfType<ConfigFact>().Where(f => f.Kind == HyperVCollector.Kind)
            .Select(f => (Fact: f, Settings: f.Settings.Values.ToList()))
            .ToList();
        foreach (var part in parts)
        {
            var kind = part.Get("part.kind")?.Value;
            var id = part.Get("part.vmid")?.Value;
            var name = part.Get("part.vmname")?.Value;
            var folder = Folder(part.Resource.Source);
            var settings = part.Settings.Values.Where(s => !s.Key.StartsWith("part.", StringComparison.Ordinal)).ToList();
            List<(ConfigFact Fact, List<Setting> Settings)> targets;
            if (kind == nameof(HyperVCollector.ObjectKind.Host))
            {
                targets = vms.Where(v => Folder(v.Fact.Resource.Source) == folder
                    || (part.Resource.Host is { } computer && string.Equals(v.Fact.Resource.Host, computer, StringComparison.OrdinalIgnoreCase))).ToList();
            }
            else
            {
                var candidates = vms.Where(v => HyperVCollector.Matches(VmId(v.Fact), v.Fact.Resource.Name, id, name)).ToList();
                var sameFolder = candidates.Where(v => Folder(v.Fact.Resource.Source) == folder).ToList();
                targets = sameFolder.Count > 0 ? sameFolder.Take(1).ToList() : candidates.Count == 1 ? candidates : [];
            }

            if (targets.Count == 0)
            {
                diagnostics?.Add(Diagnostic.Warning(part.Resource.Source ?? "", part.Resource.Line,
                    $"{kind} output for '{(name is { Length: > 0 } ? name : id)}' matches no VM of Get-VM output; not evaluated"));
                continue;
            }

            foreach (var target in targets)
            {
                HyperVCollector.Merge(target.Settings, settings);
            }
        }

        var merged = new Dictionary<ConfigFact, ConfigFact>(ReferenceEqualityComparer.Instance);
        foreach (var (fact, settings) in vms)
        {
            merged[fact] = ConfigFact.Of(fact.Resource, fact.Kind, HyperVCollector.Finish(settings));
        }

        return facts.Where(f => f is not ConfigFact { Kind: HyperVCollector.PartKind })
            .Select(f => f is ConfigFact c && merged.TryGetValue(c, out var m) ? m : f)
            .ToList();
    }

    private static string? VmId(ConfigFact vm) => vm.Resource.Id.StartsWith("hyperv:", StringComparison.Ordinal) ? vm.Resource.Id["hyperv:".Length..] : null;

    private static string Folder(string? path)
    {
        var p = (path ?? "").Replace('\\', '/');
        var slash = p.LastIndexOf('/');
        return slash < 0 ? "" : p[..slash];
    }
}
