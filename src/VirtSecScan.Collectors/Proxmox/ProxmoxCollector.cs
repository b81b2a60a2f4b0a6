using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Json;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Proxmox;

/// <summary>
/// Reads a Proxmox VE VM configuration into a <c>proxmox-vm</c> fact: <c>/etc/pve/qemu-server/&lt;vmid&gt;.conf</c> or
/// <c>qm config &lt;vmid&gt;</c> output (format <c>proxmox-qm-conf</c>), or <c>pvesh get /nodes/&lt;node&gt;/qemu/&lt;vmid&gt;/config
/// --output-format json</c> (format <c>proxmox-pvesh-json</c>). Every key is kept with its raw value and its property string
/// split into <c>key.sub</c> settings (<c>net0.bridge</c>, <c>net0.model</c>, <c>scsi0.file</c>, <c>efidisk0.pre-enrolled-keys</c>).
/// The current configuration ends at the first <c>[section]</c>: each snapshot section becomes its own
/// <c>proxmox-snapshot</c> fact and is counted on the VM (<c>snapshots.count</c>); <c>[PENDING]</c> changes are counted
/// (<c>pending.count</c>), <c>[special:cloudinit]</c> is skipped. <c>#</c> description lines and <c>description</c> give only
/// <c>description.present</c>; <c>cipassword</c> only <c>cipassword.present</c>; secret-looking <c>args</c> values are masked.
/// The resource id is <c>proxmox:&lt;node&gt;/&lt;vmid&gt;</c>, node and VM id taken from the path (…/&lt;node&gt;/qemu-server/&lt;vmid&gt;.conf).
/// </summary>
public sealed partial class ProxmoxCollector : ICollector
{
    public const string QmConfFormat = "proxmox-qm-conf";
    public const string PveshJsonFormat = "proxmox-pvesh-json";
    public const string Kind = "proxmox-vm";
    public const string SnapshotKind = "proxmox-snapshot";

