using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// ESXi host command outputs, each recognised by its content (and, in a shell transcript, by the command
/// line before it). Every output becomes settings of one <c>esxi-host</c> fact per file; the scanner merges
/// the facts of one host. Key names are documented in docs/esxi-host.md.
/// <list type="bullet">
/// <item><c>esxcli system settings advanced list</c>: <c>/UserVars/ESXiShellTimeOut</c> and <c>UserVars.ESXiShellTimeOut</c></item>
/// <item><c>esxcli network vswitch standard list</c>: <c>vswitch[NAME].mtu</c>, <c>.portgroups</c>, <c>.uplinks</c> ...</item>
/// <item><c>esxcli network vswitch standard portgroup list</c>: <c>portgroup[NAME].virtualSwitch</c>, <c>.vlanId</c></item>
/// <item><c>esxcli network vswitch standard [portgroup] policy security get</c>: <c>vswitch[NAME].security.allowPromiscuous</c> ...</item>
/// <item><c>esxcli network firewall get</c> / <c>ruleset list</c> / <c>ruleset allowedip list</c>: <c>firewall.*</c></item>
/// <item><c>esxcli system account list</c>: <c>account[ID].shellAccess</c>; <c>esxcli system ssh server config list</c>: <c>ssh.KEY</c></item>
/// <item><c>esxcli system syslog config get</c>, <c>ntp get</c>, <c>settings encryption get</c>, <c>hardware cpu global get</c>,
/// <c>hardware memory get</c>, PowerCLI <c>Get-VMHostService</c> (table), lockdown mode, acceptance level ...</item>
/// </list>
/// </summary>
public sealed partial class EsxcliCollector : ICollector
{
    public const string AdvancedList = "esxcli-advanced-settings";
    public const string VswitchList = "esxcli-vswitch-list";
    public const string PortgroupList = "esxcli-portgroup-list";
    public const string VswitchSecurity = "esxcli-vswitch-security-policy";
    public const string PortgroupSecurity = "esxcli-portgroup-security-policy";
    public const string FirewallGet = "esxcli-firewall-get";
    public const string FirewallRulesets = "esxcli-firewall-ruleset-list";
    public const string FirewallAllowedIp = "esxcli-firewall-allowedip-list";
    public const string AccountList = "esxcli-account-list";
    public const string SshConfig = "esxcli-ssh-server-config";
    public const string SyslogConfig = "esxcli-syslog-config";
    public const string NtpGet = "esxcli-ntp-get";
    public const string EncryptionGet = "esxcli-encryption-get";
    public const string CpuGlobal = "esxcli-cpu-global";
    public const string MemoryGet = "esxcli-memory-get";
    public const string KernelSettings = "esxcli-kernel-settings";
    public const string HostServices = "powercli-vmhostservice";
    public const string Lockdown = "esxi-lockdown-mode";
    public const string Acceptance = "esxcli-software-acceptance";
    public const string SecureBoot = "esxi-secureboot-status";
    public const string KeyValueByCommand = "esxcli-key-value";
    public const string SshdEffective = "openssh-sshd-t";
    public const string Transcript = "esxi-shell-transcript";

    private static readonly string[] AdvancedFields =
    [
        "Path", "Type", "Int Value", "Default Int Value", "Min Value", "Max Value", "String Value", "Default String Value",
        "Valid Characters", "Description", "Host Specific", "Impact",
    ];

    /// <summary>Key-value outputs recognised by their field names: format, required fields, key prefix.</summary>
    private static readonly (string Format, string[] Fields, string Prefix)[] KeyValueLayouts =
    [
        (PortgroupSecurity, ["Allow Promiscuous", "Override Vswitch Allow Promiscuous"], "portgroup"),
        (VswitchSecurity, ["Allow Promiscuous", "Allow MAC Address Change", "Allow Forged Transmits"], "vswitch"),
        (FirewallGet, ["Default Action", "Enabled", "Loaded"], "firewall"),
        (SyslogConfig, ["Remote Host", "Local Log Output"], "syslog"),
        (EncryptionGet, ["Mode", "Require Secure Boot"], "encryption"),
        (CpuGlobal, ["CPU Packages", "CPU Cores", "CPU Threads"], "hardware.cpu"),
        (MemoryGet, ["Physical Memory"], "hardware.memory"),
        (NtpGet, ["Enabled", "Server"], "ntp"),
        (NtpGet, ["Enabled", "Servers"], "ntp"),
    ];

