using System.Net;

namespace VirtSecScan.Collectors.Traffic;

/// <summary>A conversation: one client talking to one server port with one protocol, over any number of connections.</summary>
public readonly record struct ConversationKey(byte Transport, bool V6, UInt128 Client, UInt128 Server, ushort ServerPort, string Protocol);

public sealed class Conversation
{
    public long Packets;
    public long Bytes;
    public long Connections;
    public long First = long.MaxValue;
    public long Last;
    public long FirstPacketNumber = long.MaxValue;
    public FlowNotes Notes { get; } = new();
}

/// <summary>
/// One pass over decoded packets: a 5-tuple flow table with direction, content-based protocol detection, bounded
/// reassembly for the protocols that need it, and aggregation of finished flows into conversations. Memory is bounded
/// by <see cref="MaxFlows"/> live flows, <see cref="MaxConversations"/> conversations and the reassembly budget.
/// </summary>
public sealed class TrafficAnalysis
{
    public const int MaxFlows = 200_000;
    public const int MaxConversations = 50_000;
    private const int ClassifyTries = 6;

    private readonly Dictionary<FlowKey, Flow> _flows = new(4096);
    private readonly Dictionary<FlowKey, Conversation> _closed = new(4096);
    private readonly ReassemblyBudget _budget = new(64L * 1024 * 1024);

    public Dictionary<ConversationKey, Conversation> Conversations { get; } = new(1024);
    public long Packets { get; private set; }
    public long Bytes { get; private set; }
    public long Malformed { get; private set; }
    public long NotIp { get; private set; }
    public long Fragments { get; private set; }
    public long Evicted { get; private set; }
    public long ConversationsDropped { get; private set; }
    public long PeakFlows { get; private set; }
    public long First { get; private set; } = long.MaxValue;
    public long Last { get; private set; }
    public HashSet<string> Encapsulations { get; } = new(StringComparer.Ordinal);
    public ReassemblyBudget Budget => _budget;

    /// <summary>Accounts one frame of link type <paramref name="linkType"/> captured at <paramref name="micros"/>.</summary>
    public void Packet(int linkType, ReadOnlySpan<byte> frame, long micros, long wireLength)
    {
        Packets++;
        Bytes += wireLength;
        if (micros < First)
        {
            First = micros;
        }

        if (micros > Last)
        {
            Last = micros;
        }

        var p = default(PacketInfo);
        DecodeStatus status;
        try
        {
            status = PacketDecoder.Decode(linkType, frame, ref p);
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            status = DecodeStatus.Malformed;
        }

        switch (status)
        {
            case DecodeStatus.Malformed:
                Malformed++;
                return;
            case DecodeStatus.NotIp or DecodeStatus.UnsupportedLinkType:
                NotIp++;
                return;
            case DecodeStatus.Fragment:
                Fragments++;
                p.SourcePort = p.DestinationPort = 0;
                p.PayloadLength = 0;
                break;
        }

        if (p.Encapsulation != 0)
        {
            NoteEncapsulation(p.Encapsulation);
        }

        var key = FlowKey.Of(p, out var sourceIsA);
        if (!_flows.TryGetValue(key, out var flow))
        {
            if (p.Protocol == PacketDecoder.Tcp && (p.TcpFlags & 0x02) == 0 && _closed.TryGetValue(key, out var closed))
            {
                // The last ACKs of a connection that already closed: count them with it.
                closed.Packets++;
                closed.Bytes += wireLength;
                closed.Last = Math.Max(closed.Last, micros);
                return;
            }

            if (_flows.Count >= MaxFlows)
            {
                EvictIdle(micros);
            }

            flow = new Flow { Key = key, First = micros, FirstPacketNumber = Packets };
            flow.ClientIsA = ClientIsA(p, sourceIsA);
            if (p.Protocol == PacketDecoder.Tcp && (p.TcpFlags & 0x02) != 0)
            {
                flow.SawSyn = true;
            }

            _flows[key] = flow;
            PeakFlows = Math.Max(PeakFlows, _flows.Count);
        }

        var fromClient = sourceIsA == flow.ClientIsA;
        flow.Packets++;
        flow.Bytes += wireLength;
        flow.Last = micros;
        if (fromClient)
        {
            flow.PacketsToServer++;
            flow.BytesToServer += wireLength;
        }

        var tcp = p.Protocol == PacketDecoder.Tcp;
        if (p.PayloadLength > 0 && flow.Inspect)
        {
            Inspect(flow, fromClient, p.Sequence, frame.Slice(p.PayloadOffset, p.PayloadLength), tcp);
        }

        if (tcp && (p.TcpFlags & 0x05) != 0)
        {
            // FIN from one side, or RST: the connection is done when both sides finished or one reset.
            flow.Closed |= (p.TcpFlags & 0x04) != 0 ? (byte)3 : fromClient ? (byte)1 : (byte)2;
            if (flow.Closed == 3)
            {
                if (Finish(flow) is { } conversation)
                {
                    if (_closed.Count >= 4096)
                    {
                        _closed.Clear();
                    }

                    _closed[key] = conversation;
                }

                _flows.Remove(key);
            }
        }
    }

