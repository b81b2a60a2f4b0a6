using System.Collections.Immutable;
using System.Diagnostics;
using VirtSecScan.Collectors;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Engine.Live;

/// <summary>How one resource of a target (a domain, the version output, a file) was collected.</summary>
public sealed record ResourceStatus(string Name, string Status, string? Reason, long DurationMs)
{
    /// <summary>The rule scopes this resource feeds, when the collector knows them; null: <see cref="UncollectedRules.Table"/> decides.</summary>
    public ImmutableArray<string>? Feeds { get; init; }
}

/// <summary>
/// How one target was collected: <c>collected</c>, <c>partial</c> (some resources failed), <c>failed</c> or
/// <c>not-supported</c>; the reason starts with its kind (network, timeout, permission, authentication, not-found, error).
/// </summary>
public sealed record TargetStatus(string Name, string Kind, string Status, string? Reason, long DurationMs, ImmutableArray<ResourceStatus> Resources)
{
    /// <summary>The rule scopes the whole target feeds, when the collector knows them; null: <see cref="UncollectedRules.Table"/> decides.</summary>
    public ImmutableArray<string>? Feeds { get; init; }

    /// <summary>Requests sent to the target's API (vSphere); null for kinds that run commands.</summary>
    public int? RoundTrips { get; init; }
}

/// <summary>One text a live target gave, after format detection and collection (or why it was skipped).</summary>
public sealed record LiveCollected(string Display, CollectorResult? Output, string? SkipReason, Diagnostic? Problem)
{
    /// <summary>The text as the target gave it (live inputs only), kept for <see cref="LiveCollection.Save"/>.</summary>
    public InputFile? Input { get; init; }
}

/// <summary>Everything the live step produced: target statuses, collected texts and the findings about collection itself.</summary>
public sealed record LiveResult(ImmutableArray<TargetStatus> Targets, ImmutableArray<LiveCollected> Files, ImmutableArray<Finding> Findings)
{
    public static LiveResult Empty { get; } = new([], [], []);
}

/// <summary>
/// Collects the targets of a targets file, in parallel up to <see cref="TargetsFile.MaxParallel"/>, each within its
/// own timeout. Only read-only commands are run. What a target gives is fed to the same collectors as files, so a
/// live scan and a scan of the equivalent files give the same findings. A target or resource that could not be
/// collected is a failing finding of its own, never a silent gap.
/// </summary>
public static partial class LiveCollection
{
    public const string TargetFailedRule = "collect.target-failed";
    public const string ResourceFailedRule = "collect.resource-failed";
    public const string NotSupportedRule = "collect.target-not-supported";

    /// <summary>The virsh program (a test may point it elsewhere through <c>VIRTSECSCAN_VIRSH</c>).</summary>
    public static string Virsh => Environment.GetEnvironmentVariable("VIRTSECSCAN_VIRSH") is { Length: > 0 } v ? v : "virsh";

    private sealed record TargetOutcome(TargetStatus Status, ImmutableArray<LiveCollected> Files);

    public static LiveResult Collect(TargetsFile targets, string profile)
    {
        var outcomes = new TargetOutcome[targets.Targets.Length];
        Parallel.For(0, targets.Targets.Length, new ParallelOptions { MaxDegreeOfParallelism = targets.MaxParallel }, i =>
        {
            outcomes[i] = CollectTarget(targets.Targets[i]);
        });

        var findings = ImmutableArray.CreateBuilder<Finding>();
        for (var i = 0; i < outcomes.Length; i++)
        {
            findings.AddRange(FindingsOf(targets.Targets[i], outcomes[i].Status, profile));
        }

        return new LiveResult(
            outcomes.Select(o => o.Status).ToImmutableArray(),
            outcomes.SelectMany(o => o.Files).ToImmutableArray(),
            findings.ToImmutable());
    }

