using VirtSecScan.Collectors.Libvirt;

namespace VirtSecScan.Collectors;

/// <summary>
/// Joins facts that describe one resource from several files, after every file is collected: a host's qemu.conf
/// applied to its libvirt domains. Pure: returns the facts to evaluate.
/// </summary>
public static class FactLinks
{
    public static List<object> Link(List<object> facts) => LibvirtHostLink.Apply(facts);
}
