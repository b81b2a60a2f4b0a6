using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Ovf;

/// <summary>
/// Reads OVF descriptors (<c>.ovf</c>, the XML inside an OVA) of appliances and templates before they are
/// deployed. Each <c>VirtualSystem</c> becomes a <see cref="VmConfig"/> whose keys are spelled as in a
/// <c>.vmx</c>, so that the VMware VM rules judge it:
/// <list type="bullet">
/// <item>virtual hardware items (<c>rasd:ResourceType</c>) become devices: CD/DVD (15, 16) and disks (17) as
/// <c>&lt;bus&gt;&lt;n&gt;:&lt;unit&gt;.*</c> under their IDE/SCSI/SATA/NVMe controller, floppy (14), serial (21),
/// parallel (22), USB controllers (23), sound (35 or <c>vmware.soundcard.*</c>), PCI passthrough (1 with
/// <c>vmware.pci.passthrough*</c>); <c>rasd:AutomaticAllocation</c> is <c>startConnected</c>, <c>rasd:HostResource</c>
/// the backing (<c>fileName</c>); remote (client) CD and floppy drives are <c>clientDevice</c>;</item>
/// <item>CPU and memory quantity, reservation and limit become <c>numvcpus</c>, <c>memsize</c>, <c>sched.cpu.min/max</c>,
/// <c>sched.mem.min/max</c> (MHz and MB);</item>
/// <item><c>vmw:Config</c> keys of the vSphere API are translated (<c>bootOptions.efiSecureBootEnabled</c> →
/// <c>uefi.secureBoot.enabled</c>, <c>enable3DSupport</c> → <c>mks.enable3d</c>, ...) and otherwise kept as written;
/// <c>vmw:ExtraConfig</c> keys are .vmx keys already and are kept as written;</item>
/// <item><c>vssd:VirtualSystemType</c> gives <c>virtualHW.version</c> (the oldest vmx-N listed, since a deployment may use any);
/// <c>vmw:osType</c> gives <c>guestOS</c>.</item>
/// </list>
/// Only items of the default deployment option (and <c>ovf:bound</c> normal) are read. DTDs are prohibited and no
/// external entity is resolved. Resource ids are <c>ovf:&lt;file name&gt;/&lt;name&gt;</c>.
/// </summary>
public sealed partial class OvfCollector : ICollector
{
    public const string FormatId = "ovf";

    private static readonly string[] EnvelopeNamespaces =
    [
        "http://schemas.dmtf.org/ovf/envelope/1",
        "http://schemas.dmtf.org/ovf/envelope/2",
        "http://www.vmware.com/schema/ovf/1/envelope",
    ];

    private const string VmwNamespace = "http://www.vmware.com/schema/ovf";

    /// <summary>vSphere API names used in vmw:Config, and the .vmx keys the rules read.</summary>
    private static readonly Dictionary<string, string> ApiToVmx = new(StringComparer.OrdinalIgnoreCase)
    {
        ["bootOptions.efiSecureBootEnabled"] = "uefi.secureBoot.enabled",
        ["flags.enableLogging"] = "logging",
        ["migrateEncryption"] = "migrate.encryptionMode",
        ["ftEncryptionMode"] = "ftcpt.ftEncryptionMode",
        ["nestedHVEnabled"] = "vhv.enable",
        ["tools.syncTimeWithHost"] = "tools.syncTime",
        ["flags.vbsEnabled"] = "vbs.enable",
        ["flags.vvtdEnabled"] = "vvtd.enable",
    };

