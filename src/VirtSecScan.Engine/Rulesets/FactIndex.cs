using VirtSecScan.Core.Facts;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>
/// A fact's settings as a hash table and a key list, built once per fact and shared by every data rule that reads it
/// (a VM is read by dozens of rules; a lookup in the fact's sorted dictionary compares keys case-insensitively at
/// every tree level, and enumerating it allocates). Same semantics as <see cref="ConfigFactExtensions.Get"/>: keys
/// compare case-insensitively. While a rule session fires (<see cref="Scope"/>, one per session, on the session's
/// thread) each fact's index is kept for the session: no locks, nothing that outlives the session. Outside a scope only
/// the last fact's index is kept.
/// </summary>
public sealed class FactIndex
{
    [ThreadStatic]
    private static FactIndex? _last;

    [ThreadStatic]
    private static Dictionary<IConfigFact, FactIndex>? _scope;

    private readonly IConfigFact _fact;

    private readonly Dictionary<string, Setting>? _byKey;
    private readonly System.Collections.Immutable.ImmutableSortedDictionary<string, Setting> _settings;

    private FactIndex(IConfigFact fact)
    {
        _fact = fact;
        var settings = _settings = fact.Settings; // computed on each access for some fact types: read once
        // A map built with another comparer (not through ToSettingMap) keeps its own lookups.
        _byKey = settings.KeyComparer == StringComparer.OrdinalIgnoreCase
            ? new Dictionary<string, Setting>(settings.Count, StringComparer.OrdinalIgnoreCase)
            : null;
        var keys = new string[settings.Count];
        var i = 0;
        foreach (var (key, setting) in settings)
        {
            _byKey?.Add(key, setting);
            keys[i++] = key;
        }

        Keys = keys;
    }

    /// <summary>The setting keys in the fact's order (sorted case-insensitively).</summary>
    public IReadOnlyList<string> Keys { get; }

    public static FactIndex Of(IConfigFact fact)
    {
        var last = _last;
        if (last is not null && ReferenceEquals(last._fact, fact))
        {
            return last;
        }

        if (_scope is { } scope)
        {
            if (!scope.TryGetValue(fact, out var index))
            {
                scope[fact] = index = new FactIndex(fact);
            }

            return _last = index;
        }

        return _last = new FactIndex(fact);
    }

    /// <summary>Keeps every fact's index on this thread until the returned scope is disposed.</summary>
    public static IDisposable Scope()
    {
        var previous = _scope;
        _scope = new Dictionary<IConfigFact, FactIndex>(ReferenceEqualityComparer.Instance);
        return new ScopeEnd(previous);
    }

    private sealed class ScopeEnd(Dictionary<IConfigFact, FactIndex>? previous) : IDisposable
    {
        public void Dispose()
        {
            _scope = previous;
            _last = null;
        }
    }

    public Setting? Get(string key)
    {
        Setting? setting;
        var found = _byKey is null ? _settings.TryGetValue(key, out setting) : _byKey.TryGetValue(key, out setting);
        return found ? setting : null;
    }
}
