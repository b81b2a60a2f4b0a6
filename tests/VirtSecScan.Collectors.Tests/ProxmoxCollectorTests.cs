using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Proxmox;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

public sealed class ProxmoxCollectorTests
{
    private const string Dir = "fixtures/collectors/proxmox/";

    private static List<ConfigFact> Collect(string name, string format)
    {
        var file = Fixtures.Load(Dir + name);
        Assert.Equal(format, CollectorRegistry.Detect(file)?.Format);
        var result = new ProxmoxCollector().Collect(file, format);
        Assert.DoesNotContain(result.Diagnostics, d => d.Level == "error");
        return result.Facts.Cast<ConfigFact>().ToList();
    }

    private static string Value(ConfigFact fact, string key) => Assert.IsType<Setting>(fact.Get(key)).Value;

    [Fact]
    public void ConfFileStopsAtTheFirstSectionAndSnapshotsAreOwnFacts()
    {
        var facts = Collect("pve-07/qemu-server/104.conf", ProxmoxCollector.QmConfFormat);
        var vm = Assert.Single(facts, f => f.Kind == "proxmox-vm");
        var snapshot = Assert.Single(facts, f => f.Kind == "proxmox-snapshot");

        Assert.Equal("proxmox:pve-07/104", vm.Resource.Id);
        Assert.Equal("lis-mw-04", vm.Resource.Name);
        Assert.Equal("vm", vm.Resource.Type);
        Assert.Equal("pve-07", vm.Resource.Host);
        Assert.Equal("8192", Value(vm, "memory"));
        Assert.Null(vm.Get("hostpci0"));
        Assert.Null(vm.Get("vmstate"));
        Assert.Null(vm.Get("ipconfig0"));
        Assert.Equal("1", Value(vm, "snapshots.count"));
        Assert.Equal("before-upgrade", Value(vm, "snapshot[0].name"));
        Assert.Equal("2", Value(vm, "pending.count"));
        Assert.Equal("proxmox:pve-07/104@before-upgrade", snapshot.Resource.Id);
        Assert.Equal("0000:41:00.0", Value(snapshot, "hostpci0.host"));
        Assert.Equal(29, snapshot.Get("hostpci0")!.Line);
        Assert.NotNull(snapshot.Get("vmstate"));
    }

    [Fact]
    public void PropertyStringsAreSplit()
    {
        var vm = Collect("pve-07/qemu-server/104.conf", ProxmoxCollector.QmConfFormat).Single(f => f.Kind == "proxmox-vm");

        Assert.Equal("virtio", Value(vm, "net0.model"));
        Assert.Equal("BC:24:11:5E:00:04", Value(vm, "net0.macaddr"));
        Assert.Equal("vmbr0", Value(vm, "net0.bridge"));
        Assert.Equal("130", Value(vm, "net0.tag"));
        Assert.Equal("1", Value(vm, "net0.firewall"));
        Assert.Equal(14, vm.Get("net0.firewall")!.Line);
        Assert.Equal("e1000", Value(vm, "net1.model"));
        Assert.Null(vm.Get("net1.firewall"));
        Assert.Equal("1", Value(vm, "efidisk0.pre-enrolled-keys"));
        Assert.Equal("local:iso/debian-12.7.0-amd64-netinst.iso", Value(vm, "ide2.file"));
        Assert.Equal("cdrom", Value(vm, "ide2.media"));
        Assert.Equal("1", Value(vm, "agent.enabled"));
        Assert.Equal("", Value(vm, "tags"));
    }

    [Fact]
    public void SecretsAndDescriptionAreOnlyPresence()
    {
        var facts = Collect("pve-07/qemu-server/104.conf", ProxmoxCollector.QmConfFormat);
        var vm = facts.Single(f => f.Kind == "proxmox-vm");

        Assert.Equal("true", Value(vm, "description.present"));
        Assert.Equal("true", Value(vm, "cipassword.present"));
        Assert.Null(vm.Get("cipassword"));
        Assert.Contains("data=(masked)", Value(vm, "args"), StringComparison.Ordinal);
        Assert.DoesNotContain(facts.SelectMany(f => f.Settings.Values), s =>
            s.Value.Contains("not-a-real", StringComparison.Ordinal) || s.Value.Contains("Laboratory middleware", StringComparison.Ordinal));
    }

