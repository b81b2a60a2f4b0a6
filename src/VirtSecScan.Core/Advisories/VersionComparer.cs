namespace VirtSecScan.Core.Advisories;

/// <summary>
/// Orders package and product versions the way Debian's dpkg does (epoch <c>1:</c>, upstream version,
/// <c>-revision</c>; digits compare as numbers, <c>~</c> sorts before everything). This also orders plain
/// dotted versions (<c>10.0.20348.2582</c>, <c>8.1.2-4</c>, <c>4.17.3</c>) and, near enough, RPM
/// version-release strings (<c>8.2.0-11.el9_4.6</c>).
/// </summary>
public sealed class VersionComparer : IComparer<string>
{
    public static VersionComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var (ex, ux, rx) = Split(x.Trim());
        var (ey, uy, ry) = Split(y.Trim());
        var c = ex.CompareTo(ey);
        if (c != 0)
        {
            return c;
        }

        c = ComparePart(ux, uy);
        return c != 0 ? c : ComparePart(rx, ry);
    }

    /// <summary>True when <paramref name="text"/> starts with a digit (a version, not a word).</summary>
    public static bool LooksLikeVersion(string? text) => !string.IsNullOrWhiteSpace(text) && char.IsAsciiDigit(text.Trim()[0]);

    private static (long Epoch, string Upstream, string Revision) Split(string v)
    {
        long epoch = 0;
        var colon = v.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && long.TryParse(v[..colon], out var e))
        {
            epoch = e;
            v = v[(colon + 1)..];
        }

        var dash = v.LastIndexOf('-');
        return dash > 0 ? (epoch, v[..dash], v[(dash + 1)..]) : (epoch, v, "");
    }

    private static int ComparePart(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            // Non-digit run: letters sort before non-letters, '~' before everything (even the end).
            while ((i < a.Length && !char.IsAsciiDigit(a[i])) || (j < b.Length && !char.IsAsciiDigit(b[j])))
            {
                var ca = i < a.Length && !char.IsAsciiDigit(a[i]) ? Order(a[i]) : 0;
                var cb = j < b.Length && !char.IsAsciiDigit(b[j]) ? Order(b[j]) : 0;
                if (ca != cb)
                {
                    return ca.CompareTo(cb);
                }

                if (i < a.Length && !char.IsAsciiDigit(a[i]))
                {
                    i++;
                }

                if (j < b.Length && !char.IsAsciiDigit(b[j]))
                {
                    j++;
                }
            }

            // Digit run: numeric comparison without overflow (strip leading zeros, compare length, then text).
            var si = i;
            while (i < a.Length && char.IsAsciiDigit(a[i]))
            {
                i++;
            }

            var sj = j;
            while (j < b.Length && char.IsAsciiDigit(b[j]))
            {
                j++;
            }

            var na = a[si..i].TrimStart('0');
            var nb = b[sj..j].TrimStart('0');
            if (na.Length != nb.Length)
            {
                return na.Length.CompareTo(nb.Length);
            }

            var c = string.CompareOrdinal(na, nb);
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    private static int Order(char c) => c == '~' ? -1 : char.IsAsciiLetter(c) ? c : c + 256;
}