    /// <summary>Key-value outputs recognised only by the command line before them (their fields alone are too generic).</summary>
    private static readonly (Regex Command, string Prefix)[] CommandKeyValues =
    [
        (new Regex(@"\bsystem\s+security\s+fips140\s+ssh\s+get\b", RegexOptions.CultureInvariant), "fips140.ssh"),
        (new Regex(@"\bsystem\s+security\s+fips140\s+rhttpproxy\s+get\b", RegexOptions.CultureInvariant), "fips140.rhttpproxy"),
        (new Regex(@"\bsystem\s+syslog\s+config\s+logfilter\s+get\b", RegexOptions.CultureInvariant), "syslog.logfilter"),
        (new Regex(@"\bsystem\s+security\s+keypersistence\s+get\b", RegexOptions.CultureInvariant), "keypersistence"),
        (new Regex(@"\bsystem\s+tls\s+server\s+get\b", RegexOptions.CultureInvariant), "tls.server"),
        (new Regex(@"\bsystem\s+snmp\s+get\b", RegexOptions.CultureInvariant), "snmp"),
    ];

    private static readonly string[] AcceptanceLevels = ["VMwareCertified", "VMwareAccepted", "PartnerSupported", "CommunitySupported"];

    private static readonly string[] KnownRulesets =
    [
        "sshServer", "sshClient", "nfsClient", "nfs41Client", "dhcp", "dns", "snmp", "ntpClient", "CIMHttpServer", "CIMHttpsServer",
        "CIMSLP", "iSCSI", "vMotion", "vSphereClient", "webAccess", "httpClient", "syslog", "faultTolerance", "vpxHeartbeats", "updateManager",
    ];

    private static readonly string[] SshKeys = ["ciphers", "ignorerhosts", "banner", "permitrootlogin", "macs", "allowtcpforwarding", "clientaliveinterval"];

    [GeneratedRegex(@"^lockdown(Disabled|Normal|Strict)$", RegexOptions.CultureInvariant)]
    private static partial Regex LockdownToken();

