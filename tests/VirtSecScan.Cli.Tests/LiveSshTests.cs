using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary>
/// A real OpenSSH server on 127.0.0.1 (random port, throwaway keys, started and stopped by the test) with a
/// <c>virsh</c> wrapper on its PATH that answers from libvirt's test driver. Needs openssh-server and
/// libvirt-clients (.ci/run installs both); a missing program fails the test with a clear message.
/// </summary>
[Collection("live")]
public sealed class LiveSshTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Process _sshd;
    private readonly int _port;
    private readonly string _fingerprint;
    private readonly string _clientKey;

    public LiveSshTests()
    {
        Assert.True(File.Exists("/usr/sbin/sshd"), "/usr/sbin/sshd is missing: install the Debian package openssh-server (.ci/run does)");
        Assert.True(File.Exists("/usr/bin/virsh"), "/usr/bin/virsh is missing: install the Debian package libvirt-clients (.ci/run does)");
        var w = _dir.Path;
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", _dir.File("host_ed25519"));
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", _dir.File("client_ed25519"));
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", _dir.File("other_ed25519"));
        _clientKey = _dir.File("client_ed25519");
        File.Copy(_clientKey + ".pub", _dir.File("authorized_keys"));
        _fingerprint = Run("ssh-keygen", "-lf", _dir.File("host_ed25519.pub")).Split(' ')[1];
        var fakebin = Directory.CreateDirectory(_dir.File("fakebin")).FullName;
        var virsh = _dir.Write("fakebin/virsh", $"#!/bin/sh\nexec /usr/bin/virsh -c 'test://{RepoPaths.Fixture("live", "node.xml")}' \"$@\"\n");
        Assert.True(OperatingSystem.IsLinux(), "the SSH live tests need Linux (sshd, virsh)");
        Run("chmod", "755", virsh);
        Directory.CreateDirectory("/run/sshd");

        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var config = _dir.Write("sshd_config", $"""
            Port {_port}
            ListenAddress 127.0.0.1
            HostKey {_dir.File("host_ed25519")}
            PidFile {_dir.File("sshd.pid")}
            AuthorizedKeysFile {_dir.File("authorized_keys")}
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            SetEnv PATH={fakebin}:/usr/local/bin:/usr/bin:/bin
            """);
        _sshd = Process.Start(new ProcessStartInfo("/usr/sbin/sshd", ["-D", "-e", "-f", config]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        _sshd.ErrorDataReceived += (_, _) => { };
        _sshd.BeginErrorReadLine();
        var ready = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, _port);
                break;
            }
            catch (SocketException) when (ready.Elapsed < TimeSpan.FromSeconds(15) && !_sshd.HasExited)
            {
                Thread.Sleep(100);
            }
        }

        _ = w;
    }

    public void Dispose()
    {
        if (!_sshd.HasExited)
        {
            _sshd.Kill(entireProcessTree: true);
            _sshd.WaitForExit(5000);
        }

        _sshd.Dispose();
        _dir.Dispose();
    }

    private static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
        return output;
    }

    private string SshTarget(string name, string fingerprint, string key, int? port = null) =>
        $"  - name: {name}\n    kind: ssh\n    host: 127.0.0.1\n    port: {port ?? _port}\n    user: {Environment.UserName}\n" +
        $"    keyFile: {key}\n    hostKeyFingerprint: {fingerprint}\n    platform: libvirt\n    commandTimeoutSeconds: 20\n";

    private static List<string> Outcomes(JsonDocument json) =>
        json.RootElement.GetProperty("findings").EnumerateArray()
            .Concat(json.RootElement.GetProperty("notEvaluated").EnumerateArray())
            .Select(f => $"{f.GetProperty("ruleId").GetString()} {f.GetProperty("resource").GetProperty("name").GetString()} {(f.TryGetProperty("status", out var s) ? s.GetString() : "not-evaluated")}")
            .Where(s => !s.StartsWith("feed.", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static Dictionary<string, JsonElement> Targets(JsonDocument json) =>
        json.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.Clone());

    [Fact]
    public void Ssh_to_a_libvirt_host_gives_the_same_findings_as_the_libvirt_uri()
    {
        var viaSsh = Cli.ScanJson("--targets", _dir.Write("ssh.yaml", "targets:\n" + SshTarget("lab", _fingerprint, _clientKey)));
        var viaUri = Cli.ScanJson("--targets", _dir.Write("uri.yaml", $"targets:\n  - name: lab\n    kind: libvirt\n    uri: test://{RepoPaths.Fixture("live", "node.xml")}\n"));
        Assert.True(viaSsh.ExitCode == 0, viaSsh.Stderr);
        using var ssh = viaSsh.Json();
        using var uri = viaUri.Json();
        var target = Targets(ssh)["lab"];
        Assert.True(target.GetProperty("status").GetString() == "collected", target.ToString());
        Assert.Equal(7, target.GetProperty("resources").GetArrayLength());
        Assert.Contains(Outcomes(uri), o => o.StartsWith("libvirt.domain.", StringComparison.Ordinal));
        Assert.Contains("libvirt.network.forward-route pacs-routed fail", Outcomes(ssh));
        Assert.Contains(ssh.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray(),
            c => c.GetProperty("file").GetString() == "ssh://lab/net/pacs-routed.xml" && c.GetProperty("format").GetString() == "libvirt-network-xml");
        Assert.Equal(Outcomes(uri), Outcomes(ssh));
        Assert.Equal(uri.RootElement.GetProperty("summary").GetProperty("passed").GetInt32(), ssh.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());
    }

    [Fact]
    public void A_changed_host_key_a_refused_key_and_a_closed_port_are_failed_targets_with_their_reasons()
    {
        var otherFingerprint = Run("ssh-keygen", "-lf", _dir.File("other_ed25519.pub")).Split(' ')[1];
        int closed;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var targets = _dir.Write("bad.yaml", "targets:\n"
            + SshTarget("changed-host-key", otherFingerprint, _clientKey)
            + SshTarget("refused-key", _fingerprint, _dir.File("other_ed25519"))
            + SshTarget("closed-port", _fingerprint, _clientKey, closed)
            + SshTarget("no-key-file", _fingerprint, _dir.File("missing_key")));
        var result = Cli.ScanJson("--targets", targets);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        var t = Targets(json);
        Assert.All(t.Values, x => Assert.Equal("failed", x.GetProperty("status").GetString()));
        Assert.StartsWith("authentication: host key", t["changed-host-key"].GetProperty("reason").GetString());
        Assert.StartsWith("authentication: the key was refused", t["refused-key"].GetProperty("reason").GetString());
        Assert.StartsWith("network:", t["closed-port"].GetProperty("reason").GetString());
        Assert.StartsWith("not-found:", t["no-key-file"].GetProperty("reason").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("findings").EnumerateArray().Count(f => f.GetProperty("ruleId").GetString() == "collect.target-failed"));
        Assert.Equal(0, json.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());
        Assert.DoesNotContain(File.ReadAllText(_clientKey).Split('\n')[1], result.Stdout);
    }

    [Fact]
    public void A_changed_host_key_leaves_every_rule_of_the_targets_platform_not_evaluated()
    {
        var otherFingerprint = Run("ssh-keygen", "-lf", _dir.File("other_ed25519.pub")).Split(' ')[1];
        var esxi = SshTarget("esx-changed", otherFingerprint, _clientKey).Replace("platform: libvirt", "platform: esxi", StringComparison.Ordinal);
        var result = Cli.ScanJson("--targets", _dir.Write("changed.yaml", "targets:\n" + SshTarget("kvm-changed", otherFingerprint, _clientKey) + esxi));
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        var t = Targets(json);
        Assert.StartsWith("authentication: host key", t["kvm-changed"].GetProperty("reason").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());

        var domainRules = LiveScanTests.RulesOver("libvirt-domain").Concat(LiveScanTests.RulesOver("libvirt-network")).Order(StringComparer.Ordinal).ToList();
        var kvm = LiveScanTests.NotEvaluatedOn(json, "live:kvm-changed");
        Assert.Equal(domainRules, kvm.Select(n => n.Rule));
        Assert.All(kvm, n => Assert.StartsWith("not collected: authentication: host key", n.Reason));

        // ESXi over SSH: whether collection is implemented (a changed host key) or not yet (not supported), the
        // host's rules are not-evaluated, never passed and never missing.
        var esxiRules = LiveScanTests.RulesOver("esxi-host");
        var esx = LiveScanTests.NotEvaluatedOn(json, "live:esx-changed");
        Assert.Superset(esxiRules.ToHashSet(), esx.Select(n => n.Rule).ToHashSet());
        Assert.Contains(esx, n => n.Rule == "esxi.patch.advisory-missing");
        Assert.All(esx, n => Assert.Equal(("host", "esx-changed"), (n.Type, n.Name)));
        Assert.All(esx, n => Assert.StartsWith("not collected: ", n.Reason));
        Assert.Equal(esx.Count, t["esx-changed"].GetProperty("rulesNotEvaluated").GetInt32());
    }
}
