using System.Collections.Concurrent;
using System.Collections.Immutable;
using VirtSecScan.Collectors;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
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

/// <summary>
/// One case: a VM (vmx text), or any input text with its format id (parsed by the collector that detects that
/// format), evaluated under a profile, and the expected outcome of the rule. <c>with</c> lists further files of
/// the same host (a qemu.conf for a libvirt domain, another Hyper-V cmdlet output) collected and linked as a scan does.
/// </summary>
internal sealed class RuleExampleCase
{
    public string Name { get; set; } = "";
    public string Profile { get; set; } = "";
    public string Expect { get; set; } = "";
    public string Vmx { get; set; } = "";

    /// <summary>Command output or file text for a non-vmx fact: detected and parsed by the collectors as a scan does.</summary>
    public string? Input { get; set; }

    /// <summary>The format id the collectors must detect for <see cref="Input"/> (optional).</summary>
    public string? Format { get; set; }

    /// <summary>Settings of a configuration fact of the rule's kind, for keys no collector produces yet.</summary>
    public Dictionary<string, string>? Settings { get; set; }

    /// <summary>The kind of the <see cref="Settings"/> fact (default: the rule's appliesTo), for example traffic-flow.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Further input files of a case (a host's qemu.conf ...): format id and text.</summary>
    public List<RuleExampleInput> With { get; set; } = [];
}

/// <summary>A further input file of a case: format id and text.</summary>
internal sealed class RuleExampleInput
{
    public string Format { get; set; } = "";
    public string Input { get; set; } = "";
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
        var facts = FactsOf(rule, example.Case);
        var engine = Engines.GetOrAdd(profile, p => new RuleEngine(Shipped.Value, p));
        var outcomes = engine.Evaluate(facts, AdvisoryFeed.Empty, ScanDate)
            .Where(f => f.RuleId == rule && (example.Case.With.Count == 0 || f.Resource.Source == MainInput(rule))).ToList();

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

    /// <summary>The facts of a case: its input run through the collectors, its settings as a fact of the rule's kind, or its vmx.</summary>
    private static List<object> FactsOf(string rule, RuleExampleCase c)
    {
        if (!string.IsNullOrEmpty(c.Input))
        {
            var facts = Collect(c.Format, c.Input, MainInput(rule)).ToList();
            Assert.True(facts.Count > 0, $"{rule} '{c.Name}': the collector produced no fact");
            for (var i = 0; i < c.With.Count; i++)
            {
                facts.AddRange(Collect(c.With[i].Format, c.With[i].Input, $"RuleExamples/{rule}/with-{i}"));
            }

            return FactLinks.Link(EsxiHostFacts.Merge(facts));
        }

        if (c.Settings is not null)
        {
            var kind = string.IsNullOrEmpty(c.Kind) ? Shipped.Value.SelectMany(r => r.Rules).First(r => r.Id == rule).AppliesTo : c.Kind;
            var type = kind == "traffic-flow" ? "flow" : kind.EndsWith("-host", StringComparison.Ordinal) ? "host" : "vm";
            var resource = new ResourceRef(type, $"example:{rule}", "example-01", Source: $"RuleExamples/{rule}");
            return [ConfigFact.Of(resource, kind, c.Settings.Select((kv, i) => new Setting(kv.Key, kv.Value, i + 1)))];
        }

        return [TestVms.Parse(c.Vmx, $"RuleExamples/{rule}.vmx")];
    }

    private static string MainInput(string rule) => $"RuleExamples/{rule}/input";

    /// <summary>Parses example text with the collector that detects it (as <paramref name="format"/> when given); fails on collector errors.</summary>
    private static IEnumerable<object> Collect(string? format, string text, string path)
    {
        var file = new InputFile(path, text);
        var detected = CollectorRegistry.Detect(file);
        var collector = string.IsNullOrEmpty(format) ? detected?.Collector : CollectorRegistry.All.FirstOrDefault(c => c.Detect(file) == format);
        Assert.True(collector is not null, $"{path}: no collector detects the input{(string.IsNullOrEmpty(format) ? "" : $" as '{format}'")} (detected: {detected?.Format ?? "nothing"})");
        var result = collector.Collect(file, string.IsNullOrEmpty(format) ? detected!.Value.Format : format);
        var errors = result.Diagnostics.Where(d => d.Level == "error").ToList();
        Assert.True(errors.Count == 0, $"{path}: " + string.Join("; ", errors.Select(e => $"line {e.Line}: {e.Message}")));
        return result.Facts;
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
