using System.CommandLine;
using System.Globalization;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Engine.Correlation;
using VirtSecScan.Engine.Feed;
using VirtSecScan.Engine.Rulesets;

namespace VirtSecScan.Cli.Commands;

/// <summary>
/// <c>virtsecscan feed import</c> and <c>feed status</c>. The feed folder is the rules folder's <c>advisories/</c>
/// (<c>--rules</c>, <c>VIRTSECSCAN_RULES</c>, else the rulesets beside the tool) unless <c>--feed DIR</c> names another.
/// An import is staged in a temporary copy of the feed, loaded, validated and self-tested there, and only then
/// written to the feed folder: a file of the wrong schema or a feed that fails its own tests changes nothing.
/// </summary>
public static class FeedCommand
{
    public static Command Build(Option<string?> rulesOption, TextWriter stdout, TextWriter stderr)
    {
        var feed = new Command("feed", "Import advisories, the CISA KEV catalog and EPSS scores; show the feed's status.");
        var feedDir = new Option<string?>("--feed") { Description = "Feed folder (default: the rules folder's advisories/)", HelpName = "DIR" };

        var import = new Command("import", "Import CSAF 2.0 advisories (JSON), saved VMSA pages (HTML) or feed YAML files, a KEV catalog and EPSS scores.");
        var files = new Argument<string[]>("FILE") { Arity = ArgumentArity.ZeroOrMore, Description = "CSAF 2.0 JSON, saved VMSA HTML page, or advisory YAML" };
        var kev = new Option<string?>("--kev") { Description = "CISA known_exploited_vulnerabilities.json", HelpName = "FILE" };
        var epss = new Option<string?>("--epss") { Description = "EPSS scores CSV (cve,epss,percentile)", HelpName = "FILE" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and self-test only; write nothing" };
        import.Arguments.Add(files);
        foreach (var o in new Option[] { feedDir, kev, epss, dryRun })
        {
            import.Options.Add(o);
        }

        import.SetAction(parse => Import(
            FeedDirectory(parse.GetValue(rulesOption), parse.GetValue(feedDir)),
            parse.GetValue(files) ?? [],
            parse.GetValue(kev),
            parse.GetValue(epss),
            parse.GetValue(dryRun),
            DateOnly.FromDateTime(DateTime.UtcNow),
            stdout,
            stderr));

        var status = new Command("status", "Show the feed's age, counts, KEV catalog and EPSS dates.");
        status.Options.Add(feedDir);
        status.SetAction(parse => Status(FeedDirectory(parse.GetValue(rulesOption), parse.GetValue(feedDir)), DateOnly.FromDateTime(DateTime.UtcNow), stdout, stderr));

        feed.Subcommands.Add(import);
        feed.Subcommands.Add(status);
        return feed;
    }

    public static string FeedDirectory(string? rulesOption, string? feedOption) =>
        !string.IsNullOrEmpty(feedOption) ? feedOption : Path.Combine(CommandLine.RulesDirectory(rulesOption), "advisories");

    private static Func<string, string> Display(string directory) =>
        p => Path.Combine("advisories", Path.GetRelativePath(directory, p)).Replace('\\', '/');

    public static int Import(string feedDir, string[] files, string? kevFile, string? epssFile, bool dryRun, DateOnly today, TextWriter stdout, TextWriter stderr)
    {
        if (files.Length == 0 && kevFile is null && epssFile is null)
        {
            stderr.WriteLine("error: nothing to import: give advisory files, --kev FILE or --epss FILE");
            return ExitCodes.UsageError;
        }

        foreach (var f in files.Append(kevFile).Append(epssFile).OfType<string>().Where(f => !File.Exists(f)))
        {
            stderr.WriteLine($"error: not found: {f}");
            return ExitCodes.UsageError;
        }

        var (current, loadErrors) = AdvisoryFeedLoader.LoadDirectory(feedDir, Display(feedDir));
        if (!loadErrors.IsEmpty)
        {
            return Refuse(stderr, "the current feed has errors; fix them before importing", loadErrors);
        }

        // Convert and validate each input; collect the files to write (relative path -> text).
        var writes = new List<(string Relative, string Text, string What)>();
        var problems = new List<Diagnostic>();
        if (kevFile is not null)
        {
            try
            {
                var text = File.ReadAllText(kevFile);
                var catalog = KevReader.Parse(text, kevFile);
                if (current.Kev is { } old && string.CompareOrdinal(catalog.CatalogVersion, old.CatalogVersion) < 0)
                {
                    problems.Add(Diagnostic.Error(kevFile, null, $"catalog {catalog.CatalogVersion} is older than the imported {old.CatalogVersion}; not imported"));
                }
                else
                {
                    writes.Add((AdvisoryFeedLoader.KevFile, text, $"CISA KEV catalog {catalog.CatalogVersion} ({catalog.Entries.Count} CVEs)"));
                }
            }
            catch (Exception ex) when (ex is DataFileException or IOException)
            {
                problems.Add(ex is DataFileException d ? d.ToDiagnostic() : Diagnostic.Error(kevFile, null, ex.Message));
            }
        }

        if (epssFile is not null)
        {
            try
            {
                var text = File.ReadAllText(epssFile);
                var table = EpssReader.Parse(text, epssFile);
                writes.Add((AdvisoryFeedLoader.EpssFile, text, $"EPSS scores {table.ScoreDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "(undated)"} ({table.Scores.Count} CVEs)"));
            }
            catch (Exception ex) when (ex is DataFileException or IOException)
            {
                problems.Add(ex is DataFileException d ? d.ToDiagnostic() : Diagnostic.Error(epssFile, null, ex.Message));
            }
        }

        foreach (var file in files)
        {
            try
            {
                var text = File.ReadAllText(file);
                var trimmed = text.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
                Advisory advisory;
                IEnumerable<string> warnings = [];
                string kind;
                if (trimmed.StartsWith('{'))
                {
                    (advisory, var w) = CsafImporter.Import(text, file, current);
                    (warnings, kind) = (w, "CSAF");
                }
                else if (trimmed.StartsWith('<'))
                {
                    (advisory, var w) = VmsaHtmlImporter.Import(text, file, current);
                    (warnings, kind) = (w, "VMSA page");
                }
                else
                {
                    var y = new YamlReader(file);
                    advisory = AdvisoryFeedLoader.ParseAdvisory(y, y.LoadDocument(text));
                    kind = "YAML";
                }

                foreach (var w in warnings)
                {
                    stderr.WriteLine("warning: " + w);
                }

                var yaml = kind == "YAML" ? text : AdvisoryYaml.Write(advisory, $"{kind} {Path.GetFileName(file)}");
                if (current.Advisories.FirstOrDefault(a => a.Id == advisory.Id) is { } existing && existing.Revision > advisory.Revision)
                {
                    problems.Add(Diagnostic.Error(file, null, $"{advisory.Id} revision {advisory.Revision} is older than the feed's revision {existing.Revision}; not imported"));
                    continue;
                }

                var target = current.Advisories.FirstOrDefault(a => a.Id == advisory.Id)?.File is { } existingFile && existingFile.StartsWith("advisories/", StringComparison.Ordinal)
                    ? existingFile["advisories/".Length..]
                    : $"imported/{advisory.Id}.yaml";
                writes.Add((target, yaml, $"{advisory.Id} revision {advisory.Revision} ({kind}, {advisory.Cves.Length} CVEs, {advisory.Fixes.Length} fix rows)"));
            }
            catch (DataFileException ex)
            {
                problems.Add(ex.ToDiagnostic());
            }
            catch (IOException ex)
            {
                problems.Add(Diagnostic.Error(file, null, "cannot read: " + ex.Message));
            }
        }

        if (problems.Count > 0)
        {
            return Refuse(stderr, "nothing was imported", problems);
        }

        // Stage: a copy of the feed with the new files, loaded and self-tested like a scan would.
        var stage = Path.Combine(Path.GetTempPath(), "virtsecscan-feed-" + Guid.NewGuid().ToString("N"));
        try
        {
            CopyDirectory(feedDir, stage);
            foreach (var (relative, text, _) in writes)
            {
                var path = Path.Combine(stage, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, text);
            }

            var (staged, errors) = AdvisoryFeedLoader.LoadDirectory(stage, Display(stage));
            if (!errors.IsEmpty)
            {
                return Refuse(stderr, "the feed would have errors after this import; nothing was imported", errors);
            }

            var failures = FeedSelfTest.Run(staged);
            if (!failures.IsEmpty)
            {
                return Refuse(stderr, $"the feed would fail {failures.Length} of its {staged.Tests.Length} self-tests; nothing was imported", failures);
            }

            foreach (var (relative, text, what) in writes)
            {
                if (!dryRun)
                {
                    var path = Path.Combine(feedDir, relative);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllText(path, text);
                }

                stdout.WriteLine($"{(dryRun ? "would import" : "imported")} {what} -> {Path.Combine(feedDir, relative).Replace('\\', '/')}");
            }

            stdout.WriteLine($"feed self-tests: {staged.Tests.Length} passed");
            return ExitCodes.Ok;
        }
        finally
        {
            try
            {
                Directory.Delete(stage, true);
            }
            catch (IOException)
            {
                // a leftover temporary copy is harmless
            }
        }
    }

    public static int Status(string feedDir, DateOnly today, TextWriter stdout, TextWriter stderr)
    {
        if (!Directory.Exists(feedDir))
        {
            stderr.WriteLine($"error: feed folder not found: {feedDir}");
            return ExitCodes.UsageError;
        }

        var (feed, errors) = AdvisoryFeedLoader.LoadDirectory(feedDir, Display(feedDir));
        stdout.WriteLine($"Feed folder:   {feedDir.Replace('\\', '/')}");
        var published = feed.Published;
        var age = published is { } p ? today.DayNumber - p.DayNumber : (int?)null;
        stdout.WriteLine($"Newest advisory: {published?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "(none)"}"
                         + (age is { } a ? $" ({a} days old{(a > PatchFindings.StaleAfterDays ? $"; STALE, older than {PatchFindings.StaleAfterDays} days" : "")})" : ""));
        stdout.WriteLine($"Advisories:    {feed.Advisories.Length} ({feed.Advisories.Sum(x => x.Cves.Length)} CVEs, {feed.Advisories.Sum(x => x.Cves.Count(c => c.Kev is not null))} in CISA KEV)");
        foreach (var product in feed.Advisories.SelectMany(x => x.Fixes.Select(f => f.Product)).Distinct().Order(StringComparer.Ordinal))
        {
            var n = feed.Advisories.Count(x => x.CoversProduct(product));
            var builds = feed.Builds.Count(b => b.Product == product);
            var branches = feed.Lifecycles.Count(l => l.Product == product);
            stdout.WriteLine($"  {product,-11} {n} advisories, {builds} builds in the build map, {branches} branches with a lifecycle");
        }

        stdout.WriteLine(feed.Kev is { } kev
            ? $"CISA KEV:      catalog {kev.CatalogVersion}, released {kev.DateReleased?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "?"}"
              + (kev.DateReleased is { } r ? $" ({today.DayNumber - r.DayNumber} days old)" : "") + $", {kev.Entries.Count} CVEs, {kev.Entries.Values.Count(e => e.RansomwareKnown)} with known ransomware use"
            : "CISA KEV:      not imported (virtsecscan feed import --kev known_exploited_vulnerabilities.json)");
        stdout.WriteLine(feed.Epss is { } epss
            ? $"EPSS:          {epss.Scores.Count} CVEs, score date {epss.ScoreDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "?"}, model {epss.ModelVersion ?? "?"}"
            : "EPSS:          not imported");
        var failures = errors.IsEmpty ? FeedSelfTest.Run(feed) : [];
        stdout.WriteLine($"Self-tests:    {feed.Tests.Length} ({(errors.IsEmpty ? failures.IsEmpty ? "all pass" : $"{failures.Length} FAIL" : "not run: the feed has errors")})");
        foreach (var d in errors.Concat(failures))
        {
            stderr.WriteLine(d.Line is { } line ? $"{d.File}:{line}: {d.Message}" : $"{d.File}: {d.Message}");
        }

        return errors.IsEmpty && failures.IsEmpty ? ExitCodes.Ok : ExitCodes.UsageError;
    }

    private static int Refuse(TextWriter stderr, string message, IEnumerable<Diagnostic> diagnostics)
    {
        stderr.WriteLine("error: " + message);
        foreach (var d in diagnostics)
        {
            stderr.WriteLine(d.Line is { } line ? $"{d.File}:{line}: {d.Message}" : $"{d.File}: {d.Message}");
        }

        return ExitCodes.UsageError;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        if (!Directory.Exists(from))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
