using System.Buffers.Binary;
using System.IO.Compression;

namespace VirtSecScan.Collectors.Traffic;

/// <summary>
/// DICOM upper layer on any port: A-ASSOCIATE-RQ/AC (AE titles, presentation contexts, accepted transfer syntaxes,
/// user identity), P-DATA-TF PDVs reassembled per presentation context, command fields, and which patient elements
/// (group 0010, accession number, referring physician) data sets carry, parsed with the negotiated transfer syntax.
/// </summary>
public sealed class DicomAnalyzer(ReassemblyBudget budget) : StreamAnalyzer(budget)
{
    public const string ImplicitLittle = "1.2.840.10008.1.2";
    public const string ExplicitLittle = "1.2.840.10008.1.2.1";
    public const string Deflated = "1.2.840.10008.1.2.1.99";
    public const string ExplicitBig = "1.2.840.10008.1.2.2";
    private const int MaxDataSetPrefix = 64 * 1024;

    private static readonly Dictionary<uint, string> PatientElements = new()
    {
        [0x00100010] = "(0010,0010) patient name",
        [0x00100020] = "(0010,0020) patient ID",
        [0x00100021] = "(0010,0021) issuer of patient ID",
        [0x00100030] = "(0010,0030) patient birth date",
        [0x00100040] = "(0010,0040) patient sex",
        [0x00101000] = "(0010,1000) other patient IDs",
        [0x00101001] = "(0010,1001) other patient names",
        [0x00101010] = "(0010,1010) patient age",
        [0x00101040] = "(0010,1040) patient address",
        [0x00102154] = "(0010,2154) patient telephone numbers",
        [0x00080050] = "(0008,0050) accession number",
        [0x00080090] = "(0008,0090) referring physician name",
    };

    private static readonly Dictionary<int, string> Commands = new()
    {
        [0x0001] = "C-STORE-RQ", [0x8001] = "C-STORE-RSP", [0x0010] = "C-GET-RQ", [0x8010] = "C-GET-RSP",
        [0x0020] = "C-FIND-RQ", [0x8020] = "C-FIND-RSP", [0x0021] = "C-MOVE-RQ", [0x8021] = "C-MOVE-RSP",
        [0x0030] = "C-ECHO-RQ", [0x8030] = "C-ECHO-RSP", [0x0100] = "N-EVENT-REPORT-RQ", [0x0110] = "N-GET-RQ",
        [0x0120] = "N-SET-RQ", [0x0130] = "N-ACTION-RQ", [0x0140] = "N-CREATE-RQ", [0x0150] = "N-DELETE-RQ", [0x0FFF] = "C-CANCEL-RQ",
    };

    private readonly Dictionary<byte, string> _proposed = [];
    private readonly Dictionary<byte, string> _accepted = [];
    private readonly Dictionary<(bool, byte, bool), MemoryStream> _fragments = [];
    private readonly HashSet<(bool, byte)> _done = [];
    private bool _lost;

    public override string Protocol => "dicom";

    /// <summary>
    /// A strict A-ASSOCIATE-RQ test: type 1, reserved zero, protocol version 1, printable AE titles, the application
    /// context item at offset 74 with the DICOM application context UID, and a PDU length that fits.
    /// </summary>
    public static bool LooksLikeAssociateRq(ReadOnlySpan<byte> d)
    {
        if (d.Length < 74 + 4 + 21 || d[0] != 0x01 || d[1] != 0 || d[6] != 0 || d[7] != 1)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(d[2..]);
        if (length < 68 + 25 || length > 1 << 20)
        {
            return false;
        }

        for (var i = 10; i < 42; i++)
        {
            if (d[i] < 0x20 || d[i] > 0x7E)
            {
                return false;
            }
        }

        return d[74] == 0x10 && StartsWith(d[78..], "1.2.840.10008.3.1.1.1");
    }

    public override int Parse(bool fromClient, ReadOnlySpan<byte> data, ref long skip)
    {
        if (_lost)
        {
            return data.Length;
        }

        if (data.Length < 6)
        {
            return 0;
        }

        var type = data[0];
        var length = BinaryPrimitives.ReadUInt32BigEndian(data[2..]);
        if (type is < 1 or > 7 || data[1] != 0 || length > 64L * 1024 * 1024)
        {
            Notes.Count("malformedPdus");
            _lost = true;
            Finished = true;
            return data.Length;
        }

        var total = 6L + length;
        if (type == 0x04 && data.Length >= 12 && (data[11] & 1) == 0 && _done.Contains((fromClient, data[10])))
        {
            // The rest of a data set whose first 64 KiB were read (pixel data): skip it without buffering.
            if ((data[11] & 2) != 0)
            {
                _done.Remove((fromClient, data[10]));
            }

            if (total > data.Length)
            {
                skip = total - data.Length;
                return data.Length;
            }

            return (int)total;
        }

        if (total > data.Length)
        {
            if (type == 0x04 && total > TcpStream.Cap && data.Length >= TcpStream.Cap / 2)
            {
                PData(data[6..], fromClient, partial: true);
                skip = total - data.Length;
                return data.Length;
            }

            return 0;
        }

        var pdu = data[6..(int)total];
        switch (type)
        {
            case 0x01:
                Notes.Count("associations");
                AssociateRq(pdu);
                break;
            case 0x02:
                AssociateAc(pdu);
                break;
            case 0x03:
                Notes.Add("events", "association rejected");
                break;
            case 0x04:
                PData(pdu, fromClient, partial: false);
                break;
            case 0x07:
                Notes.Add("events", "association aborted");
                break;
        }

        return (int)total;
    }

