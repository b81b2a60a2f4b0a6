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

/// <summary>A scratch folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "virtsecscan-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}
