using System.Collections.Concurrent;
using System.Collections.Immutable;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Scanning;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace VirtSecScan.Engine.Tests;

/// <summary>One entry of a RuleExamples/*.yaml file: a rule and its cases.</summary>
internal sealed class RuleExampleEntry
{
    public string Rule { get; set; } = "";
    public List<RuleExampleCase> Cases { get; set; } = [];
}

/// <summary>One case: a VM (vmx text) evaluated under a profile, and the expected outcome of the rule.</summary>
internal sealed class RuleExampleCase
{
    public string Name { get; set; } = "";
    public string Profile { get; set; } = "";
    public string Expect { get; set; } = "";
    public string Vmx { get; set; } = "";

    /// <summary>Instead of <see cref="Vmx"/>: a configuration fact of this kind (for example traffic-flow) ...</summary>
    public string Kind { get; set; } = "";

    /// <summary>... with these settings.</summary>
    public Dictionary<string, string> Settings { get; set; } = [];
}

internal sealed record RuleExample(string File, string Rule, RuleExampleCase Case);

/// <summary>
/// Runs every example in RuleExamples/*.yaml through the shipped rulesets and checks the rule's outcome:
/// the examples are the rules' executable specification (docs/rule-format.md, "Testing a rule").
/// </summary>
public sealed class RuleExamplesTests
{
    private static readonly DateOnly ScanDate = new(2026, 11, 27);

    private static readonly Lazy<ImmutableArray<LoadedRuleset>> Shipped = new(() => Scanner.LoadRules(RepoPaths.Rulesets).Rulesets);

    private static readonly Lazy<IReadOnlyList<RuleExample>> Examples = new(LoadExamples);

    private static readonly ConcurrentDictionary<string, RuleEngine> Engines = new(StringComparer.Ordinal);

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var example in Examples.Value)
        {
            data.Add(example.Rule, example.Case.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExampleCaseGivesTheExpectedOutcome(string rule, string caseName)
    {
        var example = Examples.Value.First(e => e.Rule == rule && e.Case.Name == caseName);
        var profile = string.IsNullOrEmpty(example.Case.Profile) ? Profiles.Default : example.Case.Profile;
        object vm = string.IsNullOrEmpty(example.Case.Kind)
            ? TestVms.Parse(example.Case.Vmx, $"RuleExamples/{rule}.vmx")
            : Core.Facts.ConfigFact.Of(new ResourceRef("flow", $"example:{caseName}", caseName, Source: $"RuleExamples/{rule}"), example.Case.Kind,
                example.Case.Settings.Select(kv => new Core.Facts.Setting(kv.Key, kv.Value, 1)));
        var engine = Engines.GetOrAdd(profile, p => new RuleEngine(Shipped.Value, p));

        var outcomes = engine.Evaluate([vm], AdvisoryFeed.Empty, ScanDate).Where(f => f.RuleId == rule).ToList();

        Assert.True(outcomes.Count > 0, $"{rule} produced no outcome under profile {profile} (is {profile} one of the rule's profiles?)");
        var described = Describe(outcomes);
        switch (example.Case.Expect)
        {
            case "fail":
                Assert.True(outcomes.Any(o => o.Status == FindingStatus.Fail), $"expected a fail; got {described}");
                break;
            case "pass":
                Assert.True(outcomes.All(o => o.Status == FindingStatus.Pass), $"expected every outcome to pass; got {described}");
                break;
            case "not-evaluated":
                Assert.True(outcomes.All(o => o.Status != FindingStatus.Fail) && outcomes.Any(o => o.Status == FindingStatus.NotEvaluated),
                    $"expected not-evaluated and no fail; got {described}");
                break;
            default:
                Assert.Fail($"{example.File}: case '{caseName}' of {rule}: expect must be fail, pass or not-evaluated, not '{example.Case.Expect}'");
                break;
        }
    }

    [Fact]
    public void EveryShippedRuleHasAFailingAndAPassingExample()
    {
        var missing = new List<string>();
        foreach (var rule in Shipped.Value.SelectMany(r => r.Rules))
        {
            var cases = Examples.Value.Where(e => e.Rule == rule.Id).ToList();
            if (!cases.Any(c => c.Case.Expect == "fail"))
            {
                missing.Add($"{rule.Id}: no fail example");
            }

            if (!cases.Any(c => c.Case.Expect == "pass"))
            {
                missing.Add($"{rule.Id}: no pass example");
            }
        }

        Assert.True(missing.Count == 0, "rules without examples:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void EveryExampleNamesAShippedRule()
    {
        var ids = Shipped.Value.SelectMany(r => r.Rules).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);

        var unknown = Examples.Value.Where(e => !ids.Contains(e.Rule)).Select(e => $"{e.File}: {e.Rule}").Distinct().ToList();

        Assert.True(unknown.Count == 0, "examples for rules that do not exist:\n" + string.Join("\n", unknown));
    }

    [Fact]
    public void ExampleCaseNamesAreUniquePerRule()
    {
        var duplicates = Examples.Value.GroupBy(e => (e.Rule, e.Case.Name)).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key.Rule}: '{g.Key.Name}'").ToList();

        Assert.True(duplicates.Count == 0, "case names used twice for one rule:\n" + string.Join("\n", duplicates));
    }

    [Fact]
    public void ExamplesExist()
    {
        Assert.NotEmpty(Examples.Value);
    }

    private static string Describe(List<Finding> outcomes) =>
        string.Join("; ", outcomes.Select(o =>
            $"{o.Status.ToName()}{(o.Discriminator.Length > 0 ? $" ({o.Discriminator})" : "")} [{string.Join(", ", o.Evidence.Select(e => $"{e.Key}={e.Actual}"))}]"
            + (o.Reason is null ? "" : $" reason: {o.Reason}")));

    private static IReadOnlyList<RuleExample> LoadExamples()
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        var examples = new List<RuleExample>();
        foreach (var path in Directory.EnumerateFiles(RepoPaths.RuleExamples, "*.yaml").Order(StringComparer.Ordinal))
        {
            var file = Path.GetFileName(path);
            var entries = deserializer.Deserialize<List<RuleExampleEntry>>(File.ReadAllText(path)) ?? [];
            foreach (var entry in entries)
            {
                examples.AddRange(entry.Cases.Select(c => new RuleExample(file, entry.Rule, c)));
            }
        }

        return examples;
    }
}
