using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Collectors.Libvirt;

/// <summary>
/// Installed-package lists of a KVM or Xen host: Debian/Ubuntu <c>dpkg -l</c> (the <c>Desired=Unknown/...</c>
/// header, then <c>ii  qemu-system-x86  1:8.2.2+ds-0ubuntu1.4  amd64  QEMU full system emulation ...</c>) and
/// RPM <c>rpm -qa</c> / <c>rpm -q NAME...</c> (<c>qemu-kvm-8.2.0-11.el9_4.6.x86_64</c>, one per line). Only the
/// virtualization packages are kept: QEMU (<c>qemu-system-*</c>, <c>qemu-kvm</c>), libvirt (<c>libvirt0</c>,
/// <c>libvirt-daemon*</c>, <c>libvirt-libs</c>) and Xen (<c>xen-hypervisor-*</c>, <c>xen</c>). One fact per product
/// found, whose version is the upstream part of the main package and whose packages carry the full
/// distribution versions (epoch, revision) for advisories that name a package.
/// </summary>
public sealed partial class PackageListCollector : ICollector
{
    public const string Dpkg = "dpkg-l";
    public const string Rpm = "rpm-qa";

    [GeneratedRegex(@"^(?<state>[a-zA-Z]{2,3})\s+(?<name>[a-z0-9][a-z0-9.+\-]*)(?::[a-z0-9]+)?\s+(?<version>\S+)\s+(?<arch>\S+)(?:\s+.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DpkgLine();

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9][A-Za-z0-9._+\-]*?)-(?<version>(?:\d+:)?\d[^-\s]*)-(?<release>[^-\s]+?)(?:\.(?<arch>x86_64|aarch64|noarch|i686|ppc64le|s390x))?$", RegexOptions.CultureInvariant)]
    private static partial Regex RpmLine();

    public string? Detect(InputFile file)
    {
        var lines = VersionFacts.Meaningful(file).Select(l => l.Text.TrimEnd()).ToList();
        if (lines.Count == 0)
        {
            return null;
        }

        if (lines.Take(6).Any(l => l.StartsWith("Desired=Unknown/Install", StringComparison.Ordinal)))
        {
            return Dpkg;
        }

        var matched = lines.Count(l => RpmLine().IsMatch(l.Trim()));
        return matched * 10 >= lines.Count * 9 && !lines.Any(l => l.Contains(':', StringComparison.Ordinal) && l.Contains(' ', StringComparison.Ordinal))
               && lines.Any(l => RpmLine().Match(l.Trim()) is { Success: true } m && ProductOf(m.Groups["name"].Value) is not null)
            ? Rpm
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var host = VersionFacts.HostName(file);
        var byProduct = new Dictionary<string, (Dictionary<string, string> Packages, string? Main, int Line)>();
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        foreach (var (number, raw) in VersionFacts.Meaningful(file))
        {
            var text = raw.Trim();
            string name, version;
            if (format == Dpkg)
            {
                var m = DpkgLine().Match(text);
                if (!m.Success || !m.Groups["state"].Value.StartsWith('i') && !m.Groups["state"].Value.StartsWith('h'))
                {
                    continue;
                }

                if (m.Groups["state"].Value.Length < 2 || m.Groups["state"].Value[1] != 'i')
                {
                    continue;
                }

                name = m.Groups["name"].Value;
                version = m.Groups["version"].Value;
            }
            else
            {
                var m = RpmLine().Match(text);
                if (!m.Success)
                {
                    diagnostics.Add(Diagnostic.Warning(file.DisplayPath, number, $"not a name-version-release line: {VersionFacts.Short(text)}"));
                    continue;
                }

                name = m.Groups["name"].Value;
                version = m.Groups["version"].Value + "-" + m.Groups["release"].Value;
            }

            if (ProductOf(name) is not { } product)
            {
                continue;
            }

            if (!byProduct.TryGetValue(product, out var entry))
            {
                entry = (new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), null, number);
            }

            entry.Packages[name] = version;
            if (entry.Main is null || IsMain(product, name))
            {
                entry = (entry.Packages, IsMain(product, name) ? name : entry.Main ?? name, IsMain(product, name) ? number : entry.Line);
            }

            byProduct[product] = entry;
        }

        var facts = ImmutableArray.CreateBuilder<object>();
        foreach (var (product, (packages, main, line)) in byProduct.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var upstream = Upstream(packages[main!]);
            var fact = VersionFacts.Versioned(product, VersionFacts.Resource(product, host, file, line), upstream, packages, format);
            if (fact.Unplaced is not null)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{fact.Unplaced}; the host is reported as indeterminate"));
            }

            facts.Add(fact);
        }

        if (facts.Count == 0)
        {
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, null, "no QEMU, libvirt or Xen package in the list"));
        }

        return new CollectorResult(format, facts.ToImmutable(), diagnostics.ToImmutable());
    }

    /// <summary>The upstream version inside a distribution version: <c>1:8.2.2+ds-0ubuntu1.4</c> → <c>8.2.2</c>.</summary>
    public static string Upstream(string version)
    {
        var v = version;
        var colon = v.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            v = v[(colon + 1)..];
        }

        var m = Regex.Match(v, @"^\d+(?:\.\d+)*");
        return m.Success ? m.Value : v;
    }

    private static string? ProductOf(string name) => name switch
    {
        _ when name.StartsWith("qemu-system", StringComparison.Ordinal) || name is "qemu-kvm" or "qemu-kvm-core" or "qemu-system-x86-core" or "qemu" or "pve-qemu-kvm" => Products.Qemu,
        _ when name is "libvirt0" or "libvirt-libs" or "libvirt-daemon" or "libvirt-daemon-system" or "libvirt-daemon-driver-qemu" or "libvirt-clients" or "libvirt" => Products.Libvirt,
        _ when name.StartsWith("xen-hypervisor", StringComparison.Ordinal) || name is "xen" or "xen-libs" or "xen-utils-common" => Products.Xen,
        _ => null,
    };

    private static bool IsMain(string product, string name) => product switch
    {
        Products.Qemu => name is "qemu-system-x86" or "qemu-kvm" or "pve-qemu-kvm",
        Products.Libvirt => name is "libvirt0" or "libvirt-libs" or "libvirt-daemon",
        Products.Xen => name.StartsWith("xen-hypervisor", StringComparison.Ordinal) || name == "xen",
        _ => false,
    };
}
