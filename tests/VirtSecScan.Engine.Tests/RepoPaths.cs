namespace VirtSecScan.Engine.Tests;

/// <summary>Paths in the repository, found by walking up from the test assembly to VirtSecScan.sln.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    public static string Root => RootLazy.Value;

    public static string Rulesets => Path.Combine(Root, "rulesets");

    public static string Advisories => Path.Combine(Root, "rulesets", "advisories");

    public static string RuleExamples => Path.Combine(Root, "tests", "VirtSecScan.Engine.Tests", "RuleExamples");

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
