using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Collectors.Libvirt;

/// <summary>
/// <c>virsh version</c> (and <c>virsh version --daemon</c>): <c>Compiled against library: libvirt 10.0.0</c>,
/// <c>Using library: libvirt 10.0.0</c>, <c>Using API: QEMU 10.0.0</c>, <c>Running hypervisor: QEMU 8.2.2</c>,
/// <c>Running against daemon: 10.0.0</c>. Gives a <c>libvirt</c> fact (the library in use; the daemon's
/// version when shown) and a fact for the running hypervisor (<c>qemu</c>, or <c>xen</c> for libxl). These are
/// upstream versions: distribution backports are not visible here (a package list is better evidence).
/// </summary>
public sealed partial class VirshVersionCollector : ICollector
{
    public const string Format = "virsh-version";

    [GeneratedRegex(@"^\s*(?<key>Compiled against library|Using library|Using API|Running hypervisor|Running against daemon):\s*(?<value>.*?)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Field();

    public string? Detect(InputFile file)
    {
        var lines = VersionFacts.Meaningful(file).Take(8).ToList();
        var matched = lines.Count(l => Field().IsMatch(l.Text));
        return matched >= 2 && matched == lines.Count && lines.Any(l => l.Text.Contains("library:", StringComparison.Ordinal)) ? Format : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var host = VersionFacts.HostName(file);
        var fields = new Dictionary<string, (string Value, int Line)>(StringComparer.Ordinal);
        foreach (var (number, text) in VersionFacts.Meaningful(file))
        {
            var m = Field().Match(text);
            if (m.Success)
            {
                fields[m.Groups["key"].Value] = (m.Groups["value"].Value, number);
            }
        }

        var facts = ImmutableArray.CreateBuilder<object>();
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var libvirt = fields.TryGetValue("Running against daemon", out var d) ? (d.Value, d.Line)
            : fields.TryGetValue("Using library", out var u) ? (Value: u.Value.Replace("libvirt ", "", StringComparison.Ordinal), u.Line)
            : ((string Value, int Line)?)null;
        if (libvirt is { } lv)
        {
            facts.Add(Fact(Products.Libvirt, lv.Value.Trim(), host, file, lv.Line, diagnostics));
        }

        if (fields.TryGetValue("Running hypervisor", out var hv))
        {
            var parts = hv.Value.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            var product = parts.Length > 0 ? parts[0].ToUpperInvariant() switch
            {
                "QEMU" => Products.Qemu,
                "XEN" => Products.Xen,
                _ => null,
            } : null;
            if (product is null)
            {
                diagnostics.Add(Diagnostic.Info(file.DisplayPath, hv.Line, $"hypervisor '{VersionFacts.Short(hv.Value)}' has no advisory product; not judged"));
            }
            else
            {
                facts.Add(Fact(product, parts.Length > 1 ? parts[1].Trim() : "", host, file, hv.Line, diagnostics));
            }
        }

        return new CollectorResult(format, facts.ToImmutable(), diagnostics.ToImmutable());
    }

    private static object Fact(string product, string version, string host, InputFile file, int line, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var fact = VersionFacts.Versioned(product, VersionFacts.Resource(product, host, file, line), version, null, Format);
        if (fact.Unplaced is not null)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{fact.Unplaced}; the host is reported as indeterminate"));
        }

        return fact;
    }
}
