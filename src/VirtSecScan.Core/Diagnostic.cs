namespace VirtSecScan.Core;

/// <summary>A problem with an input: level (error, warning, info), file, line where there is one, message.</summary>
public sealed record Diagnostic(string Level, string File, int? Line, string Message)
{
    public static Diagnostic Error(string file, int? line, string message) => new("error", file, line, message);
    public static Diagnostic Warning(string file, int? line, string message) => new("warning", file, line, message);
    public static Diagnostic Info(string file, int? line, string message) => new("info", file, line, message);
}

