using AngleSharp.Html.Parser;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Live;

namespace VirtSecScan.Reporting.Tests;

/// <summary>Rules a live target did not feed: listed one by one in JSON, grouped per rule in HTML above the bound.</summary>
public class UncollectedReportTests
{
    private static Finding NotCollected(string target, string domain, string rule, string reason = "timeout: 'dumpxml' did not finish in time") => new()
    {
        RuleId = rule,
        Title = $"Rule {rule}",
        Category = "VT04",
        Severity = Severity.Medium,
        Status = FindingStatus.NotEvaluated,
        Resource = new ResourceRef("vm", $"{UncollectedRules.IdPrefix}{target}/{domain}", domain, Host: target, Source: $"libvirt://{target}/{domain}"),
        Reason = UncollectedRules.ReasonPrefix + reason,
        Profile = "stig-8",
    };

    private static List<Finding> Flood(string target, int domains, int rules) =>
        [.. Enumerable.Range(0, domains).SelectMany(d => Enumerable.Range(0, rules).Select(r => NotCollected(target, $"vm{d:D4}", $"libvirt.domain.rule{r:D2}")))];

    [Fact]
    public void Findings_made_for_what_was_not_collected_are_recognised_with_their_target()
    {
        var f = NotCollected("kvm1", "db", "libvirt.domain.rule00");
        Assert.True(UncollectedRules.IsUncollected(f));
        Assert.Equal("kvm1", UncollectedRules.TargetOf(f));
        Assert.Null(UncollectedRules.TargetOf(f with { Reason = "to decide it, collect: x" }));
        Assert.Null(UncollectedRules.TargetOf(f with { Status = FindingStatus.Fail }));
    }

    [Fact]
    public void Html_groups_a_target_above_the_bound_per_rule_and_lists_a_small_one_row_by_row()
    {
        var big = Flood("kvm-big", 60, 10); // 600 > 500
        var small = Flood("kvm-small", 2, 3);
        Assert.True(big.Count > UncollectedRules.GroupAbove);
        var report = TestReports.Report(TestReports.Finding("vmware.vm.console-copy-disabled", "pacs-01")) with { NotEvaluated = [.. big, .. small] };

        var json = JsonReportWriter.ToJson(report);
        using (var doc = System.Text.Json.JsonDocument.Parse(json))
        {
            Assert.Equal(big.Count + small.Count, doc.RootElement.GetProperty("notEvaluated").GetArrayLength());
            Assert.Equal(big.Count + small.Count, doc.RootElement.GetProperty("summary").GetProperty("notEvaluated").GetInt32());
        }

        var html = new HtmlParser().ParseDocument(HtmlReportWriter.ToHtml(report));
        var rows = html.QuerySelectorAll("section#not-evaluated tbody tr");
        Assert.Equal(10 + small.Count, rows.Length);
        var grouped = rows.Where(r => r.TextContent.Contains("kvm-big", StringComparison.Ordinal)).ToList();
        Assert.Equal(10, grouped.Count);
        Assert.All(grouped, r => Assert.Contains("60 resources of target kvm-big: vm0000, vm0001, vm0002, vm0003, vm0004, ...", r.TextContent));
        Assert.Equal(small.Count, rows.Count(r => r.QuerySelectorAll("td")[1].TextContent is "vm0000" or "vm0001"));
    }
}
