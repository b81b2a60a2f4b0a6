using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary><c>rules list</c> and <c>rules validate</c>.</summary>
public sealed class RulesCommandTests
{
    [Fact]
    public void RulesListJsonListsEveryDataRuleAndTheCorrelationRules()
    {
        var result = Cli.Run("rules", "list", "--format", "json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout);
        var rules = doc.RootElement.EnumerateArray().ToList();
        Assert.True(rules.Count >= 32, $"only {rules.Count} rules");
        var ids = rules.Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Contains("esxi.patch.advisory-missing", ids);
        Assert.Contains("esxi.patch.end-of-support", ids);
        Assert.Contains("vmware.vm.console-copy-disabled", ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(rules, r =>
        {
            Assert.Matches("^VT(0[1-9]|10)$", r.GetProperty("category").GetString());
            Assert.Contains(r.GetProperty("kind").GetString(), new[] { "data", "correlation" });
        });
    }

    [Fact]
    public void RulesValidateAcceptsTheShippedRules()
    {
        var result = Cli.Run("rules", "validate");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("valid", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void RulesValidateRejectsABrokenRulesetNamingFileAndLine()
    {
        using var dir = new TempDir();
        var file = dir.Write("bad.yaml", "ruleset: bad\nversion: \"1\"\nrules:\n  - id: bad.rule\n    colour: red\n");

        var result = Cli.Run("rules", "validate", file);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("bad.yaml:5", result.Stderr, StringComparison.Ordinal);
    }
}
