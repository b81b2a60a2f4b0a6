using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Collectors.Proxmox;

/// <summary>
/// Proxmox VE <c>pveversion -v</c>: one <c>package: version</c> line per package (<c>proxmox-ve: 8.0.2 (running
/// kernel: 6.2.16-3-pve)</c>, <c>pve-manager: 8.0.3 (running version: 8.0.3/bbf3993334bfa916)</c>,
/// <c>pve-qemu-kvm: 8.1.2-4</c> ...; a package that is not installed reads <c>not correctly installed</c>),
/// and plain <c>pveversion</c> (<c>pve-manager/8.0.3/bbf3993334bfa916 (running kernel: 6.2.16-3-pve)</c>).
/// One <c>proxmox-ve</c> fact per file; its version is the <c>proxmox-ve</c> package (else <c>pve-manager</c>)
/// and every package version is kept, so advisories can name <c>pve-qemu-kvm</c> or the kernel.
/// </summary>
public sealed partial class PveVersionCollector : ICollector
{
    public const string Verbose = "pveversion-v";
    public const string Short = "pveversion";

    [GeneratedRegex(@"^(?<name>[a-z0-9][a-z0-9.+\-]*):\s+(?<version>\S+)(?:\s+\((?<note>.*)\))?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex PackageLine();

    [GeneratedRegex(@"^pve-manager/(?<version>\d[^/\s]*)/(?<hash>[0-9a-f]+)(?:\s+\(running kernel:\s*(?<kernel>[^)\s]+)\))?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ShortLine();

    public string? Detect(InputFile file)
    {
        var lines = VersionFacts.Meaningful(file).Take(40).Select(l => l.Text.Trim()).ToList();
        if (lines.Count is >= 1 and <= 2 && ShortLine().IsMatch(lines[0]))
        {
            return Short;
        }

        return lines.Any(l => l.StartsWith("proxmox-ve:", StringComparison.Ordinal)) && lines.Any(l => l.StartsWith("pve-manager:", StringComparison.Ordinal))
            ? Verbose
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var host = VersionFacts.HostName(file);
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var packages = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var lines = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (number, raw) in VersionFacts.Meaningful(file))
        {
            var text = raw.Trim();
            if (format == Short)
            {
                var s = ShortLine().Match(text);
                if (s.Success)
                {
                    packages["pve-manager"] = s.Groups["version"].Value;
                    lines["pve-manager"] = number;
                    if (s.Groups["kernel"].Success)
                    {
                        packages["running-kernel"] = s.Groups["kernel"].Value;
                    }
                }

                continue;
            }

            var m = PackageLine().Match(text);
            if (!m.Success)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, number, $"not a 'package: version' line: {VersionFacts.Short(text)}"));
                continue;
            }

            var name = m.Groups["name"].Value;
            var version = m.Groups["version"].Value;
            if (text.Contains("not correctly installed", StringComparison.Ordinal) || !VersionFacts.LooksLikeVersion(version))
            {
                continue;
            }

            packages[name] = version;
            lines[name] = number;
            var note = m.Groups["note"].Value;
            if (note.StartsWith("running kernel:", StringComparison.Ordinal))
            {
                packages["running-kernel"] = note["running kernel:".Length..].Trim();
            }
        }

        var key = packages.ContainsKey("proxmox-ve") ? "proxmox-ve" : "pve-manager";
        var at = lines.GetValueOrDefault(key, 1);
        var resource = VersionFacts.Resource(Products.ProxmoxVe, host, file, at);
        if (!packages.TryGetValue(key, out var pveVersion))
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, 1, "no proxmox-ve or pve-manager version; the host is reported as indeterminate"));
            return new CollectorResult(format, [VersionFacts.Unplaced(Products.ProxmoxVe, resource, "", "no proxmox-ve version") with { Packages = VersionFacts.ToPackages(packages) }], diagnostics.ToImmutable());
        }

        var fact = VersionFacts.Versioned(Products.ProxmoxVe, resource, pveVersion, packages, format);
        return new CollectorResult(format, [fact], diagnostics.ToImmutable());
    }
}
