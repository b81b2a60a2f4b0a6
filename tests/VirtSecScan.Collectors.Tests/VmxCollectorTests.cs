using System.Text.Json;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Tests;

public sealed class VmxCollectorTests
{
    private const string VmxDir = "fixtures/collectors/vmx/";

    private static readonly VmxCollector Collector = new();

    private static CollectorResult CollectFile(InputFile file)
    {
        Assert.Equal(VmxCollector.FormatId, Collector.Detect(file));
        return Collector.Collect(file, VmxCollector.FormatId);
    }

    private static CollectorResult CollectFixture(string name) => CollectFile(Fixtures.Load(VmxDir + name));

    private static VmConfig Vm(CollectorResult result) => Assert.IsType<VmConfig>(Assert.Single(result.Facts));

    private static Setting Get(VmConfig vm, string key)
    {
        var setting = vm.Get(key);
        Assert.NotNull(setting);
        return setting;
    }

    private static IEnumerable<Diagnostic> Warnings(CollectorResult result) =>
        result.Diagnostics.Where(d => d.Level is "warning" or "error");

    // ---- detection by content ----

    public static TheoryData<string> CollectorVmxFixtures() =>
    [
        "comments-and-blanks.vmx", "crlf-line-endings.vmx", "duplicate-keys.vmx", "literal-wildcard.vmx", "long-line.vmx",
        "malformed-lines.vmx", "shebang.vmx", "truncated.vmx", "uppercase.vmx",
    ];

    [Theory]
    [MemberData(nameof(CollectorVmxFixtures))]
    public void Detect_CollectorVmxFixture_IsVmx(string name)
    {
        Assert.Equal(VmxCollector.FormatId, Collector.Detect(Fixtures.Load(VmxDir + name)));
    }

    [Fact]
    public void Detect_EveryDemoVm_IsVmx()
    {
        var paths = Fixtures.List("fixtures/demo-hospital/vms", "*.vmx");
        Assert.NotEmpty(paths);
        Assert.All(paths, p => Assert.Equal(VmxCollector.FormatId, Collector.Detect(Fixtures.Load(p))));
    }

    [Fact]
    public void Detect_VmxRenamedToTxt_IsDetectedByContent()
    {
        using var temp = new TempDir();
        var path = temp.File("his-db-01.txt");
        File.Copy(RepoPaths.Combine("fixtures/demo-hospital/vms/his-db-01.vmx"), path);
        var (file, problem, skip) = InputReader.Read(path, "his-db-01.txt");
        Assert.Null(problem);
        Assert.Null(skip);
        Assert.NotNull(file);

        var detected = CollectorRegistry.Detect(file);

        Assert.NotNull(detected);
        Assert.IsType<VmxCollector>(detected.Value.Collector);
        Assert.Equal(VmxCollector.FormatId, detected.Value.Format);
    }

    [Fact]
    public void Detect_YamlSiteFile_IsNotVmx()
    {
        Assert.Null(Collector.Detect(Fixtures.Load("fixtures/demo-hospital/site.yaml")));
    }

    [Fact]
    public void Detect_PlainTextNotes_IsNotVmx()
    {
        Assert.Null(Collector.Detect(Fixtures.Load("fixtures/demo-hospital/notes.txt")));
    }

    [Fact]
    public void Detect_KeyValueTextWithoutTypicalVmxKey_IsNotVmx()
    {
        var file = new InputFile("settings.txt", "color = \"blue\"\nsize = \"3\"\n");

        Assert.Null(Collector.Detect(file));
    }

    public static TheoryData<string> EsxiVersionOutputs() =>
    [
        "fixtures/collectors/esxi-version/esxcli-system-version-get-6.7.txt",
        "fixtures/collectors/esxi-version/esxcli-system-version-get-7.0.3.txt",
        "fixtures/collectors/esxi-version/esxcli-system-version-get-old.txt",
        "fixtures/collectors/esxi-version/garbage.txt",
        "fixtures/collectors/esxi-version/vmware-v-8.0.2.txt",
        "fixtures/collectors/esxi-version/vmware-vl-6.7.txt",
        "fixtures/collectors/esxi-version/vmware-vl-7.0.3.txt",
        "fixtures/demo-hospital/hosts/esxi-01/vmware-vl.txt",
        "fixtures/demo-hospital/hosts/esxi-02/esxcli-system-version-get.txt",
        "fixtures/demo-hospital/hosts/esxi-03/vmware-v.txt",
    ];

