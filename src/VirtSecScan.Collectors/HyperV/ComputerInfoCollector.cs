using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using VirtSecScan.Collectors.Input;
using VirtSecScan.Collectors.Versions;
using VirtSecScan.Collectors.Vmware;
using VirtSecScan.Core;
using VirtSecScan.Core.Advisories;
using VirtSecScan.Core.Facts;

namespace VirtSecScan.Collectors.HyperV;

/// <summary>
/// A Windows Hyper-V host's OS patch level from PowerShell JSON: <c>Get-ComputerInfo | ConvertTo-Json</c>
/// (<c>CsName</c>, <c>OsBuildNumber</c> <c>20348</c>, <c>OsHardwareAbstractionLayer</c> <c>10.0.20348.2582</c>,
/// <c>WindowsBuildLabEx</c>, <c>OsName</c>) or the registry view <c>Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows
/// NT\CurrentVersion' | ConvertTo-Json</c> (<c>CurrentBuild</c>, <c>UBR</c>, <c>ProductName</c>). An array of such
/// objects gives one host each. The fact's line is the OS build (<c>20348</c> = Windows Server 2022), its
/// build the update build revision (UBR), its version <c>10.0.&lt;build&gt;.&lt;UBR&gt;</c>.
/// UBR source, in order: a <c>UBR</c> property (registry: exact); the fourth number of
/// <c>OsHardwareAbstractionLayer</c> when it starts with <c>10.0.&lt;OsBuildNumber&gt;</c> (hal.dll's file version,
/// which cumulative updates raise with the UBR; recorded as build source <c>hal-version</c>, confidence lower);
/// the second number of <c>WindowsBuildLabEx</c> only when it is above 1 (it often stays at the release's
/// <c>.1</c>). Without any, the host is unplaced.
/// </summary>
public sealed class ComputerInfoCollector : ICollector
{
    public const string Format = "windows-computerinfo-json";

    public string? Detect(InputFile file)
    {
        var t = file.Text.TrimStart();
        return (t.StartsWith('{') || t.StartsWith('['))
               && (file.Text.Contains("\"OsBuildNumber\"", StringComparison.Ordinal) || file.Text.Contains("\"CurrentBuild", StringComparison.Ordinal))
               && (file.Text.Contains("\"OsHardwareAbstractionLayer\"", StringComparison.Ordinal) || file.Text.Contains("\"UBR\"", StringComparison.Ordinal)
                   || file.Text.Contains("\"WindowsBuildLabEx\"", StringComparison.Ordinal) || file.Text.Contains("\"BuildLabEx\"", StringComparison.Ordinal))
            ? Format
            : null;
    }

    public CollectorResult Collect(InputFile file, string format)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(file.Text, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            return new CollectorResult(format, [], [Diagnostic.Error(file.DisplayPath, (int?)ex.LineNumber + 1, "not valid JSON: " + ex.Message)]);
        }

        using (doc)
        {
            var objects = doc.RootElement.ValueKind == JsonValueKind.Array
                ? doc.RootElement.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).ToList()
                : [doc.RootElement];
            var facts = ImmutableArray.CreateBuilder<object>();
            var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>();
            foreach (var (o, i) in objects.Select((o, i) => (o, i)))
            {
                facts.Add(One(file, o, i, objects.Count, diagnostics));
            }

            return new CollectorResult(format, facts.ToImmutable(), diagnostics.ToImmutable());
        }
    }

    private static HypervisorBuild One(InputFile file, JsonElement o, int index, int count, ImmutableArray<Diagnostic>.Builder diagnostics)
    {
        string? Str(string name) => o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v)
            ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null }
            : null;

        var name = Str("CsName") ?? Str("CsDNSHostName") ?? Str("PSComputerName") ?? (count > 1 ? $"{VersionFacts.HostName(file)}-{index + 1}" : VersionFacts.HostName(file));
        var osBuild = Str("OsBuildNumber") ?? Str("CurrentBuild") ?? Str("CurrentBuildNumber") ?? "";
        var line = VcenterVersionCollector.LineOf(file, Str("OsBuildNumber") is null ? "\"CurrentBuild" : "\"OsBuildNumber\"");
        var resource = VersionFacts.Resource(Products.HyperV, name, file, line);
        var product = Str("OsName") ?? Str("WindowsProductName") ?? Str("ProductName");
        if (!long.TryParse(osBuild, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line, $"{name}: no OS build number; the host is reported as indeterminate"));
            return VersionFacts.Unplaced(Products.HyperV, resource, osBuild, "no OS build number");
        }

        long? ubr = null;
        string? source = null;
        if (Str("UBR") is { } u && long.TryParse(u, NumberStyles.None, CultureInfo.InvariantCulture, out var registryUbr))
        {
            (ubr, source) = (registryUbr, "registry-ubr");
        }
        else if (Str("OsHardwareAbstractionLayer") is { } hal && hal.Split('.') is { Length: 4 } p && p[0] == "10" && p[2] == osBuild
                 && long.TryParse(p[3], NumberStyles.None, CultureInfo.InvariantCulture, out var halUbr))
        {
            (ubr, source) = (halUbr, "hal-version");
        }
        else if ((Str("WindowsBuildLabEx") ?? Str("BuildLabEx")) is { } lab && lab.Split('.') is { Length: > 2 } q && q[0] == osBuild
                 && long.TryParse(q[1], NumberStyles.None, CultureInfo.InvariantCulture, out var labUbr) && labUbr > 1)
        {
            (ubr, source) = (labUbr, "build-lab-ex");
        }

        var release = Products.WindowsServerRelease(osBuild);
        if (ubr is null)
        {
            diagnostics.Add(Diagnostic.Warning(file.DisplayPath, line,
                $"{name}: OS build {osBuild} but no update build revision (no UBR, no matching OsHardwareAbstractionLayer); the host is reported as indeterminate"));
            return VersionFacts.Unplaced(Products.HyperV, resource, $"10.0.{osBuild}", "the update build revision (UBR) is not in the file");
        }

        if (release is null)
        {
            diagnostics.Add(Diagnostic.Info(file.DisplayPath, line, $"{name}: OS build {osBuild} is not a known Windows Server release ({VersionFacts.Short(product ?? "no product name")})"));
        }

        return new HypervisorBuild(resource, Products.HyperV, $"10.0.{osBuild}.{ubr}", ubr.Value, osBuild, osBuild, release ?? product, null)
        {
            BuildSource = source,
        };
    }
}
