using System.Collections.Immutable;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Engine.Scanning;

/// <summary>
/// Host-wide VM options: the options of an ESXi host's <c>/etc/vmware/config</c> apply to every VM on that host,
/// so they are added to the settings of each of its VMs, unless the VM sets the key itself (the VM's own key
/// wins). The added settings keep the host file and line as their source, so evidence says where a value came
/// from. A VM's host comes from the site model, else from a folder layout <c>hosts/HOST/...</c>.
/// </summary>
public static class HostDefaults
{
    public static List<object> Apply(List<object> facts)
    {
        var hosts = facts.OfType<ConfigFact>().Where(f => f.Kind == "esxi-host")
            .GroupBy(f => f.Resource.Name, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        return facts.Select(f => f is VmConfig vm && vm.Resource.Host is { } h && hosts.TryGetValue(h, out var host) ? WithHostOptions(vm, host) : f).ToList();
    }

    public static VmConfig WithHostOptions(VmConfig vm, IConfigFact host)
    {
        var added = EtcVmwareConfigCollector.VmOptions(host)
            .Where(o => !vm.Settings.ContainsKey(o.Key))
            .Select(o => KeyValuePair.Create(o.Key, new Setting(o.Key, o.Setting.Value, o.Setting.Line, o.Setting.Source ?? host.Resource.Source)))
            .ToList();
        return added.Count == 0 ? vm : vm with { Settings = vm.Settings.SetItems(added) };
    }

    /// <summary>The host of a file under <c>.../hosts/HOST/...</c> (a VM file kept in its host's folder), else null.</summary>
    public static string? HostFromPath(string? path)
    {
        if (path is null)
        {
            return null;
        }

        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = parts.Length - 3; i >= 0; i--)
        {
            if (parts[i].Equals("hosts", StringComparison.OrdinalIgnoreCase))
            {
                return parts[i + 1];
            }
        }

        return null;
    }
}
