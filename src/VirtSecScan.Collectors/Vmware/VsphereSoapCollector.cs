using System.Collections.Immutable;
using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Network;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// Reads vSphere Web Services (SOAP, <c>urn:vim25</c>) responses, as vCenter or an ESXi host returns them:
/// <list type="bullet">
/// <item><c>RetrievePropertiesExResponse</c> (or <c>RetrievePropertiesResponse</c>) holding <c>HostSystem</c> and
/// <c>VirtualMachine</c> objects. A VM becomes a <see cref="VmConfig"/> with the keys its <c>.vmx</c> file would have
/// (extraConfig as is; hardware devices, firmware, boot and VM options mapped to their <c>.vmx</c> keys), so the VM
/// rules judge it exactly like a file. A host becomes an <c>esxi-host</c> fact with the keys the esxcli outputs give
/// (advanced options under both <c>/Path/Name</c> and <c>Path.Name</c>, services, lockdown mode, firewall, vSwitch and
/// port group security, NTP servers) and a <see cref="HypervisorBuild"/> from <c>config.product</c>.</item>
/// <item><c>RetrieveServiceContentResponse</c>: the endpoint's <c>about</c>; for vCenter a build fact
/// (build source <c>soap</c>, the API build).</item>
/// </list>
/// An object with a property the server would not return (a <c>missingSet</c> fault such as NoPermission) is not
/// turned into a fact: a half-read VM would pass rules on defaults. It becomes an error naming the object and property.
/// The XML is untrusted: no DTD, no external entities.
/// </summary>
public sealed class VsphereSoapCollector : ICollector
{
    public const string Properties = "vsphere-retrieve-properties";
    public const string ServiceContent = "vsphere-service-content";

    private const string Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    public string? Detect(InputFile file)
    {
        var head = file.Text.Length > 4096 ? file.Text[..4096] : file.Text;
        if (!head.TrimStart().StartsWith('<') || !head.Contains("urn:vim25", StringComparison.Ordinal))
        {
            return null;
        }

        if (head.Contains("RetrievePropertiesExResponse", StringComparison.Ordinal) || head.Contains("RetrievePropertiesResponse", StringComparison.Ordinal))
        {
            return Properties;
        }

        return head.Contains("RetrieveServiceContentResponse", StringComparison.Ordinal) ? ServiceContent : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var doc = PfSenseCollector.LoadXml(file, diagnostics);
        if (doc?.Root is null)
        {
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        if (Descendants(doc.Root, "Fault").FirstOrDefault() is { } fault)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, LineOf(fault), $"the response is a SOAP fault ({FaultType(fault)}); nothing collected"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        return format == ServiceContent
            ? CollectServiceContent(file, format, doc.Root, diagnostics)
            : CollectProperties(file, format, doc.Root, diagnostics);
    }

    private static CollectorResult CollectServiceContent(InputFile file, string format, XElement root, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var about = Descendants(root, "about").FirstOrDefault();
        if (about is null)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, null, "the service content has no 'about' element"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var apiType = Child(about, "apiType");
        if (apiType != "VirtualCenter")
        {
            // An ESXi host describes itself again in its HostSystem object (config.product), which names the host.
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, LineOf(about), $"endpoint is {apiType ?? "an unknown API type"}; its build is read from the host objects"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var version = Child(about, "version") ?? "";
        var buildText = Child(about, "build") ?? "";
        var resource = VersionFacts.Resource(Products.Vcenter, VersionFacts.HostName(file), file, LineOf(about));
        if (!long.TryParse(buildText, NumberStyles.None, CultureInfo.InvariantCulture, out var build))
        {
            return new CollectorResult(format, [VersionFacts.Unplaced(Products.Vcenter, resource, version, $"build '{VersionFacts.Short(buildText)}' is not a number")], diagnostics.ToImmutable());
        }

        var fact = VersionFacts.Vmware(Products.Vcenter, resource, version, build, null, Child(about, "fullName"), null, "soap");
        return new CollectorResult(format, [fact], diagnostics.ToImmutable());
    }

    private sealed record ManagedObject(string Type, string Id, XElement Element, Dictionary<string, XElement> Props);

    private static CollectorResult CollectProperties(InputFile file, string format, XElement root, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var objects = new List<ManagedObject>();
        foreach (var content in root.Descendants().Where(e => e.Name.LocalName is "objects" or "returnval" && e.Elements().Any(c => c.Name.LocalName == "obj")))
        {
            var obj = content.Elements().First(c => c.Name.LocalName == "obj");
            var type = (string?)obj.Attribute("type") ?? "";
            var id = obj.Value.Trim();
            var props = new Dictionary<string, XElement>(StringComparer.Ordinal);
            foreach (var prop in content.Elements().Where(c => c.Name.LocalName == "propSet"))
            {
                if (Child(prop, "name") is { } name && prop.Elements().FirstOrDefault(c => c.Name.LocalName == "val") is { } val)
                {
                    props[name] = val;
                }
            }

            var missing = MissingProperties(content);
            if (missing.Count > 0)
            {
                var what = string.Join(", ", missing.Select(m => $"{m.Path} ({m.Fault})"));
                var label = props.TryGetValue("name", out var n) ? $"{type} '{n.Value}' ({id})" : $"{type} {id}";
                diagnostics.Add(Diagnostic.Error(file.DisplayPath, LineOf(content), $"{label}: the server did not return {what}; the object is not judged"));
                continue;
            }

            objects.Add(new ManagedObject(type, id, content, props));
        }

        var hostNames = objects.Where(o => o.Type == "HostSystem")
            .ToDictionary(o => o.Id, o => o.Props.TryGetValue("name", out var n) ? n.Value.Trim() : o.Id, StringComparer.Ordinal);
        var facts = new List<object>();
        foreach (var o in objects)
        {
            switch (o.Type)
            {
                case "HostSystem":
                    facts.AddRange(Host(file, o, hostNames[o.Id], diagnostics));
                    break;
                case "VirtualMachine":
                    if (Vm(file, o, hostNames, diagnostics) is { } vm)
                    {
                        facts.Add(vm);
                    }

                    break;
            }
        }

        if (objects.Count == 0)
        {
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, null, "the response holds no objects"));
        }

        return new CollectorResult(format, [.. facts], diagnostics.ToImmutable());
    }

