using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VirtSecScan.Core.Network;

/// <summary>A closed interval [Low, High] of addresses or ports.</summary>
public readonly record struct Interval(UInt128 Low, UInt128 High);

/// <summary>
/// An immutable set of values kept as sorted, disjoint, non-adjacent intervals. Addresses use one 128-bit space:
/// IPv6 as is, IPv4 mapped into <c>::ffff:0:0/96</c>; ports use 0..65535.
/// </summary>
public sealed class IntervalSet : IEquatable<IntervalSet>
{
    public static readonly IntervalSet Empty = new([]);

    /// <summary>Every IPv4 address (mapped into ::ffff:0:0/96).</summary>
    public static readonly IntervalSet AllIpv4 = new([new Interval(V4Base, V4Base + uint.MaxValue)]);

    /// <summary>Every IPv6 address except the IPv4-mapped block.</summary>
    public static readonly IntervalSet AllIpv6 = new([new Interval(UInt128.Zero, V4Base - 1), new Interval(V4Base + (UInt128)uint.MaxValue + 1, UInt128.MaxValue)]);

    public static readonly IntervalSet AllAddresses = new([new Interval(UInt128.Zero, UInt128.MaxValue)]);

    public static readonly IntervalSet AllPorts = new([new Interval(0, 65535)]);

    private static UInt128 V4Base => (UInt128)0xFFFF_0000_0000UL;

    private IntervalSet(ImmutableArray<Interval> ranges) => Ranges = ranges;

    public ImmutableArray<Interval> Ranges { get; }

    public bool IsEmpty => Ranges.IsEmpty;

    public static IntervalSet Of(UInt128 low, UInt128 high) => low <= high ? new([new Interval(low, high)]) : Empty;

    public static IntervalSet Of(IEnumerable<Interval> intervals)
    {
        var sorted = intervals.Where(i => i.Low <= i.High).OrderBy(i => i.Low).ToList();
        var merged = new List<Interval>();
        foreach (var i in sorted)
        {
            if (merged.Count > 0 && (merged[^1].High == UInt128.MaxValue || i.Low <= merged[^1].High + 1))
            {
                if (i.High > merged[^1].High)
                {
                    merged[^1] = merged[^1] with { High = i.High };
                }
            }
            else
            {
                merged.Add(i);
            }
        }

        return merged.Count == 0 ? Empty : new(merged.ToImmutableArray());
    }

    public IntervalSet Union(IntervalSet other) => Of(Ranges.Concat(other.Ranges));

    public IntervalSet Intersect(IntervalSet other)
    {
        var result = new List<Interval>();
        int i = 0, j = 0;
        while (i < Ranges.Length && j < other.Ranges.Length)
        {
            var a = Ranges[i];
            var b = other.Ranges[j];
            var low = a.Low > b.Low ? a.Low : b.Low;
            var high = a.High < b.High ? a.High : b.High;
            if (low <= high)
            {
                result.Add(new Interval(low, high));
            }

            if (a.High < b.High)
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return result.Count == 0 ? Empty : new(result.ToImmutableArray());
    }

    public IntervalSet Subtract(IntervalSet other)
    {
        var result = new List<Interval>();
        foreach (var a in Ranges)
        {
            var low = a.Low;
            var done = false;
            foreach (var b in other.Ranges)
            {
                if (b.High < low || b.Low > a.High)
                {
                    continue;
                }

                if (b.Low > low)
                {
                    result.Add(new Interval(low, b.Low - 1));
                }

                if (b.High >= a.High)
                {
                    done = true;
                    break;
                }

                low = b.High + 1;
            }

            if (!done)
            {
                result.Add(new Interval(low, a.High));
            }
        }

        return Of(result);
    }

    public bool Contains(UInt128 value)
    {
        foreach (var r in Ranges)
        {
            if (value >= r.Low && value <= r.High)
            {
                return true;
            }
        }

        return false;
    }

    public bool Overlaps(IntervalSet other) => !Intersect(other).IsEmpty;

    public bool IsSupersetOf(IntervalSet other) => other.Subtract(this).IsEmpty;

    /// <summary>Splits this set into pieces at every boundary of the given sets, so that each piece lies wholly inside or outside each.</summary>
    public IReadOnlyList<Interval> Atoms(IEnumerable<IntervalSet> splitters)
    {
        var cuts = new SortedSet<UInt128>();
        foreach (var s in splitters)
        {
            foreach (var r in s.Ranges)
            {
                cuts.Add(r.Low);
                if (r.High != UInt128.MaxValue)
                {
                    cuts.Add(r.High + 1);
                }
            }
        }

        var atoms = new List<Interval>();
        foreach (var r in Ranges)
        {
            var low = r.Low;
            foreach (var c in cuts.GetViewBetween(r.Low, r.High))
            {
                if (c > low)
                {
                    atoms.Add(new Interval(low, c - 1));
                    low = c;
                }
            }

            atoms.Add(new Interval(low, r.High));
        }

        return atoms;
    }

    // ---- addresses ----

    public static UInt128 ToNumber(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        UInt128 value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        return address.AddressFamily == AddressFamily.InterNetwork ? V4Base + value : value;
    }

    public static bool IsIpv4(UInt128 value) => value >= V4Base && value <= V4Base + uint.MaxValue;

    public static IPAddress ToAddress(UInt128 value)
    {
        if (IsIpv4(value))
        {
            var v = (uint)(value - V4Base);
            return new IPAddress([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        }

        var bytes = new byte[16];
        for (var i = 15; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xFF);
            value >>= 8;
        }

        return new IPAddress(bytes);
    }

    /// <summary>Parses an address, a CIDR prefix (<c>10.0.0.0/8</c>, <c>fd00::/64</c>), a dotted netmask
    /// (<c>10.0.0.0/255.0.0.0</c>) or a range (<c>10.0.0.1-10.0.0.9</c>). Null when it is none of these.</summary>
    public static IntervalSet? ParseAddress(string text)
    {
        text = text.Trim();
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash > 0 && IPAddress.TryParse(text[..dash], out var from) && IPAddress.TryParse(text[(dash + 1)..], out var to))
        {
            return Of(ToNumber(from), ToNumber(to));
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address))
        {
            return null;
        }

        var v4 = address.AddressFamily == AddressFamily.InterNetwork;
        var bits = v4 ? 32 : 128;
        var prefix = bits;
        if (slash >= 0)
        {
            var p = text[(slash + 1)..];
            if (int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0 && n <= bits)
            {
                prefix = n;
            }
            else if (v4 && IPAddress.TryParse(p, out var mask) && PrefixOfMask(mask) is { } m)
            {
                prefix = m;
            }
            else
            {
                return null;
            }
        }

        return Prefix(address, prefix);
    }