    private void NoteEncapsulation(byte e)
    {
        if ((e & PacketDecoder.Vlan) != 0) Encapsulations.Add("vlan");
        if ((e & PacketDecoder.Mpls) != 0) Encapsulations.Add("mpls");
        if ((e & PacketDecoder.Vxlan) != 0) Encapsulations.Add("vxlan");
        if ((e & PacketDecoder.Geneve) != 0) Encapsulations.Add("geneve");
        if ((e & PacketDecoder.Pppoe) != 0) Encapsulations.Add("pppoe");
    }

    private static bool ClientIsA(in PacketInfo p, bool sourceIsA)
    {
        if (p.Protocol == PacketDecoder.Tcp && (p.TcpFlags & 0x12) == 0x02)
        {
            return sourceIsA; // SYN: the sender opens the connection
        }

        if (p.Protocol == PacketDecoder.Tcp && (p.TcpFlags & 0x12) == 0x12)
        {
            return !sourceIsA; // SYN-ACK: the receiver opened it
        }

        // Mid-stream: the side on a known service port, else on a privileged port, else on the lower port is the server.
        var (source, destination) = (ServerRank(p.SourcePort), ServerRank(p.DestinationPort));
        var sourceServer = source > destination || (source == destination && p.SourcePort < p.DestinationPort);
        return sourceServer ? !sourceIsA : sourceIsA;
    }

    private static readonly HashSet<ushort> ServicePorts =
    [
        21, 22, 23, 25, 53, 69, 80, 88, 104, 110, 111, 123, 135, 139, 143, 161, 162, 389, 443, 445, 514, 636, 902, 993, 995,
        2049, 2575, 2762, 3260, 3268, 3389, 4242, 5900, 5901, 5989, 6661, 8000, 8080, 8443, 11112,
    ];

    private static int ServerRank(ushort port) => ServicePorts.Contains(port) ? 2 : port < 1024 ? 1 : 0;

    private void Inspect(Flow flow, bool fromClient, uint seq, ReadOnlySpan<byte> payload, bool tcp)
    {
        if (flow.Analyzer is null)
        {
            flow.Analyzer = Classifier.Classify(flow, fromClient, payload, tcp, _budget);
            if (flow.Analyzer is null)
            {
                if (++flow.PayloadTries >= ClassifyTries)
                {
                    flow.Inspect = false;
                }

                return;
            }
        }

        var analyzer = flow.Analyzer;
        if (!analyzer.Finished)
        {
            analyzer.Payload(fromClient, seq, payload, tcp);
        }

        if (analyzer.Finished)
        {
            analyzer.Release();
            flow.Inspect = false;
        }
    }

    private void EvictIdle(long now)
    {
        // Drop the least recently seen half of the table into the conversations.
        var cutoff = _flows.Values.Select(f => f.Last).OrderBy(t => t).ElementAt(_flows.Count / 2);
        foreach (var (key, flow) in _flows.Where(kv => kv.Value.Last <= cutoff).ToList())
        {
            Finish(flow);
            _flows.Remove(key);
            Evicted++;
        }
    }

    /// <summary>Folds every flow still open into the conversations (end of file).</summary>
    public void Complete()
    {
        foreach (var flow in _flows.Values)
        {
            Finish(flow);
        }

        _flows.Clear();
    }

    private Conversation? Finish(Flow flow)
    {
        flow.Analyzer?.Release();
        var protocol = flow.Analyzer?.Protocol ?? Classifier.PortName(flow);
        if (flow.Analyzer is not null && flow.ServerPort is 902 or 5989 && protocol != "esxi-management")
        {
            flow.Analyzer.Notes.Add("carriedProtocol", protocol);
            protocol = "esxi-management";
        }

        var key = new ConversationKey(flow.Key.Protocol, flow.Key.V6, flow.Client, flow.Server,
            flow.Key.Protocol is PacketDecoder.Tcp or PacketDecoder.Udp ? flow.ServerPort : (ushort)0, protocol);
        if (!Conversations.TryGetValue(key, out var conversation))
        {
            if (Conversations.Count >= MaxConversations)
            {
                ConversationsDropped++;
                return null;
            }

            Conversations[key] = conversation = new Conversation();
        }

        conversation.Packets += flow.Packets;
        conversation.Bytes += flow.Bytes;
        conversation.Connections++;
        conversation.First = Math.Min(conversation.First, flow.First);
        conversation.Last = Math.Max(conversation.Last, flow.Last);
        conversation.FirstPacketNumber = Math.Min(conversation.FirstPacketNumber, flow.FirstPacketNumber);
        if (flow.Analyzer is not null)
        {
            conversation.Notes.MergeFrom(flow.Analyzer.Notes);
        }

        return conversation;
    }

