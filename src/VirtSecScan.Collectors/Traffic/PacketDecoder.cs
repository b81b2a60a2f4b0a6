using System.Buffers.Binary;

namespace VirtSecScan.Collectors.Traffic;

/// <summary>What the decoder found in one frame: addresses, ports, TCP sequence and flags, and where the payload is.</summary>
public struct PacketInfo
{
    public byte Protocol;
    public bool IsV6;
    public UInt128 Source;
    public UInt128 Destination;
    public ushort SourcePort;
    public ushort DestinationPort;
    public uint Sequence;
    public byte TcpFlags;
    public int PayloadOffset;
    public int PayloadLength;
    public byte Encapsulation;
}

public enum DecodeStatus
{
    Ok,
    NotIp,
    Fragment,
    Malformed,
    UnsupportedLinkType,
}

/// <summary>
/// Hand-written header decoder working on the raw frame (no allocation, no exceptions): link types Ethernet, Linux
/// cooked SLL/SLL2, NULL/loopback, raw IPv4/IPv6; 802.1Q/QinQ, MPLS (with or without a pseudowire control word),
/// PPPoE, VXLAN (UDP 4789) and Geneve (UDP 6081). The flow key is the innermost IP packet's.
/// </summary>
public static class PacketDecoder
{
    public const byte Tcp = 6;
    public const byte Udp = 17;

    /// <summary>Encapsulation bits in <see cref="PacketInfo.Encapsulation"/>.</summary>
    public const byte Vlan = 1, Mpls = 2, Vxlan = 4, Geneve = 8, Pppoe = 16;

    public static bool IsSupported(int linkType) => linkType is 0 or 1 or 12 or 14 or 101 or 108 or 113 or 228 or 229 or 276;

    public static string LinkTypeName(int linkType) => linkType switch
    {
        0 => "null/loopback",
        1 => "ethernet",
        12 or 14 or 101 => "raw-ip",
        108 => "openbsd-loopback",
        113 => "linux-sll",
        228 => "raw-ipv4",
        229 => "raw-ipv6",
        276 => "linux-sll2",
        _ => $"link type {linkType}",
    };

    public static DecodeStatus Decode(int linkType, ReadOnlySpan<byte> f, ref PacketInfo p)
    {
        p.Encapsulation = 0;
        switch (linkType)
        {
            case 1:
                return Ethernet(f, 0, ref p, 0);
            case 0:
            case 108:
                if (f.Length < 4)
                {
                    return DecodeStatus.Malformed;
                }

                var le = BinaryPrimitives.ReadUInt32LittleEndian(f);
                var be = BinaryPrimitives.ReadUInt32BigEndian(f);
                var family = linkType == 108 ? be : (le is 2 or 24 or 28 or 30 ? le : be);
                return family switch
                {
                    2 => IPv4(f, 4, ref p, 0),
                    24 or 28 or 30 => IPv6(f, 4, ref p, 0),
                    _ => DecodeStatus.NotIp,
                };
            case 12 or 14 or 101 or 228 or 229:
                return RawIp(f, 0, ref p, 0);
            case 113:
                return f.Length < 16 ? DecodeStatus.Malformed : EtherType(BinaryPrimitives.ReadUInt16BigEndian(f[14..]), f, 16, ref p, 0);
            case 276:
                return f.Length < 20 ? DecodeStatus.Malformed : EtherType(BinaryPrimitives.ReadUInt16BigEndian(f), f, 20, ref p, 0);
            default:
                return DecodeStatus.UnsupportedLinkType;
        }
    }

    private static DecodeStatus RawIp(ReadOnlySpan<byte> f, int o, ref PacketInfo p, int depth)
    {
        if (f.Length <= o)
        {
            return DecodeStatus.Malformed;
        }

        return (f[o] >> 4) switch
        {
            4 => IPv4(f, o, ref p, depth),
            6 => IPv6(f, o, ref p, depth),
            _ => DecodeStatus.NotIp,
        };
    }

