using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Tests;

/// <summary>Strict loading of ruleset files: every error names the file and the line it is at.</summary>
public sealed class RulesetLoaderTests
{
    private const string File = "rulesets/test.yaml";

    internal const string Valid = """
        ruleset: test-set
        version: "1.0"
        rules:
          - id: test.copy-disabled
            title: Console copy is allowed
            category: VT08
            severity: low
            appliesTo: vm
            check:
              key: isolation.tools.copy.disable
              op: equals
              value: "TRUE"
            rationale: Copying moves patient data off the clinical network.
            remediation:
              summary: Disable console copy.
              steps:
                - "PowerCLI: Get-VM '{name}' | New-AdvancedSetting -Name isolation.tools.copy.disable -Value TRUE -Force"
        """;

    [Fact]
    public void ValidMinimalRulesetLoads()
    {
        var ruleset = RulesetLoader.Parse(Valid, File);

        Assert.Equal("test-set", ruleset.Name);
        Assert.Equal("1.0", ruleset.Version);
        var rule = Assert.Single(ruleset.Rules);
        Assert.Equal("test.copy-disabled", rule.Id);
        Assert.Equal("VT08", rule.Category);
        Assert.Equal(Severity.Low, rule.Severity);
        Assert.Equal("vm", rule.AppliesTo);
        Assert.Equal(File, rule.File);
        Assert.Equal(4, rule.Line);
        var leaf = Assert.IsType<LeafCondition>(rule.Check);
        Assert.Equal("isolation.tools.copy.disable", leaf.Key);
        Assert.Equal("equals", leaf.Op);
        Assert.Equal("TRUE", Assert.Single(leaf.Values));
        Assert.Single(rule.Remediation.Steps);
    }

    [Fact]
    public void UnknownRuleKeyIsAnErrorAtItsLine()
    {
        var text = Valid.Replace("    title: Console copy is allowed\n", "    title: Console copy is allowed\n    colour: red\n", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "colour: red"), ex.Line);
        Assert.Contains("colour", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownOperatorIsAnErrorAtItsLine()
    {
        var text = Valid.Replace("op: equals", "op: equalz", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "op: equalz"), ex.Line);
        Assert.Contains("equalz", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CategoryOutsideVt01ToVt10IsAnErrorAtItsLine()
    {
        var text = Valid.Replace("category: VT08", "category: VT11", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "category: VT11"), ex.Line);
        Assert.Contains("VT11", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("severe")]
    [InlineData("High")]
    [InlineData("cat-ii")]
    public void UnknownSeverityIsAnErrorAtItsLine(string severity)
    {
        var text = Valid.Replace("severity: low", "severity: " + severity, StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "severity: " + severity), ex.Line);
        Assert.Contains(severity, ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateIdInOneFileIsAnErrorAtTheSecondRule()
    {
        var rule = Valid[Valid.IndexOf("  - id:", StringComparison.Ordinal)..];
        var text = Valid + "\n" + rule.Replace("Console copy is allowed", "Console copy is allowed again", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "Console copy is allowed again") - 1, ex.Line);
        Assert.Contains("duplicate rule id 'test.copy-disabled'", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateIdAcrossTwoFilesIsAnErrorNamingTheSecondFileAndLine()
    {
        using var dir = new TempDir();
        var first = dir.Write("a.yaml", Valid);
        var secondText = "# another ruleset\n" + Valid.Replace("ruleset: test-set", "ruleset: other-set", StringComparison.Ordinal);
        var second = dir.Write("b.yaml", secondText);

        var (rulesets, errors) = RulesetLoader.LoadAll([(first, "rulesets/a.yaml"), (second, "rulesets/b.yaml")]);

        var error = Assert.Single(errors);
        Assert.Equal("rulesets/b.yaml", error.File);
        Assert.Equal(TestVms.LineOf(secondText, "- id: test.copy-disabled"), error.Line);
        Assert.Contains("rulesets/a.yaml:4", error.Message, StringComparison.Ordinal);
        Assert.Equal("test-set", Assert.Single(rulesets).Name);
    }

    [Fact]
    public void YamlSyntaxErrorIsAnErrorAtItsLine()
    {
        var text = Valid.Replace("    title: Console copy is allowed", "    title: Console copy: is allowed", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "Console copy: is allowed"), ex.Line);
        Assert.Contains("YAML syntax error", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingRemediationIsAnErrorAtTheRule()
    {
        var start = Valid.IndexOf("    remediation:", StringComparison.Ordinal);
        var text = Valid[..start].TrimEnd('\n');

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "- id: test.copy-disabled"), ex.Line);
        Assert.Contains("remediation", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void InOperatorWithoutValuesIsAnErrorAtTheCondition()
    {
        var text = Valid.Replace("op: equals", "op: in", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "key: isolation.tools.copy.disable"), ex.Line);
        Assert.Contains("'values'", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ItemPlaceholderWithoutForEachIsAnErrorAtTheCondition()
    {
        var text = Valid.Replace("key: isolation.tools.copy.disable", "key: \"{item}.present\"", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "{item}.present"), ex.Line);
        Assert.Contains("forEach", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void BadRegexIsAnErrorAtItsValue()
    {
        var text = Valid.Replace("op: equals", "op: regex", StringComparison.Ordinal)
            .Replace("value: \"TRUE\"", "value: '^(TRUE'", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "value: '^(TRUE'"), ex.Line);
        Assert.Contains("bad regex", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ForEachWithoutItemGroupIsAnErrorAtTheForEach()
    {
        var text = Valid.Replace("    check:\n      key: isolation.tools.copy.disable",
            "    forEach: '^(serial\\d+)\\.present$'\n    check:\n      key: \"{item}.present\"", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "forEach:"), ex.Line);
        Assert.Contains("(?<item>", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyRepeatedInARuleIsAnErrorAtTheSecondKey()
    {
        var text = Valid.Replace("    severity: low\n", "    severity: low\n    severity: high\n", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, "severity: high"), ex.Line);
        Assert.Contains("severity", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("all")]
    [InlineData("any")]
    public void EmptyCombinationIsAnErrorAtTheCondition(string combination)
    {
        var text = Valid.Replace("    check:\n      key: isolation.tools.copy.disable\n      op: equals\n      value: \"TRUE\"\n",
            $"    check:\n      {combination}: []\n", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.Equal(TestVms.LineOf(text, combination + ": []"), ex.Line);
    }

    [Fact]
    public void EmptyFileIsAnErrorNamingTheFile()
    {
        var ex = Assert.Throws<DataFileException>(() => RulesetLoader.Parse("", File));

        Assert.Equal(File, ex.File);
    }

    [Fact]
    public void ErrorMessageStartsWithFileAndLine()
    {
        var text = Valid.Replace("category: VT08", "category: VT11", StringComparison.Ordinal);

        var ex = ParseError(text);

        Assert.StartsWith($"{File}:{TestVms.LineOf(text, "category: VT11")}: ", ex.Message, StringComparison.Ordinal);
    }

    private static DataFileException ParseError(string text)
    {
        Assert.NotEqual(Valid, text);
        var ex = Assert.Throws<DataFileException>(() => RulesetLoader.Parse(text, File));
        Assert.Equal(File, ex.File);
        Assert.NotNull(ex.Line);
        return ex;
    }
}
