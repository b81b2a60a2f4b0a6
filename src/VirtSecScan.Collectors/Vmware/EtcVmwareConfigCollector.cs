using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// An ESXi host's <c>/etc/vmware/config</c>: <c>key = "value"</c> lines read by every VMX process on the host
/// (<c>libdir</c>, <c>authd.*</c>, and host-wide VM options such as <c>vmx.log.*</c> or isolation keys).
/// Becomes <c>etcVmwareConfig[KEY]</c> settings of the host's <c>esxi-host</c> fact, plus
/// <c>etcVmwareConfig.vmxLogKeys</c> (the <c>vmx.log*</c> keys, comma-separated; "" when none), present
/// whenever the file was read so that a rule can tell "no such line" from "file not collected".
/// The scanner applies the VM options of this file to the host's VMs (a VM's own key wins).
/// </summary>
public sealed partial class EtcVmwareConfigCollector : ICollector
{
    public const string FormatId = "esxi-etc-vmware-config";
    public const string Prefix = "etcVmwareConfig";

    [GeneratedRegex(@"^\s*(?<key>[A-Za-z_][^=\s""]*)\s*=\s*(?:""(?<value>[^""]*)""|(?<bare>[^""\s#][^""#]*?))\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Assignment();

    [GeneratedRegex(@"^(libdir|authd\.|vmauthd\.|hostd\.)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostOnlyKey();

    [GeneratedRegex(@"^(config\.version|virtualhw\.version|displayname|guestos|uuid\.bios|memsize|numvcpus)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VmKey();

    /// <summary>Whether a key of /etc/vmware/config configures the host itself rather than the VMs on it.</summary>
    public static bool IsHostOnly(string key) => HostOnlyKey().IsMatch(key);

    public string? Detect(InputFile file)
    {
        var meaningful = 0;
        var assignments = 0;
        var hostKeys = 0;
        foreach (var raw in file.Lines.Take(400))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            meaningful++;
            var m = Assignment().Match(line);
            if (!m.Success)
            {
                continue;
            }

            assignments++;
            var key = m.Groups["key"].Value;
            if (VmKey().IsMatch(key))
            {
                return null;
            }

            hostKeys += HostOnlyKey().IsMatch(key) ? 1 : 0;
        }

        return hostKeys > 0 && assignments * 10 >= meaningful * 7 ? FormatId : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var settings = new Dictionary<string, Setting>(StringComparer.OrdinalIgnoreCase);
        var logKeys = new List<string>();
        for (var i = 0; i < file.Lines.Length; i++)
        {
            var line = file.Lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var m = Assignment().Match(line);
            if (!m.Success)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, i + 1, "not a key = \"value\" line; skipped"));
                continue;
            }

            var key = m.Groups["key"].Value;
            var value = m.Groups["value"].Success ? m.Groups["value"].Value : m.Groups["bare"].Value.Trim();
            settings[key] = new Setting($"{Prefix}[{key}]", value, i + 1, file.DisplayPath);
            if (key.StartsWith("vmx.log", StringComparison.OrdinalIgnoreCase))
            {
                logKeys.Add(key);
            }
        }

        var all = settings.Values.ToList();
        var firstLog = all.Where(s => logKeys.Contains(s.Key[(Prefix.Length + 1)..^1], StringComparer.OrdinalIgnoreCase)).Select(s => s.Line).DefaultIfEmpty(1).Min();
        all.Add(new Setting($"{Prefix}.vmxLogKeys", string.Join(", ", logKeys.Distinct(StringComparer.OrdinalIgnoreCase)), firstLog, file.DisplayPath));
        var fact = ConfigFact.Of(EsxiText.HostResource(file, 1), EsxiText.Kind, all);
        return new CollectorResult(format, [fact], diagnostics.ToImmutable());
    }

    /// <summary>The VM options of a host fact's /etc/vmware/config settings: key as written in the file, with its setting.</summary>
    public static IEnumerable<(string Key, Setting Setting)> VmOptions(IConfigFact host) =>
        host.Settings.Values
            .Where(s => s.Key.StartsWith(Prefix + "[", StringComparison.OrdinalIgnoreCase) && s.Key.EndsWith(']'))
            .Select(s => (Key: s.Key[(Prefix.Length + 1)..^1], Setting: s))
            .Where(o => !IsHostOnly(o.Key));
}