    private static DecodeStatus Ethernet(ReadOnlySpan<byte> f, int o, ref PacketInfo p, int depth)
    {
        if (f.Length < o + 14)
        {
            return DecodeStatus.Malformed;
        }

        return EtherType(BinaryPrimitives.ReadUInt16BigEndian(f[(o + 12)..]), f, o + 14, ref p, depth);
    }

    private static DecodeStatus EtherType(ushort type, ReadOnlySpan<byte> f, int o, ref PacketInfo p, int depth)
    {
        for (var guard = 0; guard < 8; guard++)
        {
            switch (type)
            {
                case 0x0800:
                    return IPv4(f, o, ref p, depth);
                case 0x86DD:
                    return IPv6(f, o, ref p, depth);
                case 0x8100 or 0x88A8 or 0x9100:
                    if (f.Length < o + 4)
                    {
                        return DecodeStatus.Malformed;
                    }

                    p.Encapsulation |= Vlan;
                    type = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 2)..]);
                    o += 4;
                    continue;
                case 0x8847 or 0x8848:
                    p.Encapsulation |= Mpls;
                    for (var labels = 0; ; labels++)
                    {
                        if (f.Length < o + 4 || labels > 16)
                        {
                            return DecodeStatus.Malformed;
                        }

                        var bottom = (f[o + 2] & 1) != 0;
                        o += 4;
                        if (bottom)
                        {
                            break;
                        }
                    }

                    if (f.Length <= o)
                    {
                        return DecodeStatus.Malformed;
                    }

                    return (f[o] >> 4) switch
                    {
                        4 => IPv4(f, o, ref p, depth),
                        6 => IPv6(f, o, ref p, depth),
                        0 => Ethernet(f, o + 4, ref p, depth), // Ethernet pseudowire with a control word
                        _ => Ethernet(f, o, ref p, depth),
                    };
                case 0x8864:
                    if (f.Length < o + 8)
                    {
                        return DecodeStatus.Malformed;
                    }

