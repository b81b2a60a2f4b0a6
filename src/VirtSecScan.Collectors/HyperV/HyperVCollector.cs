using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Json;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.HyperV;

/// <summary>
/// Reads Hyper-V PowerShell output serialised with <c>ConvertTo-Json</c> (format <c>hyperv-json</c>): <c>Get-VM</c>,
/// <c>Get-VMFirmware</c>, <c>Get-VMSecurity</c>, <c>Get-VMNetworkAdapter</c>, <c>Get-VMIntegrationService</c>,
/// <c>Get-VMDvdDrive</c>, <c>Get-VMComPort</c>, <c>Get-VMProcessor</c>, <c>Get-VMAssignableDevice</c>, <c>Get-VMSnapshot</c>
/// and <c>Get-VMHost</c>, one file per cmdlet or combined (objects nested under the VM). Each object is recognised by
/// its properties. A single object or an array; a BOM; enums written as numbers (OnOffState 0 = On, 1 = Off ...) are
/// turned into their names; <c>/Date(ms)/</c> becomes an ISO date. A <c>Get-VM</c> object becomes a <c>hyperv-vm</c>
/// fact (id <c>hyperv:&lt;VMId&gt;</c>); the other objects are joined to it by VMId, else VMName: in the same file at once,
/// across files by <see cref="HyperVLink"/> (same folder first). Keys: <c>Generation</c>, <c>Firmware.SecureBoot</c>,
/// <c>Security.TpmEnabled</c>, <c>NetworkAdapter[0].MacAddressSpoofing</c>, <c>NetworkAdapter[0].VlanSetting.OperationMode</c>,
/// <c>IntegrationService.Guest Service Interface.Enabled</c>, <c>DvdDrive[0].Path</c>, <c>ComPort[0].Path</c>,
/// <c>Processor.ExposeVirtualizationExtensions</c>, <c>AssignableDevice[0].LocationPath</c>, <c>Checkpoints.count</c> (when Get-VMSnapshot output has any),
/// <c>Host.EnableEnhancedSessionMode</c>. A nested object that ConvertTo-Json cut at its depth limit (a type name instead
/// of properties) is not a value: it is left out and reported.
/// </summary>
public sealed partial class HyperVCollector : ICollector
{
    public const string FormatId = "hyperv-json";
    public const string Kind = "hyperv-vm";

    /// <summary>Objects not yet joined to their VM (another cmdlet's file); <see cref="HyperVLink"/> merges and removes them.</summary>
    public const string PartKind = "hyperv-part";

    [GeneratedRegex(@"^/Date\((?<ms>-?\d+)(?<tz>[+-]\d{4})?\)/$", RegexOptions.CultureInvariant)]
    private static partial Regex MsDate();

    [GeneratedRegex(@"^Microsoft\.[A-Za-z0-9_.]+(\[\])?$", RegexOptions.CultureInvariant)]
    private static partial Regex TruncatedObject();

    private static readonly string[] OnOff = ["On", "Off"];

    private static readonly Dictionary<string, string[]> Enums = new(StringComparer.OrdinalIgnoreCase)
    {
        ["SecureBoot"] = OnOff,
        ["MacAddressSpoofing"] = OnOff,
        ["DhcpGuard"] = OnOff,
        ["RouterGuard"] = OnOff,
        ["AllowTeaming"] = OnOff,
        ["DeviceNaming"] = OnOff,
        ["PortMirroringMode"] = ["None", "Destination", "Source"],
        ["OperationMode"] = ["Untagged", "Access", "Trunk", "Private", "Isolated", "Promiscuous"],
    };

    private static readonly Dictionary<string, string> CheckpointTypes = new(StringComparer.Ordinal)
    {
        ["2"] = "Disabled", ["3"] = "Production", ["4"] = "ProductionOnly", ["5"] = "Standard",
    };

    private static readonly Dictionary<string, string> VmStates = new(StringComparer.Ordinal)
    {
        ["1"] = "Other", ["2"] = "Running", ["3"] = "Off", ["4"] = "Stopping", ["6"] = "Saved", ["9"] = "Paused",
        ["10"] = "Starting", ["11"] = "Reset",
    };

