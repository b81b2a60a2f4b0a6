using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VirtSecScan.Engine.Live;

/// <summary>
/// Proxmox VE over SSH. The node name is the first label of <c>hostname</c> (a Proxmox node is named after its
/// short host name; the target's name when <c>hostname</c> fails). <c>pveversion -v</c> becomes
/// <c>ssh://&lt;target&gt;/&lt;node&gt;/pveversion-v.txt</c>; the VMs come from <c>qm list</c> (else
/// <c>pvesh get /nodes/&lt;node&gt;/qemu</c>), and each VM's configuration file is read whole
/// (<c>cat /etc/pve/qemu-server/&lt;vmid&gt;.conf</c>, so its snapshot sections and pending changes are seen as in a
/// file scan) and fed as <c>ssh://&lt;target&gt;/&lt;node&gt;/qemu-server/&lt;vmid&gt;.conf</c>, which gives the resource
/// id <c>proxmox:&lt;node&gt;/&lt;vmid&gt;</c> exactly as a copy of <c>/etc/pve/nodes/&lt;node&gt;/qemu-server/</c> does.
/// When the file cannot be read, <c>qm config &lt;vmid&gt;</c> is used (current settings only: no snapshot sections).
/// </summary>
internal static partial class SshProxmox
{
    public const string Hostname = "hostname";
    public const string Version = "pveversion -v";
    public const string List = "qm list";
    public const string ListFallback = "pvesh get /nodes/{node}/qemu --output-format json";
    public const string Config = "cat /etc/pve/qemu-server/{id}.conf";
    public const string ConfigFallback = "qm config {id}";

    /// <summary>Every command this platform may run.</summary>
    public static ImmutableArray<string> Templates { get; } = [Hostname, Version, List, ListFallback, Config, ConfigFallback];

    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NodeName();

    /// <summary>A Proxmox VM id: 100 to 999999999.</summary>
    [GeneratedRegex(@"\A[1-9][0-9]{2,8}\z", RegexOptions.CultureInvariant)]
    private static partial Regex VmId();

    public static (TargetStatus, ImmutableArray<LiveCollected>) Collect(TargetSpec target, Stopwatch clock, Func<string, CommandResult> run)
    {
        var resources = ImmutableArray.CreateBuilder<ResourceStatus>();
        var files = ImmutableArray.CreateBuilder<LiveCollected>();
        var step = Stopwatch.StartNew();

        var hostname = run(Hostname);
        var label = hostname.Succeeded ? hostname.StdOut.Trim().Split('.')[0] : "";
        string node;
        if (hostname.Succeeded && NodeName().IsMatch(label))
        {
            node = label;
        }
        else
        {
            node = target.Name;
            resources.Add(new ResourceStatus("hostname", "failed",
                hostname.Succeeded ? "error: 'hostname' printed no usable node name; the target's name is used as the node" : SshCollection.Reason(hostname, Hostname) + "; the target's name is used as the node",
                step.ElapsedMilliseconds));
        }

        var (versionStatus, versionFile) = RemoteCommands.RunOne(new RemoteCommand("pveversion-v", Version), run, slug => $"ssh://{target.Name}/{node}/{slug}.txt");
        resources.Add(versionStatus);
        if (versionFile is not null)
        {
            files.Add(versionFile);
        }

        step.Restart();
        var vmids = ListVms(node, run, out var listFailure);
        if (listFailure is not null)
        {
            resources.Add(new ResourceStatus("qm-list", "failed", listFailure, step.ElapsedMilliseconds));
        }

        var configs = new List<RemoteCommand>();
        foreach (var vmid in vmids)
        {
            if (!VmId().IsMatch(vmid))
            {
                resources.Add(new ResourceStatus(vmid, "failed", "error: the VM listing gave something that is not a VM id; nothing was run for it", 0));
                continue;
            }

            configs.Add(new RemoteCommand(vmid, Config.Replace("{id}", vmid, StringComparison.Ordinal),
                new RemoteCommand($"qm-config-{vmid}", ConfigFallback.Replace("{id}", vmid, StringComparison.Ordinal))));
        }

        string PathOf(string slug) => slug.StartsWith("qm-config-", StringComparison.Ordinal)
            ? $"ssh://{target.Name}/{node}/{slug}.txt"
            : $"ssh://{target.Name}/{node}/qemu-server/{slug}.conf";
        foreach (var (status, file) in RemoteCommands.RunAll(configs, run, PathOf))
        {
            resources.Add(status.Status == "collected" && status.Reason is not null
                ? status with { Reason = status.Reason + " (current settings only: snapshot sections and pending changes not seen)" }
                : status);
            if (file is not null)
            {
                files.Add(file);
            }
        }

        return (RemoteCommands.Finish(target, clock, resources.ToImmutable()), files.ToImmutable());
    }

    /// <summary>The VM ids of <c>qm list</c> (first column), else of the pvesh listing; null failure when one worked.</summary>
    private static List<string> ListVms(string node, Func<string, CommandResult> run, out string? failure)
    {
        var list = run(List);
        if (list.Succeeded)
        {
            failure = null;
            // "      VMID NAME   STATUS  MEM(MB)  BOOTDISK(GB) PID" then one row per VM.
            return list.StdOut.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0])
                .Where(t => t != "VMID").Distinct(StringComparer.Ordinal).OrderBy(id => id.Length).ThenBy(id => id, StringComparer.Ordinal).ToList();
        }

        var first = SshCollection.Reason(list, List);
        if (list.TimedOut || !NodeName().IsMatch(node))
        {
            failure = first;
            return [];
        }

        var command = ListFallback.Replace("{node}", node, StringComparison.Ordinal);
        var json = run(command);
        if (!json.Succeeded)
        {
            failure = $"{first}; then: {SshCollection.Reason(json, command)}";
            return [];
        }

        try
        {
            using var doc = JsonDocument.Parse(json.StdOut);
            var rows = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("data", out var data) ? data : doc.RootElement;
            if (rows.ValueKind != JsonValueKind.Array)
            {
                failure = $"error: '{command}' did not print a list";
                return [];
            }

            failure = null;
            return rows.EnumerateArray()
                .Select(r => r.ValueKind == JsonValueKind.Object && r.TryGetProperty("vmid", out var id)
                    ? id.ValueKind == JsonValueKind.Number ? id.GetRawText() : id.ValueKind == JsonValueKind.String ? id.GetString() ?? "" : ""
                    : "")
                .Select(id => id.Length == 0 ? "(no vmid)" : id)
                .Distinct(StringComparer.Ordinal).OrderBy(id => id.Length).ThenBy(id => id, StringComparer.Ordinal).ToList();
        }
        catch (JsonException)
        {
            failure = $"error: '{command}' printed no valid JSON";
            return [];
        }
    }
}