                    p.Encapsulation |= Pppoe;
                    var ppp = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 6)..]);
                    return ppp switch
                    {
                        0x0021 => IPv4(f, o + 8, ref p, depth),
                        0x0057 => IPv6(f, o + 8, ref p, depth),
                        _ => DecodeStatus.NotIp,
                    };
                default:
                    return DecodeStatus.NotIp;
            }
        }

        return DecodeStatus.Malformed;
    }

    private static DecodeStatus IPv4(ReadOnlySpan<byte> f, int o, ref PacketInfo p, int depth)
    {
        if (f.Length < o + 20 || (f[o] >> 4) != 4)
        {
            return DecodeStatus.Malformed;
        }

        var ihl = (f[o] & 0x0F) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 2)..]);
        if (ihl < 20 || total < ihl || f.Length < o + ihl)
        {
            return DecodeStatus.Malformed;
        }

        var end = Math.Min(f.Length, o + total);
        var fragment = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 6)..]) & 0x1FFF;
        p.IsV6 = false;
        p.Source = BinaryPrimitives.ReadUInt32BigEndian(f[(o + 12)..]);
        p.Destination = BinaryPrimitives.ReadUInt32BigEndian(f[(o + 16)..]);
        p.Protocol = f[o + 9];
        if (fragment != 0)
        {
            return DecodeStatus.Fragment;
        }

        return Transport(f, o + ihl, end, ref p, depth);
    }

    private static DecodeStatus IPv6(ReadOnlySpan<byte> f, int o, ref PacketInfo p, int depth)
    {
        if (f.Length < o + 40 || (f[o] >> 4) != 6)
        {
            return DecodeStatus.Malformed;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 4)..]);
        var end = payloadLength == 0 ? f.Length : Math.Min(f.Length, o + 40 + payloadLength);
        var next = f[o + 6];
        p.IsV6 = true;
        p.Source = BinaryPrimitives.ReadUInt128BigEndian(f[(o + 8)..]);
        p.Destination = BinaryPrimitives.ReadUInt128BigEndian(f[(o + 24)..]);
        o += 40;
        for (var guard = 0; guard < 8; guard++)
        {
            switch (next)
            {
                case 0 or 43 or 60:
                    if (end < o + 2)
                    {
                        return DecodeStatus.Malformed;
                    }

                    next = f[o];
                    o += (f[o + 1] + 1) * 8;
                    continue;
                case 51:
                    if (end < o + 2)
                    {
                        return DecodeStatus.Malformed;
                    }

                    next = f[o];
                    o += (f[o + 1] + 2) * 4;
                    continue;
                case 44:
                    if (end < o + 8)
                    {
                        return DecodeStatus.Malformed;
                    }

                    p.Protocol = f[o];
                    if ((BinaryPrimitives.ReadUInt16BigEndian(f[(o + 2)..]) >> 3) != 0)
                    {
                        return DecodeStatus.Fragment;
                    }

                    next = f[o];
                    o += 8;
                    continue;
                default:
                    p.Protocol = next;
                    return o > end ? DecodeStatus.Malformed : Transport(f, o, end, ref p, depth);
            }
        }

        return DecodeStatus.Malformed;
    }

    private static DecodeStatus Transport(ReadOnlySpan<byte> f, int o, int end, ref PacketInfo p, int depth)
    {
        p.SourcePort = 0;
        p.DestinationPort = 0;
        p.Sequence = 0;
        p.TcpFlags = 0;
        p.PayloadOffset = o;
        p.PayloadLength = 0;
        switch (p.Protocol)
        {
            case Tcp:
            {
                if (end < o + 20)
                {
                    return DecodeStatus.Malformed;
                }

                var dataOffset = (f[o + 12] >> 4) * 4;
                if (dataOffset < 20 || end < o + dataOffset)
                {
                    return DecodeStatus.Malformed;
                }

                p.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(f[o..]);
                p.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 2)..]);
                p.Sequence = BinaryPrimitives.ReadUInt32BigEndian(f[(o + 4)..]);
                p.TcpFlags = f[o + 13];
                p.PayloadOffset = o + dataOffset;
                p.PayloadLength = end - p.PayloadOffset;
                return DecodeStatus.Ok;
            }

            case Udp:
            {
                if (end < o + 8)
                {
                    return DecodeStatus.Malformed;
                }

                p.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(f[o..]);
                p.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 2)..]);
                int udpLength = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 4)..]);
                var udpEnd = udpLength >= 8 ? Math.Min(end, o + udpLength) : end;
                p.PayloadOffset = o + 8;
                p.PayloadLength = udpEnd - p.PayloadOffset;
                if (depth < 4)
                {
                    if (p.DestinationPort == 4789 && p.PayloadLength >= 8 + 14 && (f[o + 8] & 0x08) != 0)
                    {
                        var inner = p;
                        inner.Encapsulation |= Vxlan;
                        var status = Ethernet(f[..udpEnd], o + 16, ref inner, depth + 1);
                        if (status is DecodeStatus.Ok or DecodeStatus.Fragment)
                        {
                            p = inner;
                            return status;
                        }
                    }
                    else if (p.DestinationPort == 6081 && p.PayloadLength >= 8 && (f[o + 8] >> 6) == 0)
                    {
                        var optionsLength = (f[o + 8] & 0x3F) * 4;
                        var type = BinaryPrimitives.ReadUInt16BigEndian(f[(o + 10)..]);
                        var innerStart = o + 16 + optionsLength;
                        if (innerStart < udpEnd)
                        {
                            var inner = p;
                            inner.Encapsulation |= Geneve;
                            var status = type == 0x6558
                                ? Ethernet(f[..udpEnd], innerStart, ref inner, depth + 1)
                                : EtherType(type, f[..udpEnd], innerStart, ref inner, depth + 1);
                            if (status is DecodeStatus.Ok or DecodeStatus.Fragment)
                            {
                                p = inner;
                                return status;
                            }
                        }
                    }
                }

                return DecodeStatus.Ok;
            }

            default:
                return DecodeStatus.Ok;
        }
    }
}
