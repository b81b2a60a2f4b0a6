using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace PcapGen;

/// <summary>A classic pcap writer (microsecond timestamps).</summary>
public sealed class PcapWriter : IDisposable
{
    private readonly Stream _out;
    private readonly byte[] _header = new byte[16];

    public PcapWriter(string path, int linkType, int snapLength = 262144)
    {
        _out = new BufferedStream(File.Create(path), 1 << 20);
        Span<byte> h = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)linkType);
        _out.Write(h);
    }

    public long Packets { get; private set; }

    public void Write(long micros, ReadOnlySpan<byte> frame, int? capturedLength = null)
    {
        var captured = capturedLength ?? frame.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(_header, (uint)(micros / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(4), (uint)(micros % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(8), (uint)captured);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(12), (uint)frame.Length);
        _out.Write(_header);
        _out.Write(frame[..captured]);
        Packets++;
    }

    public void Dispose() => _out.Dispose();
}

/// <summary>How IP packets are wrapped into frames of the file's link type.</summary>
public enum Wrap
{
    Ethernet,
    Vlan,
    QinQ,
    Mpls,
    Vxlan,
    Geneve,
    Sll,
    Sll2,
    Null,
    RawIp,
}

/// <summary>Builds IPv4/TCP/UDP frames and wraps them.</summary>
public sealed class Framer(Wrap wrap)
{
    public Wrap Wrap { get; } = wrap;

    public int LinkType => Wrap switch
    {
        Wrap.Sll => 113,
        Wrap.Sll2 => 276,
        Wrap.Null => 0,
        Wrap.RawIp => 228,
        _ => 1,
    };

    public static uint Ip(string dotted) => BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(dotted).GetAddressBytes());

    public byte[] Tcp(uint src, uint dst, ushort sport, ushort dport, uint seq, uint ack, byte flags, ReadOnlySpan<byte> payload)
    {
        var ip = new byte[20 + 20 + payload.Length];
        IPv4(ip, src, dst, 6);
        var t = ip.AsSpan(20);
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], dport);
        BinaryPrimitives.WriteUInt32BigEndian(t[4..], seq);
        BinaryPrimitives.WriteUInt32BigEndian(t[8..], ack);
        t[12] = 5 << 4;
        t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t[14..], 64240);
        payload.CopyTo(t[20..]);
        return WrapIp(ip);
    }

    public byte[] Udp(uint src, uint dst, ushort sport, ushort dport, ReadOnlySpan<byte> payload)
    {
        var ip = UdpIp(src, dst, sport, dport, payload);
        return WrapIp(ip);
    }

    private static byte[] UdpIp(uint src, uint dst, ushort sport, ushort dport, ReadOnlySpan<byte> payload)
    {
        var ip = new byte[20 + 8 + payload.Length];
        IPv4(ip, src, dst, 17);
        var u = ip.AsSpan(20);
        BinaryPrimitives.WriteUInt16BigEndian(u, sport);
        BinaryPrimitives.WriteUInt16BigEndian(u[2..], dport);
        BinaryPrimitives.WriteUInt16BigEndian(u[4..], (ushort)(8 + payload.Length));
        payload.CopyTo(u[8..]);
        return ip;
    }

    private static void IPv4(byte[] ip, uint src, uint dst, byte protocol)
    {
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(ip.AsSpan(12), src);
        BinaryPrimitives.WriteUInt32BigEndian(ip.AsSpan(16), dst);
        ushort sum = 0;
        uint acc = 0;
        for (var i = 0; i < 20; i += 2)
        {
            acc += (uint)(ip[i] << 8 | ip[i + 1]);
        }

        while (acc > 0xFFFF)
        {
            acc = (acc & 0xFFFF) + (acc >> 16);
        }

        sum = (ushort)~acc;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), sum);
    }

    private static byte[] Ethernet(ReadOnlySpan<byte> inner, ushort type, params ushort[] tags)
    {
        var frame = new byte[14 + (tags.Length * 4) + inner.Length];
        byte[] dst = [0x00, 0x50, 0x56, 0x00, 0x00, 0x02], src = [0x00, 0x50, 0x56, 0x00, 0x00, 0x01];
        dst.CopyTo(frame, 0);
        src.CopyTo(frame, 6);
        var o = 12;
        for (var i = 0; i < tags.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(o), i == 0 && tags.Length > 1 ? (ushort)0x88A8 : (ushort)0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(o + 2), tags[i]);
            o += 4;
        }

        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(o), type);
        inner.CopyTo(frame.AsSpan(o + 2));
        return frame;
    }

    public byte[] WrapIp(byte[] ip)
    {
        switch (Wrap)
        {
            case Wrap.Ethernet:
                return Ethernet(ip, 0x0800);
            case Wrap.Vlan:
                return Ethernet(ip, 0x0800, 110);
            case Wrap.QinQ:
                return Ethernet(ip, 0x0800, 900, 110);
            case Wrap.Mpls:
            {
                var labels = new byte[8 + ip.Length];
                BinaryPrimitives.WriteUInt32BigEndian(labels, (1000u << 12) | 64);
                BinaryPrimitives.WriteUInt32BigEndian(labels.AsSpan(4), (2000u << 12) | 0x100 | 64);
                ip.CopyTo(labels, 8);
                return Ethernet(labels, 0x8847);
            }

            case Wrap.Vxlan or Wrap.Geneve:
            {
                var inner = Ethernet(ip, 0x0800);
                var tunnel = new byte[8 + inner.Length];
                if (Wrap == Wrap.Vxlan)
                {
                    tunnel[0] = 0x08;
                    tunnel[6] = 0x17; // VNI
                }
                else
                {
                    BinaryPrimitives.WriteUInt16BigEndian(tunnel.AsSpan(2), 0x6558);
                    tunnel[6] = 0x17;
                }

                inner.CopyTo(tunnel, 8);
                var outer = UdpIp(Ip("192.168.100.1"), Ip("192.168.100.2"), 49152, Wrap == Wrap.Vxlan ? (ushort)4789 : (ushort)6081, tunnel);
                return Ethernet(outer, 0x0800);
            }

            case Wrap.Sll:
            {
                var f = new byte[16 + ip.Length];
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(2), 772);
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(4), 6);
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14), 0x0800);
                ip.CopyTo(f, 16);
                return f;
            }

            case Wrap.Sll2:
            {
                var f = new byte[20 + ip.Length];
                BinaryPrimitives.WriteUInt16BigEndian(f, 0x0800);
                BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(4), 1);
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(8), 772);
                f[11] = 6;
                ip.CopyTo(f, 20);
                return f;
            }

            case Wrap.Null:
            {
                var f = new byte[4 + ip.Length];
                BinaryPrimitives.WriteUInt32LittleEndian(f, 2);
                ip.CopyTo(f, 4);
                return f;
            }

            default:
                return ip;
        }
    }
}

