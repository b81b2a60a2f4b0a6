using System.Buffers.Binary;
using System.Text;

namespace VirtSecScan.Collectors.Traffic;

/// <summary>HTTP/1.x requests and responses: Basic authorization (never the value) and FHIR/HL7 content types.</summary>
public sealed class HttpAnalyzer(ReassemblyBudget budget) : StreamAnalyzer(budget)
{
    private static readonly string[] Methods = ["GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "PATCH ", "OPTIONS "];
    private int _messages;
    private bool _basic;
    private bool _fhir;
    private bool _hl7;

    public override string Protocol => _basic ? "http-basic-auth" : _hl7 ? "http-hl7" : _fhir ? "http-fhir" : "http";

    public static bool LooksLikeRequest(ReadOnlySpan<byte> d)
    {
        foreach (var m in Methods)
        {
            if (StartsWith(d, m))
            {
                return true;
            }
        }

        return false;
    }

    public static bool LooksLikeResponse(ReadOnlySpan<byte> d) => StartsWith(d, "HTTP/1.");

    public override int Parse(bool fromClient, ReadOnlySpan<byte> data, ref long skip)
    {
        var end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            if (data.Length >= 16 * 1024)
            {
                Finished = true;
            }

            return 0;
        }

        var head = Encoding.Latin1.GetString(data[..end]);
        var lines = head.Split("\r\n");
        if (!(LooksLikeRequest(data) || LooksLikeResponse(data)))
        {
            Finished = true;
            return 0;
        }

        long contentLength = 0;
        var chunked = false;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase))
            {
                var scheme = value.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
                if (scheme.Length >= 1 && scheme[0].Equals("Basic", StringComparison.OrdinalIgnoreCase))
                {
                    _basic = true;
                    var decodesToPair = scheme.Length == 2 && TryDecode(scheme[1].Trim()) is { } pair && pair.Contains(':');
                    Notes.Add("credential", decodesToPair ? "HTTP Basic password sent in clear text" : "HTTP Basic authorization header sent in clear text");
                }
                else if (scheme.Length >= 1)
                {
                    Notes.Add("authSchemes", scheme[0].Length <= 16 ? scheme[0] : "other");
                }
            }
            else if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                var type = value.Split(';')[0].Trim().ToLowerInvariant();
                if (type.Contains("fhir", StringComparison.Ordinal))
                {
                    _fhir = true;
                    Notes.Add("contentTypes", type);
                }
                else if (type.Contains("hl7", StringComparison.Ordinal) || type.Contains("cda", StringComparison.Ordinal))
                {
                    _hl7 = true;
                    Notes.Add("contentTypes", type);
                }
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                long.TryParse(value, out contentLength);
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                chunked = true;
            }
        }

        if (fromClient && lines[0].Contains("/fhir", StringComparison.OrdinalIgnoreCase))
        {
            _fhir = true;
            Notes.Add("contentTypes", "FHIR endpoint path");
        }

        Notes.Count(fromClient ? "httpRequests" : "httpResponses");
        if (++_messages >= 64 || chunked)
        {
            Finished = true;
        }

        skip = Math.Max(0, contentLength);
        return end + 4;
    }

    private static string? TryDecode(string b64)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(b64));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>TLS and SSL: ClientHello (offered versions, SNI), ServerHello (negotiated version); SSLv2-format hellos.</summary>
public sealed class TlsAnalyzer(ReassemblyBudget budget) : StreamAnalyzer(budget)
{
    private int _offered;
    private int _negotiated;
    private bool _sslv2;

    public override string Protocol => VersionName(_negotiated != 0 ? _negotiated : _offered);

    public static bool LooksLikeHandshake(ReadOnlySpan<byte> d) =>
        d.Length >= 6 && d[0] == 0x16 && d[1] == 3 && d[2] <= 4 && d[5] is 1 or 2;

    public static bool LooksLikeSslv2Hello(ReadOnlySpan<byte> d) =>
        d.Length >= 5 && (d[0] & 0x80) != 0 && d[2] == 1 && d[3] is 0 or 2 or 3 && d[4] <= 4
        && ((d[0] & 0x7F) << 8 | d[1]) >= 9;

