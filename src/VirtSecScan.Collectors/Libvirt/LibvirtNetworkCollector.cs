using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Collectors.Libvirt;

/// <summary>
/// Reads a libvirt virtual network definition (<c>virsh net-dumpxml NAME</c>, <c>/etc/libvirt/qemu/networks/NAME.xml</c>)
/// into a <c>libvirt-network</c> fact. The XML is untrusted: DTDs are prohibited and nothing external is resolved.
/// Keys are flattened paths (docs/libvirt-proxmox-hyperv.md): list elements are always indexed (<c>ip[0].address</c>,
/// <c>ip[0].dhcp.range[0].start</c>, <c>portgroup[1].vlan.tag[0].id</c>, <c>forward.interface[2].dev</c>), other
/// elements are named by their path (<c>forward.mode</c>, <c>bridge.name</c>, <c>mtu.size</c>). Each setting keeps the
/// line of its element. Derived keys say what libvirt does when the XML is silent: <c>forward.mode.effective</c>
/// (<c>isolated</c> without <c>&lt;forward&gt;</c>, <c>nat</c> for a forward without mode), <c>ip[i].family.effective</c>,
/// <c>ip[i].prefix.effective</c>, <c>ipv6.present</c>, <c>ip[i].dhcp.coversSubnet</c>, <c>trustGuestRxFilters.any</c> and
/// <c>vlan.trunk.any</c> (the network or any portgroup).
/// </summary>
public sealed partial class LibvirtNetworkCollector : ICollector
{
    public const string FormatId = "libvirt-network-xml";

    public const string Kind = "libvirt-network";

    /// <summary>Most settings kept from one network; beyond that the rest is dropped with a warning.</summary>
    private const int MaxSettings = 20000;

    /// <summary>Elements that may repeat under their parent: always indexed, so the first is <c>[0]</c>.</summary>
    private static readonly HashSet<string> ListElements = new(StringComparer.Ordinal)
    {
        "ip", "route", "portgroup", "interface", "address", "pf", "range", "host", "forwarder", "txt", "srv", "tag", "hostname",
    };

