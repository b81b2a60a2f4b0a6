using System.Globalization;
using System.Text;
using System.Xml;
using VirtSecScan.Core.Findings;
using VirtSecScan.Engine.Scanning;

namespace VirtSecScan.Reporting;

/// <summary>
/// JUnit XML for CI dashboards: one test suite per threat category, one test case per finding (a failure; waived
/// findings are skipped with the justification; findings of resources that could not be read are errors). Passed
/// checks are counted in the suites' properties, not listed one by one.
/// </summary>
public static class JUnitReportWriter
{
    public static void Write(ScanReport report, Stream stream)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
        using var x = XmlWriter.Create(stream, settings);
        var findings = report.Findings;
        x.WriteStartDocument();
        x.WriteStartElement("testsuites");
        x.WriteAttributeString("name", "VirtSecScan");
        x.WriteAttributeString("tests", Int(findings.Length));
        x.WriteAttributeString("failures", Int(findings.Count(f => f.Status == FindingStatus.Fail)));
        x.WriteAttributeString("errors", Int(findings.Count(f => f.Status == FindingStatus.Error)));
        x.WriteAttributeString("skipped", Int(findings.Count(f => f.Status == FindingStatus.Waived)));
        x.WriteAttributeString("time", "0");
        x.WriteAttributeString("timestamp", ReportText.Date(report.StartedAt));

        foreach (var group in findings.GroupBy(f => f.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            x.WriteStartElement("testsuite");
            x.WriteAttributeString("name", Clean(group.Key + (ThreatCategory.Names.TryGetValue(group.Key, out var cn) ? " " + cn : "")));
            x.WriteAttributeString("tests", Int(group.Count()));
            x.WriteAttributeString("failures", Int(group.Count(f => f.Status == FindingStatus.Fail)));
            x.WriteAttributeString("errors", Int(group.Count(f => f.Status == FindingStatus.Error)));
            x.WriteAttributeString("skipped", Int(group.Count(f => f.Status == FindingStatus.Waived)));
            x.WriteAttributeString("time", "0");
            x.WriteAttributeString("timestamp", ReportText.Date(report.StartedAt));
            foreach (var f in group)
            {
                x.WriteStartElement("testcase");
                x.WriteAttributeString("classname", Clean($"virtsecscan.{f.Category}.{f.RuleId}"));
                x.WriteAttributeString("name", Clean($"{f.Resource.Name}: {f.Title}"));
                x.WriteAttributeString("time", "0");
                var (file, line) = ReportText.Location(f);
                if (file is not null)
                {
                    x.WriteAttributeString("file", Clean(file));
                }

                if (line is { } l)
                {
                    x.WriteAttributeString("line", Int(l));
                }

                x.WriteStartElement("properties");
                Property(x, "fingerprint", f.Fingerprint);
                Property(x, "ruleId", f.RuleId);
                Property(x, "severity", f.Severity.ToName());
                Property(x, "rank", Int(f.Rank));
                Property(x, "score", ReportText.Num(f.Score));
                Property(x, "resource", f.Resource.Id);
                x.WriteEndElement();

                var details = Details(f);
                switch (f.Status)
                {
                    case FindingStatus.Waived:
                        x.WriteStartElement("skipped");
                        x.WriteAttributeString("message", Clean("waived: " + (f.Waiver?.Justification ?? "")));
                        x.WriteEndElement();
                        break;
                    case FindingStatus.Error:
                        x.WriteStartElement("error");
                        x.WriteAttributeString("message", Clean(f.Title));
                        x.WriteAttributeString("type", f.Severity.ToName());
                        x.WriteString(Clean(details));
                        x.WriteEndElement();
                        break;
                    default:
                        x.WriteStartElement("failure");
                        x.WriteAttributeString("message", Clean(f.Title));
                        x.WriteAttributeString("type", f.Severity.ToName());
                        x.WriteString(Clean(details));
                        x.WriteEndElement();
                        break;
                }

                x.WriteEndElement();
            }

            x.WriteEndElement();
        }

        x.WriteStartElement("properties");
        Property(x, "profile", report.Profile);
        Property(x, "passedChecks", Int(report.Passed));
        Property(x, "notEvaluated", Int(report.NotEvaluated.Length));
        x.WriteEndElement();
        x.WriteEndElement();
        x.WriteEndDocument();
    }

    public static string ToXml(ScanReport report)
    {
        using var ms = new MemoryStream();
        Write(report, ms);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string Details(Finding f)
    {
        var sb = new StringBuilder();
        sb.Append(f.Severity.ToName()).Append(" · ").Append(f.Category).Append(" · score ").Append(ReportText.Num(f.Score)).Append(" · ").Append(f.Resource.Id).Append('\n');
        foreach (var e in f.Evidence)
        {
            sb.Append(e.Key).Append(" = ").Append(e.Actual ?? "(absent)").Append(e.Expected is null ? "" : " (expected " + e.Expected + ")").Append('\n');
        }

        if (f.Remediation is { } r)
        {
            sb.Append("Fix: ").Append(r.Summary).Append('\n');
            foreach (var step in r.Steps)
            {
                sb.Append("  - ").Append(step).Append('\n');
            }
        }

        if (!f.References.IsEmpty)
        {
            sb.Append("References: ").Append(string.Join(", ", f.References.Select(x => x.Id))).Append('\n');
        }

        return sb.ToString();
    }

    private static void Property(XmlWriter x, string name, string value)
    {
        x.WriteStartElement("property");
        x.WriteAttributeString("name", name);
        x.WriteAttributeString("value", Clean(value));
        x.WriteEndElement();
    }

    /// <summary>Drops characters XML 1.0 cannot carry (control characters from scanned data).</summary>
    private static string Clean(string text)
    {
        if (text.All(XmlConvert.IsXmlChar))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(text[i]).Append(text[i + 1]);
                i++;
            }
            else
            {
                sb.Append(XmlConvert.IsXmlChar(text[i]) ? text[i] : '\uFFFD');
            }
        }

        return sb.ToString();
    }

    private static string Int(int n) => n.ToString(CultureInfo.InvariantCulture);
}