    [Theory]
    [MemberData(nameof(EsxiVersionOutputs))]
    public void Detect_EsxiVersionOutput_IsNotVmx(string path)
    {
        Assert.Null(Collector.Detect(Fixtures.Load(path)));
    }

    // ---- uppercase.vmx: case-insensitive keys ----

    [Fact]
    public void Collect_UppercaseKeys_LookupIsCaseInsensitive()
    {
        var vm = Vm(CollectFixture("uppercase.vmx"));

        Assert.Equal("LEGACY-LAB-01", vm.DisplayName);
        Assert.Equal("TRUE", Get(vm, "isolation.tools.copy.disable").Value);
        Assert.Equal("1", Get(vm, "RemoteDisplay.maxConnections").Value);
    }

    [Fact]
    public void Collect_UppercaseKeys_AreKeptAsWritten()
    {
        var vm = Vm(CollectFixture("uppercase.vmx"));

        Assert.Equal("ISOLATION.TOOLS.COPY.DISABLE", Get(vm, "isolation.tools.copy.disable").Key);
        Assert.Contains("DISPLAYNAME", vm.Settings.Values.Select(s => s.Key));
    }

    [Fact]
    public void Collect_UppercaseFile_HasNoWarnings()
    {
        Assert.Empty(Warnings(CollectFixture("uppercase.vmx")));
    }

    [Fact]
    public void Collect_UppercaseUuidBios_GivesLowerCaseHexResourceId()
    {
        var vm = Vm(CollectFixture("uppercase.vmx"));

        Assert.Equal("vm:42217e0bc4195a33d8026f914ae5b72c", vm.Resource.Id);
    }

    // ---- shebang.vmx ----

    [Fact]
    public void Collect_ShebangFirstLine_IsNeitherSettingNorDiagnostic()
    {
        var result = CollectFixture("shebang.vmx");
        var vm = Vm(result);

        Assert.DoesNotContain(vm.Settings.Values, s => s.Line == 1);
        Assert.DoesNotContain(vm.Settings.Keys, k => k.StartsWith('#'));
        Assert.DoesNotContain(result.Diagnostics, d => d.Line == 1);
        Assert.Empty(Warnings(result));
    }

    [Fact]
    public void Collect_BackslashesInValue_AreKeptLiterally()
    {
        var vm = Vm(CollectFixture("shebang.vmx"));

        Assert.Equal(@"C:\Shared\Reports", Get(vm, "sharedFolder0.hostPath").Value);
    }

    [Fact]
    public void Collect_CapitalisedEthernetKey_IsFoundInLowerCase()
    {
        var vm = Vm(CollectFixture("shebang.vmx"));

        var setting = Get(vm, "ethernet0.connectionType");
        Assert.Equal("Ethernet0.connectionType", setting.Key);
        Assert.Equal("nat", setting.Value);
    }

    // ---- comments-and-blanks.vmx ----

    [Fact]
    public void Collect_CommentedOutSettings_AreNotRead()
    {
        var vm = Vm(CollectFixture("comments-and-blanks.vmx"));

        Assert.Equal(20, Get(vm, "isolation.tools.copy.disable").Line);
        Assert.Equal("TRUE", Get(vm, "isolation.tools.copy.disable").Value);
        Assert.Equal(21, Get(vm, "isolation.tools.paste.disable").Line);
        Assert.Null(vm.Get("RemoteDisplay.vnc.enabled"));
    }

    [Fact]
    public void Collect_SpacingVariantsAroundKeyAndEquals_AreRead()
    {
        var vm = Vm(CollectFixture("comments-and-blanks.vmx"));

        Assert.Equal(("TRUE", 21), (Get(vm, "isolation.tools.paste.disable").Value, Get(vm, "isolation.tools.paste.disable").Line));
        Assert.Equal(("TRUE", 22), (Get(vm, "isolation.tools.dnd.disable").Value, Get(vm, "isolation.tools.dnd.disable").Line));
        Assert.Equal(("1", 23), (Get(vm, "RemoteDisplay.maxConnections").Value, Get(vm, "RemoteDisplay.maxConnections").Line));
        Assert.Equal(("TRUE", 24), (Get(vm, "tools.guest.desktop.autolock").Value, Get(vm, "tools.guest.desktop.autolock").Line));
    }

