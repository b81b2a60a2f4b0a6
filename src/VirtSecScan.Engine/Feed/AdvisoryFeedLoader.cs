using System.Collections.Immutable;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Engine.Rulesets;
using YamlDotNet.RepresentationModel;

namespace VirtSecScan.Engine.Feed;

/// <summary>
/// Loads the offline advisory feed (<c>rulesets/advisories/</c>): one YAML file per advisory and one
/// lifecycle/build-map file per product. Validation is strict: an error names the file and line.
/// </summary>
public static class AdvisoryFeedLoader
{
    public static (AdvisoryFeed Feed, ImmutableArray<Diagnostic> Errors) LoadDirectory(string directory, Func<string, string> display)
    {
        var advisories = ImmutableArray.CreateBuilder<Advisory>();
        var lifecycles = ImmutableArray.CreateBuilder<BranchLifecycle>();
        var builds = ImmutableArray.CreateBuilder<BuildInfo>();
        var errors = ImmutableArray.CreateBuilder<Diagnostic>();
        if (!Directory.Exists(directory))
        {
            return (AdvisoryFeed.Empty, []);
        }

        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var paths = Directory.EnumerateFiles(directory, "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(directory, "*.yml", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal);
        var tests = ImmutableArray.CreateBuilder<FeedTestCase>();
        foreach (var path in paths)
        {
            var name = display(path);
            if (string.Equals(Path.GetFileName(path), TestsFile, StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    tests.AddRange(FeedSelfTest.Parse(File.ReadAllText(path), name));
                }
                catch (DataFileException ex)
                {
                    errors.Add(ex.ToDiagnostic());
                }

                continue;
            }

            try
            {
                var y = new YamlReader(name);
                var root = y.LoadDocument(File.ReadAllText(path));
                var (advisory, fileLifecycles, fileBuilds) = ParseDocument(y, root);
                lifecycles.AddRange(fileLifecycles);
                builds.AddRange(fileBuilds);
                if (advisory is not null)
                {
                    if (!ids.Add(advisory.Id))
                    {
                        throw y.Error(root, $"advisory {advisory.Id} is defined twice");
                    }

                    advisories.Add(advisory);
                }
            }
            catch (DataFileException ex)
            {
                errors.Add(ex.ToDiagnostic());
            }
            catch (IOException ex)
            {
                errors.Add(Diagnostic.Error(name, null, "cannot read: " + ex.Message));
            }
        }

        KevCatalog? kev = null;
        EpssTable? epss = null;
        var kevPath = Path.Combine(directory, KevFile);
        if (File.Exists(kevPath))
        {
            try
            {
                kev = KevReader.Parse(File.ReadAllText(kevPath), display(kevPath));
            }
            catch (DataFileException ex)
            {
                errors.Add(ex.ToDiagnostic());
            }
        }

        var epssPath = Path.Combine(directory, EpssFile);
        if (File.Exists(epssPath))
        {
            try
            {
                epss = EpssReader.Parse(File.ReadAllText(epssPath), display(epssPath));
            }
            catch (DataFileException ex)
            {
                errors.Add(ex.ToDiagnostic());
            }
        }

        var feed = new AdvisoryFeed(advisories.ToImmutable(), lifecycles.ToImmutable(), builds.ToImmutable()) { Tests = tests.ToImmutable(), Epss = epss };
        return (WithKev(feed, kev), errors.ToImmutable());
    }

    /// <summary>The self-test file of a feed folder.</summary>
    public const string TestsFile = "tests.yaml";

    /// <summary>The CISA KEV catalog as imported (verbatim) into a feed folder.</summary>
    public const string KevFile = "kev.json";

    /// <summary>EPSS scores as imported into a feed folder.</summary>
    public const string EpssFile = "epss.csv";

    /// <summary>
    /// Marks every advisory CVE that the KEV catalog lists (match on the CVE id only; the catalog's vendor and
    /// product are free text). A <c>kev:</c> written in an advisory file stays when the catalog does not list the CVE.
    /// </summary>
    public static AdvisoryFeed WithKev(AdvisoryFeed feed, KevCatalog? kev)
    {
        if (kev is null)
        {
            return feed;
        }

        var advisories = feed.Advisories.Select(a => a with
        {
            Cves = a.Cves.Select(c => kev.Find(c.Id) is { } e ? c with { Kev = e } : c).ToImmutableArray(),
        }).ToImmutableArray();
        return feed with { Advisories = advisories, Kev = kev };
    }

    /// <summary>Validates one feed file (an advisory or a lifecycle file). Throws <see cref="DataFileException"/>.</summary>
    public static void ValidateFile(string text, string display)
    {
        var y = new YamlReader(display);
        ParseDocument(y, y.LoadDocument(text));
    }

    /// <summary>A feed file is a lifecycle file when it has <c>branches</c>, else one advisory.</summary>
    private static (Advisory? Advisory, List<BranchLifecycle> Lifecycles, List<BuildInfo> Builds) ParseDocument(YamlReader y, YamlNode root)
    {
        if (root is YamlMappingNode map && YamlReader.Child(map, "branches") is not null)
        {
            var (lifecycles, builds) = ParseLifecycle(y, root);
            return (null, lifecycles, builds);
        }

        return (ParseAdvisory(y, root), [], []);
    }

    public static Advisory ParseAdvisory(YamlReader y, YamlNode node)
    {
        var map = y.Mapping(node, "advisory", "id", "revision", "published", "updated", "title", "severity", "source", "cves", "fixes", "workarounds", "notes");
        var id = y.RequiredString(map, "id", "advisory");
        var what = $"advisory {id}";
        var cves = ImmutableArray.CreateBuilder<AdvisoryCve>();
        foreach (var c in y.Sequence(y.Required(map, "cves", what), $"{what}: cves"))
        {
            var cm = y.Mapping(c, $"{what}: cve", "id", "cvss", "vector", "summary", "kev", "source");
            var cveId = y.RequiredString(cm, "id", $"{what}: cve");
            if (!cveId.StartsWith("CVE-", StringComparison.Ordinal))
            {
                throw y.Error(cm, $"{what}: '{cveId}' is not a CVE id");
            }

            KevEntry? kev = null;
            if (YamlReader.Child(cm, "kev") is { } kn)
            {
                var km = y.Mapping(kn, $"{what}: {cveId} kev", "dateAdded", "ransomware", "dueDate");
                var ransomware = y.OptionalString(km, "ransomware", $"{what}: kev") ?? "Unknown";
                if (ransomware is not ("Known" or "Unknown"))
                {
                    throw y.Error(km, $"{what}: kev ransomware must be Known or Unknown");
                }

                kev = new KevEntry(y.Date(y.Required(km, "dateAdded", $"{what}: kev"), $"{what}: kev dateAdded"), ransomware == "Known");
            }

            var cvss = YamlReader.Child(cm, "cvss") is { } cn ? y.Number(cn, $"{what}: cvss") : (double?)null;
            if (cvss is < 0 or > 10)
            {
                throw y.Error(cm, $"{what}: cvss must be between 0 and 10");
            }

            cves.Add(new AdvisoryCve(cveId, cvss, y.OptionalString(cm, "vector", what), y.OptionalString(cm, "summary", what), kev, y.OptionalString(cm, "source", what)));
        }

        var known = cves.Select(c => c.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var fixes = ImmutableArray.CreateBuilder<AdvisoryFix>();
        foreach (var f in y.Sequence(y.Required(map, "fixes", what), $"{what}: fixes"))
        {
            var fm = y.Mapping(f, $"{what}: fix", "product", "line", "fixedBuild", "fixedVersion", "package", "fixedName", "status", "cves");
            var status = y.OptionalString(fm, "status", what);
            if (status is not (null or "fixed" or "no-fix"))
            {
                throw y.Error(fm, $"{what}: fix status must be fixed or no-fix");
            }

            var noFix = status == "no-fix";
            var build = YamlReader.Child(fm, "fixedBuild") is { } bn ? y.Integer(bn, $"{what}: fixedBuild") : (long?)null;
            var fixedVersion = y.OptionalString(fm, "fixedVersion", what);
            var package = y.OptionalString(fm, "package", what);
            if (build.HasValue && fixedVersion is not null)
            {
                throw y.Error(fm, $"{what}: a fix row has fixedBuild or fixedVersion, not both");
            }

            if (noFix == (build.HasValue || fixedVersion is not null))
            {
                throw y.Error(fm, noFix ? $"{what}: a no-fix row has no fixedBuild or fixedVersion" : $"{what}: a fix row needs fixedBuild or fixedVersion (or status: no-fix)");
            }

            if (fixedVersion is not null && !VersionComparer.LooksLikeVersion(fixedVersion))
            {
                throw y.Error(fm, $"{what}: fixedVersion '{fixedVersion}' is not a version");
            }

            if (package is not null && fixedVersion is null && !noFix)
            {
                throw y.Error(fm, $"{what}: package needs fixedVersion");
            }

            var fixCves = YamlReader.Child(fm, "cves") is { } fc ? y.StringList(fc, $"{what}: fix cves") : [];
            foreach (var cve in fixCves.Where(c => !known.Contains(c)))
            {
                throw y.Error(fm, $"{what}: fix names {cve}, which is not in the advisory's cves");
            }

            var line = y.RequiredString(fm, "line", $"{what}: fix");
            // 8.0 / 8.0U2 (VMware update lines), a version line such as 8, 8.2 or 20348, or a Windows OS build such as 10.0.20348.
            if (!System.Text.RegularExpressions.Regex.IsMatch(line, @"^\d+(\.\d+)?(U\d+)?$|^\d+\.\d+\.\d+$"))
            {
                throw y.Error(fm, $"{what}: line '{line}' is not an update line such as 8.0 or 8.0U2 (or a version line such as 8, 8.2, or a Windows OS build such as 10.0.20348)");
            }

            var product = y.RequiredString(fm, "product", $"{what}: fix");
            if (product != product.ToLowerInvariant())
            {
                throw y.Error(fm, $"{what}: product '{product}' must be lower case ({string.Join(", ", Products.All)})");
            }

            fixes.Add(new AdvisoryFix(product, line, build, y.OptionalString(fm, "fixedName", what), noFix, fixCves, fixedVersion, package, YamlReader.LineOf(fm)));
        }

        var workarounds = ImmutableArray.CreateBuilder<string>();
        if (YamlReader.Child(map, "workarounds") is { } wn)
        {
            foreach (var w in y.Sequence(wn, $"{what}: workarounds"))
            {
                var wm = y.Mapping(w, $"{what}: workaround", "cves", "summary", "check", "kb");
                workarounds.Add(y.RequiredString(wm, "summary", $"{what}: workaround"));
            }
        }

        return new Advisory(
            id,
            YamlReader.Child(map, "revision") is { } rn ? (int)y.Integer(rn, $"{what}: revision") : 1,
            y.Date(y.Required(map, "published", what), $"{what}: published"),
            YamlReader.Child(map, "updated") is { } un ? y.Date(un, $"{what}: updated") : null,
            y.RequiredString(map, "title", what),
            y.OptionalString(map, "severity", what),
            y.RequiredString(map, "source", what),
            cves.ToImmutable(),
            fixes.ToImmutable(),
            workarounds.ToImmutable(),
            YamlReader.Child(map, "notes") is { } nn ? y.StringList(nn, $"{what}: notes") : [],
            y.File);
    }

    private static (List<BranchLifecycle>, List<BuildInfo>) ParseLifecycle(YamlReader y, YamlNode node)
    {
        var map = y.Mapping(node, "lifecycle file", "product", "branches", "builds", "notes");
        var product = y.RequiredString(map, "product", "lifecycle file");
        var lifecycles = new List<BranchLifecycle>();
        foreach (var b in y.Sequence(y.Required(map, "branches", "lifecycle file"), "branches"))
        {
            var bm = y.Mapping(b, "branch", "branch", "endOfGeneralSupport", "endOfTechnicalGuidance", "source", "notes");
            var branch = y.RequiredString(bm, "branch", "branch");
            if (lifecycles.Any(l => l.Branch == branch))
            {
                throw y.Error(bm, $"branch {branch} is listed twice");
            }

            lifecycles.Add(new BranchLifecycle(
                product,
                branch,
                YamlReader.Child(bm, "endOfGeneralSupport") is { } e ? y.Date(e, "endOfGeneralSupport") : null,
                y.OptionalString(bm, "source", "branch")));
        }

        var builds = new List<BuildInfo>();
        if (YamlReader.Child(map, "builds") is { } bn)
        {
            foreach (var b in y.Sequence(bn, "builds"))
            {
                var bm = y.Mapping(b, "build", "build", "name", "line", "released");
                builds.Add(new BuildInfo(
                    product,
                    y.Integer(y.Required(bm, "build", "build"), "build"),
                    y.RequiredString(bm, "name", "build"),
                    y.RequiredString(bm, "line", "build"),
                    YamlReader.Child(bm, "released") is { } r ? y.Date(r, "released") : null));
            }
        }

        return (lifecycles, builds);
    }
}
