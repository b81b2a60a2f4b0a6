using System.Runtime.CompilerServices;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Engine.Rulesets;

/// <summary>
/// A fact's settings as a hash table and a key list, built once per fact and shared by every data rule that reads it
/// (a VM is read by dozens of rules; a lookup in the fact's sorted dictionary compares keys case-insensitively at
/// every tree level, and enumerating it allocates). Same semantics as <see cref="ConfigFactExtensions.Get"/>: keys
/// compare case-insensitively. Thread-safe: rule sessions run in parallel.
/// </summary>
public sealed class FactIndex
{
    private static readonly ConditionalWeakTable<IConfigFact, FactIndex> Cache = new();

    private readonly Dictionary<string, Setting>? _byKey;
    private readonly System.Collections.Immutable.ImmutableSortedDictionary<string, Setting> _settings;

    private FactIndex(IConfigFact fact)
    {
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

    public static FactIndex Of(IConfigFact fact) => Cache.GetValue(fact, static f => new FactIndex(f));

    public Setting? Get(string key)
    {
        Setting? setting;
        var found = _byKey is null ? _settings.TryGetValue(key, out setting) : _byKey.TryGetValue(key, out setting);
        return found ? setting : null;
    }
}
