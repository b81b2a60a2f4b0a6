using System.Collections.Immutable;
using VirtSecScan.Collectors;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Scoring;
using VirtSecScan.Core.Site;
using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Engine.Scanning;

/// <summary>The rules, feed and options a scan runs with.</summary>
public sealed record ScanOptions
{
    public required ImmutableArray<string> Inputs { get; init; }
    public string Profile { get; init; } = Profiles.Default;
    public string? SiteFile { get; init; }
    public required string RulesDirectory { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
}

/// <summary>A problem that stops a scan before it starts (bad ruleset, bad site file, no readable input).</summary>
public sealed class ScanSetupException(string message, ImmutableArray<Diagnostic> diagnostics) : Exception(message)
{
    public ImmutableArray<Diagnostic> Diagnostics { get; } = diagnostics;
}

/// <summary>
/// One scan: walk the inputs, detect each file's format by content, collect facts, apply the site model,
/// run the rules, score and rank. Bad input files become diagnostics; the scan goes on.
/// </summary>
public sealed class Scanner(ScanOptions options, IProgress<ScanProgress>? progress = null)
{
    public const string SiteFormat = "virtsecscan-site";

    public ScanReport Run()
    {
        var startedAt = options.StartedAt ?? DateTimeOffset.UtcNow;
        if (!Profiles.IsKnown(options.Profile))
        {
            throw new ScanSetupException($"unknown profile '{options.Profile}' (known: {string.Join(", ", Profiles.Names.Keys)})", []);
        }

        var (rulesets, feed) = LoadRules(options.RulesDirectory);
        var files = EnumerateInputs(options.Inputs);
        var site = LoadSite(files);

        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var collected = ImmutableArray.CreateBuilder<CollectedFile>();
        var skipped = ImmutableArray.CreateBuilder<SkippedFile>();
        var facts = new List<object>();
        if (site.Source is not null)
        {
            collected.Add(new CollectedFile(site.Source, SiteFormat, site.Zones.Length + site.Systems.Length));
        }

        for (var i = 0; i < files.Count; i++)
        {
            var (path, display) = files[i];
            progress?.Report(new ScanProgress("collect", i, files.Count, display));
            if (site.Source == display)
            {
                continue;
            }

            var (file, problem, skipReason) = InputReader.Read(path, display);
            if (problem is not null)
            {
                diagnostics.Add(problem);
            }

            if (file is null)
            {
                skipped.Add(new SkippedFile(display, skipReason ?? "unreadable"));
                continue;
            }

            var detected = CollectorRegistry.Detect(file);
            if (detected is null)
            {
                skipped.Add(new SkippedFile(display, "unknown format"));
                continue;
            }

            var (collector, format) = detected.Value;
            CollectorResult result;
            try
            {
                result = collector.Collect(file, format);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A collector bug must not end the scan: report it against the file and go on.
                result = new CollectorResult(format, [], [Diagnostic.Error(display, null, $"{collector.GetType().Name} failed: {ex.GetType().Name}: {ex.Message}")]);
            }

            diagnostics.AddRange(result.Diagnostics);
            collected.Add(new CollectedFile(display, result.Format, result.Facts.Sum(f => f is IConfigFact c ? c.Settings.Count : 1)));
            facts.AddRange(result.Facts);
        }

        progress?.Report(new ScanProgress("collect", files.Count, files.Count, null));
        if (files.Count > 0 && collected.Count == (site.Source is null ? 0 : 1))
        {
            diagnostics.Add(Diagnostic.Warning(options.Inputs[0], null, "no input file was in a known format"));
        }

        facts = facts.Select(f => Enrich(f, feed, site)).ToList();
        diagnostics.AddRange(DuplicateResources(facts));

        progress?.Report(new ScanProgress("evaluate", 0, 1, null));
        var engine = new RuleEngine(rulesets, options.Profile);
        var outcomes = engine.Evaluate(facts, feed, DateOnly.FromDateTime(startedAt.UtcDateTime));
        progress?.Report(new ScanProgress("evaluate", 1, 1, null));

        var scored = outcomes
            .Select(f => RiskScorer.Score(f, site.Resolve(f.Resource.Type, f.Resource.Name)))
            .ToList();
        var feedPublished = feed.Published;
        return new ScanReport
        {
            StartedAt = startedAt,
            Inputs = options.Inputs,
            Profile = options.Profile,
            Site = site.Source,
            Rulesets = rulesets.Select(r => new RulesetInfo(r.Name, r.Version)).OrderBy(r => r.Name, StringComparer.Ordinal).ToImmutableArray(),
            AdvisoryFeed = new FeedInfo(feedPublished, feedPublished is { } p ? DateOnly.FromDateTime(startedAt.UtcDateTime).DayNumber - p.DayNumber : null, feed.Advisories.Length),
            Collected = collected.OrderBy(c => c.File, StringComparer.Ordinal).ToImmutableArray(),
            Skipped = skipped.OrderBy(s => s.File, StringComparer.Ordinal).ToImmutableArray(),
            Findings = RiskScorer.Rank(scored.Where(f => f.Status is FindingStatus.Fail or FindingStatus.Error)),
            NotEvaluated = scored.Where(f => f.Status == FindingStatus.NotEvaluated)
                .OrderBy(f => f.RuleId, StringComparer.Ordinal).ThenBy(f => f.Resource.Name, StringComparer.Ordinal).ThenBy(f => f.Discriminator, StringComparer.Ordinal)
                .ToImmutableArray(),
            Passed = scored.Count(f => f.Status == FindingStatus.Pass),
            Diagnostics = diagnostics.OrderBy(d => d.File, StringComparer.Ordinal).ThenBy(d => d.Line ?? 0).ThenBy(d => d.Message, StringComparer.Ordinal).ToImmutableArray(),
            Resources = facts.OfType<IConfigFact>().Select(f => f.Resource).DistinctBy(r => r.Id).OrderBy(r => r.Id, StringComparer.Ordinal).ToImmutableArray(),
        };
    }

