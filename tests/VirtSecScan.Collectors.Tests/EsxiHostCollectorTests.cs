using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

/// <summary>The ESXi host collectors on real-format outputs (fixtures/collectors/esxi-host and the demo hospital's hosts).</summary>
public sealed class EsxiHostCollectorTests
{
    private const string Dir = "fixtures/collectors/esxi-host/";
    private const string Demo = "fixtures/demo-hospital/hosts/";

    /// <summary>Detects through the registry (as a scan does) and collects.</summary>
    private static (string Format, CollectorResult Result) Collect(InputFile file)
    {
        var detected = CollectorRegistry.Detect(file);
        Assert.True(detected is not null, $"{file.DisplayPath} was not recognised");
        var (collector, format) = detected.Value;
        return (format, collector.Collect(file, format));
    }

    private static ConfigFact Single(string path, string? expectedFormat = null)
    {
        var (format, result) = Collect(Fixtures.Load(path));
        if (expectedFormat is not null)
        {
            Assert.Equal(expectedFormat, format);
        }

        var fact = Assert.IsType<ConfigFact>(Assert.Single(result.Facts));
        Assert.Equal("esxi-host", fact.Kind);
        Assert.Equal("host", fact.Resource.Type);
        return fact;
    }

    private static void AssertSetting(IConfigFact fact, string key, string value, int line)
    {
        var s = fact.Get(key);
        Assert.True(s is not null, $"{key} missing; keys: {string.Join(", ", fact.Settings.Keys)}");
        Assert.Equal(value, s.Value);
        Assert.Equal(line, s.Line);
    }

    public static TheoryData<string, string> DemoOutputs() => new()
    {
        { "esxcli-system-settings-advanced-list.txt", EsxcliCollector.AdvancedList },
        { "esxcli-network-vswitch-standard-list.txt", EsxcliCollector.VswitchList },
        { "esxcli-network-vswitch-standard-portgroup-list.txt", EsxcliCollector.PortgroupList },
        { "esxcli-network-vswitch-security-policies.txt", EsxcliCollector.Transcript },
        { "esxcli-network-firewall.txt", EsxcliCollector.Transcript },
        { "esxcli-hardware-cpu-global-get.txt", EsxcliCollector.CpuGlobal },
        { "esxcli-hardware-memory-get.txt", EsxcliCollector.MemoryGet },
        { "esxcli-software-acceptance-get.txt", EsxcliCollector.Acceptance },
        { "get-vmhostservice.csv", VmHostServiceCsvCollector.FormatId },
        { "lockdown-mode.txt", EsxcliCollector.Lockdown },
        { "etc-vmware-config", EtcVmwareConfigCollector.FormatId },
    };

    [Theory]
    [MemberData(nameof(DemoOutputs))]
    public void DemoHostOutputsAreRecognisedWithoutProblems(string name, string format)
    {
        foreach (var host in new[] { "esxi-01", "esxi-02", "esxi-03" })
        {
            var (detected, result) = Collect(Fixtures.Load(Demo + host + "/" + name));
            Assert.Equal(format, detected);
            Assert.Empty(result.Diagnostics);
            var fact = Assert.IsType<ConfigFact>(Assert.Single(result.Facts));
            Assert.Equal(host, fact.Resource.Name);
            Assert.Equal("host:" + host, fact.Resource.Id);
        }
    }

    [Fact]
    public void AdvancedListGivesPathAndDottedKeysWithTheValueLine()
    {
        var fact = Single(Dir + "esxcli-advanced-list-traps.txt", EsxcliCollector.AdvancedList);

        AssertSetting(fact, "/Syslog/global/logHost", "tcp://10.90.0.20:514, udp://10.90.0.21:514", 7);
        AssertSetting(fact, "Syslog.global.logHost", "tcp://10.90.0.20:514, udp://10.90.0.21:514", 7);
        AssertSetting(fact, "UserVars.ESXiShellTimeOut", "0", 18);
        AssertSetting(fact, "Net.DVFilterBindIpAddress", "", 35);
        AssertSetting(fact, "Config.HostAgent.plugins.solo.enableMob", "true", 44);
        AssertSetting(fact, "DCUI.Access", "root", 61);
        Assert.NotNull(fact.Get("userVars.esxishelltimeout"));
        Assert.Equal(10, fact.Settings.Count);
    }

