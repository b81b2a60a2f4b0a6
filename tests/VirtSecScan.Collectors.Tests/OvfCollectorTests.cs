using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Ovf;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

public sealed class OvfCollectorTests
{
    private static (VmConfig Vm, CollectorResult Result) CollectOne(string fixture)
    {
        var file = Fixtures.Load($"fixtures/collectors/ovf/{fixture}");
        var collector = new OvfCollector();
        Assert.Equal(OvfCollector.FormatId, collector.Detect(file));
        var result = collector.Collect(file, OvfCollector.FormatId);
        return (Assert.Single(result.Facts.OfType<VmConfig>()), result);
    }

    private static string? Value(VmConfig vm, string key) => vm.Get(key)?.Value;

    [Fact]
    public void SecureBootFlagOnBiosFirmwareIsReadAsBoth()
    {
        var (vm, _) = CollectOne("secure-boot-on-bios.ovf");

        Assert.Equal("lab-analyser-gateway", vm.Resource.Name);
        Assert.Equal("ovf:secure-boot-on-bios.ovf/lab-analyser-gateway", vm.Resource.Id);
        Assert.Equal("vm", vm.Resource.Type);
        Assert.Equal("bios", Value(vm, "firmware"));
        Assert.Equal("TRUE", Value(vm, "uefi.secureBoot.enabled"));
        Assert.Equal("14", Value(vm, "virtualHW.version"));
        Assert.Equal("other4xLinux64Guest", Value(vm, "guestOS"));
    }

    [Fact]
    public void DevicesBecomeVmxKeys()
    {
        var (vm, _) = CollectOne("secure-boot-on-bios.ovf");

        Assert.Equal("TRUE", Value(vm, "ide1:0.present"));
        Assert.Equal("cdrom-image", Value(vm, "ide1:0.deviceType"));
        Assert.Equal("lab-gateway-setup.iso", Value(vm, "ide1:0.fileName"));
        Assert.Equal("TRUE", Value(vm, "ide1:0.startConnected"));
        Assert.Equal("TRUE", Value(vm, "floppy0.present"));
        Assert.Equal("TRUE", Value(vm, "floppy0.clientDevice"));
        Assert.Equal("FALSE", Value(vm, "floppy0.startConnected"));
        Assert.Equal("TRUE", Value(vm, "usb_xhci.present"));
        Assert.Equal("network", Value(vm, "serial0.fileType"));
        Assert.Equal("TRUE", Value(vm, "parallel0.present"));
        Assert.Equal("TRUE", Value(vm, "sound.present"));
        Assert.Equal("TRUE", Value(vm, "mks.enable3d"));
        Assert.Equal("independent-nonpersistent", Value(vm, "scsi0:0.mode"));
        Assert.Equal("lab-gateway-disk1.vmdk", Value(vm, "scsi0:0.fileName"));
        Assert.Equal("2000", Value(vm, "sched.cpu.max"));
        Assert.Equal("2048", Value(vm, "sched.mem.min"));
        Assert.Equal("4096", Value(vm, "memsize"));
        Assert.Equal("FALSE", Value(vm, "isolation.tools.copy.disable"));
        Assert.Equal("1", Value(vm, "RemoteDisplay.maxConnections"));
        Assert.Null(vm.Get("pciPassthru0.present"));
    }

