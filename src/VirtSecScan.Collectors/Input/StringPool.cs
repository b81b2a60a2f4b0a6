namespace VirtSecScan.Collectors.Input;

/// <summary>
/// One instance of strings that repeat across input files (setting keys, short values such as <c>TRUE</c>): a
/// 10,000-VM estate has about a million settings but a few hundred distinct keys, and holding each once keeps the heap,
/// and the garbage collector's work, smaller. One pool per thread (files are collected in parallel; no locks), each
/// bounded, so unique strings (UUIDs, dates) cannot grow it without limit: past <see cref="MaxEntries"/> new strings
/// are not pooled.
/// </summary>
public static class StringPool
{
    public const int MaxEntries = 65536;

    [ThreadStatic]
    private static Dictionary<string, string>? _pool;

    [ThreadStatic]
    private static Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>The pooled string equal to <paramref name="text"/> (ordinal), adding it while the pool has room.</summary>
    public static string Intern(ReadOnlySpan<char> text)
    {
        if (_pool is null)
        {
            _pool = new Dictionary<string, string>(StringComparer.Ordinal);
            _lookup = _pool.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        if (_lookup.TryGetValue(text, out var pooled))
        {
            return pooled;
        }

        var s = text.ToString();
        if (_pool.Count < MaxEntries)
        {
            _pool.Add(s, s);
        }

        return s;
    }
}
