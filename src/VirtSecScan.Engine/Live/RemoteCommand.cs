using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.RegularExpressions;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core.Facts;

// The allow-list check and the name quoting are tested directly (tests/VirtSecScan.Engine.Tests/Live/SshAllowListTests.cs).
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("VirtSecScan.Engine.Tests")]

namespace VirtSecScan.Engine.Live;

/// <summary>
/// One allow-listed remote command of an SSH platform: the file name its output is collected under (without
/// extension; also the resource name in the target's status), the fixed command, and an optional fallback run
/// when the first fails (an older release lacking the command). <see cref="WithCommandLine"/> puts the command
/// line before the output, as a saved transcript has it, for outputs the ESXi collectors recognise only by it.
/// </summary>
internal sealed record RemoteCommand(string Slug, string Command, RemoteCommand? Fallback = null)
{
    public bool WithCommandLine { get; init; }

    /// <summary>The command and its fallback chain.</summary>
    public IEnumerable<string> Commands => Fallback is null ? [Command] : [Command, .. Fallback.Commands];
}

/// <summary>Runs remote commands and feeds their outputs to the collectors; shared by the SSH platforms.</summary>
internal static partial class RemoteCommands
{
    /// <summary>
    /// Runs <paramref name="command"/> (then its fallback if it failed), feeds the output to
    /// <see cref="LiveCollection.CollectText"/> under <paramref name="path"/>(slug), and says how it went. An output
    /// in no known format, or one that gave no facts, is a failed resource: it was not checked.
    /// </summary>
    public static (ResourceStatus Status, LiveCollected? File) RunOne(RemoteCommand command, Func<string, CommandResult> run, Func<string, string> path)
    {
        var step = Stopwatch.StartNew();
        var used = command;
        var result = run(command.Command);
        var earlier = new List<string>();
        while (!result.Succeeded && !result.TimedOut && used.Fallback is { } fallback)
        {
            earlier.Add(SshCollection.Reason(result, used.Command));
            used = fallback;
            result = run(fallback.Command);
        }

        if (!result.Succeeded)
        {
            var reason = SshCollection.Reason(result, used.Command);
            return (new ResourceStatus(command.Slug, "failed", earlier.Count == 0 ? reason : $"{reason}; before it: {string.Join("; ", earlier)}", step.ElapsedMilliseconds), null);
        }

        var text = used.WithCommandLine ? used.Command + "\n" + result.StdOut : result.StdOut;
        var collected = LiveCollection.CollectText(new InputFile(path(used.Slug), text));
        if (collected.Output is null)
        {
            return (new ResourceStatus(command.Slug, "failed", $"error: the output of '{used.Command}' is in no format the scanner reads ({collected.SkipReason})", step.ElapsedMilliseconds), collected);
        }

        if (collected.Output.Facts.IsEmpty)
        {
            return (new ResourceStatus(command.Slug, "failed", $"error: the output of '{used.Command}' gave no settings (format {collected.Output.Format}; see the diagnostics)", step.ElapsedMilliseconds), collected);
        }

        return (new ResourceStatus(command.Slug, "collected", used == command ? null : $"collected with '{used.Command}'", step.ElapsedMilliseconds), collected);
    }

    /// <summary>
    /// Commands run at once on one SSH connection (each on its own channel; OpenSSH allows 10 sessions per
    /// connection by default). Enough to hide the per-command start-up time of esxcli, few enough not to load the host.
    /// </summary>
    public const int ChannelsAtOnce = 4;

    /// <summary>Runs the commands, up to <see cref="ChannelsAtOnce"/> at a time, and returns the results in the commands' order.</summary>
    public static List<(ResourceStatus Status, LiveCollected? File)> RunAll(IReadOnlyList<RemoteCommand> commands, Func<string, CommandResult> run, Func<string, string> path)
    {
        var results = new (ResourceStatus Status, LiveCollected? File)[commands.Count];
        Parallel.For(0, commands.Count, new ParallelOptions { MaxDegreeOfParallelism = ChannelsAtOnce }, i => results[i] = RunOne(commands[i], run, path));
        return [.. results];
    }

    /// <summary>The names in keys <c>PREFIX[NAME].…</c> of the collected configuration facts, distinct, in ordinal order.</summary>
    public static List<string> ItemNames(LiveCollected? file, string prefix)
    {
        if (file?.Output is null)
        {
            return [];
        }

        return file.Output.Facts.OfType<IConfigFact>().SelectMany(f => f.Settings.Keys)
            .Where(k => k.StartsWith(prefix + "[", StringComparison.OrdinalIgnoreCase) && k.IndexOf("].", StringComparison.Ordinal) > prefix.Length)
            .Select(k => k[(prefix.Length + 1)..k.IndexOf("].", StringComparison.Ordinal)])
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>A name as part of a file name: characters other than letters, digits, '.', '_' and '-' become '-'.</summary>
    public static string Slug(string name) => Unsafe().Replace(name, "-");

    /// <summary>
    /// The target's status: <c>collected</c>, <c>partial</c> when some resources failed, or <c>failed</c> (with no
    /// resources, so one finding stands for the target) when none was collected.
    /// </summary>
    public static TargetStatus Finish(TargetSpec target, Stopwatch clock, ImmutableArray<ResourceStatus> resources)
    {
        var failed = resources.Where(r => r.Status == "failed").ToList();
        if (resources.Length > 0 && failed.Count == resources.Length)
        {
            return SshCollection.Failed(target, clock, $"{failed[0].Reason} (none of the {resources.Length} allow-listed commands gave output)");
        }

        return SshCollection.Finish(target, clock, resources);
    }

    [GeneratedRegex("[^A-Za-z0-9._-]", RegexOptions.CultureInvariant)]
    private static partial Regex Unsafe();
}
