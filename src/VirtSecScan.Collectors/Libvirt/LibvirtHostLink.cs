using System.Globalization;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Libvirt;

/// <summary>
/// Applies a host's qemu.conf to the libvirt domains it runs. A qemu.conf speaks for the domain XML files in its host
/// folder and below (<see cref="QemuConfCollector.HostRoot"/>; the nearest wins) or, failing that, for domains the site
/// model places on a host of the same name. The domain gets the host's settings as <c>host.&lt;key&gt;</c>,
/// <c>host.qemu-conf</c> (the file), and per VNC/SPICE console the effective values libvirt would use:
/// <c>graphics[i].listen.effective</c> (the domain's address, else <c>vnc_listen</c>/<c>spice_listen</c>, else
/// 127.0.0.1, or <c>socket</c> with <c>vnc_auto_unix_socket = 1</c>), <c>graphics[i].tls.effective</c> (1/0 from
/// <c>vnc_tls</c>/<c>spice_tls</c>) and <c>graphics[i].auth.effective</c> (password, sasl or none). A domain without a
/// known qemu.conf gets none of these, so console rules say not-evaluated instead of guessing the host.
/// </summary>
public static class LibvirtHostLink
{
    public static List<object> Apply(List<object> facts)
    {
        var hosts = facts.OfType<ConfigFact>().Where(f => f.Kind == QemuConfCollector.Kind).ToList();
        if (hosts.Count == 0)
        {
            return facts;
        }

        return facts.Select(f => f is ConfigFact { Kind: LibvirtDomainCollector.Kind } domain && HostFor(domain, hosts) is { } host
            ? Merge(domain, host)
            : f).ToList();
    }

    private static ConfigFact? HostFor(ConfigFact domain, List<ConfigFact> hosts)
    {
        var path = (domain.Resource.Source ?? "").Replace('\\', '/');
        var byPath = hosts
            .Select(h => (Host: h, Root: QemuConfCollector.HostRoot(h.Resource.Source ?? "")))
            .Where(h => h.Root.Length == 0 || path.StartsWith(h.Root + "/", StringComparison.Ordinal))
            .OrderByDescending(h => h.Root.Length)
            .ToList();
        if (byPath.Count > 0 && (byPath.Count == 1 || byPath[0].Root.Length > byPath[1].Root.Length))
        {
            return byPath[0].Host;
        }

        return domain.Resource.Host is { } hostName
            ? hosts.FirstOrDefault(h => string.Equals(h.Resource.Name, hostName, StringComparison.OrdinalIgnoreCase))
            : null;
    }

    private static ConfigFact Merge(ConfigFact domain, ConfigFact host)
    {
        var added = new List<Setting> { new("host.qemu-conf", host.Resource.Source ?? host.Resource.Name, 1) };
        added.AddRange(host.Settings.Values.Select(s => new Setting("host." + s.Key, s.Value, s.Line)));

        Setting? H(string key) => host.Get(key);
        bool On(string key) => H(key)?.Value.Trim() == "1";

        var graphics = domain.Settings.Keys
            .Select(k => System.Text.RegularExpressions.Regex.Match(k, @"^graphics\[(\d+)\]\.type$"))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        foreach (var i in graphics)
        {
            var prefix = $"graphics[{i.ToString(CultureInfo.InvariantCulture)}]";
            var type = domain.Get(prefix + ".type")?.Value;
            if (type is not ("vnc" or "spice"))
            {
                continue;
            }

            var viaNetwork = domain.Settings.Any(kv => kv.Key.StartsWith(prefix + ".listen", StringComparison.OrdinalIgnoreCase)
                && kv.Key.EndsWith(".type", StringComparison.OrdinalIgnoreCase) && kv.Value.Value == "network");
            if (domain.Get(prefix + ".listen.effective") is null && !viaNetwork)
            {
                if (type == "vnc" && On("vnc_auto_unix_socket"))
                {
                    added.Add(new Setting(prefix + ".listen.effective", "socket", H("vnc_auto_unix_socket")!.Line));
                }
                else if (H(type + "_listen") is { } listen)
                {
                    added.Add(new Setting(prefix + ".listen.effective", listen.Value, listen.Line));
                }
                else
                {
                    added.Add(new Setting(prefix + ".listen.effective", "127.0.0.1", 0));
                }
            }

            added.Add(new Setting(prefix + ".tls.effective", On(type + "_tls") ? "1" : "0", H(type + "_tls")?.Line ?? 0));
            if (domain.Get(prefix + ".auth.effective") is null)
            {
                var auth = On(type + "_sasl") ? ("sasl", H(type + "_sasl")!.Line)
                    : H(type + "_password.present") is { Value: "true" } pw ? ("password", pw.Line)
                    : ("none", 0);
                added.Add(new Setting(prefix + ".auth.effective", auth.Item1, auth.Item2));
            }
        }

        var resource = domain.Resource.Host is null ? domain.Resource with { Host = host.Resource.Name } : domain.Resource;
        return ConfigFact.Of(resource, domain.Kind, domain.Settings.Values.Concat(added));
    }
}