    public static string VersionName(int v) => v switch
    {
        0x0002 => "sslv2",
        0x0300 => "sslv3",
        0x0301 => "tls1.0",
        0x0302 => "tls1.1",
        0x0303 => "tls1.2",
        0x0304 => "tls1.3",
        >= 0x7F00 and <= 0x7FFF or >= 0xFB00 and <= 0xFBFF => "tls1.3", // TLS 1.3 drafts and Facebook's fizz variants
        _ => "tls",
    };

    public override int Parse(bool fromClient, ReadOnlySpan<byte> data, ref long skip)
    {
        if (fromClient && _offered == 0 && LooksLikeSslv2Hello(data))
        {
            _sslv2 = true;
            var version = data[3] << 8 | data[4];
            _offered = version;
            Notes.Add("hello", "SSLv2-format ClientHello");
            Notes.Add("offeredVersions", VersionName(version));
            return data.Length;
        }

        if (!fromClient && _sslv2 && _negotiated == 0 && data.Length >= 7 && (data[0] & 0x80) != 0 && data[2] == 4)
        {
            _negotiated = 0x0002;
            Finished = true;
            return data.Length;
        }

        if (data.Length < 5)
        {
            return 0;
        }

        if (data[0] is < 20 or > 24 || data[1] != 3)
        {
            Finished = true;
            return data.Length;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        if (data.Length < 5 + length)
        {
            return 0;
        }

        if (data[0] == 0x16)
        {
            Handshake(data.Slice(5, length), fromClient);
        }
        else if (_negotiated != 0 || data[0] == 0x17)
        {
            Finished = true;
        }

        return 5 + length;
    }

    private void Handshake(ReadOnlySpan<byte> h, bool fromClient)
    {
        if (h.Length < 4 + 2 + 32 + 1)
        {
            return;
        }

        var type = h[0];
        var body = h[4..];
        if (type is not (1 or 2))
        {
            return;
        }

        var legacy = BinaryPrimitives.ReadUInt16BigEndian(body);
        var o = 2 + 32;
        var sessionLength = body[o];
        o += 1 + sessionLength;
        if (type == 1)
        {
            if (o + 2 > body.Length)
            {
                return;
            }

            o += 2 + BinaryPrimitives.ReadUInt16BigEndian(body[o..]);
            if (o + 1 > body.Length)
            {
                return;
            }

            o += 1 + body[o];
            _offered = legacy;
        }
        else
        {
            o += 2 + 1;
            _negotiated = legacy;
            Finished = true;
        }

        if (o + 2 > body.Length)
        {
            return;
        }

        var extensionsEnd = Math.Min(body.Length, o + 2 + BinaryPrimitives.ReadUInt16BigEndian(body[o..]));
        o += 2;
        while (o + 4 <= extensionsEnd)
        {
            var extType = BinaryPrimitives.ReadUInt16BigEndian(body[o..]);
            var extLength = BinaryPrimitives.ReadUInt16BigEndian(body[(o + 2)..]);
            var ext = body.Slice(o + 4, Math.Min(extLength, extensionsEnd - o - 4));
            if (extType == 0 && type == 1 && ext.Length >= 5 && ext[2] == 0)
            {
                var nameLength = BinaryPrimitives.ReadUInt16BigEndian(ext[3..]);
                if (5 + nameLength <= ext.Length)
                {
                    Notes.Add("sni", Sanitize(Ascii(ext.Slice(5, nameLength))));
                }
            }
            else if (extType == 43)
            {
                if (type == 1 && ext.Length >= 1)
                {
                    var best = 0;
                    for (var i = 1; i + 1 < ext.Length && i <= ext[0]; i += 2)
                    {
                        var v = BinaryPrimitives.ReadUInt16BigEndian(ext[i..]);
                        if ((v & 0x0F0F) != 0x0A0A && v <= 0x0304)
                        {
                            best = Math.Max(best, v);
                            Notes.Add("offeredVersions", VersionName(v));
                        }
                    }

                    if (best != 0)
                    {
                        _offered = best;
                    }
                }
                else if (type == 2 && ext.Length >= 2)
                {
                    _negotiated = BinaryPrimitives.ReadUInt16BigEndian(ext);
                }
            }

            o += 4 + extLength;
        }

        if (type == 1 && !Notes.Has("offeredVersions"))
        {
            Notes.Add("offeredVersions", VersionName(legacy));
        }

        if (type == 2)
        {
            Notes.Add("negotiatedVersion", VersionName(_negotiated));
        }
    }

    private static string Sanitize(string s) =>
        new(s.Take(80).Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '?').ToArray());
}

