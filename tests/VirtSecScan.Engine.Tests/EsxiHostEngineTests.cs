using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Engine.Tests;

/// <summary>Host capacity correlation, host-wide VM options from /etc/vmware/config, and the esxi-host scan path.</summary>
public sealed class EsxiHostEngineTests
{
    private static readonly DateOnly ScanDate = new(2026, 11, 27);

    private static readonly Lazy<RuleEngine> Engine = new(() => new RuleEngine([], "stig-8"));

    private static ConfigFact Host(string name, params (string Key, string Value)[] settings) =>
        ConfigFact.Of(new ResourceRef("host", "host:" + name, name, Source: $"hosts/{name}/"), "esxi-host",
            settings.Select((s, i) => new Setting(s.Key, s.Value, i + 1, $"hosts/{name}/esxcli-hardware.txt")));

    private static VmConfig Vm(string name, string? host, int cpus, int memMiB, string extra = "") =>
        TestVms.Parse($"displayName = \"{name}\"\nnumvcpus = \"{cpus}\"\nmemSize = \"{memMiB}\"\n{extra}", $"vms/{name}.vmx") is var vm
            ? vm with { Resource = vm.Resource with { Host = host } }
            : throw new InvalidOperationException();

    private static List<Finding> Capacity(params object[] facts) =>
        Engine.Value.Evaluate(facts, AdvisoryFeed.Empty, ScanDate)
            .Where(f => f.RuleId is HostCapacity.CpuRule or HostCapacity.MemoryRule).ToList();

