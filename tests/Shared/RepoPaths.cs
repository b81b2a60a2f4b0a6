namespace VirtSecScan.Testing;

/// <summary>
/// Paths in the repository, found by walking up from the test binaries to VirtSecScan.sln. Tests read
/// repository files through it, never anything outside the repository. Linked into every test project.
/// </summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(FindRoot);

    public static string Root => RootLazy.Value;

    public static string Rulesets => Path.Combine(Root, "rulesets");

    public static string Advisories => Path.Combine(Root, "rulesets", "advisories");

    public static string RuleExamples => Path.Combine(Root, "tests", "VirtSecScan.Engine.Tests", "RuleExamples");

    public static string DemoHospital => Path.Combine(Root, "fixtures", "demo-hospital");

    public static string Fixture(params string[] parts) => Path.Combine([Root, "fixtures", .. parts]);

    /// <summary>The absolute path of a repository-relative path written with forward slashes.</summary>
    public static string Combine(string relativePath) =>
        Path.Combine([Root, .. relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries)]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VirtSecScan.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"VirtSecScan.sln not found at or above {AppContext.BaseDirectory}");
    }
}