/// <summary>FTP control: USER/PASS before or without AUTH TLS (answered 234).</summary>
public sealed class FtpAnalyzer(ReassemblyBudget budget) : StreamAnalyzer(budget)
{
    private bool _authRequested;
    private bool _protected;
    private bool _password;
    private int _lines;

    public override string Protocol => _protected && !_password ? "ftp-tls" : "ftp";

    public override int Parse(bool fromClient, ReadOnlySpan<byte> data, ref long skip)
    {
        var end = data.IndexOf((byte)'\n');
        if (end < 0)
        {
            if (data.Length > 4096)
            {
                Finished = true;
            }

            return 0;
        }

        var line = data[..end];
        if (fromClient)
        {
            if (StartsWithIgnoreCase(line, "AUTH ") && !_password)
            {
                _authRequested = true;
            }
            else if (StartsWithIgnoreCase(line, "USER "))
            {
                Notes.Add("commands", "USER");
            }
            else if (StartsWithIgnoreCase(line, "PASS"))
            {
                _password = true;
                Notes.Add("commands", "PASS");
                Notes.Add("credential", "FTP password sent in clear text");
            }
        }
        else if (_authRequested && StartsWith(line, "234"))
        {
            _protected = true;
            Notes.Add("commands", "AUTH TLS accepted before login");
            Finished = true;
        }

        if (++_lines > 200 || _password)
        {
            Finished = _password || _lines > 200;
        }

        return end + 1;
    }
}

/// <summary>Telnet: option negotiation and the login prompts (the typed characters are never kept).</summary>
public sealed class TelnetAnalyzer : Analyzer
{
    private int _segments;

    public override string Protocol => "telnet";

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> data, bool tcp)
    {
        if (!fromClient)
        {
            var text = Encoding.Latin1.GetString(data);
            if (text.Contains("login:", StringComparison.OrdinalIgnoreCase))
            {
                Notes.Add("prompts", "login");
            }

            if (text.Contains("password:", StringComparison.OrdinalIgnoreCase))
            {
                Notes.Add("prompts", "password");
                Notes.Add("credential", "Telnet login sent in clear text");
            }
        }

        if (++_segments > 400)
        {
            Finished = true;
        }
    }
}

/// <summary>SNMP over UDP: version (v1, v2c, v3) and whether a community string is present (never its value).</summary>
public sealed class SnmpAnalyzer : Analyzer
{
    private string _protocol = "snmp";
    private int _messages;

    public override string Protocol => _protocol;

    public static int? Version(ReadOnlySpan<byte> d)
    {
        if (d.Length < 7 || d[0] != 0x30)
        {
            return null;
        }

        var o = 1;
        if (!Ber.Length(d, ref o, out _) || o + 3 > d.Length || d[o] != 0x02 || d[o + 1] != 1)
        {
            return null;
        }

        var v = d[o + 2];
        return v is 0 or 1 or 3 ? v : null;
    }

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> d, bool tcp)
    {
        if (Version(d) is not { } version)
        {
            return;
        }

        _messages++;
        Notes.Count("snmpMessages");
        if (version == 3)
        {
            if (_protocol == "snmp")
            {
                _protocol = "snmpv3";
            }

            return;
        }

        _protocol = version == 0 ? "snmpv1" : "snmpv2c";
        var o = 1;
        Ber.Length(d, ref o, out _);
        o += 3;
        if (o < d.Length && d[o] == 0x04)
        {
            o++;
            if (Ber.Length(d, ref o, out var communityLength))
            {
                Notes.Add("credential", communityLength == 0 ? "empty SNMP community" : "SNMP community sent in clear text");
                o += communityLength;
                if (o < d.Length)
                {
                    Notes.Add("pduTypes", d[o] switch
                    {
                        0xA0 => "get",
                        0xA1 => "get-next",
                        0xA2 => "response",
                        0xA3 => "set",
                        0xA4 => "trap-v1",
                        0xA5 => "get-bulk",
                        0xA6 => "inform",
                        0xA7 => "trap",
                        _ => "other",
                    });
                }
            }
        }

        if (_messages > 16)
        {
            Finished = true;
        }
    }
}

