using System.Buffers;

namespace VirtSecScan.Collectors.Traffic;

/// <summary>A canonical 5-tuple: endpoint A is the lower (address, port), so both directions share one key.</summary>
public readonly record struct FlowKey(UInt128 A, UInt128 B, ushort APort, ushort BPort, byte Protocol, bool V6)
{
    public static FlowKey Of(in PacketInfo p, out bool sourceIsA)
    {
        sourceIsA = p.Source < p.Destination || (p.Source == p.Destination && p.SourcePort <= p.DestinationPort);
        return sourceIsA
            ? new FlowKey(p.Source, p.Destination, p.SourcePort, p.DestinationPort, p.Protocol, p.IsV6)
            : new FlowKey(p.Destination, p.Source, p.DestinationPort, p.SourcePort, p.Protocol, p.IsV6);
    }
}

/// <summary>
/// What the analyzers learned about a flow: named sets of values (identifier kinds, message types, SNI ...) and
/// counters. Values are bounded per key. Never holds patient data or secrets: analyzers store kinds and masked forms.
/// </summary>
public sealed class FlowNotes
{
    public const int MaxValuesPerKey = 12;

    public SortedDictionary<string, SortedSet<string>> Values { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, long> Counts { get; } = new(StringComparer.Ordinal);

    public void Add(string key, string value)
    {
        if (!Values.TryGetValue(key, out var set))
        {
            Values[key] = set = new SortedSet<string>(StringComparer.Ordinal);
        }

        if (set.Count < MaxValuesPerKey)
        {
            set.Add(value);
        }
    }

    public void Count(string key, long n = 1) => Counts[key] = Counts.GetValueOrDefault(key) + n;

    public bool Has(string key) => Values.ContainsKey(key);

    public void MergeFrom(FlowNotes other)
    {
        foreach (var (k, set) in other.Values)
        {
            foreach (var v in set)
            {
                Add(k, v);
            }
        }

        foreach (var (k, n) in other.Counts)
        {
            Count(k, n);
        }
    }
}

/// <summary>Bytes buffered for reassembly across all flows of one file; beyond the cap, flows stop being inspected.</summary>
public sealed class ReassemblyBudget(long maxBytes)
{
    public long Max { get; } = maxBytes;
    public long Used { get; private set; }
    public long Peak { get; private set; }
    public bool Exhausted { get; private set; }

    public bool TryTake(int bytes)
    {
        if (Used + bytes > Max)
        {
            Exhausted = true;
            return false;
        }

        Used += bytes;
        Peak = Math.Max(Peak, Used);
        return true;
    }

    public void Give(int bytes) => Used -= bytes;
}

/// <summary>One TCP or UDP (or other IP) flow: counters, direction and the analyzer inspecting its payload.</summary>
public sealed class Flow
{
    public required FlowKey Key { get; init; }

    /// <summary>True when endpoint A is the client (the side that opened the connection).</summary>
    public bool ClientIsA;
    public long Packets;
    public long Bytes;
    public long PacketsToServer;
    public long BytesToServer;
    public long First;
    public long Last;
    public long FirstPacketNumber;
    public bool SawSyn;
    public byte Closed;
    public int PayloadTries;
    public Analyzer? Analyzer;
    public bool Inspect = true;

    public UInt128 Client => ClientIsA ? Key.A : Key.B;
    public UInt128 Server => ClientIsA ? Key.B : Key.A;
    public ushort ServerPort => ClientIsA ? Key.BPort : Key.APort;
    public ushort ClientPort => ClientIsA ? Key.APort : Key.BPort;
}

/// <summary>
/// One direction of a TCP stream, reassembled in order up to <see cref="Cap"/> buffered bytes. Retransmitted bytes
/// are trimmed; a gap (lost segment) drops what was buffered and tells the analyzer. The analyzer consumes whole
/// units and may ask to skip bytes it does not need (bodies, pixel data) without buffering them.
/// </summary>
public sealed class TcpStream(ReassemblyBudget budget)
{
    public const int Cap = 64 * 1024;

    private byte[]? _buffer;
    private int _length;
    private uint _next;
    private bool _started;
    private long _skip;
    private int _accounted;

    public void Push(uint seq, ReadOnlySpan<byte> data, StreamAnalyzer analyzer, bool fromClient)
    {
        if (!_started)
        {
            _started = true;
            _next = seq;
        }

        var diff = (int)(seq - _next);
        if (diff < 0)
        {
            if (-diff >= data.Length)
            {
                return;
            }

            data = data[-diff..];
        }
        else if (diff > 0)
        {
            _length = 0;
            _skip = 0;
            analyzer.OnGap(fromClient);
        }

        _next = (diff > 0 ? seq : _next) + (uint)data.Length;
        Process(data, analyzer, fromClient);
    }

    /// <summary>Feeds data that needs no sequence tracking (a UDP datagram or a test).</summary>
    public void Process(ReadOnlySpan<byte> data, StreamAnalyzer analyzer, bool fromClient)
    {
        while (true)
        {
            if (_skip > 0 && _length == 0)
            {
                var s = (int)Math.Min(_skip, data.Length);
                data = data[s..];
                _skip -= s;
            }

            if (data.IsEmpty || analyzer.Finished)
            {
                return;
            }

            if (_length == 0)
            {
                var consumed = analyzer.Parse(fromClient, data, ref _skip);
                if (consumed > 0)
                {
                    data = data[consumed..];
                    continue;
                }

                if (_skip > 0)
                {
                    continue;
                }

                Append(data, analyzer, fromClient);
                return;
            }

            Append(data, analyzer, fromClient);
            data = default;
            while (_length > 0 && !analyzer.Finished)
            {
                var consumed = analyzer.Parse(fromClient, _buffer.AsSpan(0, _length), ref _skip);
                if (consumed > 0)
                {
                    Shift(consumed);
                }

                if (_skip > 0 && _length > 0)
                {
                    var s = (int)Math.Min(_skip, _length);
                    Shift(s);
                    _skip -= s;
                    continue;
                }

                if (consumed == 0)
                {
                    break;
                }
            }

            if (_length >= Cap)
            {
                // The analyzer cannot make sense of a full buffer: drop it and resynchronise.
                _length = 0;
                analyzer.OnGap(fromClient);
            }

            return;
        }
    }

    private void Append(ReadOnlySpan<byte> data, StreamAnalyzer analyzer, bool fromClient)
    {
        var room = Cap - _length;
        if (data.Length > room)
        {
            data = data[..room];
        }

        var needed = _length + data.Length;
        if (_buffer is null || _buffer.Length < needed)
        {
            var size = Math.Min(Cap, Math.Max(4096, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)needed)));
            if (!budget.TryTake(size - _accounted))
            {
                analyzer.Finished = true;
                analyzer.Notes.Add("limits", "reassembly memory cap reached; the rest of the flow was not inspected");
                return;
            }

            var grown = ArrayPool<byte>.Shared.Rent(size);
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _length).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _accounted = size;
            _buffer = grown;
        }

        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    private void Shift(int n)
    {
        if (n >= _length)
        {
            _length = 0;
            return;
        }

        _buffer.AsSpan(n, _length - n).CopyTo(_buffer);
        _length -= n;
    }

    public void Release()
    {
        if (_buffer is not null)
        {
            budget.Give(_accounted);
            _accounted = 0;
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _length = 0;
        }
    }
}
