using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VirtSecScan.Collectors.Json;

/// <summary>A JSON value with the line it starts on. Objects keep their properties in order (names as written).</summary>
public sealed class JsonNode
{
    public required JsonTokenType Kind { get; init; }

    /// <summary>Scalar text: strings unescaped, numbers as written, true/false, "" for null.</summary>
    public string Value { get; init; } = "";

    public required int Line { get; init; }

    public List<KeyValuePair<string, JsonNode>> Properties { get; } = [];

    public List<JsonNode> Items { get; } = [];

    public bool IsObject => Kind == JsonTokenType.StartObject;

    public bool IsArray => Kind == JsonTokenType.StartArray;

    public bool IsScalar => !IsObject && !IsArray;

    /// <summary>A property by name, compared case-insensitively (PowerShell property names are case-insensitive).</summary>
    public JsonNode? this[string name] =>
        Properties.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>
/// Parses JSON into <see cref="JsonNode"/>s that know their line numbers (System.Text.Json's DOM does not).
/// Comments and trailing commas are tolerated; a byte-order mark is skipped. Throws <see cref="JsonException"/>
/// for malformed input, with the line.
/// </summary>
public static class JsonTree
{
    public static JsonNode Parse(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text.TrimStart('\uFEFF'));
        var newlines = new List<int>();
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                newlines.Add(i);
            }
        }

        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 128 });
        try
        {
            if (!reader.Read())
            {
                throw new JsonException("empty JSON", null, 0, 0);
            }

            var root = ReadValue(ref reader, newlines);
            if (reader.Read())
            {
                throw new JsonException("text after the JSON value", null, LineAt(newlines, reader.TokenStartIndex) - 1, 0);
            }

            return root;
        }
        catch (JsonException ex) when (ex.LineNumber is null)
        {
            throw new JsonException(ex.Message, null, LineAt(newlines, reader.TokenStartIndex) - 1, 0);
        }
    }

    private static int LineAt(List<int> newlines, long offset)
    {
        var index = newlines.BinarySearch((int)offset);
        return (index < 0 ? ~index : index) + 1;
    }

    private static JsonNode ReadValue(ref Utf8JsonReader reader, List<int> newlines)
    {
        var line = LineAt(newlines, reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var obj = new JsonNode { Kind = JsonTokenType.StartObject, Line = line };
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = reader.GetString() ?? "";
                    reader.Read();
                    obj.Properties.Add(new(name, ReadValue(ref reader, newlines)));
                }

                return obj;
            case JsonTokenType.StartArray:
                var arr = new JsonNode { Kind = JsonTokenType.StartArray, Line = line };
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    arr.Items.Add(ReadValue(ref reader, newlines));
                }

                return arr;
            case JsonTokenType.String:
                return new JsonNode { Kind = JsonTokenType.String, Value = reader.GetString() ?? "", Line = line };
            case JsonTokenType.Number:
                return new JsonNode { Kind = JsonTokenType.Number, Value = Encoding.UTF8.GetString(reader.ValueSpan), Line = line };
            case JsonTokenType.True:
                return new JsonNode { Kind = JsonTokenType.True, Value = "True", Line = line };
            case JsonTokenType.False:
                return new JsonNode { Kind = JsonTokenType.False, Value = "False", Line = line };
            default:
                return new JsonNode { Kind = JsonTokenType.Null, Value = "", Line = line };
        }
    }

    /// <summary>True when the text looks like JSON (after a BOM and blanks, starts with { or [).</summary>
    public static bool LooksLikeJson(string text)
    {
        foreach (var c in text)
        {
            if (c is '\uFEFF' || char.IsWhiteSpace(c))
            {
                continue;
            }

            return c is '{' or '[';
        }

        return false;
    }

    public static string Format(int n) => n.ToString(CultureInfo.InvariantCulture);
}