    [GeneratedRegex(@"vmx-0*(?<n>\d+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VmxType();

    public string? Detect(InputFile file)
    {
        var head = file.Text.AsSpan(0, Math.Min(file.Text.Length, 16384));
        var start = head.TrimStart();
        if (start.Length == 0 || start[0] != '<' || !head.Contains("Envelope", StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var ns in EnvelopeNamespaces)
        {
            if (head.Contains(ns, StringComparison.Ordinal))
            {
                return FormatId;
            }
        }

        return null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        XDocument doc;
        try
        {
            var settings = new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
                MaxCharactersFromEntities = 0,
                IgnoreComments = true,
            };
            using var reader = XmlReader.Create(new StringReader(file.Text), settings);
            doc = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, ex.LineNumber > 0 ? ex.LineNumber : null, $"not well-formed OVF XML: {ex.Message}"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var root = doc.Root!;
        if (root.Name.LocalName != "Envelope")
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, LineOf(root), $"the root element is {root.Name.LocalName}, not an OVF Envelope"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var files = root.Elements().Where(e => e.Name.LocalName == "References").Elements().Where(e => e.Name.LocalName == "File")
            .Select(f => (Id: Attr(f, "id"), Href: Attr(f, "href")))
            .Where(f => f.Id is not null)
            .DistinctBy(f => f.Id)
            .ToDictionary(f => f.Id!, f => f.Href, StringComparer.Ordinal);
        var disks = root.Descendants().Where(e => e.Name.LocalName == "Disk")
            .Select(d => (Id: Attr(d, "diskId"), File: Attr(d, "fileRef")))
            .Where(d => d.Id is not null)
            .DistinctBy(d => d.Id)
            .ToDictionary(d => d.Id!, d => d.File, StringComparer.Ordinal);
        var defaultConfiguration = DefaultConfiguration(root);

        var facts = ImmutableArray.CreateBuilder<object>();
        var systems = root.Descendants().Where(e => IsA(e, "VirtualSystem")).ToList();
        if (systems.Count == 0)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, LineOf(root), "the OVF envelope has no VirtualSystem"));
        }

        var usedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var system in systems)
        {
            var vm = ReadSystem(file, system, defaultConfiguration, files, disks, diagnostics);
            if (!usedNames.Add(vm.Resource.Name))
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, LineOf(system), $"two virtual systems are named '{vm.Resource.Name}'; both are reported"));
                vm = vm with { Resource = vm.Resource with { Id = vm.Resource.Id + "#" + LineOf(system).ToString(CultureInfo.InvariantCulture) } };
            }

            facts.Add(vm);
        }

        return new CollectorResult(format, facts.ToImmutable(), diagnostics.ToImmutable());
    }

    private static VmConfig ReadSystem(
        InputFile file,
        XElement system,
        string? defaultConfiguration,
        Dictionary<string, string?> files,
        Dictionary<string, string?> disks,
        ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var settings = new Dictionary<string, Setting>(StringComparer.OrdinalIgnoreCase);
        void Set(string key, string value, XObject at) => settings[key] = new Setting(key, value, LineOf(at));

        var nameElement = Child(system, "Name");
        var name = nameElement?.Value.Trim() is { Length: > 0 } n ? n : Attr(system, "id") ?? file.Stem;
        Set("displayName", name, (XObject?)nameElement ?? system);

        if (system.Elements().FirstOrDefault(e => IsA(e, "OperatingSystemSection")) is { } os && os.Attribute(XName.Get("osType", VmwNamespace)) is { } osType)
        {
            Set("guestOS", osType.Value, os);
        }

        var sections = system.Elements().Where(e => IsA(e, "VirtualHardwareSection")).ToList();
        var hardware = sections.FirstOrDefault(s => VmxType().IsMatch(SystemType(s) ?? "")) ?? sections.FirstOrDefault();
        if (hardware is null)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, LineOf(system), $"virtual system '{name}' has no VirtualHardwareSection; only its name is read"));
        }
        else
        {
            if (sections.Count > 1)
            {
                diagnostics.Add(Diagnostic.Info(file.DisplayPath, LineOf(hardware), $"virtual system '{name}' has {sections.Count} hardware sections; the first VMware one is read"));
            }

            ReadHardware(file, name, hardware, defaultConfiguration, files, disks, Set, diagnostics);
        }

        // vmw:ExtraConfig anywhere in the system (usually in the hardware section) carries .vmx keys as they are.
        foreach (var extra in system.Descendants(XName.Get("ExtraConfig", VmwNamespace)).Where(e => BelongsTo(e, system)))
        {
            if (VmwAttr(extra, "key") is { Length: > 0 } key)
            {
                Set(key, VmwAttr(extra, "value") ?? "", extra);
            }
        }

        var map = settings.Values.ToSettingMap();
        // The id names the descriptor file, not its folder, so that fingerprints do not change when exports move.
        var fileName = file.DisplayPath.Replace('\\', '/').Split('/')[^1];
        var resource = new ResourceRef("vm", $"ovf:{fileName}/{name}", name, Source: file.DisplayPath, Line: LineOf(system));
        return new VmConfig(resource, map);
    }

    private static void ReadHardware(
        InputFile file,
        string name,
        XElement hardware,
        string? defaultConfiguration,
        Dictionary<string, string?> files,
        Dictionary<string, string?> disks,
        Action<string, string, XObject> set,
        ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        if (SystemType(hardware) is { } type)
        {
            var versions = VmxType().Matches(type).Select(m => int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture)).ToList();
            var systemElement = Child(hardware, "System")!;
            if (versions.Count > 0)
            {
                set("virtualHW.version", versions.Min().ToString(CultureInfo.InvariantCulture), systemElement);
            }
            else if (type.Trim().Length > 0)
            {
                diagnostics.Add(Diagnostic.Info(file.DisplayPath, LineOf(systemElement), $"virtual system '{name}' is of type '{type.Trim()}', not a VMware vmx-N type; its hardware version is not known"));
            }
        }

        var items = hardware.Elements()
            .Where(e => e.Name.LocalName is "Item" or "StorageItem" or "EthernetPortItem")
            .Where(e => InConfiguration(e, defaultConfiguration))
            .Where(e => Attr(e, "bound") is null or "normal")
            .ToList();
        var byInstance = new Dictionary<string, XElement>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (Value(item, "InstanceID") is { } id)
            {
                byInstance.TryAdd(id, item);
            }
        }

        var controllerIndex = new Dictionary<XElement, (string Bus, int Index)>();
        var busCount = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (BusOf(item) is { } bus)
            {
                var address = Value(item, "Address");
                var index = address is not null && int.TryParse(address, NumberStyles.None, CultureInfo.InvariantCulture, out var a) ? a : busCount.GetValueOrDefault(bus);
                busCount[bus] = Math.Max(busCount.GetValueOrDefault(bus), index + 1);
                controllerIndex[item] = (bus, index);
                set($"{bus}{index}.present", "TRUE", item);
                if (Value(item, "ResourceSubType") is { } sub)
                {
                    set($"{bus}{index}.virtualDev", sub, item);
                }
            }
        }

        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        int Next(string kind)
        {
            var n = counters.GetValueOrDefault(kind);
            counters[kind] = n + 1;
            return n;
        }

        var unitsUsed = new Dictionary<string, int>(StringComparer.Ordinal);
        string? DeviceKey(XElement item)
        {
            (string Bus, int Index)? controller = Value(item, "Parent") is { } parent && byInstance.TryGetValue(parent, out var p) && controllerIndex.TryGetValue(p, out var c)
                ? c
                : null;
            if (controller is null)
            {
                return null;
            }

            var prefix = $"{controller.Value.Bus}{controller.Value.Index}";
            var unit = Value(item, "AddressOnParent") is { } u && int.TryParse(u, NumberStyles.None, CultureInfo.InvariantCulture, out var un)
                ? un
                : unitsUsed.GetValueOrDefault(prefix);
            unitsUsed[prefix] = Math.Max(unitsUsed.GetValueOrDefault(prefix), unit + 1);
            return $"{prefix}:{unit}";
        }

        foreach (var item in items)
        {
            var resourceType = Value(item, "ResourceType");
            var subType = Value(item, "ResourceSubType") ?? "";
            var autoConnect = Value(item, "AutomaticAllocation");
            var hostResource = Value(item, "HostResource");
            var backing = ResolveBacking(hostResource, files, disks);
            switch (resourceType)
            {
                case "3":
                    if (Value(item, "VirtualQuantity") is { } cpus)
                    {
                        set("numvcpus", cpus, item);
                    }

                    SetMhz(item, "Reservation", "sched.cpu.min", set);
                    SetMhz(item, "Limit", "sched.cpu.max", set);
                    break;
                case "4":
                    var units = Value(item, "AllocationUnits");
                    if (ToMegabytes(Value(item, "VirtualQuantity"), units) is { } mb)
                    {
                        set("memsize", mb, item);
                    }

                    if (ToMegabytes(Value(item, "Reservation"), units) is { } reservation)
                    {
                        set("sched.mem.min", reservation, ChildOf(item, "Reservation")!);
                    }

                    if (ToMegabytes(Value(item, "Limit"), units) is { } limit)
                    {
                        set("sched.mem.max", limit, ChildOf(item, "Limit")!);
                    }

                    break;
                case "15" or "16":
                {
                    var key = DeviceKey(item) ?? $"ide{1 + Next("orphan-cdrom")}:0";
                    set($"{key}.present", "TRUE", item);
                    var client = subType.StartsWith("vmware.cdrom.remote", StringComparison.OrdinalIgnoreCase);
                    var image = !client && (backing is not null || subType.Equals("vmware.cdrom.iso", StringComparison.OrdinalIgnoreCase));
                    set($"{key}.deviceType", image ? "cdrom-image" : "atapi-cdrom", item);
                    set($"{key}.fileName", backing ?? "", (XObject?)ChildOf(item, "HostResource") ?? item);
                    if (client)
                    {
                        set($"{key}.clientDevice", "TRUE", item);
                    }

                    SetConnected(item, key, autoConnect, set);
                    break;
                }

                case "17":
                {
                    var key = DeviceKey(item) ?? $"scsi0:{Next("orphan-disk")}";
                    set($"{key}.present", "TRUE", item);
                    set($"{key}.deviceType", key.StartsWith("ide", StringComparison.Ordinal) ? "ata-hardDisk" : "scsi-hardDisk", item);
                    if (backing is not null)
                    {
                        set($"{key}.fileName", backing, ChildOf(item, "HostResource")!);
                    }

                    foreach (var config in VmwConfigs(item))
                    {
                        if (string.Equals(config.Key, "backing.diskMode", StringComparison.OrdinalIgnoreCase))
                        {
                            set($"{key}.mode", config.Value.Replace('_', '-'), config.Element);
                        }
                    }

                    break;
                }

                case "14":
                {
                    var key = $"floppy{Next("floppy")}";
                    set($"{key}.present", "TRUE", item);
                    if (backing is not null)
                    {
                        set($"{key}.fileName", backing, ChildOf(item, "HostResource")!);
                    }

                    if (subType.StartsWith("vmware.floppy.remote", StringComparison.OrdinalIgnoreCase))
                    {
                        set($"{key}.clientDevice", "TRUE", item);
                    }

                    SetConnected(item, key, autoConnect, set);
                    break;
                }

                case "21":
                {
                    var key = $"serial{Next("serial")}";
                    set($"{key}.present", "TRUE", item);
                    set($"{key}.fileType", SerialType(subType), item);
                    SetConnected(item, key, autoConnect, set);
                    break;
                }

                case "22":
                {
                    var key = $"parallel{Next("parallel")}";
                    set($"{key}.present", "TRUE", item);
                    SetConnected(item, key, autoConnect, set);
                    break;
                }

                case "23":
                    var controllerKey = subType.ToLowerInvariant() switch
                    {
                        "vmware.usb.ehci" => "ehci",
                        "vmware.usb.xhci" => "usb_xhci",
                        _ => "usb",
                    };
                    set($"{controllerKey}.present", "TRUE", item);
                    if (VmwConfigs(item).FirstOrDefault(c => string.Equals(c.Key, "ehciEnabled", StringComparison.OrdinalIgnoreCase)) is { Element: not null } ehci
                        && string.Equals(ehci.Value, "true", StringComparison.OrdinalIgnoreCase))
                    {
                        set("ehci.present", "TRUE", ehci.Element);
                    }

                    break;
                case "35":
                    set("sound.present", "TRUE", item);
                    if (subType.Length > 0)
                    {
                        set("sound.virtualDev", subType, item);
                    }

                    break;
                case "10":
                {
                    var key = $"ethernet{Next("ethernet")}";
                    set($"{key}.present", "TRUE", item);
                    if (subType.Length > 0)
                    {
                        set($"{key}.virtualDev", subType.ToLowerInvariant(), item);
                    }

                    if (Value(item, "Connection") is { } network)
                    {
                        set($"{key}.networkName", network, item);
                    }

                    SetConnected(item, key, autoConnect, set);
                    break;
                }

                case "24":
                    set("svga.present", "TRUE", item);
                    foreach (var config in VmwConfigs(item))
                    {
                        if (string.Equals(config.Key, "enable3DSupport", StringComparison.OrdinalIgnoreCase))
                        {
                            set("mks.enable3d", config.Value.ToUpperInvariant(), config.Element);
                        }
                    }

                    break;
                case "1" when subType.StartsWith("vmware.pci.passthrough", StringComparison.OrdinalIgnoreCase):
                {
                    var key = $"pciPassthru{Next("pciPassthru")}";
                    set($"{key}.present", "TRUE", item);
                    set($"{key}.deviceType", subType, item);
                    break;
                }

                case "1" when subType.StartsWith("vmware.soundcard", StringComparison.OrdinalIgnoreCase):
                    set("sound.present", "TRUE", item);
                    set("sound.virtualDev", subType, item);
                    break;
                case "1" when subType.Equals("vmware.vtpm", StringComparison.OrdinalIgnoreCase):
                    set("vtpm.present", "TRUE", item);
                    break;
            }
        }

        // vmw:Config directly in the hardware section: vSphere API settings of the VM.
        foreach (var config in hardware.Elements(XName.Get("Config", VmwNamespace)))
        {
            if (VmwAttr(config, "key") is not { Length: > 0 } key)
            {
                continue;
            }

            var value = VmwAttr(config, "value") ?? "";
            set(key, value, config);
            if (ApiToVmx.TryGetValue(key, out var vmxKey))
            {
                set(vmxKey, value.ToUpperInvariant() is "TRUE" or "FALSE" ? value.ToUpperInvariant() : value, config);
            }
        }
    }

    private static void SetConnected(XElement item, string key, string? autoConnect, Action<string, string, XObject> set)
    {
        if (autoConnect is not null)
        {
            set($"{key}.startConnected", string.Equals(autoConnect.Trim(), "true", StringComparison.OrdinalIgnoreCase) ? "TRUE" : "FALSE", ChildOf(item, "AutomaticAllocation")!);
        }
    }

    private static void SetMhz(XElement item, string element, string key, Action<string, string, XObject> set)
    {
        if (Value(item, element) is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            var units = Value(item, "AllocationUnits")?.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
            var mhz = units switch
            {
                "hertz*10^9" => v * 1000,
                "hertz*10^3" => v / 1000,
                "hertz" => v / 1_000_000,
                _ => v,
            };
            set(key, mhz.ToString(CultureInfo.InvariantCulture), ChildOf(item, element)!);
        }
    }

    /// <summary>A quantity in the item's allocation units ("byte * 2^20", "MegaBytes", "GB" ...) in MB, or null.</summary>
    private static string? ToMegabytes(string? quantity, string? units)
    {
        if (quantity is null || !double.TryParse(quantity, NumberStyles.Float, CultureInfo.InvariantCulture, out var q))
        {
            return null;
        }

        var u = (units ?? "byte * 2^20").Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
        double factor = u switch
        {
            "byte*2^20" or "megabytes" or "mb" or "mib" => 1,
            "byte*2^30" or "gigabytes" or "gb" or "gib" => 1024,
            "byte*2^10" or "kilobytes" or "kb" or "kib" => 1.0 / 1024,
            "byte" or "bytes" => 1.0 / (1024 * 1024),
            _ => 1,
        };
        return Math.Round(q * factor).ToString(CultureInfo.InvariantCulture);
    }

    private static string SerialType(string subType) => subType.ToLowerInvariant() switch
    {
        "vmware.serialport.device" => "device",
        "vmware.serialport.uri" => "network",
        "vmware.serialport.pipe" => "pipe",
        "vmware.serialport.file" => "file",
        "" => "unknown",
        var other => other,
    };

    private static string? BusOf(XElement item) =>
        (Value(item, "ResourceType"), (Value(item, "ResourceSubType") ?? "").ToLowerInvariant()) switch
        {
            ("5", _) => "ide",
            ("6", _) => "scsi",
            ("20", var s) when s.Contains("nvme", StringComparison.Ordinal) => "nvme",
            ("20", _) => "sata",
            _ => null,
        };

    /// <summary>"ovf:/file/file1" or "ovf:/disk/vmdisk1" → the referenced file name; other text as written.</summary>
    private static string? ResolveBacking(string? hostResource, Dictionary<string, string?> files, Dictionary<string, string?> disks)
    {
        if (string.IsNullOrWhiteSpace(hostResource))
        {
            return null;
        }

        var text = hostResource.Trim();
        foreach (var (prefix, isDisk) in new[] { ("ovf:/file/", false), ("/file/", false), ("ovf:/disk/", true), ("/disk/", true) })
        {
            if (text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                var id = text[prefix.Length..];
                if (isDisk && disks.TryGetValue(id, out var fileRef) && fileRef is not null && files.TryGetValue(fileRef, out var diskFile))
                {
                    return diskFile ?? id;
                }

                return !isDisk && files.TryGetValue(id, out var href) ? href ?? id : id;
            }
        }

        return text;
    }

    private static string? DefaultConfiguration(XElement root)
    {
        var section = root.Descendants().FirstOrDefault(e => IsA(e, "DeploymentOptionSection"));
        if (section is null)
        {
            return null;
        }

        var configurations = section.Elements().Where(e => e.Name.LocalName == "Configuration").ToList();
        var chosen = configurations.FirstOrDefault(c => string.Equals(Attr(c, "default"), "true", StringComparison.OrdinalIgnoreCase)) ?? configurations.FirstOrDefault();
        return chosen is null ? null : Attr(chosen, "id");
    }

    private static bool InConfiguration(XElement item, string? defaultConfiguration)
    {
        var configuration = Attr(item, "configuration");
        return configuration is null || defaultConfiguration is null
               || configuration.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Contains(defaultConfiguration, StringComparer.Ordinal);
    }

    private static IEnumerable<(string Key, string Value, XElement Element)> VmwConfigs(XElement item) =>
        item.Elements(XName.Get("Config", VmwNamespace))
            .Where(c => VmwAttr(c, "key") is { Length: > 0 })
            .Select(c => (VmwAttr(c, "key")!, VmwAttr(c, "value") ?? "", c));

    /// <summary>True when <paramref name="element"/>'s nearest VirtualSystem ancestor is <paramref name="system"/>.</summary>
    private static bool BelongsTo(XElement element, XElement system) =>
        element.Ancestors().FirstOrDefault(a => IsA(a, "VirtualSystem")) == system;

    private static string? SystemType(XElement hardware) =>
        Child(hardware, "System") is { } s ? Value(s, "VirtualSystemType") : null;

    /// <summary>OVF 1.x names the element (VirtualSystem); OVF 0.9 writes Content or Section with xsi:type="ovf:VirtualSystem_Type".</summary>
    private static bool IsA(XElement element, string kind) =>
        element.Name.LocalName == kind
        || (element.Name.LocalName is "Content" or "Section"
            && element.Attributes().FirstOrDefault(a => a.Name.LocalName == "type") is { } type
            && (type.Value == kind + "_Type" || type.Value.EndsWith(":" + kind + "_Type", StringComparison.Ordinal)));

    /// <summary>A child element by local name, case-insensitively (OVF 0.9 writes InstanceId, 1.x InstanceID).</summary>
    private static XElement? Child(XElement parent, string localName) =>
        parent.Elements().FirstOrDefault(e => string.Equals(e.Name.LocalName, localName, StringComparison.OrdinalIgnoreCase));

    private static XElement? ChildOf(XElement parent, string localName) => Child(parent, localName);

    private static string? Value(XElement parent, string localName) =>
        Child(parent, localName)?.Value.Trim() is { Length: > 0 } v ? v : null;

    /// <summary>An attribute by local name in the OVF namespace or none (ovf:id, id ...).</summary>
    private static string? Attr(XElement element, string localName) =>
        element.Attributes().FirstOrDefault(a => a.Name.LocalName == localName && a.Name.NamespaceName != VmwNamespace)?.Value;

    private static string? VmwAttr(XElement element, string localName) =>
        element.Attribute(XName.Get(localName, VmwNamespace))?.Value ?? element.Attributes().FirstOrDefault(a => a.Name.LocalName == localName)?.Value;

    private static int LineOf(XObject node) => node is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0;
}
