using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// Host inventories exported to CSV, many hosts per file: PowerCLI <c>Get-VMHost | Export-Csv</c> (columns
/// <c>Name</c>, <c>Version</c> <c>8.0.3</c>, <c>Build</c> <c>24022510</c>; Windows PowerShell writes a
/// <c>#TYPE ...VMHostImpl</c> first line) and the RVTools <c>vHost</c> sheet saved as CSV (column <c>Host</c>
/// and <c>ESX Version</c> holding <c>VMware ESXi 7.0.3 build-21930508</c> in one cell). Quoted fields, a
/// <c>,</c> or <c>;</c> separator and a UTF-8 BOM are accepted. A row whose version cannot be read becomes an
/// unplaced host with a diagnostic naming the line.
/// </summary>
public sealed partial class VmHostCsvCollector : ICollector
{
    public const string PowerCli = "powercli-vmhost-csv";
    public const string RvTools = "rvtools-vhost-csv";

    [GeneratedRegex(@"VMware ESXi (?<version>\d+\.\d+\.\d+) build-(?<build>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex EsxVersion();

    public string? Detect(InputFile file)
    {
        var head = file.Lines.Take(3).ToList();
        if (head.Count == 0 || !(head[0].Contains(',', StringComparison.Ordinal) || head[0].Contains(';', StringComparison.Ordinal) || head[0].StartsWith("#TYPE", StringComparison.Ordinal)))
        {
            return null;
        }

        var records = Csv.Parse(string.Join('\n', file.Lines.Take(2).Concat(file.Lines.Skip(2).Take(1))), out _);
        if (records.Count == 0)
        {
            return null;
        }

        var header = records[0].Fields.Select(f => f.Trim()).ToList();
        if (Has(header, "Host") && Has(header, "ESX Version"))
        {
            return RvTools;
        }

        return Has(header, "Name") && Has(header, "Version") && Has(header, "Build") ? PowerCli : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var records = Csv.Parse(file.Text, out _);
        var header = records[0].Fields.Select(f => f.Trim()).ToList();
        var facts = ImmutableArray.CreateBuilder<object>();
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var nameColumn = Index(header, format == RvTools ? "Host" : "Name");
        foreach (var (line, fields) in records.Skip(1))
        {
            string Cell(int i) => i >= 0 && i < fields.Count ? fields[i].Trim() : "";
            var name = Cell(nameColumn);
            if (name.Length == 0)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, "row without a host name; skipped"));
                continue;
            }

            var resource = VersionFacts.Resource(Products.Esxi, name, file, line);
            string version;
            string buildText;
            if (format == RvTools)
            {
                var cell = Cell(Index(header, "ESX Version"));
                var m = EsxVersion().Match(cell);
                version = m.Success ? m.Groups["version"].Value : cell;
                buildText = m.Success ? m.Groups["build"].Value : "";
            }
            else
            {
                version = Cell(Index(header, "Version"));
                buildText = Cell(Index(header, "Build"));
            }

            if (!long.TryParse(buildText, NumberStyles.None, CultureInfo.InvariantCulture, out var build))
            {
                facts.Add(VersionFacts.Unplaced(Products.Esxi, resource, version, $"no build number in '{VersionFacts.Short(version + " " + buildText)}'"));
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{name}: cannot read an ESXi version and build from '{VersionFacts.Short((version + " " + buildText).Trim())}'; the host is reported as indeterminate"));
                continue;
            }

            var fact = VersionFacts.Vmware(Products.Esxi, resource, version, build, null, null, null, format);
            if (fact.Unplaced is not null)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{name}: {fact.Unplaced}; the host is reported as indeterminate"));
            }

            facts.Add(fact);
        }

        return new CollectorResult(format, facts.ToImmutable(), diagnostics.ToImmutable());
    }

    private static bool Has(List<string> header, string name) => Index(header, name) >= 0;

    private static int Index(List<string> header, string name) => header.FindIndex(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
}
