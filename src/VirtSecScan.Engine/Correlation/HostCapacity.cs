using System.Collections.Immutable;
using System.Globalization;
using NRules.Fluent.Dsl;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Correlation;

/// <summary>An ESXi host's settings, joined with the VMs placed on it: vCPU and memory overcommit (VT09).</summary>
[Name("esxi.host.capacity")]
public sealed class HostCapacityRule : Rule
{
    public override void Define()
    {
        ScanContext scan = null!;
        ConfigFact host = null!;
        IEnumerable<VmConfig> vms = null!;

        When()
            .Match(() => scan)
            .Match(() => host, h => h.Kind == "esxi-host")
            .Query(() => vms, q => q
                .Match<VmConfig>(v => v.Resource.Host != null && string.Equals(v.Resource.Host, host.Resource.Name, StringComparison.OrdinalIgnoreCase))
                .Collect());

        Then()
            .Do(ctx => ctx.InsertAll(HostCapacity.Evaluate(host, vms, scan.Profile).Select(f => (object)new RuleOutcome(f))));
    }
}

/// <summary>
/// Host capacity from <c>esxcli hardware cpu global get</c> (<c>hardware.cpu.cpuCores</c>) and
/// <c>esxcli hardware memory get</c> (<c>hardware.memory.physicalMemoryBytes</c>) against the configured sizes
/// (<c>numvcpus</c>, default 1; <c>memSize</c> in MiB) of the VMs placed on the host (site model <c>host:</c>, or a
/// <c>hosts/HOST/</c> folder). Configured sizes count whether or not a VM runs: they are what the host must carry
/// after a failover. Thresholds (docs/esxi-host.md): vCPU per physical core above 3:1 is a medium finding, above
/// 5:1 high; configured VM memory above the host's physical memory (1.0) medium, above 1.5 high.
/// </summary>
public static class HostCapacity
{
    public const string CpuRule = "esxi.host.cpu-overcommit";
    public const string MemoryRule = "esxi.host.memory-overcommit";
    public const double CpuWarn = 3.0;
    public const double CpuHigh = 5.0;
    public const double MemoryWarn = 1.0;
    public const double MemoryHigh = 1.5;

    public static readonly ImmutableArray<CorrelationRuleInfo> Rules =
    [
        new(CpuRule, "Host's vCPUs overcommit its physical cores", "VT09", Severity.Medium, "esxi-host + vm",
            $"Sums numvcpus of the VMs placed on the host against hardware.cpu.cpuCores; above {CpuWarn}:1 medium, above {CpuHigh}:1 high."),
        new(MemoryRule, "Host's VM memory overcommits its physical memory", "VT09", Severity.Medium, "esxi-host + vm",
            $"Sums memSize of the VMs placed on the host against hardware.memory.physicalMemoryBytes; above {MemoryWarn} medium, above {MemoryHigh} high."),
    ];

    public static IEnumerable<Finding> Evaluate(ConfigFact host, IEnumerable<VmConfig> vms, string profile)
    {
        var placed = vms.OrderBy(v => v.Resource.Name, StringComparer.OrdinalIgnoreCase).ToList();
        yield return Cpu(host, placed, profile);
        yield return Memory(host, placed, profile);
    }

    private static Finding Cpu(ConfigFact host, List<VmConfig> vms, string profile)
    {
        var cores = host.Get("hardware.cpu.cpuCores");
        var threads = host.Get("hardware.cpu.cpuThreads");
        var sizes = vms.Select(v => (v.Resource.Name, Count: Number(v.Get("numvcpus")?.Value) ?? 1)).ToList();
        var total = sizes.Sum(s => s.Count);
        var finding = Base(host, CpuRule, profile, "vCPUs of its VMs overcommit the physical cores",
            "Reduce the vCPUs placed on the host: move VMs to other hosts or right-size them.",
            [
                $"PowerCLI: Get-VMHost {host.Resource.Name} | Get-VM | Select-Object Name, NumCpu, PowerState | Sort-Object NumCpu -Descending",
                $"vMotion the least critical VMs off {host.Resource.Name}, or lower NumCpu of oversized VMs (Set-VM -VM NAME -NumCpu N, at a cold start).",
                "Give PACS, LIS and HIS VMs CPU reservations or high shares so that they keep their CPU under contention.",
            ]);
        if (Number(cores?.Value) is not { } c || c <= 0)
        {
            return NotEvaluated(finding, "the host's physical core count was not collected", "esxcli hardware cpu global get");
        }

        if (vms.Count == 0)
        {
            return NotEvaluated(finding, "no VM of this scan is placed on the host", "the host's VMs (.vmx) with a site model 'host:' or a hosts/HOST/ folder");
        }

        var ratio = total / c;
        var status = ratio > CpuWarn ? FindingStatus.Fail : FindingStatus.Pass;
        var actual = $"{F(total)} vCPUs on {F(c)} cores{(Number(threads?.Value) is { } t ? $" ({F(t)} threads)" : "")} = {ratio.ToString("0.00", CultureInfo.InvariantCulture)}:1";
        return finding with
        {
            Status = status,
            Severity = status == FindingStatus.Pass ? Severity.Info : ratio > CpuHigh ? Severity.High : Severity.Medium,
            Evidence =
            [
                new Evidence("vcpuPerCore", actual, $"<= {F(CpuWarn)}:1 ({F(CpuHigh)}:1 and more is high)", cores!.Source ?? host.Resource.Source, cores.Line),
                new Evidence("vms", string.Join(", ", sizes.Select(s => $"{s.Name} {F(s.Count)}")), null, null),
            ],
        };
    }

