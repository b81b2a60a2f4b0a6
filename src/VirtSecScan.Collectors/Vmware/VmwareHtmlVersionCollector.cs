using System.Globalization;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// ESXi Host Client and vCenter (vSphere Client About, appliance management VAMI Summary) pages saved from a
/// browser. The page is parsed with AngleSharp (no scripts run, nothing fetched); scripts and styles are
/// dropped and the visible text is searched for what the pages show: <c>VMware ESXi 7.0.3 build-21930508</c>,
/// an image profile <c>ESXi-7.0U3n-21930508-standard</c>, or a <c>Version</c> label followed by a
/// <c>Build</c> / <c>Build number</c> label (ESXi <c>7.0.3</c>; vCenter <c>8.0.3.00000</c>). The host is the one in the
/// browser's <c>saved from url=</c> comment, else the page title before " - VMware ESXi", else the file name.
/// The page layouts vary by release; a page where no version is found is reported, never guessed.
/// </summary>
public sealed partial class VmwareHtmlVersionCollector : ICollector
{
    public const string Format = "vmware-html-version";

    [GeneratedRegex(@"VMware ESXi:?\s*(?<version>\d+\.\d+\.\d+)\s*(?:build-|\(?Build\s*)(?<build>\d{5,})", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex EsxiFull();

    [GeneratedRegex(@"\bESXi-(?<branch>\d+\.\d+)(?:\.\d+)?(?:U(?<update>\d+))?[a-z]*(?:-s)?-(?<build>\d{5,})-(?:standard|no-tools)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Profile();

    [GeneratedRegex(@"\bVersion:?\s*(?<version>\d+\.\d+\.\d+(?:\.\d+)?)\b.{0,120}?\bBuild(?:\s*number)?:?\s*(?<build>\d{5,})", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex VersionThenBuild();

    [GeneratedRegex(@"saved from url=\(\d+\)(?<url>\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex SavedFrom();

    public string? Detect(InputFile file)
    {
        var head = file.Text.Length > 2048 ? file.Text[..2048] : file.Text;
        if (!head.Contains("<html", StringComparison.OrdinalIgnoreCase) && !head.Contains("<!doctype html", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return (file.Text.Contains("ESXi", StringComparison.Ordinal) || file.Text.Contains("vCenter", StringComparison.Ordinal) || file.Text.Contains("vSphere", StringComparison.Ordinal))
               && Read(file).Product is not null
            ? Format
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var (product, version, build, text) = Read(file);
        var host = HostOf(file);
        var line = product == Products.Vcenter ? LineOf(file, "Build") : LineOf(file, "ESXi");
        if (product is null)
        {
            var guess = file.Text.Contains("vCenter", StringComparison.Ordinal) ? Products.Vcenter : Products.Esxi;
            return new CollectorResult(format, [VersionFacts.Unplaced(guess, VersionFacts.Resource(guess, host, file, 1), "", "no version and build on the saved page")],
                [Diagnostic.Warning(file.DisplayPath, 1, "saved page shows no ESXi or vCenter version and build; the host is reported as indeterminate")]);
        }

        var resource = VersionFacts.Resource(product, host, file, line);
        var fact = VersionFacts.Vmware(product, resource, version!, build, null, null, null, product == Products.Vcenter ? "vcenter-html" : "host-client-html");
        return new CollectorResult(format, [fact], fact.Unplaced is null ? [] : [Diagnostic.Warning(file.DisplayPath, line, fact.Unplaced)]);
    }

    private static (string? Product, string? Version, long Build, string Text) Read(InputFile file)
    {
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var doc = parser.ParseDocument(file.Text);
        foreach (var e in doc.QuerySelectorAll("script, style, noscript, template").ToList())
        {
            e.Remove();
        }

        var title = doc.Title ?? "";
        var text = Regex.Replace((doc.Body?.TextContent ?? "") + " " + title, @"\s+", " ");
        var vcenter = text.Contains("vCenter", StringComparison.OrdinalIgnoreCase) || title.Contains("vSphere Client", StringComparison.OrdinalIgnoreCase)
                      || text.Contains("Appliance Management", StringComparison.OrdinalIgnoreCase);
        var esxi = EsxiFull().Match(text);
        if (esxi.Success && long.TryParse(esxi.Groups["build"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var b1))
        {
            return (Products.Esxi, esxi.Groups["version"].Value, b1, text);
        }

        var vb = VersionThenBuild().Match(text);
        if (vb.Success && long.TryParse(vb.Groups["build"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var b2))
        {
            var v = vb.Groups["version"].Value;
            var isVcenter = vcenter && v.Count(c => c == '.') == 3;
            if (isVcenter || text.Contains("ESXi", StringComparison.Ordinal))
            {
                return (isVcenter ? Products.Vcenter : Products.Esxi, v, b2, text);
            }
        }

        var p = Profile().Match(text);
        if (p.Success && long.TryParse(p.Groups["build"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var b3))
        {
            var update = p.Groups["update"].Success ? p.Groups["update"].Value : "0";
            return (Products.Esxi, $"{p.Groups["branch"].Value}.{update}", b3, text);
        }

        return (null, null, 0, text);
    }

    private static string HostOf(InputFile file)
    {
        var saved = SavedFrom().Match(file.Text.Length > 4096 ? file.Text[..4096] : file.Text);
        if (saved.Success && Uri.TryCreate(saved.Groups["url"].Value, UriKind.Absolute, out var uri) && uri.Host.Length > 0)
        {
            return uri.HostNameType == UriHostNameType.Dns ? uri.Host.Split('.')[0] : uri.Host;
        }

        var t = Regex.Match(file.Text, @"<title>\s*(?<host>[A-Za-z0-9][A-Za-z0-9.\-]*)\s+-\s+VMware ESXi\s*</title>", RegexOptions.IgnoreCase);
        return t.Success ? t.Groups["host"].Value.Split('.')[0] : VersionFacts.HostName(file);
    }

    private static int LineOf(InputFile file, string needle) => VcenterVersionCollector.LineOf(file, needle);
}
