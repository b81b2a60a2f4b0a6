namespace VirtSecScan.Cli.Tests;

/// <summary>Tests that change the process's working directory; they run alone, never in parallel with other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WorkingDirectoryCollection
{
    public const string Name = "working directory";
}

/// <summary>Relative paths, as a person types them in a shell.</summary>
[Collection(WorkingDirectoryCollection.Name)]
public sealed class WorkingDirectoryTests
{
    [Fact]
    public void RulesValidateAcceptsAnAdvisoryFileGivenRelativeToTheRulesFolder()
    {
        var result = InDirectory(RepoPaths.Rulesets, () => Cli.RunRaw("rules", "validate", "advisories/vmware/VMSA-2024-0006.yaml"));

        Assert.True(result.ExitCode == 0, result.Stderr);
    }

    [Fact]
    public void ScanShowsRelativeInputPathsAsGiven()
    {
        var result = InDirectory(RepoPaths.Root, () => Cli.ScanJson("fixtures/demo-hospital"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = result.Json();
        var scan = doc.RootElement.GetProperty("scan");
        Assert.Equal("fixtures/demo-hospital", Assert.Single(scan.GetProperty("inputs").EnumerateArray()).GetString());
        Assert.Contains(scan.GetProperty("collected").EnumerateArray(),
            c => c.GetProperty("file").GetString() == "fixtures/demo-hospital/vms/pacs-01.vmx");
    }

    private static CliResult InDirectory(string directory, Func<CliResult> run)
    {
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(directory);
        try
        {
            return run();
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }
}