    [Fact]
    public void Collect_HashInsideQuotedValue_IsPartOfTheValue()
    {
        var vm = Vm(CollectFixture("comments-and-blanks.vmx"));

        Assert.Equal("Golden image #7 for the clinical VDI pool", Get(vm, "annotation").Value);
    }

    [Fact]
    public void Collect_TrailingCommentAfterClosingQuote_IsNotPartOfTheValue()
    {
        var file = new InputFile("trail.vmx", "config.version = \"8\"\ndisplayName = \"trail-01\"\nisolation.tools.copy.disable = \"TRUE\" # hardened\n");

        var result = CollectFile(file);

        Assert.Equal("TRUE", Get(Vm(result), "isolation.tools.copy.disable").Value);
        Assert.Empty(Warnings(result));
    }

    [Fact]
    public void Collect_TrailingCommentHoldingQuotes_IsNotPartOfTheValue()
    {
        // VMware writes a quote inside a value as |22, so the first quote after the opening one closes it.
        var file = new InputFile("trail.vmx", "config.version = \"8\"\ndisplayName = \"trail-01\"\nisolation.tools.copy.disable = \"TRUE\" # was \"FALSE\" before CHG-0117\n");

        var result = CollectFile(file);

        Assert.Equal("TRUE", Get(Vm(result), "isolation.tools.copy.disable").Value);
        Assert.Empty(Warnings(result));
    }

    [Fact]
    public void Collect_CommentsAndBlankLines_ProduceNoWarnings()
    {
        Assert.Empty(Warnings(CollectFixture("comments-and-blanks.vmx")));
    }

    // ---- duplicate-keys.vmx ----

    [Fact]
    public void Collect_DuplicateKey_LastValueWins()
    {
        var vm = Vm(CollectFixture("duplicate-keys.vmx"));

        Assert.Equal(("FALSE", 10), (Get(vm, "isolation.tools.copy.disable").Value, Get(vm, "isolation.tools.copy.disable").Line));
        Assert.Equal(("1", 11), (Get(vm, "RemoteDisplay.maxConnections").Value, Get(vm, "RemoteDisplay.maxConnections").Line));
        Assert.Equal(("10", 15), (Get(vm, "log.keepOld").Value, Get(vm, "log.keepOld").Line));
    }

    [Fact]
    public void Collect_DuplicateKeyDifferingOnlyByCase_LastValueWins()
    {
        var vm = Vm(CollectFixture("duplicate-keys.vmx"));

        Assert.Equal(("TRUE", 13), (Get(vm, "isolation.tools.paste.disable").Value, Get(vm, "isolation.tools.paste.disable").Line));
        var hostInfo = Get(vm, "tools.guestlib.enableHostInfo");
        Assert.Equal(("TRUE", 16, "Tools.GuestLib.EnableHostInfo"), (hostInfo.Value, hostInfo.Line, hostInfo.Key));
    }

