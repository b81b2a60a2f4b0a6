using System.Linq.Expressions;
using NRules.RuleModel;
using NRules.RuleModel.Builders;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>
/// Compiles data rules into NRules rule definitions with the <c>NRules.RuleModel</c> builders (no Roslyn,
/// no scripting): one pattern on the rule's fact type, and an action that evaluates the rule's condition
/// on the matched fact and inserts the outcomes into the session.
/// </summary>
public static class DataRuleCompiler
{
    private static readonly System.Reflection.MethodInfo EvaluateMethod =
        typeof(DataRuleEvaluator).GetMethod(nameof(DataRuleEvaluator.Evaluate))!;

    private static readonly System.Reflection.MethodInfo EmitMethod =
        typeof(OutcomeSink).GetMethod(nameof(OutcomeSink.Emit))!;

    public static IRuleDefinition Compile(DataRule rule, string profile)
    {
        var factType = FactTypes.ByName[rule.AppliesTo];
        var builder = new RuleBuilder();
        builder.Name(rule.Id);
        builder.Description(rule.Title);
        builder.Tag(rule.Category);
        builder.Property("ruleset", rule.Ruleset);

        var lhs = builder.LeftHandSide();
        var pattern = lhs.Pattern(factType.Type, "fact");
        if (factType.Kind is { } kind)
        {
            // Generic configuration facts share one CLR type: the pattern selects the rule's kind.
            var p = pattern.Declaration.ToParameterExpression();
            var kindCheck = Expression.Equal(
                Expression.Property(Expression.Convert(p, typeof(ConfigFact)), nameof(ConfigFact.Kind)),
                Expression.Constant(kind));
            pattern.Condition(Expression.Lambda(kindCheck, p));
        }

        // Facts of the type always match; the rule's condition decides pass, fail or not-evaluated in the action,
        // so that passing and undecidable checks are reported too, not only failures.
        var fact = pattern.Declaration.ToParameterExpression();
        var context = Expression.Parameter(typeof(IContext), "ctx");
        var evaluator = Expression.Constant(new DataRuleEvaluator(rule, profile));
        var outcomes = Expression.Call(evaluator, EvaluateMethod, Expression.Convert(fact, typeof(IConfigFact)));
        var action = Expression.Lambda(Expression.Call(EmitMethod, context, outcomes), context, fact);
        builder.RightHandSide().Action(action);

        return builder.Build();
    }
}

/// <summary>
/// Where data-rule actions put their outcomes. While <see cref="RuleEngine.Evaluate"/> fires a session it sets a
/// per-thread list, so the (many) outcomes are collected directly instead of being inserted into the session's
/// working memory, which no rule reads them from; without a list they are inserted as <see cref="RuleOutcome"/> facts.
/// </summary>
public static class OutcomeSink
{
    [ThreadStatic]
    private static List<RuleOutcome>? _current;

    public static void Emit(IContext context, IEnumerable<object> outcomes)
    {
        if (_current is { } list)
        {
            list.AddRange(outcomes.Cast<RuleOutcome>());
        }
        else
        {
            context.InsertAll(outcomes);
        }
    }

    /// <summary>Collects outcomes on this thread until the returned scope is disposed.</summary>
    public static IDisposable Collect(List<RuleOutcome> list)
    {
        var previous = _current;
        _current = list;
        return new Scope(previous);
    }

    private sealed class Scope(List<RuleOutcome>? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}
