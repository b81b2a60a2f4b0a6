using System.Buffers.Binary;
using PcapGen;
using static PcapGen.Payloads;

// PcapGen fixtures DIR          writes the generated test captures
// PcapGen bench FILE [PACKETS]  writes a realistic hospital mix of at least PACKETS packets (default 2,000,000)
if (args.Length >= 2 && args[0] == "fixtures")
{
    Fixtures.Write(args[1]);
    return 0;
}

if (args.Length >= 2 && args[0] == "bench")
{
    var packets = args.Length > 2 ? long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2_000_000;
    Bench.Write(args[1], packets);
    return 0;
}

Console.Error.WriteLine("usage: PcapGen fixtures DIR | PcapGen bench FILE [PACKETS]");
return 2;

internal static class Fixtures
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
    private static readonly uint Client = Framer.Ip("10.20.0.15");
    private static readonly uint Server = Framer.Ip("10.10.10.20");

    private static void One(string dir, string name, ushort port, Action<TcpSession> dialog, Wrap wrap = Wrap.Ethernet, uint? client = null, uint? server = null)
    {
        var framer = new Framer(wrap);
        using var w = new PcapWriter(Path.Combine(dir, name), framer.LinkType);
        var s = new TcpSession(w, framer, client ?? Client, 51000, server ?? Server, port, T0).Open();
        dialog(s);
        s.Close();
    }

    public static void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        One(dir, "ftp-cleartext.pcap", 21, s => s.Send(false, "220 demo ftp\r\n").Send(true, "USER demo-user\r\n").Send(false, "331 password\r\n")
            .Send(true, "PASS not-a-real-secret\r\n").Send(false, "230 ok\r\n"));
        One(dir, "ftp-auth-tls.pcap", 21, s => s.Send(false, "220 demo ftp\r\n").Send(true, "AUTH TLS\r\n").Send(false, "234 go ahead\r\n")
            .Send(true, ClientHello(0x0303, [0x0304, 0x0303], "ftp.demo.invalid")));
        One(dir, "telnet-character-mode.pcap", 23, s =>
        {
            s.Send(true, new byte[] { 0xFF, 0xFD, 0x18, 0xFF, 0xFB, 0x1F }).Send(false, new byte[] { 0xFF, 0xFB, 0x01 }).Send(false, "demo login: ");
            foreach (var ch in "demo-user\r")
            {
                s.Send(true, [(byte)ch]);
            }

            s.Send(false, "Password: ");
            foreach (var ch in "not-a-real-secret\r")
            {
                s.Send(true, [(byte)ch]);
            }
        });
        One(dir, "smb1-negotiate.pcap", 445, s => s.Send(true, Smb1Negotiate()));
        One(dir, "smb2-only.pcap", 445, s => s.Send(true, Smb2Message(0, false)).Send(false, Smb2Message(0, true, 0x0311)).Send(true, Smb2Message(5, false)));
        One(dir, "smb2-midstream.pcap", 445, s => s.Send(true, Smb2Message(8, false)).Send(false, Smb2Message(8, true)));
        One(dir, "rdp-standard-security.pcap", 3389, s => s.Send(true, RdpConnectionRequest(0)).Send(false, RdpConnectionConfirm(0)));
        One(dir, "rdp-credssp.pcap", 3389, s => s.Send(true, RdpConnectionRequest(3)).Send(false, RdpConnectionConfirm(2)));
        One(dir, "vnc-no-auth.pcap", 5900, s => s.Send(false, "RFB 003.008\n").Send(true, "RFB 003.008\n").Send(false, new byte[] { 1, 1 }).Send(true, new byte[] { 1 }));
        One(dir, "ldap-simple-bind.pcap", 389, s => s.Send(true, LdapSimpleBind("cn=demo-user,dc=demo,dc=invalid", "not-a-real-secret")));
        One(dir, "ldap-anonymous-bind.pcap", 389, s => s.Send(true, LdapSimpleBind("", "")));
        One(dir, "iscsi-no-chap.pcap", 3260, s => s
            .Send(true, IscsiLogin(false, "InitiatorName=iqn.1998-01.com.vmware:demo-esxi-01;TargetName=iqn.2026-11.invalid.demo:pacs-lun;SessionType=Normal;AuthMethod=None", false))
            .Send(false, IscsiLogin(true, "AuthMethod=None;TargetPortalGroupTag=1", true)));
        One(dir, "iscsi-chap.pcap", 3260, s => s
            .Send(true, IscsiLogin(false, "InitiatorName=iqn.1998-01.com.vmware:demo-esxi-01;TargetName=iqn.2026-11.invalid.demo:pacs-lun;SessionType=Normal;AuthMethod=CHAP,None", false))
            .Send(false, IscsiLogin(true, "AuthMethod=CHAP", false)));
        One(dir, "nfs-auth-sys.pcap", 2049, s => s.Send(true, NfsCallAuthSys(0)));
        One(dir, "vmotion.pcap", 8000, s => s.Send(true, new byte[3000]).Send(false, new byte[64]), client: Framer.Ip("10.90.0.11"), server: Framer.Ip("10.20.0.40"));
        One(dir, "esxi-nfc-902.pcap", 902, s => s.Send(false, "220 VMware Authentication Daemon Version 1.10: SSL Required, ServerDaemonProtocol:SOAP, MKSDisplayProtocol:VNC , VMXARGS supported, NFCSSL supported/t\r\n"),
            server: Framer.Ip("10.90.0.11"));
        One(dir, "sslv2-hello.pcap", 443, s => s.Send(true, Sslv2ClientHello()).Send(false, Sslv2ServerHello()));
        One(dir, "tls11-no-sni.pcap", 443, s => s.Send(true, ClientHello(0x0302, [], null)).Send(false, ServerHello(0x0302, null)));
        One(dir, "hl7-other-separators.pcap", 12000, s => s.Send(true, Hl7Adt(1, '#', '$')).Send(false, Hl7Ack(1)));
        One(dir, "hl7-two-frames-one-segment.pcap", 2575, s => s.Send(true, Concat(Hl7Adt(1), Hl7Adt(2))).Send(false, Concat(Hl7Ack(1), Hl7Ack(2))));
        One(dir, "hl7-split-frame.pcap", 2575, s => s.Send(true, Hl7Adt(3), mss: 40).Send(false, Hl7Ack(3)));
        foreach (var (ts, name) in new[] { ("1.2.840.10008.1.2", "implicit-le"), ("1.2.840.10008.1.2.1", "explicit-le"), ("1.2.840.10008.1.2.2", "explicit-be"), ("1.2.840.10008.1.2.1.99", "deflated") })
        {
            One(dir, $"dicom-cstore-{name}-4242.pcap", 4242, s => s
                .Send(true, AssociateRq("DEMOPACS", "DEMOCT", "1.2.840.10008.5.1.4.1.1.7", [ts], passcode: false))
                .Send(false, AssociateAc("DEMOPACS", "DEMOCT", ts))
                .Send(true, CStoreRq(ts))
                .Send(true, ReleaseRq()).Send(false, ReleaseRp()), server: Framer.Ip("10.10.40.10"));
        }

        One(dir, "dicom-cecho-only.pcap", 104, s => s
            .Send(true, AssociateRq("DEMOPACS", "DEMOCT", "1.2.840.10008.1.1", ["1.2.840.10008.1.2"], passcode: false))
            .Send(false, AssociateAc("DEMOPACS", "DEMOCT", "1.2.840.10008.1.2"))
            .Send(true, CEchoRq()).Send(true, ReleaseRq()).Send(false, ReleaseRp()));
        One(dir, "http-mid-stream-not-dicom.pcap", 80, s => s.Send(true, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            .Send(false, Concat(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 120\r\n\r\n"), [1, 0, 0, 0, 0, 0x70, 0, 1], new byte[112])));
        One(dir, "http-basic-two-spaces.pcap", 2082, s => s.Send(true, "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic   ZGVtby11c2VyOm5vdDphLXJlYWwtc2VjcmV0\r\n\r\n")
            .Send(false, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"));

        // UDP
        {
            var framer = new Framer(Wrap.Ethernet);
            using var w = new PcapWriter(Path.Combine(dir, "tftp-read.pcap"), framer.LinkType);
            w.Write(T0, framer.Udp(Client, Server, 50000, 69, TftpReadRequest("pxelinux.cfg/default")));
            w.Write(T0 + 500, framer.Udp(Server, Client, 40000, 50000, Concat([0, 3, 0, 1], new byte[64])));
        }

        {
            var framer = new Framer(Wrap.Ethernet);
            using var w = new PcapWriter(Path.Combine(dir, "snmp-empty-community.pcap"), framer.LinkType);
            w.Write(T0, framer.Udp(Client, Server, 50001, 161, Snmp(1, "")));
        }

        // Encapsulations and link types: the same HL7 conversation wrapped each way.
        foreach (var wrap in Enum.GetValues<Wrap>())
        {
            One(dir, $"encap-{wrap.ToString().ToLowerInvariant()}.pcap", 2575, s => s.Send(true, Hl7Adt(7)).Send(false, Hl7Ack(7)), wrap);
        }

        // A capture cut in the middle of a packet record, an unknown link type, a damaged header, malformed frames.
        var whole = File.ReadAllBytes(Path.Combine(dir, "encap-ethernet.pcap"));
        File.WriteAllBytes(Path.Combine(dir, "truncated.pcap"), whole[..(whole.Length - 30)]);
        var unknown = (byte[])whole.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(unknown.AsSpan(20), 147);
        File.WriteAllBytes(Path.Combine(dir, "unknown-linktype.pcap"), unknown);
        var damaged = whole[..24].Concat(new byte[] { 1, 2, 3 }).ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(damaged.AsSpan(4), 99);
        File.WriteAllBytes(Path.Combine(dir, "damaged-header.pcap"), damaged);
        {
            var framer = new Framer(Wrap.Ethernet);
            using var w = new PcapWriter(Path.Combine(dir, "malformed-frames.pcap"), framer.LinkType);
            var good = framer.Tcp(Client, Server, 50000, 2575, 1, 1, 0x18, Hl7Adt(9));
            w.Write(T0, good);
            w.Write(T0 + 1, good.AsSpan(0, 20));                  // IPv4 header cut short
            var badIhl = (byte[])good.Clone();
            badIhl[14] = 0x4F;                                      // IHL beyond the frame's end
            w.Write(T0 + 2, badIhl.AsSpan(0, 60));
            var badTcp = (byte[])good.Clone();
            badTcp[14 + 20 + 12] = 0xF0;                            // TCP data offset 60 bytes
            w.Write(T0 + 3, badTcp.AsSpan(0, 14 + 20 + 30));
            w.Write(T0 + 4, new byte[3]);
        }

        ZoneCrossings(Path.Combine(dir, "..", "..", "demo-hospital", "captures", "zone-crossings.pcap"));
    }

    /// <summary>Flows between the demo hospital's zones (site.yaml subnets) that the zone policy judges.</summary>
    private static void ZoneCrossings(string path)
    {
        var framer = new Framer(Wrap.Vlan);
        using var w = new PcapWriter(path, framer.LinkType);
        var t = T0;
        TcpSession S(string c, string s, ushort port) => new TcpSession(w, framer, Framer.Ip(c), 52000, Framer.Ip(s), port, t += 1_000_000).Open();
        var a = S("10.30.10.5", "10.10.10.20", 2575); a.Send(true, Hl7Adt(11)).Send(false, Hl7Ack(11)).Close();   // insurance link -> HIS, HL7
        var b = S("10.20.0.15", "10.90.0.11", 443); b.Send(true, ClientHello(0x0303, [0x0304, 0x0303], "esxi-01.demo.invalid")).Send(false, ServerHello(0x0303, 0x0304)).Close(); // VDI -> ESXi Host Client
        var c = S("10.10.10.20", "10.10.30.10", 2575); c.Send(true, Hl7Adt(12)).Send(false, Hl7Ack(12)).Close();  // HIS -> LIS, allowed, but clear text
        var d = S("10.20.0.15", "10.91.0.5", 2049); d.Send(true, NfsCallAuthSys(0)).Close();                       // VDI -> storage, NFS AUTH_SYS
        var e = S("10.90.0.11", "10.90.0.12", 8000); e.Send(true, new byte[2000]).Close();                          // vMotion inside management
    }
}

internal static class Bench
{
    /// <summary>A hospital mix: HL7, DICOM (large C-STOREs), HTTP, TLS, SMB2, DNS between a few hundred hosts of the demo subnets.</summary>
    public static void Write(string path, long packets)
    {
        var framer = new Framer(Wrap.Ethernet);
        using var w = new PcapWriter(path, framer.LinkType);
        var rng = new Random(20261127);
        string[] subnets = ["10.10.10.", "10.10.20.", "10.10.30.", "10.10.40.", "10.10.50.", "10.20.0.", "10.20.1.", "10.30.10.", "10.40.10.", "10.90.0."];
        // 600 clients; each kind of service has a few servers, and a client always uses the same one (as in a hospital).
        var clients = Enumerable.Range(0, 600).Select(i => Framer.Ip(subnets[i % subnets.Length] + (10 + (i / subnets.Length)))).ToArray();
        uint[] Servers(string subnet, int count) => Enumerable.Range(0, count).Select(i => Framer.Ip(subnet + (200 + i))).ToArray();
        var hl7Servers = Servers("10.10.10.", 2);
        var pacs = Servers("10.10.40.", 2);
        var web = Servers("10.10.20.", 6);
        var tls = Servers("10.40.10.", 8);
        var files = Servers("10.20.1.", 3);
        var dns = Framer.Ip("10.90.0.2");
        var t = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        var image = new byte[256 * 1024];
        rng.NextBytes(image);
        var html = Ascii("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 24000\r\n\r\n" + new string('x', 24000));
        var n = 0;
        while (w.Packets < packets)
        {
            n++;
            t += 200;
            var kind = rng.Next(100);
            if (kind < 15)
            {
                var dnsPort = (ushort)rng.Next(1024, 65000);
                var c = clients[rng.Next(clients.Length)];
                var s = dns;
                w.Write(t, framer.Udp(c, s, dnsPort, 53, DnsQuery((ushort)n, "his-app-01.demo.invalid")));
                w.Write(t + 300, framer.Udp(s, c, 53, dnsPort, DnsQuery((ushort)n, "his-app-01.demo.invalid")));
                continue;
            }

            var ci = rng.Next(clients.Length);
            var server = kind switch
            {
                < 25 => hl7Servers[ci % hl7Servers.Length],
                < 33 => pacs[ci % pacs.Length],
                < 58 => web[ci % web.Length],
                < 88 => tls[ci % tls.Length],
                _ => files[ci % files.Length],
            };
            var session = new TcpSession(w, framer, clients[ci], (ushort)rng.Next(1024, 65000), server, kind switch
            {
                < 25 => (ushort)2575,
                < 33 => (ushort)11112,
                < 58 => (ushort)80,
                < 88 => (ushort)443,
                _ => (ushort)445,
            }, t).Open();
            switch (kind)
            {
                case < 25:
                    for (var i = 0; i < 5; i++)
                    {
                        session.Send(true, Hl7Adt(n + i)).Send(false, Hl7Ack(n + i));
                    }

                    break;
                case < 33:
                    session.Send(true, AssociateRq("DEMOPACS", "DEMOCT", "1.2.840.10008.5.1.4.1.1.7", ["1.2.840.10008.1.2.1"], false))
                        .Send(false, AssociateAc("DEMOPACS", "DEMOCT", "1.2.840.10008.1.2.1"))
                        .Send(true, CStoreRq("1.2.840.10008.1.2.1", moreFragments: true))
                        .Send(true, Payloads.PDataFragments(image.AsSpan(0, rng.Next(32, 256) * 1024), 16384))
                        .Send(true, ReleaseRq()).Send(false, ReleaseRp());
                    break;
                case < 58:
                    session.Send(true, "GET /his/patient/summary HTTP/1.1\r\nHost: his-app-01\r\n\r\n").Send(false, html);
                    break;
                case < 88:
                    session.Send(true, ClientHello(0x0303, [0x0304, 0x0303], "emr-app-01.demo.invalid")).Send(false, ServerHello(0x0303, 0x0304))
                        .Send(true, ApplicationData(600)).Send(false, ApplicationData(16000)).Send(false, ApplicationData(16000));
                    break;
                default:
                    session.Send(true, Smb2Message(0, false)).Send(false, Smb2Message(0, true)).Send(true, Smb2Message(8, false)).Send(false, image.AsSpan(0, 64 * 1024));
                    break;
            }

            session.Close();
            t = session.Time;
        }
    }
}
