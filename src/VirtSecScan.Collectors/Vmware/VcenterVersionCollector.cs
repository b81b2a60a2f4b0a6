using System.Globalization;
using System.Text.Json;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Collectors.Vmware;

/// <summary>
/// vCenter appliance version JSON: <c>GET /api/appliance/system/version</c> (<c>{"version":"8.0.3.00000",
/// "build":"24022515","product":"VMware vCenter Server","type":...,"summary":...,"releasedate":...,
/// "install_time":...}</c>) and the older <c>GET /rest/appliance/system/version</c>, which wraps the same
/// structure in <c>{"value": ...}</c>. The build is the appliance (VAMI) build, recorded as build source
/// <c>appliance-api</c> (before 7.0 U2 the vSphere API reports a different build of the same release).
/// The third version number is the update (8.0.3 = 8.0 Update 3).
/// </summary>
public sealed class VcenterVersionCollector : ICollector
{
    public const string Format = "vcenter-appliance-version";

    public string? Detect(InputFile file)
    {
        var t = file.Text.TrimStart();
        if (!t.StartsWith('{') || !file.Text.Contains("\"build\"", StringComparison.Ordinal) || !file.Text.Contains("\"version\"", StringComparison.Ordinal))
        {
            return null;
        }

        return Root(file) is { } root && root.TryGetProperty("product", out var p) && p.ValueKind == JsonValueKind.String
               && (p.GetString() ?? "").Contains("vCenter", StringComparison.OrdinalIgnoreCase)
            ? Format
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        var host = VersionFacts.HostName(file);
        var root = Root(file);
        var line = LineOf(file, "\"build\"");
        var resource = VersionFacts.Resource(Products.Vcenter, host, file, line);
        string? Str(string name) => root is { } r && r.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;

        var version = Str("version") ?? "";
        var buildText = Str("build") ?? "";
        if (!long.TryParse(buildText, NumberStyles.None, CultureInfo.InvariantCulture, out var build))
        {
            return new CollectorResult(format, [VersionFacts.Unplaced(Products.Vcenter, resource, version, $"build '{VersionFacts.Short(buildText)}' is not a number")],
                [Diagnostic.Warning(file.DisplayPath, line, $"'build' is not a build number: {VersionFacts.Short(buildText)}; the host is reported as indeterminate")]);
        }

        var summary = Str("summary");
        var fact = VersionFacts.Vmware(Products.Vcenter, resource, version, build, null, string.IsNullOrWhiteSpace(summary) ? null : summary, null, "appliance-api");
        return fact.Unplaced is null
            ? new CollectorResult(format, [fact], [])
            : new CollectorResult(format, [fact], [Diagnostic.Warning(file.DisplayPath, LineOf(file, "\"version\""), $"{fact.Unplaced}; the host is reported as indeterminate")]);
    }

    /// <summary>The version object: the document itself, or its <c>value</c> member (the /rest form).</summary>
    private static JsonElement? Root(InputFile file)
    {
        try
        {
            using var doc = JsonDocument.Parse(file.Text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 16 });
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Object)
            {
                root = value;
            }

            return root.ValueKind == JsonValueKind.Object ? root.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static int LineOf(InputFile file, string needle)
    {
        for (var i = 0; i < file.Lines.Length; i++)
        {
            if (file.Lines[i].Contains(needle, StringComparison.Ordinal))
            {
                return i + 1;
            }
        }

        return 1;
    }
}