/// <summary>BER length decoding.</summary>
internal static class Ber
{
    public static bool Length(ReadOnlySpan<byte> d, ref int o, out int length)
    {
        length = 0;
        if (o >= d.Length)
        {
            return false;
        }

        var first = d[o++];
        if (first < 0x80)
        {
            length = first;
            return true;
        }

        var count = first & 0x7F;
        if (count is 0 or > 4 || o + count > d.Length)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            length = (length << 8) | d[o++];
        }

        return length >= 0;
    }
}

/// <summary>SMB over NetBIOS session service (TCP 445/139): SMB1 versus SMB2/3 per message, SMB1 dialects offered.</summary>
public sealed class SmbAnalyzer(ReassemblyBudget budget) : StreamAnalyzer(budget)
{
    private bool _smb1;
    private bool _smb3;
    private int _messages;

    public override string Protocol => _smb1 ? "smb1" : _smb3 ? "smb3" : "smb2";

    public static bool LooksLikeSmb(ReadOnlySpan<byte> d) =>
        d.Length >= 8 && d[0] == 0 && d[5] == (byte)'S' && d[6] == (byte)'M' && d[7] == (byte)'B' && d[4] is 0xFF or 0xFE or 0xFD;

    public override int Parse(bool fromClient, ReadOnlySpan<byte> data, ref long skip)
    {
        if (data.Length < 4)
        {
            return 0;
        }

        if (data[0] != 0)
        {
            // NetBIOS keep-alive or session request/response: skip the message.
            var other = 4 + (data[2] << 8 | data[3]);
            skip = Math.Max(0, other - data.Length);
            return Math.Min(other, data.Length);
        }

        var length = (data[1] << 16) | (data[2] << 8) | data[3];
        var total = 4 + length;
        var look = data[4..Math.Min(data.Length, total)];
        if (look.Length < 4 && total > data.Length)
        {
            return 0;
        }

        if (look.Length >= 4 && look[1] == 'S' && look[2] == 'M' && look[3] == 'B')
        {
            switch (look[0])
            {
                case 0xFF:
                    _smb1 = true;
                    Notes.Add("messages", "SMB1");
                    if (look.Length > 32 && look[4] == 0x72 && fromClient)
                    {
                        if (total > data.Length && data.Length < Math.Min(total, 4096))
                        {
                            return 0;
                        }

                        Dialects(look);
                    }

                    break;
                case 0xFE:
                    Notes.Add("messages", "SMB2");
                    if (!fromClient && look.Length >= 64 + 6 && BinaryPrimitives.ReadUInt16LittleEndian(look[12..]) == 0)
                    {
                        var dialect = BinaryPrimitives.ReadUInt16LittleEndian(look[(64 + 4)..]);
                        Notes.Add("dialects", dialect switch
                        {
                            0x0202 => "SMB 2.0.2",
                            0x0210 => "SMB 2.1",
                            0x0300 => "SMB 3.0",
                            0x0302 => "SMB 3.0.2",
                            0x0311 => "SMB 3.1.1",
                            0x02FF => "SMB 2.??",
                            _ => $"0x{dialect:X4}",
                        });
                        _smb3 |= dialect is >= 0x0300 and < 0x0400;
                    }

                    break;
                case 0xFD:
                    _smb3 = true;
                    Notes.Add("messages", "SMB3 encrypted");
                    break;
            }
        }

        if (++_messages >= 24 || _smb1)
        {
            Finished = _smb1 && Notes.Has("dialects") || _messages >= 24;
        }

        if (total > data.Length)
        {
            skip = total - data.Length;
            return data.Length;
        }

        return total;
    }

    private void Dialects(ReadOnlySpan<byte> smb)
    {
        var o = 32;
        var wordCount = smb[o];
        o += 1 + (wordCount * 2);
        if (o + 2 > smb.Length)
        {
            return;
        }

        o += 2;
        while (o < smb.Length && smb[o] == 0x02)
        {
            var end = smb[(o + 1)..].IndexOf((byte)0);
            if (end < 0)
            {
                return;
            }

            Notes.Add("dialects", Ascii(smb.Slice(o + 1, Math.Min(end, 32))));
            o += end + 2;
        }
    }
}

/// <summary>RDP X.224 connection request and confirm: requested and selected security protocol.</summary>
public sealed class RdpAnalyzer : Analyzer
{
    private int? _requested;
    private int? _selected;
    private bool _confirmed;

