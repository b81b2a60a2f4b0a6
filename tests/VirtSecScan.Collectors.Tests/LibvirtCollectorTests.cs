using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Libvirt;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

public sealed class LibvirtCollectorTests
{
    private const string Dir = "fixtures/collectors/libvirt/";

    private static readonly LibvirtDomainCollector Domains = new();
    private static readonly QemuConfCollector QemuConf = new();

    private static ConfigFact Domain(string name)
    {
        var file = Fixtures.Load(Dir + name);
        Assert.Equal(LibvirtDomainCollector.FormatId, CollectorRegistry.Detect(file)?.Format);
        var result = Domains.Collect(file, LibvirtDomainCollector.FormatId);
        Assert.DoesNotContain(result.Diagnostics, d => d.Level == "error");
        return Assert.IsType<ConfigFact>(Assert.Single(result.Facts));
    }

    private static string Value(ConfigFact fact, string key) => Assert.IsType<Setting>(fact.Get(key)).Value;

    [Fact]
    public void LiveDumpIsFlattenedWithLines()
    {
        var fact = Domain("live-dump-security-info.xml");

        Assert.Equal("libvirt-domain", fact.Kind);
        Assert.Equal("vm", fact.Resource.Type);
        Assert.Equal("libvirt:9d1c6a52-04b7-4f3e-8a21-5b6c7d8e9f00", fact.Resource.Id);
        Assert.Equal("ris-viewer-02", fact.Resource.Name);
        Assert.Equal("vnc", Value(fact, "graphics[0].type"));
        Assert.Equal(9, fact.Get("graphics[0].type")!.Line);
        Assert.Equal("::", Value(fact, "graphics[0].listen.effective"));
        Assert.Equal(10, fact.Get("graphics[0].listen.effective")!.Line);
        Assert.Equal("10.10.50.21", Value(fact, "graphics[1].listen.effective"));
        Assert.Equal("inputs", Value(fact, "graphics[1].channels.insecure"));
        Assert.Equal("any", Value(fact, "graphics[1].defaultMode"));
        Assert.Equal("150,151", Value(fact, "interface[0].vlan.tag"));
        Assert.Equal("br0", Value(fact, "interface[0].source.bridge"));
        Assert.Equal("tcp", Value(fact, "serial[0].type"));
        Assert.Equal("on", Value(fact, "memory.dumpCore"));
        Assert.Equal("dynamic", Value(fact, "seclabel[0].type"));
        Assert.Equal("dac", Value(fact, "seclabel[0].model"));
        Assert.Equal("no", Value(fact, "os.uefi"));
        Assert.Equal("no", Value(fact, "os.secureBoot"));
        Assert.Null(fact.Get("id")); // the live id changes at every start: not a setting
    }

    [Fact]
    public void PasswordsAreReducedToPresence()
    {
        var fact = Domain("live-dump-security-info.xml");

        Assert.Equal("true", Value(fact, "graphics[0].passwd.present"));
        Assert.Equal("password", Value(fact, "graphics[0].auth.effective"));
        Assert.Equal("false", Value(fact, "graphics[1].passwd.present"));
        Assert.DoesNotContain(fact.Settings.Values, s => s.Value.Contains("not-a-real-secret", StringComparison.Ordinal));
        Assert.Contains("data=(masked)", Value(fact, "qemu:commandline.args"), StringComparison.Ordinal);
        Assert.Equal("SPICE_DEBUG_LEVEL", Value(fact, "qemu:commandline.env[0].name"));
    }

