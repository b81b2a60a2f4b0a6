using System.Text;

namespace VirtSecScan.Collectors.Traffic;

/// <summary>Inspects one flow's payload and names its protocol with the contract's names.</summary>
public abstract class Analyzer
{
    public FlowNotes Notes { get; } = new();

    /// <summary>No more payload is needed; the flow is then only counted.</summary>
    public bool Finished { get; set; }

    /// <summary>The protocol name as far as seen (contract names: hl7, dicom, tls1.0, smb1 ...).</summary>
    public abstract string Protocol { get; }

    public abstract void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> data, bool tcp);

    public virtual void Release()
    {
    }

    internal static string Ascii(ReadOnlySpan<byte> b) => Encoding.ASCII.GetString(b);

    internal static bool StartsWith(ReadOnlySpan<byte> data, string text)
    {
        if (data.Length < text.Length)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (data[i] != text[i])
            {
                return false;
            }
        }

        return true;
    }

    internal static bool StartsWithIgnoreCase(ReadOnlySpan<byte> data, string text)
    {
        if (data.Length < text.Length)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (char.ToUpperInvariant((char)data[i]) != char.ToUpperInvariant(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>An analyzer over reassembled TCP streams (or whole UDP datagrams), one stream per direction.</summary>
public abstract class StreamAnalyzer(ReassemblyBudget budget) : Analyzer
{
    private readonly TcpStream _toServer = new(budget);
    private readonly TcpStream _toClient = new(budget);

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> data, bool tcp)
    {
        var stream = fromClient ? _toServer : _toClient;
        if (tcp)
        {
            stream.Push(seq, data, this, fromClient);
        }
        else
        {
            long skip = 0;
            Parse(fromClient, data, ref skip);
        }
    }

    /// <summary>Consumes whole units from the front of <paramref name="data"/>; returns 0 when it needs more bytes.
    /// May set <paramref name="skip"/> to drop bytes that follow what it consumed.</summary>
    public abstract int Parse(bool fromClient, ReadOnlySpan<byte> data, ref long skip);

    /// <summary>Bytes were lost (a capture gap) or could not be parsed: resynchronise or stop.</summary>
    public virtual void OnGap(bool fromClient) => Notes.Count("gaps");

    public override void Release()
    {
        _toServer.Release();
        _toClient.Release();
    }
}

/// <summary>A flow named by its port alone (vMotion, ESXi management, DNS ...): nothing to inspect.</summary>
public sealed class PortAnalyzer : Analyzer
{
    private readonly string _protocol;

    public PortAnalyzer(string protocol, string? note = null)
    {
        _protocol = protocol;
        Finished = true;
        if (note is not null)
        {
            Notes.Add("detection", note);
        }
    }

    public override string Protocol => _protocol;

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> data, bool tcp)
    {
    }
}
