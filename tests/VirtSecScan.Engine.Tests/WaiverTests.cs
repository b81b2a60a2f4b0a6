using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Waivers;

namespace VirtSecScan.Engine.Tests;

/// <summary>Waivers: parsing, expiry on the scan date (the clock the scan runs with), unused waivers.</summary>
public sealed class WaiverTests
{
    private const string File = """
        waivers:
          - id: W-1
            rule: vmware.vm.usb-controller-absent
            resource: "desk-*"
            justification: Smart-card readers on clinical desktops; USB restricted by device policy
            compensatingControl: Endpoint USB allow-list
            approver: CISO
            created: 2026-01-10
            expires: 2026-12-31
          - id: W-2
            fingerprint: 0123456789abcdef0123456789abcdef
            justification: Vendor appliance, fix in next release
            approver: Head of IT
            created: 2026-01-10
            expires: 2026-06-30
          - id: W-3
            rule: vmware.vm.floppy-absent
            justification: Legacy lab analyser image
            approver: CISO
            created: 2026-02-01
            expires: 2026-03-01
        """;

    private static readonly Finding UsbOnDesk = Finding("vmware.vm.usb-controller-absent", "desk-ward3-07");
    private static readonly Finding UsbOnPacs = Finding("vmware.vm.usb-controller-absent", "pacs-01");
    private static readonly Finding FloppyOnLab = Finding("vmware.vm.floppy-absent", "lis-analyser-02");

    [Fact]
    public void ParsesRulePatternAndFingerprintWaivers()
    {
        var waivers = WaiverFile.Parse(File, "waivers.yaml");

        Assert.Equal(3, waivers.Length);
        Assert.Equal("desk-*", waivers[0].ResourcePattern);
        Assert.Equal("0123456789abcdef0123456789abcdef", waivers[1].Fingerprint);
        Assert.Equal(2, waivers[0].Waiver.Line);
        Assert.Equal("waivers.yaml", waivers[0].Waiver.Source);
    }

    [Theory]
    [InlineData("    justification: x\n", "missing required key 'approver'")]
    [InlineData("    approver: x\n    justification: x\n    expires: 2026-01-01\n", "missing required key 'created'")]
    [InlineData("    approver: x\n    justification: x\n    created: 2026-02-01\n    expires: 2026-01-01\n", "is before created")]
    [InlineData("    approver: x\n    justification: x\n    created: 2026-02-01\n    expires: 2026-13-01\n", "expires")]
    public void BadWaiverNamesFileLineAndProblem(string body, string expected)
    {
        var text = "waivers:\n  - id: W-9\n    rule: r\n" + body;

        var ex = Assert.Throws<DataFileException>(() => WaiverFile.Parse(text, "waivers.yaml"));

        Assert.Equal("waivers.yaml", ex.File);
        Assert.NotNull(ex.Line);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WaiverNeedsExactlyOneOfFingerprintAndRule()
    {
        var text = "waivers:\n  - id: W-9\n    rule: r\n    fingerprint: 0123456789abcdef0123456789abcdef\n    approver: a\n    justification: j\n    created: 2026-01-01\n    expires: 2026-02-01\n";

        var ex = Assert.Throws<DataFileException>(() => WaiverFile.Parse(text, "w.yaml"));
        Assert.Contains("either 'fingerprint' or 'rule'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ActiveWaiverWaivesOnlyTheMatchingResources()
    {
        var waivers = WaiverFile.Parse(File, "waivers.yaml");

        var (findings, outcomes, _) = WaiverApplier.Apply([UsbOnDesk, UsbOnPacs], waivers, new DateOnly(2026, 11, 27));

        Assert.Equal(FindingStatus.Waived, findings[0].Status);
        Assert.Equal("W-1", findings[0].Waiver!.Id);
        Assert.Equal(FindingStatus.Fail, findings[1].Status);
        Assert.Equal(WaiverState.Active, outcomes[0].State);
        Assert.Equal(1, outcomes[0].Matched);
    }

    [Fact]
    public void WaiverIsValidOnItsExpiryDayAndRaisesItsFindingTheDayAfter()
    {
        var waivers = WaiverFile.Parse(File, "waivers.yaml");

        var onExpiry = WaiverApplier.Apply([UsbOnDesk], waivers, new DateOnly(2026, 12, 31));
        var dayAfter = WaiverApplier.Apply([UsbOnDesk], waivers, new DateOnly(2027, 1, 1));

        Assert.Equal(FindingStatus.Waived, onExpiry.Findings[0].Status);
        Assert.Equal(FindingStatus.Fail, dayAfter.Findings[0].Status);
        Assert.Contains(dayAfter.Findings[0].Evidence, e => e.Key == "waiver" && e.Actual == "waiver W-1 expired on 2026-12-31");
        Assert.Equal(WaiverState.Expired, dayAfter.Outcomes[0].State);
        Assert.Contains(dayAfter.Diagnostics, d => d.Line == 2 && d.Message.Contains("W-1 expired on 2026-12-31", StringComparison.Ordinal));
    }

    [Fact]
    public void UnusedAndExpiredUnusedWaiversAreReported()
    {
        var waivers = WaiverFile.Parse(File, "waivers.yaml");

        var (_, outcomes, diagnostics) = WaiverApplier.Apply([UsbOnPacs], waivers, new DateOnly(2026, 5, 1));

        Assert.Equal(WaiverState.Unused, outcomes.Single(o => o.Waiver.Id == "W-1").State);
        Assert.Equal(WaiverState.Unused, outcomes.Single(o => o.Waiver.Id == "W-2").State);
        Assert.Equal(WaiverState.Expired, outcomes.Single(o => o.Waiver.Id == "W-3").State);
        Assert.Equal(3, diagnostics.Length);
        Assert.Contains(diagnostics, d => d.Message.Contains("W-2 matched no failing finding", StringComparison.Ordinal));
    }

    [Fact]
    public void FingerprintWaiverMatchesByFingerprint()
    {
        var target = FloppyOnLab;
        var text = File.Replace("0123456789abcdef0123456789abcdef", target.Fingerprint, StringComparison.Ordinal);
        var waivers = WaiverFile.Parse(text, "waivers.yaml");

        var (findings, outcomes, _) = WaiverApplier.Apply([target], waivers, new DateOnly(2026, 5, 1));

        Assert.Equal("W-2", findings[0].Waiver!.Id);
        Assert.Equal(WaiverState.Active, outcomes[1].State);
    }

    [Fact]
    public void PassingAndNotEvaluatedOutcomesAreNeverWaived()
    {
        var waivers = WaiverFile.Parse(File, "waivers.yaml");
        var passing = UsbOnDesk with { Status = FindingStatus.Pass };
        var undecided = UsbOnDesk with { Status = FindingStatus.NotEvaluated };

        var (findings, outcomes, _) = WaiverApplier.Apply([passing, undecided], waivers, new DateOnly(2026, 5, 1));

        Assert.Equal([FindingStatus.Pass, FindingStatus.NotEvaluated], findings.Select(f => f.Status));
        Assert.Equal(WaiverState.Unused, outcomes[0].State);
    }

    private static Finding Finding(string rule, string vm) => new()
    {
        RuleId = rule,
        Title = rule,
        Category = "VT04",
        Severity = Severity.Medium,
        Status = FindingStatus.Fail,
        Resource = new ResourceRef("vm", vm, vm),
    };
}
