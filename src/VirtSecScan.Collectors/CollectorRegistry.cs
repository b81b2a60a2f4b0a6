using VirtSecScan.Collectors.HyperV;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Libvirt;
using VirtSecScan.Collectors.Proxmox;
using VirtSecScan.Collectors.Ovf;
using VirtSecScan.Collectors.Traffic;
using VirtSecScan.Collectors.Vmware;

namespace VirtSecScan.Collectors;

/// <summary>Every collector the scanner knows. A new input format is a new collector added here.</summary>
public static class CollectorRegistry
{
    public static IReadOnlyList<ICollector> All { get; } =
    [
        new VmxCollector(),
        new VsphereSoapCollector(),
        new EsxiVersionCollector(),
        new Vmware.EsxiProfileCollector(),
        new Vmware.VcenterVersionCollector(),
        new Vmware.VmwareHtmlVersionCollector(),
        new Vmware.VmHostCsvCollector(),
        new Proxmox.PveVersionCollector(),
        new Libvirt.VirshVersionCollector(),
        new Libvirt.PackageListCollector(),
        new HyperV.ComputerInfoCollector(),
        new Xen.XeHostParamCollector(),
        new EsxcliCollector(),
        new VmHostServiceCsvCollector(),
        new EtcVmwareConfigCollector(),
        new LibvirtDomainCollector(),
        new QemuConfCollector(),
        new Libvirt.LibvirtNetworkCollector(),
        new ProxmoxCollector(),
        new HyperVCollector(),
        new OvfCollector(),
        new Network.IptablesSaveCollector(),
        new Network.NftTextCollector(),
        new Network.NftJsonCollector(),
        new Network.PfSenseCollector(),
        new Network.CiscoAsaCollector(),
    ];

    /// <summary>The first collector that recognises the file by content, with the detected format id.</summary>
    public static (ICollector Collector, string Format)? Detect(InputFile file)
    {
        foreach (var collector in All)
        {
            if (collector.Detect(file) is { } format)
            {
                return (collector, format);
            }
        }

        return null;
    }

    /// <summary>Collectors of binary files streamed from disk (packet captures), tried before the text path.</summary>
    public static IReadOnlyList<IFileCollector> Files { get; } =
    [
        new PcapCollector(),
    ];

    /// <summary>The first binary-file collector that recognises the file's first bytes, or null (also when it cannot be read).</summary>
    public static (IFileCollector Collector, string Format)? DetectFile(string path)
    {
        try
        {
            Span<byte> head = stackalloc byte[16];
            // A handle, not a FileStream: every input file is probed, and a stream allocates a buffer per file.
            using var handle = File.OpenHandle(path);
            var read = 0;
            while (read < head.Length && RandomAccess.Read(handle, head[read..], read) is var n and > 0)
            {
                read += n;
            }

            foreach (var collector in Files)
            {
                if (collector.Detect(head[..read]) is { } format)
                {
                    return (collector, format);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The text path reports unreadable files.
        }

        return null;
    }
}