    [Fact]
    public void SettingsKeepTheLineTheyWereReadFrom()
    {
        var (vm, _) = CollectOne("secure-boot-on-bios.ovf");
        var lines = File.ReadAllLines(RepoPaths.Combine("fixtures/collectors/ovf/secure-boot-on-bios.ovf"));

        var line = vm.Get("uefi.secureBoot.enabled")!.Line;

        Assert.Contains("bootOptions.efiSecureBootEnabled", lines[line - 1], StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyTheDefaultDeploymentOptionIsReadAndTheOldestHardwareVersionCounts()
    {
        var (vm, _) = CollectOne("hardened-efi.ovf");

        Assert.Equal("pacs-router", vm.Resource.Name);
        Assert.Equal("8", Value(vm, "numvcpus"));
        Assert.Equal("13", Value(vm, "virtualHW.version"));
        Assert.Equal("efi", Value(vm, "firmware"));
        Assert.Equal("TRUE", Value(vm, "uefi.secureBoot.enabled"));
        Assert.Equal("TRUE", Value(vm, "sata0:0.clientDevice"));
        Assert.Equal("", Value(vm, "sata0:0.fileName"));
        Assert.Equal("allow:hd", Value(vm, "bios.bootDeviceClasses"));
    }

    [Fact]
    public void AnExternalEntityIsNeverResolved()
    {
        var file = Fixtures.Load("fixtures/collectors/ovf/external-entity.ovf");

        var result = new OvfCollector().Collect(file, OvfCollector.FormatId);

        Assert.Empty(result.Facts);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("error", error.Level);
        Assert.Contains("DTD", error.Message, StringComparison.OrdinalIgnoreCase);
        var hostname = File.Exists("/etc/hostname") ? File.ReadAllText("/etc/hostname").Trim() : null;
        if (!string.IsNullOrEmpty(hostname))
        {
            Assert.DoesNotContain(hostname, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ATruncatedDescriptorIsAnErrorWithALine()
    {
        var file = Fixtures.Load("fixtures/collectors/ovf/truncated.ovf");

        var result = new OvfCollector().Collect(file, OvfCollector.FormatId);

        Assert.Empty(result.Facts);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("error", error.Level);
        Assert.NotNull(error.Line);
    }

    [Theory]
    [InlineData("<note>hello</note>")]
    [InlineData("displayName = \"Envelope\"\nconfig.version = \"8\"\n")]
    [InlineData("<Envelope xmlns=\"urn:example:soap\"><Body/></Envelope>")]
    public void OtherFilesAreNotOvf(string text) =>
        Assert.Null(new OvfCollector().Detect(new InputFile("x.ovf", text)));

    [Fact]
    public void RegistryDetectsOvfByContent()
    {
        var file = new InputFile("appliance.xml", "<?xml version=\"1.0\"?>\n<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"><VirtualSystem/></Envelope>");

        var detected = CollectorRegistry.Detect(file);

        Assert.NotNull(detected);
        Assert.Equal("ovf", detected.Value.Format);
    }

    [Fact]
    public void VirtualSystemCollectionGivesOneVmPerSystem()
    {
        const string text = """
            <?xml version="1.0"?>
            <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
              <VirtualSystemCollection ovf:id="vapp">
                <VirtualSystem ovf:id="web"><Name>web</Name></VirtualSystem>
                <VirtualSystem ovf:id="db"><Name>db</Name></VirtualSystem>
              </VirtualSystemCollection>
            </Envelope>
            """;

        var result = new OvfCollector().Collect(new InputFile("vapp.ovf", text), OvfCollector.FormatId);

        Assert.Equal(["web", "db"], result.Facts.OfType<VmConfig>().Select(v => v.Resource.Name));
    }

    [Fact]
    public void Ovf09ContentAndSectionTypesAreRead()
    {
        const string text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ovf:Envelope xmlns:ovf="http://www.vmware.com/schema/ovf/1/envelope" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ovf:version="0.9">
              <Content ovf:id="old-template" xsi:type="ovf:VirtualSystem_Type">
                <Info>A virtual machine</Info>
                <Section xsi:type="ovf:VirtualHardwareSection_Type">
                  <Info>Virtual hardware</Info>
                  <System>
                    <vssd:VirtualSystemType>vmx-04</vssd:VirtualSystemType>
                  </System>
                  <Item>
                    <rasd:InstanceId>5</rasd:InstanceId>
                    <rasd:ResourceType>23</rasd:ResourceType>
                  </Item>
                </Section>
              </Content>
            </ovf:Envelope>
            """;
        var file = new InputFile("old.ovf", text);

        Assert.Equal("ovf", new OvfCollector().Detect(file));
        var vm = Assert.Single(new OvfCollector().Collect(file, OvfCollector.FormatId).Facts.OfType<VmConfig>());

        Assert.Equal("old-template", vm.Resource.Name);
        Assert.Equal("4", Value(vm, "virtualHW.version"));
        Assert.Equal("TRUE", Value(vm, "usb.present"));
    }
}
