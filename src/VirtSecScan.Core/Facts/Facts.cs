using System.Collections.Immutable;
using VirtSecScan.Core.Findings;

namespace VirtSecScan.Core.Facts;

/// <summary>
/// One setting as a collector read it: key as written, value, and the line it came from. <see cref="Source"/>
/// names the file when it differs from the fact's own source (a fact merged from several files, a host-wide
/// default applied to a VM); null means the fact's <see cref="ResourceRef.Source"/>.
/// </summary>
public sealed record Setting(string Key, string Value, int Line, string? Source = null);

/// <summary>
/// A fact whose settings rules can read by key (case-insensitive). Collectors produce these;
/// YAML rules evaluate them.
/// </summary>
public interface IConfigFact
{
    ResourceRef Resource { get; }

    /// <summary>Settings by key, compared case-insensitively.</summary>
    ImmutableSortedDictionary<string, Setting> Settings { get; }
}

public static class ConfigFactExtensions
{
    public static Setting? Get(this IConfigFact fact, string key) =>
        fact.Settings.TryGetValue(key, out var setting) ? setting : null;

    public static ImmutableSortedDictionary<string, Setting> ToSettingMap(this IEnumerable<Setting> settings)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, Setting>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in settings)
        {
            builder[setting.Key] = setting;
        }

        return builder.ToImmutable();
    }
}

/// <summary>A VMware virtual machine's configuration (a .vmx file, later the vSphere API view).</summary>
public sealed record VmConfig(ResourceRef Resource, ImmutableSortedDictionary<string, Setting> Settings) : IConfigFact
{
    public string? DisplayName => this.Get("displayName")?.Value;
}

/// <summary>
/// A hypervisor's product and build as the host reports it. <see cref="UpdateLine"/> is the update
/// line builds are compared within (for example <c>8.0U2</c>; <c>8.0</c> for the GA line).
/// </summary>
public sealed record HypervisorBuild(
    ResourceRef Resource,
    string Product,
    string Version,
    long Build,
    string Branch,
    string UpdateLine,
    string? UpdateName,
    string? Patch) : IConfigFact
{
    /// <summary>
    /// False when the update line is a guess (for example ESXi 6.7.0 without an <c>Update</c> field): the
    /// matcher then only decides what holds for every line of the branch, the rest is indeterminate.
    /// </summary>
    public bool LineCertain { get; init; } = true;

    /// <summary>
    /// Why the host's version or build could not be placed at all (unreadable version string, no build):
    /// no advisory is judged against it and <c>patch.build-indeterminate</c> says so.
    /// </summary>
    public string? Unplaced { get; init; }

    /// <summary>Set by the scanner when the feed has a build map for the product and the build is not in it.</summary>
    public bool NotInBuildMap { get; init; }

    /// <summary>
    /// Where the build number was read (<c>appliance-api</c>, <c>soap</c>, <c>host-shell</c> ...). vCenter before
    /// 7.0 U2 has two build numbers per release (appliance vs API), so the source matters.
    /// </summary>
    public string? BuildSource { get; init; }

    /// <summary>Package (or component) versions the host reported: <c>pve-qemu-kvm</c> → <c>8.1.2-4</c> ...</summary>
    public ImmutableSortedDictionary<string, string> Packages { get; init; } =
        ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.OrdinalIgnoreCase);

    public ImmutableSortedDictionary<string, Setting> Settings => new[]
    {
        new Setting("product", Product, Resource.Line ?? 0),
        new Setting("version", Version, Resource.Line ?? 0),
        new Setting("build", Build.ToString(System.Globalization.CultureInfo.InvariantCulture), Resource.Line ?? 0),
        new Setting("branch", Branch, Resource.Line ?? 0),
        new Setting("line", UpdateLine, Resource.Line ?? 0),
    }.Concat(Packages.Select(p => new Setting("package." + p.Key, p.Value, Resource.Line ?? 0))).ToSettingMap();

    /// <summary>Derives branch and update line from an ESXi version (8.0.2 is 8.0 Update 2; 6.x takes the update field).</summary>
    public static (string Branch, string Line) LineOf(string version, int? update)
    {
        var parts = version.Split('.');
        var branch = parts.Length >= 2 ? $"{parts[0]}.{parts[1]}" : version;
        var third = parts.Length >= 3 && int.TryParse(parts[2], out var t) ? t : 0;
        var u = third > 0 ? third : update ?? 0;
        return (branch, u > 0 ? $"{branch}U{u}" : branch);
    }
}

/// <summary>
/// A configuration fact of any platform that is not a VMware VM: a libvirt domain, a Proxmox VM, a Hyper-V VM,
/// an ESXi host's settings, a qemu.conf ... <see cref="Kind"/> names the fact type YAML rules apply to
/// (<c>appliesTo</c>), <see cref="ResourceRef.Type"/> stays <c>vm</c> or <c>host</c> so that the site model
/// resolves it. Collectors flatten structured input into keys (for example <c>graphics[0].listen</c>).
/// </summary>
public sealed record ConfigFact(ResourceRef Resource, string Kind, ImmutableSortedDictionary<string, Setting> Settings) : IConfigFact
{
    public static ConfigFact Of(ResourceRef resource, string kind, IEnumerable<Setting> settings) =>
        new(resource, kind, settings.ToSettingMap());
}
