using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using VirtSecScan.Testing;

namespace VirtSecScan.Cli.Tests;

/// <summary>
/// <c>scan --targets</c> with a <c>vsphere</c> target against a real SOAP endpoint: the vCenter/ESXi simulator
/// built from Debian's govmomi library by tests/tools/vcsimlite (CI installs golang-go and
/// golang-github-vmware-govmomi-dev). Credentials go through environment variables named per test.
/// </summary>
[Collection("live")]
public class LiveVsphereTests
{
    private const string Password = "Vc-Test-Pa55word!";
    private const string VncSecret = "Vnc-Secret-991";

    private static readonly object Seed = new Dictionary<string, object>
    {
        ["hosts"] = new Dictionary<string, object>
        {
            ["DC0_C0_H0"] = new Dictionary<string, object>
            {
                ["version"] = "8.0.3", ["build"] = "24022510",
                ["servicesRunning"] = new Dictionary<string, bool> { ["TSM-SSH"] = true },
                ["lockdownMode"] = "lockdownNormal",
            },
            ["DC0_C0_H1"] = new Dictionary<string, object> { ["version"] = "6.7.0", ["build"] = "8169922" },
        },
        ["vms"] = new Dictionary<string, object>
        {
            ["DC0_H0_VM0"] = new Dictionary<string, object>
            {
                ["extraConfig"] = new Dictionary<string, string>
                {
                    ["isolation.tools.copy.disable"] = "FALSE",
                    ["RemoteDisplay.vnc.enabled"] = "TRUE",
                    ["RemoteDisplay.vnc.password"] = VncSecret,
                },
            },
            ["DC0_H0_VM1"] = new Dictionary<string, object>
            {
                ["extraConfig"] = new Dictionary<string, string> { ["isolation.tools.copy.disable"] = "TRUE", ["RemoteDisplay.vnc.enabled"] = "FALSE" },
            },
        },
    };

    /// <summary>(rule, resource name, status) of every outcome but the scan's own (feed, collection) ones.</summary>
    private static List<string> Outcomes(JsonDocument json) => ReportOutcomes.Of(json);

    /// <summary>A targets file with one vsphere target whose credentials are in fresh environment variables.</summary>
    private static string Target(TempDir dir, Uri url, string? thumbprint, string user, string password, string extra = "")
    {
        var id = Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable($"VSS_TEST_USER_{id}", user);
        Environment.SetEnvironmentVariable($"VSS_TEST_PASS_{id}", password);
        return dir.Write($"targets-{id}.yaml",
            "targets:\n  - name: vc\n    kind: vsphere\n" +
            $"    url: {url}\n    usernameEnv: VSS_TEST_USER_{id}\n    passwordEnv: VSS_TEST_PASS_{id}\n" +
            (thumbprint is null ? "" : $"    thumbprint: \"{thumbprint}\"\n") + extra);
    }

    private static JsonElement OnlyTarget(JsonDocument json) =>
        Assert.Single(json.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray());

