using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using VirtSecScan.Core.Advisories;

namespace VirtSecScan.Engine.Feed;

/// <summary>Writes an <see cref="Advisory"/> in the feed's YAML format (docs/advisory-feed.md); strings are double-quoted.</summary>
public static class AdvisoryYaml
{
    private static readonly JsonSerializerOptions Quote = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Q(string s) => JsonSerializer.Serialize(s, Quote);

    private static string D(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Write(Advisory a, string importedFrom)
    {
        var sb = new StringBuilder();
        sb.Append("# Imported by 'virtsecscan feed import' from ").Append(importedFrom).Append('\n');
        sb.Append("id: ").Append(Q(a.Id)).Append('\n');
        sb.Append("revision: ").Append(a.Revision.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("published: ").Append(D(a.Published)).Append('\n');
        if (a.Updated is { } u)
        {
            sb.Append("updated: ").Append(D(u)).Append('\n');
        }

        sb.Append("title: ").Append(Q(a.Title)).Append('\n');
        if (a.Severity is { } sev)
        {
            sb.Append("severity: ").Append(Q(sev)).Append('\n');
        }

        sb.Append("source: ").Append(Q(a.Source)).Append('\n');
        sb.Append("cves:\n");
        foreach (var c in a.Cves)
        {
            sb.Append("  - id: ").Append(c.Id).Append('\n');
            if (c.Cvss is { } cvss)
            {
                sb.Append("    cvss: ").Append(cvss.ToString("0.0", CultureInfo.InvariantCulture)).Append('\n');
            }

            if (c.Vector is { } v)
            {
                sb.Append("    vector: ").Append(Q(v)).Append('\n');
            }

            if (c.Summary is { } s)
            {
                sb.Append("    summary: ").Append(Q(s.Length > 400 ? s[..400] + "..." : s)).Append('\n');
            }
        }

        sb.Append("fixes:\n");
        foreach (var f in a.Fixes)
        {
            sb.Append("  - product: ").Append(f.Product).Append('\n');
            sb.Append("    line: ").Append(Q(f.Line)).Append('\n');
            if (f.NoFix)
            {
                sb.Append("    status: no-fix\n");
            }

            if (f.FixedBuild is { } b)
            {
                sb.Append("    fixedBuild: ").Append(b.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            if (f.FixedVersion is { } fv)
            {
                sb.Append("    fixedVersion: ").Append(Q(fv)).Append('\n');
            }

            if (f.Package is { } p)
            {
                sb.Append("    package: ").Append(Q(p)).Append('\n');
            }

            if (f.FixedName is { } n)
            {
                sb.Append("    fixedName: ").Append(Q(n)).Append('\n');
            }

            sb.Append("    cves: [").Append(string.Join(", ", f.Cves)).Append("]\n");
        }

        if (!a.Workarounds.IsDefaultOrEmpty)
        {
            sb.Append("workarounds:\n");
            foreach (var w in a.Workarounds)
            {
                sb.Append("  - summary: ").Append(Q(w)).Append('\n');
            }
        }

        if (!a.Notes.IsDefaultOrEmpty)
        {
            sb.Append("notes:\n");
            foreach (var n in a.Notes)
            {
                sb.Append("  - ").Append(Q(n)).Append('\n');
            }
        }

        return sb.ToString();
    }
}
