using System.Buffers.Binary;
using System.Text;

namespace PcapGen;

/// <summary>Protocol payloads as the real programs write them. Every patient value and secret here is made up.</summary>
public static class Payloads
{
    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    // ---------------------------------------------------------------- HL7 / MLLP

    /// <summary>An ADT^A01 with PID, NK1 and IN1; <paramref name="fieldSep"/> and <paramref name="componentSep"/> let a test use other separators.</summary>
    public static byte[] Hl7Adt(int n, char fieldSep = '|', char componentSep = '^')
    {
        var f = fieldSep;
        var c = componentSep;
        var msg = $"MSH{f}{c}~\\&{f}ADT1{f}DEMOHIS{f}LAB{f}DEMOLIS{f}20261127120000{f}{f}ADT{c}A01{f}MSG{n:D6}{f}P{f}2.5\r"
                  + $"PID{f}1{f}{f}MRN-FAKE-{n:D4}{c}{c}{c}DEMOHIS{c}MR{f}{f}ZZTEST{c}FAKEPERSON{f}{f}19000101{f}F\r"
                  + $"NK1{f}1{f}ZZTEST{c}FAKERELATIVE{f}SPO\r"
                  + $"IN1{f}1{f}PLAN-FAKE{f}INSCO-FAKE\r";
        return Concat([0x0B], Ascii(msg), [0x1C, 0x0D]);
    }

    public static byte[] Hl7Ack(int n) =>
        Concat([0x0B], Ascii($"MSH|^~\\&|LAB|DEMOLIS|ADT1|DEMOHIS|20261127120001||ACK^A01|ACK{n:D6}|P|2.5\rMSA|AA|MSG{n:D6}\r"), [0x1C, 0x0D]);

    // ---------------------------------------------------------------- DICOM upper layer