    [GeneratedRegex(@"\A\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>\s*)*<network[\s>]", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex NetworkStart();

    public string? Detect(InputFile file)
    {
        var head = file.Text.Length > 16384 ? file.Text[..16384] : file.Text;
        return NetworkStart().IsMatch(head) ? FormatId : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        List<XElement> roots;
        try
        {
            roots = LibvirtDomainCollector.ParseAll(file.Text);
        }
        catch (XmlException ex)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, ex.LineNumber > 0 ? ex.LineNumber : null, $"not well-formed network XML: {ex.Message}"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var networks = roots.Where(r => r.Name.LocalName == "network" && r.Name.Namespace == XNamespace.None).ToList();
        if (networks.Count == 0)
        {
            diagnostics.Add(Diagnostic.Error(file.DisplayPath, LineOf(roots[0]), "no <network> element"));
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        if (networks.Count > 1)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, LineOf(networks[1]),
                $"{networks.Count.ToString(CultureInfo.InvariantCulture)} network definitions in one file; only the first is read"));
        }

        var root = networks[0];
        var settings = new List<Setting>();
        void Add(string key, string value, int line) => settings.Add(new Setting(key, value, line));

        foreach (var attr in root.Attributes().Where(a => !a.IsNamespaceDeclaration && a.Name.Namespace == XNamespace.None && a.Name.LocalName != "connections"))
        {
            Add(attr.Name.LocalName, attr.Value, LineOf(root)); // ipv6, trustGuestRxFilters; connections changes with every guest
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var child in root.Elements())
        {
            var local = child.Name.LocalName;
            if (child.Name.Namespace != XNamespace.None)
            {
                if (local == "options")
                {
                    var i = 0;
                    foreach (var option in child.Elements().Where(e => e.Name.LocalName == "option"))
                    {
                        Add($"dnsmasq:option[{i++.ToString(CultureInfo.InvariantCulture)}]", option.Attribute("value")?.Value ?? "", LineOf(option));
                    }
                }

                continue;
            }

            if (local is "metadata" or "description" or "title")
            {
                continue; // application metadata and free text: not configuration
            }

            Flatten(child, KeyFor(local, counts, null), Add);
        }

        Derive(root, Add, file, diagnostics);

        if (settings.Count > MaxSettings)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, null, $"{settings.Count} settings; only the first {MaxSettings} are kept"));
            settings = settings.Take(MaxSettings).ToList();
        }

        var nameElement = root.Element("name");
        var name = nameElement?.Value.Trim() is { Length: > 0 } n ? n : file.Stem;
        if (nameElement is null)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, LineOf(root), "network has no <name>; the file name is used"));
        }

        var uuid = root.Element("uuid")?.Value.Trim().ToLowerInvariant();
        var id = "libvirt-net:" + (uuid is { Length: > 0 } ? uuid : name);
        // A virtual network is a host-side object (a bridge, its firewall rules and dnsmasq on the hypervisor host).
        var resource = new ResourceRef("host", id, name, Source: file.DisplayPath, Line: nameElement is null ? LineOf(root) : LineOf(nameElement));
        return new CollectorResult(format, [ConfigFact.Of(resource, Kind, Deduplicate(settings, file.DisplayPath, diagnostics))], diagnostics.ToImmutable());
    }

    private static string KeyFor(string local, Dictionary<string, int> counts, string? prefix)
    {
        counts.TryGetValue(local, out var n);
        counts[local] = n + 1;
        var key = ListElements.Contains(local) || n > 0 ? $"{local}[{n.ToString(CultureInfo.InvariantCulture)}]" : local;
        return prefix is null ? key : $"{prefix}.{key}";
    }

    /// <summary>Element attributes as <c>prefix.attr</c>, text as <c>prefix</c>, children by name (list elements indexed).</summary>
    private static void Flatten(XElement element, string prefix, Action<string, string, int> add)
    {
        var line = LineOf(element);
        var hasAttributes = false;
        foreach (var attr in element.Attributes().Where(a => !a.IsNamespaceDeclaration && a.Name.LocalName != "connections"))
        {
            hasAttributes = true;
            add($"{prefix}.{attr.Name.LocalName}", attr.Value, line);
        }

        var children = element.Elements().Where(e => e.Name.Namespace == XNamespace.None).ToList();
        if (children.Count == 0)
        {
            var text = element.Value.Trim();
            if (text.Length > 0 || !hasAttributes)
            {
                add(prefix, text, line);
            }

            return;
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var child in children)
        {
            Flatten(child, KeyFor(child.Name.LocalName, counts, prefix), add);
        }
    }

    private static void Derive(XElement root, Action<string, string, int> add, InputFile file, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var rootLine = LineOf(root);
        var forward = root.Element("forward");
        var mode = forward is null ? "isolated" : forward.Attribute("mode")?.Value.Trim().ToLowerInvariant() is { Length: > 0 } m ? m : "nat";
        add("forward.mode.effective", mode, forward is null ? rootLine : LineOf(forward));

        var ips = root.Elements("ip").ToList();
        (int Line, bool Found) firstV6 = (rootLine, false);
        for (var i = 0; i < ips.Count; i++)
        {
            var ip = ips[i];
            var key = $"ip[{i.ToString(CultureInfo.InvariantCulture)}]";
            var line = LineOf(ip);
            var addressText = ip.Attribute("address")?.Value.Trim();
            var family = ip.Attribute("family")?.Value.Trim().ToLowerInvariant() is { Length: > 0 } f ? f
                : addressText is not null && addressText.Contains(':', StringComparison.Ordinal) ? "ipv6" : "ipv4";
            add($"{key}.family.effective", family, line);
            if (family == "ipv6" && !firstV6.Found)
            {
                firstV6 = (line, true);
            }

            IPAddress? address = null;
            if (addressText is { Length: > 0 } && !IPAddress.TryParse(addressText, out address))
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{key}: address '{addressText}' is not an IP address"));
            }

            var prefix = PrefixOf(ip, family);
            if (prefix is null && (ip.Attribute("prefix") is not null || ip.Attribute("netmask") is not null))
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{key}: the prefix or netmask cannot be read"));
            }

            if (prefix is { } p)
            {
                add($"{key}.prefix.effective", p.ToString(CultureInfo.InvariantCulture), line);
            }

            var dhcp = ip.Element("dhcp");
            if (dhcp is not null && family == "ipv4" && address is { AddressFamily: AddressFamily.InterNetwork } && prefix is { } pv4 && pv4 is >= 1 and <= 30)
            {
                add($"{key}.dhcp.coversSubnet", CoversSubnet(address, pv4, dhcp) ? "true" : "false", LineOf(dhcp));
            }
        }

        add("ipv6.present", firstV6.Found ? "true" : "false", firstV6.Line);

        var portgroups = root.Elements("portgroup").ToList();
        var trusted = new List<(string Where, int Line)>();
        if (IsYes(root.Attribute("trustGuestRxFilters")?.Value))
        {
            trusted.Add(("network", rootLine));
        }

        var trunks = new List<(string Where, int Line)>();
        if (root.Element("vlan") is { } vlan && IsTrunk(vlan))
        {
            trunks.Add(("network", LineOf(vlan)));
        }

        foreach (var pg in portgroups)
        {
            var label = "portgroup " + (pg.Attribute("name")?.Value ?? "?");
            if (IsYes(pg.Attribute("trustGuestRxFilters")?.Value))
            {
                trusted.Add((label, LineOf(pg)));
            }

            if (pg.Element("vlan") is { } pgVlan && IsTrunk(pgVlan))
            {
                trunks.Add((label, LineOf(pgVlan)));
            }
        }

        add("trustGuestRxFilters.any", trusted.Count > 0 ? "yes" : "no", trusted.Count > 0 ? trusted[0].Line : rootLine);
        if (trusted.Count > 0)
        {
            add("trustGuestRxFilters.where", string.Join(",", trusted.Select(t => t.Where)), trusted[0].Line);
        }

        add("vlan.trunk.any", trunks.Count > 0 ? "yes" : "no", trunks.Count > 0 ? trunks[0].Line : rootLine);
        if (trunks.Count > 0)
        {
            add("vlan.trunk.where", string.Join(",", trunks.Select(t => t.Where)), trunks[0].Line);
        }
    }

    private static bool IsYes(string? value) => value?.Trim().ToLowerInvariant() is "yes" or "on" or "true" or "1";

    /// <summary>A VLAN element that hands guests more than one VLAN: <c>trunk='yes'</c> or several tags.</summary>
    private static bool IsTrunk(XElement vlan) => IsYes(vlan.Attribute("trunk")?.Value) || vlan.Elements("tag").Count() > 1;

    private static int? PrefixOf(XElement ip, string family)
    {
        if (ip.Attribute("prefix")?.Value.Trim() is { Length: > 0 } prefixText)
        {
            return int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= (family == "ipv6" ? 128 : 32) ? p : null;
        }

        if (family == "ipv4" && ip.Attribute("netmask")?.Value.Trim() is { Length: > 0 } maskText)
        {
            if (!IPAddress.TryParse(maskText, out var mask) || mask.AddressFamily != AddressFamily.InterNetwork)
            {
                return null;
            }

            var bits = ToUInt(mask);
            var ones = System.Numerics.BitOperations.PopCount(bits);
            return ones == 32 || bits == uint.MaxValue << (32 - ones) ? ones : null; // contiguous masks only
        }

        return null;
    }

    private static uint ToUInt(IPAddress address)
    {
        var b = address.GetAddressBytes();
        return ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
    }

    /// <summary>
    /// True when the DHCP ranges hand out every usable address of the subnet except the network's own (bridge) address:
    /// no address is left for planned, fixed assignments.
    /// </summary>
    private static bool CoversSubnet(IPAddress address, int prefix, XElement dhcp)
    {
        var mask = uint.MaxValue << (32 - prefix);
        var net = ToUInt(address) & mask;
        var first = net + 1;
        var last = (net | ~mask) - 1;
        var ranges = new List<(uint Start, uint End)>();
        foreach (var range in dhcp.Elements("range"))
        {
            if (IPAddress.TryParse(range.Attribute("start")?.Value.Trim(), out var s) && s.AddressFamily == AddressFamily.InterNetwork
                && IPAddress.TryParse(range.Attribute("end")?.Value.Trim(), out var e) && e.AddressFamily == AddressFamily.InterNetwork)
            {
                var start = Math.Max(ToUInt(s), first);
                var end = Math.Min(ToUInt(e), last);
                if (start <= end)
                {
                    ranges.Add((start, end));
                }
            }
        }

        long covered = 0;
        var next = first;
        foreach (var (start, end) in ranges.OrderBy(r => r.Start))
        {
            var s = Math.Max(start, next);
            if (s <= end)
            {
                covered += (long)end - s + 1;
                next = end == uint.MaxValue ? end : end + 1;
            }
        }

        var usable = (long)last - first + 1;
        var own = ToUInt(address);
        var ownInside = own >= first && own <= last && !ranges.Any(r => own >= r.Start && own <= r.End);
        return covered >= usable - (ownInside ? 1 : 0);
    }

    private static IEnumerable<Setting> Deduplicate(List<Setting> settings, string file, ImmutableArray<Diagnostic>.Builder diagnostics)
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

    private static int LineOf(XObject node) => LibvirtDomainCollector.LineOf(node);
}
