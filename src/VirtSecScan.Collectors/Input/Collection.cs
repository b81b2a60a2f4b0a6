using System.Collections.Immutable;
using VirtSecScan.Core;

namespace VirtSecScan.Collectors.Input;

/// <summary>An input file's text. <see cref="DisplayPath"/> is what reports show (relative to where the scan started).</summary>
public sealed record InputFile(string DisplayPath, string Text)
{
    private string[]? _lines;

    /// <summary>The text split into lines without their line endings (\n, \r\n).</summary>
    public string[] Lines => _lines ??= Text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    /// <summary>The file name without folder or extension.</summary>
    public string Stem => Path.GetFileNameWithoutExtension(DisplayPath.Replace('\\', '/').Split('/')[^1]);

    /// <summary>The name of the folder holding the file ("" at the top).</summary>
    public string FolderName
    {
        get
        {
            var parts = DisplayPath.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length >= 2 ? parts[^2] : "";
        }
    }
}

/// <summary>What one collector produced from one file. The report counts a configuration fact by its settings.</summary>
public sealed record CollectorResult(string Format, ImmutableArray<object> Facts, ImmutableArray<Diagnostic> Diagnostics);

/// <summary>
/// A collector parses one source format into facts. It never judges, never touches the console, and never
/// throws for bad input: problems become diagnostics.
/// </summary>
public interface ICollector
{
    /// <summary>The format id of <paramref name="file"/> if this collector reads it (by content), else null.</summary>
    string? Detect(InputFile file);

    CollectorResult Collect(InputFile file, string format);
}
