using VirtSecScan.Collectors.Traffic;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

/// <summary>
/// The packet-capture collector on our own captures (fixtures/collectors/pcap, generated; fixtures/demo-hospital/captures,
/// made by real programs on loopback). tshark 4.0 was the oracle for which protocol each capture holds.
/// </summary>
public sealed class PcapCollectorTests
{
    private static readonly PcapCollector Collector = new();

    private static (List<ConfigFact> Facts, List<Core.Diagnostic> Diagnostics, string Format) Collect(string relativePath)
    {
        var path = RepoPaths.Combine(relativePath);
        var detected = CollectorRegistry.DetectFile(path);
        Assert.NotNull(detected);
        var result = detected.Value.Collector.Collect(path, relativePath, detected.Value.Format);
        return (result.Facts.Cast<ConfigFact>().ToList(), result.Diagnostics.ToList(), result.Format);
    }

    private static List<string> Protocols(string relativePath) =>
        Collect(relativePath).Facts.Select(f => f.Get("protocol")!.Value).ToList();

    private static ConfigFact Only(string relativePath, string protocol) =>
        Assert.Single(Collect(relativePath).Facts, f => f.Get("protocol")!.Value == protocol);

    [Theory]
    [InlineData("fixtures/collectors/pcap/ftp-cleartext.pcap", "ftp")]
    [InlineData("fixtures/collectors/pcap/ftp-auth-tls.pcap", "ftp-tls")]
    [InlineData("fixtures/collectors/pcap/telnet-character-mode.pcap", "telnet")]
    [InlineData("fixtures/collectors/pcap/smb1-negotiate.pcap", "smb1")]
    [InlineData("fixtures/collectors/pcap/smb2-only.pcap", "smb3")]
    [InlineData("fixtures/collectors/pcap/smb2-midstream.pcap", "smb2")]
    [InlineData("fixtures/collectors/pcap/rdp-standard-security.pcap", "rdp-standard-security")]
    [InlineData("fixtures/collectors/pcap/rdp-credssp.pcap", "rdp-credssp")]
    [InlineData("fixtures/collectors/pcap/vnc-no-auth.pcap", "vnc")]
    [InlineData("fixtures/collectors/pcap/ldap-simple-bind.pcap", "ldap-simple-bind")]
    [InlineData("fixtures/collectors/pcap/ldap-anonymous-bind.pcap", "ldap")]
    [InlineData("fixtures/collectors/pcap/tftp-read.pcap", "tftp")]
    [InlineData("fixtures/collectors/pcap/iscsi-no-chap.pcap", "iscsi-no-chap")]
    [InlineData("fixtures/collectors/pcap/iscsi-chap.pcap", "iscsi")]
    [InlineData("fixtures/collectors/pcap/nfs-auth-sys.pcap", "nfs-auth-sys")]
    [InlineData("fixtures/collectors/pcap/vmotion.pcap", "vmotion")]
    [InlineData("fixtures/collectors/pcap/esxi-nfc-902.pcap", "esxi-management")]
    [InlineData("fixtures/collectors/pcap/sslv2-hello.pcap", "sslv2")]
    [InlineData("fixtures/collectors/pcap/tls11-no-sni.pcap", "tls1.1")]
    [InlineData("fixtures/collectors/pcap/snmp-empty-community.pcap", "snmpv2c")]
    [InlineData("fixtures/collectors/pcap/http-basic-two-spaces.pcap", "http-basic-auth")]
    [InlineData("fixtures/collectors/pcap/http-mid-stream-not-dicom.pcap", "http")]
    [InlineData("fixtures/collectors/pcap/dicom-cecho-only.pcap", "dicom")]
    [InlineData("fixtures/collectors/pcap/hl7-other-separators.pcap", "hl7")]
    [InlineData("fixtures/collectors/pcap/hl7-mllp-adt.pcapng", "hl7")]
    [InlineData("fixtures/demo-hospital/captures/hl7-mllp-adt.pcap", "hl7")]
    [InlineData("fixtures/demo-hospital/captures/dicom-cstore-11112.pcap", "dicom")]
    [InlineData("fixtures/demo-hospital/captures/dicom-cecho-104.pcap", "dicom")]
    [InlineData("fixtures/demo-hospital/captures/http-basic-fhir.pcap", "http-basic-auth")]
    [InlineData("fixtures/demo-hospital/captures/http-basic-fhir.pcap", "http-fhir")]
    [InlineData("fixtures/demo-hospital/captures/snmp-v1-v2c.pcap", "snmpv1")]
    [InlineData("fixtures/demo-hospital/captures/snmp-v1-v2c.pcap", "snmpv2c")]
    [InlineData("fixtures/demo-hospital/captures/snmp-v3.pcap", "snmpv3")]
    [InlineData("fixtures/demo-hospital/captures/tls10-sni.pcap", "tls1.0")]
    [InlineData("fixtures/demo-hospital/captures/tls13.pcap", "tls1.3")]
    public void NamesTheProtocolByContent(string capture, string protocol)
    {
        Assert.Contains(protocol, Protocols(capture));
    }

