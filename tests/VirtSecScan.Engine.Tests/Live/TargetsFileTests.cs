using VirtSecScan.Engine.Live;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Tests.Live;

public class TargetsFileTests
{
    private const string Fingerprint = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";

    private static TargetsFile Parse(string yaml) => TargetsFileLoader.Parse(yaml, "targets.yaml", "/base");

    [Fact]
    public void Every_kind_is_read_with_its_fields_and_relative_paths_resolve_against_the_file()
    {
        var t = Parse($"""
            maxParallel: 2
            targets:
              - name: kvm1
                kind: libvirt
                uri: qemu+ssh://root@kvm1/system
                timeoutSeconds: 10
              - name: esx1
                kind: ssh
                host: 10.0.0.5
                port: 2222
                user: audit
                keyFile: keys/audit_ed25519
                hostKeyFingerprint: {Fingerprint}
                platform: esxi
              - name: exports
                kind: files
                path: exports/kvm
              - name: vc
                kind: vsphere
                url: https://vc.example.test/sdk
                usernameEnv: VC_USER
                passwordEnv: VC_PASS
                thumbprint: "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"
            """);
        Assert.Equal(2, t.MaxParallel);
        Assert.Equal(["libvirt", "ssh", "files", "vsphere"], t.Targets.Select(x => x.Kind));
        Assert.Equal("qemu+ssh://root@kvm1/system", t.Targets[0].Uri);
        Assert.Equal(TimeSpan.FromSeconds(10), t.Targets[0].Timeout);
        Assert.Equal(2222, t.Targets[1].Port);
        Assert.Equal(Path.GetFullPath("/base/keys/audit_ed25519"), t.Targets[1].KeyFile);
        Assert.Equal(Path.GetFullPath("/base/exports/kvm"), t.Targets[2].Path);
        Assert.Equal("VC_PASS", t.Targets[3].PasswordEnv);
        Assert.Equal(15, t.Targets[2].Line);
    }

    [Theory]
    [InlineData("targets:\n  - name: a\n    kind: libvirt\n    uri: test:///default\n    url: x\n", 5, "unknown key 'url'")]
    [InlineData("targets:\n  - name: a\n    kind: hyperv\n", 2, "unknown kind 'hyperv'")]
    [InlineData("targets:\n  - name: a\n    kind: libvirt\n", 2, "missing required key 'uri'")]
    [InlineData("targets:\n  - name: a\n    kind: files\n    path: x\n  - name: A\n    kind: files\n    path: y\n", 5, "defined twice")]
    [InlineData("targets:\n  - name: s\n    kind: ssh\n    host: h\n    user: u\n    keyFile: k\n    hostKeyFingerprint: MD5:aa\n    platform: esxi\n", 7, "hostKeyFingerprint must be")]
    [InlineData("targets:\n  - name: v\n    kind: vsphere\n    url: https://vc/sdk\n    usernameEnv: U\n    passwordEnv: P\n    thumbprint: AA:BB\n", 7, "thumbprint must be")]
    [InlineData("targets:\n  - name: s\n    kind: ssh\n    host: h\n    user: u\n    keyFile: k\n    hostKeyFingerprint: " + Fingerprint + "\n    platform: hyperv\n", 8, "unknown platform")]
    [InlineData("targets:\n  - name: s\n    kind: ssh\n    host: h\n    port: 70000\n    user: u\n    keyFile: k\n    hostKeyFingerprint: " + Fingerprint + "\n    platform: esxi\n", 2, "port 70000")]
    [InlineData("targets:\n  - name: v\n    kind: vsphere\n    url: https://vc/sdk\n    usernameEnv: U\n", 2, "passwordEnv")]
    [InlineData("targets:\n  - name: a\n    kind: libvirt\n    uri: test:///default\n    timeoutSeconds: 0\n", 5, "between 1 and 3600")]
    [InlineData("targets: [\n", 2, "YAML syntax error")]
    public void Mistakes_name_file_and_line(string yaml, int line, string message)
    {
        var ex = Assert.Throws<DataFileException>(() => Parse(yaml));
        Assert.Equal("targets.yaml", ex.File);
        Assert.Equal(line, ex.Line);
        Assert.Contains(message, ex.Problem);
    }

    [Fact]
    public void A_password_in_a_vsphere_url_is_refused_without_being_echoed()
    {
        var ex = Assert.Throws<DataFileException>(() => Parse(
            "targets:\n  - name: v\n    kind: vsphere\n    url: https://admin:Sup3rSecretValue@vc/sdk\n    usernameEnv: U\n    passwordEnv: P\n"));
        Assert.Contains("must not carry user or password", ex.Message);
        Assert.DoesNotContain("Sup3rSecretValue", ex.Message);
    }

    [Theory]
    [InlineData("error: unable to connect to server at '127.0.0.1:1': Connection refused", "network")]
    [InlineData("error: authentication failed: Failed to start SASL negotiation", "authentication")]
    [InlineData("error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied", "permission")]
    [InlineData("error: failed to get domain 'x'", "not-found")]
    [InlineData("error: something else", "error")]
    public void Virsh_errors_are_classified(string stderr, string kind) =>
        Assert.Equal(kind, LiveCollection.Classify(stderr));

    [Fact]
    public void A_command_that_overruns_its_timeout_is_killed_and_reported_as_timeout()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = CommandRunner.Run("sleep", ["30"], TimeSpan.FromMilliseconds(300));
        Assert.True(result.TimedOut);
        Assert.False(result.Succeeded);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.StartsWith("timeout:", LiveCollection.Reason(result, "sleep"));
    }

    [Fact]
    public void A_missing_program_is_a_not_found_failure_not_an_exception()
    {
        var result = CommandRunner.Run("virtsecscan-no-such-program", [], TimeSpan.FromSeconds(5));
        Assert.True(result.NotInstalled);
        Assert.StartsWith("not-found:", LiveCollection.Reason(result, "list"));
    }
}
