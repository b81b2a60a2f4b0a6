namespace VirtSecScan.Cli.Tests;

/// <summary>
/// ssh targets of platform proxmox against a real OpenSSH server whose fake <c>hostname</c>, <c>pveversion</c>,
/// <c>qm</c> and <c>pvesh</c>, and whose <c>/etc/pve/qemu-server/</c>, answer from fixtures/live/proxmox.
/// </summary>
[Collection("live")]
public sealed class LiveSshProxmoxTests : IDisposable
{
    private static readonly string Node = RepoPaths.Fixture("live", "proxmox", "pve-lab");
    private readonly SshTestServer _server = new();

    public LiveSshProxmoxTests()
    {
        _server.Script("fakebin/hostname", "#!/bin/sh\necho pve-lab.lab.example\n");
        _server.Script("fakebin/pveversion", $"#!/bin/sh\n[ \"$*\" = \"-v\" ] && exec cat '{Path.Combine(Node, "pveversion-v.txt")}'\nexit 1\n");
        WriteQm(RepoPaths.Fixture("live", "proxmox", "qm-list.txt"));
        _server.Script("fakebin/pvesh", """
            #!/bin/sh
            case "$*" in
              'get /nodes/pve-lab/qemu --output-format json') echo '[{"vmid":202,"name":"emr-report-01","status":"running"},{"vmid":201,"name":"portal-app-01","status":"running"}]' ;;
              *) echo "no such path: $*" >&2; exit 2 ;;
            esac

            """);
        _server.Dir.CopyTree(Path.Combine(Node, "qemu-server"), "root/etc/pve/qemu-server");
    }

    public void Dispose() => _server.Dispose();

    private void WriteQm(string list) =>
        _server.Script("fakebin/qm", $"""
            #!/bin/sh
            case "$*" in
              list) exec cat '{list}' ;;
              *) echo "400 unknown command 'qm $*'" >&2; exit 255 ;;
            esac

            """);

    private static readonly string[] Expected =
        ["hostname", "pveversion -v", "qm list", "cat /etc/pve/qemu-server/201.conf", "cat /etc/pve/qemu-server/202.conf"];

    [Fact]
    public void Ssh_to_a_proxmox_node_gives_the_same_findings_as_its_configuration_files()
    {
        var viaSsh = Cli.ScanJson("--targets", _server.Dir.Write("ssh.yaml", "targets:\n" + _server.Target("pve1", "proxmox")));
        var viaFiles = Cli.ScanJson(Node);
        using var ssh = viaSsh.Json();
        using var files = viaFiles.Json();
        var target = SshTestServer.Targets(ssh)["pve1"];
        Assert.True(target.GetProperty("status").GetString() == "collected", target.ToString());
        Assert.Equal(["201", "202", "pveversion-v"], SshTestServer.Resources(target).Keys.Order(StringComparer.Ordinal));

        var fromFiles = SshTestServer.Outcomes(files);
        // The snapshot with RAM state is only in the configuration file, not in qm config: it must be seen live too.
        Assert.Contains("proxmox.snapshot.ram-state portal-app-01@pre-release fail", fromFiles);
        Assert.Contains(fromFiles, o => o.StartsWith("proxmox.vm.", StringComparison.Ordinal) && o.Contains(" emr-report-01 ", StringComparison.Ordinal));
        Assert.Equal(fromFiles, SshTestServer.Outcomes(ssh));
        var ids = ssh.RootElement.GetProperty("scan").GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Contains("proxmox:pve-lab/201", ids);
        Assert.Contains("proxmox:pve-lab/202", ids);
        Assert.Equal(Expected.Order(StringComparer.Ordinal), _server.Commands().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Without_qm_the_pvesh_listing_is_used_and_an_unreadable_vm_is_a_failed_resource()
    {
        // qm is missing (exit 127) and 202.conf cannot be read: 201 is read, 202 fails with both its commands.
        File.Delete(Path.Combine(_server.FakeBin, "qm"));
        File.Delete(Path.Combine(_server.FakeRoot, "etc", "pve", "qemu-server", "202.conf"));
        var result = Cli.ScanJson("--targets", _server.Dir.Write("ssh.yaml", "targets:\n" + _server.Target("pve1", "proxmox")));
        using var json = result.Json();
        var target = SshTestServer.Targets(json)["pve1"];
        Assert.Equal("partial", target.GetProperty("status").GetString());
        var resources = SshTestServer.Resources(target);
        Assert.Equal("collected", resources["201"].Status);
        Assert.Equal("failed", resources["202"].Status);
        Assert.StartsWith("not-found: 'qm config 202': the command is not installed", resources["202"].Reason);
        Assert.Contains("cat /etc/pve/qemu-server/202.conf", resources["202"].Reason);
        Assert.Contains(json.RootElement.GetProperty("findings").EnumerateArray(),
            f => f.GetProperty("ruleId").GetString() == "collect.resource-failed" && f.GetProperty("title").GetString()!.StartsWith("202 on target pve1", StringComparison.Ordinal));
        Assert.Equal(
            ["hostname", "pveversion -v", "qm list", "pvesh get /nodes/pve-lab/qemu --output-format json", "cat /etc/pve/qemu-server/201.conf",
             "cat /etc/pve/qemu-server/202.conf", "qm config 202"],
            _server.Commands().Take(4).Concat(_server.Commands().Skip(4).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void A_vm_listing_row_that_is_not_a_vm_id_is_never_sent_and_is_a_failed_resource()
    {
        var list = File.ReadAllText(RepoPaths.Fixture("live", "proxmox", "qm-list.txt"))
                   + "  203;reboot x                  stopped    1024               8.00 0         \n";
        WriteQm(_server.Dir.Write("qm-list.txt", list));
        var result = Cli.ScanJson("--targets", _server.Dir.Write("ssh.yaml", "targets:\n" + _server.Target("pve1", "proxmox")));
        using var json = result.Json();
        var target = SshTestServer.Targets(json)["pve1"];
        Assert.Equal("partial", target.GetProperty("status").GetString());
        var failed = SshTestServer.Resources(target).Where(r => r.Value.Status == "failed").ToList();
        Assert.Equal("203;reboot", Assert.Single(failed).Key);
        Assert.Equal(Expected.Order(StringComparer.Ordinal), _server.Commands().Order(StringComparer.Ordinal));
    }
}
