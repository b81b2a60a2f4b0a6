using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

public sealed class EsxiVersionCollectorTests
{
    private const string EsxiDir = "fixtures/collectors/esxi-version/";
    private const string DemoHosts = "fixtures/demo-hospital/hosts/";

    private static readonly EsxiVersionCollector Collector = new();

    /// <summary>Detects the layout (which must succeed) and collects the one fact.</summary>
    private static HypervisorBuild CollectDetected(InputFile file)
    {
        var format = Collector.Detect(file);
        Assert.NotNull(format);
        var result = Collector.Collect(file, format);
        Assert.Equal(format, result.Format);
        Assert.Empty(result.Diagnostics);
        return Assert.IsType<HypervisorBuild>(Assert.Single(result.Facts));
    }

    private static HypervisorBuild CollectFixture(string path) => CollectDetected(Fixtures.Load(path));

    public static TheoryData<string, string> Layouts() => new()
    {
        { EsxiDir + "vmware-v-8.0.2.txt", EsxiVersionCollector.VmwareV },
        { EsxiDir + "vmware-vl-7.0.3.txt", EsxiVersionCollector.VmwareVl },
        { EsxiDir + "vmware-vl-6.7.txt", EsxiVersionCollector.VmwareVl },
        { EsxiDir + "esxcli-system-version-get-7.0.3.txt", EsxiVersionCollector.EsxcliSystemVersion },
        { EsxiDir + "esxcli-system-version-get-6.7.txt", EsxiVersionCollector.EsxcliSystemVersion },
        { EsxiDir + "esxcli-system-version-get-old.txt", EsxiVersionCollector.EsxcliSystemVersion },
        { DemoHosts + "esxi-01/vmware-vl.txt", EsxiVersionCollector.VmwareVl },
        { DemoHosts + "esxi-02/esxcli-system-version-get.txt", EsxiVersionCollector.EsxcliSystemVersion },
        { DemoHosts + "esxi-03/vmware-v.txt", EsxiVersionCollector.VmwareV },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Detect_RealLayout_GivesItsFormatId(string path, string expectedFormat)
    {
        Assert.Equal(expectedFormat, Collector.Detect(Fixtures.Load(path)));
    }

    public static TheoryData<string, string, long, string, string> Versions() => new()
    {
        { EsxiDir + "vmware-v-8.0.2.txt", "8.0.2", 23305546, "8.0", "8.0U2" },
        { EsxiDir + "vmware-vl-7.0.3.txt", "7.0.3", 21930508, "7.0", "7.0U3" },
        { EsxiDir + "vmware-vl-6.7.txt", "6.7.0", 17167734, "6.7", "6.7U3" },
        { EsxiDir + "esxcli-system-version-get-7.0.3.txt", "7.0.3", 21930508, "7.0", "7.0U3" },
        { EsxiDir + "esxcli-system-version-get-6.7.txt", "6.7.0", 14320388, "6.7", "6.7U3" },
        { EsxiDir + "esxcli-system-version-get-old.txt", "5.5.0", 3248547, "5.5", "5.5U3" },
        { DemoHosts + "esxi-01/vmware-vl.txt", "8.0.3", 24784735, "8.0", "8.0U3" },
        { DemoHosts + "esxi-02/esxcli-system-version-get.txt", "8.0.2", 23305546, "8.0", "8.0U2" },

        // `vmware -v` on 6.x carries no update number: only the branch can be told from it.
        { DemoHosts + "esxi-03/vmware-v.txt", "6.7.0", 17167734, "6.7", "6.7" },
    };

    [Theory]
    [MemberData(nameof(Versions))]
    public void Collect_RealLayout_ReadsVersionBuildAndUpdateLine(string path, string version, long build, string branch, string line)
    {
        var fact = CollectFixture(path);

        Assert.Equal("esxi", fact.Product);
        Assert.Equal((version, build, branch, line), (fact.Version, fact.Build, fact.Branch, fact.UpdateLine));
    }

    [Fact]
    public void Collect_VmwareV_ThirdVersionFieldIsTheUpdate()
    {
        var fact = CollectFixture(EsxiDir + "vmware-v-8.0.2.txt");

        Assert.Equal("8.0U2", fact.UpdateLine);
        Assert.Null(fact.UpdateName);
        Assert.Null(fact.Patch);
    }

    [Fact]
    public void Collect_VmwareVl_KeepsTheUpdateName()
    {
        var fact = CollectFixture(EsxiDir + "vmware-vl-7.0.3.txt");

        Assert.Equal("VMware ESXi 7.0 Update 3", fact.UpdateName);
    }

    [Fact]
    public void Collect_VmwareVl67_TakesTheUpdateFromTheSecondLine()
    {
        var fact = CollectFixture(EsxiDir + "vmware-vl-6.7.txt");

        Assert.Equal("6.7U3", fact.UpdateLine);
        Assert.Equal("VMware ESXi 6.7.0 Update 3", fact.UpdateName);
    }

    [Fact]
    public void Collect_Esxcli_StripsReleasebuildPrefixAndKeepsPatch()
    {
        var fact = CollectFixture(EsxiDir + "esxcli-system-version-get-7.0.3.txt");

        Assert.Equal(21930508, fact.Build);
        Assert.Equal("95", fact.Patch);
    }

    [Fact]
    public void Collect_Esxcli67_TakesTheLineFromTheUpdateField()
    {
        var fact = CollectFixture(EsxiDir + "esxcli-system-version-get-6.7.txt");

        Assert.Equal("6.7U3", fact.UpdateLine);
        Assert.Equal("73", fact.Patch);
    }

    [Fact]
    public void Collect_OldEsxcliWithoutPatchLine_HasNullPatch()
    {
        var fact = CollectFixture(EsxiDir + "esxcli-system-version-get-old.txt");

        Assert.Equal(("5.5.0", 3248547L, "5.5U3"), (fact.Version, fact.Build, fact.UpdateLine));
        Assert.Null(fact.Patch);
    }

    [Fact]
    public void Collect_FileNamedAfterCommand_TakesHostNameFromFolder()
    {
        var fact = CollectFixture(DemoHosts + "esxi-01/vmware-vl.txt");

        Assert.Equal("esxi-01", fact.Resource.Name);
        Assert.Equal("host:esxi-01", fact.Resource.Id);
        Assert.Equal("host", fact.Resource.Type);
        Assert.Equal(DemoHosts + "esxi-01/vmware-vl.txt", fact.Resource.Source);
    }

    [Theory]
    [InlineData(DemoHosts + "esxi-02/esxcli-system-version-get.txt", "esxi-02")]
    [InlineData(DemoHosts + "esxi-03/vmware-v.txt", "esxi-03")]
    public void HostName_CommandNamedFile_IsItsFolder(string path, string host)
    {
        Assert.Equal(host, EsxiVersionCollector.HostName(Fixtures.Load(path)));
    }

    [Fact]
    public void Collect_FileNamedAfterHost_TakesHostNameFromFileStem()
    {
        var text = File.ReadAllText(RepoPaths.Combine(DemoHosts + "esxi-01/vmware-vl.txt"));
        var file = new InputFile("captures/ESXi-07.txt", text);

        var fact = CollectDetected(file);

        Assert.Equal("ESXi-07", fact.Resource.Name);
        Assert.Equal("host:esxi-07", fact.Resource.Id);
    }

    [Fact]
    public void Collect_VmwareV_ResourceLineIsTheVersionLine()
    {
        var fact = CollectFixture(EsxiDir + "vmware-v-8.0.2.txt");

        Assert.Equal(1, fact.Resource.Line);
    }

    [Fact]
    public void Collect_Esxcli_ResourceLineIsTheBuildLine()
    {
        var fact = CollectFixture(EsxiDir + "esxcli-system-version-get-7.0.3.txt");

        Assert.Equal(3, fact.Resource.Line);
    }

    [Fact]
    public void Detect_GarbageOutput_IsNotRecognised()
    {
        var file = Fixtures.Load(EsxiDir + "garbage.txt");

        Assert.Null(Collector.Detect(file));
        Assert.Null(CollectorRegistry.Detect(file));
    }

    [Fact]
    public void Detect_VmxFile_IsNotAnEsxiVersion()
    {
        Assert.Null(Collector.Detect(Fixtures.Load("fixtures/demo-hospital/vms/his-db-01.vmx")));
    }
}
