using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// <c>esxcli software profile get</c>: the image profile's name on the first line, then indented
/// <c>Name:</c>, <c>Vendor:</c>, <c>Creation Time:</c> ... and a <c>VIBs:</c> list. The build is read from
/// the <c>esx-base</c> VIB (<c>VMware_bootbank_esx-base_7.0.3-0.120.23794019</c>: version 7.0.3, build
/// 23794019), because OEM profile names (<c>HPE-Custom-AddOn_...</c>) say nothing; a VMware profile name
/// (<c>ESXi-7.0U3p-23307199-standard</c>) is the fallback. Without either the host is unplaced.
/// </summary>
public sealed partial class EsxiProfileCollector : ICollector
{
    public const string Format = "esxcli-software-profile";

    [GeneratedRegex(@"esx-base_(?<version>\d+\.\d+\.\d+)-[\d.]*?\.(?<build>\d{5,})\b", RegexOptions.CultureInvariant)]
    private static partial Regex EsxBase();

    [GeneratedRegex(@"ESXi-(?<branch>\d+\.\d+)(?:\.\d+)?(?:U(?<update>\d+))?[a-z]*(?:-s)?-(?<build>\d{5,})-(?:standard|no-tools)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ProfileName();

    public string? Detect(InputFile file)
    {
        var lines = VersionFacts.Meaningful(file).Take(12).Select(l => l.Text.Trim()).ToList();
        return lines.Any(l => l.StartsWith("Name:", StringComparison.Ordinal))
               && lines.Any(l => l.StartsWith("Vendor:", StringComparison.Ordinal))
               && lines.Any(l => l.StartsWith("Stateless Ready:", StringComparison.Ordinal))
               && file.Text.Contains("VIBs:", StringComparison.Ordinal)
            ? Format
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var host = VersionFacts.HostName(file);
        var lines = VersionFacts.Meaningful(file).ToList();
        var nameLine = lines.FirstOrDefault(l => l.Text.TrimStart().StartsWith("Name:", StringComparison.Ordinal));
        var profile = nameLine.Text?.Trim()["Name:".Length..].Trim();
        foreach (var (number, text) in lines)
        {
            var m = EsxBase().Match(text);
            if (m.Success && long.TryParse(m.Groups["build"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var build))
            {
                var resource = VersionFacts.Resource(Products.Esxi, host, file, number);
                var fact = VersionFacts.Vmware(Products.Esxi, resource, m.Groups["version"].Value, build, null, profile, null, "esxcli-software-profile");
                return new CollectorResult(format, [fact], []);
            }
        }

        foreach (var (number, text) in lines)
        {
            var m = ProfileName().Match(text);
            if (m.Success && long.TryParse(m.Groups["build"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var build))
            {
                var update = m.Groups["update"].Success ? int.Parse(m.Groups["update"].Value, CultureInfo.InvariantCulture) : 0;
                var version = $"{m.Groups["branch"].Value}.{update}";
                var resource = VersionFacts.Resource(Products.Esxi, host, file, number);
                var fact = VersionFacts.Vmware(Products.Esxi, resource, version, build, update, profile, null, "esxcli-software-profile");
                return new CollectorResult(format, [fact],
                    [Diagnostic.Info(file.DisplayPath, number, "no esx-base VIB listed; build and update line taken from the image profile name")]);
            }
        }

        var at = nameLine.Number > 0 ? nameLine.Number : 1;
        var unplaced = VersionFacts.Unplaced(Products.Esxi, VersionFacts.Resource(Products.Esxi, host, file, at), profile ?? "",
            $"image profile '{VersionFacts.Short(profile ?? "")}' names no build and no esx-base VIB is listed");
        return new CollectorResult(format, [unplaced],
            [Diagnostic.Warning(file.DisplayPath, at, "cannot tell the ESXi build: no esx-base VIB and no VMware image profile name; the host is reported as indeterminate")]);
    }
}