    private static TargetOutcome CollectTarget(TargetSpec target)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            return target.Kind switch
            {
                "libvirt" => CollectLibvirt(target, clock),
                "files" => CollectFiles(target, clock),
                "ssh" when SshCollection.Supports(target.Platform!) => Ssh(target, clock),
                "vsphere" => Vsphere(target, clock),
                _ => new TargetOutcome(
                    new TargetStatus(target.Name, target.Kind, "not-supported",
                        target.Kind == "ssh"
                            ? $"ssh targets of platform {target.Platform} are not supported yet (only libvirt); export the configuration to files and scan them"
                            : $"{target.Kind} targets are not supported yet; export the configuration to files and scan them", 0, []),
                    []),
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug in the live step must not end the scan; the type only, never a message that could hold input.
            return new TargetOutcome(new TargetStatus(target.Name, target.Kind, "failed", $"error: internal {ex.GetType().Name}", clock.ElapsedMilliseconds, []), []);
        }
    }

    private static TargetOutcome Vsphere(TargetSpec target, Stopwatch clock)
    {
        var (status, files) = VsphereCollection.Collect(target, clock);
        return new TargetOutcome(status, files);
    }

    private static TargetOutcome Ssh(TargetSpec target, Stopwatch clock)
    {
        var (status, files) = SshCollection.Collect(target, clock);
        return new TargetOutcome(status, files);
    }

    private static TargetOutcome CollectLibvirt(TargetSpec target, Stopwatch clock)
    {
        using var deadline = new CancellationTokenSource(target.Timeout);
        var uri = target.Uri!;
        CommandResult Virsh(params string[] args)
        {
            var remaining = target.Timeout - clock.Elapsed;
            var timeout = remaining < target.CommandTimeout ? remaining : target.CommandTimeout;
            return timeout <= TimeSpan.Zero
                ? new CommandResult(null, "", "", true, false)
                : CommandRunner.Run(LiveCollection.Virsh, ["-c", uri, .. args], timeout, deadline.Token);
        }

        var list = Virsh("list", "--all", "--name");
        if (!list.Succeeded)
        {
            return new TargetOutcome(new TargetStatus(target.Name, target.Kind, "failed", Reason(list, "list --all --name"), clock.ElapsedMilliseconds, []), []);
        }

        var resources = ImmutableArray.CreateBuilder<ResourceStatus>();
        var files = ImmutableArray.CreateBuilder<LiveCollected>();
        var step = Stopwatch.StartNew();
        var version = Virsh("version");
        if (version.Succeeded)
        {
            files.Add(CollectText(new InputFile($"libvirt://{target.Name}/version.txt", version.StdOut)));
            resources.Add(new ResourceStatus("version", "collected", null, step.ElapsedMilliseconds));
        }
        else
        {
            resources.Add(new ResourceStatus("version", "failed", Reason(version, "version"), step.ElapsedMilliseconds));
        }

        var domains = list.StdOut.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var domain in domains)
        {
            step.Restart();
            var xml = Virsh("dumpxml", "--security-info", domain);
            if (!xml.Succeeded)
            {
                resources.Add(new ResourceStatus(domain, "failed", Reason(xml, "dumpxml"), step.ElapsedMilliseconds));
                continue;
            }

            var collected = CollectText(new InputFile($"libvirt://{target.Name}/{domain}.xml", xml.StdOut));
            files.Add(collected);
            resources.Add(collected.Output is null
                ? new ResourceStatus(domain, "failed", $"error: {collected.SkipReason}", step.ElapsedMilliseconds)
                : new ResourceStatus(domain, "collected", null, step.ElapsedMilliseconds));
        }

        CollectNetworks(
            $"libvirt://{target.Name}/net/",
            () => Virsh("net-list", "--all", "--name"),
            network => Virsh("net-dumpxml", "--network", network),
            network => null,
            resources,
            files);
        return Finish(target, clock, resources.ToImmutable(), files.ToImmutable());
    }

    /// <summary>
    /// The virtual networks of a libvirt host: <c>net-list --all --name</c>, then <c>net-dumpxml</c> per network, each
    /// a resource named <c>net/&lt;name&gt;</c> and an input named <c>&lt;prefix&gt;&lt;name&gt;.xml</c>. A failing
    /// <c>net-list</c> is one failed resource (<c>networks</c>); the domains already collected still count.
    /// <paramref name="refuse"/> gives the reason a network name is not used (null: the name is fine).
    /// </summary>
    /// <summary>What a libvirt network (or the network list) feeds when it could not be read: the network rules only.</summary>
    private static readonly ImmutableArray<string> NetworkFeeds = [UncollectedRules.LibvirtNetwork];

    internal static void CollectNetworks(string inputPrefix, Func<CommandResult> list, Func<string, CommandResult> dump, Func<string, string?> refuse,
        ImmutableArray<ResourceStatus>.Builder resources, ImmutableArray<LiveCollected>.Builder files)
    {
        var step = Stopwatch.StartNew();
        var names = list();
        if (!names.Succeeded)
        {
            resources.Add(new ResourceStatus("networks", "failed", Reason(names, "net-list --all --name"), step.ElapsedMilliseconds) { Feeds = NetworkFeeds });
            return;
        }

        foreach (var network in names.StdOut.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            step.Restart();
            var resource = "net/" + network;
            if (refuse(network) is { } refused)
            {
                resources.Add(new ResourceStatus(resource, "failed", refused, 0) { Feeds = NetworkFeeds });
                continue;
            }

            var xml = dump(network);
            if (!xml.Succeeded)
            {
                resources.Add(new ResourceStatus(resource, "failed", Reason(xml, "net-dumpxml"), step.ElapsedMilliseconds) { Feeds = NetworkFeeds });
                continue;
            }

            var collected = CollectText(new InputFile($"{inputPrefix}{network}.xml", xml.StdOut));
            files.Add(collected);
            resources.Add(collected.Output is null
                ? new ResourceStatus(resource, "failed", $"error: {collected.SkipReason}", step.ElapsedMilliseconds) { Feeds = NetworkFeeds }
                : new ResourceStatus(resource, "collected", null, step.ElapsedMilliseconds));
        }
    }

    private static TargetOutcome CollectFiles(TargetSpec target, Stopwatch clock)
    {
        var path = target.Path!;
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return new TargetOutcome(new TargetStatus(target.Name, target.Kind, "failed", $"not-found: {path} does not exist", clock.ElapsedMilliseconds, []), []);
        }

        var resources = ImmutableArray.CreateBuilder<ResourceStatus>();
        var files = ImmutableArray.CreateBuilder<LiveCollected>();
        foreach (var (file, display) in Scanner.EnumerateInputs([path]))
        {
            if (clock.Elapsed > target.Timeout)
            {
                resources.Add(new ResourceStatus(display, "failed", "timeout: the target's time ran out", 0));
                continue;
            }

            var step = Stopwatch.StartNew();
            var (input, problem, skipReason) = InputReader.Read(file, display);
            if (input is null)
            {
                files.Add(new LiveCollected(display, null, skipReason ?? "unreadable", problem));
                resources.Add(new ResourceStatus(display, "failed", $"permission: {skipReason ?? "unreadable"}", step.ElapsedMilliseconds));
                continue;
            }

            var collected = CollectText(input) with { Problem = problem };
            files.Add(collected);
            // A file in no known format is skipped (as in a file scan), not a collection failure.
            resources.Add(new ResourceStatus(display, collected.Output is null ? "skipped" : "collected", collected.SkipReason, step.ElapsedMilliseconds));
        }

        return Finish(target, clock, resources.ToImmutable(), files.ToImmutable());
    }

    private static TargetOutcome Finish(TargetSpec target, Stopwatch clock, ImmutableArray<ResourceStatus> resources, ImmutableArray<LiveCollected> files)
    {
        var failed = resources.Count(r => r.Status == "failed");
        var status = failed == 0 ? "collected" : "partial";
        var reason = failed == 0 ? null : $"{failed} of {resources.Length} resources could not be collected";
        return new TargetOutcome(new TargetStatus(target.Name, target.Kind, status, reason, clock.ElapsedMilliseconds, resources), files);
    }

    /// <summary>Detects the text's format by content and collects it, exactly as a file scan does; never throws.</summary>
    public static LiveCollected CollectText(InputFile file)
    {
        var detected = CollectorRegistry.Detect(file);
        if (detected is null)
        {
            return new LiveCollected(file.DisplayPath, null, "unknown format", null) { Input = file };
        }

        var (collector, format) = detected.Value;
        try
        {
            return new LiveCollected(file.DisplayPath, collector.Collect(file, format), null, null) { Input = file };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new LiveCollected(file.DisplayPath, new CollectorResult(format, [], [Diagnostic.Error(file.DisplayPath, null, $"{collector.GetType().Name} failed: {ex.GetType().Name}")]), null, null);
        }
    }

    /// <summary>
    /// Writes every text a live target gave to <paramref name="directory"/>/&lt;target&gt;/&lt;name&gt; (the input's name
    /// without its <c>scheme://</c>), readable by the owner only. Non-empty password attributes are replaced by
    /// <c>(redacted)</c> first: the collectors only judge whether a password is set, so a scan of the saved folder gives
    /// the same findings. Texts a <c>files</c> target read are files already and are not copied. Problems are warnings.
    /// </summary>
    public static IEnumerable<Diagnostic> Save(LiveResult live, string directory)
    {
        var problems = new List<Diagnostic>();
        foreach (var input in live.Files.Select(f => f.Input).OfType<InputFile>())
        {
            var scheme = input.DisplayPath.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0)
            {
                continue;
            }

            var parts = input.DisplayPath[(scheme + 3)..].Split('/', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => SafeSegment().Replace(p, "_")).Where(p => p is not ("." or "..")).ToArray();
            var path = Path.Combine([directory, .. parts]);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using var stream = new FileStream(path, options);
                using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false));
                writer.Write(PasswordAttribute().Replace(input.Text, m => $"{m.Groups["name"].Value}={m.Groups["q"].Value}(redacted){m.Groups["q"].Value}"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add(Diagnostic.Warning(path, null, $"could not save what {input.DisplayPath} gave ({ex.GetType().Name})"));
            }
        }

        return problems;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"[^A-Za-z0-9._+:@-]")]
    private static partial System.Text.RegularExpressions.Regex SafeSegment();

    [System.Text.RegularExpressions.GeneratedRegex(@"\b(?<name>passwd|password)\s*=\s*(?<q>['""])[^'""]+\k<q>", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex PasswordAttribute();

    /// <summary>
    /// The reason a command failed: its kind (network, timeout, permission, authentication, not-found, error) and
    /// virsh's last error line. Only virsh's own message is kept; it never holds credentials for libvirt URIs.
    /// </summary>
    public static string Reason(CommandResult result, string what)
    {
        if (result.NotInstalled)
        {
            return $"not-found: {LiveCollection.Virsh} is not installed (Debian package libvirt-clients)";
        }

        if (result.TimedOut)
        {
            return $"timeout: '{what}' did not finish in time";
        }

        var lines = result.StdErr.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var message = lines.LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal) && !l.Contains("failed to connect to the hypervisor", StringComparison.Ordinal))
                      ?? lines.LastOrDefault() ?? $"exit code {result.ExitCode}";
        if (message.Length > 300)
        {
            message = message[..300] + "...";
        }

        return $"{Classify(result.StdErr)}: '{what}' failed: {message}";
    }

    public static string Classify(string stderr)
    {
        bool Has(params string[] words) => words.Any(w => stderr.Contains(w, StringComparison.OrdinalIgnoreCase));
        if (Has("authentication", "auth failed", "sasl", "password"))
        {
            return "authentication";
        }

        if (Has("permission denied", "access denied", "not allowed", "operation not permitted", "read-only"))
        {
            return "permission";
        }

        if (Has("timed out", "timeout"))
        {
            return "timeout";
        }

        if (Has("connection refused", "unable to connect", "no route to host", "network is unreachable", "name or service not known",
                "connection reset", "cannot recv data", "end of file while reading"))
        {
            return "network";
        }

        if (Has("failed to get domain", "domain not found", "failed to get network", "network not found", "no domain with", "failed to parse xml document", "no such file", "not found"))
        {
            return "not-found";
        }

        return "error";
    }

    private static IEnumerable<Finding> FindingsOf(TargetSpec target, TargetStatus status, string profile)
    {
        var resource = new ResourceRef("target", $"target:{target.Name.ToLowerInvariant()}", target.Name, Source: target.Source, Line: target.Line);
        if (status.Status == "not-supported")
        {
            yield return new Finding
            {
                RuleId = NotSupportedRule,
                Title = $"Target {target.Name} ({target.Kind}) was not collected: {target.Kind} collection is not supported yet",
                Category = "VT04",
                Severity = Severity.Medium,
                Status = FindingStatus.NotEvaluated,
                Resource = resource,
                Reason = status.Reason,
                Evidence = [new Evidence("collection", "not-supported", "collected", target.Source, target.Line)],
                Profile = profile,
            };
            yield break;
        }

        if (status.Status == "failed")
        {
            yield return new Finding
            {
                RuleId = TargetFailedRule,
                Title = $"Target {target.Name} could not be collected ({status.Reason!.Split(':')[0]}); none of its resources was checked",
                Category = "VT04",
                Severity = Severity.Medium,
                Status = FindingStatus.Fail,
                Resource = resource,
                Reason = status.Reason,
                Evidence = [new Evidence("collection", status.Reason, "collected", target.Source, target.Line)],
                Remediation = new Remediation("Make the target reachable and readable by the scanner, then scan again.",
                    ["Check the address, port and credentials named in the targets file.", "Run the failing command by hand from the scanner host."]),
                Profile = profile,
            };
        }

        foreach (var r in status.Resources.Where(r => r.Status == "failed"))
        {
            yield return new Finding
            {
                RuleId = ResourceFailedRule,
                Title = $"{r.Name} on target {target.Name} could not be collected ({r.Reason!.Split(':')[0]}); it was not checked",
                Category = "VT04",
                Severity = Severity.Medium,
                Status = FindingStatus.Fail,
                Resource = resource,
                Discriminator = r.Name,
                Reason = r.Reason,
                Evidence = [new Evidence(r.Name, r.Reason, "collected", target.Source, target.Line)],
                Profile = profile,
            };
        }
    }
}
