using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Versions;

/// <summary>
/// Shared helpers of the version collectors: the host a single-host file belongs to, and the
/// <see cref="HypervisorBuild"/> fact for a product, version and build (or an unplaced one when the version
/// cannot be read: the report then says "verify by hand" instead of guessing).
/// </summary>
public static partial class VersionFacts
{
    private static readonly string[] GenericStems =
    [
        "vmware-v", "esxcli", "version", "vmware", "build", "pveversion", "virsh", "dpkg", "rpm", "computerinfo", "get-computerinfo",
        "xe-host", "host-param", "about", "vami", "system-version", "appliance", "profile", "host-client", "packages", "summary",
    ];

    [GeneratedRegex(@"^(?<branch>\d+\.\d+)\.(?<update>\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ThreePart();

    /// <summary>The host a single-host version file belongs to: its folder when the file is named after the command, else the file name.</summary>
    public static string HostName(InputFile file)
    {
        var stem = file.Stem.ToLowerInvariant();
        var generic = GenericStems.Any(g => stem.StartsWith(g, StringComparison.Ordinal));
        return generic && file.FolderName.Length > 0 ? file.FolderName : file.Stem;
    }

    /// <summary>Resource of a host fact: ESXi hosts keep <c>host:&lt;name&gt;</c>, other products are <c>&lt;product&gt;:&lt;name&gt;</c>.</summary>
    public static ResourceRef Resource(string product, string host, InputFile file, int? line) =>
        new("host", (product == Products.Esxi ? "host:" : product + ":") + host.ToLowerInvariant(), host, Source: file.DisplayPath, Line: line);

    /// <summary>
    /// An ESXi or vCenter fact from a version (<c>7.0.3</c>, <c>8.0.3.00000</c>) and build. The update line comes
    /// from the third number (7.0.3 is 7.0 Update 3); for 6.x, where it is always 0, from <paramref name="update"/>,
    /// and when that is missing the line is marked uncertain.
    /// </summary>
    public static HypervisorBuild Vmware(string product, ResourceRef resource, string version, long build, int? update, string? updateName, string? patch, string? buildSource)
    {
        var parts = version.Split('.');
        var three = parts.Length >= 3 ? string.Join('.', parts.Take(3)) : version;
        var m = ThreePart().Match(three);
        if (!m.Success)
        {
            return Unplaced(product, resource, version, $"'{Short(version)}' is not a {Products.DisplayName(product)} version");
        }

        var third = int.Parse(m.Groups["update"].Value, CultureInfo.InvariantCulture);
        var major = int.Parse(m.Groups["branch"].Value.Split('.')[0], CultureInfo.InvariantCulture);
        var (branch, line) = HypervisorBuild.LineOf(three, update);
        var certain = third > 0 || update is not null || major >= 7;
        return new HypervisorBuild(resource, product, version, build, branch, line, updateName, patch)
        {
            LineCertain = certain,
            BuildSource = buildSource,
        };
    }

    /// <summary>A version-numbered product (Proxmox VE, QEMU, libvirt, Xen): branch and line from the version.</summary>
    public static HypervisorBuild Versioned(string product, ResourceRef resource, string version, IEnumerable<KeyValuePair<string, string>>? packages, string? buildSource)
    {
        var line = Products.VersionLine(product, version);
        var facts = line is null
            ? Unplaced(product, resource, version, $"'{Short(version)}' is not a {Products.DisplayName(product)} version")
            : new HypervisorBuild(resource, product, version, 0, line, line, null, null) { BuildSource = buildSource };
        return packages is null ? facts : facts with { Packages = ToPackages(packages) };
    }

    /// <summary>A host whose version could not be read: no advisory is judged, the report asks for a manual check.</summary>
    public static HypervisorBuild Unplaced(string product, ResourceRef resource, string version, string reason) =>
        new(resource, product, version, 0, "", "", null, null) { Unplaced = reason, LineCertain = false };

    public static ImmutableSortedDictionary<string, string> ToPackages(IEnumerable<KeyValuePair<string, string>> packages)
    {
        var b = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in packages)
        {
            b[k] = v;
        }

        return b.ToImmutable();
    }

    /// <summary>True when <paramref name="text"/> starts with a digit (a version, not a word).</summary>
    public static bool LooksLikeVersion(string text) => VersionComparer.LooksLikeVersion(text);

    public static string Short(string s) => s.Length > 60 ? s[..60] + "..." : s;

    /// <summary>Lines with their 1-based numbers, blank lines left out.</summary>
    public static IEnumerable<(int Number, string Text)> Meaningful(InputFile file) =>
        file.Lines.Select((text, i) => (Number: i + 1, Text: text)).Where(l => l.Text.Trim().Length > 0);
}