    [Fact]
    public void ExternalEntityIsNotResolved()
    {
        using var dir = new TempDir();
        var marker = "marker-" + Guid.NewGuid().ToString("N");
        var target = dir.Write("leak.txt", marker);
        var xml = $"<?xml version=\"1.0\"?>\n<!DOCTYPE domain [<!ENTITY leak SYSTEM \"{new Uri(target).AbsoluteUri}\">]>\n<domain type='kvm'><name>&leak;</name></domain>\n";
        var file = new InputFile("xxe.xml", xml);

        Assert.Equal(LibvirtDomainCollector.FormatId, Domains.Detect(file));
        var result = Domains.Collect(file, LibvirtDomainCollector.FormatId);

        Assert.Empty(result.Facts);
        var error = Assert.Single(result.Diagnostics, d => d.Level == "error");
        Assert.DoesNotContain(marker, error.Message, StringComparison.Ordinal);
        Assert.Contains("DTD", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DoctypeFixtureIsAnErrorWithoutFact()
    {
        var file = Fixtures.Load(Dir + "doctype-external-entity.xml");
        var result = Domains.Collect(file, Domains.Detect(file)!);

        Assert.Empty(result.Facts);
        Assert.Contains(result.Diagnostics, d => d.Level == "error" && d.File == file.DisplayPath);
    }

    [Fact]
    public void NotWellFormedXmlIsADiagnosticWithALine()
    {
        var file = Fixtures.Load(Dir + "not-well-formed.xml");
        var result = Domains.Collect(file, Domains.Detect(file)!);

        Assert.Empty(result.Facts);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("error", error.Level);
        Assert.NotNull(error.Line);
    }

    [Fact]
    public void VirtInstallOutputWithTwoDefinitionsReadsTheLast()
    {
        var xml = "<domain type='kvm'>\n  <name>inst</name>\n  <on_reboot>destroy</on_reboot>\n</domain>\n<domain type='kvm'>\n  <name>inst</name>\n  <on_reboot>restart</on_reboot>\n</domain>\n";
        var file = new InputFile("virt-install.xml", xml);

        var result = Domains.Collect(file, Domains.Detect(file)!);

        var fact = Assert.IsType<ConfigFact>(Assert.Single(result.Facts));
        Assert.Equal("restart", Value(fact, "on_reboot"));
        Assert.Equal(7, fact.Get("on_reboot")!.Line);
        Assert.Contains(result.Diagnostics, d => d.Level == "info" && d.Message.Contains("2 domain definitions", StringComparison.Ordinal));
    }

    [Fact]
    public void OtherXmlIsNotADomain()
    {
        Assert.Null(Domains.Detect(new InputFile("net.xml", "<network><name>default</name></network>\n")));
        Assert.Null(Domains.Detect(new InputFile("a.vmx", ".encoding = \"UTF-8\"\ndisplayName = \"x\"\n")));
        Assert.Null(QemuConf.Detect(new InputFile("d.xml", "<domain type='kvm'><name>x</name></domain>\n")));
    }

    [Fact]
    public void QemuConfAwkwardPartsAreRead()
    {
        var file = Fixtures.Load(Dir + "qemu.conf");
        Assert.Equal(QemuConfCollector.FormatId, CollectorRegistry.Detect(file)?.Format);
        var result = QemuConf.Collect(file, QemuConfCollector.FormatId);
        var fact = Assert.IsType<ConfigFact>(Assert.Single(result.Facts));

        Assert.DoesNotContain(result.Diagnostics, d => d.Level != "info");
        Assert.Equal("libvirt-host", fact.Kind);
        Assert.Equal("host", fact.Resource.Type);
        Assert.Equal("libvirt", fact.Resource.Name); // the folder holding the file
        Assert.Equal("::", Value(fact, "vnc_listen"));
        Assert.Equal(2, fact.Get("vnc_listen")!.Line);
        Assert.Equal("10.0.0.1 # not a comment inside quotes", Value(fact, "spice_listen"));
        Assert.Equal("selinux,dac", Value(fact, "security_driver"));
        Assert.Equal("/dev/null,/dev/full,/dev/kvm", Value(fact, "cgroup_device_acl"));
        Assert.Equal(6, fact.Get("cgroup_device_acl")!.Line);
        Assert.Equal("+0", Value(fact, "user"));
        Assert.Null(fact.Get("group"));
        Assert.Equal("0", Value(fact, "dynamic_ownership"));
        Assert.Equal("true", Value(fact, "vnc_password.present"));
        Assert.DoesNotContain(fact.Settings.Values, s => s.Value.Contains("not-a-real-secret", StringComparison.Ordinal));
    }

    [Fact]
    public void StockQemuConfOfCommentsIsDetected()
    {
        var file = new InputFile("etc/libvirt/qemu.conf", "# Master configuration file for the QEMU driver.\n#vnc_listen = \"0.0.0.0\"\n#vnc_tls = 1\n#security_driver = \"selinux\"\n");
        Assert.Equal(QemuConfCollector.FormatId, QemuConf.Detect(file));
        var fact = Assert.IsType<ConfigFact>(Assert.Single(QemuConf.Collect(file, QemuConfCollector.FormatId).Facts));
        Assert.Empty(fact.Settings);
    }

    [Theory]
    [InlineData("hosts/kvm-01/qemu.conf", "hosts/kvm-01", "kvm-01")]
    [InlineData("hosts/kvm-02/etc/libvirt/qemu.conf", "hosts/kvm-02", "kvm-02")]
    [InlineData("qemu.conf", "", "libvirt-host")]
    public void HostRootAndName(string path, string root, string name)
    {
        Assert.Equal(root, QemuConfCollector.HostRoot(path));
        Assert.Equal(name, QemuConfCollector.HostName(path));
    }

    [Fact]
    public void NearestQemuConfAppliesToTheDomain()
    {
        var facts = new List<object>();
        foreach (var (path, text) in new[]
        {
            ("site/qemu.conf", "vnc_listen = \"0.0.0.0\"\nvnc_tls = 1\n"),
            ("site/kvm-01/qemu.conf", "vnc_listen = \"0.0.0.0\"\n#vnc_tls = 1\n"),
            ("site/kvm-01/domains/a.xml", "<domain type='kvm'><name>a</name><devices><graphics type='vnc'/></devices></domain>\n"),
            ("site/kvm-02/domains/b.xml", "<domain type='kvm'><name>b</name><devices><graphics type='vnc'/></devices></domain>\n"),
            ("elsewhere/c.xml", "<domain type='kvm'><name>c</name><devices><graphics type='vnc'/></devices></domain>\n"),
        })
        {
            var file = new InputFile(path, text);
            var (collector, format) = CollectorRegistry.Detect(file)!.Value;
            facts.AddRange(collector.Collect(file, format).Facts);
        }

        var linked = FactLinks.Link(facts).OfType<ConfigFact>().Where(f => f.Kind == "libvirt-domain").ToDictionary(f => f.Resource.Name);

        Assert.Equal("0", Value(linked["a"], "graphics[0].tls.effective"));
        Assert.Equal("0.0.0.0", Value(linked["a"], "graphics[0].listen.effective"));
        Assert.Equal("kvm-01", linked["a"].Resource.Host);
        Assert.Equal("1", Value(linked["b"], "graphics[0].tls.effective"));
        Assert.Null(linked["c"].Get("graphics[0].tls.effective"));
        Assert.Null(linked["c"].Get("graphics[0].listen.effective"));
    }
}
