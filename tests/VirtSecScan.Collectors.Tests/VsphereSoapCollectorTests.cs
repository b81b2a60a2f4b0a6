using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

public sealed class VsphereSoapCollectorTests
{
    private static readonly VsphereSoapCollector Collector = new();

    private static CollectorResult Collect(InputFile file)
    {
        var format = Collector.Detect(file);
        Assert.NotNull(format);
        return Collector.Collect(file, format);
    }

    private static CollectorResult Fixture() => Collect(Fixtures.Load("fixtures/collectors/vsphere/retrieve-properties.xml"));

    private static ConfigFact Host() => Assert.Single(Fixture().Facts.OfType<ConfigFact>(), f => f.Kind == "esxi-host");

    private static string? Value(IConfigFact fact, string key) => fact.Get(key)?.Value;

    [Fact]
    public void Responses_are_detected_by_content_and_other_xml_is_not()
    {
        Assert.Equal(VsphereSoapCollector.Properties, Collector.Detect(Fixtures.Load("fixtures/collectors/vsphere/retrieve-properties.xml")));
        Assert.Equal(VsphereSoapCollector.ServiceContent, Collector.Detect(Fixtures.Load("fixtures/collectors/vsphere/service-content.xml")));
        Assert.Null(Collector.Detect(new InputFile("d.xml", "<domain type='kvm'><name>x</name></domain>")));
        Assert.Null(Collector.Detect(new InputFile("s.xml", "<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'><soapenv:Body><Other/></soapenv:Body></soapenv:Envelope>")));
        Assert.Equal(VsphereSoapCollector.Properties, CollectorRegistry.Detect(Fixtures.Load("fixtures/collectors/vsphere/retrieve-properties.xml"))!.Value.Format);
    }

    [Fact]
    public void A_host_gets_the_keys_the_esxcli_outputs_give()
    {
        var host = Host();
        Assert.Equal("host:esxi-pacs-01.hospital.test", host.Resource.Id);
        Assert.Equal("esxi-pacs-01.hospital.test", host.Resource.Name);
        Assert.Equal("0", Value(host, "UserVars.ESXiShellTimeOut"));
        Assert.Equal("0", Value(host, "/UserVars/ESXiShellTimeOut"));
        Assert.Equal("true", Value(host, "Config.HostAgent.plugins.solo.enableMob"));
        Assert.Equal("", Value(host, "Syslog.global.logHost"));
        Assert.Equal("true", Value(host, "service[TSM-SSH].running"));
        Assert.Equal("on", Value(host, "service[TSM-SSH].policy"));
        Assert.Equal("off", Value(host, "service[slpd].policy"));
        Assert.Equal("true", Value(host, "ntp.enabled"));
        Assert.Equal("10.20.0.11, 10.20.0.12", Value(host, "ntp.servers"));
        Assert.Equal("lockdownDisabled", Value(host, "lockdown.mode"));
        Assert.Equal("DROP", Value(host, "firewall.defaultAction"));
        Assert.Equal("All", Value(host, "firewall.ruleset[sshServer].allowedIpAddresses"));
        Assert.Equal("true", Value(host, "firewall.ruleset[sshServer].allowedIpConfigurable"));
        Assert.Equal("10.20.0.5, 10.20.1.0/24", Value(host, "firewall.ruleset[webAccess].allowedIpAddresses"));
        Assert.Equal("false", Value(host, "vswitch[vSwitch0].security.allowPromiscuous"));
        Assert.Equal("true", Value(host, "vswitch[vSwitch0].security.allowMacAddressChange"));
        Assert.Equal("true", Value(host, "vswitch[vSwitch0].security.allowForgedTransmits"));
        Assert.Equal("4095", Value(host, "portgroup[PACS].vlanId"));
        Assert.Equal("vSwitch0", Value(host, "portgroup[PACS].virtualSwitch"));
        Assert.Equal("true", Value(host, "portgroup[PACS].security.allowPromiscuous"));
        Assert.Equal("true", Value(host, "portgroup[PACS].security.overrideVswitchAllowPromiscuous"));
        Assert.Equal("false", Value(host, "portgroup[PACS].security.overrideVswitchAllowForgedTransmits"));

        // The derived keys the esxcli outputs feed work on these too.
        var derived = EsxiHostFacts.Derived(host.Settings);
        Assert.Equal("PACS", derived.Single(d => d.Key == "network.portgroups.vlan4095").Value);
        Assert.Equal("sshServer", derived.Single(d => d.Key == "firewall.rulesets.allowAllIp").Value);
        Assert.Equal("PACS", derived.Single(d => d.Key == "network.allowPromiscuous.overridden").Value);

        var lockdown = host.Get("lockdown.mode")!;
        Assert.True(lockdown.Line > 0);
    }

