namespace VirtSecScan.Cli.Tests;

/// <summary>Scanning the demo hospital's traffic samples end to end: findings, evidence, and no patient data or secrets in any output.</summary>
public sealed class TrafficScanTests
{
    /// <summary>Values seeded into the captures (all made up); none may appear in any output.</summary>
    private static readonly string[] Seeded =
    [
        "ZZTEST", "FAKEPERSON", "FAKERELATIVE", "MRN-FAKE", "19000101", "ACCT-FAKE", "POLICY-FAKE", "000-00-0000", "555-0100",
        "ZZDOCTOR", "ACC-FAKE", "demo-community-not-secret", "not-a-real-secret", "demo-user", "demo-tech", "bm90LWEtcmVhbC1zZWNyZXQ",
        "ZGVtby11c2Vy",
    ];

    private static readonly Lazy<CliResult> Json = new(() =>
        Cli.ScanJson(RepoPaths.Fixture("demo-hospital", "captures"), RepoPaths.Fixture("collectors", "pcap"), "--site", Path.Combine(RepoPaths.DemoHospital, "site.yaml")));

    [Fact]
    public void NoPatientDataOrSecretInJsonTableOrLogs()
    {
        var table = Cli.Run("scan", RepoPaths.Fixture("demo-hospital", "captures"), RepoPaths.Fixture("collectors", "pcap"), "--no-progress", "--log-level", "debug");
        foreach (var output in new[] { Json.Value.Stdout, Json.Value.Stderr, table.Stdout, table.Stderr })
        {
            foreach (var seed in Seeded)
            {
                Assert.DoesNotContain(seed, output, StringComparison.OrdinalIgnoreCase);
            }
        }

        Assert.Contains("hl7", table.Stdout);
    }

    [Fact]
    public void CapturesAreCollectedAsPcapAndPcapng()
    {
        var collected = Json.Value.Json().RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray()
            .Select(c => (File: c.GetProperty("file").GetString()!, Format: c.GetProperty("format").GetString()!)).ToList();

        Assert.Contains(collected, c => c.File.EndsWith("hl7-mllp-adt.pcap", StringComparison.Ordinal) && c.Format == "pcap");
        Assert.Contains(collected, c => c.File.EndsWith("hl7-mllp-adt.pcapng", StringComparison.Ordinal) && c.Format == "pcapng");
    }

    [Theory]
    [InlineData("traffic.phi-cleartext", "hl7", "VT08")]
    [InlineData("traffic.http-basic-auth", "http-basic-auth", "VT08")]
    [InlineData("traffic.snmp-community", "snmpv2c", "VT10")]
    [InlineData("traffic.tls-legacy-version", "tls1.0", "VT03")]
    [InlineData("traffic.smb1", "smb1", "VT03")]
    [InlineData("traffic.zone-flow-denied", "hl7", "VT07")]
    [InlineData("traffic.zone-flow-denied-management-plane", "nfs-auth-sys", "VT10")]
    [InlineData("traffic.esxi-management-from-outside", "tls1.3", "VT10")]
    public void FindingsNameTheProtocolAndCarryObservedEvidence(string rule, string protocol, string category)
    {
        var findings = Json.Value.Json().RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("ruleId").GetString() == rule).ToList();
        Assert.NotEmpty(findings);
        var finding = findings.First(f => Evidence(f, "protocol") == protocol);

        Assert.Equal(category, finding.GetProperty("category").GetString());
        Assert.Matches(@"^\d+$", Evidence(finding, "packets"));
        Assert.Matches(@"^\d{4}-", Evidence(finding, "firstSeen"));
        Assert.NotNull(finding.GetProperty("remediation").GetProperty("summary").GetString());
    }

    [Fact]
    public void PhiFindingNamesIdentifiersAndMasksThem()
    {
        var finding = Json.Value.Json().RootElement.GetProperty("findings").EnumerateArray()
            .First(f => f.GetProperty("ruleId").GetString() == "traffic.phi-cleartext" && Evidence(f, "protocol") == "dicom");

        Assert.Contains("(0010,0010) patient name", Evidence(finding, "phi"));
        Assert.Equal("(0010,0010) Z****T^F********N", Evidence(finding, "phiMasked"));
    }

    [Fact]
    public void CredentialEvidenceSaysHowNotWhat()
    {
        var finding = Json.Value.Json().RootElement.GetProperty("findings").EnumerateArray()
            .First(f => f.GetProperty("ruleId").GetString() == "traffic.http-basic-auth");

        Assert.Equal("HTTP Basic password sent in clear text", Evidence(finding, "credential"));
    }

    [Fact]
    public void NegativeCapturesGiveNoFinding()
    {
        // Zone-policy findings judge where a flow goes, not its protocol; the negative captures must raise no protocol finding.
        var sources = Json.Value.Json().RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => !f.GetProperty("ruleId").GetString()!.StartsWith("traffic.zone-flow-", StringComparison.Ordinal))
            .Select(f => f.GetProperty("resource").GetProperty("source").GetString() ?? "").ToList();

        foreach (var negative in new[] { "ftp-auth-tls.pcap", "smb2-only.pcap", "smb2-midstream.pcap", "snmp-v3.pcap", "tls13.pcap", "rdp-credssp.pcap", "iscsi-chap.pcap" })
        {
            Assert.DoesNotContain(sources, s => s.EndsWith(negative, StringComparison.Ordinal));
        }
    }

    private static string Evidence(System.Text.Json.JsonElement finding, string key) =>
        finding.GetProperty("evidence").EnumerateArray().First(e => e.GetProperty("key").GetString() == key).GetProperty("actual").GetString()!;
}