    /// <summary>
    /// The properties the server would not return for one object (its <c>missingSet</c>), with their fault types.
    /// InvalidProperty is left out: the server's API version has no such property (a newer option), so its keys
    /// simply stay absent.
    /// </summary>
    public static IReadOnlyList<(string Path, string Fault)> MissingProperties(XElement objectContent) =>
        objectContent.Elements().Where(c => c.Name.LocalName == "missingSet")
            .Select(m => (Path: Child(m, "path") ?? "", Fault: FaultType(m)))
            .Where(m => m.Fault != "InvalidProperty")
            .ToList();

    // ---------------------------------------------------------------- hosts

    private static IEnumerable<object> Host(InputFile file, ManagedObject o, string name, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var settings = new List<Setting>();
        void Add(string key, string value, XElement at) => settings.Add(new Setting(key, value, LineOf(at) ?? 0));

        if (o.Props.TryGetValue("config.product", out var product))
        {
            var version = Child(product, "version") ?? "";
            var buildText = Child(product, "build") ?? "";
            var resource = EsxiText.HostResource(name, file.DisplayPath, LineOf(product));
            yield return long.TryParse(buildText, NumberStyles.None, CultureInfo.InvariantCulture, out var build)
                ? VersionFacts.Vmware(Products.Esxi, resource, version, build, null, null, null, "soap")
                : VersionFacts.Unplaced(Products.Esxi, resource, version, $"build '{VersionFacts.Short(buildText)}' is not a number");
        }

        if (o.Props.TryGetValue("config.option", out var options))
        {
            foreach (var option in Items(options))
            {
                if (Child(option, "key") is not { Length: > 0 } key)
                {
                    continue;
                }

                var value = OptionValue(option);
                Add(key, value, option);
                Add("/" + key.Replace('.', '/'), value, option);
            }
        }

        if (o.Props.TryGetValue("config.service", out var services))
        {
            foreach (var service in Descendants(services, "service"))
            {
                if (Child(service, "key") is not { Length: > 0 } key)
                {
                    continue;
                }

                Add($"service[{key}].running", Bool(Child(service, "running")), service);
                if (Child(service, "policy") is { } policy)
                {
                    Add($"service[{key}].policy", policy, service);
                }

                if (key == "ntpd")
                {
                    // esxcli system ntp get prints "Enabled: true" when ntpd is set to start with the host.
                    Add("ntp.enabled", Child(service, "policy") == "on" ? "true" : "false", service);
                }
            }
        }

        if (o.Props.TryGetValue("config.lockdownMode", out var lockdown))
        {
            Add("lockdown.mode", lockdown.Value.Trim(), lockdown);
        }

        if (o.Props.TryGetValue("config.firewall", out var firewall))
        {
            if (Descendants(firewall, "defaultPolicy").FirstOrDefault() is { } policy && Child(policy, "incomingBlocked") is { } blocked)
            {
                Add("firewall.defaultAction", Bool(blocked) == "true" ? "DROP" : "PASS", policy);
            }

            foreach (var ruleset in firewall.Elements().Where(e => e.Name.LocalName == "ruleset"))
            {
                if (Child(ruleset, "key") is not { Length: > 0 } key)
                {
                    continue;
                }

                Add($"firewall.ruleset[{key}].enabled", Bool(Child(ruleset, "enabled")), ruleset);
                if (ruleset.Elements().FirstOrDefault(e => e.Name.LocalName == "allowedHosts") is { } allowed)
                {
                    var all = Bool(Child(allowed, "allIp")) == "true";
                    var list = allowed.Elements().Where(e => e.Name.LocalName == "ipAddress").Select(e => e.Value.Trim())
                        .Concat(allowed.Elements().Where(e => e.Name.LocalName == "ipNetwork").Select(e => $"{Child(e, "network")}/{Child(e, "prefixLength")}"));
                    Add($"firewall.ruleset[{key}].allowedIpAddresses", all ? "All" : string.Join(", ", list), allowed);
                }

                if (Child(ruleset, "ipListUserConfigurable") is { } ipConfigurable)
                {
                    Add($"firewall.ruleset[{key}].allowedIpConfigurable", Bool(ipConfigurable), ruleset);
                }

                if (Child(ruleset, "userControllable") is { } controllable)
                {
                    Add($"firewall.ruleset[{key}].enableDisableConfigurable", Bool(controllable), ruleset);
                }
            }
        }

        if (o.Props.TryGetValue("config.network.vswitch", out var vswitches))
        {
            foreach (var vswitch in Items(vswitches))
            {
                if (Child(vswitch, "name") is not { Length: > 0 } vs)
                {
                    continue;
                }

                if (Path(vswitch, "spec", "policy", "security") is { } security)
                {
                    AddSecurity($"vswitch[{vs}]", security, Add);
                }

                if (Path(vswitch, "mtu") is { } mtu)
                {
                    Add($"vswitch[{vs}].mtu", mtu.Value.Trim(), mtu);
                }
            }
        }

        if (o.Props.TryGetValue("config.network.portgroup", out var portgroups))
        {
            foreach (var portgroup in Items(portgroups))
            {
                var spec = Path(portgroup, "spec");
                if (spec is null || Child(spec, "name") is not { Length: > 0 } pg)
                {
                    continue;
                }

                if (Child(spec, "vlanId") is { } vlan)
                {
                    Add($"portgroup[{pg}].vlanId", vlan, spec);
                }

                if (Child(spec, "vswitchName") is { } vs)
                {
                    Add($"portgroup[{pg}].virtualSwitch", vs, spec);
                }

                if (Path(portgroup, "computedPolicy", "security") is { } effective)
                {
                    AddSecurity($"portgroup[{pg}]", effective, Add);
                }

                // A port group overrides its vSwitch for a flag exactly when its own spec sets that flag.
                var own = Path(spec, "policy", "security");
                foreach (var (element, flag) in SecurityFlags)
                {
                    Add($"portgroup[{pg}].security.overrideVswitch{char.ToUpperInvariant(flag[0])}{flag[1..]}",
                        own is not null && Child(own, element) is not null ? "true" : "false", spec);
                }
            }
        }

        if (o.Props.TryGetValue("config.dateTimeInfo", out var dateTime) && Path(dateTime, "ntpConfig") is { } ntp)
        {
            Add("ntp.servers", string.Join(", ", ntp.Elements().Where(e => e.Name.LocalName == "server").Select(e => e.Value.Trim())), ntp);
        }

        if (settings.Count == 0)
        {
            yield break;
        }

        var hostResource = EsxiText.HostResource(name, file.DisplayPath, LineOf(o.Element));
        yield return new ConfigFact(hostResource, EsxiText.Kind, settings.ToSettingMap());
    }