    public override string Protocol => (_selected ?? (_confirmed ? 0 : _requested ?? 0)) switch
    {
        0 => "rdp-standard-security",
        1 => "rdp-tls",
        _ => "rdp-credssp",
    };

    public static bool LooksLikeX224(ReadOnlySpan<byte> d) => d.Length >= 11 && d[0] == 3 && d[1] == 0 && d[5] is 0xE0 or 0xD0;

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> d, bool tcp)
    {
        if (!LooksLikeX224(d))
        {
            Finished = _confirmed || _requested is not null;
            return;
        }

        var tpktLength = Math.Min(d.Length, d[2] << 8 | d[3]);
        var x224 = d[4..tpktLength];
        var neg = x224.Length > 7 ? x224[7..] : [];
        // A cookie line (Cookie: mstshash=...) ends with CRLF; the negotiation structure follows it. The cookie is never kept.
        var crlf = neg.IndexOf("\r\n"u8);
        if (crlf >= 0)
        {
            neg = neg[(crlf + 2)..];
        }

        if (d[5] == 0xE0)
        {
            if (neg.Length >= 8 && neg[0] == 0x01)
            {
                _requested = (int)BinaryPrimitives.ReadUInt32LittleEndian(neg[4..]);
                Notes.Add("requestedProtocols", Describe(_requested.Value));
            }
            else
            {
                _requested = 0;
                Notes.Add("requestedProtocols", "standard RDP security only (no negotiation request)");
            }
        }
        else
        {
            _confirmed = true;
            if (neg.Length >= 8 && neg[0] == 0x02)
            {
                _selected = (int)BinaryPrimitives.ReadUInt32LittleEndian(neg[4..]);
                Notes.Add("selectedProtocol", Describe(_selected.Value));
            }
            else if (neg.Length >= 8 && neg[0] == 0x03)
            {
                Notes.Add("selectedProtocol", "negotiation failure");
            }
            else
            {
                _selected = 0;
                Notes.Add("selectedProtocol", "standard RDP security");
            }

            Finished = true;
        }
    }

    private static string Describe(int p) => p == 0
        ? "standard RDP security"
        : string.Join("+", new[] { (1, "TLS"), (2, "CredSSP"), (8, "CredSSP with early user authorization"), (4, "RDSTLS") }
            .Where(x => (p & x.Item1) != 0).Select(x => x.Item2));
}

/// <summary>VNC (RFB): protocol version and the security type chosen (1 = none, 2 = VNC authentication).</summary>
public sealed class VncAnalyzer : Analyzer
{
    private string? _version;
    private int _serverMessages;
    private int _clientMessages;

    public override string Protocol => "vnc";

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> d, bool tcp)
    {
        if (!fromClient)
        {
            _serverMessages++;
            if (StartsWith(d, "RFB ") && d.Length >= 12)
            {
                _version = Ascii(d[4..11]);
                Notes.Add("rfbVersion", _version);
            }
            else if (_serverMessages == 2 && _version == "003.003" && d.Length >= 4)
            {
                Security(BinaryPrimitives.ReadInt32BigEndian(d));
                Finished = true;
            }
            else if (_serverMessages == 2 && d.Length >= 2 && d[0] > 0 && d.Length >= 1 + d[0])
            {
                for (var i = 1; i <= d[0]; i++)
                {
                    Notes.Add("offeredSecurityTypes", Name(d[i]));
                }
            }
        }
        else
        {
            _clientMessages++;
            if (_clientMessages == 2 && d.Length == 1)
            {
                Security(d[0]);
                Finished = true;
            }
        }

        if (_serverMessages + _clientMessages > 12)
        {
            Finished = true;
        }
    }

    private void Security(int type)
    {
        Notes.Add("securityType", Name(type));
        if (type == 1)
        {
            Notes.Add("credential", "no authentication");
        }
        else if (type == 2)
        {
            Notes.Add("credential", "VNC authentication (DES challenge; the password is crackable offline)");
        }
    }

    private static string Name(int type) => type switch
    {
        1 => "None",
        2 => "VNC authentication",
        16 => "Tight",
        18 => "TLS",
        19 => "VeNCrypt",
        _ => $"type {type}",
    };
}

