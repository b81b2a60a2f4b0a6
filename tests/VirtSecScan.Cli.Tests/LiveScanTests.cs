using System.Diagnostics;
using System.Text.Json;

namespace VirtSecScan.Cli.Tests;

/// <summary>
/// <c>scan --targets</c> against the real <c>virsh</c> and libvirt's test driver (no daemon; CI installs
/// libvirt-clients). A missing virsh fails these tests with a clear message; nothing is skipped.
/// </summary>
[Collection("live")]
public class LiveScanTests
{
    private static readonly string Node = RepoPaths.Fixture("live", "node.xml");

    private static string Uri(string node) => "test://" + Path.GetFullPath(node);

    private static void RequireVirsh()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("virsh", "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit(10_000);
            Assert.True(p.ExitCode == 0, "virsh --version failed");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("virsh is not installed: install the Debian package libvirt-clients (.ci/run does)");
        }
    }

    private static string Virsh(params string[] args) => SshTestServer.Run("virsh", args);

    /// <summary>(rule, resource name, status) of every outcome but the scan's own (feed, collection) ones.</summary>
    private static List<string> Outcomes(JsonDocument json) => ReportOutcomes.Of(json);

    private static string Targets(TempDir dir, string body) => dir.Write("targets.yaml", "targets:\n" + body);

    /// <summary>The rule catalogue's rules over libvirt domains for a profile, from <c>rules list</c>.</summary>
    internal static List<string> RulesOver(string appliesTo, string profile = "stig-8")
    {
        var list = Cli.Run("rules", "list", "--format", "json", "--profile", profile);
        Assert.True(list.ExitCode == 0, list.Stderr);
        using var json = list.Json();
        var ids = json.RootElement.EnumerateArray().Where(r => r.GetProperty("appliesTo").GetString() == appliesTo)
            .Select(r => r.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(ids);
        return ids;
    }

    /// <summary>The not-evaluated entries of a report whose resource id is <paramref name="resourceId"/>: rule id and reason.</summary>
    internal static List<(string Rule, string Reason, string Type, string Name)> NotEvaluatedOn(JsonDocument json, string resourceId) =>
        json.RootElement.GetProperty("notEvaluated").EnumerateArray()
            .Where(f => f.GetProperty("resource").GetProperty("id").GetString() == resourceId)
            .Select(f => (f.GetProperty("ruleId").GetString()!, f.GetProperty("reason").GetString()!,
                f.GetProperty("resource").GetProperty("type").GetString()!, f.GetProperty("resource").GetProperty("name").GetString()!))
            .OrderBy(f => f.Item1, StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void Scanning_the_test_driver_gives_the_same_findings_as_scanning_its_dumped_files()
    {
        RequireVirsh();
        using var dir = new TempDir();
        var uri = Uri(Node);
        var names = Virsh("-c", uri, "list", "--all", "--name").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(4, names.Length);
        foreach (var name in names)
        {
            dir.Write($"dump/lab/{name}.xml", Virsh("-c", uri, "dumpxml", "--security-info", name));
        }

        dir.Write("dump/lab/version.txt", Virsh("-c", uri, "version"));
        var networks = Virsh("-c", uri, "net-list", "--all", "--name").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["default", "pacs-routed"], networks.Order(StringComparer.Ordinal));
        foreach (var network in networks)
        {
            dir.Write($"dump/lab/net/{network}.xml", Virsh("-c", uri, "net-dumpxml", network));
        }

        var targets = Targets(dir, $"  - name: lab\n    kind: libvirt\n    uri: {uri}\n");

        var live = Cli.ScanJson("--targets", targets);
        var files = Cli.ScanJson(dir.File("dump"));
        Assert.True(live.ExitCode == 0, live.Stderr);
        Assert.True(files.ExitCode == 0, files.Stderr);
        using var liveJson = live.Json();
        using var filesJson = files.Json();

        var expected = Outcomes(filesJson);
        Assert.Contains(expected, o => o.StartsWith("libvirt.domain.", StringComparison.Ordinal) && o.EndsWith(" fail", StringComparison.Ordinal));
        Assert.Contains("libvirt.network.forward-route pacs-routed fail", expected);
        Assert.DoesNotContain("libvirt.network.forward-route default fail", expected);
        Assert.Equal(expected, Outcomes(liveJson));
        var viaFilesTarget = Cli.ScanJson("--targets", dir.Write("files.yaml", "targets:\n  - name: exports\n    kind: files\n    path: dump\n"));
        Assert.True(viaFilesTarget.ExitCode == 0, viaFilesTarget.Stderr);
        using (var filesTargetJson = viaFilesTarget.Json())
        {
            Assert.Equal(expected, Outcomes(filesTargetJson));
            var exports = Assert.Single(filesTargetJson.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray());
            Assert.Equal("collected", exports.GetProperty("status").GetString());
            Assert.Equal(7, exports.GetProperty("resources").GetArrayLength());
        }

        Assert.Equal(filesJson.RootElement.GetProperty("summary").GetProperty("passed").GetInt32(),
            liveJson.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());

        var target = Assert.Single(liveJson.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray());
        Assert.Equal("lab", target.GetProperty("name").GetString());
        Assert.Equal("libvirt", target.GetProperty("kind").GetString());
        Assert.Equal("collected", target.GetProperty("status").GetString());
        Assert.True(target.GetProperty("durationMs").GetInt64() >= 0);
        Assert.Equal(["app-vnc-locked", "db-spice-open", "legacy-vnc-weakpw", "net/default", "net/pacs-routed", "version", "web-vnc-open"],
            target.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.Contains(liveJson.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray(),
            c => c.GetProperty("file").GetString() == "libvirt://lab/web-vnc-open.xml" && c.GetProperty("format").GetString() == "libvirt-domain-xml");
        Assert.Contains(liveJson.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray(),
            c => c.GetProperty("file").GetString() == "libvirt://lab/net/pacs-routed.xml" && c.GetProperty("format").GetString() == "libvirt-network-xml");
    }

    [Fact]
    public void A_failing_net_list_or_net_dumpxml_is_a_failed_resource_and_the_domains_still_count()
    {
        RequireVirsh();
        using var dir = new TempDir();
        var listFails = dir.Write("virsh-no-net-list", "#!/bin/sh\ncase \"$*\" in\n" +
            "  *net-list*) echo 'error: this function is not supported by the connection driver: virConnectNumOfNetworks' >&2; exit 1 ;;\n" +
            "esac\nexec virsh \"$@\"\n");
        var dumpFails = dir.Write("virsh-no-net-dumpxml", "#!/bin/sh\ncase \"$*\" in\n" +
            "  *net-dumpxml*pacs-routed*) echo \"error: failed to get network 'pacs-routed'\" >&2; exit 1 ;;\n" +
            "esac\nexec virsh \"$@\"\n");
        foreach (var script in new[] { listFails, dumpFails })
        {
            using var chmod = Process.Start("chmod", ["755", script]);
            chmod.WaitForExit();
        }

        var targets = Targets(dir, $"  - name: lab\n    kind: libvirt\n    uri: {Uri(Node)}\n");
        var plain = Cli.ScanJson("--targets", targets);
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        using var plainJson = plain.Json();
        var domainOutcomes = Outcomes(plainJson).Where(o => o.StartsWith("libvirt.domain.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(domainOutcomes);

        foreach (var (wrapper, failedResource, reason, defaultCollected) in new[]
                 {
                     (listFails, "networks", "error:", false),
                     (dumpFails, "net/pacs-routed", "not-found:", true),
                 })
        {
            Environment.SetEnvironmentVariable("VIRTSECSCAN_VIRSH", wrapper);
            CliResult result;
            try
            {
                result = Cli.ScanJson("--targets", targets);
            }
            finally
            {
                Environment.SetEnvironmentVariable("VIRTSECSCAN_VIRSH", null);
            }

            Assert.True(result.ExitCode == 0, result.Stderr);
            using var json = result.Json();
            var target = Assert.Single(json.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray());
            Assert.Equal("partial", target.GetProperty("status").GetString());
            var resources = target.GetProperty("resources").EnumerateArray()
                .ToDictionary(r => r.GetProperty("name").GetString()!, r => (r.GetProperty("status").GetString(), r.GetProperty("reason").GetString()));
            Assert.Equal("failed", resources[failedResource].Item1);
            Assert.StartsWith(reason, resources[failedResource].Item2);
            Assert.Equal(1, resources.Values.Count(r => r.Item1 == "failed"));
            Assert.Equal("collected", resources["web-vnc-open"].Item1);
            var failedFinding = Assert.Single(json.RootElement.GetProperty("findings").EnumerateArray(),
                f => f.GetProperty("ruleId").GetString() == "collect.resource-failed");
            Assert.StartsWith(failedResource + " on target lab", failedFinding.GetProperty("title").GetString());
            var outcomes = Outcomes(json);
            Assert.Equal(domainOutcomes, outcomes.Where(o => o.StartsWith("libvirt.domain.", StringComparison.Ordinal)));
            Assert.DoesNotContain(outcomes, o => o.Contains(" pacs-routed ", StringComparison.Ordinal));
            Assert.Equal(defaultCollected, json.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray()
                .Any(c => c.GetProperty("file").GetString() == "libvirt://lab/net/default.xml" && c.GetProperty("format").GetString() == "libvirt-network-xml"));
            Assert.Equal(defaultCollected ? "collected" : null, resources.TryGetValue("net/default", out var d) ? d.Item1 : null);
        }
    }

    [Fact]
    public void An_unreachable_uri_is_a_failed_target_finding_with_no_passes()
    {
        RequireVirsh();
        using var dir = new TempDir();
        var targets = Targets(dir, "  - name: kvm-down\n    kind: libvirt\n    uri: qemu+tcp://127.0.0.1:1/system\n    commandTimeoutSeconds: 20\n");

        var result = Cli.ScanJson("--targets", targets);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        var finding = Assert.Single(json.RootElement.GetProperty("findings").EnumerateArray(),
            f => f.GetProperty("ruleId").GetString() == "collect.target-failed");
        Assert.Equal("kvm-down", finding.GetProperty("resource").GetProperty("name").GetString());
        Assert.Equal("fail", finding.GetProperty("status").GetString());
        Assert.Equal("medium", finding.GetProperty("severity").GetString());
        Assert.Equal("VT04", finding.GetProperty("category").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());
        Assert.Empty(json.RootElement.GetProperty("scan").GetProperty("resources").EnumerateArray());

        var target = Assert.Single(json.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray());
        Assert.Equal("failed", target.GetProperty("status").GetString());
        Assert.StartsWith("network:", target.GetProperty("reason").GetString());
        Assert.Contains("Connection refused", target.GetProperty("reason").GetString());

        // Every rule over libvirt domains is not-evaluated for the target, none passed (issue 7: a failed login or
        // timeout leaves the rules it would have fed not-evaluated).
        var domainRules = RulesOver("libvirt-domain").Concat(RulesOver("libvirt-network")).Order(StringComparer.Ordinal).ToList();
        var notEvaluated = NotEvaluatedOn(json, "live:kvm-down");
        Assert.Equal(domainRules, notEvaluated.Select(n => n.Rule));
        Assert.All(notEvaluated, n => Assert.Equal(("target", "kvm-down"), (n.Type, n.Name)));
        Assert.All(notEvaluated, n => Assert.StartsWith("not collected: network: 'list --all --name' failed:", n.Reason));
        Assert.Equal(domainRules.Count, target.GetProperty("rulesNotEvaluated").GetInt32());
        Assert.Equal(json.RootElement.GetProperty("notEvaluated").GetArrayLength(), json.RootElement.GetProperty("summary").GetProperty("notEvaluated").GetInt32());

        // The table sums them up per target instead of listing 25 lines; not-evaluated alone never trips --fail-on
        // (high rules are among them; only the medium collection finding fails).
        using (var catalogue = Cli.Run("rules", "list", "--format", "json", "--profile", "stig-8").Json())
        {
            Assert.Contains(catalogue.RootElement.EnumerateArray(), r => r.GetProperty("appliesTo").GetString() == "libvirt-domain" && r.GetProperty("severity").GetString() == "high");
        }

        var table = Cli.Run("scan", "--targets", targets, "--format", "table", "--no-progress", "--fail-on", "high");
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains($"{domainRules.Count} checks ({domainRules.Count} rules, 1 resource) on target kvm-down: not collected: network:", table.Stdout.ReplaceLineEndings(" "));
        Assert.DoesNotContain(domainRules[0] + " on kvm-down", table.Stdout);
    }

    [Fact]
    public void A_bad_node_file_and_a_missing_folder_are_not_found_failures_next_to_a_good_target_and_paths()
    {
        RequireVirsh();
        using var dir = new TempDir();
        var extra = dir.Write("extra/app.xml", Virsh("-c", Uri(Node), "dumpxml", "app-vnc-locked"));
        var targets = Targets(dir,
            $"  - name: gone\n    kind: libvirt\n    uri: test://{dir.File("no-such-node.xml")}\n" +
            "  - name: exports\n    kind: files\n    path: no-such-folder\n" +
            $"  - name: lab\n    kind: libvirt\n    uri: {Uri(Node)}\n");
        var result = Cli.ScanJson(extra, "--targets", targets);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        Assert.Contains(json.RootElement.GetProperty("scan").GetProperty("collected").EnumerateArray(),
            c => c.GetProperty("file").GetString() == extra.Replace('\\', '/'));
        var statuses = json.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => (t.GetProperty("status").GetString(), t.GetProperty("reason").GetString()));
        Assert.Equal("failed", statuses["gone"].Item1);
        Assert.StartsWith("not-found:", statuses["gone"].Item2);
        Assert.Equal("failed", statuses["exports"].Item1);
        Assert.StartsWith("not-found:", statuses["exports"].Item2);
        Assert.Equal("collected", statuses["lab"].Item1);
        Assert.Equal(["exports", "gone"], json.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("ruleId").GetString() == "collect.target-failed")
            .Select(f => f.GetProperty("resource").GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.True(json.RootElement.GetProperty("summary").GetProperty("passed").GetInt32() > 0);

        // A files target has no known kinds of content: its failure finding stands alone. The libvirt target that
        // failed has its domain rules not-evaluated; the collected one none.
        Assert.Empty(NotEvaluatedOn(json, "live:exports"));
        Assert.Equal(RulesOver("libvirt-domain").Concat(RulesOver("libvirt-network")).Order(StringComparer.Ordinal), NotEvaluatedOn(json, "live:gone").Select(n => n.Rule));
        Assert.DoesNotContain(json.RootElement.GetProperty("notEvaluated").EnumerateArray(),
            f => f.GetProperty("resource").GetProperty("id").GetString()!.StartsWith("live:lab", StringComparison.Ordinal));
    }

    [Fact]
    public void A_vsphere_target_without_its_credentials_fails_and_feeds_no_pass()
    {
        using var dir = new TempDir();
        var targets = Targets(dir,
            "  - name: vc\n    kind: vsphere\n    url: https://127.0.0.1:1/sdk\n    usernameEnv: VSS_TEST_USER_UNSET\n    passwordEnv: VSS_TEST_PASS_UNSET\n");
        var result = Cli.ScanJson("--targets", targets);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        var target = Assert.Single(json.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray());
        Assert.Equal("failed", target.GetProperty("status").GetString());
        Assert.Equal("authentication: the environment variable VSS_TEST_USER_UNSET (the user name) is not set", target.GetProperty("reason").GetString());
        Assert.Single(json.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("ruleId").GetString() == "collect.target-failed");
        Assert.Contains(json.RootElement.GetProperty("notEvaluated").EnumerateArray(), f => f.GetProperty("ruleId").GetString()!.StartsWith("vmware.vm.", StringComparison.Ordinal));
        Assert.Equal(0, json.RootElement.GetProperty("summary").GetProperty("passed").GetInt32());
    }

    [Fact]
    public void A_credential_never_appears_in_any_output_or_log()
    {
        RequireVirsh();
        using var dir = new TempDir();
        var secret = "vss-" + Guid.NewGuid().ToString("N");
        // The secret is a VNC password in the node file (virsh prints it with --security-info) and a vSphere password.
        var node = File.ReadAllText(Node).Replace("passwd='1234'", $"passwd='{secret}'", StringComparison.Ordinal);
        Assert.Contains(secret, node);
        var nodeFile = dir.Write("node.xml", node);
        Assert.Contains(secret, Virsh("-c", Uri(nodeFile), "dumpxml", "--security-info", "legacy-vnc-weakpw"));
        var targets = Targets(dir,
            $"  - name: lab\n    kind: libvirt\n    uri: {Uri(nodeFile)}\n" +
            "  - name: vc\n    kind: vsphere\n    url: https://127.0.0.1:1/sdk\n    usernameEnv: VSS_LIVE_TEST_USER\n    passwordEnv: VSS_LIVE_TEST_PASS\n");
        Environment.SetEnvironmentVariable("VSS_LIVE_TEST_PASS", secret);
        try
        {
            var log = dir.File("scan.log");
            var json = Cli.Run("scan", "--targets", targets, "--format", "json", "--no-progress", "--log-level", "verbose", "--log-file", log);
            var table = Cli.Run("scan", "--targets", targets, "--format", "table", "--no-progress");
            var folder = dir.File("out");
            var both = Cli.Run("scan", "--targets", targets, "--format", "json", "table", "--no-progress", "-o", folder);
            Assert.True(json.ExitCode == 0, json.Stderr);
            Assert.Contains("legacy-vnc-weakpw", json.Stdout);
            Assert.Contains("console-password-in-xml", json.Stdout);
            var texts = new[] { json.Stdout, json.Stderr, table.Stdout, table.Stderr, both.Stdout, both.Stderr, File.ReadAllText(log) }
                .Concat(Directory.GetFiles(folder).Select(File.ReadAllText));
            Assert.All(texts, t => Assert.DoesNotContain(secret, t));
        }
        finally
        {
            Environment.SetEnvironmentVariable("VSS_LIVE_TEST_PASS", null);
        }
    }

    [Fact]
    public void A_command_past_its_timeout_and_a_failing_dumpxml_make_a_partial_target_with_resource_findings()
    {
        RequireVirsh();
        using var dir = new TempDir();
        var wrapper = dir.Write("virsh-wrapper", "#!/bin/sh\ncase \"$*\" in\n" +
            "  *dumpxml*legacy-vnc-weakpw*) sleep 30 ;;\n" +
            "  *dumpxml*db-spice-open*) echo \"error: failed to get domain 'db-spice-open'\" >&2; exit 1 ;;\n" +
            "esac\nexec virsh \"$@\"\n");
        Virsh("--version");
        using (var chmod = Process.Start("chmod", ["755", wrapper]))
        {
            chmod.WaitForExit();
        }

        var targets = Targets(dir, $"  - name: lab\n    kind: libvirt\n    uri: {Uri(Node)}\n    commandTimeoutSeconds: 2\n");
        Environment.SetEnvironmentVariable("VIRTSECSCAN_VIRSH", wrapper);
        CliResult result;
        var clock = Stopwatch.StartNew();
        try
        {
            result = Cli.ScanJson("--targets", targets);
        }
        finally
        {
            Environment.SetEnvironmentVariable("VIRTSECSCAN_VIRSH", null);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"took {clock.Elapsed}");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = result.Json();
        var target = Assert.Single(json.RootElement.GetProperty("scan").GetProperty("targets").EnumerateArray());
        Assert.Equal("partial", target.GetProperty("status").GetString());
        var resources = target.GetProperty("resources").EnumerateArray()
            .ToDictionary(r => r.GetProperty("name").GetString()!, r => (r.GetProperty("status").GetString(), r.GetProperty("reason").GetString()));
        Assert.Equal("failed", resources["legacy-vnc-weakpw"].Item1);
        Assert.StartsWith("timeout:", resources["legacy-vnc-weakpw"].Item2);
        Assert.Equal("failed", resources["db-spice-open"].Item1);
        Assert.StartsWith("not-found:", resources["db-spice-open"].Item2);
        Assert.Equal("collected", resources["web-vnc-open"].Item1);
        Assert.Equal(["db-spice-open", "legacy-vnc-weakpw"], json.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("ruleId").GetString() == "collect.resource-failed")
            .Select(f => f.GetProperty("title").GetString()!.Split(' ')[0]).Order(StringComparer.Ordinal));
        var outcomes = Outcomes(json);
        Assert.Contains(outcomes, o => o.Contains(" web-vnc-open ", StringComparison.Ordinal));

        // The two domains that were not read have every libvirt-domain rule not-evaluated, named after them, and nothing else.
        var domainRules = RulesOver("libvirt-domain");
        foreach (var (domain, kind) in new[] { ("db-spice-open", "not-found"), ("legacy-vnc-weakpw", "timeout") })
        {
            Assert.All(outcomes.Where(o => o.Contains($" {domain} ", StringComparison.Ordinal)), o => Assert.EndsWith(" not-evaluated", o));
            var notEvaluated = NotEvaluatedOn(json, $"live:lab/{domain}");
            Assert.Equal(domainRules, notEvaluated.Select(n => n.Rule));
            Assert.All(notEvaluated, n => Assert.Equal(("vm", domain), (n.Type, n.Name)));
            Assert.All(notEvaluated, n => Assert.StartsWith($"not collected: {kind}:", n.Reason));
        }

        Assert.Equal(2 * domainRules.Count, target.GetProperty("rulesNotEvaluated").GetInt32());

        // The other domains are evaluated exactly as when every domain is read.
        var full = Cli.ScanJson("--targets", targets);
        Assert.True(full.ExitCode == 0, full.Stderr);
        using var fullJson = full.Json();
        string[] others = [" app-vnc-locked ", " web-vnc-open "];
        Assert.Equal(Outcomes(fullJson).Where(o => others.Any(d => o.Contains(d, StringComparison.Ordinal))),
            outcomes.Where(o => others.Any(d => o.Contains(d, StringComparison.Ordinal))));
    }
}
