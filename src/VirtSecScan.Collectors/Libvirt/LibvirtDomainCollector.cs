using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Libvirt;

/// <summary>
/// Reads a libvirt domain definition (<c>virsh dumpxml</c>, <c>virsh dumpxml --security-info</c>, or
/// <c>/etc/libvirt/qemu/&lt;name&gt;.xml</c>) into a <c>libvirt-domain</c> fact. The XML is untrusted: DTDs are
/// prohibited and nothing external is resolved. Keys are flattened paths (see docs/libvirt-proxmox-hyperv.md):
/// every child of <c>&lt;devices&gt;</c> is indexed per element name (<c>graphics[0].listen</c>), <c>&lt;seclabel&gt;</c>
/// is indexed, other elements are named by their path (<c>os.loader.secure</c>); a repeated nested element gets an
/// index from its second occurrence on. Each setting keeps the line of its element. Passwords (<c>passwd</c>) are
/// reduced to <c>….passwd.present</c>; the value is never kept.
/// </summary>
public sealed partial class LibvirtDomainCollector : ICollector
{
    public const string FormatId = "libvirt-domain-xml";

    public const string Kind = "libvirt-domain";

    public const string QemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0";

    /// <summary>Most settings kept from one domain; beyond that the rest is dropped with a warning.</summary>
    private const int MaxSettings = 20000;