    [Theory]
    [InlineData("fixtures/collectors/pcap/ftp-auth-tls.pcap", "ftp")]
    [InlineData("fixtures/collectors/pcap/smb2-only.pcap", "smb1")]
    [InlineData("fixtures/collectors/pcap/smb2-midstream.pcap", "smb1")]
    [InlineData("fixtures/collectors/pcap/rdp-credssp.pcap", "rdp-standard-security")]
    [InlineData("fixtures/collectors/pcap/iscsi-chap.pcap", "iscsi-no-chap")]
    [InlineData("fixtures/collectors/pcap/ldap-anonymous-bind.pcap", "ldap-simple-bind")]
    [InlineData("fixtures/collectors/pcap/http-mid-stream-not-dicom.pcap", "dicom")]
    [InlineData("fixtures/demo-hospital/captures/snmp-v3.pcap", "snmpv2c")]
    [InlineData("fixtures/demo-hospital/captures/snmp-v3.pcap", "snmpv1")]
    [InlineData("fixtures/demo-hospital/captures/tls13.pcap", "tls1.0")]
    [InlineData("fixtures/demo-hospital/captures/tls13.pcap", "tls1.1")]
    public void DoesNotReportWhatIsNotThere(string capture, string protocol)
    {
        Assert.DoesNotContain(protocol, Protocols(capture));
    }

    [Theory]
    [InlineData("ethernet", "ethernet", "")]
    [InlineData("vlan", "ethernet", "vlan")]
    [InlineData("qinq", "ethernet", "vlan")]
    [InlineData("mpls", "ethernet", "mpls")]
    [InlineData("vxlan", "ethernet", "vxlan")]
    [InlineData("geneve", "ethernet", "geneve")]
    [InlineData("sll", "linux-sll", "")]
    [InlineData("sll2", "linux-sll2", "")]
    [InlineData("null", "null/loopback", "")]
    [InlineData("rawip", "raw-ipv4", "")]
    public void DecodesEveryLinkTypeAndEncapsulationToTheInnerFlow(string wrap, string linkType, string encapsulation)
    {
        var (facts, diagnostics, _) = Collect($"fixtures/collectors/pcap/encap-{wrap}.pcap");

        Assert.Empty(diagnostics);
        var hl7 = Assert.Single(facts);
        Assert.Equal("hl7", hl7.Get("protocol")!.Value);
        Assert.Equal("10.20.0.15", hl7.Get("client")!.Value);
        Assert.Equal("10.10.10.20", hl7.Get("server")!.Value);
        Assert.Equal("2575", hl7.Get("serverPort")!.Value);
        Assert.Equal(linkType, hl7.Get("linkType")!.Value);
        Assert.Equal(encapsulation, hl7.Get("encapsulation")?.Value ?? "");
        Assert.Contains("PID-5 patient name", hl7.Get("phi")!.Value);
    }

    [Fact]
    public void Hl7SeparatorsAreReadFromMsh()
    {
        var hl7 = Only("fixtures/collectors/pcap/hl7-other-separators.pcap", "hl7");

        Assert.Equal("ADT^A01", hl7.Get("messageTypes")!.Value);
        Assert.Contains("field '#', component '$'", hl7.Get("separators")!.Value);
        Assert.Contains("PID-3 patient identifier", hl7.Get("phi")!.Value);
    }

    [Theory]
    [InlineData("fixtures/collectors/pcap/hl7-two-frames-one-segment.pcap", "4")]
    [InlineData("fixtures/collectors/pcap/hl7-split-frame.pcap", "2")]
    public void MllpFramesAreReassembled(string capture, string messages)
    {
        var hl7 = Only(capture, "hl7");

        Assert.Equal(messages, hl7.Get("hl7Messages")!.Value);
    }

    [Theory]
    [InlineData("implicit-le")]
    [InlineData("explicit-le")]
    [InlineData("explicit-be")]
    [InlineData("deflated")]
    public void DicomPatientElementsAreFoundWithTheNegotiatedTransferSyntax(string syntax)
    {
        var dicom = Only($"fixtures/collectors/pcap/dicom-cstore-{syntax}-4242.pcap", "dicom");

        Assert.Contains("(0010,0010) patient name", dicom.Get("phi")!.Value);
        Assert.Contains("(0010,0020) patient ID", dicom.Get("phi")!.Value);
        Assert.Equal("(0010,0010) Z****T^F********N", dicom.Get("phiMasked")!.Value);
        Assert.Equal("DEMOCT", dicom.Get("callingAe")!.Value);
        Assert.Equal("DEMOPACS", dicom.Get("calledAe")!.Value);
        Assert.Contains("C-STORE-RQ", dicom.Get("dicomCommands")!.Value);
    }

