using System.Collections.Immutable;
using VirtSecScan.Collectors;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Core.Scoring;
using VirtSecScan.Core.Site;
using VirtSecScan.Core.Network;
using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Network;
using VirtSecScan.Engine.Rulesets;
using VirtSecScan.Engine.Waivers;

namespace VirtSecScan.Engine.Scanning;

/// <summary>The rules, feed and options a scan runs with.</summary>
public sealed record ScanOptions
{
    public required ImmutableArray<string> Inputs { get; init; }
    public string Profile { get; init; } = Profiles.Default;
    public string? SiteFile { get; init; }
    public required string RulesDirectory { get; init; }
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>A waivers file (YAML); waivers are judged on the scan date.</summary>
    public string? WaiversFile { get; init; }
    /// <summary>An EPSS CSV (<c>cve,epss,percentile</c>) for this scan; overrides the feed folder's <c>epss.csv</c>.</summary>
    public string? EpssFile { get; init; }
    /// <summary>A targets file (YAML): live targets (libvirt URIs, folders ...) collected before the rules run.</summary>
    public string? TargetsFile { get; init; }
    /// <summary>A folder to write what live targets gave (outputs, API responses; secrets redacted), for evidence and offline re-scans.</summary>
    public string? SaveCollected { get; init; }

    /// <summary>How many partitions per-fact rules run over in parallel (null: by the number of facts and processors; tests force 1 or many).</summary>
    public int? RulePartitions { get; init; }
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
        var waivers = LoadWaivers(options.WaiversFile);
        if (options.EpssFile is { } epssFile)
        {
            try
            {
                feed = feed with { Epss = EpssReader.Parse(File.ReadAllText(epssFile), epssFile) };
            }
            catch (DataFileException ex)
            {
                throw new ScanSetupException("the EPSS file has errors", [ex.ToDiagnostic()]);
            }
            catch (IOException ex)
            {
                throw new ScanSetupException($"cannot read the EPSS file {epssFile}: {ex.Message}", []);
            }
        }

        PhaseTimings.Mark("load-rules");
        var files = EnumerateInputs(options.Inputs);
        var site = LoadSite(files);
        PhaseTimings.Mark("enumerate");

        var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
        var collected = ImmutableArray.CreateBuilder<CollectedFile>();
        var skipped = ImmutableArray.CreateBuilder<SkippedFile>();
        var facts = new List<object>();
        if (site.Source is not null)
        {
            collected.Add(new CollectedFile(site.Source, SiteFormat, site.Zones.Length + site.Systems.Length));
        }

        // Files are read and collected in parallel (collectors are pure); results are merged in file order, so the
        // report does not depend on scheduling.
        var results = new CollectedInput?[files.Count];
        var binaries = new (IFileCollector Collector, string Format)?[files.Count];
        var done = 0;
        var progressGate = new object();
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (path, display) = files[i];
            if (site.Source == display)
            {
                return;
            }

            if (CollectorRegistry.DetectFile(path) is { } binary)
            {
                binaries[i] = binary;
                return; // binary captures are streamed one at a time below, with their own progress
            }