    public static string Address(UInt128 value, bool v6)
    {
        if (!v6)
        {
            var v = (uint)value;
            return $"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}";
        }

        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new IPAddress(bytes).ToString();
    }
}

/// <summary>Chooses the analyzer for a flow from the first payload bytes (content first; the port only as a fallback).</summary>
public static class Classifier
{
    public static Analyzer? Classify(Flow flow, bool fromClient, ReadOnlySpan<byte> d, bool tcp, ReassemblyBudget budget)
    {
        var port = flow.ServerPort;
        if (tcp)
        {
            if (Hl7Analyzer.LooksLikeMllp(d))
            {
                return new Hl7Analyzer(budget);
            }

            if (fromClient && DicomAnalyzer.LooksLikeAssociateRq(d))
            {
                return new DicomAnalyzer(budget);
            }

            if (TlsAnalyzer.LooksLikeHandshake(d) || (fromClient && TlsAnalyzer.LooksLikeSslv2Hello(d)))
            {
                return new TlsAnalyzer(budget);
            }

            if (port == 902)
            {
                return new PortAnalyzer("esxi-management", "TCP 902 (ESXi NFC / authentication daemon)");
            }

            if (fromClient && HttpAnalyzer.LooksLikeRequest(d) || !fromClient && HttpAnalyzer.LooksLikeResponse(d))
            {
                return new HttpAnalyzer(budget);
            }

            if (SmbAnalyzer.LooksLikeSmb(d))
            {
                return new SmbAnalyzer(budget);
            }

            if (RdpAnalyzer.LooksLikeX224(d))
            {
                return new RdpAnalyzer();
            }

            if (!fromClient && Analyzer.StartsWith(d, "RFB 00"))
            {
                return new VncAnalyzer();
            }

            if (fromClient && LdapAnalyzer.LooksLikeLdap(d))
            {
                return new LdapAnalyzer();
            }

            if (fromClient && IscsiAnalyzer.LooksLikeLogin(d) && (port == 3260 || d.IndexOf("InitiatorName="u8) >= 0))
            {
                return new IscsiAnalyzer(budget);
            }

            if (fromClient && NfsAnalyzer.CallOffset(d, tcp: true) >= 0)
            {
                return new NfsAnalyzer();
            }

            if (port == 21 || (fromClient && (Analyzer.StartsWithIgnoreCase(d, "USER ") || Analyzer.StartsWithIgnoreCase(d, "AUTH TLS"))))
            {
                return new FtpAnalyzer(budget);
            }

            if (port == 23 || (d.Length >= 3 && d[0] == 0xFF && d[1] is >= 251 and <= 254))
            {
                return new TelnetAnalyzer();
            }

            if (port == 8000)
            {
                return new PortAnalyzer("vmotion", "TCP 8000 (vMotion)");
            }

            return null;
        }

        if (SnmpAnalyzer.Version(d) is not null && (port is 161 or 162 || fromClient))
        {
            return new SnmpAnalyzer();
        }

        if (port == 69 && fromClient && TftpAnalyzer.LooksLikeRequest(d))
        {
            return new TftpAnalyzer();
        }

        if (fromClient && NfsAnalyzer.CallOffset(d, tcp: false) >= 0)
        {
            return new NfsAnalyzer();
        }

        return null;
    }

    /// <summary>A name for a flow no analyzer recognised.</summary>
    public static string PortName(Flow flow) => flow.Key.Protocol switch
    {
        PacketDecoder.Tcp => flow.ServerPort switch
        {
            8000 => "vmotion",
            902 or 5989 => "esxi-management",
            23 => "telnet",
            53 => "dns",
            _ => "tcp",
        },
        PacketDecoder.Udp => flow.ServerPort switch
        {
            53 => "dns",
            123 => "ntp",
            69 => "tftp",
            _ => "udp",
        },
        1 => "icmp",
        58 => "icmpv6",
        var n => $"ip-proto-{n}",
    };
}
