using System.Collections.Immutable;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Compliance;

/// <summary>An answer to a manual checklist item: who answered, when, and what backs the answer.</summary>
public sealed record Attestation(string Framework, string Control, string Item, string Answer, string By, DateOnly Date, string? Evidence, string File, int Line)
{
    public static readonly ImmutableArray<string> Answers = ["yes", "no", "n/a"];

    public bool Satisfied => Answer is "yes" or "n/a";
}

/// <summary>Loads an attestations file (YAML) strictly.</summary>
public static class AttestationFile
{
    public static ImmutableArray<Attestation> Parse(string text, string file)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "attestations file", "attestations", "description");
        var result = ImmutableArray.CreateBuilder<Attestation>();
        foreach (var node in y.Sequence(y.Required(root, "attestations", "attestations file"), "attestations"))
        {
            var map = y.Mapping(node, "attestation", "framework", "control", "item", "answer", "by", "date", "evidence");
            var control = y.RequiredString(map, "control", "attestation");
            var what = $"attestation for {control}";
            var answer = y.RequiredString(map, "answer", what).ToLowerInvariant();
            if (!Attestation.Answers.Contains(answer))
            {
                throw y.Error(map, $"{what}: answer '{answer}' is not one of yes, no, n/a");
            }

            result.Add(new Attestation(
                y.RequiredString(map, "framework", what),
                control,
                y.RequiredString(map, "item", what),
                answer,
                y.RequiredString(map, "by", what),
                y.Date(y.Required(map, "date", what), $"{what}: date"),
                y.OptionalString(map, "evidence", what),
                file,
                YamlReader.LineOf(map)));
        }

        return result.ToImmutable();
    }
}
