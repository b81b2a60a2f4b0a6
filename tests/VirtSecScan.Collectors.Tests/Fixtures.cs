using VirtSecScan.Collectors.Input;

namespace VirtSecScan.Collectors.Tests;

/// <summary>Loads repository fixtures the way a scan does (through <see cref="InputReader"/>).</summary>
internal static class Fixtures
{
    /// <summary>Reads a fixture; its display path is the repository-relative path.</summary>
    public static InputFile Load(string relativePath)
    {
        var (file, problem, skipReason) = InputReader.Read(RepoPaths.Combine(relativePath), relativePath);
        Assert.Null(problem);
        Assert.Null(skipReason);
        Assert.NotNull(file);
        return file;
    }

    /// <summary>Repository-relative paths of the files in a fixture folder, sorted.</summary>
    public static IReadOnlyList<string> List(string relativeFolder, string pattern) =>
        Directory.GetFiles(RepoPaths.Combine(relativeFolder), pattern)
            .Select(p => relativeFolder.TrimEnd('/') + "/" + Path.GetFileName(p))
            .Order(StringComparer.Ordinal)
            .ToList();
}
