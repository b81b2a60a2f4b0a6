using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary>
/// ssh targets of platform libvirt against a real OpenSSH server (<see cref="SshTestServer"/>) with a
/// <c>virsh</c> wrapper on its PATH that answers from libvirt's test driver. Needs openssh-server and
/// libvirt-clients (.ci/run installs both); a missing program fails the test with a clear message.
/// </summary>
[Collection("live")]
public sealed class LiveSshTests : IDisposable
{
    private readonly SshTestServer _server = new();

    public LiveSshTests()
    {
        Assert.True(File.Exists("/usr/bin/virsh"), "/usr/bin/virsh is missing: install the Debian package libvirt-clients (.ci/run does)");
        _server.Script("fakebin/virsh", $"#!/bin/sh\nexec /usr/bin/virsh -c 'test://{RepoPaths.Fixture("live", "node.xml")}' \"$@\"\n");
    }

    public void Dispose() => _server.Dispose();

    [Fact]
    public void Ssh_to_a_libvirt_host_gives_the_same_findings_as_the_libvirt_uri()
    {
        var viaSsh = Cli.ScanJson("--targets", _server.Dir.Write("ssh.yaml", "targets:\n" + _server.Target("lab", "libvirt")));
        var viaUri = Cli.ScanJson("--targets", _server.Dir.Write("uri.yaml", $"targets:\n  - name: lab\n    kind: libvirt\n    uri: test://{RepoPaths.Fixture("live", "node.xml")}\n"));
        Assert.True(viaSsh.ExitCode == 0, viaSsh.Stderr);
        using var ssh = viaSsh.Json();
        using var uri = viaUri.Json();
        var target = SshTestServer.Targets(ssh)["lab"];
        Assert.True(target.GetProperty("status").GetString() == "collected", target.ToString());
        Assert.Equal(7, target.GetProperty("resources").GetArrayLength());
        Assert.Contains(SshTestServer.Outcomes(uri), o => o.StartsWith("libvirt.domain.", StringComparison.Ordinal));
        Assert.Contains("libvirt.network.forward-route pacs-routed fail", SshTestServer.Outcomes(ssh));
        Assert.Contains(ssh.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray(),
            c => c.GetProperty("file").GetString() == "ssh://lab/net/pacs-routed.xml" && c.GetProperty("format").GetString() == "libvirt-network-xml");
        Assert.Equal(SshTestServer.Outcomes(uri), SshTestServer.Outcomes(ssh));
        Assert.Equal(uri.RootElement.GetProperty("summary").GetProperty("passed").GetInt32(), ssh.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());
        // Only the allow-listed virsh commands reached the server.
        Assert.All(_server.Commands(), c => Assert.Matches(@"^virsh (list --all --name|version|dumpxml --security-info '[A-Za-z0-9._-]+'|net-list --all --name|net-dumpxml --network '[A-Za-z0-9._-]+')$", c));
    }

    [Fact]
    public void A_changed_host_key_a_refused_key_and_a_closed_port_are_failed_targets_with_their_reasons()
    {
        var (result, owned) = _server.ScanFailureTargets("libvirt");
        using var json = owned;
        Assert.DoesNotContain(File.ReadAllText(_server.ClientKey).Split('\n')[1], result.Stdout);
        Assert.Empty(_server.Commands());
    }

    [Fact]
    public void A_changed_host_key_leaves_every_rule_of_the_targets_platform_not_evaluated()
    {
        var targets = _server.Target("kvm-changed", "libvirt", fingerprint: _server.OtherFingerprint)
                      + _server.Target("esx-changed", "esxi", fingerprint: _server.OtherFingerprint);
        var result = Cli.ScanJson("--targets", _server.Dir.Write("changed.yaml", "targets:\n" + targets));
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        var t = SshTestServer.Targets(json);
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