    [Fact]
    public void Collect_DuplicateKey_InfoDiagnosticNamesTheRepeatAndTheEarlierLine()
    {
        var result = CollectFixture("duplicate-keys.vmx");

        var repeats = result.Diagnostics.Where(d => d.Message.Contains("repeats", StringComparison.Ordinal)).ToList();
        Assert.All(repeats, d => Assert.Equal("info", d.Level));
        Assert.Equal([10, 11, 13, 14, 15, 16], repeats.Select(d => d.Line ?? 0));
        var copy = Assert.Single(repeats, d => d.Line == 10);
        Assert.Contains("isolation.tools.copy.disable", copy.Message, StringComparison.Ordinal);
        Assert.Contains("line 6", copy.Message, StringComparison.Ordinal);
        Assert.Contains("line 14", Assert.Single(repeats, d => d.Line == 16).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Collect_DuplicateKeys_ProduceNoWarnings()
    {
        Assert.Empty(Warnings(CollectFixture("duplicate-keys.vmx")));
    }

    // ---- long-line.vmx ----

    [Fact]
    public void Collect_TwentyKilobyteValue_IsReadWholeAndDecodesToJson()
    {
        var file = Fixtures.Load(VmxDir + "long-line.vmx");
        var rawLine = file.Lines[6];
        var rawValue = rawLine[(rawLine.IndexOf('"') + 1)..rawLine.LastIndexOf('"')];
        Assert.Equal(20_071, rawValue.Length);
        var escapes = Regex.Count(rawValue, @"\|[0-9A-Fa-f]{2}");

        var value = Get(Vm(CollectFile(file)), "guestinfo.appInfo");

        Assert.Equal(7, value.Line);
        Assert.Equal(rawValue.Length - (2 * escapes), value.Value.Length);
        Assert.StartsWith("{\n\"version\":\"1\"", value.Value, StringComparison.Ordinal);
        Assert.EndsWith("dicom-router-worker-176 -Dqueue.name=router-176 -Dretry=3 #176\",\"v\":\"3.14.2\"}]}", value.Value, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(value.Value);
        Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty("applications").ValueKind);
    }

    [Fact]
    public void Collect_SettingsAfterLongLine_AreRead()
    {
        var result = CollectFixture("long-line.vmx");
        var vm = Vm(result);

        Assert.Equal(("TRUE", 8), (Get(vm, "isolation.tools.paste.disable").Value, Get(vm, "isolation.tools.paste.disable").Line));
        Assert.Equal(("1", 9), (Get(vm, "RemoteDisplay.maxConnections").Value, Get(vm, "RemoteDisplay.maxConnections").Line));
        Assert.Empty(Warnings(result));
    }

    // ---- literal-wildcard.vmx ----

    [Fact]
    public void Collect_WildcardKey_IsStoredLiterally()
    {
        var vm = Vm(CollectFixture("literal-wildcard.vmx"));

        var pci = Get(vm, "pciPassthru*.present");
        Assert.Equal(("pciPassthru*.present", "False", 14), (pci.Key, pci.Value, pci.Line));
        Assert.Equal(16, Get(vm, "usb*.present").Line);
        Assert.Equal(17, Get(vm, "serial*.present").Line);
    }

    [Fact]
    public void Collect_WildcardKey_IsNotExpandedIntoDeviceKeys()
    {
        var vm = Vm(CollectFixture("literal-wildcard.vmx"));

        Assert.DoesNotContain(vm.Settings.Keys, k => Regex.IsMatch(k, @"^pciPassthru\d+\.present$", RegexOptions.IgnoreCase));
        Assert.Null(vm.Get("usb.present"));
        Assert.Null(vm.Get("serial0.present"));
        Assert.Equal("FALSE", Get(vm, "pciPassthru.use64bitMMIO").Value);
    }

    // ---- malformed-lines.vmx ----

    [Fact]
    public void Collect_MalformedLines_WarnForExactlyTheBadLines()
    {
        var result = CollectFixture("malformed-lines.vmx");

        Assert.Equal([7, 9, 11, 13, 14], Warnings(result).Select(d => d.Line ?? 0).Order());
        Assert.All(Warnings(result), d => Assert.Equal("warning", d.Level));
    }

    [Fact]
    public void Collect_MalformedLines_GoodLinesStillParse()
    {
        var vm = Vm(CollectFixture("malformed-lines.vmx"));

        Assert.Equal([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 16, 17], vm.Settings.Values.Select(s => s.Line).Order());
        Assert.Equal(("TRUE", 10), (Get(vm, "isolation.tools.paste.disable").Value, Get(vm, "isolation.tools.paste.disable").Line));
        Assert.Equal(("2", 12), (Get(vm, "numvcpus").Value, Get(vm, "numvcpus").Line));
        Assert.Equal(("1", 17), (Get(vm, "RemoteDisplay.maxConnections").Value, Get(vm, "RemoteDisplay.maxConnections").Line));
    }

    [Fact]
    public void Collect_UnterminatedQuote_DoesNotSwallowFollowingLines()
    {
        var vm = Vm(CollectFixture("malformed-lines.vmx"));

        Assert.Null(vm.Get("annotation"));
        Assert.Null(vm.Get("isolation.tools.dnd.disable"));
        Assert.Equal(10, Get(vm, "isolation.tools.paste.disable").Line);
    }

    // ---- truncated.vmx ----

    [Fact]
    public void Collect_TruncatedFile_ReadsEveryCompleteLine()
    {
        var vm = Vm(CollectFixture("truncated.vmx"));

        Assert.Equal(Enumerable.Range(1, 14), vm.Settings.Values.Select(s => s.Line).Order());
        Assert.Equal("VLAN140-PACS", Get(vm, "ethernet0.networkName").Value);
    }

    [Fact]
    public void Collect_TruncatedFile_CutLineIsNotASetting()
    {
        var vm = Vm(CollectFixture("truncated.vmx"));

        Assert.Null(vm.Get("ethernet0.generatedAddress"));
    }

    [Fact]
    public void Collect_TruncatedFile_SaysTheFileLooksTruncated()
    {
        var result = CollectFixture("truncated.vmx");

        var problem = Assert.Single(Warnings(result));
        Assert.Equal(15, problem.Line);
        Assert.Contains("truncated", problem.Message, StringComparison.Ordinal);
    }

    // ---- crlf-line-endings.vmx ----

    [Fact]
    public void Collect_CrlfFile_ValuesHaveNoCarriageReturn()
    {
        var vm = Vm(CollectFixture("crlf-line-endings.vmx"));

        Assert.Equal("FALSE", Get(vm, "isolation.tools.paste.disable").Value);
        Assert.DoesNotContain(vm.Settings.Values, s => s.Value.Contains('\r') || s.Key.Contains('\r'));
    }

    [Fact]
    public void Collect_CrlfFile_GivesTheSameSettingsAsLf()
    {
        var crlf = Fixtures.Load(VmxDir + "crlf-line-endings.vmx");
        Assert.Contains("\r\n", crlf.Text, StringComparison.Ordinal);
        var lf = crlf with { Text = crlf.Text.Replace("\r\n", "\n", StringComparison.Ordinal) };

        var fromCrlf = Vm(CollectFile(crlf)).Settings.Values;
        var fromLf = Vm(CollectFile(lf)).Settings.Values;

        Assert.Equal(10, fromCrlf.Count());
        Assert.Equal(fromLf, fromCrlf);
    }

    // ---- escapes, identity, name ----

    [Fact]
    public void Collect_PipeHexEscapes_AreDecoded()
    {
        var file = new InputFile("esc.vmx", "config.version = \"8\"\ndisplayName = \"esc-01\"\nannotation = \"say |22hi|22|0Anext line |7C pipe\"\n");

        var vm = Vm(CollectFile(file));

        Assert.Equal("say \"hi\"\nnext line | pipe", Get(vm, "annotation").Value);
    }

    [Fact]
    public void Collect_UuidBios_GivesVmResourceIdOf32HexDigits()
    {
        var vm = Vm(CollectFixture("shebang.vmx"));

        Assert.Equal("vm:564d2b197a80c3e16d04b29f1138e6c5", vm.Resource.Id);
        Assert.Matches("^vm:[0-9a-f]{32}$", vm.Resource.Id);
        Assert.Equal("vm", vm.Resource.Type);
    }

    [Fact]
    public void Collect_DisplayName_NamesTheVm()
    {
        var vm = Vm(CollectFixture("shebang.vmx"));

        Assert.Equal("Reception PC", vm.Resource.Name);
        Assert.Equal(15, vm.Resource.Line);
    }

    [Fact]
    public void Collect_NoDisplayName_NamesVmAfterFileStem()
    {
        var file = new InputFile("exports/old-server.vmx", "config.version = \"8\"\nguestOS = \"rhel8-64\"\nnumvcpus = \"2\"\n");

        var vm = Vm(CollectFile(file));

        Assert.Equal("old-server", vm.Resource.Name);
        Assert.Equal("exports/old-server.vmx", vm.Resource.Source);
    }

    [Fact]
    public void Collect_NoUuidBios_IdentifiesVmByNameWithInfo()
    {
        var file = new InputFile("exports/Old-Server.vmx", "config.version = \"8\"\nguestOS = \"rhel8-64\"\n");

        var result = CollectFile(file);

        Assert.Equal("vm:name:old-server", Vm(result).Resource.Id);
        Assert.Contains(result.Diagnostics, d => d.Level == "info" && d.Message.Contains("uuid.bios", StringComparison.Ordinal));
    }
}