    private static IEnumerable<JsonElement> Findings(JsonDocument json, string rule) =>
        json.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("ruleId").GetString() == rule);

    [Fact]
    public void A_vcenter_scan_judges_seeded_hosts_and_vms_and_equals_a_scan_of_what_it_saved()
    {
        using var sim = Vcsim.Start(new VcsimOptions { Hosts = 2, Vms = 2, Username = "auditor@vsphere.local", Password = Password, Seed = Seed, VcVersion = "7.0.3", VcBuild = "22357613" });
        using var dir = new TempDir();
        var targets = Target(dir, sim.Url, sim.Sha256Thumbprint, "auditor@vsphere.local", Password);
        var saved = dir.File("saved");
        var log = dir.File("scan.log");

        var live = Cli.ScanJson("--targets", targets, "--save-collected", saved, "--log-file", log, "--log-level", "debug");
        Assert.True(live.ExitCode == 0, live.Stderr);
        using var liveJson = live.Json();

        var target = OnlyTarget(liveJson);
        Assert.Equal("collected", target.GetProperty("status").GetString());
        // ServiceContent, Login, CreateContainerView, RetrievePropertiesEx, DestroyView, Logout.
        Assert.Equal(6, target.GetProperty("roundTrips").GetInt32());
        var resources = target.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Contains("host/DC0_C0_H0", resources);
        Assert.Contains("vm/DC0_H0_VM0", resources);
        Assert.All(target.GetProperty("resources").EnumerateArray(), r => Assert.Equal("collected", r.GetProperty("status").GetString()));

        // Seeded extraConfig is judged per VM, with the VM's host from runtime.host.
        var vnc = Assert.Single(Findings(liveJson, "vmware.vm.vnc-console-enabled"));
        Assert.Equal("DC0_H0_VM0", vnc.GetProperty("resource").GetProperty("name").GetString());
        Assert.Equal("DC0_H0", vnc.GetProperty("resource").GetProperty("host").GetString());
        Assert.Equal("vsphere://vc/inventory.xml", vnc.GetProperty("resource").GetProperty("source").GetString());
        Assert.Single(Findings(liveJson, "vmware.vm.console-copy-disabled"), f => f.GetProperty("resource").GetProperty("name").GetString() == "DC0_H0_VM0");

        // Seeded services, lockdown mode and builds are judged per host.
        var ssh = Assert.Single(Findings(liveJson, "esxi.host.ssh-service"));
        Assert.Equal("DC0_C0_H0", ssh.GetProperty("resource").GetProperty("name").GetString());
        Assert.DoesNotContain(Findings(liveJson, "esxi.host.lockdown-mode"), f => f.GetProperty("resource").GetProperty("name").GetString() == "DC0_C0_H0");
        Assert.Contains(Findings(liveJson, "esxi.host.lockdown-mode"), f => f.GetProperty("resource").GetProperty("name").GetString() == "DC0_C0_H1");
        Assert.Contains(Findings(liveJson, "esxi.patch.end-of-support"), f => f.GetProperty("resource").GetProperty("name").GetString() == "DC0_C0_H1");
        Assert.DoesNotContain(Findings(liveJson, "esxi.patch.end-of-support"), f => f.GetProperty("resource").GetProperty("name").GetString() == "DC0_C0_H0");
        Assert.Contains(liveJson.RootElement.GetProperty("findings").EnumerateArray(),
            f => f.GetProperty("ruleId").GetString()!.StartsWith("vcenter.patch.", StringComparison.Ordinal));

        // What was saved scans to the same outcomes, offline.
        Assert.True(File.Exists(Path.Combine(saved, "vc", "inventory.xml")));
        Assert.True(File.Exists(Path.Combine(saved, "vc", "about.xml")));
        var offline = Cli.ScanJson(saved);
        Assert.True(offline.ExitCode == 0, offline.Stderr);
        using var offlineJson = offline.Json();
        var expected = Outcomes(offlineJson);
        Assert.Contains(expected, o => o.StartsWith("vmware.vm.", StringComparison.Ordinal) && o.EndsWith(" fail", StringComparison.Ordinal));
        Assert.Equal(expected, Outcomes(liveJson));

        // Neither the password nor a secret extraConfig value appears anywhere.
        foreach (var text in new[] { live.Stdout, live.Stderr, File.ReadAllText(log), offline.Stdout }
                     .Concat(Directory.EnumerateFiles(saved, "*", SearchOption.AllDirectories).Select(File.ReadAllText)))
        {
            Assert.DoesNotContain(Password, text);
            Assert.DoesNotContain(VncSecret, text);
        }
    }

    [Fact]
    public void A_standalone_esxi_host_is_read_through_its_own_api()
    {
        using var sim = Vcsim.Start(new VcsimOptions { Esx = true, Vms = 2, HostVersion = "6.7.0", HostBuild = "8169922", Username = "root", Password = Password });
        using var dir = new TempDir();
        var live = Cli.ScanJson("--targets", Target(dir, sim.Url, sim.Sha1Thumbprint, "root", Password));
        Assert.True(live.ExitCode == 0, live.Stderr);
        using var json = live.Json();
        Assert.Equal("collected", OnlyTarget(json).GetProperty("status").GetString());
        Assert.Contains(Findings(json, "esxi.patch.end-of-support"), f => f.GetProperty("resource").GetProperty("type").GetString() == "host");
        Assert.DoesNotContain(json.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("ruleId").GetString()!.StartsWith("vcenter.", StringComparison.Ordinal));
        Assert.Equal(2, json.RootElement.GetProperty("scan").GetProperty("resources").EnumerateArray().Count(r => r.GetProperty("type").GetString() == "vm"));
    }

    [Fact]
    public void A_wrong_password_is_a_failed_target_with_no_passes_and_no_password_in_the_output()
    {
        using var sim = Vcsim.Start(new VcsimOptions { Hosts = 1, Vms = 1, Username = "auditor", Password = Password });
        using var dir = new TempDir();
        const string wrong = "Not-The-Pa55word";
        var log = dir.File("scan.log");
        var result = Cli.ScanJson("--targets", Target(dir, sim.Url, sim.Sha256Thumbprint, "auditor", wrong), "--log-file", log, "--log-level", "debug");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();

        var target = OnlyTarget(json);
        Assert.Equal("failed", target.GetProperty("status").GetString());
        Assert.StartsWith("authentication:", target.GetProperty("reason").GetString());
        Assert.Contains("InvalidLogin", target.GetProperty("reason").GetString());
        Assert.Equal(2, target.GetProperty("roundTrips").GetInt32());
        var failed = Assert.Single(Findings(json, "collect.target-failed"));
        Assert.Equal("fail", failed.GetProperty("status").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());
        foreach (var text in new[] { result.Stdout, result.Stderr, File.ReadAllText(log) })
        {
            Assert.DoesNotContain(wrong, text);
            Assert.DoesNotContain(Password, text);
        }
    }

    [Fact]
    public void An_untrusted_or_mismatched_certificate_stops_before_login()
    {
        using var sim = Vcsim.Start(new VcsimOptions { Hosts = 1, Vms = 1, Username = "auditor", Password = Password });
        using var dir = new TempDir();

        var unpinned = Cli.ScanJson("--targets", Target(dir, sim.Url, null, "auditor", Password));
        using (var json = unpinned.Json())
        {
            var target = OnlyTarget(json);
            Assert.Equal("failed", target.GetProperty("status").GetString());
            Assert.StartsWith("authentication:", target.GetProperty("reason").GetString());
            Assert.Contains("not trusted", target.GetProperty("reason").GetString());
            Assert.Single(Findings(json, "collect.target-failed"));
        }

        var other = string.Join(':', Enumerable.Repeat("AB", 32));
        var mismatched = Cli.ScanJson("--targets", Target(dir, sim.Url, other, "auditor", Password));
        using (var json = mismatched.Json())
        {
            var target = OnlyTarget(json);
            Assert.Equal("failed", target.GetProperty("status").GetString());
            Assert.Contains("does not match the pinned thumbprint", target.GetProperty("reason").GetString());
            Assert.Contains(sim.Sha256Thumbprint, target.GetProperty("reason").GetString());
            Assert.Equal(1, target.GetProperty("roundTrips").GetInt32());
        }
    }

    [Fact]
    public void A_closed_port_is_a_network_failure()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var dir = new TempDir();
        var result = Cli.ScanJson("--targets", Target(dir, new Uri($"https://127.0.0.1:{port}/sdk"), null, "auditor", Password, "    commandTimeoutSeconds: 10\n"));
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        var target = OnlyTarget(json);
        Assert.Equal("failed", target.GetProperty("status").GetString());
        Assert.StartsWith("network:", target.GetProperty("reason").GetString());
        Assert.Contains("ConnectionRefused", target.GetProperty("reason").GetString());
        Assert.Single(Findings(json, "collect.target-failed"));
    }

    [Fact]
    public async Task A_server_that_never_answers_is_a_timeout_within_the_targets_time()
    {
        // Accepts connections and never says a word: the TLS handshake waits until the request timeout.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var held = new System.Collections.Concurrent.ConcurrentBag<TcpClient>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await listener.AcceptTcpClientAsync());
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // listener stopped
            }
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var dir = new TempDir();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = Cli.ScanJson("--targets", Target(dir, new Uri($"https://127.0.0.1:{port}/sdk"), null, "auditor", Password, "    timeoutSeconds: 20\n    commandTimeoutSeconds: 2\n"));
        clock.Stop();
        listener.Stop();
        await accepting.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var c in held)
        {
            c.Dispose();
        }
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        var target = OnlyTarget(json);
        Assert.Equal("failed", target.GetProperty("status").GetString());
        Assert.StartsWith("timeout:", target.GetProperty("reason").GetString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the scan took {clock.Elapsed}");
        Assert.Single(Findings(json, "collect.target-failed"));
        Assert.Contains(json.RootElement.GetProperty("notEvaluated").EnumerateArray(), f => f.GetProperty("ruleId").GetString()!.StartsWith("esxi.host.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_vm_read_from_the_api_gets_the_same_vm_findings_as_its_vmx_file()
    {
        using var dir = new TempDir();
        var api = dir.Write("api/retrieve-properties.xml", File.ReadAllText(RepoPaths.Fixture("collectors", "vsphere", "retrieve-properties.xml")));
        var vmx = dir.Write("vmx/pacs-viewer-01.vmx", File.ReadAllText(RepoPaths.Fixture("collectors", "vsphere", "pacs-viewer-01.vmx")));
        var fromApi = Cli.ScanJson(Path.GetDirectoryName(api)!);
        var fromVmx = Cli.ScanJson(Path.GetDirectoryName(vmx)!);
        Assert.True(fromApi.ExitCode is 0 or 2, fromApi.Stderr);
        Assert.True(fromVmx.ExitCode is 0 or 2, fromVmx.Stderr);
        using var apiJson = fromApi.Json();
        using var vmxJson = fromVmx.Json();
        List<string> VmOutcomes(JsonDocument json) => Outcomes(json).Where(o => o.StartsWith("vmware.vm.", StringComparison.Ordinal) && o.Contains(" pacs-viewer-01 ", StringComparison.Ordinal)).ToList();
        var expected = VmOutcomes(vmxJson);
        Assert.Contains(expected, o => o.EndsWith(" fail", StringComparison.Ordinal));
        Assert.Equal(expected, VmOutcomes(apiJson));
    }
}
