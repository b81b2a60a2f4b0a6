using VirtSecScan.Core.Findings;

namespace VirtSecScan.Core.Tests;

/// <summary>Builds findings with only the fields a test cares about.</summary>
internal static class TestFindings
{
    public static Finding Make(
        string ruleId = "VSS-VM-001",
        Severity severity = Severity.High,
        string resourceId = "vm:42217e0bc4195a33d8026f914ae5b72c",
        string resourceName = "his-db-01",
        string discriminator = "",
        string? source = "vms/his-db-01.vmx",
        int? line = 12,
        double score = 0) =>
        new()
        {
            RuleId = ruleId,
            Title = "Copy and paste between console and guest is enabled",
            Category = "VT08",
            Severity = severity,
            Status = FindingStatus.Fail,
            Resource = new ResourceRef("vm", resourceId, resourceName, Source: source, Line: line),
            Discriminator = discriminator,
            Score = score,
        };
}
