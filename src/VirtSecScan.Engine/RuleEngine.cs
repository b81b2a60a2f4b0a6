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
/// rules (fluent DSL), for one profile.
/// <para>
/// Rules are compiled into two session factories (docs/performance.md). A rule that matches one collected fact at
/// a time, joined at most with facts every session holds (<see cref="ReplicatedTypes"/>: the scan context, the
/// site model, the feed's advisories and lifecycles), is <em>per-fact</em>: its outcomes for a fact do not depend on
/// any other collected fact, so the facts are split into partitions evaluated in parallel sessions. Every other
/// rule (a join of two collected facts, such as a host with the VMs placed on it, or an aggregate over collected
/// facts, such as redundancy groups) is <em>cross-fact</em> and runs in one session that holds all facts. Which
/// rule is which is read from each rule's definition, not from a list, so a new rule cannot be split by mistake.
/// </para>
/// </summary>
public sealed class RuleEngine
{
    /// <summary>Facts every session holds besides its partition of the collected facts.</summary>
    public static readonly ImmutableArray<Type> ReplicatedTypes = [typeof(ScanContext), typeof(Core.Site.SiteModel), typeof(Advisory), typeof(BranchLifecycle)];

    /// <summary>Below this many facts per partition, more partitions cost more (session set-up) than they gain.</summary>
    public const int MinFactsPerPartition = 500;

