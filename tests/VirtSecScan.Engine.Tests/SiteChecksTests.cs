using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Engine.Tests;

/// <summary>Site-file parts: documented exceptions, redundancy groups, backups, and the capacity checks on clinical VMs.</summary>
public sealed class SiteChecksTests
{
    private static readonly DateOnly ScanDate = new(2026, 11, 27);

    private static readonly Lazy<RuleEngine> Engine = new(() => new RuleEngine([], "stig-8"));

    private const string Site = """
        site: Test Hospital
        zones:
          - { id: pacs, kind: clinical, criticality: high, phi: true }
          - { id: his, kind: clinical, criticality: high, phi: true }
          - { id: vdi, kind: desktop }
        systems:
          - { name: pacs-01, type: vm, zone: pacs, role: pacs-archive, host: esxi-01 }
          - { name: his-app-01, type: vm, zone: his, role: his-application, host: esxi-02 }
          - { name: his-app-02, type: vm, zone: his, role: his-application, host: esxi-02 }
          - { name: his-db-01, type: vm, zone: his, role: his-database, host: esxi-01 }
          - { name: his-db-02, type: vm, zone: his, role: his-database, host: esxi-03 }
          - { name: vdi-01, type: vm, zone: vdi, role: vdi-desktop }
          - { name: vdi-02, type: vm, zone: vdi, role: vdi-desktop }
        exceptions:
          - rule: vmware.vm.usb-controller-removed
            resource: vdi-*
            reason: USB smart-card readers for clinician login
        redundancy:
          - { name: his-application, members: [his-app-01, his-app-02] }
          - { name: his-database, members: [his-db-01, his-db-02] }
          - { name: vdi-pool, members: [vdi-01, vdi-02] }
        backups:
          - { kind: backup, systems: [his-*], target: nightly image backup }
          - { kind: replica, systems: [pacs-01] }
        """;

    private static SiteModel LoadSite(string text = Site) => SiteModelLoader.Parse(text, "site.yaml");

    private static List<Finding> Evaluate(SiteModel site, params VmConfig[] vms) =>
        Engine.Value.Evaluate(vms, AdvisoryFeed.Empty, ScanDate, site).ToList();

    private static VmConfig Vm(string name, string extra = "") => TestVms.Parse($"displayName = \"{name}\"\n{extra}", $"vms/{name}.vmx");

    [Fact]
    public void SiteFileListsAreParsed()
    {
        var site = LoadSite();

        Assert.Single(site.Exceptions);
        Assert.Equal(3, site.Redundancy.Length);
        Assert.Equal(2, site.Backups.Length);
        Assert.Equal("USB smart-card readers for clinician login", site.Exceptions[0].Reason);
        Assert.NotNull(site.Exceptions[0].Line);
    }