    [GeneratedRegex(@"\A\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>\s*)*<domain[\s>]", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex DomainStart();

    [GeneratedRegex(@"(password|passwd|secret|data|key)=[^,\s]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretArgument();

    public string? Detect(InputFile file)
    {
        var head = file.Text.Length > 16384 ? file.Text[..16384] : file.Text;
        return DomainStart().IsMatch(head) ? FormatId : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        List<XElement> roots;
        try
        {
            roots = ParseAll(file.Text);
        }
        catch (XmlException ex)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, ex.LineNumber > 0 ? ex.LineNumber : null, $"not well-formed domain XML: {ex.Message}"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var domains = roots.Where(r => r.Name.LocalName == "domain").ToList();
        if (domains.Count == 0)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, roots.Count > 0 ? LineOf(roots[0]) : null, "no <domain> element"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        if (domains.Count > 1)
        {
            // virt-install --print-xml writes the install-time definition first and the persistent one last.
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, LineOf(domains[^1]),
                $"{domains.Count.ToString(CultureInfo.InvariantCulture)} domain definitions in one file (virt-install output); the last one is read"));
        }

        var root = domains[^1];

        var settings = new List<Setting>();
        var add = (string key, string value, int line) => settings.Add(new Setting(key, value, line));
        foreach (var attr in root.Attributes().Where(a => !a.IsNamespaceDeclaration && a.Name.Namespace == XNamespace.None && a.Name.LocalName != "id"))
        {
            add(attr.Name.LocalName, attr.Value, LineOf(root));
        }

        var indexed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var child in root.Elements())
        {
            var local = child.Name.LocalName;
            if (child.Name.Namespace == QemuNamespace)
            {
                FlattenQemuNamespace(child, add);
                continue;
            }

            if (local == "metadata" && child.Descendants().FirstOrDefault(e => e.Name.LocalName == "os" && e.Name.NamespaceName.Contains("libosinfo", StringComparison.Ordinal)) is { } osinfo)
            {
                add("metadata.libosinfo.os", osinfo.Attribute("id")?.Value ?? "", LineOf(osinfo)); // the guest OS as virt-install recorded it
            }

            if (child.Name.Namespace != XNamespace.None || local is "metadata" or "description" or "title")
            {
                continue; // application metadata and free text: not configuration
            }

            if (local == "devices")
            {
                var perName = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var device in child.Elements().Where(e => e.Name.Namespace == XNamespace.None))
                {
                    var deviceName = device.Name.LocalName;
                    perName.TryGetValue(deviceName, out var i);
                    perName[deviceName] = i + 1;
                    var prefix = $"{deviceName}[{i.ToString(CultureInfo.InvariantCulture)}]";
                    Flatten(device, prefix, add);
                    Derive(device, prefix, add);
                }

                continue;
            }

            string key;
            if (local == "seclabel")
            {
                indexed.TryGetValue(local, out var i);
                indexed[local] = i + 1;
                key = $"seclabel[{i.ToString(CultureInfo.InvariantCulture)}]";
            }
            else
            {
                indexed.TryGetValue(local, out var n);
                indexed[local] = n + 1;
                key = n == 0 ? local : $"{local}[{n.ToString(CultureInfo.InvariantCulture)}]";
            }

            Flatten(child, key, add);
        }

        DeriveFirmware(root, add);
        var agent = root.Element("devices")?.Elements("channel").FirstOrDefault(c =>
            c.Attribute("type")?.Value == "qemu-vdagent" || c.Element("target")?.Attribute("name")?.Value == "com.redhat.spice.0");
        add("spice.agent.present", agent is null ? "false" : "true", agent is null ? LineOf(root) : LineOf(agent));

        if (settings.Count > MaxSettings)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, null, $"{settings.Count} settings; only the first {MaxSettings} are kept"));
            settings = settings.Take(MaxSettings).ToList();
        }

        var nameElement = root.Element("name");
        var uuidElement = root.Element("uuid");
        var name = nameElement?.Value.Trim() is { Length: > 0 } n1 ? n1 : file.Stem;
        if (nameElement is null)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, LineOf(root), "domain has no <name>; the file name is used"));
        }

        var uuid = uuidElement?.Value.Trim().ToLowerInvariant();
        var id = "libvirt:" + (uuid is { Length: > 0 } ? uuid : name);
        var resource = new ResourceRef("vm", id, name, Source: file.DisplayPath, Line: nameElement is null ? LineOf(root) : LineOf(nameElement));
        return new CollectorResult(format, [ConfigFact.Of(resource, Kind, DeduplicateKeys(settings, file.DisplayPath, diagnostics))], diagnostics.ToImmutable());
    }

    /// <summary>
    /// Parses untrusted XML: no DTD (a DOCTYPE is an error), no resolver, line numbers kept. Several top-level
    /// elements are allowed (virt-install prints two domain definitions one after the other).
    /// </summary>
    public static List<XElement> ParseAll(string text)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            ConformanceLevel = ConformanceLevel.Fragment,
            MaxCharactersInDocument = 64L * 1024 * 1024,
        };
        using var reader = XmlReader.Create(new StringReader(text), settings);
        var roots = new List<XElement>();
        reader.Read();
        while (!reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element)
            {
                roots.Add(XElement.Load(reader.ReadSubtree(), LoadOptions.SetLineInfo));
                reader.Read(); // past the end of the element just loaded
            }
            else if (reader.NodeType is XmlNodeType.Text or XmlNodeType.CDATA)
            {
                throw new XmlException("text outside the root element", null, ((IXmlLineInfo)reader).LineNumber, ((IXmlLineInfo)reader).LinePosition);
            }
            else
            {
                reader.Read();
            }
        }

        if (roots.Count == 0)
        {
            throw new XmlException("no root element", null, 1, 1);
        }

        return roots;
    }

    private static IEnumerable<Setting> DeduplicateKeys(List<Setting> settings, string file, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var seen = new Dictionary<string, Setting>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in settings)
        {
            if (!seen.TryAdd(s.Key, s))
            {
                diagnostics.Add(Diagnostic.Info(file, s.Line, $"'{s.Key}' also on line {seen[s.Key].Line.ToString(CultureInfo.InvariantCulture)}; the first is kept"));
            }
        }

        return seen.Values;
    }

    internal static int LineOf(XObject node) => node is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0;

    /// <summary>Element attributes as <c>prefix.attr</c>, text as <c>prefix</c>, children by name (repeats indexed from the second).</summary>
    private static void Flatten(XElement element, string prefix, Action<string, string, int> add)
    {
        var line = LineOf(element);
        var hasContent = false;
        foreach (var attr in element.Attributes().Where(a => !a.IsNamespaceDeclaration))
        {
            hasContent = true;
            var name = attr.Name.LocalName;
            if (name is "passwd" or "password")
            {
                add($"{prefix}.{name}.present", attr.Value.Length > 0 ? "true" : "false", line);
                continue;
            }

            add($"{prefix}.{name}", attr.Value, line);
        }

        var children = element.Elements().Where(e => e.Name.Namespace == XNamespace.None).ToList();
        if (children.Count == 0)
        {
            var text = element.Value.Trim();
            if (text.Length > 0 || !hasContent)
            {
                add(prefix, text, line);
            }

            return;
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var child in children)
        {
            var name = child.Name.LocalName;
            counts.TryGetValue(name, out var n);
            counts[name] = n + 1;
            Flatten(child, n == 0 ? $"{prefix}.{name}" : $"{prefix}.{name}[{n.ToString(CultureInfo.InvariantCulture)}]", add);
        }
    }

    /// <summary>qemu:commandline and friends: arguments joined (secret-looking values masked), environment names.</summary>
    private static void FlattenQemuNamespace(XElement element, Action<string, string, int> add)
    {
        var local = "qemu:" + element.Name.LocalName;
        var args = element.Elements().Where(e => e.Name.LocalName == "arg").ToList();
        if (args.Count > 0)
        {
            var joined = string.Join(" ", args.Select(a => SecretArgument().Replace(a.Attribute("value")?.Value ?? "", m => m.Groups[1].Value + "=(masked)")));
            add($"{local}.args", joined, LineOf(element));
        }

        var i = 0;
        foreach (var env in element.Elements().Where(e => e.Name.LocalName == "env"))
        {
            add($"{local}.env[{i++.ToString(CultureInfo.InvariantCulture)}].name", env.Attribute("name")?.Value ?? "", LineOf(env));
        }

        if (args.Count == 0 && i == 0)
        {
            add(local, "", LineOf(element));
        }
    }

    /// <summary>Keys rules need that are not a single attribute: the effective listen address, password presence, VLAN tags, encryption.</summary>
    private static void Derive(XElement device, string prefix, Action<string, string, int> add)
    {
        var line = LineOf(device);
        switch (device.Name.LocalName)
        {
            case "graphics":
                var type = device.Attribute("type")?.Value ?? "";
                if (type is not ("vnc" or "spice" or "rdp"))
                {
                    break;
                }

                var hasPassword = device.Attribute("passwd") is { Value.Length: > 0 };
                if (device.Attribute("passwd") is null)
                {
                    add($"{prefix}.passwd.present", "false", line); // the attribute itself was flattened above
                }

                if (hasPassword)
                {
                    add($"{prefix}.auth.effective", "password", line);
                }

                if (EffectiveListen(device) is { } listen)
                {
                    add($"{prefix}.listen.effective", listen.Value, listen.Line);
                }

                var insecure = device.Elements("channel").Where(c => c.Attribute("mode")?.Value == "insecure")
                    .Select(c => c.Attribute("name")?.Value ?? "?").ToList();
                if (insecure.Count > 0)
                {
                    add($"{prefix}.channels.insecure", string.Join(",", insecure), line);
                }

                break;
            case "interface":
                var tags = device.Element("vlan")?.Elements("tag").Select(t => t.Attribute("id")?.Value).OfType<string>().ToList();
                if (tags is { Count: > 0 })
                {
                    add($"{prefix}.vlan.tag", string.Join(",", tags), LineOf(device.Element("vlan")!));
                }

                break;
            case "disk":
                var encryption = device.Element("encryption") ?? device.Element("source")?.Element("encryption");
                if (encryption is not null)
                {
                    add($"{prefix}.encrypted", encryption.Attribute("format")?.Value ?? "yes", LineOf(encryption));
                }

                break;
        }
    }

    /// <summary>
    /// Where a VNC/SPICE/RDP console listens, as far as the XML says: an address, <c>socket</c>, <c>none</c>; null when the
    /// XML leaves it to the host (qemu.conf <c>vnc_listen</c>) or to a virtual network that is not resolved here. Of several
    /// listen elements, a non-loopback one is reported.
    /// </summary>
    private static (string Value, int Line)? EffectiveListen(XElement graphics)
    {
        var line = LineOf(graphics);
        if (graphics.Attribute("socket") is not null)
        {
            return ("socket", line);
        }

        var candidates = new List<(string, int)>();
        foreach (var listen in graphics.Elements("listen"))
        {
            var lt = listen.Attribute("type")?.Value ?? "address";
            var l = LineOf(listen);
            switch (lt)
            {
                case "socket":
                    candidates.Add(("socket", l));
                    break;
                case "none":
                    candidates.Add(("none", l));
                    break;
                default:
                    if (listen.Attribute("address")?.Value is { Length: > 0 } address)
                    {
                        candidates.Add((address, l));
                    }
                    else if (lt == "network")
                    {
                        return null; // the network's address decides; not known from the domain alone
                    }

                    break;
            }
        }

        if (candidates.Count == 0 && graphics.Attribute("listen")?.Value is { Length: > 0 } attr)
        {
            candidates.Add((attr, line));
        }

        if (candidates.Count == 0)
        {
            return null;
        }

        return candidates.FirstOrDefault(c => !IsLocal(c.Item1)) is { Item1: not null } exposed ? exposed : candidates[0];
    }

    /// <summary>True for loopback addresses (IPv4 127/8, ::1, IPv4-mapped loopback), <c>localhost</c>, sockets and <c>none</c>.</summary>
    public static bool IsLocal(string listen)
    {
        var v = listen.Trim().Trim('[', ']');
        if (v is "socket" or "none" || v.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(v, out var ip) && IPAddress.IsLoopback(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip);
    }

    /// <summary>os.uefi and os.secureBoot (yes/no) when the XML decides them.</summary>
    private static void DeriveFirmware(XElement root, Action<string, string, int> add)
    {
        var os = root.Element("os");
        if (os is null)
        {
            return;
        }

        var line = LineOf(os);
        var loader = os.Element("loader");
        var firmware = os.Attribute("firmware")?.Value;
        var loaderPath = loader?.Value ?? "";
        var uefi = firmware == "efi" || loader?.Attribute("type")?.Value == "pflash"
            || Regex.IsMatch(loaderPath, "OVMF|AAVMF|edk2|QEMU_EFI", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        add("os.uefi", uefi ? "yes" : "no", loader is null ? line : LineOf(loader));
        foreach (var feature in os.Element("firmware")?.Elements("feature") ?? [])
        {
            if (feature.Attribute("name")?.Value is { Length: > 0 } fname)
            {
                add($"os.firmware.feature.{fname}", feature.Attribute("enabled")?.Value ?? "", LineOf(feature));
            }
        }

        if (!uefi)
        {
            add("os.secureBoot", "no", line);
            return;
        }

        var sbFeature = os.Element("firmware")?.Elements("feature").FirstOrDefault(f => f.Attribute("name")?.Value == "secure-boot");
        var keysFeature = os.Element("firmware")?.Elements("feature").FirstOrDefault(f => f.Attribute("name")?.Value == "enrolled-keys");
        var loaderSecure = loader?.Attribute("secure")?.Value;
        if (loaderSecure == "yes" || sbFeature?.Attribute("enabled")?.Value == "yes")
        {
            add("os.secureBoot", "yes", sbFeature is not null ? LineOf(sbFeature) : LineOf(loader!));
        }
        else if (sbFeature is null && loaderSecure is null && keysFeature?.Attribute("enabled")?.Value == "yes")
        {
            // Requesting enrolled keys makes libvirt pick Secure Boot firmware with the keys enrolled.
            add("os.secureBoot", "yes", LineOf(keysFeature));
        }
        else if (loaderSecure == "no" || sbFeature?.Attribute("enabled")?.Value == "no")
        {
            add("os.secureBoot", "no", sbFeature is not null ? LineOf(sbFeature) : LineOf(loader!));
        }
        else if (Regex.IsMatch(loaderPath, @"secboot|\.secure\.|ms\.fd", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant))
        {
            add("os.secureBoot", "yes", LineOf(loader!));
        }

        // else: UEFI with automatic firmware selection and no secure-boot request: undecided (not collected).
    }
}
