using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Tests;

/// <summary>
/// How a data rule decides on one VM: absent policies per profile, leaf defaults, the never-pass rule for
/// missing keys, and secrets that never reach evidence.
/// </summary>
public sealed class RuleEvaluationTests
{
    private const string SingleRule = """
        ruleset: test-set
        version: "1.0"
        rules:
          - id: test.rule
            title: Something is wrong
            category: VT08
            severity: medium
            appliesTo: vm
        CHECK
            rationale: Because.
            remediation:
              summary: Fix it.
              steps:
                - "Fix {name}."
        """;

    private const string VmWithoutTheKey = """
        displayName = "his-app-01"
        guestOS = "rhel8-64"

        """;

    [Theory]
    [InlineData("stig-8", FindingStatus.Pass)]
    [InlineData("stig-7", FindingStatus.Fail)]
    public void RuleAbsentPolicyDecidesAMissingKeyPerProfile(string profile, FindingStatus expected)
    {
        var rules = Rules("""
                check:
                  key: isolation.tools.copy.disable
                  op: equals
                  value: "TRUE"
                absent:
                  stig-8: pass
                  stig-7: fail
            """);

        var outcome = EvaluateOne(rules, VmWithoutTheKey, profile);

        Assert.Equal(expected, outcome.Status);
        Assert.Equal("(absent)", Assert.Single(outcome.Evidence).Actual);
    }

    [Fact]
    public void LeafAbsentPolicyWinsOverTheRuleAbsentPolicy()
    {
        var rules = Rules("""
                check:
                  key: isolation.tools.copy.disable
                  op: equals
                  value: "TRUE"
                  absent: fail
                absent: pass
            """);

        var outcome = EvaluateOne(rules, VmWithoutTheKey, "stig-8");

        Assert.Equal(FindingStatus.Fail, outcome.Status);
    }

    [Theory]
    [InlineData("TRUE", FindingStatus.Pass)]
    [InlineData("FALSE", FindingStatus.Fail)]
    public void LeafDefaultIsUsedAsTheValueOfAMissingKey(string platformDefault, FindingStatus expected)
    {
        var rules = Rules($$"""
                check:
                  key: logging
                  op: equals
                  value: "TRUE"
                  default: "{{platformDefault}}"
                absent: not-evaluated
            """);

        var outcome = EvaluateOne(rules, VmWithoutTheKey, "stig-8");

        Assert.Equal(expected, outcome.Status);
        Assert.Contains("platform default " + platformDefault, Assert.Single(outcome.Evidence).Actual, StringComparison.Ordinal);
    }

    [Fact]
    public void LeafDefaultIsIgnoredWhenTheKeyIsPresent()
    {
        var rules = Rules("""
                check:
                  key: logging
                  op: equals
                  value: "TRUE"
                  default: "TRUE"
            """);

        var outcome = EvaluateOne(rules, VmWithoutTheKey + "logging = \"FALSE\"\n", "stig-8");

        Assert.Equal(FindingStatus.Fail, outcome.Status);
        Assert.Equal("FALSE", Assert.Single(outcome.Evidence).Actual);
    }

    [Theory]
    [InlineData("stig-8")]
    [InlineData("stig-7")]
    [InlineData("scg")]
    public void MissingKeyWithoutAbsentPolicyIsNotEvaluated(string profile)
    {
        var rules = Rules("""
                check:
                  key: isolation.tools.copy.disable
                  op: equals
                  value: "TRUE"
            """);

        var outcome = EvaluateOne(rules, VmWithoutTheKey, profile);

        Assert.Equal(FindingStatus.NotEvaluated, outcome.Status);
        Assert.Contains("isolation.tools.copy.disable", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingKeyInsideAnyWithoutAbsentPolicyIsNotEvaluatedRatherThanPass()
    {
        var rules = Rules("""
                check:
                  any:
                    - { key: isolation.tools.copy.disable, op: equals, value: "TRUE" }
                    - { key: guestOS, op: equals, value: "windows2019srv-64" }
            """);

        var outcome = EvaluateOne(rules, VmWithoutTheKey, "stig-8");

        Assert.Equal(FindingStatus.NotEvaluated, outcome.Status);
    }

    [Theory]
    [InlineData("check:\n      key: RemoteDisplay.vnc.password\n      op: absent")]
    [InlineData("check:\n      key: RemoteDisplay.vnc.password\n      op: present")]
    [InlineData("check:\n      key: RemoteDisplay.vnc.password\n      op: equals\n      value: \"\"")]
    [InlineData("check:\n      key: RemoteDisplay.vnc.password\n      op: not-regex\n      value: '.+'")]
    [InlineData("check:\n      key: RemoteDisplay.vnc.password\n      op: lt\n      value: \"8\"")]
    public void SecretValueNeverAppearsInEvidence(string check)
    {
        const string secret = "s3cret-vnc-passw0rd";
        var rules = Rules("    " + check.Replace("\n", "\n    ", StringComparison.Ordinal));
        var vmx = VmWithoutTheKey + $"RemoteDisplay.vnc.enabled = \"TRUE\"\nRemoteDisplay.vnc.password = \"{secret}\"\n";

        var outcome = EvaluateOne(rules, vmx, "stig-8");

        var evidence = Assert.Single(outcome.Evidence);
        Assert.Equal("RemoteDisplay.vnc.password", evidence.Key);
        Assert.Contains("value not shown", evidence.Actual, StringComparison.Ordinal);
        var everything = string.Join("|", outcome.Evidence.Select(e => $"{e.Key}|{e.Actual}|{e.Expected}")) + "|" + outcome.Title + "|" + outcome.Reason;
        Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
    }

    [Fact]
    public void RemediationStepsNameTheVm()
    {
        var rules = Rules("""
                check:
                  key: isolation.tools.copy.disable
                  op: equals
                  value: "TRUE"
                absent: fail
            """);

        var outcome = EvaluateOne(rules, VmWithoutTheKey, "stig-8");

        Assert.Equal("Fix his-app-01.", Assert.Single(outcome.Remediation!.Steps));
    }

    private static LoadedRuleset Rules(string check)
    {
        return RulesetLoader.Parse(SingleRule.Replace("CHECK", check.TrimEnd('\n'), StringComparison.Ordinal), "rulesets/test.yaml");
    }

    private static Finding EvaluateOne(LoadedRuleset rules, string vmx, string profile)
    {
        var engine = new RuleEngine([rules], profile);
        var outcomes = engine.Evaluate([TestVms.Parse(vmx)], AdvisoryFeed.Empty, new DateOnly(2026, 11, 27));
        return Assert.Single(outcomes, o => o.RuleId == "test.rule");
    }
}
