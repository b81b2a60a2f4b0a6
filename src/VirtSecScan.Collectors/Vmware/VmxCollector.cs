using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// Reads VMware <c>.vmx</c> files: <c>key = "value"</c> lines, <c>#</c> comments, an optional
/// <c>.encoding</c> or <c>#!</c> first line. Keys are case-insensitive and taken literally (a key such as
/// <c>pciPassthru*.present</c> is never glob-expanded); a repeated key keeps its last value and says so;
/// <c>|XX</c> hex escapes in values are decoded. Secrets (VNC passwords and the like) are kept only as
/// facts; they are never written to diagnostics.
/// </summary>
public sealed partial class VmxCollector : ICollector
{
    public const string FormatId = "vmware-vmx";

    [GeneratedRegex(@"^\s*(?<key>[^=\s""]+)\s*=\s*""", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedAssignment();

    [GeneratedRegex(@"^(config\.version|virtualhw\.version|displayname|guestos|\.encoding|memsize|numvcpus|uuid\.bios)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TypicalKey();

    [GeneratedRegex(@"\|([0-9A-Fa-f]{2})", RegexOptions.CultureInvariant)]
    private static partial Regex HexEscape();

    public string? Detect(InputFile file)
    {
        var meaningful = 0;
        var assignments = 0;
        var typical = false;
        foreach (var raw in file.Lines.Take(400))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            meaningful++;
            var m = QuotedAssignment().Match(line);
            if (m.Success)
            {
                assignments++;
                typical |= TypicalKey().IsMatch(m.Groups["key"].Value);
            }
        }

        return typical && meaningful > 0 && assignments * 10 >= meaningful * 7 ? FormatId : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var lines = file.Lines;
        var settings = new Dictionary<string, Setting>(lines.Length, StringComparer.OrdinalIgnoreCase);
        var truncated = file.Text.Length > 0 && !file.Text.EndsWith('\n');

        for (var i = 0; i < lines.Length; i++)
        {
            var lineNo = i + 1;
            // Spans until the key and value are known: a .vmx has about a hundred lines, an estate ten thousand .vmx files.
            var line = lines[i].AsSpan().Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var eq = line.IndexOf('=');
            if (eq <= 0)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, "not a key = value line; ignored"));
                continue;
            }

            // Keys repeat in every file: one pooled instance each.
            var key = StringPool.Intern(line[..eq].Trim());
            if (key.Any(char.IsWhiteSpace) || key.Contains('"'))
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, "key contains spaces or quotes; line ignored"));
                continue;
            }

            var rawValue = line[(eq + 1)..].Trim();
            ReadOnlySpan<char> valueText;
            if (rawValue.Length > 0 && rawValue[0] == '"')
            {
                // VMware writes a quote inside a value as |22, so the next quote closes the value.
                var close = rawValue[1..].IndexOf('"') is var c and >= 0 ? c + 1 : -1;
                if (close < 0)
                {
                    var atEnd = truncated && i == lines.Length - 1;
                    diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, atEnd
                        ? $"value of '{key}' is cut off: the file appears truncated; value ignored"
                        : $"value of '{key}' has no closing quote; value ignored"));
                    continue;
                }

                valueText = rawValue[1..close];
                if (close != rawValue.Length - 1 && !rawValue[(close + 1)..].TrimStart().StartsWith('#'))
                {
                    diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, $"text after the closing quote of '{key}' ignored"));
                }
            }
            else
            {
                valueText = rawValue;
            }

            // Short values (TRUE, FALSE, device types) repeat too; long ones (UUIDs, paths) rarely do.
            var value = valueText.Length <= 16 ? StringPool.Intern(valueText) : valueText.ToString();
            value = !value.Contains('|') ? value : HexEscape().Replace(value, m => ((char)int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToString());
            if (settings.TryGetValue(key, out var previous))
            {
                diagnostics.Add(Diagnostic.Info(file.DisplayPath, lineNo,
                    $"'{key}' repeats line {previous.Line.ToString(CultureInfo.InvariantCulture)}; the last value wins"));
            }

            settings[key] = new Setting(key, value, lineNo);
        }

        if (truncated && lines.Length > 0 && diagnostics.All(d => !d.Message.Contains("truncated", StringComparison.Ordinal)))
        {
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, lines.Length, "the file does not end with a line break"));
        }

        var map = settings.Values.ToSettingMap();
        settings.TryGetValue("displayName", out var displayName);
        var name = displayName?.Value is { Length: > 0 } dn ? dn : file.Stem;
        var id = settings.TryGetValue("uuid.bios", out var uuid) && NormaliseUuid(uuid.Value) is { } u
            ? "vm:" + u
            : "vm:name:" + name.ToLowerInvariant();
        if (!settings.ContainsKey("uuid.bios"))
        {
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, null, "no uuid.bios: the VM is identified by its display name"));
        }

        var resource = new ResourceRef("vm", id, name, Source: file.DisplayPath, Line: displayName?.Line);
        return new CollectorResult(format, [new VmConfig(resource, map)], diagnostics.ToImmutable());
    }

    /// <summary>"56 4d 12 ab ... -..." → 32 lower-case hex digits, or null when it is not a UUID.</summary>
    public static string? NormaliseUuid(string text)
    {
        var sb = new StringBuilder(32);
        foreach (var c in text)
        {
            if (Uri.IsHexDigit(c))
            {
                sb.Append(char.ToLowerInvariant(c));
            }
            else if (c is not (' ' or '-'))
            {
                return null;
            }
        }

        return sb.Length == 32 ? sb.ToString() : null;
    }
}
