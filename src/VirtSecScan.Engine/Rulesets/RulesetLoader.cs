using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Core;
using VirtSecScan.Core.Findings;
using YamlDotNet.RepresentationModel;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>
/// Loads and validates ruleset YAML files strictly. Any error (syntax, unknown key, bad operator, bad
/// category or severity, duplicate id) names the file and line; a ruleset with errors is never used.
/// </summary>
public static class RulesetLoader
{
    private static readonly string[] RulesetKeys = ["ruleset", "version", "description", "rules"];

    private static readonly string[] RuleKeys =
    [
        "id", "title", "category", "severity", "severityByProfile", "appliesTo", "profiles", "forEach", "where", "check",
        "absent", "rationale", "remediation", "references", "compliance",
        "needs", "evidence",
    ];

    private static readonly string[] LeafKeys = ["key", "op", "value", "values", "default", "absent"];

    public static readonly ImmutableArray<string> Operators =
    [
        "equals", "not-equals", "in", "not-in", "present", "absent", "regex", "not-regex",
        "lt", "le", "gt", "ge", "version-lt", "version-le", "version-gt", "version-ge",
    ];

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "SYSLIB1045", Justification = "validated once at load")]
    private static readonly Regex IdPattern = new(@"^[a-z0-9]+(?:[.-][a-z0-9]+)*$", RegexOptions.CultureInvariant);

    /// <summary>The ruleset files under a folder: every *.yaml except the advisory feed and rule-unrelated data.</summary>
    public static IEnumerable<string> RulesetFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(directory, "*.yml", SearchOption.AllDirectories))
            .Where(f => !IsFeedPath(Path.GetRelativePath(directory, f)))
            .Order(StringComparer.Ordinal);

    private static bool IsFeedPath(string relative)
    {
        var first = relative.Replace('\\', '/').Split('/')[0];
        return first is "advisories" or "compliance" or "site-defaults.yaml";
    }

    /// <summary>Loads every ruleset file under the given paths (files or folders). Errors are collected, not thrown.</summary>
    public static (ImmutableArray<LoadedRuleset> Rulesets, ImmutableArray<Diagnostic> Errors) LoadAll(IEnumerable<(string Path, string Display)> files)
    {
        var rulesets = ImmutableArray.CreateBuilder<LoadedRuleset>();
        var errors = ImmutableArray.CreateBuilder<Diagnostic>();
        var ids = new Dictionary<string, (string File, int Line)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (path, display) in files)
        {
            try
            {
                var ruleset = Parse(File.ReadAllText(path), display);
                foreach (var rule in ruleset.Rules)
                {
                    if (ids.TryGetValue(rule.Id, out var first))
                    {
                        throw new DataFileException(display, rule.Line, $"duplicate rule id '{rule.Id}' (first defined at {first.File}:{first.Line})");
                    }

                    ids[rule.Id] = (display, rule.Line);
                }

                rulesets.Add(ruleset);
            }
            catch (DataFileException ex)
            {
                errors.Add(ex.ToDiagnostic());
            }
            catch (IOException ex)
            {
                errors.Add(Diagnostic.Error(display, null, "cannot read: " + ex.Message));
            }
        }

        return (rulesets.ToImmutable(), errors.ToImmutable());
    }

    /// <summary>Parses one ruleset file's text. Throws <see cref="DataFileException"/> on the first error.</summary>
    public static LoadedRuleset Parse(string text, string file)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "ruleset file", RulesetKeys);
        var name = y.RequiredString(root, "ruleset", "ruleset file");
        var version = y.RequiredString(root, "version", "ruleset file");
        var rules = ImmutableArray.CreateBuilder<DataRule>();
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in y.Sequence(y.Required(root, "rules", "ruleset file"), "rules"))
        {
            var rule = ParseRule(y, node, name);
            if (!ids.Add(rule.Id))
            {
                throw y.Error(node, $"duplicate rule id '{rule.Id}'");
            }

            rules.Add(rule);
        }

        return new LoadedRuleset(name, version, file, rules.ToImmutable());
    }

    private static DataRule ParseRule(YamlReader y, YamlNode node, string ruleset)
    {
        var map = y.Mapping(node, "rule", RuleKeys);
        var id = y.RequiredString(map, "id", "rule");
        var what = $"rule '{id}'";
        if (!IdPattern.IsMatch(id))
        {
            throw y.Error(map, $"{what}: id must be lower-case words joined by dots or dashes");
        }

        var category = y.RequiredString(map, "category", what);
        if (!ThreatCategory.IsValid(category))
        {
            throw y.Error(YamlReader.Child(map, "category")!, $"{what}: category '{category}' is not one of VT01..VT10");
        }

        var severity = ParseSeverity(y, YamlReader.Child(map, "severity") ?? throw y.Error(map, $"{what}: missing required key 'severity'"), what);
        var severityByProfile = ImmutableSortedDictionary.CreateBuilder<string, Severity>(StringComparer.Ordinal);
        if (YamlReader.Child(map, "severityByProfile") is { } sbp)
        {
            foreach (var (k, v) in y.Mapping(sbp, $"{what}: severityByProfile", [.. Profiles.Names.Keys]).Children)
            {
                severityByProfile[y.Scalar(k, what)] = ParseSeverity(y, v, what);
            }
        }

        var appliesTo = y.RequiredString(map, "appliesTo", what);
        if (!FactTypes.ByName.ContainsKey(appliesTo))
        {
            throw y.Error(YamlReader.Child(map, "appliesTo")!, $"{what}: appliesTo '{appliesTo}' is not a fact type ({string.Join(", ", FactTypes.ByName.Keys)})");
        }

        var pn = YamlReader.Child(map, "profiles");
        var profiles = pn is not null ? y.StringList(pn, $"{what}: profiles") : [];
        foreach (var p in profiles)
        {
            if (!Profiles.IsKnown(p))
            {
                throw y.Error(pn!, $"{what}: unknown profile '{p}' ({string.Join(", ", Profiles.Names.Keys)})");
            }
        }

        Regex? forEach = null;
        if (YamlReader.Child(map, "forEach") is { } fe)
        {
            forEach = CompileRegex(y, fe, y.Scalar(fe, $"{what}: forEach"), what);
            if (!forEach.GetGroupNames().Contains("item"))
            {
                throw y.Error(fe, $"{what}: forEach needs a named group (?<item>...)");
            }
        }

        var wn = YamlReader.Child(map, "where");
        var where = wn is not null ? ParseCondition(y, wn, what, forEach is not null) : null;
        if (where is not null && forEach is null)
        {
            throw y.Error(wn!, $"{what}: 'where' needs 'forEach'");
        }

        var check = ParseCondition(y, y.Required(map, "check", what), what, forEach is not null);
        var absent = YamlReader.Child(map, "absent") is { } an ? ParseAbsent(y, an, what) : null;

        var remediationMap = y.Mapping(y.Required(map, "remediation", what), $"{what}: remediation", "summary", "steps");
        var remediation = new Remediation(
            y.RequiredString(remediationMap, "summary", $"{what}: remediation"),
            y.StringList(y.Required(remediationMap, "steps", $"{what}: remediation"), $"{what}: remediation steps"));
        if (remediation.Steps.IsEmpty)
        {
            throw y.Error(remediationMap, $"{what}: remediation needs at least one step");
        }

        var references = ImmutableArray.CreateBuilder<RuleReference>();
        if (YamlReader.Child(map, "references") is { } rn)
        {
            foreach (var r in y.Sequence(rn, $"{what}: references"))
            {
                var rm = y.Mapping(r, $"{what}: reference", "id", "source", "profiles");
                var rp = YamlReader.Child(rm, "profiles") is { } rpn ? y.StringList(rpn, $"{what}: reference profiles") : [];
                foreach (var p in rp.Where(p => !Profiles.IsKnown(p)))
                {
                    throw y.Error(rm, $"{what}: reference names unknown profile '{p}'");
                }

                references.Add(new RuleReference(y.RequiredString(rm, "id", $"{what}: reference"), y.RequiredString(rm, "source", $"{what}: reference"), rp));
            }
        }

        var compliance = ImmutableSortedDictionary.CreateBuilder<string, ImmutableArray<string>>(StringComparer.Ordinal);
        if (YamlReader.Child(map, "compliance") is { } cn)
        {
            foreach (var (k, v) in y.Mapping(cn, $"{what}: compliance").Children)
            {
                compliance[y.Scalar(k, what)] = y.StringList(v, $"{what}: compliance");
            }
        }

        return new DataRule
        {
            Id = id,
            Title = y.RequiredString(map, "title", what),
            Category = category,
            Severity = severity,
            SeverityByProfile = severityByProfile.ToImmutable(),
            AppliesTo = appliesTo,
            Profiles = profiles,
            ForEach = forEach,
            Where = where,
            Check = check,
            Absent = absent,
            Rationale = y.RequiredString(map, "rationale", what),
            Needs = y.OptionalString(map, "needs", what),
            Remediation = remediation,
            References = references.ToImmutable(),
            Compliance = compliance.ToImmutable(),
            EvidenceKeys = YamlReader.Child(map, "evidence") is { } en ? y.StringList(en, $"{what}: evidence") : [],
            Ruleset = ruleset,
            File = y.File,
            Line = YamlReader.LineOf(map),
        };
    }

    private static Severity ParseSeverity(YamlReader y, YamlNode node, string what)
    {
        var text = y.Scalar(node, $"{what}: severity");
        return SeverityNames.TryParse(text, out var s) && text == text.ToLowerInvariant()
            ? s
            : throw y.Error(node, $"{what}: severity '{text}' is not one of {string.Join(", ", SeverityNames.All)}");
    }

    private static Condition ParseCondition(YamlReader y, YamlNode node, string what, bool inForEach)
    {
        if (node is not YamlMappingNode map)
        {
            throw y.Error(node, $"{what}: a condition must be a mapping");
        }

        var line = YamlReader.LineOf(node);
        if (YamlReader.Child(map, "all") is { } all)
        {
            y.Mapping(map, $"{what}: condition", "all");
            return new AllCondition(ParseConditionList(y, all, "all", what, inForEach), line);
        }

        if (YamlReader.Child(map, "any") is { } any)
        {
            y.Mapping(map, $"{what}: condition", "any");
            return new AnyCondition(ParseConditionList(y, any, "any", what, inForEach), line);
        }

        if (YamlReader.Child(map, "not") is { } not)
        {
            y.Mapping(map, $"{what}: condition", "not");
            return new NotCondition(ParseCondition(y, not, what, inForEach), line);
        }

        y.Mapping(map, $"{what}: condition (a leaf has key and op; or use all, any, not)", LeafKeys);
        var key = y.RequiredString(map, "key", $"{what}: condition");
        if (key.Contains("{item}", StringComparison.Ordinal) && !inForEach)
        {
            throw y.Error(map, $"{what}: '{{item}}' in a key needs 'forEach'");
        }

        var opNode = y.Required(map, "op", $"{what}: condition");
        var op = y.Scalar(opNode, $"{what}: op");
        if (!Operators.Contains(op, StringComparer.Ordinal))
        {
            throw y.Error(opNode, $"{what}: unknown operator '{op}' (allowed: {string.Join(", ", Operators)})");
        }

        var valueNode = YamlReader.Child(map, "value");
        var valuesNode = YamlReader.Child(map, "values");
        ImmutableArray<string> values;
        switch (op)
        {
            case "present" or "absent":
                if (valueNode is not null || valuesNode is not null)
                {
                    throw y.Error(map, $"{what}: operator '{op}' takes no value");
                }

                if (YamlReader.Child(map, "absent") is not null || YamlReader.Child(map, "default") is not null)
                {
                    throw y.Error(map, $"{what}: operator '{op}' decides absence itself; remove 'absent'/'default'");
                }

                values = [];
                break;
            case "in" or "not-in":
                if (valuesNode is null || valueNode is not null)
                {
                    throw y.Error(map, $"{what}: operator '{op}' needs 'values' (a list)");
                }

                values = y.StringList(valuesNode, $"{what}: values");
                break;
            default:
                if (valueNode is null || valuesNode is not null)
                {
                    throw y.Error(map, $"{what}: operator '{op}' needs one 'value'");
                }

                values = [y.Scalar(valueNode, $"{what}: value")];
                break;
        }

        Regex? pattern = null;
        if (op is "regex" or "not-regex")
        {
            pattern = CompileRegex(y, valueNode!, values[0], what);
        }
        else if (op is "lt" or "le" or "gt" or "ge" && !ConditionEvaluator.TryNumber(values[0], out _))
        {
            throw y.Error(valueNode!, $"{what}: '{values[0]}' is not a number");
        }
        else if (op.StartsWith("version-", StringComparison.Ordinal) && ConditionEvaluator.ParseVersion(values[0]) is null)
        {
            throw y.Error(valueNode!, $"{what}: '{values[0]}' is not a dotted version");
        }

        var absent = YamlReader.Child(map, "absent") is { } an ? ParseAbsent(y, an, what) : null;
        var dflt = y.OptionalString(map, "default", $"{what}: condition");
        if (absent is not null && dflt is not null)
        {
            throw y.Error(map, $"{what}: a condition with a 'default' never reaches 'absent'; keep one");
        }

        return new LeafCondition(key, op, values, dflt, absent, pattern, line);
    }

    private static ImmutableArray<Condition> ParseConditionList(YamlReader y, YamlNode node, string combinator, string what, bool inForEach)
    {
        var items = y.Sequence(node, $"{what}: {combinator}");
        if (items.IsEmpty)
        {
            throw y.Error(node, $"{what}: '{combinator}' needs at least one condition");
        }

        return items.Select(c => ParseCondition(y, c, what, inForEach)).ToImmutableArray();
    }

    private static AbsentPolicy ParseAbsent(YamlReader y, YamlNode node, string what)
    {
        if (node is YamlScalarNode)
        {
            return new AbsentPolicy(ParseVerdict(y, node, what), ImmutableSortedDictionary<string, Verdict>.Empty);
        }

        var map = y.Mapping(node, $"{what}: absent", [.. Profiles.Names.Keys]);
        var byProfile = ImmutableSortedDictionary.CreateBuilder<string, Verdict>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            byProfile[y.Scalar(k, what)] = ParseVerdict(y, v, what);
        }

        return new AbsentPolicy(null, byProfile.ToImmutable());
    }

    private static Verdict ParseVerdict(YamlReader y, YamlNode node, string what) => y.Scalar(node, $"{what}: absent") switch
    {
        "pass" => Verdict.Pass,
        "fail" => Verdict.Fail,
        "not-evaluated" => Verdict.NotEvaluated,
        var other => throw y.Error(node, $"{what}: absent verdict '{other}' is not pass, fail or not-evaluated"),
    };

    private static Regex CompileRegex(YamlReader y, YamlNode node, string pattern, string what)
    {
        try
        {
            return new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw y.Error(node, $"{what}: bad regex: {ex.Message}");
        }
    }
}