    public static IntervalSet Prefix(IPAddress address, int prefix)
    {
        var v4 = address.AddressFamily == AddressFamily.InterNetwork;
        var bits = v4 ? 32 : 128;
        var value = ToNumber(address) - (v4 ? V4Base : 0);
        var hostBits = bits - prefix;
        var size = hostBits == 128 ? UInt128.MaxValue : (((UInt128)1) << hostBits) - 1;
        var low = value & ~size;
        var high = low | size;
        return v4 ? Of(V4Base + low, V4Base + high) : Of(low, high);
    }

    public static int? PrefixOfMask(IPAddress mask)
    {
        var bytes = mask.GetAddressBytes();
        var v = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
        var inverse = ~v;
        return (inverse & (inverse + 1)) == 0 ? System.Numerics.BitOperations.PopCount(v) : null;
    }

    /// <summary>Addresses as prefixes or ranges, ports as <c>443</c>, <c>8000-8100</c>.</summary>
    public string FormatAddresses()
    {
        if (IsEmpty)
        {
            return "none";
        }

        if (Equals(AllAddresses))
        {
            return "any";
        }

        if (Equals(AllIpv4))
        {
            return "0.0.0.0/0";
        }

        return string.Join(",", Ranges.Select(FormatAddressRange));
    }

    private static string FormatAddressRange(Interval r)
    {
        var size = r.High - r.Low + 1;
        if (r.High - r.Low != UInt128.MaxValue && (size & (size - 1)) == 0 && (r.Low & (size - 1)) == 0)
        {
            var hostBits = UInt128.Log2(size);
            var bits = IsIpv4(r.Low) ? 32 : 128;
            var p = bits - (int)hostBits;
            return p == bits ? ToAddress(r.Low).ToString() : $"{ToAddress(r.Low)}/{p}";
        }

        return r.Low == r.High ? ToAddress(r.Low).ToString() : $"{ToAddress(r.Low)}-{ToAddress(r.High)}";
    }

    public string FormatPorts()
    {
        if (IsEmpty)
        {
            return "none";
        }

        if (Equals(AllPorts))
        {
            return "any";
        }

        var sb = new StringBuilder();
        foreach (var r in Ranges)
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(r.Low == r.High ? r.Low.ToString(CultureInfo.InvariantCulture) : $"{r.Low.ToString(CultureInfo.InvariantCulture)}-{r.High.ToString(CultureInfo.InvariantCulture)}");
        }

        return sb.ToString();
    }

    /// <summary>Parses <c>443</c>, <c>8000-8100</c>, <c>8000:8100</c>, <c>:1023</c> (iptables) or a comma list of those. Null when invalid.</summary>
    public static IntervalSet? ParsePorts(string text)
    {
        var result = new List<Interval>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var sep = part.IndexOfAny(['-', ':']);
            if (sep < 0)
            {
                if (!ushort.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
                {
                    return null;
                }

                result.Add(new Interval(p, p));
                continue;
            }

            var a = part[..sep];
            var b = part[(sep + 1)..];
            ushort lo = 0, hi = 65535;
            if ((a.Length > 0 && !ushort.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out lo))
                || (b.Length > 0 && !ushort.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out hi)) || lo > hi)
            {
                return null;
            }

            result.Add(new Interval(lo, hi));
        }

        return result.Count == 0 ? null : Of(result);
    }

    public bool Equals(IntervalSet? other) => other is not null && Ranges.SequenceEqual(other.Ranges);

    public override bool Equals(object? obj) => Equals(obj as IntervalSet);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var r in Ranges)
        {
            h.Add(r);
        }

        return h.ToHashCode();
    }

    public override string ToString() => string.Join(",", Ranges.Select(r => $"{r.Low}-{r.High}"));
}
