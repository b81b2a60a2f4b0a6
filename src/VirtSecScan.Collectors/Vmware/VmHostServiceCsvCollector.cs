using System.Collections.Immutable;
using System.Text;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// PowerCLI <c>Get-VMHost | Get-VMHostService | Export-Csv</c>: a CSV with the columns <c>Key</c>, <c>Label</c>,
/// <c>Policy</c>, <c>Running</c> (and more; an optional <c>#TYPE</c> first line). Each row becomes
/// <c>service[KEY].policy</c>, <c>service[KEY].running</c> ... of the host named in the <c>VMHost</c> column,
/// else of the host the file's name or folder names. One <c>esxi-host</c> fact per host.
/// </summary>
public sealed class VmHostServiceCsvCollector : ICollector
{
    public const string FormatId = "powercli-vmhostservice-csv";

    public string? Detect(InputFile file)
    {
        var header = Header(file);
        return header is not null && new[] { "Key", "Label", "Policy", "Running" }.All(h => header.Value.Cells.Contains(h, StringComparer.OrdinalIgnoreCase))
            ? FormatId
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var (headerIndex, headers) = Header(file)!.Value;
        var key = IndexOf(headers, "Key");
        var host = IndexOf(headers, "VMHost");
        var byHost = new Dictionary<string, List<Setting>>(StringComparer.OrdinalIgnoreCase);
        var order = new List<string>();
        for (var i = headerIndex + 1; i < file.Lines.Length; i++)
        {
            var text = file.Lines[i];
            if (text.Trim().Length == 0)
            {
                continue;
            }

            var cells = Split(text);
            if (cells is null || cells.Count != headers.Count)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, i + 1, $"row has {(cells is null ? "an unclosed quote" : $"{cells.Count} fields, the header {headers.Count}")}; skipped"));
                continue;
            }

            var hostName = host >= 0 && cells[host].Trim().Length > 0 ? ShortName(cells[host]) : EsxiText.HostName(file);
            if (!byHost.TryGetValue(hostName, out var settings))
            {
                byHost[hostName] = settings = [];
                order.Add(hostName);
            }

            foreach (var column in new[] { "Label", "Policy", "Running", "Required", "Uninstallable" })
            {
                var c = IndexOf(headers, column);
                if (c >= 0)
                {
                    settings.Add(new Setting($"service[{cells[key]}].{EsxiText.Camel(column)}", cells[c].Trim(), i + 1, file.DisplayPath));
                }
            }
        }

        var facts = order.Select(h => (object)ConfigFact.Of(EsxiText.HostResource(h, file.DisplayPath, byHost[h].Min(s => s.Line)), EsxiText.Kind, byHost[h]))
            .ToImmutableArray();
        return new CollectorResult(format, facts, diagnostics.ToImmutable());
    }

    /// <summary>A host as vCenter names it ("esxi-01.hospital.example") is matched by its short name, as the site model names hosts.</summary>
    private static string ShortName(string name)
    {
        var n = name.Trim();
        var dot = n.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && !char.IsDigit(n[0]) ? n[..dot] : n;
    }

    private static int IndexOf(List<string> headers, string name) => headers.FindIndex(h => h.Equals(name, StringComparison.OrdinalIgnoreCase));

    private static (int Index, List<string> Cells)? Header(InputFile file)
    {
        for (var i = 0; i < Math.Min(file.Lines.Length, 5); i++)
        {
            var text = file.Lines[i].Trim();
            if (text.Length == 0 || text.StartsWith("#TYPE", StringComparison.Ordinal))
            {
                continue;
            }

            return Split(text) is { Count: >= 4 } cells ? (i, cells) : null;
        }

        return null;
    }

    /// <summary>One CSV line (RFC 4180 quoting, "" for a quote inside a field); null if a quote is not closed.</summary>
    private static List<string>? Split(string line)
    {
        var cells = new List<string>();
        var sb = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    sb.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    sb.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(sb.ToString());
                sb.Clear();
            }
            else if (c != '\r')
            {
                sb.Append(c);
            }
        }

        if (quoted)
        {
            return null;
        }

        cells.Add(sb.ToString());
        return cells;
    }
}