    /// <summary>Loads and validates every ruleset and the advisory feed; any error stops the scan before it starts.</summary>
    public static (ImmutableArray<LoadedRuleset> Rulesets, AdvisoryFeed Feed) LoadRules(string rulesDirectory)
    {
        if (!Directory.Exists(rulesDirectory))
        {
            throw new ScanSetupException($"rules folder not found: {rulesDirectory}", []);
        }

        var display = (string p) => Path.Combine("rulesets", Path.GetRelativePath(rulesDirectory, p)).Replace('\\', '/');
        var (rulesets, errors) = RulesetLoader.LoadAll(RulesetLoader.RulesetFiles(rulesDirectory).Select(p => (p, display(p))));
        var (feed, feedErrors) = AdvisoryFeedLoader.LoadDirectory(Path.Combine(rulesDirectory, "advisories"), display);
        var all = errors.AddRange(feedErrors);
        if (!all.IsEmpty)
        {
            throw new ScanSetupException("the rulesets have errors; fix them before scanning", all);
        }

        return (rulesets, feed);
    }

    private SiteModel LoadSite(List<(string Path, string Display)> files)
    {
        string? path = options.SiteFile;
        string? display = path;
        if (path is null)
        {
            // A site.yaml at the top of a scanned folder is the site model.
            foreach (var input in options.Inputs.Where(Directory.Exists))
            {
                var candidate = Path.Combine(input, "site.yaml");
                if (File.Exists(candidate))
                {
                    path = candidate;
                    display = files.FirstOrDefault(f => Path.GetFullPath(f.Path) == Path.GetFullPath(candidate)).Display ?? candidate;
                    break;
                }
            }
        }

        if (path is null)
        {
            return SiteModel.Empty;
        }

        try
        {
            return SiteModelLoader.Parse(File.ReadAllText(path), display!);
        }
        catch (DataFileException ex)
        {
            throw new ScanSetupException("the site file has errors", [ex.ToDiagnostic()]);
        }
        catch (IOException ex)
        {
            throw new ScanSetupException($"cannot read the site file {display}: {ex.Message}", []);
        }
    }

    /// <summary>Files under the inputs, in a stable order; hidden folders (.git ...) are not walked.</summary>
    public static List<(string Path, string Display)> EnumerateInputs(IEnumerable<string> inputs)
    {
        var result = new List<(string, string)>();
        var missing = new List<string>();
        foreach (var input in inputs)
        {
            var display = input.Replace('\\', '/').TrimEnd('/');
            if (File.Exists(input))
            {
                result.Add((input, display));
            }
            else if (Directory.Exists(input))
            {
                foreach (var file in Walk(input))
                {
                    result.Add((file, display + "/" + Path.GetRelativePath(input, file).Replace('\\', '/')));
                }
            }
            else
            {
                missing.Add(input);
            }
        }

        if (missing.Count > 0)
        {
            throw new ScanSetupException($"not found: {string.Join(", ", missing)}", []);
        }

        return result.DistinctBy(r => r.Item2).ToList();
    }

    private static IEnumerable<string> Walk(string directory)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var file in Directory.EnumerateFiles(directory, "*", options).Order(StringComparer.Ordinal))
        {
            if (!Path.GetFileName(file).StartsWith('.'))
            {
                yield return file;
            }
        }

        foreach (var sub in Directory.EnumerateDirectories(directory, "*", options).Order(StringComparer.Ordinal))
        {
            if (!Path.GetFileName(sub).StartsWith('.'))
            {
                foreach (var file in Walk(sub))
                {
                    yield return file;
                }
            }
        }
    }

    /// <summary>Adds what the site model and the feed's build map know: zone and host of a resource, a build's exact update line.</summary>
    private static object Enrich(object fact, AdvisoryFeed feed, SiteModel site)
    {
        switch (fact)
        {
            case VmConfig vm:
                var vmSite = site.Resolve("vm", vm.Resource.Name);
                return vm with { Resource = vm.Resource with { Zone = vmSite.ZoneId, Host = vmSite.Host } };
            case HypervisorBuild host:
                var hostSite = site.Resolve("host", host.Resource.Name);
                var enriched = host with { Resource = host.Resource with { Zone = hostSite.ZoneId } };
                if (feed.FindBuild(host.Product, host.Build) is { } known && PatchLevelMatcher.BranchOf(known.Line) == host.Branch)
                {
                    enriched = enriched with { UpdateLine = known.Line, UpdateName = known.Name };
                }

                return enriched;
            case ConfigFact config:
                var configSite = site.Resolve(config.Resource.Type, config.Resource.Name);
                return config with { Resource = config.Resource with { Zone = configSite.ZoneId, Host = config.Resource.Host ?? configSite.Host } };
            default:
                return fact;
        }
    }

    private static IEnumerable<Diagnostic> DuplicateResources(List<object> facts) =>
        facts.OfType<IConfigFact>()
            .GroupBy(f => (f is ConfigFact c ? c.Kind : f.GetType().Name, f.Resource.Id))
            .Where(g => g.Count() > 1)
            .Select(g => Diagnostic.Warning(g.Last().Resource.Source ?? "", null,
                $"{g.Key.Item2} is also described by {string.Join(", ", g.SkipLast(1).Select(f => f.Resource.Source))}; findings are reported for each file"));
}