    [Fact]
    public void A_host_build_comes_from_config_product()
    {
        var build = Assert.Single(Fixture().Facts.OfType<HypervisorBuild>());
        Assert.Equal("esxi", build.Product);
        Assert.Equal("8.0.2", build.Version);
        Assert.Equal(22380479, build.Build);
        Assert.Equal("8.0U2", build.UpdateLine);
        Assert.Equal("host:esxi-pacs-01.hospital.test", build.Resource.Id);
        Assert.Equal("soap", build.BuildSource);
    }

    [Fact]
    public void A_vm_gets_the_keys_its_vmx_file_holds()
    {
        var vm = Assert.Single(Fixture().Facts.OfType<VmConfig>());
        var vmx = Assert.Single(new VmxCollector().Collect(Fixtures.Load("fixtures/collectors/vsphere/pacs-viewer-01.vmx"), VmxCollector.FormatId).Facts.OfType<VmConfig>());

        Assert.Equal(vmx.Resource.Id, vm.Resource.Id);
        Assert.Equal(vmx.Resource.Name, vm.Resource.Name);
        Assert.Equal("esxi-pacs-01.hospital.test", vm.Resource.Host);

        // Paths differ in form (datastore path vs file path); uuid spelling differs; the rest is equal.
        string[] notComparable = [".encoding", "config.version", "scsi0.virtualDev", "uuid.bios"];
        foreach (var (key, setting) in vmx.Settings)
        {
            if (notComparable.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (key.EndsWith(".fileName", StringComparison.OrdinalIgnoreCase))
            {
                Assert.True(vm.Get(key) is not null, $"the API view lacks {key}");
                continue;
            }

            Assert.True(vm.Get(key) is not null, $"the API view lacks {key}");
            Assert.True(string.Equals(setting.Value, vm.Get(key)!.Value, StringComparison.OrdinalIgnoreCase), $"{key}: vmx {setting.Value}, API {vm.Get(key)!.Value}");
        }

        Assert.Equal("[pacs-ds1] iso/viewer-setup.iso", Value(vm, "ide1:0.fileName"));
        Assert.Null(vm.Get("ide0:0.present"));
    }

    [Fact]
    public void An_object_the_server_would_not_fully_return_is_an_error_not_a_fact()
    {
        var result = Fixture();
        Assert.DoesNotContain(result.Facts.OfType<VmConfig>(), v => v.Resource.Name == "lis-db-01");
        var error = Assert.Single(result.Diagnostics, d => d.Message.Contains("lis-db-01", StringComparison.Ordinal));
        Assert.Contains("config.extraConfig (NoPermission)", error.Message);
        Assert.DoesNotContain("ftEncryptionMode", error.Message);
        Assert.NotNull(error.Line);
    }

    [Fact]
    public void The_service_content_of_vcenter_is_a_vcenter_build()
    {
        var result = Collect(Fixtures.Load("fixtures/collectors/vsphere/service-content.xml"));
        var build = Assert.Single(result.Facts.OfType<HypervisorBuild>());
        Assert.Equal("vcenter", build.Product);
        Assert.Equal("8.0.2", build.Version);
        Assert.Equal(22617221, build.Build);
        Assert.Equal("soap", build.BuildSource);
    }

    [Fact]
    public void External_entities_are_never_resolved()
    {
        var secret = Path.GetTempFileName();
        File.WriteAllText(secret, "entity-payload-should-not-appear");
        try
        {
            var text = $"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file://{secret}\">]>"
                       + "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><RetrievePropertiesExResponse xmlns=\"urn:vim25\"><returnval><objects>"
                       + "<obj type=\"VirtualMachine\">vm-1</obj><propSet><name>name</name><val>&e;</val></propSet></objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>";
            var result = Collect(new InputFile("xxe.xml", text));
            Assert.Empty(result.Facts);
            Assert.Contains(result.Diagnostics, d => d.Level == "error");
            Assert.DoesNotContain(result.Diagnostics, d => d.Message.Contains("entity-payload", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Fact]
    public void A_soap_fault_is_an_error()
    {
        var text = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"
                   + "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Permission to perform this operation was denied.</faultstring>"
                   + "<detail><RetrievePropertiesExFault xmlns=\"urn:vim25\" xsi:type=\"NoPermission\"/></detail></soapenv:Fault>"
                   + "<!-- RetrievePropertiesExResponse urn:vim25 --></soapenv:Body></soapenv:Envelope>";
        var result = Collect(new InputFile("fault.xml", text));
        Assert.Empty(result.Facts);
        Assert.Contains("NoPermission", Assert.Single(result.Diagnostics).Message);
    }
}