    [Fact]
    public void QmConfigOutput()
    {
        var vm = Assert.Single(Collect("qm-config-105.txt", ProxmoxCollector.QmConfFormat));

        Assert.Equal("proxmox:proxmox/105", vm.Resource.Id);
        Assert.Equal("portal-test-05", vm.Resource.Name);
        Assert.Equal("true", Value(vm, "description.present"));
        Assert.Equal("0403:6001", Value(vm, "usb0.host"));
        Assert.Equal("spice", Value(vm, "usb1.host"));
        Assert.Equal("vnc", Value(vm, "vga.clipboard"));
        Assert.Equal("qxl", Value(vm, "vga.type"));
        Assert.Equal("/dev/disk/by-id/ata-EXAMPLE-SERIAL", Value(vm, "scsi0.file"));
        Assert.Equal("0", Value(vm, "snapshots.count"));
    }

    [Fact]
    public void PveshJson()
    {
        var vm = Assert.Single(Collect("pvesh-106.json", ProxmoxCollector.PveshJsonFormat));

        Assert.Equal("ris-test-06", vm.Resource.Name);
        Assert.Equal("4096", Value(vm, "memory"));
        Assert.Equal("2", Value(vm, "cores"));
        Assert.Equal(4, vm.Get("cores")!.Line);
        Assert.Equal("150", Value(vm, "net0.tag"));
        Assert.Equal(8, vm.Get("net0.tag")!.Line);
        Assert.Equal("true", Value(vm, "cipassword.present"));
    }

    [Fact]
    public void ArmVmWithArchKeyIsAVm()
    {
        var file = new InputFile("pve-03/qemu-server/8006.conf", "arch: aarch64\nbios: ovmf\ncores: 3\nname: simple\nnet0: virtio=A2:C0:43:77:08:A0,bridge=vmbr0\nostype: l26\nscsihw: virtio-scsi-pci\n");
        Assert.Equal(ProxmoxCollector.QmConfFormat, new ProxmoxCollector().Detect(file));
    }

    [Theory]
    [InlineData("site.yaml", "site: Demo\nzones:\n  - id: his\n    name: HIS\n")]
    [InlineData("ct.conf", "arch: amd64\ncores: 2\nhostname: ct1\nmemory: 512\nnet0: name=eth0,bridge=vmbr0\nostype: debian\nrootfs: local-lvm:vm-200-disk-0,size=8G\n")]
    [InlineData("notes.txt", "name: something\nmemory: lots\n")]
    [InlineData("a.json", "{\"name\": \"x\", \"memory\": 1}")]
    public void OtherFilesAreNotProxmoxVms(string path, string text)
    {
        Assert.Null(new ProxmoxCollector().Detect(new InputFile(path, text)));
    }

    [Theory]
    [InlineData("hosts/pve-01/qemu-server/101.conf", "pve-01", "101")]
    [InlineData("etc/pve/nodes/pve1/qemu-server/100.conf", "pve1", "100")]
    [InlineData("etc/pve/qemu-server/100.conf", null, "100")]
    [InlineData("hosts/pve-02/qm-config-250.txt", "pve-02", "250")]
    [InlineData("q35-usb2.conf", null, null)]
    public void NodeAndVmIdFromThePath(string path, string? node, string? vmid)
    {
        Assert.Equal((node, vmid), ProxmoxCollector.Locate(path));
    }

    [Fact]
    public void BadLinesAreDiagnosticsNotExceptions()
    {
        var file = new InputFile("pve/qemu-server/300.conf", "name: x\nostype: l26\nscsihw: virtio-scsi-single\nthis is not a key line\n[unterminated\n");
        var result = new ProxmoxCollector().Collect(file, ProxmoxCollector.QmConfFormat);
        Assert.Contains(result.Diagnostics, d => d.Line == 4);
        Assert.Single(result.Facts);
    }
}