    [GeneratedRegex(@"^(?<key>[a-z][a-z0-9]*) (?<value>\S.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex SshdLine();

    [GeneratedRegex(@"^(?<n>\d+)\s*(?:Bytes)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ByteCount();

    public string? Detect(InputFile file)
    {
        var formats = EsxiText.Sections(file).Select(Identify).Where(f => f is not null).Distinct().ToList();
        return formats.Count switch
        {
            0 => null,
            1 => formats[0],
            _ => Transcript,
        };
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var settings = new List<Setting>();
        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var sections = EsxiText.Sections(file);
        foreach (var section in sections)
        {
            var layout = Identify(section);
            if (layout is null)
            {
                if (sections.Count > 1 && section.Command is not null)
                {
                    diagnostics.Add(Diagnostic.Info(file.DisplayPath, section.CommandLine, $"output of '{Short(section.Command)}' is not a layout this collector reads; skipped"));
                }

                continue;
            }

            var before = settings.Count;
            Parse(layout, section, file, settings, diagnostics);
            if (settings.Count == before && !diagnostics.Any(d => d.Level == "error"))
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, section.CommandLine > 0 ? section.CommandLine : section.Lines.FirstOrDefault().Number,
                    $"{layout} output holds no settings"));
            }
        }

        if (settings.Count == 0)
        {
            return new CollectorResult(format, [], diagnostics.ToImmutable());
        }

        var fact = ConfigFact.Of(EsxiText.HostResource(file, settings.Min(s => s.Line)), EsxiText.Kind, settings);
        return new CollectorResult(format, [fact], diagnostics.ToImmutable());
    }

    private static string Short(string s) => s.Length > 80 ? s[..80] + "..." : s;

    /// <summary>The layout of one section, or null.</summary>
    private static string? Identify(Section section)
    {
        var command = section.Command ?? "";
        if (CommandKeyValues.Any(c => c.Command.IsMatch(command)))
        {
            return KeyValueByCommand;
        }

        if (command.Contains("lockdown_is_enabled", StringComparison.Ordinal) && SingleValue(section) is "true" or "false")
        {
            return Lockdown;
        }

        if (command.Contains("secureBoot.py", StringComparison.Ordinal) && SingleValue(section) is "Enabled" or "Disabled")
        {
            return SecureBoot;
        }

        var meaningful = section.Meaningful.ToList();
        if (meaningful.Count == 0)
        {
            return null;
        }

        if (meaningful.Count <= 4 && meaningful.Any(l => l.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(t => LockdownToken().IsMatch(t))))
        {
            return Lockdown;
        }

        if (meaningful.Count == 1 && AcceptanceLevels.Contains(meaningful[0].Text.Trim(), StringComparer.Ordinal))
        {
            return Acceptance;
        }

        // 7.0: "/usr/lib/vmware/openssh/bin/sshd -T" prints the effective sshd settings as "key value" lines.
        if (meaningful.Count >= 10 && meaningful.All(l => SshdLine().IsMatch(l.Text.Trim()))
            && meaningful.Any(l => l.Text.StartsWith("ciphers ", StringComparison.Ordinal)) && meaningful.Any(l => l.Text.StartsWith("permitrootlogin ", StringComparison.Ordinal)))
        {
            return SshdEffective;
        }

        var fieldNames = EsxiText.KeyValues(meaningful.Take(400)).Select(f => f.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (fieldNames.Contains("Path") && fieldNames.Contains("Type") && (fieldNames.Contains("Int Value") || fieldNames.Contains("String Value")))
        {
            return AdvancedList;
        }

        var indented = meaningful.Where(l => l.Text.StartsWith(' ')).Select(l => l.Text.Trim()).ToList();
        if (meaningful.Any(l => !l.Text.StartsWith(' ')) && indented.Any(t => t.StartsWith("Class:", StringComparison.Ordinal))
            && indented.Any(t => t.StartsWith("Portgroups:", StringComparison.Ordinal)) && indented.Any(t => t.StartsWith("Uplinks:", StringComparison.Ordinal)))
        {
            return VswitchList;
        }

        foreach (var (format, fields, _) in KeyValueLayouts)
        {
            if (fields.All(fieldNames.Contains))
            {
                return format;
            }
        }

        return EsxiText.ReadTable(section.Lines.ToList()) is { } table ? IdentifyTable(table, command) : null;
    }

    private static string? IdentifyTable(EsxiText.Table table, string command)
    {
        bool Has(params string[] names) => names.All(n => table.Headers.Contains(n, StringComparer.OrdinalIgnoreCase));
        var first = table.Rows.Select(r => r.Cells.Count > 0 ? r.Cells[0] : "").ToList();
        if (Has("Name", "Virtual Switch", "VLAN ID"))
        {
            return PortgroupList;
        }

        if (Has("Ruleset", "Allowed IP Addresses"))
        {
            return FirewallAllowedIp;
        }

        if (Has("Name", "Enabled") && table.Headers[0] == "Name"
            && (command.Contains("firewall ruleset list", StringComparison.Ordinal) || first.Any(f => KnownRulesets.Contains(f, StringComparer.Ordinal))))
        {
            return FirewallRulesets;
        }

        if (Has("User ID", "Description"))
        {
            return AccountList;
        }

        if (Has("Key", "Value") && table.Headers.Count == 2
            && (command.Contains("ssh server config list", StringComparison.Ordinal) || first.Any(f => SshKeys.Contains(f, StringComparer.OrdinalIgnoreCase))))
        {
            return SshConfig;
        }

        if (Has("Key", "Label", "Policy", "Running"))
        {
            return HostServices;
        }

        if (Has("Name", "Type", "Configured", "Runtime", "Default"))
        {
            return KernelSettings;
        }

        return null;
    }

    private static string? SingleValue(Section section)
    {
        var lines = section.Meaningful.ToList();
        return lines.Count == 1 ? lines[0].Text.Trim() : null;
    }

    private static void Parse(string layout, Section section, InputFile file, List<Setting> settings, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        void Add(string key, string value, int line) => settings.Add(new Setting(key, value, line, file.DisplayPath));

        switch (layout)
        {
            case AdvancedList:
                ParseAdvanced(section, file, Add, diagnostics);
                break;
            case VswitchList:
                ParseVswitchList(section, Add);
                break;
            case VswitchSecurity:
            case PortgroupSecurity:
            {
                var isPortgroup = layout == PortgroupSecurity;
                var name = isPortgroup
                    ? EsxiText.OptionValue(section.Command, "p", "portgroup-name")
                    : EsxiText.OptionValue(section.Command, "v", "vswitch-name");
                if (string.IsNullOrEmpty(name))
                {
                    var line = section.Meaningful.First().Number;
                    diagnostics.Add(Diagnostic.Error(file.DisplayPath, line,
                        $"this security policy output does not say which {(isPortgroup ? "port group" : "vSwitch")} it describes; save it with its command line "
                        + $"(for example 'esxcli network vswitch standard {(isPortgroup ? "portgroup policy security get -p \"VM Network\"" : "policy security get -v vSwitch0")}') before the output"));
                    break;
                }

                foreach (var (key, value, line) in EsxiText.KeyValues(section.Lines))
                {
                    Add($"{(isPortgroup ? "portgroup" : "vswitch")}[{name}].security.{EsxiText.Camel(key)}", EsxiText.NoneToEmpty(value), line);
                }

                break;
            }

            case FirewallGet:
            case SyslogConfig:
            case EncryptionGet:
            case CpuGlobal:
            case MemoryGet:
            case NtpGet:
            {
                var prefix = KeyValueLayouts.First(k => k.Format == layout).Prefix;
                foreach (var (key, value, line) in EsxiText.KeyValues(section.Lines))
                {
                    var name = EsxiText.Camel(key);
                    name = layout == NtpGet && name == "server" ? "servers" : name;
                    Add($"{prefix}.{name}", EsxiText.NoneToEmpty(value), line);
                    if (layout == MemoryGet && ByteCount().Match(value.Trim()) is { Success: true } bytes)
                    {
                        Add($"{prefix}.{name}Bytes", bytes.Groups["n"].Value, line);
                    }
                }

                break;
            }

            case KeyValueByCommand:
            {
                var prefix = CommandKeyValues.First(c => c.Command.IsMatch(section.Command ?? "")).Prefix;
                var fields = EsxiText.KeyValues(section.Lines);
                if (fields.Count == 0 && SingleValue(section) is { } single)
                {
                    Add($"{prefix}.value", EsxiText.NoneToEmpty(single), section.Meaningful.First().Number);
                }

                foreach (var (key, value, line) in fields)
                {
                    var name = EsxiText.Camel(key);
                    Add($"{prefix}.{(name == "communities" ? "community" : name)}", EsxiText.NoneToEmpty(value), line);
                }

                break;
            }

            case Lockdown:
            {
                var line = section.Meaningful.First();
                var mode = section.Meaningful.SelectMany(l => l.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t => (l.Number, Token: t)))
                    .FirstOrDefault(t => LockdownToken().IsMatch(t.Token));
                if (mode.Token is not null)
                {
                    Add("lockdown.mode", mode.Token, mode.Number);
                }
                else
                {
                    Add("lockdown.enabled", line.Text.Trim(), line.Number);
                }

                break;
            }

            case SshdEffective:
                foreach (var line in section.Meaningful)
                {
                    var m = SshdLine().Match(line.Text.Trim());
                    Add($"ssh.{m.Groups["key"].Value}", m.Groups["value"].Value.Trim(), line.Number);
                }

                break;

            case Acceptance:
            {
                var line = section.Meaningful.First();
                Add("software.acceptanceLevel", line.Text.Trim(), line.Number);
                break;
            }

            case SecureBoot:
            {
                var line = section.Meaningful.First();
                Add("secureBoot.status", line.Text.Trim(), line.Number);
                break;
            }

            default:
                ParseTable(layout, section, file, Add, diagnostics);
                break;
        }
    }

    private static void ParseAdvanced(Section section, InputFile file, Action<string, string, int> add, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        // Blocks start at "Path:"; a line that is not one of the known fields continues the previous one
        // (descriptions run over several lines and may themselves hold "Word: text").
        var blocks = new List<List<(string Key, string Value, int Line)>>();
        List<(string Key, string Value, int Line)>? current = null;
        foreach (var line in section.Lines)
        {
            var text = line.Text.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            var colon = text.IndexOf(':', StringComparison.Ordinal);
            var field = colon > 0 ? text[..colon].Trim() : null;
            if (field is not null && AdvancedFields.Contains(field, StringComparer.OrdinalIgnoreCase))
            {
                if (field.Equals("Path", StringComparison.OrdinalIgnoreCase))
                {
                    current = [];
                    blocks.Add(current);
                }

                if (current is null)
                {
                    diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line.Number, $"'{field}' before any 'Path:' line; ignored"));
                    continue;
                }

                current.Add((field, text[(colon + 1)..].Trim(), line.Number));
            }
            else if (current is { Count: > 0 })
            {
                var last = current[^1];
                current[^1] = (last.Key, (last.Value + " " + text).Trim(), last.Line);
            }
        }