/// <summary>LDAP: simple bind with a password (never kept), anonymous bind, StartTLS.</summary>
public sealed class LdapAnalyzer : Analyzer
{
    private bool _simple;
    private int _messages;

    public override string Protocol => _simple ? "ldap-simple-bind" : "ldap";

    public static bool LooksLikeLdap(ReadOnlySpan<byte> d)
    {
        if (d.Length < 7 || d[0] != 0x30)
        {
            return false;
        }

        var o = 1;
        if (!Ber.Length(d, ref o, out _) || o + 2 > d.Length || d[o] != 0x02)
        {
            return false;
        }

        var idLength = d[o + 1];
        o += 2 + idLength;
        return idLength is >= 1 and <= 4 && o < d.Length && d[o] is 0x60 or 0x77 or 0x63 or 0x42;
    }

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> d, bool tcp)
    {
        if (!fromClient || !LooksLikeLdap(d))
        {
            return;
        }

        _messages++;
        var o = 1;
        Ber.Length(d, ref o, out _);
        o += 2 + d[o + 1];
        var op = d[o++];
        if (op == 0x77)
        {
            Notes.Add("operations", "extended request (StartTLS or other)");
            if (d.IndexOf("1.3.6.1.4.1.1466.20037"u8) >= 0)
            {
                Notes.Add("operations", "StartTLS");
                Finished = !_simple;
            }

            return;
        }

        if (op != 0x60 || !Ber.Length(d, ref o, out _))
        {
            return;
        }

        // version INTEGER, name OCTET STRING, authentication CHOICE
        if (o + 3 > d.Length || d[o] != 0x02)
        {
            return;
        }

        o += 2 + d[o + 1];
        if (o >= d.Length || d[o] != 0x04)
        {
            return;
        }

        o++;
        if (!Ber.Length(d, ref o, out var nameLength))
        {
            return;
        }

        o += nameLength;
        if (o >= d.Length)
        {
            return;
        }

        if (d[o] == 0x80)
        {
            o++;
            if (Ber.Length(d, ref o, out var passwordLength))
            {
                if (passwordLength > 0)
                {
                    _simple = true;
                    Notes.Add("credential", "LDAP simple bind password sent in clear text");
                    Finished = true;
                }
                else
                {
                    Notes.Add("operations", nameLength > 0 ? "unauthenticated bind" : "anonymous bind");
                }
            }
        }
        else if (d[o] == 0xA3)
        {
            Notes.Add("operations", "SASL bind");
        }

        if (_messages > 16)
        {
            Finished = true;
        }
    }
}

/// <summary>iSCSI login (TCP 3260): whether CHAP was negotiated; initiator and target names are identifiers, kept.</summary>
public sealed class IscsiAnalyzer(ReassemblyBudget budget) : StreamAnalyzer(budget)
{
    private bool _chap;
    private bool _login;
    private int _pdus;

    public override string Protocol => _login && !_chap ? "iscsi-no-chap" : "iscsi";

    public static bool LooksLikeLogin(ReadOnlySpan<byte> d) => d.Length >= 48 && (d[0] & 0x3F) == 0x03 && d[4] == 0;

    public override int Parse(bool fromClient, ReadOnlySpan<byte> data, ref long skip)
    {
        if (data.Length < 48)
        {
            return 0;
        }

        var opcode = data[0] & 0x3F;
        var ahs = data[4] * 4;
        var dataLength = (data[5] << 16) | (data[6] << 8) | data[7];
        var padded = (dataLength + 3) & ~3;
        var total = 48 + ahs + padded;
        if (opcode is 0x03 or 0x23)
        {
            if (total > data.Length)
            {
                return total > TcpStream.Cap ? Lost() : 0;
            }

            _login = true;
            var text = Encoding.ASCII.GetString(data.Slice(48 + ahs, dataLength));
            foreach (var pair in text.Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0)
                {
                    continue;
                }

                var key = pair[..eq];
                var value = pair[(eq + 1)..];
                if (key == "AuthMethod")
                {
                    Notes.Add(fromClient ? "authMethodsOffered" : "authMethodSelected", value);
                    _chap |= !fromClient && value.Contains("CHAP", StringComparison.Ordinal);
                }
                else if (key.StartsWith("CHAP_", StringComparison.Ordinal))
                {
                    _chap = true;
                }
                else if (key is "TargetName" or "InitiatorName")
                {
                    Notes.Add(key == "TargetName" ? "targets" : "initiators", value.Length <= 96 ? value : value[..96]);
                }
                else if (key == "SessionType")
                {
                    Notes.Add("sessionTypes", value);
                }
            }

            if (!fromClient && (data[1] & 0x80) != 0 && (data[1] & 0x03) == 3)
            {
                // Transit to full-feature phase: the login is over.
                Finished = true;
            }
        }
        else if (++_pdus > 32)
        {
            Finished = true;
        }