            results[i] = CollectOne(path, display);
            var n = Interlocked.Increment(ref done);
            if (progress is not null)
            {
                lock (progressGate)
                {
                    progress.Report(new ScanProgress("collect", n, files.Count, display));
                }
            }
        });
        PhaseTimings.Mark("collect");

        for (var i = 0; i < files.Count; i++)
        {
            var result = results[i];
            if (result is null)
            {
                var (path, display) = files[i];
                if (binaries[i] is { } binary)
                {
                    var binaryResult = CollectBinary(binary.Collector, binary.Format, path, display, i, files.Count);
                    diagnostics.AddRange(binaryResult.Diagnostics);
                    collected.Add(new CollectedFile(display, binaryResult.Format, binaryResult.Facts.Length));
                    facts.AddRange(binaryResult.Facts);
                }

                continue;
            }

            if (result.Problem is not null)
            {
                diagnostics.Add(result.Problem);
            }

            if (result.Skipped is not null)
            {
                skipped.Add(result.Skipped);
                continue;
            }

            diagnostics.AddRange(result.Output!.Diagnostics);
            collected.Add(new CollectedFile(result.Display, result.Output.Format, result.Output.Facts.Sum(f => f is IConfigFact c ? c.Settings.Count : 1)));
            facts.AddRange(result.Output.Facts);
        }

        progress?.Report(new ScanProgress("collect", files.Count, files.Count, null));
        var live = CollectLive(collected, skipped, diagnostics, facts, rulesets, feed);
        if (files.Count > 0 && collected.Count == (site.Source is null ? 0 : 1))
        {
            diagnostics.Add(Diagnostic.Warning(options.Inputs[0], null, "no input file was in a known format"));
        }

        facts = facts.Select(f => Enrich(f, feed, site)).ToList();
        facts = HostDefaults.Apply(EsxiHostFacts.Merge(facts));
        facts = FactLinks.Link(facts, diagnostics); // joins facts of one resource read from several files (qemu.conf → domains, Hyper-V cmdlets → VM)
        diagnostics.AddRange(DuplicateResources(facts));
        PhaseTimings.Mark("merge-enrich");

        progress?.Report(new ScanProgress("evaluate", 0, 1, null));
        var engine = new RuleEngine(rulesets, options.Profile);
        PhaseTimings.Mark("rules-compile");
        var outcomes = engine.Evaluate(facts.Where(f => f is not FirewallRuleset), feed, DateOnly.FromDateTime(startedAt.UtcDateTime), site, options.RulePartitions);
        var (reachability, networkFindings) = NetworkFindings.Analyze(site, facts, options.Profile);
        outcomes = outcomes.AddRange(networkFindings);
        outcomes = outcomes.AddRange(live.Findings);
        PhaseTimings.Mark("network");
        progress?.Report(new ScanProgress("evaluate", 1, 1, null));

        var scored = outcomes
            .Select(f => WithEpss(f, feed.Epss))
            .Select(f => f.Status == FindingStatus.Pass ? f : RiskScorer.Score(f, f.Resource.Type == "flow" ? Traffic.TrafficZones.Context(site, f.Resource) : site.Resolve(f.Resource.Type, f.Resource.Name)))
            .Select(f => ApplyException(f, site))
            .ToList();
        var (afterWaivers, waiverOutcomes, waiverDiagnostics) = WaiverApplier.Apply(scored, waivers, DateOnly.FromDateTime(startedAt.UtcDateTime));
        scored = [.. afterWaivers];
        diagnostics.AddRange(waiverDiagnostics);
        var failing = RiskScorer.Rank(scored.Where(f => f.Status is FindingStatus.Fail or FindingStatus.Error));
        var waived = RiskScorer.Rank(scored.Where(f => f.Status == FindingStatus.Waived))
            .Select(f => f with { Rank = failing.Length + f.Rank });
        var feedPublished = feed.Published;
        PhaseTimings.Mark("score-rank");
        var report = new ScanReport
        {
            StartedAt = startedAt,
            Inputs = options.Inputs,
            Profile = options.Profile,
            Site = site.Source,
            Rulesets = rulesets.Select(r => new RulesetInfo(r.Name, r.Version)).OrderBy(r => r.Name, StringComparer.Ordinal).ToImmutableArray(),
            AdvisoryFeed = new FeedInfo(feedPublished, feedPublished is { } p ? DateOnly.FromDateTime(startedAt.UtcDateTime).DayNumber - p.DayNumber : null, feed.Advisories.Length)
            {
                KevCatalogVersion = feed.Kev?.CatalogVersion,
                KevDateReleased = feed.Kev?.DateReleased,
                EpssScoreDate = feed.Epss?.ScoreDate,
            },
            Collected = collected.OrderBy(c => c.File, StringComparer.Ordinal).ToImmutableArray(),
            Skipped = skipped.OrderBy(s => s.File, StringComparer.Ordinal).ToImmutableArray(),
            Findings = [.. failing, .. waived],
            NotEvaluated = scored.Where(f => f.Status == FindingStatus.NotEvaluated)
                .OrderBy(f => f.RuleId, StringComparer.Ordinal).ThenBy(f => f.Resource.Name, StringComparer.Ordinal).ThenBy(f => f.Discriminator, StringComparer.Ordinal)
                .ToImmutableArray(),
            Passed = scored.Count(f => f.Status == FindingStatus.Pass),
            Reachability = reachability,
            Diagnostics = diagnostics.OrderBy(d => d.File, StringComparer.Ordinal).ThenBy(d => d.Line ?? 0).ThenBy(d => d.Message, StringComparer.Ordinal).ToImmutableArray(),
            Resources = facts.OfType<IConfigFact>().Select(f => f.Resource).DistinctBy(ScanReport.ResourceKey).OrderBy(r => r.Id, StringComparer.Ordinal).ThenBy(r => r.Type, StringComparer.Ordinal).ToImmutableArray(),
            RuleResults = scored.GroupBy(f => f.RuleId, StringComparer.Ordinal).ToImmutableSortedDictionary(
                g => g.Key,
                g => new RuleTally(
                    g.Count(f => f.Status == FindingStatus.Pass),
                    g.Count(f => f.Status == FindingStatus.Fail),
                    g.Count(f => f.Status == FindingStatus.NotEvaluated),
                    g.Count(f => f.Status == FindingStatus.Error),
                    g.Count(f => f.Status == FindingStatus.Waived)),
                StringComparer.Ordinal),
            Waivers = waiverOutcomes,
            Exceptions = scored.Where(f => f.Status == FindingStatus.PassedWithException)
                .OrderBy(f => f.RuleId, StringComparer.Ordinal).ThenBy(f => f.Resource.Name, StringComparer.Ordinal).ThenBy(f => f.Discriminator, StringComparer.Ordinal)
                .ToImmutableArray(),
            Targets = live.Targets,
        };
        PhaseTimings.Mark("report-build");
        return report;
    }

    /// <summary>Collects the live targets of the targets file (if any) and merges what they gave like scanned files.</summary>
    private Live.LiveResult CollectLive(ImmutableArray<CollectedFile>.Builder collected, ImmutableArray<SkippedFile>.Builder skipped,
        ImmutableArray<Diagnostic>.Builder diagnostics, List<object> facts, ImmutableArray<LoadedRuleset> rulesets, AdvisoryFeed feed)
    {
        if (options.TargetsFile is null)
        {
            if (options.SaveCollected is not null)
            {
                diagnostics.Add(Diagnostic.Warning(options.SaveCollected, null, "--save-collected saves what live targets gave; without --targets there is nothing to save"));
            }

            return Live.LiveResult.Empty;
        }

        Live.TargetsFile targets;
        try
        {
            targets = Live.TargetsFileLoader.Load(options.TargetsFile);
        }
        catch (DataFileException ex)
        {
            throw new ScanSetupException("the targets file has errors", [ex.ToDiagnostic()]);
        }

        progress?.Report(new ScanProgress("collect-targets", 0, targets.Targets.Length, null));
        var live = Live.LiveCollection.Collect(targets, options.Profile);
        if (options.SaveCollected is not null)
        {
            diagnostics.AddRange(Live.LiveCollection.Save(live, options.SaveCollected));
        }

        progress?.Report(new ScanProgress("collect-targets", targets.Targets.Length, targets.Targets.Length, null));
        foreach (var file in live.Files)
        {
            if (file.Problem is not null)
            {
                diagnostics.Add(file.Problem);
            }

            if (file.Output is null)
            {
                skipped.Add(new SkippedFile(file.Display, file.SkipReason ?? "unreadable"));
                continue;
            }

            diagnostics.AddRange(file.Output.Diagnostics);
            collected.Add(new CollectedFile(file.Display, file.Output.Format, file.Output.Facts.Sum(f => f is IConfigFact c ? c.Settings.Count : 1)));
            facts.AddRange(file.Output.Facts);
        }

        // The rules a failed target or resource would have fed are not-evaluated, one by one (never passed).
        return live with { Findings = live.Findings.AddRange(Live.UncollectedRules.Findings(targets.Targets, live.Targets, rulesets, feed, options.Profile)) };
    }

    /// <summary>A failing outcome that the site file documents as intended becomes passed-with-exception.</summary>
    public static Finding ApplyException(Finding finding, SiteModel site) =>
        finding.Status == FindingStatus.Fail && !site.Exceptions.IsDefaultOrEmpty
                                              && site.FindException(finding.RuleId, finding.Resource.Name, finding.Resource.Id) is { } exception
            ? finding with { Status = FindingStatus.PassedWithException, Exception = exception }
            : finding;

    private sealed record CollectedInput(string Display, Diagnostic? Problem, SkippedFile? Skipped, CollectorResult? Output);

    /// <summary>Reads one file, detects its format and collects it; never throws.</summary>
    private static CollectedInput CollectOne(string path, string display)
    {
        var (file, problem, skipReason) = InputReader.Read(path, display);
        if (file is null)
        {
            return new CollectedInput(display, problem, new SkippedFile(display, skipReason ?? "unreadable"), null);
        }

        var detected = CollectorRegistry.Detect(file);
        if (detected is null)
        {
            return new CollectedInput(display, problem, new SkippedFile(display, "unknown format"), null);
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

        return new CollectedInput(display, problem, null, result);
    }

    /// <summary>Streams a binary file (a packet capture) through its collector, reporting packets and bytes per second.</summary>
    private CollectorResult CollectBinary(IFileCollector collector, string format, string path, string display, int index, int count)
    {
        var fileProgress = progress is null
            ? null
            : new ActionProgress<FileProgress>(p =>
            {
                var seconds = Math.Max(p.Elapsed.TotalSeconds, 0.001);
                progress.Report(new ScanProgress("collect", index, count,
                    $"{Path.GetFileName(display)} {100.0 * p.Bytes / Math.Max(1, p.TotalBytes):N0}%: {p.Items:N0} pkts, {p.Items / seconds:N0} pkts/s, {p.Bytes / seconds / 1e6:N0} MB/s"));
            });
        try
        {
            return collector.Collect(path, display, format, fileProgress);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new CollectorResult(format, [], [Diagnostic.Error(display, null, $"{collector.GetType().Name} failed: {ex.GetType().Name}: {ex.Message}")]);
        }
    }

    /// <summary>Reports on the scanning thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class ActionProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
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

    private static ImmutableArray<WaiverEntry> LoadWaivers(string? path)
    {
        if (path is null)
        {
            return [];
        }

        try
        {
            return WaiverFile.Parse(File.ReadAllText(path), path.Replace('\\', '/'));
        }
        catch (DataFileException ex)
        {
            throw new ScanSetupException("the waivers file has errors", [ex.ToDiagnostic()]);
        }
        catch (IOException ex)
        {
            throw new ScanSetupException($"cannot read the waivers file {path}: {ex.Message}", []);
        }
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

        SiteDefaults defaults;
        try
        {
            defaults = SiteNetworkLoader.LoadDefaults(options.RulesDirectory);
        }
        catch (DataFileException ex)
        {
            throw new ScanSetupException("the site defaults have errors", [ex.ToDiagnostic()]);
        }

        if (path is null)
        {
            return defaults.ApplyTo(SiteModel.Empty);
        }

        try
        {
            return SiteModelLoader.Parse(File.ReadAllText(path), display!, defaults);
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
                return vm with { Resource = vm.Resource with { Zone = vmSite.ZoneId, Host = vmSite.Host ?? vm.Resource.Host ?? HostDefaults.HostFromPath(vm.Resource.Source) } };
            case HypervisorBuild host:
                var hostSite = site.Resolve("host", host.Resource.Name);
                var enriched = host with { Resource = host.Resource with { Zone = hostSite.ZoneId } };
                // The build map fixes the update line; a build it does not know is flagged (patch.build-indeterminate).
                return BuildPlacement.Place(enriched, feed);
            case ConfigFact { Kind: Traffic.TrafficZones.Kind } flow:
                return Traffic.TrafficZones.Annotate(flow, site);
            case ConfigFact config:
                var configSite = site.Resolve(config.Resource.Type, config.Resource.Name);
                return config with { Resource = config.Resource with { Zone = configSite.ZoneId, Host = config.Resource.Host ?? configSite.Host } };
            default:
                return fact;
        }
    }

    /// <summary>The highest EPSS percentile among a finding's CVE references, when EPSS scores are loaded.</summary>
    private static Finding WithEpss(Finding finding, EpssTable? epss)
    {
        if (epss is null)
        {
            return finding;
        }

        var best = finding.References.Where(r => r.Id.StartsWith("CVE-", StringComparison.Ordinal))
            .Select(r => epss.Find(r.Id)).Where(s => s is not null).MaxBy(s => s!.Percentile);
        return best is null ? finding : finding with { EpssPercentile = best.Percentile };
    }

    private static IEnumerable<Diagnostic> DuplicateResources(List<object> facts) =>
        facts.OfType<IConfigFact>()
            .Where(f => f.Resource.Type != "flow") // one conversation seen in several captures is several observations
            .GroupBy(f => (f is ConfigFact c ? c.Kind : f.GetType().Name, f.Resource.Id))
            .Where(g => g.Count() > 1)
            .Select(g => Diagnostic.Warning(g.Last().Resource.Source ?? "", null,
                $"{g.Key.Item2} is also described by {string.Join(", ", g.SkipLast(1).Select(f => f.Resource.Source))}; findings are reported for each file"));
}