        foreach (var block in blocks)
        {
            string? Field(string name) => block.LastOrDefault(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
            var (_, path, pathLine) = block[0];
            if (!path.StartsWith('/') || path.Length < 3)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, pathLine, $"'{path}' is not an option path; block skipped"));
                continue;
            }

            var type = (Field("Type") ?? "").ToLowerInvariant();
            var intValue = Field("Int Value");
            var stringValue = Field("String Value");
            string value;
            int line;
            if (type == "string" || (string.IsNullOrEmpty(intValue) && stringValue is not null))
            {
                value = stringValue ?? "";
                line = block.LastOrDefault(f => f.Key.Equals("String Value", StringComparison.OrdinalIgnoreCase)).Line;
            }
            else if (intValue is not null)
            {
                value = type == "boolean" && intValue is "0" or "1" ? (intValue == "1" ? "true" : "false") : intValue;
                line = block.LastOrDefault(f => f.Key.Equals("Int Value", StringComparison.OrdinalIgnoreCase)).Line;
            }
            else
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, pathLine, $"{path} has no 'Int Value' or 'String Value' line; skipped"));
                continue;
            }

            line = line > 0 ? line : pathLine;
            add(path, value, line);
            add(path.Trim('/').Replace('/', '.'), value, line);
        }
    }

    private static void ParseVswitchList(Section section, Action<string, string, int> add)
    {
        string? name = null;
        foreach (var line in section.Lines)
        {
            if (line.Text.Trim().Length == 0)
            {
                continue;
            }

            if (!line.Text.StartsWith(' ') && !line.Text.StartsWith('\t'))
            {
                name = line.Text.Trim();
                continue;
            }

            if (name is null)
            {
                continue;
            }

            var text = line.Text.Trim();
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                add($"vswitch[{name}].{EsxiText.Camel(text[..colon])}", EsxiText.NoneToEmpty(text[(colon + 1)..]), line.Number);
            }
        }
    }

    private static void ParseTable(string layout, Section section, InputFile file, Action<string, string, int> add, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        var table = EsxiText.ReadTable(section.Lines.ToList())!;
        var (prefix, keyColumn) = layout switch
        {
            PortgroupList => ("portgroup", "Name"),
            FirewallRulesets => ("firewall.ruleset", "Name"),
            FirewallAllowedIp => ("firewall.ruleset", "Ruleset"),
            AccountList => ("account", "User ID"),
            SshConfig => ("ssh", "Key"),
            HostServices => ("service", "Key"),
            _ => ("kernel", "Name"),
        };
        var keyIndex = table.Headers.ToList().FindIndex(h => h.Equals(keyColumn, StringComparison.OrdinalIgnoreCase));
        foreach (var (line, cells) in table.Rows)
        {
            if (cells.Count != table.Headers.Count || cells[keyIndex].Length == 0)
            {
                diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"row does not fit the {string.Join(" / ", table.Headers)} columns; skipped"));
                continue;
            }

            var item = cells[keyIndex];
            if (layout == SshConfig)
            {
                add($"ssh.{item.ToLowerInvariant()}", EsxiText.NoneToEmpty(cells[1 - keyIndex]), line);
                continue;
            }

            for (var c = 0; c < cells.Count; c++)
            {
                if (c != keyIndex)
                {
                    add($"{prefix}[{item}].{EsxiText.Camel(table.Headers[c])}", EsxiText.NoneToEmpty(cells[c]), line);
                }
            }
        }
    }

    /// <summary>A number from a setting, or null.</summary>
    public static double? Number(string? text) =>
        double.TryParse(text?.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
}
