using Microsoft.Playwright;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting.Screenshot.Tests;

/// <summary>
/// Renders the demo hospital's HTML report in Debian's headless Chromium (driven by Microsoft.Playwright, never
/// downloading a browser), checks that the charts have a size on screen and that the filter script runs under the
/// report's Content-Security-Policy, and saves a screenshot. With VIRTSECSCAN_UPDATE_SCREENSHOT=1 the PNG is also
/// written to docs/report-screenshot.png (the picture in the README).
/// </summary>
public sealed class HtmlScreenshotTests : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumFlags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
    ];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Demo_hospital_report_renders_its_charts_and_filters_in_chromium()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install Debian's chromium package (.ci/run does)");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");

        // Repository-relative inputs, so the report shows short paths (this project has no other test).
        Directory.SetCurrentDirectory(RepoPaths.Root);
        var report = new Scanner(new ScanOptions
        {
            Inputs = ["fixtures/demo-hospital"],
            RulesDirectory = RepoPaths.Rulesets,
            StartedAt = new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero),
        }).Run();
        var html = _dir.Write("findings.html", HtmlReportWriter.ToHtml(report));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumFlags,
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1400 } });
        var blocked = new List<string>();
        page.Request += (_, r) =>
        {
            if (!r.Url.StartsWith("file:", StringComparison.Ordinal))
            {
                blocked.Add(r.Url);
            }
        };
        var errors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add(m.Text);
            }
        };
        await page.GotoAsync(new Uri(html).AbsoluteUri);

        foreach (var id in new[] { "chart-severity", "chart-category", "chart-systems" })
        {
            var box = await page.Locator($"svg#{id}").BoundingBoxAsync();
            Assert.NotNull(box);
            Assert.True(box!.Width > 100 && box.Height > 20, $"{id} has size {box.Width}x{box.Height}");
            var bar = await page.Locator($"svg#{id} rect[width]:not([width='0'])").First.BoundingBoxAsync();
            Assert.True(bar is { Width: > 0, Height: > 0 }, $"{id} draws no visible bar");
        }

        // The filter script ran (the CSP hash matches): filters are shown and searching narrows the list.
        Assert.True(await page.Locator("form.filters").IsVisibleAsync(), "the filter form is hidden: the script did not run");
        var all = await page.Locator("article.finding:visible").CountAsync();
        Assert.Equal(report.Findings.Length, all);
        await page.FillAsync("#q", "vnc");
        var vnc = report.Findings.Count(f => string.Join(' ', new[] { f.Title, f.RuleId, f.Resource.Name, f.Resource.Id, f.Resource.Zone ?? "", f.Resource.Host ?? "" }
                .Concat(f.Evidence.Select(e => e.Key)).Concat(f.References.Select(r => r.Id)))
            .Contains("vnc", StringComparison.OrdinalIgnoreCase));
        Assert.True(vnc > 0);
        Assert.Equal(vnc, await page.Locator("article.finding:visible").CountAsync());
        Assert.Equal(vnc.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.Locator("#shown").TextContentAsync());
        await page.FillAsync("#q", "");
        await page.SelectOptionAsync("#f-sev", "4");
        Assert.Equal(report.Findings.Count(f => f.Severity == Core.Findings.Severity.Critical), await page.Locator("article.finding:visible").CountAsync());
        await page.SelectOptionAsync("#f-sev", "");

        Assert.Empty(blocked);
        Assert.Empty(errors);

        var png = _dir.File("report-screenshot.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = png });
        var bytes = await File.ReadAllBytesAsync(png);
        Assert.True(bytes.Length > 20_000, "the screenshot is suspiciously small");
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, bytes[..4]);
        File.Copy(png, Path.Combine(AppContext.BaseDirectory, "report-screenshot.png"), overwrite: true);
        if (Environment.GetEnvironmentVariable("VIRTSECSCAN_UPDATE_SCREENSHOT") == "1")
        {
            File.Copy(png, RepoPaths.Combine("docs/report-screenshot.png"), overwrite: true);
        }

        // Printed, the filters are hidden and every finding is there.
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Print });
        Assert.False(await page.Locator("form.filters").IsVisibleAsync());
        Assert.Equal(report.Findings.Length, await page.Locator("article.finding:visible").CountAsync());
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Screen });

        // The optional sections render too when their data is given (sample data, for this check only).
        var extras = new HtmlReportExtras
        {
            Reachability =
            [
                new ReachabilityCell("guest", "his", ["tcp/443"], ["fw-edge:12"]),
                new ReachabilityCell("nrcms-link", "his", ["tcp/2575", "tcp/443"], ["fw-core:7"]),
                new ReachabilityCell("his", "nrcms-link", [], []),
            ],
            Trend =
            [
                new TrendPoint(new DateTimeOffset(2026, 11, 13, 10, 0, 0, TimeSpan.Zero), 3, 6, 20, 12, 0),
                new TrendPoint(new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero), 2, 5, 19, 11, 0),
                new TrendPoint(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero), 2, 4, 18, 10, 0),
            ],
        };
        var withExtras = _dir.Write("extras.html", HtmlReportWriter.ToHtml(report, extras));
        await page.GotoAsync(new Uri(withExtras).AbsoluteUri);
        foreach (var id in new[] { "chart-reachability", "chart-trend" })
        {
            var box = await page.Locator($"svg#{id}").BoundingBoxAsync();
            Assert.True(box is { Width: > 100, Height: > 100 }, $"{id} has no size");
        }

        Assert.Equal(9, await page.Locator("svg#chart-reachability g.cell rect").CountAsync());
        Assert.Empty(blocked);
        Assert.Empty(errors);
    }
}
