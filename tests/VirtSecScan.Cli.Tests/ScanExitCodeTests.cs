namespace VirtSecScan.Cli.Tests;

/// <summary>Exit codes of the contract: 0 done, 3 findings at or above --fail-on, 2 usage error or nothing readable.</summary>
public sealed class ScanExitCodeTests
{
    [Fact]
    public void FailOnHighWithHighFindingsExitsWithThree()
    {
        var result = Cli.ScanJson(RepoPaths.DemoHospital, "--fail-on", "high");

        Assert.Equal(3, result.ExitCode);
        using var doc = result.Json();
        Assert.NotEmpty(doc.RootElement.GetProperty("findings").EnumerateArray());
    }

    [Fact]
    public void FailOnCriticalOnTheHardenedVmAloneExitsWithZero()
    {
        using var dir = new TempDir();
        dir.Copy(RepoPaths.Fixture("demo-hospital", "vms", "his-db-01.vmx"), "his-db-01.vmx");

        var result = Cli.ScanJson(dir.Path, "--fail-on", "critical");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = result.Json();
        Assert.Single(doc.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray());
    }

    [Fact]
    public void ScanWithoutPathsIsAUsageError()
    {
        var result = Cli.Run("scan", "--format", "json", "--no-progress");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void NonexistentPathIsAUsageError()
    {
        var missing = Path.Combine(Path.GetTempPath(), "virtsecscan-missing-" + Guid.NewGuid().ToString("N"));

        var result = Cli.ScanJson(missing);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(missing, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFormatIsAUsageError()
    {
        var result = Cli.Run("scan", RepoPaths.DemoHospital, "--format", "xml", "--no-progress");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("xml", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFailOnSeverityIsAUsageError()
    {
        var result = Cli.ScanJson(RepoPaths.DemoHospital, "--fail-on", "severe");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("severe", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void FolderWithNoKnownFormatIsAUsageError()
    {
        using var dir = new TempDir();
        dir.Copy(RepoPaths.Fixture("demo-hospital", "notes.txt"), "notes.txt");

        var result = Cli.ScanJson(dir.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nothing readable", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void BrokenRulesetStopsTheScanAndNamesFileAndLine()
    {
        using var dir = new TempDir();
        dir.CopyTree(RepoPaths.Rulesets, "rulesets");
        const string bad = """
            ruleset: broken
            version: "1"
            rules:
              - id: broken.rule
                title: Broken
                category: VT11
                severity: low
                appliesTo: vm
                check: { key: a, op: equals, value: "TRUE" }
                rationale: Broken on purpose.
                remediation: { summary: Nothing., steps: [Nothing.] }
            """;
        dir.Write("rulesets/zz-broken.yaml", bad);

        var result = Cli.RunWithRules(Path.Combine(dir.Path, "rulesets"), "scan", RepoPaths.DemoHospital, "--format", "json", "--no-progress");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("zz-broken.yaml:6", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("VT11", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void RepeatedLifecycleBranchInTheFeedIsAUsageError()
    {
        using var dir = new TempDir();
        dir.CopyTree(RepoPaths.Rulesets, "rulesets");
        var lifecycle = Path.Combine(dir.Path, "rulesets", "advisories", "vmware", "esxi-lifecycle.yaml");
        var text = File.ReadAllText(lifecycle);
        var row = "  - branch: \"6.7\"\n    endOfGeneralSupport: 2022-10-15\n";
        Assert.Contains(row, text, StringComparison.Ordinal);
        File.WriteAllText(lifecycle, text.Replace(row, row + row, StringComparison.Ordinal));

        var result = Cli.RunWithRules(Path.Combine(dir.Path, "rulesets"), "scan", Path.Combine(RepoPaths.DemoHospital, "hosts"), "--format", "json", "--no-progress");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("esxi-lifecycle.yaml:", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownProfileIsAUsageError()
    {
        var result = Cli.ScanJson(RepoPaths.DemoHospital, "--profile", "stig-9");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("stig-9", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatIsDetectedFromContentNotFromTheFileName()
    {
        using var dir = new TempDir();
        dir.Copy(RepoPaths.Fixture("demo-hospital", "vms", "pacs-01.vmx"), "export-2026-11.txt");
        dir.Copy(RepoPaths.Fixture("demo-hospital", "notes.txt"), "notes.vmx");

        var result = Cli.ScanJson(dir.Path);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = result.Json();
        var collected = Assert.Single(doc.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray());
        Assert.EndsWith("/export-2026-11.txt", collected.GetProperty("file").GetString(), StringComparison.Ordinal);
        Assert.Equal("vmware-vmx", collected.GetProperty("format").GetString());
        var skipped = Assert.Single(doc.RootElement.GetProperty("scan").GetProperty("skipped").EnumerateArray());
        Assert.EndsWith("/notes.vmx", skipped.GetProperty("file").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingRulesFolderIsAUsageError()
    {
        var missing = Path.Combine(Path.GetTempPath(), "virtsecscan-no-rules-" + Guid.NewGuid().ToString("N"));

        var result = Cli.RunWithRules(missing, "scan", RepoPaths.DemoHospital, "--format", "json", "--no-progress");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(missing, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedVmxIsADiagnosticWithFileAndLineAndTheScanGoesOn()
    {
        using var dir = new TempDir();
        dir.Copy(RepoPaths.Fixture("collectors", "vmx", "malformed-lines.vmx"), "vms/malformed-lines.vmx");
        dir.Copy(RepoPaths.Fixture("demo-hospital", "vms", "pacs-01.vmx"), "vms/pacs-01.vmx");

        var result = Cli.ScanJson(dir.Path);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = result.Json();
        var diagnostics = doc.RootElement.GetProperty("diagnostics").EnumerateArray().ToList();
        Assert.Contains(diagnostics, d => d.GetProperty("file").GetString()!.EndsWith("/vms/malformed-lines.vmx", StringComparison.Ordinal)
                                          && d.TryGetProperty("line", out var line) && line.GetInt32() == 7);
        var collected = doc.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray()
            .Select(c => Path.GetFileName(c.GetProperty("file").GetString())).ToList();
        Assert.Contains("pacs-01.vmx", collected);
        Assert.Contains(doc.RootElement.GetProperty("findings").EnumerateArray(),
            f => f.GetProperty("resource").GetProperty("source").GetString()!.EndsWith("/vms/pacs-01.vmx", StringComparison.Ordinal));
    }
}
