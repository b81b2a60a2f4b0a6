using System.Text;
using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary>
/// ssh targets of platform esxi against a real OpenSSH server whose fake <c>esxcli</c>, <c>vim-cmd</c>, <c>vmware</c>,
/// <c>secureBoot.py</c> and <c>/etc/vmware/config</c> print the recorded outputs of fixtures/live/esxi/esx-lab.
/// Each esxcli/vim-cmd fixture starts with its command line; the fakes answer exactly those arguments and fail
/// like a real host for anything else (esxcli: "Unknown command or namespace", exit 1).
/// </summary>
[Collection("live")]
public sealed class LiveSshEsxiTests : IDisposable
{
    private static readonly string Fixtures = RepoPaths.Fixture("live", "esxi", "esx-lab");
    private readonly SshTestServer _server = new();

    public LiveSshEsxiTests()
    {
        WriteCommandFakes(_server, _ => true);
        _server.Script("fakebin/vmware", $"#!/bin/sh\n[ \"$*\" = \"-vl\" ] && exec cat '{Path.Combine(Fixtures, "vmware-vl.txt")}'\necho \"usage: vmware -v | -l\" >&2\nexit 1\n");
        _server.Script("root/usr/lib/vmware/secureboot/bin/secureBoot.py",
            $"#!/bin/sh\n[ \"$*\" = \"-s\" ] && exec sed 1d '{Path.Combine(Fixtures, "secureboot-status.txt")}'\nexit 1\n");
        _server.Dir.Copy(Path.Combine(Fixtures, "etc-vmware-config"), "root/etc/vmware/config");
    }

    public void Dispose() => _server.Dispose();

    /// <summary>The recorded outputs with their command line: (command, fixture file).</summary>
    private static List<(string Command, string File)> Recorded() =>
        Directory.GetFiles(Fixtures).Order(StringComparer.Ordinal)
            .Select(f => (Command: File.ReadLines(f).First(), File: f))
            .Where(x => x.Command.StartsWith("esxcli ", StringComparison.Ordinal) || x.Command.StartsWith("vim-cmd ", StringComparison.Ordinal)
                        || x.Command.StartsWith("/usr/lib/vmware/", StringComparison.Ordinal))
            .ToList();

    /// <summary>Every command a scan of the fixture host must send, each once.</summary>
    private static List<string> Expected() =>
        [.. Recorded().Select(r => r.Command), "vmware -vl", "cat /etc/vmware/config"];

    /// <summary>The fake esxcli and vim-cmd, answering the recorded commands <paramref name="keep"/> keeps (vim-cmd only when it keeps "vim-cmd").</summary>
    private static void WriteCommandFakes(SshTestServer server, Func<string, bool> keep, string extraEsxcliArms = "")
    {
        string Case(string program)
        {
            var arms = new StringBuilder();
            foreach (var (command, file) in Recorded().Where(r => r.Command.StartsWith(program + " ", StringComparison.Ordinal) && keep(r.Command)))
            {
                // The shell has removed the quotes around a name by the time "$*" is built.
                var args = command[(program.Length + 1)..].Replace("'", "", StringComparison.Ordinal);
                arms.Append("  '" + args + "') exec sed 1d '" + file + "' ;;\n");
            }

            return arms.ToString();
        }

        server.Script("fakebin/esxcli", "#!/bin/sh\ncase \"$*\" in\n" + Case("esxcli") + extraEsxcliArms
            + "  *) echo \"Error: Unknown command or namespace $*\" >&2; exit 1 ;;\nesac\n");
        if (keep("vim-cmd"))
        {
            server.Script("fakebin/vim-cmd", "#!/bin/sh\ncase \"$*\" in\n" + Case("vim-cmd") + "  *) echo \"Unknown command\" >&2; exit 1 ;;\nesac\n");
        }
        else
        {
            File.Delete(Path.Combine(server.FakeBin, "vim-cmd"));
        }
    }