/// <summary>A TCP connection written packet by packet: handshake, data segments with ACKs, FIN close.</summary>
public sealed class TcpSession(PcapWriter w, Framer f, uint client, ushort clientPort, uint server, ushort serverPort, long start)
{
    private uint _cseq = 1000, _sseq = 5000;
    private long _t = start;

    public long Time => _t;

    public TcpSession Open()
    {
        Emit(true, 0x02, []);
        _cseq++;
        Emit(false, 0x12, []);
        _sseq++;
        Emit(true, 0x10, []);
        return this;
    }

    public TcpSession Send(bool fromClient, ReadOnlySpan<byte> data, int mss = 1448)
    {
        for (var o = 0; o < data.Length; o += mss)
        {
            var chunk = data.Slice(o, Math.Min(mss, data.Length - o));
            Emit(fromClient, 0x18, chunk);
            if (fromClient)
            {
                _cseq += (uint)chunk.Length;
            }
            else
            {
                _sseq += (uint)chunk.Length;
            }
        }

        Emit(!fromClient, 0x10, []);
        return this;
    }

    public TcpSession Send(bool fromClient, string text) => Send(fromClient, Encoding.ASCII.GetBytes(text));

    public void Close()
    {
        Emit(true, 0x11, []);
        _cseq++;
        Emit(false, 0x11, []);
        _sseq++;
        Emit(true, 0x10, []);
    }

    private void Emit(bool fromClient, byte flags, ReadOnlySpan<byte> payload)
    {
        _t += 150;
        var frame = fromClient
            ? f.Tcp(client, server, clientPort, serverPort, _cseq, _sseq, flags, payload)
            : f.Tcp(server, client, serverPort, clientPort, _sseq, _cseq, flags, payload);
        w.Write(_t, frame);
    }
}
