using System.Globalization;

namespace VirtSecScan.Core.Advisories;

/// <summary>
/// The products the advisory feed and the version collectors know, how a version maps to the update line
/// builds are compared within, and how each product is named in findings.
/// </summary>
public static class Products
{
    public const string Esxi = "esxi";
    public const string Vcenter = "vcenter";
    public const string HyperV = "hyper-v";
    public const string ProxmoxVe = "proxmox-ve";
    public const string Qemu = "qemu";
    public const string Libvirt = "libvirt";
    public const string Xen = "xen";

    public static IReadOnlyList<string> All { get; } = [Esxi, Vcenter, HyperV, ProxmoxVe, Qemu, Libvirt, Xen];

    public static bool IsKnown(string product) => All.Contains(product, StringComparer.OrdinalIgnoreCase);

    public static string DisplayName(string product) => product.ToLowerInvariant() switch
    {
        Esxi => "ESXi",
        Vcenter => "vCenter Server",
        HyperV => "Windows Server (Hyper-V)",
        ProxmoxVe => "Proxmox VE",
        Qemu => "QEMU",
        Libvirt => "libvirt",
        Xen => "Xen",
        _ => product,
    };

    /// <summary>Windows Server release by OS build number (the Hyper-V "line").</summary>
    public static string? WindowsServerRelease(string osBuild) => osBuild switch
    {
        "14393" => "Windows Server 2016",
        "17763" => "Windows Server 2019",
        "20348" => "Windows Server 2022",
        "25398" => "Windows Server 2022 23H2",
        "26100" => "Windows Server 2025",
        _ => null,
    };

    /// <summary>
    /// Branch and line of a version-numbered product: <c>proxmox-ve</c> by major (<c>8</c>), <c>qemu</c>,
    /// <c>libvirt</c> and <c>xen</c> by major.minor (<c>8.2</c>); branch and line are the same, so only a
    /// fix row for the host's own line decides. Null when the version is not a version.
    /// </summary>
    public static string? VersionLine(string product, string version)
    {
        var m = System.Text.RegularExpressions.Regex.Match(version, @"^(?:\d+:)?(\d+)(?:\.(\d+))?");
        if (!m.Success)
        {
            return null;
        }

        return product.ToLowerInvariant() == ProxmoxVe || !m.Groups[2].Success
            ? m.Groups[1].Value
            : $"{m.Groups[1].Value}.{int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)}";
    }
}
