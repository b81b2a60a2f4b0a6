using VirtSecScan.Core;

namespace VirtSecScan.Collectors.Input;

/// <summary>Progress of one long file read (packets and bytes so far), for a progress bar.</summary>
public sealed record FileProgress(long Items, long Bytes, long TotalBytes, TimeSpan Elapsed);

/// <summary>
/// A collector for binary inputs that must be streamed from disk (packet captures). It recognises a file by its
/// first bytes, reads it from the path and never loads it whole. Like <see cref="ICollector"/> it never throws for
/// bad input: problems become diagnostics. The scanner tries these before the text path.
/// </summary>
public interface IFileCollector
{
    /// <summary>How many leading bytes <see cref="Detect"/> wants to see.</summary>
    int HeadLength { get; }

    /// <summary>The format id if this collector reads a file starting with <paramref name="head"/>, else null.</summary>
    string? Detect(ReadOnlySpan<byte> head);

    CollectorResult Collect(string path, string displayPath, string format, IProgress<FileProgress>? progress = null);
}
