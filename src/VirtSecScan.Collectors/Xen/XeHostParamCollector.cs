using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Collectors.Xen;

/// <summary>
/// XenServer / XCP-ng / Citrix Hypervisor <c>xe host-param-list uuid=...</c>: one <c>name ( RO): value</c> line per
/// parameter, the bracket holding <c>RO</c>/<c>RW</c> with an <c>M</c> (map) or <c>S</c> (set) prefix; map values are
/// <c>key: value; key: value</c>. The <c>software-version (MRO)</c> map gives <c>xen</c> (the hypervisor version,
/// with the vendor's package release: <c>4.13.4-9.17.1</c>), <c>product_brand</c>, <c>product_version</c> (all numeric;
/// <c>product_version_text_short</c> may read "7.1 CU1" and is not compared) and <c>build_number</c>. One <c>xen</c>
/// fact per file named after <c>name-label</c>; every map entry and the <c>patches</c> set are kept as packages.
/// </summary>
public sealed partial class XeHostParamCollector : ICollector
{
    public const string Format = "xe-host-param-list";

    [GeneratedRegex(@"^\s*(?<name>[a-z][a-z0-9\-]*)\s*\(\s*(?<flags>M?S?R[OW])\s*\)\s*:\s?(?<value>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex Param();

    public string? Detect(InputFile file)
    {
        var names = VersionFacts.Meaningful(file).Take(200).Select(l => Param().Match(l.Text)).Where(m => m.Success).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        return names.Contains("uuid") && names.Contains("software-version") && names.Contains("name-label") ? Format : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var values = new Dictionary<string, (string Value, int Line)>(StringComparer.Ordinal);
        foreach (var (number, text) in VersionFacts.Meaningful(file))
        {
            var m = Param().Match(text);
            if (m.Success)
            {
                values[m.Groups["name"].Value] = (m.Groups["value"].Value.Trim(), number);
            }
        }

        var name = values.TryGetValue("name-label", out var label) && label.Value.Length > 0 ? label.Value : VersionFacts.HostName(file);
        var (software, line) = values["software-version"];
        var map = ParseMap(software);
        var packages = map.ToDictionary(k => k.Key, k => k.Value, StringComparer.OrdinalIgnoreCase);
        if (values.TryGetValue("patches", out var patches) && patches.Value.Length > 0)
        {
            packages["patches"] = patches.Value;
        }

        var resource = VersionFacts.Resource(Products.Xen, name, file, line);
        if (!map.TryGetValue("xen", out var xen))
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, "software-version has no 'xen' entry; the host is reported as indeterminate"));
            return new CollectorResult(format, [VersionFacts.Unplaced(Products.Xen, resource, "", "no xen version in software-version") with { Packages = VersionFacts.ToPackages(packages) }], diagnostics.ToImmutable());
        }

        var fact = VersionFacts.Versioned(Products.Xen, resource, xen, packages, format);
        fact = fact with { UpdateName = map.TryGetValue("product_brand", out var brand) ? $"{brand} {map.GetValueOrDefault("product_version", "")}".Trim() : null };
        if (fact.Unplaced is not null)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{fact.Unplaced}; the host is reported as indeterminate"));
        }

        return new CollectorResult(format, [fact], diagnostics.ToImmutable());
    }

    /// <summary><c>key: value; key: value</c> → map (split on <c>; </c>, then on the first <c>: </c>).</summary>
    public static Dictionary<string, string> ParseMap(string text)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in text.Split("; ", StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = entry.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0)
            {
                map[entry[..colon].Trim()] = entry[(colon + 2)..].Trim();
            }
            else if (entry.EndsWith(':'))
            {
                map[entry.TrimEnd(':').Trim()] = "";
            }
        }

        return map;
    }
}
