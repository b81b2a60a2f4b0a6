using System.Collections.Immutable;
using System.Globalization;
using VirtSecScan.Core;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>A data file is wrong: the file and line it is wrong at, and why.</summary>
public sealed class DataFileException(string file, int? line, string message)
    : Exception(line is null ? $"{file}: {message}" : $"{file}:{line.Value.ToString(CultureInfo.InvariantCulture)}: {message}")
{
    public string File { get; } = file;
    public int? Line { get; } = line;
    public string Problem { get; } = message;

    public Diagnostic ToDiagnostic() => Diagnostic.Error(File, Line, Problem);
}

/// <summary>
/// Strict reading of YAML data files with line numbers: every mapping declares its allowed keys, and an
/// unknown key, a missing required key or a wrong type is an error naming file and line.
/// </summary>
public sealed class YamlReader(string file)
{
    public string File { get; } = file;

    /// <summary>Largest data file read (4 MiB).</summary>
    public const int MaxChars = 4 * 1024 * 1024;

    public YamlNode LoadDocument(string text)
    {
        if (text.Length > MaxChars)
        {
            throw new DataFileException(File, null, $"file is larger than {MaxChars} characters");
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new DataFileException(File, (int)ex.Start.Line, "YAML syntax error: " + ex.Message);
        }

        if (stream.Documents.Count != 1)
        {
            throw new DataFileException(File, null, $"expected one YAML document, found {stream.Documents.Count}");
        }

        return stream.Documents[0].RootNode;
    }

    public static int LineOf(YamlNode node) => (int)node.Start.Line;

    public DataFileException Error(YamlNode node, string message) => new(File, LineOf(node), message);

    public YamlMappingNode Mapping(YamlNode node, string what, params string[] allowed)
    {
        if (node is not YamlMappingNode map)
        {
            throw Error(node, $"{what} must be a mapping");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, _) in map.Children)
        {
            var key = ((keyNode as YamlScalarNode)?.Value) ?? throw Error(keyNode, $"{what}: keys must be plain names");
            if (!seen.Add(key))
            {
                throw Error(keyNode, $"{what}: key '{key}' appears twice");
            }

            if (allowed.Length > 0 && !allowed.Contains(key, StringComparer.Ordinal))
            {
                throw Error(keyNode, $"{what}: unknown key '{key}' (allowed: {string.Join(", ", allowed)})");
            }
        }

        return map;
    }

    public static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public YamlNode Required(YamlMappingNode map, string key, string what) =>
        Child(map, key) ?? throw Error(map, $"{what}: missing required key '{key}'");

    public string Scalar(YamlNode node, string what)
    {
        if (node is not YamlScalarNode scalar || scalar.Value is null)
        {
            throw Error(node, $"{what} must be a single value");
        }

        return scalar.Value;
    }

    public string RequiredString(YamlMappingNode map, string key, string what)
    {
        var value = Scalar(Required(map, key, what), $"{what}: '{key}'");
        if (string.IsNullOrWhiteSpace(value))
        {
            throw Error(map, $"{what}: '{key}' is empty");
        }

        return value;
    }

    public string? OptionalString(YamlMappingNode map, string key, string what) =>
        Child(map, key) is { } node ? Scalar(node, $"{what}: '{key}'") : null;

    public ImmutableArray<string> StringList(YamlNode node, string what)
    {
        if (node is YamlScalarNode)
        {
            return [Scalar(node, what)];
        }

        if (node is not YamlSequenceNode seq)
        {
            throw Error(node, $"{what} must be a list");
        }

        return seq.Children.Select(c => Scalar(c, what)).ToImmutableArray();
    }

    public ImmutableArray<YamlNode> Sequence(YamlNode node, string what) =>
        node is YamlSequenceNode seq ? seq.Children.ToImmutableArray() : throw Error(node, $"{what} must be a list");

    public DateOnly Date(YamlNode node, string what)
    {
        var text = Scalar(node, what);
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d
            : throw Error(node, $"{what}: '{text}' is not a date (YYYY-MM-DD)");
    }

    public long Integer(YamlNode node, string what)
    {
        var text = Scalar(node, what);
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw Error(node, $"{what}: '{text}' is not a whole number");
    }

    public double Number(YamlNode node, string what)
    {
        var text = Scalar(node, what);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw Error(node, $"{what}: '{text}' is not a number");
    }
}
