namespace VirtSecScan.Core.Tests;

/// <summary>
/// The repository root: the first folder at or above the test binaries that holds VirtSecScan.sln.
/// Tests read repository fixtures through it, never anything outside the repository.
/// </summary>
internal static class RepoRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    /// <summary>The absolute path of a repository-relative path written with forward slashes.</summary>
    public static string Combine(string relativePath) =>
        System.IO.Path.Combine([Path, .. relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries)]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "VirtSecScan.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"VirtSecScan.sln not found at or above {AppContext.BaseDirectory}");
    }
}
