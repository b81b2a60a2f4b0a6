using VirtSecScan.Collectors.Input;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

/// <summary>
/// Version collectors of every supported product, fed real-layout samples (fixtures/collectors/versions/) through
/// the registry, so detection is by content and no two collectors claim the same file.
/// </summary>
public sealed class VersionCollectorsTests
{
    private const string Dir = "fixtures/collectors/versions/";

    private static (string Format, List<HypervisorBuild> Facts, CollectorResult Result) Collect(InputFile file)
    {
        var detected = CollectorRegistry.Detect(file);
        Assert.NotNull(detected);
        var (collector, format) = detected.Value;
        var result = collector.Collect(file, format);
        return (format, result.Facts.Cast<HypervisorBuild>().ToList(), result);
    }

    private static (string Format, List<HypervisorBuild> Facts, CollectorResult Result) Fixture(string name) => Collect(Fixtures.Load(Dir + name));

    private static InputFile Text(string path, string text) => new(path, text);

    [Fact]
    public void EsxcliSoftwareProfile_BuildFromEsxBaseVib()
    {
        var (format, facts, result) = Fixture("esxcli-software-profile-get-7.0.3.txt");
        Assert.Equal("esxcli-software-profile", format);
        var host = Assert.Single(facts);
        Assert.Equal(("esxi", "7.0.3", 21930508L, "7.0U3"), (host.Product, host.Version, host.Build, host.UpdateLine));
        Assert.Empty(result.Diagnostics);
        Assert.Equal(16, host.Resource.Line);
    }

    [Fact]
    public void EsxcliSoftwareProfile_OemImageNameIsIgnored()
    {
        var (_, facts, _) = Fixture("esxcli-software-profile-get-oem.txt");
        var host = Assert.Single(facts);
        Assert.Equal((24022510L, "8.0U3"), (host.Build, host.UpdateLine));
        Assert.Equal("HPE-Custom-AddOn_803.0.0.11.7.0-23", host.UpdateName);
    }

