using System.Text.Json;
using VirtSecScan.Cli.Commands;

namespace VirtSecScan.Cli.Tests;

/// <summary>The result of one in-process run of the command line.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public JsonDocument Json() => JsonDocument.Parse(Stdout);
}

/// <summary>Runs <see cref="CommandLine.Run"/> in-process with the repository's rulesets.</summary>
internal static class Cli
{
    /// <summary>Runs with <c>--rules &lt;repo&gt;/rulesets</c> given before the subcommand.</summary>
    public static CliResult Run(params string[] args) => RunWithRules(RepoPaths.Rulesets, args);

    public static CliResult RunWithRules(string rulesDirectory, params string[] args) =>
        RunRaw(["--rules", rulesDirectory, .. args]);

    public static CliResult RunRaw(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = CommandLine.Run(args, stdout, stderr);
        return new CliResult(exit, stdout.ToString(), stderr.ToString());
    }

    public static CliResult ScanJson(params string[] args) => Run(["scan", .. args, "--format", "json", "--no-progress"]);
}

/// <summary>Reads the ranked findings table out of table output (Spectre rounded border, no colours).</summary>
internal static class TableText
{
    /// <summary>The rows of the findings table: for each rank, the text of each column joined across wrapped lines.</summary>
    public static List<string[]> FindingRows(string output)
    {
        var rows = new List<List<List<string>>>();
        foreach (var line in output.Split('\n'))
        {
            if (!line.StartsWith('│'))
            {
                continue;
            }

            var cells = line.TrimEnd('\r').Split('│')[1..^1].Select(c => c.Trim()).ToArray();
            if (cells.Length != 7 || cells[0] == "#")
            {
                continue;
            }

            if (cells[0].Length > 0)
            {
                rows.Add(cells.Select(_ => new List<string>()).ToList());
            }

            if (rows.Count == 0)
            {
                continue;
            }

            for (var i = 0; i < cells.Length; i++)
            {
                if (cells[i].Length > 0)
                {
                    rows[^1][i].Add(cells[i]);
                }
            }
        }

        return rows.Select(r => r.Select(parts => string.Join(" ", parts)).ToArray()).ToList();
    }
}

/// <summary>Outcomes of a JSON report in a form two scans can be compared by.</summary>
internal static class ReportOutcomes
{
    /// <summary>
    /// "rule resource-name status" of every finding and not-evaluated entry, sorted; the feed's own findings are
    /// left out, and the collection findings (<c>collect.*</c>) too unless <paramref name="withCollection"/>.
    /// </summary>
    public static List<string> Of(JsonDocument json, bool withCollection = false) =>
        json.RootElement.GetProperty("findings").EnumerateArray()
            .Concat(json.RootElement.GetProperty("notEvaluated").EnumerateArray())
            .Select(f => $"{f.GetProperty("ruleId").GetString()} {f.GetProperty("resource").GetProperty("name").GetString()} {(f.TryGetProperty("status", out var s) ? s.GetString() : "not-evaluated")}")
            .Where(s => !s.StartsWith("feed.", StringComparison.Ordinal) && (withCollection || !s.StartsWith("collect.", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .ToList();
}