    private static readonly HashSet<string> IntegrationServiceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "Guest Service Interface", "Heartbeat", "Key-Value Pair Exchange", "Shutdown", "Time Synchronization", "VSS",
    };

    /// <summary>What a PowerShell object is, from its properties.</summary>
    public enum ObjectKind
    {
        Unknown,
        Vm,
        Firmware,
        Security,
        NetworkAdapter,
        IntegrationService,
        DvdDrive,
        ComPort,
        Processor,
        AssignableDevice,
        Checkpoint,
        Host,
    }

    public string? Detect(InputFile file)
    {
        if (!JsonTree.LooksLikeJson(file.Text))
        {
            return null;
        }

        try
        {
            var root = JsonTree.Parse(file.Text);
            return Objects(root).Any(o => Classify(o) != ObjectKind.Unknown) ? FormatId : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<JsonNode> Objects(JsonNode root) =>
        root.IsArray ? root.Items.Where(i => i.IsObject) : root.IsObject && root["value"] is { IsArray: true } wrapped ? wrapped.Items.Where(i => i.IsObject) : root.IsObject ? [root] : [];

    public static ObjectKind Classify(JsonNode o)
    {
        bool Has(string name) => o[name] is not null;
        if (Has("Generation") && (Has("VMId") || Has("VMName") || Has("Id")) && (Has("State") || Has("ProcessorCount") || Has("CheckpointType")))
        {
            return Has("SnapshotType") ? ObjectKind.Checkpoint : ObjectKind.Vm; // Get-VMSnapshot objects look like VMs plus SnapshotType
        }

        if (Has("SecureBoot") || Has("SecureBootTemplate"))
        {
            return ObjectKind.Firmware;
        }

        if (Has("TpmEnabled") || Has("Shielded") || Has("EncryptStateAndVmMigrationTraffic"))
        {
            return ObjectKind.Security;
        }

        if (Has("MacAddressSpoofing") || (Has("SwitchName") && Has("MacAddress")))
        {
            return ObjectKind.NetworkAdapter;
        }

        if (Has("Enabled") && o["Name"] is { IsScalar: true } n && (IntegrationServiceNames.Contains(n.Value) || Has("PrimaryStatusDescription")))
        {
            return ObjectKind.IntegrationService;
        }

        if (Has("DvdMediaType"))
        {
            return ObjectKind.DvdDrive;
        }

        if (Has("ExposeVirtualizationExtensions"))
        {
            return ObjectKind.Processor;
        }

        if (Has("LocationPath") && Has("InstanceID"))
        {
            return ObjectKind.AssignableDevice;
        }

        if (Has("SnapshotType") || Has("ParentCheckpointId"))
        {
            return ObjectKind.Checkpoint;
        }

        if (Has("EnableEnhancedSessionMode") || Has("VirtualMachineMigrationEnabled"))
        {
            return ObjectKind.Host;
        }

        if (o["Name"] is { IsScalar: true } com && com.Value.StartsWith("COM ", StringComparison.OrdinalIgnoreCase) && Has("Path"))
        {
            return ObjectKind.ComPort;
        }

        return ObjectKind.Unknown;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        JsonNode root;
        try
        {
            root = JsonTree.Parse(file.Text);
        }
        catch (JsonException ex)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, (int?)(ex.LineNumber + 1), $"not valid JSON: {ex.Message}"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var truncated = new List<int>();
        var vms = new List<(string? Id, string? Name, string? Computer, int Line, List<Setting> Settings)>();
        var parts = new List<(ObjectKind Kind, string? Id, string? Name, string? Computer, int Line, List<Setting> Settings)>();
        var unknown = 0;
        foreach (var o in Objects(root))
        {
            var kind = Classify(o);
            if (kind == ObjectKind.Unknown)
            {
                unknown++;
                continue;
            }

            if (kind == ObjectKind.Vm)
            {
                var settings = Scalars(o, "", truncated).ToList();
                foreach (var (name, value) in o.Properties)
                {
                    foreach (var nested in value.IsArray ? value.Items.Where(i => i.IsObject) : value.IsObject ? [value] : [])
                    {
                        var nk = Classify(nested);
                        if (nk is not (ObjectKind.Unknown or ObjectKind.Vm or ObjectKind.Host))
                        {
                            Merge(settings, PartSettings(nk, nested, truncated));
                        }
                    }

                    foreach (var cut in (value.IsArray ? value.Items : []).Where(i => i.IsScalar && TruncatedObject().IsMatch(i.Value)))
                    {
                        truncated.Add(cut.Line); // scalar type names are reported by Scalars(); list items here
                    }
                }

                vms.Add((Str(o, "VMId") ?? Str(o, "Id"), Str(o, "VMName") ?? Str(o, "Name"), Str(o, "ComputerName"), o.Line, settings));
                continue;
            }

            parts.Add((kind, Str(o, "VMId"), Str(o, "VMName"), Str(o, "ComputerName"), o.Line, PartSettings(kind, o, truncated)));
        }

        if (unknown > 0)
        {
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, null, $"{unknown.ToString(CultureInfo.InvariantCulture)} object(s) of no known Hyper-V cmdlet; ignored"));
        }

        if (truncated.Count > 0)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, truncated.Min(),
                $"{truncated.Count.ToString(CultureInfo.InvariantCulture)} nested object(s) were cut to a type name by ConvertTo-Json's depth limit; export with ConvertTo-Json -Depth 4"));
        }

        var facts = ImmutableArray.CreateBuilder<object>();
        var vmFacts = new List<(string? Id, string? Name, List<Setting> Settings)>();
        foreach (var vm in vms)
        {
            vmFacts.Add((vm.Id, vm.Name, vm.Settings));
        }

        foreach (var part in parts)
        {
            var target = part.Kind == ObjectKind.Host ? -1 : vmFacts.FindIndex(v => Matches(v.Id, v.Name, part.Id, part.Name));
            if (target >= 0)
            {
                Merge(vmFacts[target].Settings, part.Settings);
                continue;
            }

            // Not in this file: joined later (HyperVLink) with the VM read from another file.
            var partSettings = part.Settings.Concat(
            [
                new Setting("part.kind", part.Kind.ToString(), part.Line),
                new Setting("part.vmid", part.Id ?? "", part.Line),
                new Setting("part.vmname", part.Name ?? "", part.Line),
            ]);
            var partResource = new ResourceRef("vm", $"hyperv-part:{file.DisplayPath}#{part.Line.ToString(CultureInfo.InvariantCulture)}", part.Name ?? part.Computer ?? "",
                Host: part.Computer, Source: file.DisplayPath, Line: part.Line);
            facts.Add(ConfigFact.Of(partResource, PartKind, partSettings));
        }

        foreach (var vm in vms)
        {
            var name = vm.Name ?? file.Stem;
            var id = "hyperv:" + (vm.Id?.ToLowerInvariant() ?? name);
            var resource = new ResourceRef("vm", id, name, Host: vm.Computer, Source: file.DisplayPath, Line: vm.Line);
            facts.Add(ConfigFact.Of(resource, Kind, Finish(vm.Settings)));
        }

        return new CollectorResult(format, facts.ToImmutable(), diagnostics.ToImmutable());
    }

    internal static bool Matches(string? vmId, string? vmName, string? partId, string? partName) =>
        partId is { Length: > 0 } && vmId is { Length: > 0 }
            ? string.Equals(vmId, partId, StringComparison.OrdinalIgnoreCase)
            : partName is { Length: > 0 } && string.Equals(vmName, partName, StringComparison.OrdinalIgnoreCase);

    private static string? Str(JsonNode o, string name) => o[name] is { IsScalar: true, Value.Length: > 0 } v ? v.Value : null;

    /// <summary>A part's settings under its prefix; <c>[#]</c> marks a device index assigned when merged.</summary>
    private static List<Setting> PartSettings(ObjectKind kind, JsonNode o, List<int> truncated)
    {
        var prefix = kind switch
        {
            ObjectKind.Firmware => "Firmware.",
            ObjectKind.Security => "Security.",
            ObjectKind.NetworkAdapter => "NetworkAdapter[#].",
            ObjectKind.IntegrationService => $"IntegrationService.{Str(o, "Name") ?? "?"}.",
            ObjectKind.DvdDrive => "DvdDrive[#].",
            ObjectKind.ComPort => "ComPort[#].",
            ObjectKind.Processor => "Processor.",
            ObjectKind.AssignableDevice => "AssignableDevice[#].",
            ObjectKind.Checkpoint => "Checkpoint[#].",
            ObjectKind.Host => "Host.",
            _ => "",
        };
        var settings = Scalars(o, prefix, truncated).Where(s => !s.Key.EndsWith(".VMName", StringComparison.OrdinalIgnoreCase) && !s.Key.EndsWith(".VMId", StringComparison.OrdinalIgnoreCase)).ToList();
        if (kind == ObjectKind.NetworkAdapter && o["VlanSetting"] is { IsObject: true } vlan)
        {
            settings.AddRange(Scalars(vlan, prefix + "VlanSetting.", truncated));
        }

        return settings;
    }

    /// <summary>The scalar properties of an object (nested objects are handled by kind), enums and dates normalised.</summary>
    private static IEnumerable<Setting> Scalars(JsonNode o, string prefix, List<int> truncated)
    {
        foreach (var (name, value) in o.Properties)
        {
            if (!value.IsScalar)
            {
                continue;
            }

            if (TruncatedObject().IsMatch(value.Value))
            {
                truncated.Add(value.Line);
                continue;
            }

            if (name is "Notes" || SecretKeys.IsSecret(name))
            {
                yield return new Setting(prefix + name + ".present", value.Value.Length > 0 ? "true" : "false", value.Line);
                continue;
            }

            yield return new Setting(prefix + name, Normalise(name, value), value.Line);
        }
    }

    private static string Normalise(string name, JsonNode value)
    {
        var v = value.Value;
        if (value.Kind == JsonTokenType.Number)
        {
            if (Enums.TryGetValue(name, out var names) && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < names.Length)
            {
                return names[i];
            }

            if (name == "CheckpointType" && CheckpointTypes.TryGetValue(v, out var ct))
            {
                return ct;
            }

            if (name == "State" && VmStates.TryGetValue(v, out var st))
            {
                return st;
            }
        }

        if (MsDate().Match(v) is { Success: true } date && long.TryParse(date.Groups["ms"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        return v;
    }

    /// <summary>Adds a part's settings to a VM's, giving <c>[#]</c> devices the next free index.</summary>
    internal static void Merge(List<Setting> target, IEnumerable<Setting> part)
    {
        var indexes = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in part)
        {
            var hash = s.Key.IndexOf("[#]", StringComparison.Ordinal);
            if (hash < 0)
            {
                target.RemoveAll(t => string.Equals(t.Key, s.Key, StringComparison.OrdinalIgnoreCase));
                target.Add(s);
                continue;
            }

            var stem = s.Key[..hash];
            if (!indexes.TryGetValue(stem, out var index))
            {
                index = target.Select(t => Regex.Match(t.Key, "^" + Regex.Escape(stem) + @"\[(\d+)\]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant))
                    .Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();
                indexes[stem] = index;
            }

            target.Add(s with { Key = $"{stem}[{index.ToString(CultureInfo.InvariantCulture)}]{s.Key[(hash + 3)..]}" });
        }
    }

    /// <summary>Derived counts once every part is merged.</summary>
    internal static IEnumerable<Setting> Finish(List<Setting> settings)
    {
        var checkpoints = settings.Where(s => Regex.IsMatch(s.Key, @"^Checkpoint\[\d+\]\.Name$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)).ToList();
        var rest = settings.Where(s => !s.Key.Equals("Checkpoints.count", StringComparison.OrdinalIgnoreCase));
        return checkpoints.Count == 0 ? rest : rest.Append(new Setting("Checkpoints.count", checkpoints.Count.ToString(CultureInfo.InvariantCulture), checkpoints[0].Line));
    }
}
