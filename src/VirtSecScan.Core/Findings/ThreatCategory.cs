namespace VirtSecScan.Core.Findings;

/// <summary>The ten threat categories of the threat model. Every rule belongs to exactly one.</summary>
public static class ThreatCategory
{
    public static IReadOnlyDictionary<string, string> Names { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["VT01"] = "Hypervisor and VM vulnerabilities",
        ["VT02"] = "Delayed patching",
        ["VT03"] = "Malware and network attack",
        ["VT04"] = "Insecure configuration and platform sprawl",
        ["VT05"] = "Network-storage dependency",
        ["VT06"] = "Centralization single point of failure",
        ["VT07"] = "External link exposure",
        ["VT08"] = "Data leakage and terminal threats",
        ["VT09"] = "Resource contention for critical systems",
        ["VT10"] = "Management and migration plane exposure",
    };

    public static bool IsValid(string? id) => id is not null && Names.ContainsKey(id);
}
