using VirtSecScan.Collectors.HyperV;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

public sealed class HyperVCollectorTests
{
    private const string Dir = "fixtures/collectors/hyperv/";

    private static (List<object> Facts, List<Diagnostic> Diagnostics) CollectAll(params string[] names)
    {
        var facts = new List<object>();
        var diagnostics = new List<Diagnostic>();
        foreach (var name in names)
        {
            var file = Fixtures.Load(Dir + name);
            Assert.Equal(HyperVCollector.FormatId, CollectorRegistry.Detect(file)?.Format);
            var result = new HyperVCollector().Collect(file, HyperVCollector.FormatId);
            facts.AddRange(result.Facts);
            diagnostics.AddRange(result.Diagnostics);
        }

        return (FactLinks.Link(facts, diagnostics), diagnostics);
    }

    private static ConfigFact Vm(List<object> facts, string name) =>
        facts.OfType<ConfigFact>().Single(f => f.Kind == "hyperv-vm" && f.Resource.Name == name);

    private static string Value(ConfigFact fact, string key) => Assert.IsType<Setting>(fact.Get(key)).Value;

    [Fact]
    public void Utf16GetVmWithEnumsAsNumbers()
    {
        var (facts, diagnostics) = CollectAll("get-vm.json");
        var emr = Vm(facts, "emr-db-11");
        var legacy = Vm(facts, "legacy-lab-12");

        Assert.Equal("hyperv:4f6c2a1e-8b3d-4e5f-9a0b-1c2d3e4f5a6b", emr.Resource.Id);
        Assert.Equal("HV-11", emr.Resource.Host);
        Assert.Equal("2", Value(emr, "Generation"));
        Assert.Equal(8, emr.Get("Generation")!.Line);
        Assert.Equal("Running", Value(emr, "State"));
        Assert.Equal("Standard", Value(emr, "CheckpointType"));
        Assert.Equal("2024-01-01T00:00:00Z", Value(emr, "CreationTime"));
        Assert.Equal("true", Value(emr, "Notes.present"));
        Assert.DoesNotContain(emr.Settings.Values, s => s.Value.Contains("DBA team", StringComparison.Ordinal));
        Assert.Equal("1", Value(legacy, "Generation"));
        Assert.Equal("Off", Value(legacy, "State"));
        Assert.Equal("Production", Value(legacy, "CheckpointType"));
        Assert.Equal("", Value(legacy, "ParentSnapshotId"));
        Assert.Contains(diagnostics, d => d.Level == "warning" && d.Message.Contains("depth", StringComparison.Ordinal));
    }

    [Fact]
    public void CmdletFilesAreJoinedByVmId()
    {
        var (facts, diagnostics) = CollectAll("get-vm.json", "get-vmfirmware.json", "get-vmnetworkadapter.json");
        var emr = Vm(facts, "emr-db-11");

        Assert.DoesNotContain(facts.OfType<ConfigFact>(), f => f.Kind == HyperVCollector.PartKind);
        Assert.Equal("Off", Value(emr, "Firmware.SecureBoot"));
        Assert.Equal("MicrosoftUEFICertificateAuthority", Value(emr, "Firmware.SecureBootTemplate"));
        Assert.Equal("On", Value(emr, "NetworkAdapter[0].MacAddressSpoofing"));
        Assert.Equal("Off", Value(emr, "NetworkAdapter[0].DhcpGuard"));
        Assert.Equal("On", Value(emr, "NetworkAdapter[0].RouterGuard"));
        Assert.Equal("Source", Value(emr, "NetworkAdapter[0].PortMirroringMode"));
        Assert.Equal("Trunk", Value(emr, "NetworkAdapter[0].VlanSetting.OperationMode"));
        Assert.Equal("Backup Adapter", Value(emr, "NetworkAdapter[1].Name"));
        Assert.Null(emr.Get("NetworkAdapter[1].VlanSetting.OperationMode"));
        Assert.Null(Vm(facts, "legacy-lab-12").Get("Firmware.SecureBoot"));
        Assert.DoesNotContain(diagnostics, d => d.Message.Contains("matches no VM", StringComparison.Ordinal));
    }

    [Fact]
    public void CombinedExportIsJoinedInTheFile()
    {
        var (facts, _) = CollectAll("combined-export.json");
        var ris = Assert.Single(facts.OfType<ConfigFact>());

        Assert.Equal("ris-app-13", ris.Resource.Name);
        Assert.Equal("On", Value(ris, "Firmware.SecureBoot"));
        Assert.Equal("True", Value(ris, "Security.TpmEnabled"));
        Assert.Equal("Access", Value(ris, "NetworkAdapter[0].VlanSetting.OperationMode"));
        Assert.Equal("150", Value(ris, "NetworkAdapter[0].VlanSetting.AccessVlanId"));
        Assert.Equal("False", Value(ris, "IntegrationService.Guest Service Interface.Enabled"));
        Assert.Equal("", Value(ris, "DvdDrive[0].Path"));
    }

    [Fact]
    public void PartWithoutVmIsReported()
    {
        var (facts, diagnostics) = CollectAll("get-vmfirmware.json");

        Assert.Empty(facts);
        Assert.Contains(diagnostics, d => d.Level == "warning" && d.Message.Contains("matches no VM", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{\"name\": \"x\"}")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"VMName\": \"x\"")]
    [InlineData("not json")]
    public void OtherInputIsNotHyperV(string text)
    {
        Assert.Null(new HyperVCollector().Detect(new InputFile("x.json", text)));
    }

    [Fact]
    public void MalformedJsonIsAnErrorWithALine()
    {
        var result = new HyperVCollector().Collect(new InputFile("bad.json", "[\n {\"VMName\": \"a\", \"Generation\": 2, \"State\": 2},\n {\"VMName\": \n"), HyperVCollector.FormatId);
        Assert.Empty(result.Facts);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("error", error.Level);
        Assert.NotNull(error.Line);
    }
}