    [Fact]
    public void AdvancedListDescriptionsOverSeveralLinesAreNotFields()
    {
        var (_, result) = Collect(Fixtures.Load(Dir + "esxcli-advanced-list-traps.txt"));

        Assert.Empty(result.Diagnostics);
        var fact = (ConfigFact)Assert.Single(result.Facts);
        Assert.DoesNotContain(fact.Settings.Keys, k => k.Contains("Example", StringComparison.OrdinalIgnoreCase) || k.Contains("Note", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void AdvancedListOf67WithoutHostSpecificLines()
    {
        var fact = Single(Dir + "esxcli-advanced-list-6.7.txt", EsxcliCollector.AdvancedList);

        AssertSetting(fact, "UserVars.ESXiVPsDisabledProtocols", "sslv3", 7);
        AssertSetting(fact, "Security.AccountUnlockTime", "120", 14);
    }

    [Fact]
    public void VswitchListKeepsEmptyValuesAndNamesWithDashes()
    {
        var fact = Single(Dir + "esxcli-vswitch-list.txt", EsxcliCollector.VswitchList);

        AssertSetting(fact, "vswitch[vSwitch0].portgroups", "VM Network, Management Network", 14);
        AssertSetting(fact, "vswitch[vSwitch0].beaconRequiredBy", "", 12);
        AssertSetting(fact, "vswitch[vSwitch-Storage].mtu", "9000", 22);
        AssertSetting(fact, "vswitch[vSwitch-Storage].uplinks", "", 28);
    }

    [Fact]
    public void PortgroupTableWithSpacesEmptyCellAndAnUnknownColumn()
    {
        var fact = Single(Dir + "esxcli-portgroup-list-extra-column.txt", EsxcliCollector.PortgroupList);

        AssertSetting(fact, "portgroup[iSCSI A].vlanId", "910", 3);
        AssertSetting(fact, "portgroup[Management Network].virtualSwitch", "vSwitch0", 4);
        AssertSetting(fact, "portgroup[Trunk (monitoring)].vlanId", "4095", 5);
        AssertSetting(fact, "portgroup[Trunk (monitoring)].teamingOverride", "", 5);
        AssertSetting(fact, "portgroup[VM Network].activeClients", "12", 6);
        var derived = EsxiHostFacts.Derived(fact.Settings);
        Assert.Equal("Trunk (monitoring)", Assert.Single(derived, d => d.Key == "network.portgroups.vlan4095").Value);
    }

    [Fact]
    public void SecurityPolicyWithoutItsCommandLineIsAnErrorNotAGuess()
    {
        var (format, result) = Collect(Fixtures.Load(Dir + "esxcli-policy-security-no-command.txt"));

        Assert.Equal(EsxcliCollector.VswitchSecurity, format);
        Assert.Empty(result.Facts);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("error", d.Level);
        Assert.Equal(1, d.Line);
        Assert.Contains("which vSwitch", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TranscriptReadsEachCommandAndSkipsUnknownOnes()
    {
        var (format, result) = Collect(Fixtures.Load(Dir + "transcript-mixed.txt"));

        Assert.Equal(EsxcliCollector.Transcript, format);
        var fact = Assert.IsType<ConfigFact>(Assert.Single(result.Facts));
        Assert.Equal("transcript-mixed", fact.Resource.Name);
        AssertSetting(fact, "firewall.defaultAction", "PASS", 2);
        AssertSetting(fact, "portgroup[PACS Capture].security.allowPromiscuous", "true", 6);
        AssertSetting(fact, "portgroup[PACS Capture].security.overrideVswitchAllowPromiscuous", "true", 9);
        AssertSetting(fact, "software.acceptanceLevel", "PartnerSupported", 17);
        AssertSetting(fact, "lockdown.enabled", "true", 19);
        Assert.DoesNotContain(fact.Settings.Keys, k => k.Contains("vmhba", StringComparison.OrdinalIgnoreCase));
        var info = Assert.Single(result.Diagnostics);
        Assert.Equal(12, info.Line);
        Assert.Contains("storage core adapter list", info.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RulesetListOf67HasOnlyTwoColumns()
    {
        var fact = Single(Dir + "esxcli-firewall-ruleset-list-6.7.txt", EsxcliCollector.FirewallRulesets);

        AssertSetting(fact, "firewall.ruleset[sshServer].enabled", "true", 3);
        AssertSetting(fact, "firewall.ruleset[CIMSLP].enabled", "true", 11);
        Assert.Null(fact.Get("firewall.ruleset[sshServer].allowedIpConfigurable"));
    }

    [Fact]
    public void FirewallAllowedIpsLeaveOutNonConfigurableAndDisabledRulesets()
    {
        var merged = EsxiHostFacts.Merge([Single(Demo + "esxi-02/esxcli-network-firewall.txt")]);

        var fact = Assert.IsType<ConfigFact>(Assert.Single(merged));
        Assert.Equal("ntpClient, syslog", fact.Get("firewall.rulesets.allowAllIp")!.Value);
    }

    [Fact]
    public void AccountListWithAnEmptyDescription()
    {
        var fact = Single(Dir + "esxcli-account-list.txt", EsxcliCollector.AccountList);

        AssertSetting(fact, "account[dcui].shellAccess", "true", 4);
        AssertSetting(fact, "account[svc-backup].description", "", 6);
        AssertSetting(fact, "account[svc-backup].shellAccess", "false", 6);
    }

    [Fact]
    public void SyslogNoneIsEmpty()
    {
        var fact = Single(Dir + "esxcli-syslog-config-get.txt", EsxcliCollector.SyslogConfig);

        AssertSetting(fact, "syslog.remoteHost", "", 13);
        AssertSetting(fact, "syslog.localLogOutputIsPersistent", "false", 8);
        AssertSetting(fact, "syslog.enforceSslcertificates", "true", 5);
    }

    [Fact]
    public void HostServicesAsAPowerShellTable()
    {
        var fact = Single(Dir + "get-vmhostservice-table.txt", EsxcliCollector.HostServices);

        AssertSetting(fact, "service[TSM-SSH].running", "True", 6);
        AssertSetting(fact, "service[TSM-SSH].policy", "on", 6);
        AssertSetting(fact, "service[sfcbd-watchdog].label", "CIM Server", 8);
    }

    [Fact]
    public void HostServicesCsvSplitsByHostAndReportsABrokenRow()
    {
        var (format, result) = Collect(Fixtures.Load(Dir + "get-vmhostservice-two-hosts.csv"));

        Assert.Equal(VmHostServiceCsvCollector.FormatId, format);
        Assert.Equal(2, result.Facts.Length);
        var first = (ConfigFact)result.Facts[0];
        var second = (ConfigFact)result.Facts[1];
        Assert.Equal("esxi-11", first.Resource.Name);
        Assert.Equal("10.90.0.12", second.Resource.Name);
        AssertSetting(first, "service[TSM-SSH].running", "True", 3);
        AssertSetting(first, "service[slpd].label", "slpd, \"legacy\" service", 4);
        AssertSetting(second, "service[TSM-SSH].policy", "off", 5);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(6, d.Line);
    }

    [Fact]
    public void LockdownModeFromAPowerCliTable()
    {
        var fact = Single(Dir + "lockdown-powercli-table.txt", EsxcliCollector.Lockdown);

        AssertSetting(fact, "lockdown.mode", "lockdownStrict", 4);
    }

    [Fact]
    public void SshdEffectiveConfigOf70()
    {
        var fact = Single(Dir + "sshd-T-7.0.txt", EsxcliCollector.SshdEffective);

        AssertSetting(fact, "ssh.compression", "delayed", 12);
        AssertSetting(fact, "ssh.banner", "/etc/issue", 18);
        AssertSetting(fact, "ssh.listenaddress", "0.0.0.0:22", 4);
    }

    [Fact]
    public void EtcVmwareConfigKeepsVmOptionsAndListsVmxLogKeys()
    {
        var (format, result) = Collect(Fixtures.Load(Dir + "etc-vmware-config"));

        Assert.Equal(EtcVmwareConfigCollector.FormatId, format);
        var fact = (ConfigFact)Assert.Single(result.Facts);
        Assert.Equal("esxi-host", fact.Kind);
        AssertSetting(fact, "etcVmwareConfig.vmxLogKeys", "vmx.log.destination, vmx.log.keepOld", 6);
        AssertSetting(fact, "etcVmwareConfig[isolation.tools.copy.disable]", "FALSE", 8);
        var options = EtcVmwareConfigCollector.VmOptions(fact).Select(o => o.Key).ToList();
        Assert.Contains("isolation.tools.copy.disable", options);
        Assert.DoesNotContain("libdir", options);
        Assert.DoesNotContain(options, o => o.StartsWith("authd", StringComparison.Ordinal));
        var bad = Assert.Single(result.Diagnostics);
        Assert.Equal(9, bad.Line);
    }

    [Fact]
    public void NoHostCollectorClaimsOtherFormats()
    {
        var others = new[]
        {
            "fixtures/demo-hospital/vms/his-db-01.vmx", "fixtures/demo-hospital/site.yaml", "fixtures/demo-hospital/notes.txt",
            "fixtures/collectors/esxi-version/esxcli-system-version-get-7.0.3.txt", "fixtures/collectors/esxi-version/garbage.txt",
        };
        foreach (var path in others)
        {
            var file = Fixtures.Load(path);
            Assert.Null(new EsxcliCollector().Detect(file));
            Assert.Null(new VmHostServiceCsvCollector().Detect(file));
            Assert.Null(new EtcVmwareConfigCollector().Detect(file));
        }
    }

    [Fact]
    public void BadInputNeverThrows()
    {
        var inputs = new[]
        {
            "", "\n\n", "   Path: /X\n", "   Path: relative\n   Type: integer\n   Int Value: 1\n",
            "Name  Enabled\n----  -------\nsshServer\n", "[root@h:~] esxcli network vswitch standard policy security get -v\n   Allow Promiscuous: true\n   Allow MAC Address Change: true\n   Allow Forged Transmits: true\n",
            "\"Key\",\"Label\",\"Policy\",\"Running\"\n\"a\"\n", "lockdownNormal lockdownStrict\n",
        };
        foreach (var text in inputs)
        {
            var file = new InputFile("hosts/esxi-09/esxcli-output.txt", text);
            foreach (var collector in CollectorRegistry.All)
            {
                if (collector.Detect(file) is { } format)
                {
                    var result = collector.Collect(file, format);
                    Assert.NotNull(result);
                }
            }
        }
    }

    [Fact]
    public void OneHostFactPerHostFolderWithEachSettingsSource()
    {
        var files = Fixtures.List(Demo + "esxi-01", "*").Select(Fixtures.Load).ToList();
        var facts = files.Select(CollectorRegistry.Detect).Zip(files)
            .Where(x => x.First is not null)
            .SelectMany(x => x.First!.Value.Collector.Collect(x.Second, x.First.Value.Format).Facts)
            .ToList();

        var merged = EsxiHostFacts.Merge(facts);

        var host = Assert.Single(merged.OfType<ConfigFact>());
        Assert.Equal("esxi-01", host.Resource.Name);
        Assert.Equal(Demo + "esxi-01/", host.Resource.Source);
        Assert.Equal(Demo + "esxi-01/esxcli-system-settings-advanced-list.txt", host.Get("UserVars.ESXiShellTimeOut")!.Source);
        Assert.Equal(Demo + "esxi-01/get-vmhostservice.csv", host.Get("service[TSM-SSH].running")!.Source);
        Assert.Equal("portgroup[PACS-Capture]", host.Get("network.allowPromiscuous.accepting")!.Value);
        Assert.Equal("PACS-Capture", host.Get("network.allowPromiscuous.overridden")!.Value);
        Assert.Equal("", host.Get("network.allowForgedTransmits.accepting")!.Value);
        Assert.Single(merged.OfType<HypervisorBuild>());
    }
}
