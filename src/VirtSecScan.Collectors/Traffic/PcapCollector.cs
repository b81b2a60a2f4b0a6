using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using SharpPcap;
using SharpPcap.LibPcap;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Traffic;

/// <summary>
/// Packet captures (pcap, pcapng) read in one streaming pass through libpcap (SharpPcap's offline device), headers
/// decoded from the raw frame. Emits one <c>traffic-flow</c> fact per conversation (client, server, server port,
/// protocol) with observed counters and what the protocol analyzers saw; never patient data or secrets.
/// </summary>
public sealed class PcapCollector : IFileCollector
{
    public const string Kind = "traffic-flow";

    /// <summary>At most this many conversations become facts (protocol findings first, then by bytes).</summary>
    public const int MaxFacts = 3000;

    private static readonly HashSet<string> Plain = new(StringComparer.Ordinal) { "tcp", "udp", "icmp", "icmpv6", "dns", "ntp" };

    public int HeadLength => 4;

    public string? Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length < 4)
        {
            return null;
        }

        var magic = BinaryPrimitives.ReadUInt32LittleEndian(head);
        return magic switch
        {
            0xA1B2C3D4 or 0xD4C3B2A1 or 0xA1B23C4D or 0x4D3CB2A1 => "pcap",
            0x0A0D0D0A => "pcapng",
            _ => null,
        };
    }

    public CollectorResult Collect(string path, string displayPath, string format, IProgress<FileProgress>? progress = null)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var analysis = new TrafficAnalysis();
        int linkType;
        try
        {
            linkType = Read(path, displayPath, analysis, diagnostics, progress);
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            diagnostics.Add(Diagnostic.Error(displayPath, null,
                "cannot read packet captures: the native libpcap library is missing (Debian/Ubuntu: apt-get install libpcap0.8)"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        if (linkType < 0)
        {
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        analysis.Complete();
        if (analysis.Malformed > 0)
        {
            diagnostics.Add(Diagnostic.Warning(displayPath, null, $"{analysis.Malformed} of {analysis.Packets} packets were malformed or truncated and were only counted"));
        }

        if (analysis.Evicted > 0 || analysis.ConversationsDropped > 0 || analysis.Budget.Exhausted)
        {
            diagnostics.Add(Diagnostic.Info(displayPath, null,
                $"memory caps reached: {analysis.Evicted} idle flows closed early, {analysis.ConversationsDropped} flows beyond {TrafficAnalysis.MaxConversations} conversations not reported, reassembly cap {(analysis.Budget.Exhausted ? "reached" : "not reached")}"));
        }

        var facts = Facts(analysis, displayPath, format, linkType, diagnostics);
        return new CollectorResult(format, facts, diagnostics.ToImmutable());
    }

    /// <summary>Reads every packet into <paramref name="analysis"/>; returns the link type, or -1 when the file cannot be read at all.</summary>
    private static int Read(string path, string displayPath, TrafficAnalysis analysis, ImmutableArray<Diagnostic>.Builder diagnostics, IProgress<FileProgress>? progress)
    {
        using var device = new CaptureFileReaderDevice(path);
        try
        {
            device.Open();
        }
        catch (PcapException ex)
        {
            diagnostics.Add(Diagnostic.Error(displayPath, null, $"not a readable packet capture: {ex.Message}"));
            return -1;
        }

        var linkType = (int)device.LinkType;
        if (!PacketDecoder.IsSupported(linkType))
        {
            diagnostics.Add(Diagnostic.Error(displayPath, null,
                $"unsupported link type {linkType}; supported are Ethernet (1), Linux cooked SLL (113) and SLL2 (276), NULL/loopback (0, 108), raw IP (101, 228, 229)"));
            return -1;
        }

        var nanos = device.TimestampResolution == TimestampResolution.Nanosecond;
        var total = new FileInfo(path).Length;
        var watch = Stopwatch.StartNew();
        long fileBytes = 24;
        var header = IntPtr.Zero;
        var data = IntPtr.Zero;
        while (true)
        {
            var status = device.GetNextPacketPointers(ref header, ref data);
            if (status == 1)
            {
                var seconds = Marshal.ReadInt64(header);
                var fraction = Marshal.ReadInt64(header, 8);
                var captured = Marshal.ReadInt32(header, 16);
                var wire = (uint)Marshal.ReadInt32(header, 20);
                var micros = (seconds * 1_000_000) + (nanos ? fraction / 1000 : fraction);
                fileBytes += 16 + captured;
                unsafe
                {
                    analysis.Packet(linkType, new ReadOnlySpan<byte>((void*)data, captured), micros, wire);
                }

                if (progress is not null && (analysis.Packets & 0xFFFF) == 0)
                {
                    progress.Report(new FileProgress(analysis.Packets, fileBytes, total, watch.Elapsed));
                }

                continue;
            }

            if (status == (int)GetPacketStatus.NoRemainingPackets)
            {
                break;
            }

            if (status == (int)GetPacketStatus.Error)
            {
                diagnostics.Add(Diagnostic.Warning(displayPath, null,
                    $"the capture is truncated or damaged after {analysis.Packets} packets ({device.LastError}); the packets before it were analysed"));
                break;
            }
        }

        progress?.Report(new FileProgress(analysis.Packets, fileBytes, total, watch.Elapsed));
        return linkType;
    }

    /// <summary>Above this many conversations, clients are grouped by subnet (/24, IPv6 /64) per server, port and protocol.</summary>
    public const int GroupClientsAbove = 2000;

    private static ImmutableArray<object> Facts(TrafficAnalysis analysis, string displayPath, string format, int linkType, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var rows = analysis.Conversations.Select(kv => (Key: kv.Key, Client: TrafficAnalysis.Address(kv.Key.Client, kv.Key.V6), Clients: 1L, Conversation: kv.Value)).ToList();
        if (rows.Count > GroupClientsAbove)
        {
            diagnostics.Add(Diagnostic.Info(displayPath, null,
                $"{rows.Count} conversations; clients are grouped by subnet (/24, IPv6 /64) for each server, port and protocol"));
            rows = rows
                .GroupBy(r => r.Key with { Client = r.Key.V6 ? r.Key.Client & ~(UInt128)ulong.MaxValue : r.Key.Client & 0xFFFFFF00 })
                .Select(g =>
                {
                    var merged = new Conversation();
                    foreach (var r in g)
                    {
                        merged.Packets += r.Conversation.Packets;
                        merged.Bytes += r.Conversation.Bytes;
                        merged.Connections += r.Conversation.Connections;
                        merged.First = Math.Min(merged.First, r.Conversation.First);
                        merged.Last = Math.Max(merged.Last, r.Conversation.Last);
                        merged.FirstPacketNumber = Math.Min(merged.FirstPacketNumber, r.Conversation.FirstPacketNumber);
                        merged.Notes.MergeFrom(r.Conversation.Notes);
                    }

                    return (Key: g.Key, Client: TrafficAnalysis.Address(g.Key.Client, g.Key.V6) + (g.Key.V6 ? "/64" : "/24"), Clients: (long)g.Count(), Conversation: merged);
                })
                .ToList();
        }

        if (rows.Count > MaxFacts)
        {
            // Keep every protocol represented: take the biggest conversations of each protocol in turn.
            diagnostics.Add(Diagnostic.Info(displayPath, null, $"{rows.Count} conversations; {MaxFacts} are reported, the largest of each protocol in turn"));
            rows = rows.GroupBy(r => r.Key.Protocol)
                .SelectMany(g => g.OrderByDescending(r => r.Conversation.Bytes).Select((r, i) => (Row: r, Turn: i)))
                .OrderBy(x => x.Turn).ThenBy(x => Plain.Contains(x.Row.Key.Protocol) ? 1 : 0).ThenBy(x => x.Row.Key.Protocol, StringComparer.Ordinal)
                .Take(MaxFacts)
                .Select(x => x.Row)
                .ToList();
        }

        var facts = ImmutableArray.CreateBuilder<object>(rows.Count);
        foreach (var (key, client, clients, c) in rows.OrderBy(r => r.Conversation.FirstPacketNumber).ThenBy(r => r.Client, StringComparer.Ordinal))
        {
            var transport = key.Transport switch
            {
                PacketDecoder.Tcp => "tcp",
                PacketDecoder.Udp => "udp",
                var n => $"ip-{n}",
            };
            var server = TrafficAnalysis.Address(key.Server, key.V6);
            var line = (int)Math.Min(int.MaxValue, c.FirstPacketNumber);
            var name = key.ServerPort == 0 ? $"{client} -> {server}/{transport}" : $"{client} -> {server}:{key.ServerPort}/{transport}";
            var resource = new ResourceRef("flow", $"pcap:{name}/{key.Protocol}", name, Source: displayPath, Line: line);
            var settings = new List<Setting>
            {
                new("protocol", key.Protocol, line),
                new("transport", transport, line),
                new("client", client, line),
                new("server", server, line),
                new("serverPort", key.ServerPort.ToString(CultureInfo.InvariantCulture), line),
                new("packets", c.Packets.ToString(CultureInfo.InvariantCulture), line),
                new("bytes", c.Bytes.ToString(CultureInfo.InvariantCulture), line),
                new("connections", c.Connections.ToString(CultureInfo.InvariantCulture), line),
                new("firstSeen", Time(c.First), line),
                new("lastSeen", Time(c.Last), line),
                new("captureFormat", format, line),
                new("linkType", PacketDecoder.LinkTypeName(linkType), line),
            };
            if (clients > 1)
            {
                settings.Add(new Setting("clients", clients.ToString(CultureInfo.InvariantCulture), line));
            }

            if (analysis.Encapsulations.Count > 0)
            {
                settings.Add(new Setting("encapsulation", string.Join(", ", analysis.Encapsulations.Order(StringComparer.Ordinal)), line));
            }

            foreach (var (noteKey, values) in c.Notes.Values)
            {
                var value = noteKey == "phi" ? PhiWithCounts(values, c.Notes.Counts) : string.Join(", ", values);
                settings.Add(new Setting(noteKey, value, line));
            }

            foreach (var (countKey, n) in c.Notes.Counts.Where(kv => !kv.Key.StartsWith("phi:", StringComparison.Ordinal)))
            {
                settings.Add(new Setting(countKey, n.ToString(CultureInfo.InvariantCulture), line));
            }

            facts.Add(ConfigFact.Of(resource, Kind, settings));
        }

        return facts.ToImmutable();
    }

    private static string PhiWithCounts(SortedSet<string> kinds, SortedDictionary<string, long> counts) =>
        string.Join(", ", kinds.Select(k =>
        {
            var id = k.Split(' ')[0];
            return counts.TryGetValue("phi:" + id, out var n) && n > 1 ? $"{k} ({n} times)" : k;
        }));

    private static string Time(long micros) =>
        micros is <= 0 or long.MaxValue
            ? "unknown"
            : DateTimeOffset.FromUnixTimeMilliseconds(micros / 1000).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
