using System.Text;

using VirtSecScan.Core;

namespace VirtSecScan.Collectors.Input;

/// <summary>
/// Reads input files safely: bounded size, binary files recognised, invalid UTF-8 replaced rather than
/// thrown. Never throws for a bad file; returns a diagnostic instead.
/// </summary>
public static class InputReader
{
    /// <summary>Largest file read (64 MiB). Bigger files are reported and skipped.</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    public static (InputFile? File, Diagnostic? Problem, string? SkipReason) Read(string path, string displayPath, long maxBytes = MaxBytes)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Length > maxBytes)
            {
                return (null, Diagnostic.Warning(displayPath, null, $"file is {info.Length} bytes, over the {maxBytes}-byte limit; not read"), "too large");
            }

            var bytes = File.ReadAllBytes(path);
            if (bytes.Length >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)))
            {
                // UTF-16 with a byte-order mark, as Windows PowerShell 5.1 writes with '>' or Out-File.
                var utf16 = bytes[0] == 0xFF ? new UnicodeEncoding(false, true, false) : new UnicodeEncoding(true, true, false);
                return (new InputFile(displayPath, utf16.GetString(bytes, 2, bytes.Length - 2)), null, null);
            }

            var probe = bytes.AsSpan(0, Math.Min(bytes.Length, 8192));
            if (probe.IndexOf((byte)0) >= 0)
            {
                return (null, null, "binary file");
            }

            var text = new UTF8Encoding(false, false).GetString(bytes);
            if (text.Length > 0 && text[0] == '\uFEFF')
            {
                text = text[1..];
            }

            return (new InputFile(displayPath, text), null, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, Diagnostic.Error(displayPath, null, $"cannot read: {ex.Message}"), null);
        }
    }
}
