using VirtSecScan.Engine.Live;

namespace VirtSecScan.Engine.Tests.Live;

/// <summary>The per-platform allow-list of SSH commands and the quoting of names read from a host's outputs.</summary>
public class SshAllowListTests
{
    [Theory]
    [InlineData("esxi", "esxcli system settings advanced list")]
    [InlineData("esxi", "vmware -vl")]
    [InlineData("esxi", "/usr/lib/vmware/openssh/bin/sshd -T")]
    [InlineData("esxi", "esxcli network vswitch standard portgroup policy security get -p 'Management Network'")]
    [InlineData("esxi", "esxcli network vswitch standard policy security get -v 'vSwitch0'")]
    [InlineData("proxmox", "cat /etc/pve/qemu-server/201.conf")]
    [InlineData("proxmox", "qm config 100")]
    [InlineData("proxmox", "pvesh get /nodes/pve-01/qemu --output-format json")]
    [InlineData("libvirt", "virsh dumpxml --security-info 'web-01'")]
    public void Allow_listed_commands_with_checked_values_are_allowed(string platform, string command) =>
        Assert.True(SshCollection.IsAllowed(platform, command));

    [Theory]
    [InlineData("esxi", "esxcli system settings advanced set -o /UserVars/ESXiShellTimeOut -i 0")]
    [InlineData("esxi", "esxcli system settings advanced list; reboot")]
    [InlineData("esxi", "esxcli network vswitch standard policy security get -v vSwitch0")]
    [InlineData("esxi", "esxcli network vswitch standard portgroup policy security get -p 'a'; reboot; 'b'")]
    [InlineData("esxi", "esxcli network vswitch standard portgroup policy security get -p '$(reboot)'")]
    [InlineData("esxi", "esxcli network vswitch standard portgroup policy security get -p '-x'")]
    [InlineData("esxi", "qm list")]
    [InlineData("proxmox", "cat /etc/pve/qemu-server/../../shadow.conf")]
    [InlineData("proxmox", "qm config 1000000000")]
    [InlineData("proxmox", "qm destroy 100")]
    [InlineData("proxmox", "pvesh get /nodes/pve-01;id/qemu --output-format json")]
    [InlineData("libvirt", "virsh destroy 'web-01'")]
    [InlineData("proxmox", "qm config 100\n")]
    [InlineData("hyperv", "Get-VM")]
    public void Anything_else_is_refused(string platform, string command) =>
        Assert.False(SshCollection.IsAllowed(platform, command));

    [Theory]
    [InlineData("Management Network", "'Management Network'")]
    [InlineData("VLAN(100)/DMZ", "'VLAN(100)/DMZ'")]
    public void Checked_names_are_single_quoted(string name, string quoted) => Assert.Equal(quoted, SshCollection.Quote(name));

    [Theory]
    [InlineData("a'b")]
    [InlineData("-o")]
    [InlineData("$(id)")]
    [InlineData("a`id`")]
    [InlineData("a\\b")]
    [InlineData("a\nb")]
    [InlineData("ab\n")]
    [InlineData("")]
    public void Names_a_shell_could_misread_are_refused(string name) =>
        Assert.Throws<ArgumentException>(() => SshCollection.Quote(name));

    [Fact]
    public void Every_platform_of_the_targets_file_has_an_allow_list()
    {
        Assert.All(TargetsFileLoader.SshPlatforms, p => Assert.True(SshCollection.Supports(p), p));
        Assert.All(SshCollection.AllowList.Values.SelectMany(t => t), t => Assert.DoesNotMatch("[;&|<>`$]", t));
    }
}
