using VirtSecScan.Core.Site;

namespace VirtSecScan.Core.Tests;

/// <summary>A small site model in the shape of the demo hospital's.</summary>
internal static class TestSite
{
    public static Zone His { get; } = new("his", "Hospital Information System", "clinical", Criticality.High, true, ["10.10.10.0/24"], [110]);

    public static Zone InsuranceLink { get; } = new("insurance-link", "Medical-insurance gateway link", "insurance-link", Criticality.Medium, false, [], []);

    public static Zone Vdi { get; } = new("vdi", "Clinical virtual desktops", "desktop", Criticality.Medium, false, [], []);

    public static Zone Management { get; } = new("management", "Hypervisor management", "management", Criticality.High, false, [], []);

    public static SiteModel Model { get; } = new(
        "Demo Municipal Hospital",
        [His, InsuranceLink, Vdi, Management],
        [
            new SiteSystem("his-db-01", "vm", "his", "his-database", "esxi-01", null, null),
            new SiteSystem("insurance-gw-01", "vm", "insurance-link", "insurance-gateway", "esxi-02", null, null),
            new SiteSystem("vdi-nurse-01", "vm", "vdi", null, null, Criticality.Low, null),
            new SiteSystem("esxi-01", "host", "management", "esxi-host", null, null, null),
        ],
        "site.yaml");
}