    [Fact]
    public void Ssh_to_an_esxi_host_gives_the_same_findings_as_its_saved_outputs_and_runs_only_the_allow_listed_commands()
    {
        var viaSsh = Cli.ScanJson("--targets", _server.Dir.Write("ssh.yaml", "targets:\n" + _server.Target("esx-lab", "esxi")));
        var viaFiles = Cli.ScanJson(Fixtures);
        Assert.True(viaSsh.ExitCode is 0 or 1, viaSsh.Stderr);
        using var ssh = viaSsh.Json();
        using var files = viaFiles.Json();

        var target = SshTestServer.Targets(ssh)["esx-lab"];
        Assert.True(target.GetProperty("status").GetString() == "collected", target.ToString());
        var resources = SshTestServer.Resources(target);
        Assert.Equal(Expected().Count, resources.Count);
        Assert.All(resources.Values, r => Assert.Equal("collected", r.Status));

        // Same rule, resource and status for every check: one host, named after the target like the saved folder.
        var fromFiles = SshTestServer.Outcomes(files);
        Assert.Contains(fromFiles, o => o.StartsWith("esxi.host.", StringComparison.Ordinal) && o.EndsWith(" esx-lab fail", StringComparison.Ordinal));
        Assert.Contains("esxi.host.promiscuous-mode esx-lab fail", fromFiles);
        Assert.Equal(fromFiles, SshTestServer.Outcomes(ssh));
        Assert.Equal(files.RootElement.GetProperty("summary").GetProperty("passed").GetInt32(), ssh.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());
        Assert.Equal(["esx-lab"], ssh.RootElement.GetProperty("scan").GetProperty("resources").EnumerateArray()
            .Where(r => r.GetProperty("type").GetString() == "host").Select(r => r.GetProperty("name").GetString()).Distinct());

        // The server saw exactly the expected commands, each once (no fallback was needed).
        var seen = _server.Commands();
        Assert.Equal(Expected().Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_command_the_host_lacks_is_a_failed_resource_and_the_target_is_partial()
    {
        // This host has no vim-cmd (exit 127) and an esxcli without the tls namespace (exit 1, as ESXi 7.0).
        WriteCommandFakes(_server, c => c != "vim-cmd" && !c.Contains("tls server", StringComparison.Ordinal));
        var result = Cli.ScanJson("--targets", _server.Dir.Write("ssh.yaml", "targets:\n" + _server.Target("esx-lab", "esxi")));
        using var json = result.Json();
        var target = SshTestServer.Targets(json)["esx-lab"];
        Assert.Equal("partial", target.GetProperty("status").GetString());
        Assert.StartsWith("2 of ", target.GetProperty("reason").GetString());
        var resources = SshTestServer.Resources(target);
        Assert.Equal("failed", resources["vim-cmd-lockdown-is-enabled"].Status);
        Assert.StartsWith("not-found: 'vim-cmd -U dcui vimsvc/auth/lockdown_is_enabled': the command is not installed", resources["vim-cmd-lockdown-is-enabled"].Reason);
        Assert.Equal("failed", resources["esxcli-system-tls-server-get"].Status);
        Assert.StartsWith("not-found: 'esxcli system tls server get': the host's esxcli has no such command", resources["esxcli-system-tls-server-get"].Reason);

        var findings = json.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(2, findings.Count(f => f.GetProperty("ruleId").GetString() == "collect.resource-failed" && f.GetProperty("status").GetString() == "fail"));
        // The rules those outputs feed are not passed.
        var notEvaluated = json.RootElement.GetProperty("notEvaluated").EnumerateArray().Select(f => f.GetProperty("ruleId").GetString()).ToList();
        Assert.Contains("esxi.host.tls-profile", notEvaluated);
        Assert.DoesNotContain(findings, f => f.GetProperty("ruleId").GetString() is "esxi.host.tls-profile" or "esxi.host.lockdown-mode" && f.GetProperty("status").GetString() == "pass");
    }

    [Fact]
    public void On_an_older_host_the_fallback_commands_are_used_and_said_so()
    {
        // No vmware program and no "esxcli system ssh server config list" (7.0): esxcli system version get and sshd -T answer.
        File.Delete(Path.Combine(_server.FakeBin, "vmware"));
        var version = _server.Dir.Write("esxcli-system-version-get.txt", "   Product: VMware ESXi\n   Version: 8.0.3\n   Build: Releasebuild-24784735\n   Update: 3\n");
        WriteCommandFakes(_server, c => !c.Contains("ssh server config list", StringComparison.Ordinal),
            "  'system version get') exec cat '" + version + "' ;;\n");
        _server.Script("root/usr/lib/vmware/openssh/bin/sshd",
            $"#!/bin/sh\n[ \"$*\" = \"-T\" ] && exec cat '{RepoPaths.Fixture("collectors", "esxi-host", "sshd-T-7.0.txt")}'\nexit 1\n");

        var result = Cli.ScanJson("--targets", _server.Dir.Write("ssh.yaml", "targets:\n" + _server.Target("esx-lab", "esxi")));
        using var json = result.Json();
        var target = SshTestServer.Targets(json)["esx-lab"];
        Assert.True(target.GetProperty("status").GetString() == "collected", target.ToString());
        var resources = SshTestServer.Resources(target);
        Assert.Equal(("collected", "collected with 'esxcli system version get'"), resources["vmware-vl"]);
        Assert.Equal(("collected", "collected with '/usr/lib/vmware/openssh/bin/sshd -T'"), resources["esxcli-system-ssh-server-config-list"]);
        var commands = _server.Commands();
        Assert.Contains("vmware -vl", commands);
        Assert.Contains("esxcli system version get", commands);
        Assert.Contains("/usr/lib/vmware/openssh/bin/sshd -T", commands);
        // The version and the sshd -T settings reached the rules: the build is judged, and TCP forwarding ("no" in
        // sshd -T, "yes" in the 8.0 list the fake no longer answers) now passes instead of failing.
        var outcomes = SshTestServer.Outcomes(json);
        Assert.Contains("esxi.patch.advisory-missing esx-lab fail", outcomes);
        Assert.DoesNotContain(outcomes, o => o.StartsWith("esxi.host.ssh-tcp-forwarding ", StringComparison.Ordinal));
        Assert.DoesNotContain(outcomes, o => o.StartsWith("esxi.host.ssh-ignore-rhosts ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_port_group_name_with_shell_characters_is_never_sent_and_is_a_failed_resource()
    {
        var evil = "PG';touch x;'";
        var list = File.ReadAllLines(Path.Combine(Fixtures, "esxcli-network-vswitch-standard-portgroup-list.txt")).ToList();
        list.Add(evil.PadRight(20) + "vSwitch0                     0      300");
        var file = _server.Dir.Write("evil-portgroup-list.txt", string.Join('\n', list) + "\n");
        var esxcli = File.ReadAllText(Path.Combine(_server.FakeBin, "esxcli"))
            .Replace(Path.Combine(Fixtures, "esxcli-network-vswitch-standard-portgroup-list.txt"), file, StringComparison.Ordinal);
        _server.Script("fakebin/esxcli", esxcli);

        var result = Cli.ScanJson("--targets", _server.Dir.Write("ssh.yaml", "targets:\n" + _server.Target("esx-lab", "esxi")));
        using var json = result.Json();
        var target = SshTestServer.Targets(json)["esx-lab"];
        Assert.Equal("partial", target.GetProperty("status").GetString());
        var failed = SshTestServer.Resources(target).Where(r => r.Value.Status == "failed").ToList();
        Assert.Single(failed);
        Assert.StartsWith("esxcli-network-vswitch-standard-portgroup-policy-security-get-PG", failed[0].Key);
        Assert.StartsWith("error: the name has characters", failed[0].Value.Reason);
        Assert.DoesNotContain(_server.Commands(), c => c.Contains("touch", StringComparison.Ordinal));
        Assert.Equal(Expected().Order(StringComparer.Ordinal), _server.Commands().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_changed_host_key_a_refused_key_and_a_closed_port_fail_an_esxi_target_and_run_nothing()
    {
        var (result, owned) = _server.ScanFailureTargets("esxi");
        using var json = owned;
        Assert.DoesNotContain(json.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("ruleId").GetString()!.StartsWith("esxi.", StringComparison.Ordinal));
        Assert.Empty(_server.Commands());
    }
}
