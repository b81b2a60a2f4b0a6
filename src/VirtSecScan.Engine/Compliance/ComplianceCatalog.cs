using System.Collections.Immutable;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Compliance;

/// <summary>An item of a control that no collector can prove; answered in an attestations file.</summary>
public sealed record ManualItem(string Id, string Text);

/// <summary>One control of a framework: id and short title, the rule patterns that give evidence, the manual items.</summary>
public sealed record Control(string Id, string Title, string? Level, ImmutableArray<string> RulePatterns, ImmutableArray<ManualItem> Manual, int Line)
{
    public bool MatchesRule(string ruleId) => RulePatterns.Any(p => Core.Site.Glob.IsMatch(p, ruleId));

    /// <summary>True when a rule's compliance tag names this control (an enhancement such as SC-8(1) counts for SC-8).</summary>
    public bool MatchesTag(string tag) =>
        string.Equals(tag, Id, StringComparison.OrdinalIgnoreCase)
        || (tag.StartsWith(Id + "(", StringComparison.OrdinalIgnoreCase) && !Id.Contains('(', StringComparison.Ordinal));
}

/// <summary>A control catalogue (<c>rulesets/compliance/*.yaml</c>).</summary>
public sealed record ComplianceCatalog(string Framework, string Title, string? Source, string? Note, ImmutableArray<Control> Controls, string File)
{
    public static readonly ImmutableArray<string> Levels = ["required", "addressable", "standard"];

    public static ComplianceCatalog Parse(string text, string file)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "catalogue", "framework", "title", "source", "note", "controls");
        var framework = y.RequiredString(root, "framework", "catalogue");
        var controls = ImmutableArray.CreateBuilder<Control>();
        foreach (var node in y.Sequence(y.Required(root, "controls", "catalogue"), "controls"))
        {
            var map = y.Mapping(node, "control", "id", "title", "level", "rules", "manual");
            var id = y.RequiredString(map, "id", "control");
            if (controls.Any(c => string.Equals(c.Id, id, StringComparison.OrdinalIgnoreCase)))
            {
                throw y.Error(map, $"control {id} is defined twice");
            }

            var level = y.OptionalString(map, "level", $"control {id}");
            if (level is not null && !Levels.Contains(level))
            {
                throw y.Error(map, $"control {id}: level '{level}' is not one of {string.Join(", ", Levels)}");
            }

            var manual = ImmutableArray.CreateBuilder<ManualItem>();
            if (YamlReader.Child(map, "manual") is { } mn)
            {
                foreach (var item in y.Sequence(mn, $"control {id}: manual"))
                {
                    var im = y.Mapping(item, $"control {id}: manual item", "id", "text");
                    manual.Add(new ManualItem(y.RequiredString(im, "id", $"control {id}: manual item"), y.RequiredString(im, "text", $"control {id}: manual item")));
                }
            }

            controls.Add(new Control(
                id,
                y.RequiredString(map, "title", $"control {id}"),
                level,
                YamlReader.Child(map, "rules") is { } rn ? y.StringList(rn, $"control {id}: rules") : [],
                manual.ToImmutable(),
                YamlReader.LineOf(map)));
        }

        return new ComplianceCatalog(framework, y.RequiredString(root, "title", "catalogue"), y.OptionalString(root, "source", "catalogue"),
            y.OptionalString(root, "note", "catalogue"), controls.ToImmutable(), file);
    }

    /// <summary>The catalogues shipped in a rules folder (<c>compliance/*.yaml</c>), by framework id.</summary>
    public static ImmutableSortedDictionary<string, string> Available(string rulesDirectory)
    {
        var folder = Path.Combine(rulesDirectory, "compliance");
        if (!Directory.Exists(folder))
        {
            return ImmutableSortedDictionary<string, string>.Empty;
        }

        return Directory.EnumerateFiles(folder, "*.yaml").ToImmutableSortedDictionary(f => Path.GetFileNameWithoutExtension(f), f => f, StringComparer.Ordinal);
    }
}
