using System.Collections.Concurrent;

namespace VirtSecScan.Collectors.Input;

/// <summary>
/// One shared instance of strings that repeat across input files (setting keys, short values such as <c>TRUE</c>):
/// a 10,000-VM estate has about a million settings but a few hundred distinct keys, and holding each once keeps the
/// heap, and the garbage collector's work, smaller. Thread-safe (files are collected in parallel); bounded, so unique
/// strings (UUIDs, paths) cannot grow it without limit: past <see cref="MaxEntries"/> new strings are not pooled.
/// </summary>
public static class StringPool
{
    public const int MaxEntries = 65536;

    private static readonly ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        Pool.GetAlternateLookup<ReadOnlySpan<char>>();

    private static int _count;

    /// <summary>The pooled string equal to <paramref name="text"/> (ordinal), adding it while the pool has room.</summary>
    public static string Intern(ReadOnlySpan<char> text)
    {
        if (Lookup.TryGetValue(text, out var pooled))
        {
            return pooled;
        }

        var s = text.ToString();
        if (Volatile.Read(ref _count) < MaxEntries && Pool.TryAdd(s, s))
        {
            Interlocked.Increment(ref _count);
        }

        return s;
    }
}