    public override void OnGap(bool fromClient)
    {
        base.OnGap(fromClient);
        _lost = true;
        Finished = true;
    }

    private void AssociateRq(ReadOnlySpan<byte> pdu)
    {
        if (pdu.Length < 68)
        {
            return;
        }

        Notes.Add("calledAe", Ascii(pdu[4..20]).Trim());
        Notes.Add("callingAe", Ascii(pdu[20..36]).Trim());
        Items(pdu[68..], (itemType, item) =>
        {
            if (itemType == 0x20 && item.Length >= 4)
            {
                var ctx = item[0];
                Items(item[4..], (sub, body) =>
                {
                    if (sub == 0x30)
                    {
                        _proposed[ctx] = Uid(body);
                    }
                });
            }
            else if (itemType == 0x50)
            {
                Items(item, (sub, body) =>
                {
                    if (sub == 0x58 && body.Length >= 4)
                    {
                        var identityType = body[0];
                        var primaryLength = BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
                        var secondaryAt = 4 + primaryLength;
                        var secondaryLength = body.Length >= secondaryAt + 2 ? BinaryPrimitives.ReadUInt16BigEndian(body[secondaryAt..]) : 0;
                        Notes.Add("userIdentity", identityType switch
                        {
                            1 => "username",
                            2 => "username and passcode",
                            3 => "Kerberos",
                            4 => "SAML",
                            5 => "JWT",
                            _ => $"type {identityType}",
                        });
                        if (identityType == 2 && secondaryLength > 0)
                        {
                            Notes.Add("credential", "DICOM user identity passcode sent in clear text");
                        }
                    }
                });
            }
        });
    }

    private void AssociateAc(ReadOnlySpan<byte> pdu)
    {
        if (pdu.Length < 68)
        {
            return;
        }

        Items(pdu[68..], (itemType, item) =>
        {
            if (itemType == 0x21 && item.Length >= 4 && item[2] == 0)
            {
                var ctx = item[0];
                Items(item[4..], (sub, body) =>
                {
                    if (sub == 0x40)
                    {
                        _accepted[ctx] = Uid(body);
                        Notes.Add("transferSyntaxes", Uid(body));
                    }
                });
            }
        });
    }

    private delegate void ItemHandler(byte type, ReadOnlySpan<byte> body);

    private static void Items(ReadOnlySpan<byte> data, ItemHandler handler)
    {
        var o = 0;
        while (o + 4 <= data.Length)
        {
            var type = data[o];
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(o + 2)..]);
            if (o + 4 + length > data.Length)
            {
                return;
            }

