namespace VirtSecScan.Cli.Tests;

/// <summary>Paths in the repository, found by walking up from the test assembly to VirtSecScan.sln.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    public static string Root => RootLazy.Value;

    public static string Rulesets => Path.Combine(Root, "rulesets");

    public static string DemoHospital => Path.Combine(Root, "fixtures", "demo-hospital");

    public static string Fixture(params string[] parts) => Path.Combine([Root, "fixtures", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VirtSecScan.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"VirtSecScan.sln not found above {AppContext.BaseDirectory}");
    }
}