    private static Finding Memory(ConfigFact host, List<VmConfig> vms, string profile)
    {
        var physical = host.Get("hardware.memory.physicalMemoryBytes");
        var sizes = vms.Select(v => (v.Resource.Name, MiB: Number(v.Get("memSize")?.Value))).ToList();
        var finding = Base(host, MemoryRule, profile, "memory of its VMs overcommits the physical memory",
            "Reduce the VM memory placed on the host, or add memory: overcommitted hosts balloon, compress and swap clinical VMs.",
            [
                $"PowerCLI: Get-VMHost {host.Resource.Name} | Get-VM | Select-Object Name, MemoryGB, PowerState | Sort-Object MemoryGB -Descending",
                $"vMotion VMs off {host.Resource.Name} or right-size their memory (Set-VM -VM NAME -MemoryGB N, at a cold start).",
                "Give PACS, LIS and HIS VMs memory reservations so that they are never ballooned or swapped.",
            ]);
        if (Number(physical?.Value) is not { } bytes || bytes <= 0)
        {
            return NotEvaluated(finding, "the host's physical memory was not collected", "esxcli hardware memory get");
        }

        if (vms.Count == 0)
        {
            return NotEvaluated(finding, "no VM of this scan is placed on the host", "the host's VMs (.vmx) with a site model 'host:' or a hosts/HOST/ folder");
        }

        var totalBytes = sizes.Sum(s => (s.MiB ?? 0) * 1024 * 1024);
        var ratio = totalBytes / bytes;
        var unknown = sizes.Where(s => s.MiB is null).Select(s => s.Name).ToList();
        var status = ratio > MemoryWarn ? FindingStatus.Fail : unknown.Count > 0 ? FindingStatus.NotEvaluated : FindingStatus.Pass;
        var gib = (double b) => (b / (1024.0 * 1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture);
        var evidence = ImmutableArray.CreateBuilder<Evidence>();
        evidence.Add(new Evidence("vmMemoryPerPhysical", $"{gib(totalBytes)} GiB of VM memory on {gib(bytes)} GiB = {ratio.ToString("0.00", CultureInfo.InvariantCulture)}",
            $"<= {F(MemoryWarn)} ({F(MemoryHigh)} and more is high)", physical!.Source ?? host.Resource.Source, physical.Line));
        evidence.Add(new Evidence("vms", string.Join(", ", sizes.Select(s => $"{s.Name} {(s.MiB is { } m ? F(m) + " MiB" : "memSize not set")}")), null, null));
        return finding with
        {
            Status = status,
            Severity = status == FindingStatus.Pass ? Severity.Info : ratio > MemoryHigh ? Severity.High : Severity.Medium,
            Reason = status == FindingStatus.NotEvaluated ? $"memSize is not set in {string.Join(", ", unknown)}" : null,
            Evidence = evidence.ToImmutable(),
        };
    }

    private static Finding Base(ConfigFact host, string ruleId, string profile, string what, string summary, ImmutableArray<string> steps) => new()
    {
        RuleId = ruleId,
        Title = $"{host.Resource.Name}: {what}",
        Category = "VT09",
        Severity = Severity.Medium,
        Status = FindingStatus.NotEvaluated,
        Resource = host.Resource,
        Remediation = new Remediation(summary, steps),
        Compliance = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, ImmutableArray<string>>
        {
            ["hipaa"] = ["164.308(a)(7)(ii)(C)"],
            ["nist-800-53"] = ["CP-2(2)", "SC-5"],
        }),
        Profile = profile,
    };

    private static Finding NotEvaluated(Finding finding, string reason, string collect) =>
        finding with { Status = FindingStatus.NotEvaluated, Reason = $"{reason}; to decide it, collect: {collect}" };

    private static double? Number(string? text) =>
        double.TryParse(text?.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