    [Fact]
    public void CEchoCarriesNoPatientData()
    {
        var dicom = Only("fixtures/collectors/pcap/dicom-cecho-only.pcap", "dicom");

        Assert.Null(dicom.Get("phi"));
        Assert.Contains("C-ECHO-RQ", dicom.Get("dicomCommands")!.Value);
    }

    [Fact]
    public void DicomUserIdentityPasscodeFromStorescu()
    {
        var dicom = Only("fixtures/demo-hospital/captures/dicom-cstore-11112.pcap", "dicom");

        Assert.Equal("username and passcode", dicom.Get("userIdentity")!.Value);
        Assert.Equal("DICOM user identity passcode sent in clear text", dicom.Get("credential")!.Value);
    }

    [Fact]
    public void ObservedCountersAndDirectionAreKept()
    {
        var hl7 = Only("fixtures/demo-hospital/captures/hl7-mllp-adt.pcap", "hl7");

        Assert.Equal("12", hl7.Get("packets")!.Value);
        Assert.Equal("1", hl7.Get("connections")!.Value);
        Assert.Equal("6661", hl7.Get("serverPort")!.Value);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", hl7.Get("firstSeen")!.Value);
        Assert.True(string.CompareOrdinal(hl7.Get("firstSeen")!.Value, hl7.Get("lastSeen")!.Value) <= 0);
        Assert.Equal("ADT^A01", hl7.Get("messageTypes")!.Value);
        Assert.Equal("ACK^A01", hl7.Get("replyTypes")!.Value);
    }

    [Fact]
    public void TlsSniAndNegotiatedVersion()
    {
        var tls = Only("fixtures/demo-hospital/captures/tls10-sni.pcap", "tls1.0");

        Assert.Equal("claims.demo-insurer.invalid", tls.Get("sni")!.Value);
        Assert.Equal("tls1.0", tls.Get("negotiatedVersion")!.Value);
    }

    [Fact]
    public void PcapngIsReadAndNamedAsSuch()
    {
        var (facts, diagnostics, format) = Collect("fixtures/collectors/pcap/hl7-mllp-adt.pcapng");

        Assert.Equal("pcapng", format);
        Assert.Empty(diagnostics);
        Assert.Equal("pcapng", facts[0].Get("captureFormat")!.Value);
    }

    [Fact]
    public void ATruncatedCaptureYieldsWhatItHoldsAndADiagnostic()
    {
        var (facts, diagnostics, _) = Collect("fixtures/collectors/pcap/truncated.pcap");

        Assert.Contains(facts, f => f.Get("protocol")!.Value == "hl7");
        var d = Assert.Single(diagnostics);
        Assert.Equal("warning", d.Level);
        Assert.Contains("truncated", d.Message);
    }

    [Fact]
    public void AnUnknownLinkTypeIsAClearError()
    {
        var (facts, diagnostics, _) = Collect("fixtures/collectors/pcap/unknown-linktype.pcap");

        Assert.Empty(facts);
        var d = Assert.Single(diagnostics);
        Assert.Equal("error", d.Level);
        Assert.Contains("unsupported link type 147", d.Message);
    }

    [Fact]
    public void ADamagedHeaderIsAClearError()
    {
        var (facts, diagnostics, _) = Collect("fixtures/collectors/pcap/damaged-header.pcap");

        Assert.Empty(facts);
        Assert.Contains("not a readable packet capture", Assert.Single(diagnostics).Message);
    }

    [Fact]
    public void MalformedFramesAreCountedNotThrown()
    {
        var (facts, diagnostics, _) = Collect("fixtures/collectors/pcap/malformed-frames.pcap");

        Assert.Contains(facts, f => f.Get("protocol")!.Value == "hl7");
        Assert.Contains("4 of 5 packets were malformed", Assert.Single(diagnostics).Message);
    }

    [Fact]
    public void ATextFileWithACaptureNameIsNotDetected()
    {
        Assert.Null(CollectorRegistry.DetectFile(RepoPaths.Combine("fixtures/collectors/pcap/not-a-capture.pcap")));
    }

    [Theory]
    [InlineData("M", "*")]
    [InlineData("DOE^JOHN", "***^J**N")]
    [InlineData("ZZTEST^FAKEPERSON", "Z****T^F********N")]
    public void MaskedFormsKeepOnlyTheEnds(string value, string masked)
    {
        Assert.Equal(masked, PhiMask.Mask(value));
    }

    [Fact]
    public void PacketDecoderNeverThrowsOnGarbage()
    {
        var rng = new Random(7);
        var buffer = new byte[128];
        foreach (var linkType in new[] { 0, 1, 101, 113, 228, 229, 276 })
        {
            for (var i = 0; i < 20000; i++)
            {
                var length = rng.Next(buffer.Length);
                rng.NextBytes(buffer);
                var p = default(PacketInfo);
                var status = PacketDecoder.Decode(linkType, buffer.AsSpan(0, length), ref p);
                if (status == DecodeStatus.Ok)
                {
                    Assert.InRange(p.PayloadOffset + p.PayloadLength, 0, length);
                }
            }
        }
    }
}
