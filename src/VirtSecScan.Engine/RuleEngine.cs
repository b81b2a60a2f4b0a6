using System.Collections.Immutable;
using NRules;
using NRules.Fluent;
using NRules.RuleModel;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine;

/// <summary>
/// The NRules host: data rules from rulesets (compiled through NRules.RuleModel) and the C# correlation
/// rules (fluent DSL) in one session factory, for one profile.
/// </summary>
public sealed class RuleEngine
{
    private readonly ISessionFactory _factory;

    public RuleEngine(IEnumerable<LoadedRuleset> rulesets, string profile)
    {
        Profile = profile;
        var repository = new RuleRepository();
        repository.Load(spec => spec.From(typeof(HostMissingAdvisoryFixes).Assembly).Where(r => r.Name.StartsWith("esxi.", StringComparison.Ordinal)
                                                                                       || r.Name.StartsWith("patch.", StringComparison.Ordinal)
                                                                                       || SiteFindings.Rules.Any(i => i.Id == r.Name)));

        var dataRules = new RuleSet("data-rules");
        foreach (var rule in rulesets.SelectMany(r => r.Rules).Where(r => r.InProfile(profile)))
        {
            dataRules.Add(DataRuleCompiler.Compile(rule, profile));
        }

        repository.Add(dataRules);
        RuleCount = repository.GetRuleSets().Sum(s => s.Rules.Count());
        _factory = repository.Compile();
    }

    public string Profile { get; }

    public int RuleCount { get; }

    /// <summary>Runs every rule over the facts and returns all outcomes (fail, pass, not-evaluated), in no particular order.</summary>
    public ImmutableArray<Finding> Evaluate(IEnumerable<object> facts, AdvisoryFeed feed, DateOnly date, Core.Site.SiteModel? site = null)
    {
        facts = facts as IReadOnlyCollection<object> ?? facts.ToList();
        var session = _factory.CreateSession();
        session.Insert(new ScanContext(Profile, date));
        session.Insert(site ?? Core.Site.SiteModel.Empty);
        session.InsertAll(facts);
        session.InsertAll(feed.Advisories);
        session.InsertAll(feed.Lifecycles);
        var collected = new List<RuleOutcome>();
        using (OutcomeSink.Collect(collected))
        {
            session.Fire();
        }

        var outcomes = collected.Concat(session.Query<RuleOutcome>()).Select(o => o.Finding).ToImmutableArray();

        // The feed's age matters wherever patch levels are judged: a stale feed is a finding of its own.
        return facts.OfType<HypervisorBuild>().Any()
            ? outcomes.Add(PatchFindings.ForStaleFeed(feed.Published, feed.Kev?.DateReleased, date, Profile))
            : outcomes;
    }
}
