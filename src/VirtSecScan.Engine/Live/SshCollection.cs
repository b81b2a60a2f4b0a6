using System.Collections.Immutable;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Renci.SshNet;
using Renci.SshNet.Common;
using VirtSecScan.Collectors.Input;

namespace VirtSecScan.Engine.Live;

/// <summary>
/// The <c>ssh</c> kind: logs in with a key (from the file named in the targets file), verifies the host key
/// against the pinned SHA256 fingerprint before authenticating, and runs only an allow-listed set of read-only
/// commands, built from fixed templates. Platforms: <c>libvirt</c> (virsh on the host), <c>esxi</c>
/// (<see cref="SshEsxi"/>) and <c>proxmox</c> (<see cref="SshProxmox"/>).
/// </summary>
internal static partial class SshCollection
{
    /// <summary>
    /// The only commands ever run, per platform. A template's only variable parts are <c>{name}</c> (a name read
    /// from an earlier output, checked against <see cref="SafeName"/> and single-quoted), <c>{id}</c> (digits only)
    /// and <c>{node}</c> (a host name label); <see cref="IsAllowed"/> checks every command against this table
    /// before it is sent.
    /// </summary>
    public static readonly ImmutableDictionary<string, ImmutableArray<string>> AllowList = new Dictionary<string, ImmutableArray<string>>
    {
        ["libvirt"] = ["virsh list --all --name", "virsh version", "virsh dumpxml --security-info {name}", "virsh net-list --all --name", "virsh net-dumpxml --network {name}"],
        ["esxi"] = SshEsxi.Templates,
        ["proxmox"] = SshProxmox.Templates,
    }.ToImmutableDictionary();

    public static bool Supports(string platform) => AllowList.ContainsKey(platform);

    public static (TargetStatus Status, ImmutableArray<LiveCollected> Files) Collect(TargetSpec target, Stopwatch clock)
    {
        PrivateKeyFile key;
        try
        {
            key = new PrivateKeyFile(target.KeyFile!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SshException or ArgumentException)
        {
            // Only the kind of problem: the key file's content must never reach a report.
            var kind = ex is FileNotFoundException or DirectoryNotFoundException ? "not-found" : ex is UnauthorizedAccessException ? "permission" : "authentication";
            return (Failed(target, clock, $"{kind}: the key file {target.KeyFile} cannot be used ({ex.GetType().Name})"), []);
        }

        using (key)
        {
            var info = new ConnectionInfo(target.Host!, target.Port, target.User!, new PrivateKeyAuthenticationMethod(target.User!, key))
            {
                Timeout = target.CommandTimeout,
            };
            using var client = new SshClient(info);
            string? seenFingerprint = null;
            client.HostKeyReceived += (_, e) =>
            {
                seenFingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(e.HostKey)).TrimEnd('=');
                e.CanTrust = string.Equals(seenFingerprint, target.HostKeyFingerprint!.TrimEnd('='), StringComparison.Ordinal);
            };

            try
            {
                client.Connect();
            }
            catch (SshConnectionException) when (seenFingerprint is not null && seenFingerprint != target.HostKeyFingerprint!.TrimEnd('='))
            {
                return (Failed(target, clock, $"authentication: host key {seenFingerprint} does not match the pinned hostKeyFingerprint"), []);
            }
            catch (SshAuthenticationException)
            {
                return (Failed(target, clock, $"authentication: the key was refused for user {target.User}"), []);
            }
            catch (SocketException ex)
            {
                return (Failed(target, clock, $"network: cannot connect to {target.Host}:{target.Port} ({ex.SocketErrorCode})"), []);
            }
            catch (SshOperationTimeoutException)
            {
                return (Failed(target, clock, $"timeout: no SSH session with {target.Host}:{target.Port} in time"), []);
            }
            catch (SshException ex)
            {
                return (Failed(target, clock, $"network: SSH connection to {target.Host}:{target.Port} failed ({ex.GetType().Name})"), []);
            }

            CommandResult Run(string command)
            {
                var remaining = target.Timeout - clock.Elapsed;
                if (remaining <= TimeSpan.Zero)
                {
                    return new CommandResult(null, "", "", true, false);
                }

                if (!IsAllowed(target.Platform!, command))
                {
                    // A bug, never input: every command is built from the allow-list's templates.
                    throw new InvalidOperationException("a command outside the allow-list was about to be sent");
                }

                using var cmd = client.CreateCommand(command);
                cmd.CommandTimeout = remaining < target.CommandTimeout ? remaining : target.CommandTimeout;
                try
                {
                    var output = cmd.Execute();
                    return new CommandResult(cmd.ExitStatus, output, cmd.Error, false, cmd.ExitStatus == 127);
                }
                catch (SshOperationTimeoutException)
                {
                    return new CommandResult(null, "", "", true, false);
                }
                catch (SshException ex)
                {
                    // The connection went away mid-scan: this command (and the ones after it) failed, the target goes on.
                    return new CommandResult(null, "", $"connection reset: the SSH connection was lost ({ex.GetType().Name})", false, false);
                }
            }

            return target.Platform switch
            {
                "esxi" => SshEsxi.Collect(target, clock, Run),
                "proxmox" => SshProxmox.Collect(target, clock, Run),
                _ => CollectLibvirt(target, clock, Run),
            };
        }
    }