    [Fact]
    public void EsxcliSoftwareProfile_WithoutBuild_IsUnplacedWithADiagnostic()
    {
        var (_, facts, result) = Fixture("esxcli-software-profile-get-nobuild.txt");
        var host = Assert.Single(facts);
        Assert.NotNull(host.Unplaced);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(2, d.Line);
        Assert.Contains("indeterminate", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EsxcliSoftwareProfile_NameOnly_FallsBackToTheProfileName()
    {
        var text = "ESXi-7.0U3p-23307199-standard\n   Name: ESXi-7.0U3p-23307199-standard\n   Vendor: VMware, Inc.\n   Creation Time: 2024-03-05T00:00:00\n   Stateless Ready: True\n   VIBs: \n";
        var (_, facts, result) = Collect(Text("esxi-40/esxcli-software-profile.txt", text));
        var host = Assert.Single(facts);
        Assert.Equal(("esxi-40", 23307199L, "7.0U3"), (host.Resource.Name, host.Build, host.UpdateLine));
        Assert.Contains(result.Diagnostics, d => d.Level == "info");
    }

    [Theory]
    [InlineData("vcenter-api-appliance-system-version.json", "8.0.3.00000", 24022515L, "8.0U3")]
    [InlineData("vcenter-rest-appliance-system-version.json", "7.0.3.01400", 21477706L, "7.0U3")]
    public void VcenterApplianceVersion_BothApiForms(string file, string version, long build, string line)
    {
        var (format, facts, result) = Fixture(file);
        Assert.Equal("vcenter-appliance-version", format);
        var host = Assert.Single(facts);
        Assert.Equal(("vcenter", version, build, line, "appliance-api"), (host.Product, host.Version, host.Build, host.UpdateLine, host.BuildSource));
        Assert.StartsWith("vcenter:", host.Resource.Id, StringComparison.Ordinal);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void VcenterApplianceVersion_NonNumericBuild_IsUnplaced()
    {
        var (_, facts, result) = Collect(Text("vc.json", "{\"value\":{\"build\":\"n/a\",\"product\":\"VMware vCenter Server\",\"version\":\"8.0.3.00000\"}}"));
        Assert.NotNull(Assert.Single(facts).Unplaced);
        Assert.Single(result.Diagnostics);
    }

    [Fact]
    public void VamiSummaryPage_ReadsVersionAndBuildNotTheScriptData()
    {
        var (format, facts, _) = Fixture("vcenter-vami-summary.html");
        Assert.Equal("vmware-html-version", format);
        var host = Assert.Single(facts);
        Assert.Equal(("vcenter", "vcenter-01", "8.0.2.00300", 23929136L, "8.0U2"), (host.Product, host.Resource.Name, host.Version, host.Build, host.UpdateLine));
    }

    [Fact]
    public void EsxiHostClientPage_ReadsTheAboutText()
    {
        var (_, facts, _) = Fixture("esxi-host-client-about.html");
        var host = Assert.Single(facts);
        Assert.Equal(("esxi", "esxi-31", "7.0.3", 21313628L, "7.0U3"), (host.Product, host.Resource.Name, host.Version, host.Build, host.UpdateLine));
    }

    [Fact]
    public void HtmlPageWithoutAVersion_IsNotClaimed()
    {
        Assert.Null(CollectorRegistry.Detect(Text("x.html", "<html><head><title>ESXi notes</title></head><body>We run ESXi.</body></html>")));
    }

    [Fact]
    public void PowerCliCsv_ManyHostsTypeLineAndBom()
    {
        var (format, facts, result) = Fixture("powercli-get-vmhost.csv");
        Assert.Equal("powercli-vmhost-csv", format);
        Assert.Equal(["esxi-11.demo.local", "esxi-12.demo.local", "esxi-13.demo.local", "esxi-14.demo.local"], facts.Select(f => f.Resource.Name));
        Assert.Equal((24022510L, "8.0U3", 3), (facts[0].Build, facts[0].UpdateLine, facts[0].Resource.Line));
        Assert.Equal((23305546L, "8.0U2"), (facts[1].Build, facts[1].UpdateLine));
        Assert.NotNull(facts[3].Unplaced);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(6, d.Line);
    }

    [Fact]
    public void PowerCliCsv_SemicolonSeparatorAndQuotedCommas()
    {
        var text = "\"Name\";\"Version\";\"Build\";\"Notes\"\n\"esxi-50\";\"8.0.1\";\"21495797\";\"rack 3; row \"\"B\"\", spare\"\n";
        var (_, facts, _) = Collect(Text("hosts.csv", text));
        var host = Assert.Single(facts);
        Assert.Equal(("esxi-50", 21495797L, "8.0U1"), (host.Resource.Name, host.Build, host.UpdateLine));
    }

    [Fact]
    public void RvToolsVHostCsv_EsxVersionCell()
    {
        var (format, facts, result) = Fixture("rvtools-vhost.csv");
        Assert.Equal("rvtools-vhost-csv", format);
        Assert.Equal(3, facts.Count);
        Assert.Equal(("esxi-21.demo.local", 22380479L, "8.0U2"), (facts[0].Resource.Name, facts[0].Build, facts[0].UpdateLine));

        // 6.7.0 does not name its update: the line is a guess until the build map places it.
        Assert.Equal((17700523L, "6.7", false), (facts[1].Build, facts[1].Branch, facts[1].LineCertain));
        Assert.NotNull(facts[2].Unplaced);
        Assert.Equal(4, Assert.Single(result.Diagnostics).Line);
    }

    [Fact]
    public void PveVersionVerbose_KeepsPackages()
    {
        var (format, facts, result) = Fixture("pveversion-v.txt");
        Assert.Equal("pveversion-v", format);
        var host = Assert.Single(facts);
        Assert.Equal(("proxmox-ve", "8.0.2", "8", "versions"), (host.Product, host.Version, host.UpdateLine, host.Resource.Name));
        Assert.Equal("8.0.2-3", host.Packages["pve-qemu-kvm"]);
        Assert.Equal("6.2.16-3-pve", host.Packages["running-kernel"]);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void PveVersionShort_OneLine()
    {
        var (format, facts, _) = Fixture("pveversion-short.txt");
        Assert.Equal("pveversion", format);
        var host = Assert.Single(facts);
        Assert.Equal(("7.4-3", "7"), (host.Version, host.UpdateLine));
        Assert.Equal("5.15.102-1-pve", host.Packages["running-kernel"]);
    }

    [Fact]
    public void VirshVersion_LibvirtAndQemu()
    {
        var (format, facts, _) = Fixture("virsh-version.txt");
        Assert.Equal("virsh-version", format);
        Assert.Equal([("libvirt", "10.0.0", "10.0"), ("qemu", "8.2.2", "8.2")], facts.Select(f => (f.Product, f.Version, f.UpdateLine)));
        Assert.Equal(2, facts.Select(f => f.Resource.Id).Distinct().Count());
    }

    [Fact]
    public void VirshVersionDaemon_DaemonVersionWins()
    {
        var (_, facts, _) = Fixture("virsh-version-daemon.txt");
        Assert.Equal(("libvirt", "9.0.0", 5), (facts[0].Product, facts[0].Version, facts[0].Resource.Line));
        Assert.Equal(("qemu", "7.2.11"), (facts[1].Product, facts[1].Version));
    }

    [Fact]
    public void DpkgList_DistributionVersionsKept()
    {
        var (format, facts, _) = Fixture("dpkg-l.txt");
        Assert.Equal("dpkg-l", format);
        Assert.Equal(["libvirt", "qemu"], facts.Select(f => f.Product));
        var qemu = facts[1];
        Assert.Equal(("8.2.2", "8.2", "1:8.2.2+ds-0ubuntu1.4"), (qemu.Version, qemu.UpdateLine, qemu.Packages["qemu-system-x86"]));
        Assert.False(qemu.Packages.ContainsKey("qemu-system-arm")); // removed, config files only
        Assert.Equal("10.0.0-2ubuntu8.3", facts[0].Packages["libvirt0"]);
    }

    [Fact]
    public void RpmQ_NameVersionRelease()
    {
        var (format, facts, _) = Fixture("rpm-q.txt");
        Assert.Equal("rpm-qa", format);
        Assert.Equal([("libvirt", "10.0.0"), ("qemu", "8.2.0")], facts.Select(f => (f.Product, f.Version)));
        Assert.Equal("8.2.0-11.el9_4.6", facts[1].Packages["qemu-kvm"]);
    }

    [Fact]
    public void GetComputerInfo_UbrFromHalVersion()
    {
        var (format, facts, _) = Fixture("get-computerinfo-ws2022.json");
        Assert.Equal("windows-computerinfo-json", format);
        var host = Assert.Single(facts);
        Assert.Equal(("hyper-v", "HV-01", "10.0.20348.2527", 2527L, "20348", "hal-version"),
            (host.Product, host.Resource.Name, host.Version, host.Build, host.UpdateLine, host.BuildSource));
        Assert.Equal("Windows Server 2022", host.UpdateName);
    }

    [Fact]
    public void RegistryCurrentVersion_UbrFromRegistry()
    {
        var (_, facts, _) = Fixture("registry-currentversion-ws2019.json");
        var host = Assert.Single(facts);
        Assert.Equal(("HV-02", "10.0.17763.6054", 6054L, "17763", "registry-ubr"), (host.Resource.Name, host.Version, host.Build, host.UpdateLine, host.BuildSource));
    }

    [Fact]
    public void GetComputerInfo_NoUbr_IsUnplaced()
    {
        var text = "{\n  \"CsName\": \"HV-09\",\n  \"OsBuildNumber\": \"20348\",\n  \"WindowsBuildLabEx\": \"20348.1.amd64fre.fe_release.210507-1500\"\n}\n";
        var (_, facts, result) = Collect(Text("hv.json", text));
        Assert.NotNull(Assert.Single(facts).Unplaced);
        Assert.Equal(3, Assert.Single(result.Diagnostics).Line);
    }

    [Fact]
    public void XeHostParamList_SoftwareVersionMap()
    {
        var (format, facts, _) = Fixture("xe-host-param-list.txt");
        Assert.Equal("xe-host-param-list", format);
        var host = Assert.Single(facts);
        Assert.Equal(("xen", "xcp-ng-01", "4.13.4-9.21.1", "4.13", 11), (host.Product, host.Resource.Name, host.Version, host.UpdateLine, host.Resource.Line));
        Assert.Equal("8.2.1", host.Packages["product_version"]);
        Assert.Equal("XCP-ng 8.2.1", host.UpdateName);
    }

    [Fact]
    public void XeMap_ProductVersionTextWithSpacesIsKeptWhole()
    {
        var map = Xen.XeHostParamCollector.ParseMap("product_version: 7.1.1; product_version_text_short: 7.1 CU1; xen: 4.7.6-6.10");
        Assert.Equal("7.1 CU1", map["product_version_text_short"]);
        Assert.Equal("4.7.6-6.10", map["xen"]);
    }

    [Theory]
    [InlineData("garbage.txt", "bash: vmware: command not found\nConnection to esxi closed.\n")]
    [InlineData("notes.csv", "\"Name\",\"Owner\"\n\"pacs\",\"radiology\"\n")]
    [InlineData("other.json", "{\"version\":\"1.2.3\",\"build\":\"77\",\"product\":\"Something else\"}")]
    public void OtherFiles_AreNotClaimed(string path, string text)
    {
        var detected = CollectorRegistry.Detect(Text(path, text));
        Assert.True(detected is null || detected.Value.Format is "vmx", $"claimed as {detected?.Format}");
    }
}