    [Fact]
    public void VcpusAboveThreePerCoreFailMediumAboveFiveHigh()
    {
        var host = Host("esxi-02", ("hardware.cpu.cpuCores", "8"), ("hardware.memory.physicalMemoryBytes", (256L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var medium = Capacity(host, Vm("pacs-01", "esxi-02", 16, 65536), Vm("his-app-01", "ESXI-02", 16, 32768));
        var high = Capacity(host, Vm("pacs-01", "esxi-02", 32, 65536), Vm("his-app-01", "esxi-02", 16, 32768));
        var pass = Capacity(host, Vm("pacs-01", "esxi-02", 16, 65536), Vm("other", "esxi-09", 64, 32768));

        var cpu = Assert.Single(medium, f => f.RuleId == HostCapacity.CpuRule);
        Assert.Equal(FindingStatus.Fail, cpu.Status);
        Assert.Equal(Severity.Medium, cpu.Severity);
        Assert.Equal("VT09", cpu.Category);
        Assert.Contains("32 vCPUs on 8 cores", cpu.Evidence[0].Actual, StringComparison.Ordinal);
        Assert.Equal("hosts/esxi-02/esxcli-hardware.txt", cpu.Evidence[0].Source);
        Assert.Equal(Severity.High, Assert.Single(high, f => f.RuleId == HostCapacity.CpuRule).Severity);
        Assert.Equal(FindingStatus.Pass, Assert.Single(pass, f => f.RuleId == HostCapacity.CpuRule).Status);
    }

    [Fact]
    public void VmMemoryAbovePhysicalMemoryFails()
    {
        var host = Host("esxi-03", ("hardware.cpu.cpuCores", "4"), ("hardware.memory.physicalMemoryBytes", (32L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var over = Capacity(host, Vm("pacs-viewer-01", "esxi-03", 2, 32768), Vm("ris-01", "esxi-03", 2, 16384));
        var fits = Capacity(host, Vm("ris-01", "esxi-03", 2, 16384));

        var memory = Assert.Single(over, f => f.RuleId == HostCapacity.MemoryRule);
        Assert.Equal(FindingStatus.Fail, memory.Status);
        Assert.Equal(Severity.Medium, memory.Severity);
        Assert.Contains("48 GiB of VM memory on 32 GiB = 1.50", memory.Evidence[0].Actual, StringComparison.Ordinal);
        Assert.Equal(FindingStatus.Pass, Assert.Single(fits, f => f.RuleId == HostCapacity.MemoryRule).Status);
    }

    [Fact]
    public void CapacityIsNotEvaluatedWithoutHardwareOrVms()
    {
        var bare = Capacity(Host("esxi-01", ("UserVars.ESXiShellTimeOut", "0")), Vm("his-db-01", "esxi-01", 16, 131072));
        var empty = Capacity(Host("esxi-01", ("hardware.cpu.cpuCores", "24"), ("hardware.memory.physicalMemoryBytes", "274877906944")));

        Assert.All(bare, f => Assert.Equal(FindingStatus.NotEvaluated, f.Status));
        Assert.Contains(bare, f => f.Reason!.Contains("esxcli hardware cpu global get", StringComparison.Ordinal));
        Assert.Equal(2, empty.Count);
        Assert.All(empty, f => Assert.Contains("no VM of this scan is placed on the host", f.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void HostWideOptionsApplyToTheHostsVmsButAVmsOwnKeyWins()
    {
        var config = new EtcVmwareConfigCollector().Collect(new InputFile("hosts/esxi-02/etc-vmware-config",
            "libdir = \"/usr/lib/vmware\"\nisolation.tools.copy.disable = \"FALSE\"\nisolation.tools.paste.disable = \"FALSE\"\n"), EtcVmwareConfigCollector.FormatId);
        var host = Assert.IsType<ConfigFact>(Assert.Single(config.Facts));
        var vm = Vm("nrcms-gw-01", "esxi-02", 2, 4096, "isolation.tools.paste.disable = \"TRUE\"\n");
        var elsewhere = Vm("his-db-01", "esxi-01", 2, 4096);

        var result = HostDefaults.Apply([host, vm, elsewhere]);

        var applied = Assert.IsType<VmConfig>(result[1]);
        var copy = applied.Get("isolation.tools.copy.disable")!;
        Assert.Equal("FALSE", copy.Value);
        Assert.Equal("hosts/esxi-02/etc-vmware-config", copy.Source);
        Assert.Equal(2, copy.Line);
        Assert.Equal("TRUE", applied.Get("isolation.tools.paste.disable")!.Value);
        Assert.Null(applied.Get("libdir"));
        Assert.Null(Assert.IsType<VmConfig>(result[2]).Get("isolation.tools.copy.disable"));
    }

    [Theory]
    [InlineData("site/hosts/esxi-01/vms/pacs-01.vmx", "esxi-01")]
    [InlineData("hosts/esxi-02/pacs-01/pacs-01.vmx", "esxi-02")]
    [InlineData("fixtures/demo-hospital/vms/pacs-01.vmx", null)]
    [InlineData("hosts/esxi-01.vmx", null)]
    [InlineData(null, null)]
    public void HostFromFolderLayout(string? path, string? host) => Assert.Equal(host, HostDefaults.HostFromPath(path));

    [Fact]
    public void NeedsIsAddedToANotEvaluatedReason()
    {
        const string yaml = """
            ruleset: needs-test
            version: "1"
            rules:
              - id: needs.rule
                title: Shell timeout not set
                category: VT04
                severity: medium
                appliesTo: esxi-host
                check: { key: UserVars.ESXiShellTimeOut, op: gt, value: "0" }
                needs: esxcli system settings advanced list
                rationale: Because.
                remediation: { summary: Set it., steps: ["Set it on {name}."] }
            """;
        var engine = new RuleEngine([RulesetLoader.Parse(yaml, "rulesets/needs.yaml")], "stig-8");

        var outcome = Assert.Single(engine.Evaluate([Host("esxi-01", ("other", "1"))], AdvisoryFeed.Empty, ScanDate), f => f.RuleId == "needs.rule");

        Assert.Equal(FindingStatus.NotEvaluated, outcome.Status);
        Assert.Contains("to decide it, collect: esxcli system settings advanced list", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DemoHospitalScanHasOneFactPerHostAndHostFindings()
    {
        var report = new Scanner(new ScanOptions { Inputs = [RepoPaths.DemoHospital], RulesDirectory = RepoPaths.Rulesets, StartedAt = new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero) }).Run();

        Assert.DoesNotContain(report.Diagnostics, d => d.Message.Contains("is also described by", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f.RuleId == "esxi.host.ssh-service" && f.Resource.Name == "esxi-01");
        Assert.Contains(report.Findings, f => f.RuleId == "esxi.host.shell-timeout" && f.Resource.Name == "esxi-01");
        Assert.Contains(report.Findings, f => f.RuleId == "esxi.host.promiscuous-mode" && f.Resource.Name == "esxi-01");
        Assert.Contains(report.Findings, f => f.RuleId == "esxi.host.remote-syslog" && f.Resource.Name == "esxi-01");
        Assert.Contains(report.Findings, f => f.RuleId == "esxi.host.vlan-4095" && f.Resource.Name == "esxi-02");
        Assert.Contains(report.Findings, f => f.RuleId == HostCapacity.CpuRule && f.Resource.Name == "esxi-02");
        Assert.Contains(report.Findings, f => f.RuleId == "vmware.vm.console-copy-disabled" && f.Resource.Name == "nrcms-gw-01"
                                              && f.Evidence.Any(e => e.Source!.EndsWith("esxi-02/etc-vmware-config", StringComparison.Ordinal)));
        Assert.Contains(report.NotEvaluated, f => f.RuleId == "esxi.host.lockdown-exception-users" && f.Reason!.Contains("QueryLockdownExceptions", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Findings, f => f.RuleId == "esxi.host.ssh-service" && f.Resource.Name == "esxi-02");
    }
}