    [GeneratedRegex(@"^(?<key>[a-z][a-z0-9_-]*):\s?(?<value>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"^\[(?<name>[^\]]+)\]\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex SectionLine();

    [GeneratedRegex(@"^(smbios1|vmgenid|scsihw|ostype|bootdisk|net\d+|(scsi|virtio|sata|ide|efidisk|tpmstate)\d+|hostpci\d+|machine|meta)$", RegexOptions.CultureInvariant)]
    private static partial Regex VmKey();

    [GeneratedRegex(@"^(sockets|cores|numa|cpu|memory|vga|agent|bios|onboot|boot|name|kvm|args|hookscript|protection|tablet|balloon|usb\d+|serial\d+|parallel\d+|virtiofs\d+|ivshmem|spice_enhancements|efidisk\d|tpmstate\d)$", RegexOptions.CultureInvariant)]
    private static partial Regex OtherVmKey();

    [GeneratedRegex(@"^(rootfs|hostname|mp\d+|lxc\.[a-z.]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerKey();

    [GeneratedRegex(@"^(ide|sata|scsi|virtio|efidisk|tpmstate|unused)\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex DiskKey();

    [GeneratedRegex(@"(password|passwd|secret|data|key)=[^,\s]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretArgument();

    private static readonly HashSet<string> NicModels = new(StringComparer.OrdinalIgnoreCase)
    {
        "virtio", "e1000", "e1000e", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "i82551", "i82557b", "i82559er",
        "ne2k_isa", "ne2k_pci", "pcnet", "rtl8139", "vmxnet3",
    };

    public string? Detect(InputFile file)
    {
        if (JsonTree.LooksLikeJson(file.Text))
        {
            return DetectJson(file.Text) ? PveshJsonFormat : null;
        }

        var vmKeys = 0;
        var otherKeys = 0;
        var active = 0;
        var matching = 0;
        foreach (var raw in file.Lines.Take(500))
        {
            if (raw.Trim().Length == 0 || raw.StartsWith('#'))
            {
                continue;
            }

            if (SectionLine().IsMatch(raw))
            {
                break;
            }

            active++;
            var m = KeyLine().Match(raw);
            if (!m.Success)
            {
                continue;
            }

            matching++;
            var key = m.Groups["key"].Value;
            if (ContainerKey().IsMatch(key))
            {
                return null; // a Proxmox container (pct) configuration, not a VM
            }

            if (VmKey().IsMatch(key))
            {
                vmKeys++;
            }
            else if (OtherVmKey().IsMatch(key))
            {
                otherKeys++;
            }
        }

        // Two VM-only keys, or one with two more Proxmox keys; almost every line is "key: value" (no YAML nesting or lists).
        return (vmKeys >= 2 || (vmKeys == 1 && otherKeys >= 2)) && matching * 10 >= active * 9 ? QmConfFormat : null;
    }

    private static bool DetectJson(string text)
    {
        try
        {
            var root = Unwrap(JsonTree.Parse(text));
            return root.IsObject
                && root.Properties.Count(p => VmKey().IsMatch(p.Key) || p.Key == "digest") >= 2
                && !root.Properties.Any(p => ContainerKey().IsMatch(p.Key));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The API answer may be wrapped as {"data": {...}}.</summary>
    private static JsonNode Unwrap(JsonNode root) =>
        root.IsObject && root.Properties.Count == 1 && root["data"] is { IsObject: true } data ? data : root;

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var (node, vmid) = Locate(file.DisplayPath);
        if (node is null)
        {
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, null, "node unknown (the file is not under <node>/qemu-server/): the id uses 'unknown'"));
        }

        var current = new List<Setting>();
        var snapshots = new List<(string Name, int Line, List<Setting> Settings)>();
        var pending = 0;
        if (format == PveshJsonFormat)
        {
            JsonNode root;
            try
            {
                root = Unwrap(JsonTree.Parse(file.Text));
            }
            catch (JsonException ex)
            {
                diagnostics.Add(Diagnostic.Error(file.DisplayPath, (int?)(ex.LineNumber + 1), $"not valid JSON: {ex.Message}"));
                return new CollectorResult(format, [], diagnostics.ToImmutable());
            }

            foreach (var (key, value) in root.Properties)
            {
                if (!value.IsScalar)
                {
                    diagnostics.Add(Diagnostic.Info(file.DisplayPath, value.Line, $"'{key}' is not a plain value; ignored"));
                    continue;
                }

                current.AddRange(Expand(key, value.Value, value.Line));
            }
        }
        else
        {
            ReadConf(file, current, snapshots, ref pending, diagnostics);
        }

        var settings = current.ToSettingMap();
        var name = settings.TryGetValue("name", out var n) && n.Value.Length > 0 ? n.Value : vmid is null ? file.Stem : "vm" + vmid;
        var id = $"proxmox:{node ?? "unknown"}/{vmid ?? file.Stem}";
        var extra = new List<Setting>
        {
            new("snapshots.count", snapshots.Count.ToString(CultureInfo.InvariantCulture), snapshots.Count > 0 ? snapshots[0].Line : 0),
        };
        for (var i = 0; i < snapshots.Count; i++)
        {
            extra.Add(new($"snapshot[{i.ToString(CultureInfo.InvariantCulture)}].name", snapshots[i].Name, snapshots[i].Line));
            if (snapshots[i].Settings.FirstOrDefault(s => s.Key == "vmstate") is { } vmstate)
            {
                extra.Add(new($"snapshot[{i.ToString(CultureInfo.InvariantCulture)}].vmstate.present", "true", vmstate.Line));
            }
        }

        if (pending > 0)
        {
            extra.Add(new("pending.count", pending.ToString(CultureInfo.InvariantCulture), 0));
        }

        var facts = ImmutableArray.CreateBuilder<object>();
        var resource = new ResourceRef("vm", id, name, Host: node, Source: file.DisplayPath, Line: n?.Line);
        facts.Add(ConfigFact.Of(resource, Kind, settings.Values.Concat(extra)));
        foreach (var snap in snapshots)
        {
            var snapResource = new ResourceRef("vm", $"{id}@{snap.Name}", $"{name}@{snap.Name}", Host: node, Source: file.DisplayPath, Line: snap.Line);
            facts.Add(ConfigFact.Of(snapResource, SnapshotKind, snap.Settings.Append(new Setting("snapshot.of", id, snap.Line))));
        }

        return new CollectorResult(format, facts.ToImmutable(), diagnostics.ToImmutable());
    }

    private static void ReadConf(InputFile file, List<Setting> current, List<(string, int, List<Setting>)> snapshots, ref int pending,
        ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var target = current;
        var section = "";
        var description = 0;
        var lines = file.Lines;
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNo = i + 1;
            var raw = lines[i];
            if (raw.Trim().Length == 0)
            {
                continue;
            }

            if (raw.StartsWith('#'))
            {
                if (section.Length == 0 && description++ == 0)
                {
                    current.Add(new Setting("description.present", "true", lineNo)); // the text itself is not kept
                }

                continue;
            }

            var sm = SectionLine().Match(raw.Trim());
            if (sm.Success)
            {
                section = sm.Groups["name"].Value;
                if (section == "PENDING" || section.StartsWith("special:", StringComparison.Ordinal))
                {
                    target = []; // pending changes and cloud-init state: not the current configuration, not a snapshot
                }
                else
                {
                    if (snapshots.Any(s => s.Item1 == section))
                    {
                        diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, $"snapshot section [{section}] appears twice"));
                    }

                    target = [];
                    snapshots.Add((section, lineNo, target));
                }

                continue;
            }

            var m = KeyLine().Match(raw);
            if (!m.Success)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, lineNo, "not a 'key: value' line; ignored"));
                continue;
            }

            if (section == "PENDING")
            {
                pending++;
            }

            var key = m.Groups["key"].Value;
            if (target.Any(s => s.Key == key))
            {
                diagnostics.Add(Diagnostic.Info(file.DisplayPath, lineNo, $"'{key}' repeats in one section; the last value wins"));
                target.RemoveAll(s => s.Key == key || s.Key.StartsWith(key + ".", StringComparison.Ordinal));
            }

            target.AddRange(Expand(key, m.Groups["value"].Value.Trim(), lineNo));
        }
    }