    private static (TargetStatus, ImmutableArray<LiveCollected>) CollectLibvirt(TargetSpec target, Stopwatch clock, Func<string, CommandResult> run)
    {
        var templates = AllowList["libvirt"];
        var list = run(templates[0]);
        if (!list.Succeeded)
        {
            return (Failed(target, clock, Reason(list, templates[0])), []);
        }

        var resources = ImmutableArray.CreateBuilder<ResourceStatus>();
        var files = ImmutableArray.CreateBuilder<LiveCollected>();
        var step = Stopwatch.StartNew();
        var version = run(templates[1]);
        if (version.Succeeded)
        {
            files.Add(LiveCollection.CollectText(new InputFile($"ssh://{target.Name}/version.txt", version.StdOut)));
            resources.Add(new ResourceStatus("version", "collected", null, step.ElapsedMilliseconds));
        }
        else
        {
            resources.Add(new ResourceStatus("version", "failed", Reason(version, templates[1]), step.ElapsedMilliseconds));
        }

        foreach (var domain in list.StdOut.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            step.Restart();
            if (!SafeName().IsMatch(domain))
            {
                resources.Add(new ResourceStatus(domain, "failed", "error: the domain name has characters the scanner does not pass to a remote shell", 0));
                continue;
            }

            var xml = run(templates[2].Replace("{name}", Quote(domain), StringComparison.Ordinal));
            if (!xml.Succeeded)
            {
                resources.Add(new ResourceStatus(domain, "failed", Reason(xml, "dumpxml"), step.ElapsedMilliseconds));
                continue;
            }

            var collected = LiveCollection.CollectText(new InputFile($"ssh://{target.Name}/{domain}.xml", xml.StdOut));
            files.Add(collected);
            resources.Add(collected.Output is null
                ? new ResourceStatus(domain, "failed", $"error: {collected.SkipReason}", step.ElapsedMilliseconds)
                : new ResourceStatus(domain, "collected", null, step.ElapsedMilliseconds));
        }

        LiveCollection.CollectNetworks(
            $"ssh://{target.Name}/net/",
            () => run(templates[3]),
            network => run(templates[4].Replace("{name}", Quote(network), StringComparison.Ordinal)),
            network => SafeName().IsMatch(network) ? null : "error: the network name has characters the scanner does not pass to a remote shell",
            resources,
            files);
        var failed = resources.Count(r => r.Status == "failed");
        return (new TargetStatus(target.Name, target.Kind, failed == 0 ? "collected" : "partial",
            failed == 0 ? null : $"{failed} of {resources.Count} resources could not be collected", clock.ElapsedMilliseconds, resources.ToImmutable()), files.ToImmutable());
    }

    internal static string Reason(CommandResult result, string what)
    {
        if (result.NotInstalled)
        {
            return $"not-found: '{what}': the command is not installed on the host";
        }

        // esxcli of an older release: "Error: Unknown command or namespace system tls server get" (exit 1).
        return result.StdErr.Contains("Unknown command or namespace", StringComparison.Ordinal)
            ? $"not-found: '{what}': the host's esxcli has no such command (an older ESXi release?)"
            : LiveCollection.Reason(result, what);
    }

    /// <summary>A checked name in single quotes; the caller has matched it against <see cref="SafeName"/>.</summary>
    internal static string Quote(string name) =>
        SafeName().IsMatch(name) ? "'" + name + "'" : throw new ArgumentException("the name has characters the scanner does not pass to a remote shell", nameof(name));

    /// <summary>Whether a command is one of the platform's allow-listed templates with only checked values filled in.</summary>
    internal static bool IsAllowed(string platform, string command) =>
        AllowList.TryGetValue(platform, out var templates) && templates.Any(t => TemplatePattern(t).IsMatch(command));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    private static Regex TemplatePattern(string template) => Patterns.GetOrAdd(template, t =>
        new(@"\A" + Regex.Escape(t)
                .Replace(Regex.Escape("{name}"), "'" + SafeNameChars + "'", StringComparison.Ordinal)
                .Replace(Regex.Escape("{id}"), "[0-9]{1,9}", StringComparison.Ordinal)
                .Replace(Regex.Escape("{node}"), "[A-Za-z0-9][A-Za-z0-9-]{0,62}", StringComparison.Ordinal) + @"\z",
            RegexOptions.CultureInvariant));

    internal static TargetStatus Finish(TargetSpec target, Stopwatch clock, ImmutableArray<ResourceStatus> resources)
    {
        var failed = resources.Count(r => r.Status == "failed");
        return new TargetStatus(target.Name, target.Kind, failed == 0 ? "collected" : "partial",
            failed == 0 ? null : $"{failed} of {resources.Length} resources could not be collected", clock.ElapsedMilliseconds, resources);
    }

    internal static TargetStatus Failed(TargetSpec target, Stopwatch clock, string reason) =>
        new(target.Name, target.Kind, "failed", reason, clock.ElapsedMilliseconds, []);

    /// <summary>
    /// Characters of a name passed to a remote shell, inside single quotes: no quote, no backslash, no '$' or
    /// backtick; a leading '-' is refused so a name is never read as an option. Spaces and parentheses are allowed
    /// (port groups such as "Management Network").
    /// </summary>
    private const string SafeNameChars = "[A-Za-z0-9._+:@][A-Za-z0-9._+:@ (),/#-]{0,199}";

    [GeneratedRegex(@"\A" + SafeNameChars + @"\z", RegexOptions.CultureInvariant)]
    internal static partial Regex SafeName();
}