    [Theory]
    [InlineData("exceptions:\n  - { rule: x, resource: y }", "reason")]
    [InlineData("exceptions:\n  - { rule: '*', resource: '*', reason: all }", "not an exception")]
    [InlineData("redundancy:\n  - { name: g, members: [a] }", "at least two")]
    [InlineData("backups:\n  - { kind: snapshot, systems: [a] }", "backup or replica")]
    [InlineData("exceptions:\n  - { rule: x, resource: y, reason: z, expires: 2027-01-01 }", "expires")]
    public void BadSiteEntriesAreErrorsWithALine(string tail, string expected)
    {
        var text = "site: t\nzones:\n  - { id: z, kind: other }\n" + tail + "\n";

        var ex = Assert.Throws<DataFileException>(() => LoadSite(text));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.Line);
    }

    [Theory]
    [InlineData("vdi-*", "VDI-01", true)]
    [InlineData("vdi-?1", "vdi-01", true)]
    [InlineData("vdi-*", "his-vdi-01", false)]
    [InlineData("vmware.vm.*", "vmware.vm.usb-controller-removed", true)]
    [InlineData("pacs-01", "pacs-010", false)]
    public void GlobMatchesWholeNamesCaseInsensitively(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Glob.IsMatch(pattern, text));

    [Fact]
    public void AFailCoveredByAnExceptionBecomesPassedWithException()
    {
        var site = LoadSite();
        var fail = new Finding
        {
            RuleId = "vmware.vm.usb-controller-removed", Title = "t", Category = "VT08", Severity = Severity.Medium,
            Status = FindingStatus.Fail, Resource = new ResourceRef("vm", "vm:name:vdi-01", "vdi-01"),
        };

        var covered = Scanner.ApplyException(fail, site);
        var otherRule = Scanner.ApplyException(fail with { RuleId = "vmware.vm.serial-port-removed" }, site);
        var otherVm = Scanner.ApplyException(fail with { Resource = fail.Resource with { Name = "his-app-01" } }, site);
        var notEvaluated = Scanner.ApplyException(fail with { Status = FindingStatus.NotEvaluated }, site);

        Assert.Equal(FindingStatus.PassedWithException, covered.Status);
        Assert.Equal("passed-with-exception", covered.Status.ToName());
        Assert.Equal("USB smart-card readers for clinician login", covered.Exception?.Reason);
        Assert.Equal(FindingStatus.Fail, otherRule.Status);
        Assert.Equal(FindingStatus.Fail, otherVm.Status);
        Assert.Equal(FindingStatus.NotEvaluated, notEvaluated.Status);
    }

    [Fact]
    public void PacsVmWithoutReservationsFailsAndWithReservationsPasses()
    {
        var site = LoadSite();

        var bare = Assert.Single(Evaluate(site, Vm("pacs-01")), f => f.RuleId == SiteFindings.Reservations);
        var reserved = Assert.Single(Evaluate(site, Vm("pacs-01", "sched.cpu.min = \"4000\"\nsched.mem.min = \"16384\"")), f => f.RuleId == SiteFindings.Reservations);
        var cpuOnly = Assert.Single(Evaluate(site, Vm("pacs-01", "sched.cpu.min = \"4000\"\nsched.mem.min = \"0\"")), f => f.RuleId == SiteFindings.Reservations);

        Assert.Equal(FindingStatus.Fail, bare.Status);
        Assert.Equal(FindingStatus.Pass, reserved.Status);
        Assert.Equal(FindingStatus.Fail, cpuOnly.Status);
        Assert.Contains("memory", cpuOnly.Title, StringComparison.Ordinal);
        Assert.Equal("VT09", bare.Category);
    }

    [Fact]
    public void LimitsOnAHisVmFail()
    {
        var site = LoadSite();

        var limited = Assert.Single(Evaluate(site, Vm("his-db-01", "sched.mem.max = \"8192\"")), f => f.RuleId == SiteFindings.Limits);
        var unlimited = Assert.Single(Evaluate(site, Vm("his-db-01", "sched.cpu.max = \"-1\"")), f => f.RuleId == SiteFindings.Limits);

        Assert.Equal(FindingStatus.Fail, limited.Status);
        Assert.Contains(limited.Evidence, e => e.Key == "sched.mem.max" && e.Actual == "8192" && e.Line == 2);
        Assert.Equal(FindingStatus.Pass, unlimited.Status);
    }

    [Fact]
    public void NonClinicalRolesGetNoCapacityOutcome()
    {
        var outcomes = Evaluate(LoadSite(), Vm("vdi-01"), Vm("unknown-vm"));

        Assert.DoesNotContain(outcomes, f => f.RuleId is SiteFindings.Reservations or SiteFindings.Limits or SiteFindings.Backup);
    }

    [Fact]
    public void RedundantPairOnOneHostFailsAndSpreadPairPasses()
    {
        var outcomes = Evaluate(LoadSite(), Vm("his-app-01"), Vm("his-app-02"));

        var sameHost = Assert.Single(outcomes, f => f.RuleId == SiteFindings.SameHost && f.Discriminator == "redundancy:his-application");
        var spread = Assert.Single(outcomes, f => f.RuleId == SiteFindings.SameHost && f.Discriminator == "redundancy:his-database");
        var unknown = Assert.Single(outcomes, f => f.RuleId == SiteFindings.SameHost && f.Discriminator == "redundancy:vdi-pool");

        Assert.Equal(FindingStatus.Fail, sameHost.Status);
        Assert.Contains("esxi-02", sameHost.Title, StringComparison.Ordinal);
        Assert.Equal("his-app-02", sameHost.Resource.Name);
        Assert.Equal("vm", sameHost.Resource.Type);
        Assert.Equal(FindingStatus.Pass, spread.Status);
        Assert.Equal(FindingStatus.NotEvaluated, unknown.Status);
        Assert.Contains("vdi-01", unknown.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ClinicalVmWithoutBackupFails()
    {
        var text = Site.Replace("systems: [his-*]", "systems: [his-db-*]", StringComparison.Ordinal);

        var outcomes = Evaluate(LoadSite(text), Vm("his-app-01"), Vm("his-db-01"), Vm("pacs-01"));

        Assert.Equal(FindingStatus.Fail, outcomes.Single(f => f.RuleId == SiteFindings.Backup && f.Resource.Name == "his-app-01").Status);
        Assert.Equal(FindingStatus.Pass, outcomes.Single(f => f.RuleId == SiteFindings.Backup && f.Resource.Name == "his-db-01").Status);
        Assert.Equal(FindingStatus.Pass, outcomes.Single(f => f.RuleId == SiteFindings.Backup && f.Resource.Name == "pacs-01").Status);
    }

    [Fact]
    public void WithoutASiteFileNoSiteCheckRuns()
    {
        var outcomes = Engine.Value.Evaluate([Vm("pacs-01"), Vm("his-app-01")], AdvisoryFeed.Empty, ScanDate);

        Assert.DoesNotContain(outcomes, f => SiteFindings.Rules.Any(r => r.Id == f.RuleId));
    }
}