    private static readonly (string Element, string Flag)[] SecurityFlags =
    [
        ("allowPromiscuous", "allowPromiscuous"), ("macChanges", "allowMacAddressChange"), ("forgedTransmits", "allowForgedTransmits"),
    ];

    private static void AddSecurity(string prefix, XElement security, Action<string, string, XElement> add)
    {
        foreach (var (element, flag) in SecurityFlags)
        {
            if (security.Elements().FirstOrDefault(e => e.Name.LocalName == element) is { } value)
            {
                add($"{prefix}.security.{flag}", Bool(value.Value), value);
            }
        }
    }

    // ---------------------------------------------------------------- virtual machines

    private static VmConfig? Vm(InputFile file, ManagedObject o, Dictionary<string, string> hostNames, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var settings = new Dictionary<string, Setting>(StringComparer.OrdinalIgnoreCase);
        void Add(string key, string value, XElement at) => settings[key] = new Setting(key, value, LineOf(at) ?? 0);
        void Flag(string key, XElement? element)
        {
            if (element is not null)
            {
                Add(key, Bool(element.Value) == "true" ? "TRUE" : "FALSE", element);
            }
        }

        var name = o.Props.TryGetValue("name", out var n) ? n.Value.Trim() : o.Props.TryGetValue("config.name", out var cn) ? cn.Value.Trim() : o.Id;
        if (!o.Props.TryGetValue("config.extraConfig", out var extra) || !o.Props.TryGetValue("config.hardware.device", out var devices))
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, LineOf(o.Element), $"VirtualMachine '{name}' ({o.Id}): config.extraConfig and config.hardware.device are needed; the VM is not judged"));
            return null;
        }

        Add("displayName", name, o.Props.GetValueOrDefault("name") ?? o.Element);
        foreach (var option in Items(extra))
        {
            if (Child(option, "key") is { Length: > 0 } key)
            {
                Add(key, OptionValue(option), option);
            }
        }

        if (o.Props.TryGetValue("config.uuid", out var uuid))
        {
            Add("uuid.bios", uuid.Value.Trim(), uuid);
        }

        if (o.Props.TryGetValue("config.instanceUuid", out var instance))
        {
            Add("vc.uuid", instance.Value.Trim(), instance);
        }

        if (o.Props.TryGetValue("config.version", out var hw))
        {
            var v = hw.Value.Trim();
            Add("virtualHW.version", v.StartsWith("vmx-", StringComparison.Ordinal) ? v[4..] : v, hw);
        }

        if (o.Props.TryGetValue("config.guestId", out var guest))
        {
            Add("guestOS", GuestOs(guest.Value.Trim()), guest);
        }

        if (o.Props.TryGetValue("config.firmware", out var firmware))
        {
            Add("firmware", firmware.Value.Trim(), firmware);
        }

        if (o.Props.TryGetValue("config.bootOptions", out var boot))
        {
            Flag("uefi.secureBoot.enabled", boot.Elements().FirstOrDefault(e => e.Name.LocalName == "efiSecureBootEnabled"));
        }

        if (o.Props.TryGetValue("config.flags", out var flags))
        {
            Flag("logging", flags.Elements().FirstOrDefault(e => e.Name.LocalName == "enableLogging"));
        }

        if (o.Props.TryGetValue("config.migrateEncryption", out var migrate))
        {
            Add("migrate.encryptionMode", migrate.Value.Trim(), migrate);
        }

        if (o.Props.TryGetValue("config.ftEncryptionMode", out var ft))
        {
            Add("ftcpt.ftEncryptionMode", ft.Value.Trim(), ft);
        }

        Devices(devices, Add, Flag);

        var id = settings.TryGetValue("uuid.bios", out var bios) && VmxCollector.NormaliseUuid(bios.Value) is { } u ? "vm:" + u : "vm:name:" + name.ToLowerInvariant();
        string? host = null;
        if (o.Props.TryGetValue("runtime.host", out var hostRef))
        {
            host = hostNames.GetValueOrDefault(hostRef.Value.Trim());
        }

        var resource = new ResourceRef("vm", id, name, Host: host, Source: file.DisplayPath, Line: LineOf(o.Element));
        return new VmConfig(resource, settings.Values.ToSettingMap());
    }

    private static readonly Dictionary<string, string> NicModels = new(StringComparer.Ordinal)
    {
        ["VirtualE1000"] = "e1000", ["VirtualE1000e"] = "e1000e", ["VirtualVmxnet3"] = "vmxnet3", ["VirtualVmxnet2"] = "vmxnet2",
        ["VirtualVmxnet"] = "vmxnet", ["VirtualPCNet32"] = "vlance", ["VirtualSriovEthernetCard"] = "sriov", ["VirtualVmxnet3Vrdma"] = "vrdma",
    };

    /// <summary>Maps <c>config.hardware.device</c> to the keys a <c>.vmx</c> file holds for the same devices.</summary>
    private static void Devices(XElement devices, Action<string, string, XElement> add, Action<string, XElement?> flag)
    {
        var list = Items(devices).Select(d => (Element: d, Type: TypeOf(d), Key: Int(Child(d, "key")) ?? 0)).OrderBy(d => d.Key).ToList();
        var controllers = new Dictionary<int, string>();
        foreach (var (d, type, key) in list)
        {
            var bus = Int(Child(d, "busNumber"));
            var prefix = type switch
            {
                "VirtualIDEController" => "ide",
                "VirtualAHCIController" => "sata",
                "VirtualNVMEController" => "nvme",
                _ when type.EndsWith("SCSIController", StringComparison.Ordinal) || type is "VirtualLsiLogicController" or "VirtualLsiLogicSASController" or "VirtualBusLogicController" => "scsi",
                _ => null,
            };
            if (prefix is not null && bus is not null)
            {
                controllers[key] = $"{prefix}{bus}";
                if (prefix != "ide")
                {
                    add($"{prefix}{bus}.present", "TRUE", d);
                }
            }
        }

        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        string Next(string kind)
        {
            var i = counters.GetValueOrDefault(kind);
            counters[kind] = i + 1;
            return kind + i.ToString(CultureInfo.InvariantCulture);
        }

        string? Slot(XElement d) =>
            Int(Child(d, "controllerKey")) is { } c && controllers.TryGetValue(c, out var ctl) && Int(Child(d, "unitNumber")) is { } unit
                ? $"{ctl}:{unit}"
                : null;

        void Connectable(string item, XElement d)
        {
            if (Path(d, "connectable") is { } connectable)
            {
                flag($"{item}.startConnected", connectable.Elements().FirstOrDefault(e => e.Name.LocalName == "startConnected"));
            }
        }

        foreach (var (d, type, _) in list)
        {
            var backing = Path(d, "backing");
            var backingType = backing is null ? "" : TypeOf(backing);
            switch (type)
            {
                case "VirtualCdrom" when Slot(d) is { } slot:
                    add($"{slot}.present", "TRUE", d);
                    switch (backingType)
                    {
                        case "VirtualCdromIsoBackingInfo":
                            add($"{slot}.deviceType", "cdrom-image", backing!);
                            add($"{slot}.fileName", Child(backing!, "fileName") ?? "", backing!);
                            break;
                        case "VirtualCdromAtapiBackingInfo":
                            add($"{slot}.deviceType", "atapi-cdrom", backing!);
                            add($"{slot}.fileName", Child(backing!, "deviceName") ?? "", backing!);
                            break;
                        case "VirtualCdromPassthroughBackingInfo":
                            add($"{slot}.deviceType", "cdrom-raw", backing!);
                            add($"{slot}.fileName", Child(backing!, "deviceName") ?? "", backing!);
                            break;
                        case "VirtualCdromRemotePassthroughBackingInfo" or "VirtualCdromRemoteAtapiBackingInfo":
                            add($"{slot}.deviceType", "atapi-cdrom", backing!);
                            add($"{slot}.clientDevice", "TRUE", backing!);
                            break;
                    }

                    Connectable(slot, d);
                    break;

                case "VirtualDisk" when Slot(d) is { } slot:
                    add($"{slot}.present", "TRUE", d);
                    if (backing is not null && Child(backing, "fileName") is { } disk)
                    {
                        add($"{slot}.fileName", disk, backing);
                    }

                    if (backing is not null && Child(backing, "diskMode") is { } mode)
                    {
                        add($"{slot}.mode", mode.Replace('_', '-'), backing);
                    }

                    break;

                case "VirtualFloppy":
                {
                    var item = Next("floppy");
                    add($"{item}.present", "TRUE", d);
                    var (fileType, fileName) = backingType switch
                    {
                        "VirtualFloppyImageBackingInfo" => ("file", Child(backing!, "fileName")),
                        "VirtualFloppyDeviceBackingInfo" => ("device", Child(backing!, "deviceName")),
                        _ => (null, null),
                    };
                    if (fileType is not null)
                    {
                        add($"{item}.fileType", fileType, backing!);
                        add($"{item}.fileName", fileName ?? "", backing!);
                    }
                    else if (backingType == "VirtualFloppyRemoteDeviceBackingInfo")
                    {
                        add($"{item}.clientDevice", "TRUE", backing!);
                    }

                    Connectable(item, d);
                    break;
                }

                case "VirtualSerialPort" or "VirtualParallelPort":
                {
                    var item = Next(type == "VirtualSerialPort" ? "serial" : "parallel");
                    add($"{item}.present", "TRUE", d);
                    var fileType = backingType switch
                    {
                        "VirtualSerialPortFileBackingInfo" or "VirtualParallelPortFileBackingInfo" => "file",
                        "VirtualSerialPortDeviceBackingInfo" or "VirtualParallelPortDeviceBackingInfo" => "device",
                        "VirtualSerialPortPipeBackingInfo" => "pipe",
                        "VirtualSerialPortURIBackingInfo" => "network",
                        _ => null,
                    };
                    if (fileType is not null)
                    {
                        add($"{item}.fileType", fileType, backing!);
                        add($"{item}.fileName", Child(backing!, "fileName") ?? Child(backing!, "deviceName") ?? Child(backing!, "pipeName") ?? Child(backing!, "serviceURI") ?? "", backing!);
                    }

                    Connectable(item, d);
                    break;
                }

                case "VirtualPCIPassthrough":
                    add($"{Next("pciPassthru")}.present", "TRUE", d);
                    break;

                case "VirtualUSBController":
                    add("usb.present", "TRUE", d);
                    if (Child(d, "ehciEnabled") is { } ehci && Bool(ehci) == "true")
                    {
                        add("ehci.present", "TRUE", d);
                    }

                    break;

                case "VirtualUSBXHCIController":
                    add("usb_xhci.present", "TRUE", d);
                    break;

                case "VirtualMachineVideoCard":
                    add("svga.present", "TRUE", d);
                    flag("mks.enable3d", d.Elements().FirstOrDefault(e => e.Name.LocalName == "enable3DSupport"));
                    break;

                case "VirtualMachineVMCIDevice" or "VirtualVMCIDevice":
                    add("vmci0.present", "TRUE", d);
                    break;

                case "VirtualTPM":
                    add("vtpm.present", "TRUE", d);
                    break;

                case "VirtualEnsoniq1371" or "VirtualHdAudioCard" or "VirtualSoundBlaster16":
                    add("sound.present", "TRUE", d);
                    break;

                case var nic when NicModels.TryGetValue(nic, out var model):
                {
                    var item = Next("ethernet");
                    add($"{item}.present", "TRUE", d);
                    add($"{item}.virtualDev", model, d);
                    if (backingType == "VirtualEthernetCardNetworkBackingInfo" && Child(backing!, "deviceName") is { } network)
                    {
                        add($"{item}.networkName", network, backing!);
                    }
                    else if (backingType == "VirtualEthernetCardDistributedVirtualPortBackingInfo" && Path(backing!, "port") is { } port)
                    {
                        add($"{item}.dvs.switchId", Child(port, "switchUuid") ?? "", port);
                        add($"{item}.dvs.portgroupId", Child(port, "portgroupKey") ?? "", port);
                    }

                    if (Child(d, "addressType") is { } addressType)
                    {
                        add($"{item}.addressType", addressType.ToLowerInvariant() == "manual" ? "static" : addressType.ToLowerInvariant() == "assigned" ? "vpx" : "generated", d);
                    }

                    Connectable(item, d);
                    break;
                }
            }
        }
    }

    /// <summary>API guest ids to <c>.vmx</c> guestOS names: <c>windows9_64Guest</c> → <c>windows9-64</c>, <c>winLonghornGuest</c> → <c>longhorn</c>.</summary>
    private static string GuestOs(string guestId)
    {
        var g = guestId.EndsWith("Guest", StringComparison.Ordinal) ? guestId[..^5] : guestId;
        g = g == "winLonghorn" ? "longhorn" : g == "winLonghorn64" ? "longhorn-64" : g;
        return g.Replace('_', '-').ToLowerInvariant();
    }

    // ---------------------------------------------------------------- XML helpers

    private static IEnumerable<XElement> Descendants(XElement e, string localName) => e.Descendants().Where(d => d.Name.LocalName == localName);

    private static string? Child(XElement e, string localName) => e.Elements().FirstOrDefault(c => c.Name.LocalName == localName)?.Value.Trim();

    private static XElement? Path(XElement e, params string[] names)
    {
        var current = e;
        foreach (var name in names)
        {
            current = current.Elements().FirstOrDefault(c => c.Name.LocalName == name);
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    /// <summary>The items of an <c>ArrayOf...</c> value.</summary>
    private static IEnumerable<XElement> Items(XElement array) => array.Elements();

    private static string TypeOf(XElement e)
    {
        var type = (string?)e.Attribute(XName.Get("type", Xsi)) ?? e.Name.LocalName;
        var colon = type.IndexOf(':');
        return colon >= 0 ? type[(colon + 1)..] : type;
    }

    /// <summary>An OptionValue's value as text; booleans as esxcli prints them (true/false).</summary>
    private static string OptionValue(XElement option)
    {
        var value = option.Elements().FirstOrDefault(c => c.Name.LocalName == "value");
        if (value is null)
        {
            return "";
        }

        return TypeOf(value) is "boolean" ? Bool(value.Value) : value.Value;
    }

    private static string Bool(string? text) => text?.Trim() is "true" or "1" or "True" or "TRUE" ? "true" : "false";

    private static int? Int(string? text) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>
    /// The vSphere fault type (<c>InvalidLogin</c>, <c>NoPermission</c> ...) of a SOAP <c>Fault</c> element or a
    /// <c>missingSet</c> entry: the <c>xsi:type</c> of its fault detail.
    /// </summary>
    public static string FaultType(XElement e)
    {
        var detail = e.Descendants().FirstOrDefault(d => d.Attribute(XName.Get("type", Xsi)) is not null && d.Name.LocalName is "fault" or "detail" or "faultDetail" || d.Name.LocalName.EndsWith("Fault", StringComparison.Ordinal) && d.Name.LocalName != "Fault");
        if (detail?.Attribute(XName.Get("type", Xsi)) is { } t)
        {
            var type = t.Value;
            return type.Contains(':') ? type[(type.IndexOf(':') + 1)..] : type;
        }

        return detail?.Name.LocalName ?? Child(e, "faultstring") ?? "fault";
    }

    private static int? LineOf(XElement e) => ((IXmlLineInfo)e).HasLineInfo() ? ((IXmlLineInfo)e).LineNumber : null;
}