        if (total > data.Length)
        {
            skip = total - data.Length;
            return data.Length;
        }

        return total;
    }

    private int Lost()
    {
        Finished = true;
        return 0;
    }
}

/// <summary>ONC RPC calls to NFS (100003) and mountd (100005): credential flavor (AUTH_SYS, RPCSEC_GSS), uid 0.</summary>
public sealed class NfsAnalyzer : Analyzer
{
    private int _flavor = -1;
    private int _calls;

    public override string Protocol => _flavor switch
    {
        1 => "nfs-auth-sys",
        6 => "nfs-rpcsec-gss",
        _ => "nfs",
    };

    /// <summary>The offset of the RPC call in the payload (after the TCP record mark), or -1.</summary>
    public static int CallOffset(ReadOnlySpan<byte> d, bool tcp)
    {
        var o = tcp ? 4 : 0;
        if (d.Length < o + 32 || BinaryPrimitives.ReadUInt32BigEndian(d[(o + 4)..]) != 0 || BinaryPrimitives.ReadUInt32BigEndian(d[(o + 8)..]) != 2)
        {
            return -1;
        }

        var program = BinaryPrimitives.ReadUInt32BigEndian(d[(o + 12)..]);
        return program is 100003 or 100005 ? o : -1;
    }

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> d, bool tcp)
    {
        if (!fromClient)
        {
            return;
        }

        var o = CallOffset(d, tcp);
        if (o < 0)
        {
            return;
        }

        _calls++;
        var program = BinaryPrimitives.ReadUInt32BigEndian(d[(o + 12)..]);
        Notes.Add("programs", program == 100003 ? $"nfs v{BinaryPrimitives.ReadUInt32BigEndian(d[(o + 16)..])}" : "mountd");
        var flavor = (int)BinaryPrimitives.ReadUInt32BigEndian(d[(o + 24)..]);
        if (_flavor != 1)
        {
            _flavor = flavor;
        }

        Notes.Add("credentialFlavors", flavor switch
        {
            0 => "AUTH_NONE",
            1 => "AUTH_SYS",
            3 => "AUTH_DH",
            6 => "RPCSEC_GSS",
            _ => $"flavor {flavor}",
        });
        if (flavor == 1 && d.Length >= o + 36)
        {
            var nameLength = (int)BinaryPrimitives.ReadUInt32BigEndian(d[(o + 32)..]);
            var uidAt = o + 36 + ((nameLength + 3) & ~3);
            if (nameLength < 256 && d.Length >= uidAt + 4 && BinaryPrimitives.ReadUInt32BigEndian(d[uidAt..]) == 0)
            {
                Notes.Add("uids", "uid 0 (root)");
            }
        }

        if (_calls > 16)
        {
            Finished = true;
        }
    }
}

/// <summary>TFTP read and write requests (UDP 69): transfer without any authentication.</summary>
public sealed class TftpAnalyzer : Analyzer
{
    public override string Protocol => "tftp";

    public static bool LooksLikeRequest(ReadOnlySpan<byte> d) => d.Length >= 4 && d[0] == 0 && d[1] is 1 or 2 && d[^1] == 0;

    public override void Payload(bool fromClient, uint seq, ReadOnlySpan<byte> d, bool tcp)
    {
        if (fromClient && LooksLikeRequest(d))
        {
            Notes.Add("operations", d[1] == 1 ? "read request" : "write request");
            var nameEnd = d[2..].IndexOf((byte)0);
            if (nameEnd >= 0)
            {
                var mode = d[(3 + nameEnd)..];
                var modeEnd = mode.IndexOf((byte)0);
                if (modeEnd > 0 && modeEnd < 16)
                {
                    Notes.Add("modes", Ascii(mode[..modeEnd]).ToLowerInvariant());
                }
            }
        }

        Finished = true;
    }
}
