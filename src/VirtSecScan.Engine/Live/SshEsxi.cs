using System.Collections.Immutable;
using System.Diagnostics;

namespace VirtSecScan.Engine.Live;

/// <summary>
/// ESXi over SSH: the read-only commands whose outputs the ESXi file collectors read (docs/esxi-host.md), each fed
/// to the collectors as <c>ssh://&lt;target&gt;/&lt;slug&gt;.txt</c>. Every slug starts with a command stem
/// (<c>esxcli</c>, <c>vmware</c>, <c>vim-cmd</c>, <c>secureboot</c>, <c>etc-vmware</c>), so, as for a folder of saved
/// outputs, all outputs belong to the host named by their folder: the target's name. The esxcli and vim-cmd
/// outputs get their command line before them, as in a saved transcript, because some of them (security
/// policies, lockdown, fips140 ...) are recognised only by it.
/// </summary>
internal static class SshEsxi
{
    /// <summary>Run once per vSwitch named by <c>esxcli network vswitch standard list</c>.</summary>
    public const string VswitchPolicy = "esxcli network vswitch standard policy security get -v {name}";

    /// <summary>Run once per port group named by <c>esxcli network vswitch standard portgroup list</c>.</summary>
    public const string PortgroupPolicy = "esxcli network vswitch standard portgroup policy security get -p {name}";

    private const string VswitchList = "esxcli-network-vswitch-standard-list";
    private const string PortgroupList = "esxcli-network-vswitch-standard-portgroup-list";

    /// <summary>The fixed commands, in the order they run.</summary>
    public static readonly ImmutableArray<RemoteCommand> Commands =
    [
        new("vmware-vl", "vmware -vl", Cli("esxcli-system-version-get", "esxcli system version get")),
        Cli("esxcli-system-settings-advanced-list", "esxcli system settings advanced list"),
        Cli("esxcli-system-settings-kernel-list", "esxcli system settings kernel list"),
        Cli("esxcli-system-settings-encryption-get", "esxcli system settings encryption get"),
        Cli(VswitchList, "esxcli network vswitch standard list"),
        Cli(PortgroupList, "esxcli network vswitch standard portgroup list"),
        Cli("esxcli-network-firewall-get", "esxcli network firewall get"),
        Cli("esxcli-network-firewall-ruleset-list", "esxcli network firewall ruleset list"),
        Cli("esxcli-network-firewall-ruleset-allowedip-list", "esxcli network firewall ruleset allowedip list"),
        Cli("esxcli-system-account-list", "esxcli system account list"),
        // 8.0 has the esxcli namespace; 7.0 prints the effective settings with sshd -T.
        Cli("esxcli-system-ssh-server-config-list", "esxcli system ssh server config list") with
        {
            Fallback = Cli("vmware-openssh-sshd-T", "/usr/lib/vmware/openssh/bin/sshd -T"),
        },
        Cli("esxcli-system-syslog-config-get", "esxcli system syslog config get"),
        Cli("esxcli-system-syslog-config-logfilter-get", "esxcli system syslog config logfilter get"),
        Cli("esxcli-system-ntp-get", "esxcli system ntp get"),
        Cli("esxcli-system-snmp-get", "esxcli system snmp get"),
        Cli("esxcli-system-security-fips140-ssh-get", "esxcli system security fips140 ssh get"),
        Cli("esxcli-system-security-fips140-rhttpproxy-get", "esxcli system security fips140 rhttpproxy get"),
        Cli("esxcli-system-security-keypersistence-get", "esxcli system security keypersistence get"),
        Cli("esxcli-system-tls-server-get", "esxcli system tls server get"),
        Cli("esxcli-software-acceptance-get", "esxcli software acceptance get"),
        Cli("esxcli-hardware-cpu-global-get", "esxcli hardware cpu global get"),
        Cli("esxcli-hardware-memory-get", "esxcli hardware memory get"),
        Cli("vim-cmd-lockdown-is-enabled", "vim-cmd -U dcui vimsvc/auth/lockdown_is_enabled"),
        Cli("secureboot-status", "/usr/lib/vmware/secureboot/bin/secureBoot.py -s"),
        new("etc-vmware-config", "cat /etc/vmware/config"),
    ];

    /// <summary>Every command this platform may run (fixed commands, fallbacks, per-item templates).</summary>
    public static ImmutableArray<string> Templates { get; } =
        [.. Commands.SelectMany(c => c.Commands), VswitchPolicy, PortgroupPolicy];

    private static RemoteCommand Cli(string slug, string command) => new(slug, command) { WithCommandLine = true };

    public static (TargetStatus, ImmutableArray<LiveCollected>) Collect(TargetSpec target, Stopwatch clock, Func<string, CommandResult> run)
    {
        string Path(string slug) => $"ssh://{target.Name}/{slug}.txt";
        var resources = ImmutableArray.CreateBuilder<ResourceStatus>();
        var files = ImmutableArray.CreateBuilder<LiveCollected>();
        var bySlug = new Dictionary<string, LiveCollected>(StringComparer.Ordinal);
        foreach (var ((status, file), command) in RemoteCommands.RunAll(Commands, run, Path).Zip(Commands))
        {
            resources.Add(status);
            if (file is not null)
            {
                files.Add(file);
                bySlug[command.Slug] = file;
            }
        }

        // The security policy of each vSwitch and port group the lists name (names checked, then quoted).
        var items = RemoteCommands.ItemNames(bySlug.GetValueOrDefault(VswitchList), "vswitch").Select(n => (Name: n, Template: VswitchPolicy, Slug: "esxcli-network-vswitch-standard-policy-security-get-"))
            .Concat(RemoteCommands.ItemNames(bySlug.GetValueOrDefault(PortgroupList), "portgroup").Select(n => (Name: n, Template: PortgroupPolicy, Slug: "esxcli-network-vswitch-standard-portgroup-policy-security-get-")));
        var policies = new List<RemoteCommand>();
        foreach (var (name, template, slugStem) in items)
        {
            var slug = slugStem + RemoteCommands.Slug(name);
            if (!SshCollection.SafeName().IsMatch(name))
            {
                resources.Add(new ResourceStatus(slug, "failed", "error: the name has characters the scanner does not pass to a remote shell", 0));
                continue;
            }

            policies.Add(Cli(slug, template.Replace("{name}", SshCollection.Quote(name), StringComparison.Ordinal)));
        }

        foreach (var (status, file) in RemoteCommands.RunAll(policies, run, Path))
        {
            resources.Add(status);
            if (file is not null)
            {
                files.Add(file);
            }
        }

        return (RemoteCommands.Finish(target, clock, resources.ToImmutable()), files.ToImmutable());
    }
}