    /// <summary>One key's settings: the raw value and its property string split into <c>key.sub</c>.</summary>
    public static IEnumerable<Setting> Expand(string key, string value, int line)
    {
        if (key is "cipassword" or "description" || SecretKeys.IsSecret(key))
        {
            yield return new Setting(key + ".present", value.Length > 0 ? "true" : "false", line);
            yield break;
        }

        if (key == "args")
        {
            yield return new Setting(key, SecretArgument().Replace(value, m => m.Groups[1].Value + "=(masked)"), line);
            yield break;
        }

        yield return new Setting(key, value, line);
        if (!IsPropertyString(key))
        {
            yield break;
        }

        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var eq = part.IndexOf('=');
            if (eq < 0)
            {
                if (i == 0 && DefaultKey(key) is { } dk)
                {
                    yield return new Setting($"{key}.{dk}", part, line);
                }

                continue;
            }

            var sub = part[..eq];
            var subValue = part[(eq + 1)..];
            if (i == 0 && key.StartsWith("net", StringComparison.Ordinal) && NicModels.Contains(sub))
            {
                yield return new Setting($"{key}.model", sub, line);
                yield return new Setting($"{key}.macaddr", subValue, line);
                continue;
            }

            if (SecretKeys.IsSecret(sub))
            {
                yield return new Setting($"{key}.{sub}.present", subValue.Length > 0 ? "true" : "false", line);
                continue;
            }

            yield return new Setting($"{key}.{sub}", subValue, line);
        }
    }

    private static bool IsPropertyString(string key) =>
        DiskKey().IsMatch(key) || Regex.IsMatch(key, @"^(net|hostpci|usb|numa|ipconfig|audio|rng|virtiofs)\d+$", RegexOptions.CultureInvariant)
        || key is "agent" or "vga" or "spice_enhancements" or "ivshmem" or "smbios1" or "meta" or "watchdog" or "cpu" or "boot"
            or "amd-sev" or "intel-tdx" or "memory" or "startup";

    private static string? DefaultKey(string key)
    {
        if (DiskKey().IsMatch(key))
        {
            return "file";
        }

        var stem = key.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9');
        return stem switch
        {
            "hostpci" or "usb" => "host",
            "agent" => "enabled",
            "vga" => "type",
            "cpu" => "cputype",
            "audio" => "device",
            "rng" => "source",
            "watchdog" => "model",
            "virtiofs" => "dirid",
            "numa" => "cpus",
            "amd-sev" or "intel-tdx" => "type",
            "memory" => "current",
            "boot" => "legacy",
            _ => null,
        };
    }

    /// <summary>Node and VM id from …/&lt;node&gt;/qemu-server/&lt;vmid&gt;.conf or …/&lt;node&gt;/&lt;file with the vmid&gt;.</summary>
    public static (string? Node, string? VmId) Locate(string displayPath)
    {
        var parts = displayPath.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var stem = Path.GetFileNameWithoutExtension(parts[^1]);
        // 101.conf, or a saved output such as qm-config-101.txt (VM ids start at 100); otherwise no id from the name.
        var vmid = Regex.IsMatch(stem, @"^\d+$", RegexOptions.CultureInvariant) ? stem
            : Regex.Match(stem, @"(?<!\d)[1-9]\d{2,8}(?!\d)", RegexOptions.CultureInvariant) is { Success: true } d ? d.Value : null;
        string? node = null;
        if (parts.Length >= 2)
        {
            var folder = parts[^2];
            if (folder == "qemu-server")
            {
                node = parts.Length >= 3 && parts[^3] != "pve" ? parts[^3] : null;
            }
            else if (folder != "pve")
            {
                node = folder;
            }
        }

        return (node, vmid);
    }
}
