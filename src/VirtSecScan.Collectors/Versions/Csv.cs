using System.Text;

namespace VirtSecScan.Collectors.Versions;

/// <summary>
/// A small RFC 4180 reader for exported inventories: quoted fields with doubled quotes and line breaks,
/// a <c>,</c> or <c>;</c> separator (PowerShell <c>Export-Csv -UseCulture</c> writes <c>;</c> in many locales),
/// and PowerShell's <c>#TYPE ...</c> first line skipped. Each record keeps the line it starts on.
/// </summary>
public static class Csv
{
    public static List<(int Line, List<string> Fields)> Parse(string text, out char separator)
    {
        var records = new List<(int, List<string>)>();
        var lines = text.Split('\n');
        var firstDataLine = 0;
        while (firstDataLine < lines.Length && (lines[firstDataLine].TrimStart().StartsWith("#TYPE", StringComparison.OrdinalIgnoreCase) || lines[firstDataLine].Trim().Length == 0))
        {
            firstDataLine++;
        }

        var header = firstDataLine < lines.Length ? lines[firstDataLine] : "";
        separator = Count(header, ';') > Count(header, ',') ? ';' : header.Contains('\t', StringComparison.Ordinal) && Count(header, ',') == 0 ? '\t' : ',';
        var body = string.Join('\n', lines.Skip(firstDataLine));
        var line = firstDataLine + 1;
        var fields = new List<string>();
        var field = new StringBuilder();
        var inQuotes = false;
        var recordLine = line;
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < body.Length && body[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else
                    {
                        inQuotes = false;
                    }
                }
                else
                {
                    if (c == '\n')
                    {
                        line++;
                    }

                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                inQuotes = true;
            }
            else if (c == separator)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\n')
            {
                fields.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                if (fields.Count > 1 || fields[0].Length > 0)
                {
                    records.Add((recordLine, fields));
                }

                fields = [];
                line++;
                recordLine = line;
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString().TrimEnd('\r'));
        if (fields.Count > 1 || fields[0].Length > 0)
        {
            records.Add((recordLine, fields));
        }

        return records;
    }

    private static int Count(string s, char c) => s.Count(x => x == c);
}
