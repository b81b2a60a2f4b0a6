namespace VirtSecScan.Cli.Tests;

/// <summary>One JSON scan and one table scan of fixtures/demo-hospital, shared by the tests that only read them.</summary>
public sealed class DemoHospitalScan
{
    private readonly Lazy<CliResult> _json = new(() => Cli.ScanJson(RepoPaths.DemoHospital));
    private readonly Lazy<CliResult> _table = new(() => Cli.Run("scan", RepoPaths.DemoHospital, "--no-progress"));

    internal CliResult Json => _json.Value;

    internal CliResult Table => _table.Value;
}