    private static byte[] Item(byte type, byte[] body)
    {
        var item = new byte[4 + body.Length];
        item[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(item.AsSpan(2), (ushort)body.Length);
        body.CopyTo(item, 4);
        return item;
    }

    private static byte[] Pdu(byte type, byte[] body)
    {
        var pdu = new byte[6 + body.Length];
        pdu[0] = type;
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)body.Length);
        body.CopyTo(pdu, 6);
        return pdu;
    }

    private static byte[] Ae(string title) => Ascii(title.PadRight(16));

    public static byte[] AssociateRq(string called, string calling, string abstractSyntax, string[] transferSyntaxes, bool passcode)
    {
        var context = Concat([1, 0, 0, 0], Item(0x30, Ascii(abstractSyntax)), transferSyntaxes.SelectMany(ts => Item(0x40, Ascii(ts))).ToArray());
        var user = Item(0x51, [0, 0, 0x40, 0]);
        if (passcode)
        {
            var name = Ascii("demo-tech");
            var secret = Ascii("not-a-real-secret");
            var identity = new byte[2 + 2 + name.Length + 2 + secret.Length];
            identity[0] = 2;
            identity[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(identity.AsSpan(2), (ushort)name.Length);
            name.CopyTo(identity, 4);
            BinaryPrimitives.WriteUInt16BigEndian(identity.AsSpan(4 + name.Length), (ushort)secret.Length);
            secret.CopyTo(identity, 6 + name.Length);
            user = Concat(user, Item(0x58, identity));
        }

        var body = Concat([0, 1, 0, 0], Ae(called), Ae(calling), new byte[32],
            Item(0x10, Ascii("1.2.840.10008.3.1.1.1")), Item(0x20, context), Item(0x50, user));
        return Pdu(0x01, body);
    }

    public static byte[] AssociateAc(string called, string calling, string transferSyntax)
    {
        var context = Concat([1, 0, 0, 0], Item(0x40, Ascii(transferSyntax)));
        var body = Concat([0, 1, 0, 0], Ae(called), Ae(calling), new byte[32],
            Item(0x10, Ascii("1.2.840.10008.3.1.1.1")), Item(0x21, context), Item(0x50, Item(0x51, [0, 0, 0x40, 0])));
        return Pdu(0x02, body);
    }

    private static byte[] Element(ushort group, ushort element, string vr, byte[] value, bool explicitVr, bool big = false)
    {
        if (value.Length % 2 == 1)
        {
            value = Concat(value, [vr is "UI" ? (byte)0 : (byte)' ']);
        }

        var ms = new MemoryStream();
        var b = new byte[4];
        void U16(ushort v)
        {
            if (big) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v);
            ms.Write(b, 0, 2);
        }

        void U32(uint v)
        {
            if (big) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            ms.Write(b);
        }

        U16(group);
        U16(element);
        if (explicitVr)
        {
            ms.Write(Ascii(vr));
            if (vr is "OB" or "OW" or "SQ" or "UN" or "UT")
            {
                U16(0);
                U32((uint)value.Length);
            }
            else
            {
                U16((ushort)value.Length);
            }
        }
        else
        {
            U32((uint)value.Length);
        }

        ms.Write(value);
        return ms.ToArray();
    }

    private static byte[] PData(byte context, bool command, byte[] fragment, bool last = true)
    {
        var pdv = new byte[4 + 2 + fragment.Length];
        BinaryPrimitives.WriteUInt32BigEndian(pdv, (uint)(2 + fragment.Length));
        pdv[4] = context;
        pdv[5] = (byte)((command ? 1 : 0) | (last ? 2 : 0));
        fragment.CopyTo(pdv, 6);
        return Pdu(0x04, pdv);
    }

    public static byte[] CStoreRq(string transferSyntax, bool moreFragments = false)
    {
        static byte[] U16(ushort v) => [(byte)v, (byte)(v >> 8)];
        var command = Concat(
            Element(0x0000, 0x0002, "UI", Ascii("1.2.840.10008.5.1.4.1.1.7"), false),
            Element(0x0000, 0x0100, "US", U16(0x0001), false),
            Element(0x0000, 0x0800, "US", U16(0x0000), false));
        var explicitVr = transferSyntax != "1.2.840.10008.1.2";
        var big = transferSyntax == "1.2.840.10008.1.2.2";
        var dataSet = Concat(
            Element(0x0008, 0x0050, "SH", Ascii("ACC-FAKE-42"), explicitVr, big),
            Element(0x0008, 0x0090, "PN", Ascii("ZZDOCTOR^FAKE"), explicitVr, big),
            Element(0x0010, 0x0010, "PN", Ascii("ZZTEST^FAKEPERSON"), explicitVr, big),
            Element(0x0010, 0x0020, "LO", Ascii("MRN-FAKE-0001"), explicitVr, big),
            Element(0x0010, 0x0030, "DA", Ascii("19000101"), explicitVr, big),
            Element(0x7FE0, 0x0010, "OW", new byte[4096], explicitVr, big));
        if (transferSyntax == "1.2.840.10008.1.2.1.99")
        {
            var plain = Concat(
                Element(0x0010, 0x0010, "PN", Ascii("ZZTEST^FAKEPERSON"), true),
                Element(0x0010, 0x0020, "LO", Ascii("MRN-FAKE-0001"), true));
            var ms = new MemoryStream();
            using (var deflate = new System.IO.Compression.DeflateStream(ms, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            {
                deflate.Write(plain);
            }

            dataSet = ms.ToArray();
        }

        return Concat(PData(1, true, command), PData(1, false, dataSet, !moreFragments));
    }

    /// <summary>Pixel data sent as the rest of a data set: P-DATA-TF PDUs of at most <paramref name="maxPdu"/> bytes.</summary>
    public static byte[] PDataFragments(ReadOnlySpan<byte> data, int maxPdu)
    {
        var ms = new MemoryStream();
        for (var o = 0; o < data.Length; o += maxPdu - 12)
        {
            var chunk = data.Slice(o, Math.Min(maxPdu - 12, data.Length - o));
            var pdv = new byte[6 + chunk.Length];
            BinaryPrimitives.WriteUInt32BigEndian(pdv, (uint)(2 + chunk.Length));
            pdv[4] = 1;
            pdv[5] = (byte)(o + chunk.Length >= data.Length ? 2 : 0);
            chunk.CopyTo(pdv.AsSpan(6));
            ms.Write(Pdu(0x04, pdv));
        }

        return ms.ToArray();
    }

    public static byte[] CEchoRq()
    {
        static byte[] U16(ushort v) => [(byte)v, (byte)(v >> 8)];
        var command = Concat(
            Element(0x0000, 0x0002, "UI", Ascii("1.2.840.10008.1.1"), false),
            Element(0x0000, 0x0100, "US", U16(0x0030), false),
            Element(0x0000, 0x0800, "US", U16(0x0101), false));
        return PData(1, true, command);
    }

    public static byte[] ReleaseRq() => Pdu(0x05, new byte[4]);

    public static byte[] ReleaseRp() => Pdu(0x06, new byte[4]);

    // ---------------------------------------------------------------- TLS

    public static byte[] ClientHello(ushort legacy, ushort[] supported, string? sni)
    {
        var ext = new MemoryStream();
        void Ext(ushort type, byte[] body)
        {
            Span<byte> h = stackalloc byte[4];
            BinaryPrimitives.WriteUInt16BigEndian(h, type);
            BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)body.Length);
            ext.Write(h);
            ext.Write(body);
        }

        if (sni is not null)
        {
            var name = Ascii(sni);
            var body = new byte[5 + name.Length];
            BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)(3 + name.Length));
            BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(3), (ushort)name.Length);
            name.CopyTo(body, 5);
            Ext(0, body);
        }

        if (supported.Length > 0)
        {
            var body = new byte[1 + (supported.Length * 2)];
            body[0] = (byte)(supported.Length * 2);
            for (var i = 0; i < supported.Length; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(1 + (i * 2)), supported[i]);
            }

            Ext(43, body);
        }

        var extensions = ext.ToArray();
        var hello = Concat(U16(legacy), new byte[32], [0], U16(4), [0x13, 0x01, 0xC0, 0x2F], [1, 0], U16((ushort)extensions.Length), extensions);
        return Record(Handshake(1, hello));
    }

    public static byte[] ServerHello(ushort legacy, ushort? selected)
    {
        var extensions = selected is { } s ? Concat(U16(43), U16(2), U16(s)) : [];
        var hello = Concat(U16(legacy), new byte[32], [0], [0xC0, 0x2F], [0], U16((ushort)extensions.Length), extensions);
        return Record(Handshake(2, hello));
    }

    public static byte[] Sslv2ClientHello()
    {
        // SSLv2 record: 2-byte length with the high bit set, message type 1, version 0x0002, cipher specs ...
        var body = Concat([1, 0, 2], U16(3), U16(0), U16(16), [0x07, 0x00, 0xC0], new byte[16]);
        return Concat([(byte)(0x80 | (body.Length >> 8)), (byte)body.Length], body);
    }

    public static byte[] Sslv2ServerHello() => Concat([0x80, 0x0A, 4, 0, 1, 0, 2, 0, 0, 0, 3, 0], new byte[0]);

    private static byte[] Handshake(byte type, byte[] body) => Concat([type, 0, (byte)(body.Length >> 8), (byte)body.Length], body);

    private static byte[] Record(byte[] handshake) => Concat([0x16, 3, 1], U16((ushort)handshake.Length), handshake);

    public static byte[] ApplicationData(int length) => Concat([0x17, 3, 3], U16((ushort)length), new byte[length]);

    private static byte[] U16(ushort v) => [(byte)(v >> 8), (byte)v];

    private static byte[] U32(uint v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    // ---------------------------------------------------------------- SMB

    private static byte[] Nbss(byte[] message) => Concat([0, 0, (byte)(message.Length >> 8), (byte)message.Length], message);

    public static byte[] Smb1Negotiate()
    {
        var header = Concat([0xFF, (byte)'S', (byte)'M', (byte)'B', 0x72], new byte[27]);
        var dialects = Concat(Ascii("\u0002PC NETWORK PROGRAM 1.0\0"), Ascii("\u0002LANMAN1.0\0"), Ascii("\u0002NT LM 0.12\0"));
        return Nbss(Concat(header, [0], [(byte)dialects.Length, (byte)(dialects.Length >> 8)], dialects));
    }

    public static byte[] Smb2Message(ushort command, bool response, ushort dialect = 0x0311)
    {
        var header = new byte[64];
        header[0] = 0xFE;
        header[1] = (byte)'S';
        header[2] = (byte)'M';
        header[3] = (byte)'B';
        header[4] = 64;
        header[12] = (byte)command;
        if (response)
        {
            header[16] = 1;
        }

        var body = new byte[response && command == 0 ? 65 : 36];
        if (response && command == 0)
        {
            body[0] = 65;
            body[4] = (byte)dialect;
            body[5] = (byte)(dialect >> 8);
        }

        return Nbss(Concat(header, body));
    }

    // ---------------------------------------------------------------- RDP, VNC, LDAP, iSCSI, NFS, TFTP, SNMP, DNS

    public static byte[] RdpConnectionRequest(uint requested)
    {
        var cookie = Ascii("Cookie: mstshash=demo-user\r\n");
        var neg = Concat([1, 0, 8, 0], BitConverter.GetBytes(requested));
        var x224 = Concat([(byte)(6 + cookie.Length + neg.Length), 0xE0, 0, 0, 0, 0, 0], cookie, neg);
        return Concat([3, 0], U16((ushort)(4 + x224.Length)), x224);
    }

    public static byte[] RdpConnectionConfirm(uint selected)
    {
        var neg = Concat([2, 0, 8, 0], BitConverter.GetBytes(selected));
        var x224 = Concat([(byte)(6 + neg.Length), 0xD0, 0, 0, 0x12, 0x34, 0], neg);
        return Concat([3, 0], U16((ushort)(4 + x224.Length)), x224);
    }

    public static byte[] LdapSimpleBind(string dn, string password)
    {
        var name = Ascii(dn);
        var pass = Ascii(password);
        var bind = Concat([0x02, 0x01, 0x03], [0x04, (byte)name.Length], name, [0x80, (byte)pass.Length], pass);
        var op = Concat([0x60, (byte)bind.Length], bind);
        var msg = Concat([0x02, 0x01, 0x01], op);
        return Concat([0x30, (byte)msg.Length], msg);
    }

    public static byte[] IscsiLogin(bool response, string keys, bool transitToFullFeature)
    {
        var data = Ascii(keys.Replace(';', '\0') + "\0");
        var padded = (data.Length + 3) & ~3;
        var pdu = new byte[48 + padded];
        pdu[0] = response ? (byte)0x23 : (byte)0x43;
        pdu[1] = transitToFullFeature ? (byte)0x87 : (byte)0x81;
        pdu[5] = (byte)(data.Length >> 16);
        pdu[6] = (byte)(data.Length >> 8);
        pdu[7] = (byte)data.Length;
        data.CopyTo(pdu, 48);
        return pdu;
    }

    public static byte[] NfsCallAuthSys(uint uid)
    {
        var machine = Ascii("demo-esxi");
        var padded = Concat(machine, new byte[(4 - (machine.Length % 4)) % 4]);
        var cred = Concat(U32(0), U32((uint)machine.Length), padded, U32(uid), U32(0), U32(0));
        var call = Concat(U32(0x1234), U32(0), U32(2), U32(100003), U32(3), U32(1), U32(1), U32((uint)cred.Length), cred, U32(0), U32(0));
        return Concat(U32(0x80000000u | (uint)call.Length), call);
    }

    public static byte[] TftpReadRequest(string file) => Concat([0, 1], Ascii(file), [0], Ascii("octet"), [0]);

    public static byte[] Snmp(int version, string? community)
    {
        if (version == 3)
        {
            var v3 = Concat([0x02, 0x01, 0x03], [0x30, 0x0D, 0x02, 0x02, 0x12, 0x34, 0x02, 0x02, 0x05, 0xDC, 0x04, 0x01, 0x07, 0x02, 0x01, 0x03], [0x04, 0x00], [0x04, 0x04, 1, 2, 3, 4]);
            return Concat([0x30, (byte)v3.Length], v3);
        }

        var c = Ascii(community ?? "");
        var pdu = new byte[] { 0xA0, 0x0E, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x03, 0x30, 0x01, 0x00 };
        var body = Concat([0x02, 0x01, (byte)version], [0x04, (byte)c.Length], c, pdu);
        return Concat([0x30, (byte)body.Length], body);
    }

    public static byte[] DnsQuery(ushort id, string name)
    {
        var q = new MemoryStream();
        foreach (var label in name.Split('.'))
        {
            q.WriteByte((byte)label.Length);
            q.Write(Ascii(label));
        }

        q.WriteByte(0);
        return Concat(U16(id), [1, 0, 0, 1, 0, 0, 0, 0, 0, 0], q.ToArray(), [0, 1, 0, 1]);
    }
}
