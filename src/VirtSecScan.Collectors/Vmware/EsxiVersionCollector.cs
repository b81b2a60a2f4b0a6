using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// ESXi version outputs: <c>vmware -v</c> (one line), <c>vmware -vl</c> (plus the update line) and
/// <c>esxcli system version get</c> (indented <c>Key: Value</c> lines). None of them names the host, so
/// the host is the file's folder when the file is named after the command (<c>esxi-02/vmware-vl.txt</c>),
/// else the file name (<c>esxi-02.txt</c>).
/// </summary>
public sealed partial class EsxiVersionCollector : ICollector
{
    public const string VmwareV = "vmware-v";
    public const string VmwareVl = "vmware-vl";
    public const string EsxcliSystemVersion = "esxcli-system-version";

    [GeneratedRegex(@"^VMware ESXi (?<version>\d+\.\d+\.\d+) build-(?<build>\d+)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionLine();

    [GeneratedRegex(@"^VMware ESXi (?<branch>\d+\.\d+)(?:\.\d+)?(?: (?:Update (?<update>\d+)|GA))?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex UpdateLine();

    [GeneratedRegex(@"^\s*(?<key>[A-Za-z][A-Za-z ]*?)\s*:\s*(?<value>.*?)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyValue();

    public string? Detect(InputFile file)
    {
        var lines = Meaningful(file).Take(12).ToList();
        if (lines.Count is 1 or 2 && VersionLine().IsMatch(lines[0].Text))
        {
            return lines.Count == 2 && UpdateLine().IsMatch(lines[1].Text) ? VmwareVl : lines.Count == 1 ? VmwareV : null;
        }

        var fields = ParseFields(lines);
        return fields.TryGetValue("product", out var product) && product.Value.Contains("ESXi", StringComparison.Ordinal)
               && fields.ContainsKey("version") && fields.ContainsKey("build")
            ? EsxcliSystemVersion
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var lines = Meaningful(file).ToList();
        string version;
        long build;
        int? update = null;
        string? updateName = null;
        string? patch = null;
        int line;

        if (format is VmwareV or VmwareVl)
        {
            var m = VersionLine().Match(lines[0].Text);
            version = m.Groups["version"].Value;
            line = lines[0].Number;
            if (!long.TryParse(m.Groups["build"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out build))
            {
                return Failed(file, format, line, "build number out of range");
            }

            if (format == VmwareVl)
            {
                var u = UpdateLine().Match(lines[1].Text);
                updateName = lines[1].Text.Trim();
                if (u.Groups["update"].Success)
                {
                    update = int.Parse(u.Groups["update"].Value, CultureInfo.InvariantCulture);
                }
            }
        }
        else
        {
            var fields = ParseFields(lines);
            version = fields["version"].Value;
            line = fields["build"].Line;
            var buildText = fields["build"].Value;
            buildText = buildText.StartsWith("Releasebuild-", StringComparison.OrdinalIgnoreCase) ? buildText["Releasebuild-".Length..] : buildText;
            if (!long.TryParse(buildText, NumberStyles.None, CultureInfo.InvariantCulture, out build))
            {
                return Failed(file, format, line, $"'Build' is not a build number: {Trim(fields["build"].Value)}");
            }

            if (fields.TryGetValue("update", out var u) && int.TryParse(u.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var un))
            {
                update = un;
            }

            patch = fields.TryGetValue("patch", out var p) ? p.Value : null;
            if (!System.Text.RegularExpressions.Regex.IsMatch(version, @"^\d+\.\d+\.\d+$"))
            {
                return Failed(file, format, fields["version"].Line, $"'Version' is not an ESXi version: {Trim(version)}");
            }
        }

        var (branch, updateLine) = HypervisorBuild.LineOf(version, update);
        var host = HostName(file);
        var resource = new ResourceRef("host", "host:" + host.ToLowerInvariant(), host, Source: file.DisplayPath, Line: line);
        var fact = new HypervisorBuild(resource, "esxi", version, build, branch, updateLine, updateName, patch);
        return new CollectorResult(format, [fact], diagnostics.ToImmutable());
    }

    /// <summary>The host a version file belongs to: its folder when the file is named after the command.</summary>
    public static string HostName(InputFile file)
    {
        var stem = file.Stem.ToLowerInvariant();
        var generic = stem.StartsWith("vmware-v", StringComparison.Ordinal) || stem.StartsWith("esxcli", StringComparison.Ordinal)
                      || stem is "version" or "vmware" or "build";
        return generic && file.FolderName.Length > 0 ? file.FolderName : file.Stem;
    }

    private static CollectorResult Failed(InputFile file, string format, int line, string message) =>
        new(format, [], [Diagnostic.Error(file.DisplayPath, line, message)]);

    private static string Trim(string s) => s.Length > 60 ? s[..60] + "..." : s;

    private static IEnumerable<(int Number, string Text)> Meaningful(InputFile file) =>
        file.Lines.Select((text, i) => (Number: i + 1, Text: text)).Where(l => l.Text.Trim().Length > 0);

    private static Dictionary<string, (string Value, int Line)> ParseFields(IEnumerable<(int Number, string Text)> lines)
    {
        var fields = new Dictionary<string, (string Value, int Line)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (number, text) in lines)
        {
            var m = KeyValue().Match(text);
            if (m.Success)
            {
                fields[m.Groups["key"].Value.ToLowerInvariant()] = (m.Groups["value"].Value, number);
            }
        }

        return fields;
    }
}
