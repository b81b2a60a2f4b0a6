using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Libvirt;

/// <summary>
/// Reads libvirt's QEMU driver configuration (<c>/etc/libvirt/qemu.conf</c>) into a <c>libvirt-host</c> fact: every
/// active <c>key = value</c> as written (strings unquoted, lists joined by commas; a list may span lines). <c>#</c>
/// starts a comment outside quotes; commented-out lines are the built-in defaults and are not settings. Password keys
/// (<c>vnc_password</c>, <c>spice_password</c>) become <c>&lt;key&gt;.present</c>; their values are never kept.
/// The host is named after the folder holding the file (an <c>etc/libvirt</c> tail is skipped).
/// </summary>
public sealed partial class QemuConfCollector : ICollector
{
    public const string FormatId = "libvirt-qemu-conf";

    public const string Kind = "libvirt-host";

    [GeneratedRegex(@"^\s*#?\s*(vnc_listen|vnc_tls|vnc_password|vnc_sasl|vnc_auto_unix_socket|spice_listen|spice_tls|spice_password|security_driver|security_default_confined|security_require_confined|dynamic_ownership|migrate_tls_force|max_core|dump_guest_core|remember_owner|nvram|cgroup_device_acl|user|group)\s*=", RegexOptions.CultureInvariant)]
    private static partial Regex KnownKey();

    [GeneratedRegex(@"^\s*(?<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?<rest>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex Assignment();

    public string? Detect(InputFile file)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        var active = 0;
        var foreign = 0;
        foreach (var raw in file.Lines.Take(2000))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var m = KnownKey().Match(line);
            if (m.Success)
            {
                known.Add(m.Groups[1].Value);
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            if (Assignment().IsMatch(line))
            {
                active++;
            }
            else if (!(line.StartsWith('"') || line.StartsWith(']') || line.StartsWith('[')))
            {
                foreign++;
            }
        }

        // Stock qemu.conf files are nearly all comments: the known keys may appear only commented out.
        return known.Count >= 2 && foreign * 10 <= active + 1 && (known.Contains("vnc_listen") || known.Contains("security_driver") || known.Contains("vnc_tls"))
            ? FormatId
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var settings = new Dictionary<string, Setting>(StringComparer.OrdinalIgnoreCase);
        var lines = file.Lines;
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNo = i + 1;
            var line = StripComment(lines[i]).Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var m = Assignment().Match(line);
            if (!m.Success)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, "not a key = value line; ignored"));
                continue;
            }

            var key = m.Groups["key"].Value;
            var rest = m.Groups["rest"].Value.Trim();
            if (rest.StartsWith('['))
            {
                // A list may continue on the following lines until the closing bracket.
                var sb = new StringBuilder(rest);
                while (!HasClosingBracket(sb.ToString()) && i + 1 < lines.Length)
                {
                    i++;
                    sb.Append(' ').Append(StripComment(lines[i]).Trim());
                }

                if (!HasClosingBracket(sb.ToString()))
                {
                    diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, $"list of '{key}' is not closed; value ignored"));
                    continue;
                }

                rest = sb.ToString();
                var items = Regex.Matches(rest, "\"((?:[^\"\\\\]|\\\\.)*)\"").Select(x => x.Groups[1].Value);
                Put(settings, diagnostics, file, key, string.Join(",", items), lineNo);
                continue;
            }

            string value;
            if (rest.StartsWith('"'))
            {
                var close = rest.IndexOf('"', 1);
                if (close < 0)
                {
                    diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, $"value of '{key}' has no closing quote; value ignored"));
                    continue;
                }

                value = rest[1..close];
            }
            else
            {
                value = rest;
            }

            Put(settings, diagnostics, file, key, value, lineNo);
        }

        var name = HostName(file.DisplayPath);
        var resource = new ResourceRef("host", "libvirt-host:" + name, name, Source: file.DisplayPath, Line: null);
        return new CollectorResult(format, [ConfigFact.Of(resource, Kind, settings.Values)], diagnostics.ToImmutable());
    }

    private static void Put(Dictionary<string, Setting> settings, ImmutableArray<Diagnostic>.Builder diagnostics, InputFile file, string key, string value, int line)
    {
        if (key.EndsWith("_password", StringComparison.OrdinalIgnoreCase))
        {
            key += ".present";
            value = value.Length > 0 ? "true" : "false";
        }

        if (settings.TryGetValue(key, out var previous))
        {
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, line, $"'{key}' repeats line {previous.Line.ToString(CultureInfo.InvariantCulture)}; the last value wins"));
        }

        settings[key] = new Setting(key, value, line);
    }

    private static bool HasClosingBracket(string text) => StripQuoted(text).Contains(']');

    private static string StripQuoted(string text) => Regex.Replace(text, "\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");

    /// <summary>The line without a <c>#</c> comment that is outside double quotes.</summary>
    private static string StripComment(string line)
    {
        var inQuote = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && inQuote)
            {
                i++;
            }
            else if (c == '"')
            {
                inQuote = !inQuote;
            }
            else if (c == '#' && !inQuote)
            {
                return line[..i];
            }
        }

        return line;
    }

    /// <summary>hosts/kvm-01/qemu.conf and hosts/kvm-01/etc/libvirt/qemu.conf both name kvm-01; a bare qemu.conf names "libvirt-host".</summary>
    public static string HostName(string displayPath) => HostRoot(displayPath).Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "libvirt-host";

    /// <summary>The folder a qemu.conf speaks for: its own folder without an <c>etc/libvirt</c> tail.</summary>
    public static string HostRoot(string displayPath)
    {
        var parts = displayPath.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).SkipLast(1).ToList();
        if (parts.Count >= 2 && parts[^1] == "libvirt" && parts[^2] == "etc")
        {
            parts.RemoveRange(parts.Count - 2, 2);
        }

        return string.Join('/', parts);
    }
}
