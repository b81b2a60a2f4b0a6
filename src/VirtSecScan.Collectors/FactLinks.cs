using VirtSecScan.Collectors.HyperV;
using VirtSecScan.Collectors.Libvirt;
using VirtSecScan.Core;

namespace VirtSecScan.Collectors;

/// <summary>
/// Joins facts that describe one resource from several files, after every file is collected: a host's qemu.conf
/// applied to its libvirt domains; Hyper-V cmdlet outputs joined to their VM. Pure: returns the facts to evaluate.
/// </summary>
public static class FactLinks
{
    public static List<object> Link(List<object> facts, ICollection<Diagnostic>? diagnostics = null) =>
        HyperVLink.Apply(LibvirtHostLink.Apply(facts), diagnostics);
}
