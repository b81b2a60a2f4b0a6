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

    private static readonly System.Reflection.MethodInfo InsertAllMethod =
        typeof(IContext).GetMethod(nameof(IContext.InsertAll), [typeof(IEnumerable<object>)])!;

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
        var action = Expression.Lambda(Expression.Call(context, InsertAllMethod, outcomes), context, fact);
        builder.RightHandSide().Action(action);

        return builder.Build();
    }
}