    private readonly ISessionFactory _perFact;
    private readonly ISessionFactory? _crossFact;

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
        var all = repository.GetRuleSets().SelectMany(s => s.Rules).ToList();
        RuleCount = all.Count;
        var perFact = all.Where(IsPerFact).ToList();
        var crossFact = all.Where(r => !IsPerFact(r)).ToList();
        CrossFactRules = crossFact.Select(r => r.Name).Order(StringComparer.Ordinal).ToImmutableArray();
        _perFact = new RuleCompiler().Compile(perFact);
        _crossFact = crossFact.Count == 0 ? null : new RuleCompiler().Compile(crossFact);
    }

    public string Profile { get; }

    public int RuleCount { get; }

    /// <summary>The rules that see all facts in one session (joins and aggregates over collected facts), by name.</summary>
    public ImmutableArray<string> CrossFactRules { get; }

    /// <summary>
    /// Runs every rule over the facts and returns all outcomes (fail, pass, not-evaluated). Per-fact rules run over
    /// <paramref name="partitions"/> contiguous slices of the facts in parallel (null: one per
    /// <see cref="MinFactsPerPartition"/> facts, at most four per processor); the outcomes of each rule come in the
    /// order of the facts whatever the partitioning, and the result is the same for any number of partitions.
    /// </summary>
    public ImmutableArray<Finding> Evaluate(IEnumerable<object> facts, AdvisoryFeed feed, DateOnly date, Core.Site.SiteModel? site = null, int? partitions = null)
    {
        var list = facts as IReadOnlyList<object> ?? facts.ToList();
        var context = new ScanContext(Profile, date);
        site ??= Core.Site.SiteModel.Empty;
        var count = Math.Clamp(partitions ?? list.Count / MinFactsPerPartition, 1, Math.Max(1, partitions ?? 4 * Environment.ProcessorCount));

        // Work item 0 is the cross-fact session over all facts (started first: it may be the longest), 1..count the partitions.
        var results = new (List<RuleOutcome> Emitted, List<RuleOutcome> Inserted)[count + 1];
        try
        {
            Parallel.For(0, count + 1, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                if (i == 0)
                {
                    results[0] = _crossFact is null ? ([], []) : Run(_crossFact, list, context, site, feed);
                    return;
                }

                var from = (int)((long)list.Count * (i - 1) / count);
                var to = (int)((long)list.Count * i / count);
                results[i] = Run(_perFact, new ListSlice(list, from, to - from), context, site, feed);
            });
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count >= 1)
        {
            // A failing rule fails the scan as it did with one session: with its own exception, not a wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw;
        }
        Scanning.PhaseTimings.Mark("fire");

        // Partitions in fact order, the cross-fact session last; each rule lives in one factory, so each rule's outcomes
        // keep their order. Outcomes collected while firing come before those the rules inserted, as in one session.
        var ordered = results.Skip(1).Append(results[0]).ToList();
        var outcomes = ordered.SelectMany(r => r.Emitted).Concat(ordered.SelectMany(r => r.Inserted))
            .Select(o => o.Finding).ToImmutableArray();

        // The feed's age matters wherever patch levels are judged: a stale feed is a finding of its own.
        return list.OfType<HypervisorBuild>().Any()
            ? outcomes.Add(PatchFindings.ForStaleFeed(feed.Published, feed.Kev?.DateReleased, date, Profile))
            : outcomes;
    }

    private static (List<RuleOutcome> Emitted, List<RuleOutcome> Inserted) Run(ISessionFactory factory, IEnumerable<object> facts, ScanContext context,
        Core.Site.SiteModel site, AdvisoryFeed feed)
    {
        var session = factory.CreateSession();
        session.Insert(context);
        session.Insert(site);
        session.InsertAll(facts);
        session.InsertAll(feed.Advisories);
        session.InsertAll(feed.Lifecycles);
        var emitted = new List<RuleOutcome>();
        using (OutcomeSink.Collect(emitted))
        using (FactIndex.Scope())
        {
            session.Fire();
        }

        return (emitted, session.Query<RuleOutcome>().ToList());
    }

    /// <summary>
    /// True when the rule matches exactly one collected fact at a time (any other pattern, and anything under an
    /// aggregate, exists, not or for-all, being a replicated fact): then it can run in every partition.
    /// </summary>
    public static bool IsPerFact(IRuleDefinition rule)
    {
        var anchors = 0;
        var crossFact = false;

        void Walk(RuleElement element, bool nested)
        {
            switch (element)
            {
                case PatternElement { Source: AggregateElement aggregate }:
                    Walk(aggregate.Source, nested: true);
                    break;
                case PatternElement { Source: not null }:
                    break; // a binding (Let): no fact
                case PatternElement pattern:
                    switch (Kind(pattern.ValueType))
                    {
                        case FactKind.Replicated:
                            break;
                        case FactKind.Collected when !nested:
                            anchors++;
                            break;
                        default:
                            crossFact = true; // a collected fact under an aggregate/exists/not, or a type that may be either
                            break;
                    }

                    break;
                case GroupElement group:
                    foreach (var child in group.ChildElements)
                    {
                        Walk(child, nested);
                    }

                    break;
                case ExistsElement exists:
                    Walk(exists.Source, nested: true);
                    break;
                case NotElement not:
                    Walk(not.Source, nested: true);
                    break;
                case ForAllElement forAll:
                    Walk(forAll.BasePattern, nested: true);
                    foreach (var p in forAll.Patterns)
                    {
                        Walk(p, nested: true);
                    }

                    break;
                case AggregateElement aggregate:
                    Walk(aggregate.Source, nested: true);
                    break;
                default:
                    crossFact = true; // an element this classification does not know: stay safe
                    break;
            }
        }

        Walk(rule.LeftHandSide, nested: false);
        return !crossFact && anchors == 1;
    }

    private enum FactKind { Replicated, Collected, Either }

    private static FactKind Kind(Type type)
    {
        if (type == typeof(RuleOutcome) || type.IsAssignableFrom(typeof(RuleOutcome)))
        {
            // Outcomes are not shared between sessions: a rule reading them would see only its own session's.
            throw new InvalidOperationException($"rules must not match {nameof(RuleOutcome)} facts ({type.Name})");
        }

        if (ReplicatedTypes.Any(r => r.IsAssignableFrom(type)))
        {
            return FactKind.Replicated;
        }

        return ReplicatedTypes.Any(type.IsAssignableFrom) ? FactKind.Either : FactKind.Collected;
    }

    /// <summary>A contiguous part of a list, enumerated without copying.</summary>
    private sealed class ListSlice(IReadOnlyList<object> list, int start, int count) : IEnumerable<object>
    {
        public IEnumerator<object> GetEnumerator()
        {
            for (var i = start; i < start + count; i++)
            {
                yield return list[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
