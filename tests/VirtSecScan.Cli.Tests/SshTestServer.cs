using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary>
/// A real OpenSSH server on 127.0.0.1 (random port, throwaway host and client keys), started by a test and
/// stopped on dispose. Every command the server receives goes through a small ForceCommand script that appends
/// the exact command line to <see cref="CommandLog"/> and runs it with <c>/bin/sh -c</c>; paths under
/// <c>/etc/</c> and <c>/usr/lib/vmware/</c> in it are mapped into <see cref="FakeRoot"/>, so <c>cat
/// /etc/vmware/config</c> reads a fixture and a host's system programs can be faked without touching this
/// machine. Programs in <see cref="FakeBin"/> come first on the PATH. Needs openssh-server (.ci/run installs it).
/// </summary>
internal sealed class SshTestServer : IDisposable
{
    private readonly Process _sshd;

    public SshTestServer()
    {
        Assert.True(OperatingSystem.IsLinux(), "the SSH live tests need Linux (sshd)");
        Assert.True(File.Exists("/usr/sbin/sshd"), "/usr/sbin/sshd is missing: install the Debian package openssh-server (.ci/run does)");
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Dir.File("host_ed25519"));
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Dir.File("client_ed25519"));
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Dir.File("other_ed25519"));
        File.Copy(ClientKey + ".pub", Dir.File("authorized_keys"));
        Fingerprint = Run("ssh-keygen", "-lf", Dir.File("host_ed25519.pub")).Split(' ')[1];
        OtherFingerprint = Run("ssh-keygen", "-lf", Dir.File("other_ed25519.pub")).Split(' ')[1];
        Directory.CreateDirectory(FakeBin);
        Directory.CreateDirectory(FakeRoot);
        var serve = Script("serve-command", $"""
            #!/bin/sh
            printf '%s\n' "$SSH_ORIGINAL_COMMAND" >> '{CommandLog}'
            cmd=$(printf '%s' "$SSH_ORIGINAL_COMMAND" | sed -e 's#/etc/#{FakeRoot}/etc/#g' -e 's#/usr/lib/vmware/#{FakeRoot}/usr/lib/vmware/#g')
            exec /bin/sh -c "$cmd"

            """);
        Directory.CreateDirectory("/run/sshd");

        Port = FreePort();
        var config = Dir.Write("sshd_config", $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {Dir.File("host_ed25519")}
            PidFile {Dir.File("sshd.pid")}
            AuthorizedKeysFile {Dir.File("authorized_keys")}
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            SetEnv PATH={FakeBin}:/usr/local/bin:/usr/bin:/bin
            ForceCommand {serve}
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
                c.Connect(IPAddress.Loopback, Port);
                break;
            }
            catch (SocketException) when (ready.Elapsed < TimeSpan.FromSeconds(15) && !_sshd.HasExited)
            {
                Thread.Sleep(100);
            }
        }
    }

    public TempDir Dir { get; } = new();

    public int Port { get; }

    /// <summary>The server's host key fingerprint, as ssh-keygen -lf prints it.</summary>
    public string Fingerprint { get; }

    /// <summary>The fingerprint of a key the server does not have (a changed host key).</summary>
    public string OtherFingerprint { get; }

    /// <summary>The private key the server accepts.</summary>
    public string ClientKey => Dir.File("client_ed25519");

    /// <summary>A private key the server refuses.</summary>
    public string OtherKey => Dir.File("other_ed25519");

    public string FakeBin => Dir.File("fakebin");

    public string FakeRoot => Dir.File("root");

    public string CommandLog => Dir.File("commands.log");

    /// <summary>The commands the server received, in order.</summary>
    public List<string> Commands() => File.Exists(CommandLog) ? File.ReadAllLines(CommandLog).ToList() : [];

    /// <summary>Writes an executable script (relative to the server's folder).</summary>
    public string Script(string relative, string text)
    {
        var path = Dir.Write(relative, text);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the SSH test server needs Linux");
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    /// <summary>An ssh target for the targets file.</summary>
    public string Target(string name, string platform, string? fingerprint = null, string? key = null, int? port = null) =>
        $"  - name: {name}\n    kind: ssh\n    host: 127.0.0.1\n    port: {port ?? Port}\n    user: {Environment.UserName}\n" +
        $"    keyFile: {key ?? ClientKey}\n    hostKeyFingerprint: {fingerprint ?? Fingerprint}\n    platform: {platform}\n" +
        // Generous: on a loaded test machine each command's session start-up can take seconds.
        "    timeoutSeconds: 900\n    commandTimeoutSeconds: 120\n";

    /// <summary>The usual failure targets: changed host key, refused key, closed port, missing key file.</summary>
    public string FailureTargets(string platform) =>
        Target("changed-host-key", platform, fingerprint: OtherFingerprint)
        + Target("refused-key", platform, key: OtherKey)
        + Target("closed-port", platform, port: FreePort())
        + Target("no-key-file", platform, key: Dir.File("missing_key"));

    /// <summary>
    /// Scans <see cref="FailureTargets"/> of a platform and checks what every platform must give: each target failed
    /// with its reason, one failure finding each, nothing passed.
    /// </summary>
    public (CliResult Result, JsonDocument Json) ScanFailureTargets(string platform)
    {
        var result = Cli.ScanJson("--targets", Dir.Write($"bad-{platform}.yaml", "targets:\n" + FailureTargets(platform)));
        Assert.True(result.ExitCode == 0, result.Stderr);
        var json = result.Json();
        var t = SshTestServer.Targets(json);
        Assert.All(t.Values, x => Assert.Equal("failed", x.GetProperty("status").GetString()));
        Assert.StartsWith("authentication: host key", t["changed-host-key"].GetProperty("reason").GetString());
        Assert.StartsWith("authentication: the key was refused", t["refused-key"].GetProperty("reason").GetString());
        Assert.StartsWith("network:", t["closed-port"].GetProperty("reason").GetString());
        Assert.StartsWith("not-found:", t["no-key-file"].GetProperty("reason").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("findings").EnumerateArray().Count(f => f.GetProperty("ruleId").GetString() == "collect.target-failed"));
        Assert.Equal(0, json.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());
        return (result, json);
    }

    /// <summary>A port nothing listens on (taken and released at once).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public static string Run(string program, params string[] args)
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

    /// <summary>Rule id, resource name and status of every finding and not-evaluated entry, feed findings left out, sorted.</summary>
    public static List<string> Outcomes(JsonDocument json) => ReportOutcomes.Of(json, withCollection: true);

    /// <summary>The report's <c>scan.targets</c> by name.</summary>
    public static Dictionary<string, JsonElement> Targets(JsonDocument json) =>
        json.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.Clone());

    /// <summary>A target's resources: name → (status, reason).</summary>
    public static Dictionary<string, (string Status, string? Reason)> Resources(JsonElement target) =>
        target.GetProperty("resources").EnumerateArray().ToDictionary(
            r => r.GetProperty("name").GetString()!,
            r => (r.GetProperty("status").GetString()!, r.TryGetProperty("reason", out var x) && x.ValueKind == JsonValueKind.String ? x.GetString() : null));

    public void Dispose()
    {
        if (!_sshd.HasExited)
        {
            _sshd.Kill(entireProcessTree: true);
            _sshd.WaitForExit(5000);
        }

        _sshd.Dispose();
        Dir.Dispose();
    }
}
