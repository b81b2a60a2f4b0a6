using System.Text;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>One numbered line of an input file.</summary>
internal readonly record struct NumberedLine(int Number, string Text);

/// <summary>
/// A part of a file: the output of one command. A file holds one section, or several when the output was
/// captured as a shell transcript (a prompt or command line such as <c>[root@esxi-01:~] esxcli network firewall get</c>
/// before each output).
/// </summary>
internal sealed record Section(string? Command, int CommandLine, IReadOnlyList<NumberedLine> Lines)
{
    public IEnumerable<NumberedLine> Meaningful => Lines.Where(l => l.Text.Trim().Length > 0);
}

/// <summary>Helpers shared by the ESXi host collectors: host names, sections, key-value lines and column tables.</summary>
internal static partial class EsxiText
{
    public const string Kind = "esxi-host";

    [GeneratedRegex(@"^(esxcli|vim-cmd|vmware|get-vmhost|powercli|etc-vmware|vmhost|secureboot|lockdown|services?|advanced|config|settings|host-?config)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex GenericStem();

    [GeneratedRegex(@"^\s*(?:\[[^\]]*\]\s*[#$]?\s*|[#$>]\s*|PS [^>]*>\s*)?(?<cmd>(?:esxcli|vim-cmd|/usr/lib/vmware/\S+|/etc/init\.d/\S+|Get-VMHost\w*)(?:\s.*)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex CommandLine();

    [GeneratedRegex(@"^\s*\[[^\]]*@[^\]]*\]\s*[#$]?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex BarePrompt();

    [GeneratedRegex(@"^\s*-+(?:\s+-+)*\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex DashLine();

    [GeneratedRegex(@"-+", RegexOptions.CultureInvariant)]
    private static partial Regex DashGroup();

    [GeneratedRegex(@"^(?<indent>\s*)(?<key>[A-Za-z][A-Za-z0-9 /()._-]*?)\s*:(?:\s(?<value>.*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyValueLine();

    [GeneratedRegex(@"\s{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex Gap();

    /// <summary>
    /// The host an output belongs to: the file's folder when the file is named after the command
    /// (<c>esxi-01/esxcli-network-firewall-get.txt</c>), else the file name (<c>esxi-01.txt</c>).
    /// </summary>
    public static string HostName(InputFile file) =>
        GenericStem().IsMatch(file.Stem) && file.FolderName.Length > 0 ? file.FolderName : file.Stem;

    public static ResourceRef HostResource(InputFile file, int? line) => HostResource(HostName(file), file.DisplayPath, line);

    public static ResourceRef HostResource(string host, string source, int? line) =>
        new("host", "host:" + host.ToLowerInvariant(), host, Source: source, Line: line);

    /// <summary>Values esxcli prints for "nothing": <c>&lt;none&gt;</c>, <c>(none)</c>, <c>&lt;unset&gt;</c>. They become "".</summary>
    public static string NoneToEmpty(string value)
    {
        var v = value.Trim();
        return v is "<none>" or "(none)" or "<unset>" or "<not set>" or "N/A" ? "" : v;
    }

    /// <summary>"Allow MAC Address Change" → "allowMacAddressChange"; "Enable/Disable configurable" → "enableDisableConfigurable".</summary>
    public static string Camel(string field)
    {
        var words = Regex.Split(field.Trim(), "[^A-Za-z0-9]+").Where(w => w.Length > 0).ToArray();
        var sb = new StringBuilder();
        for (var i = 0; i < words.Length; i++)
        {
            var w = words[i].ToLowerInvariant();
            sb.Append(i == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]);
        }

        return sb.ToString();
    }

    /// <summary>Splits a file into command sections at each prompt or command line; text before the first is a section without command.</summary>
    public static List<Section> Sections(InputFile file)
    {
        var sections = new List<Section>();
        string? command = null;
        var commandLine = 0;
        var lines = new List<NumberedLine>();
        for (var i = 0; i < file.Lines.Length; i++)
        {
            var text = file.Lines[i];
            var m = CommandLine().Match(text);
            var bare = !m.Success && BarePrompt().IsMatch(text);
            if (m.Success || bare)
            {
                if (command is not null || lines.Any(l => l.Text.Trim().Length > 0))
                {
                    sections.Add(new Section(command, commandLine, lines));
                }

                // A prompt with no command (the end of a transcript) closes the section before it.
                command = bare ? null : m.Groups["cmd"].Value.Trim();
                commandLine = i + 1;
                lines = [];
                continue;
            }

            lines.Add(new NumberedLine(i + 1, text));
        }

        if (command is not null || lines.Any(l => l.Text.Trim().Length > 0))
        {
            sections.Add(new Section(command, commandLine, lines));
        }

        return sections;
    }

    /// <summary>An option's value in a command line (<c>-v vSwitch0</c>, <c>--portgroup-name="VM Network"</c>).</summary>
    public static string? OptionValue(string? command, string shortName, string longName)
    {
        if (command is null)
        {
            return null;
        }

        var m = Regex.Match(command, $@"(?:^|\s)(?:-{shortName}|--{longName})(?:=|\s+)(?:""(?<v>[^""]*)""|'(?<v>[^']*)'|(?<v>\S+))", RegexOptions.CultureInvariant);
        return m.Success ? m.Groups["v"].Value : null;
    }

    /// <summary>
    /// <c>Key: Value</c> lines (esxcli's "simple" formatter). A line that is not a key at the first key's
    /// indentation continues the previous value (a description wrapped over several lines).
    /// </summary>
    public static List<(string Key, string Value, int Line)> KeyValues(IEnumerable<NumberedLine> lines)
    {
        var fields = new List<(string Key, string Value, int Line)>();
        int? indent = null;
        foreach (var line in lines)
        {
            if (line.Text.Trim().Length == 0)
            {
                continue;
            }

            var m = KeyValueLine().Match(line.Text);
            if (m.Success && (indent is null || m.Groups["indent"].Value.Length == indent))
            {
                indent ??= m.Groups["indent"].Value.Length;
                fields.Add((m.Groups["key"].Value.Trim(), m.Groups["value"].Value.Trim(), line.Number));
            }
            else if (fields.Count > 0)
            {
                var last = fields[^1];
                fields[^1] = (last.Key, (last.Value + " " + line.Text.Trim()).Trim(), last.Line);
            }
        }

        return fields;
    }

    /// <summary>A column table: a header line, a line of dash groups, then rows until a blank line.</summary>
    public sealed record Table(IReadOnlyList<string> Headers, IReadOnlyList<(int Line, IReadOnlyList<string> Cells)> Rows, int HeaderLine);

    /// <summary>
    /// Reads the first column table of the lines. Column starts come from the dash groups (esxcli pads the
    /// dashes to the column width; PowerShell to the header width), a cell runs to the next column's start.
    /// A row whose text runs over a column start is split at runs of two or more spaces instead.
    /// </summary>
    public static Table? ReadTable(IReadOnlyList<NumberedLine> lines)
    {
        for (var i = 1; i < lines.Count; i++)
        {
            if (!DashLine().IsMatch(lines[i].Text) || lines[i - 1].Text.Trim().Length == 0)
            {
                continue;
            }

            var starts = DashGroup().Matches(lines[i].Text).Select(g => g.Index).ToArray();
            var header = lines[i - 1].Text;
            var headers = Cut(header, starts);
            if (headers.Any(h => h.Length == 0))
            {
                continue;
            }

            var rows = new List<(int, IReadOnlyList<string>)>();
            for (var j = i + 1; j < lines.Count && lines[j].Text.Trim().Length > 0; j++)
            {
                var text = lines[j].Text;
                var overflow = starts.Skip(1).Any(s => s < text.Length && s > 0 && text[s] != ' ' && text[s - 1] != ' ');
                var cells = overflow ? Gap().Split(text.Trim()).Select(c => c.Trim()).ToList() : Cut(text, starts);
                if (overflow && cells.Count != starts.Length)
                {
                    cells = Cut(text, starts);
                }

                rows.Add((lines[j].Number, cells));
            }

            return new Table(headers, rows, lines[i - 1].Number);
        }

        return null;
    }

    private static List<string> Cut(string text, int[] starts)
    {
        var cells = new List<string>(starts.Length);
        for (var c = 0; c < starts.Length; c++)
        {
            var from = Math.Min(starts[c], text.Length);
            var to = c + 1 < starts.Length ? Math.Min(starts[c + 1], text.Length) : text.Length;
            cells.Add(text[from..Math.Max(from, to)].Trim());
        }

        return cells;
    }
}
