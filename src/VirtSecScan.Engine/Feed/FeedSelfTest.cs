using System.Collections.Immutable;
using System.Globalization;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Rulesets;
using YamlDotNet.RepresentationModel;

namespace VirtSecScan.Engine.Feed;

/// <summary>
/// Places a host's build with the feed's build map: a known build fixes the update line (even where the version
/// does not say it, as on ESXi 6.x); an unknown build of a product the map covers is flagged, never guessed.
/// </summary>
public static class BuildPlacement
{
    public static HypervisorBuild Place(HypervisorBuild host, AdvisoryFeed feed)
    {
        if (host.Unplaced is not null)
        {
            return host;
        }

        if (feed.FindBuild(host.Product, host.Build) is { } known && PatchLevelMatcher.BranchOf(known.Line) == host.Branch)
        {
            return host with { UpdateLine = known.Line, UpdateName = known.Name, LineCertain = true };
        }

        return feed.HasBuildMap(host.Product) ? host with { NotInBuildMap = true } : host;
    }
}

/// <summary>
/// The feed's own test cases (<c>tests.yaml</c> in the feed folder): hosts at a given version/build and the exact
/// set of advisories they must be missing (and, optionally, be indeterminate for). <c>feed import</c> and
/// <c>rules validate</c> run them and refuse a feed that fails one.
/// </summary>
public static class FeedSelfTest
{
    public static ImmutableArray<FeedTestCase> Parse(string text, string file)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "feed tests", "tests", "notes");
        var cases = ImmutableArray.CreateBuilder<FeedTestCase>();
        foreach (var node in y.Sequence(y.Required(root, "tests", "feed tests"), "tests"))
        {
            var m = y.Mapping(node, "test", "name", "product", "version", "build", "line", "packages", "missing", "indeterminate", "notes");
            var name = y.RequiredString(m, "name", "test");
            var product = y.RequiredString(m, "product", $"test '{name}'");
            var packages = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.OrdinalIgnoreCase);
            if (YamlReader.Child(m, "packages") is { } pn)
            {
                var pm = y.Mapping(pn, $"test '{name}': packages");
                foreach (var (k, v) in pm.Children)
                {
                    packages[y.Scalar(k, "package name")] = y.Scalar(v, "package version");
                }
            }

            cases.Add(new FeedTestCase(
                name,
                product,
                y.RequiredString(m, "version", $"test '{name}'"),
                YamlReader.Child(m, "build") is { } bn ? y.Integer(bn, $"test '{name}': build") : 0,
                y.OptionalString(m, "line", $"test '{name}'"),
                packages.ToImmutable(),
                y.StringList(y.Required(m, "missing", $"test '{name}'"), $"test '{name}': missing"),
                YamlReader.Child(m, "indeterminate") is { } inn ? y.StringList(inn, $"test '{name}': indeterminate") : null,
                file,
                YamlReader.LineOf(m)));
        }

        return cases.ToImmutable();
    }

    /// <summary>Runs every test case against the feed; each failure is an error naming the test's file and line.</summary>
    public static ImmutableArray<Diagnostic> Run(AdvisoryFeed feed)
    {
        var failures = ImmutableArray.CreateBuilder<Diagnostic>();
        foreach (var t in feed.Tests)
        {
            var host = BuildPlacement.Place(Host(t), feed);
            if (host.Unplaced is { } why)
            {
                failures.Add(Diagnostic.Error(t.File, t.SourceLine, $"test '{t.Name}': the host cannot be placed ({why})"));
                continue;
            }

            var verdicts = feed.Advisories.Where(a => a.CoversProduct(t.Product)).Select(a => PatchLevelMatcher.Evaluate(host, a)).ToList();
            var missing = verdicts.Where(v => v.Verdict == PatchVerdict.Vulnerable).Select(v => v.Advisory.Id).Order(StringComparer.Ordinal).ToList();
            var indeterminate = verdicts.Where(v => v.Verdict == PatchVerdict.Indeterminate).Select(v => v.Advisory.Id).Order(StringComparer.Ordinal).ToList();
            var expected = t.ExpectMissing.Order(StringComparer.Ordinal).ToList();
            if (!missing.SequenceEqual(expected, StringComparer.OrdinalIgnoreCase))
            {
                failures.Add(Diagnostic.Error(t.File, t.SourceLine,
                    $"test '{t.Name}': expected missing [{string.Join(", ", expected)}], the feed gives [{string.Join(", ", missing)}] (line {host.UpdateLine})"));
            }

            if (t.ExpectIndeterminate is { } ei && !indeterminate.SequenceEqual(ei.Order(StringComparer.Ordinal), StringComparer.OrdinalIgnoreCase))
            {
                failures.Add(Diagnostic.Error(t.File, t.SourceLine,
                    $"test '{t.Name}': expected indeterminate [{string.Join(", ", ei)}], the feed gives [{string.Join(", ", indeterminate)}]"));
            }
        }

        return failures.ToImmutable();
    }

    /// <summary>The host a test case describes, built the way the collectors build it.</summary>
    public static HypervisorBuild Host(FeedTestCase t)
    {
        var resource = new ResourceRef("host", $"test:{t.Name}", t.Name);
        HypervisorBuild host;
        switch (t.Product)
        {
            case Products.Esxi or Products.Vcenter:
                host = VersionFacts.Vmware(t.Product, resource, t.Version, t.Build, null, null, null, "feed-test");
                break;
            case Products.HyperV:
                var parts = t.Version.Split('.');
                host = parts.Length == 4 && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var ubr)
                    ? new HypervisorBuild(resource, t.Product, t.Version, ubr, parts[2], parts[2], null, null)
                    : VersionFacts.Unplaced(t.Product, resource, t.Version, "a Hyper-V version is 10.0.<build>.<UBR>");
                break;
            default:
                host = VersionFacts.Versioned(t.Product, resource, t.Version, t.Packages, "feed-test");
                break;
        }

        if (t.UpdateLine is { } line && host.Unplaced is null)
        {
            host = host with { UpdateLine = line, Branch = PatchLevelMatcher.BranchOf(line), LineCertain = true };
        }

        return t.Packages.IsEmpty ? host : host with { Packages = t.Packages };
    }
}