            handler(type, data.Slice(o + 4, length));
            o += 4 + length;
        }
    }

    private static string Uid(ReadOnlySpan<byte> b) => Ascii(b).TrimEnd('\0', ' ');

    private void PData(ReadOnlySpan<byte> pdu, bool fromClient, bool partial)
    {
        var o = 0;
        while (o + 6 <= pdu.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(pdu[o..]);
            if (length < 2)
            {
                Notes.Count("malformedPdus");
                return;
            }

            var ctx = pdu[o + 4];
            var header = pdu[o + 5];
            var available = (int)Math.Min(length - 2, pdu.Length - o - 6);
            var fragment = pdu.Slice(o + 6, available);
            var isCommand = (header & 1) != 0;
            var last = (header & 2) != 0 && available == length - 2;
            var key = (fromClient, ctx, isCommand);
            if (!_fragments.TryGetValue(key, out var buffer))
            {
                _fragments[key] = buffer = new MemoryStream();
            }

            if (buffer.Length < MaxDataSetPrefix)
            {
                buffer.Write(fragment[..(int)Math.Min(fragment.Length, MaxDataSetPrefix - buffer.Length)]);
            }

            if (last || buffer.Length >= MaxDataSetPrefix)
            {
                if (!last && !isCommand)
                {
                    _done.Add((fromClient, ctx));
                }

                var bytes = buffer.ToArray();
                buffer.SetLength(0);
                if (isCommand)
                {
                    Command(bytes);
                }
                else
                {
                    DataSet(bytes, ctx);
                }
            }

            if (available < length - 2)
            {
                return;
            }

            o += 4 + (int)length;
        }
    }

    private void Command(byte[] bytes)
    {
        foreach (var (tag, value) in Elements(bytes, ImplicitLittle))
        {
            if (tag == 0x00000100 && value.Length >= 2)
            {
                var field = BinaryPrimitives.ReadUInt16LittleEndian(value);
                Notes.Add("dicomCommands", Commands.TryGetValue(field, out var name) ? name : $"0x{field:X4}");
            }
        }
    }

    private void DataSet(byte[] bytes, byte ctx)
    {
        var syntax = _accepted.TryGetValue(ctx, out var accepted) ? accepted : ImplicitLittle;
        if (syntax == Deflated)
        {
            try
            {
                using var inflater = new DeflateStream(new MemoryStream(bytes), CompressionMode.Decompress);
                var output = new byte[MaxDataSetPrefix];
                var read = 0;
                int n;
                while (read < output.Length && (n = inflater.Read(output, read, output.Length - read)) > 0)
                {
                    read += n;
                }

                bytes = output[..read];
                syntax = ExplicitLittle;
            }
            catch (InvalidDataException)
            {
                Notes.Count("malformedDataSets");
                return;
            }
        }

        Notes.Count("dataSets");
        if (_proposed.TryGetValue(ctx, out var abstractSyntax))
        {
            Notes.Add("sopClasses", abstractSyntax);
        }

        var any = false;
        foreach (var (tag, value) in Elements(bytes, syntax))
        {
            if (value.Length == 0 || !PatientElements.TryGetValue(tag, out var label))
            {
                if ((tag >> 16) == 0x0010 && value.Length > 0)
                {
                    any = true;
                    Notes.Add("phi", $"({tag >> 16:X4},{tag & 0xFFFF:X4}) patient element");
                }

                continue;
            }

            any = true;
            Notes.Add("phi", label);
            Notes.Count("phi:" + label[..11]);
            if (tag == 0x00100010 && !Notes.Has("phiMasked"))
            {
                Notes.Add("phiMasked", "(0010,0010) " + PhiMask.Mask(Ascii(value).TrimEnd('\0', ' ')));
            }
        }

        if (any)
        {
            Notes.Count("phiDataSets");
        }
    }

    /// <summary>Top-level and nested elements (tag, value) of a data set, until pixel data or the end.</summary>
    public static IEnumerable<(uint Tag, byte[] Value)> Elements(byte[] data, string syntax)
    {
        var explicitVr = syntax != ImplicitLittle;
        var big = syntax == ExplicitBig;
        var o = 0;
        var guard = 0;
        while (o + 8 <= data.Length && guard++ < 10000)
        {
            var group = Read16(data, o, big);
            var element = Read16(data, o + 2, big);
            var tag = ((uint)group << 16) | element;
            long length;
            int header;
            if (group == 0xFFFE)
            {
                // Item and delimiters: always tag + 4-byte length; step into items.
                length = Read32(data, o + 4, big);
                o += 8;
                continue;
            }

            if (explicitVr && group != 0x0000)
            {
                var vr = (char)data[o + 4] + "" + (char)data[o + 5];
                if (vr is "OB" or "OW" or "OF" or "SQ" or "UT" or "UN" or "OD" or "OL" or "OV" or "SV" or "UV" or "UC" or "UR")
                {
                    if (o + 12 > data.Length)
                    {
                        yield break;
                    }

                    length = Read32(data, o + 8, big);
                    header = 12;
                }
                else
                {
                    length = Read16(data, o + 6, big);
                    header = 8;
                }

                if (vr == "SQ")
                {
                    // Step into the sequence: its items' elements are read as they come.
                    o += header;
                    continue;
                }
            }
            else
            {
                length = Read32(data, o + 4, big);
                header = 8;
                if (length == 0xFFFFFFFF)
                {
                    o += header;
                    continue;
                }
            }

            if (tag == 0x7FE00010 || length == 0xFFFFFFFF)
            {
                yield break;
            }

            var start = o + header;
            if (start + length > data.Length)
            {
                yield return (tag, data[start..]);
                yield break;
            }

            yield return (tag, data[start..(start + (int)length)]);
            o = start + (int)length;
        }
    }

    private static ushort Read16(byte[] d, int o, bool big) =>
        big ? BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(o)) : BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(o));

    private static uint Read32(byte[] d, int o, bool big) =>
        big ? BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(o)) : BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(o));
}
