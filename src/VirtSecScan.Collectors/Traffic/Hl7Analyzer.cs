using System.Text;

namespace VirtSecScan.Collectors.Traffic;

/// <summary>Masks identifiers for reports: first and last character of each component, stars between (M***E^M****Y).</summary>
public static class PhiMask
{
    public static string Mask(string value, char componentSeparator = '^')
    {
        var sb = new StringBuilder(Math.Min(value.Length, 64));
        foreach (var part in value.Split(componentSeparator).Take(3))
        {
            if (sb.Length > 0)
            {
                sb.Append('^');
            }

            var p = part.Trim();
            if (p.Length <= 3)
            {
                sb.Append('*', Math.Max(p.Length, 1));
            }
            else
            {
                sb.Append(Safe(p[0])).Append('*', Math.Min(p.Length - 2, 8)).Append(Safe(p[^1]));
            }
        }

        return sb.ToString();
    }

    private static char Safe(char c) => char.IsLetterOrDigit(c) ? c : '*';
}

/// <summary>
/// HL7 v2 over MLLP on any port: frames VT ... FS CR, separators read from each message's MSH, message types and
/// which patient identifiers (PID, NK1, IN1, IN2, GT1, MRG) are present. Values are never kept: only identifier
/// kinds, counts and a masked form of the first patient name.
/// </summary>
public sealed class Hl7Analyzer(ReassemblyBudget budget) : StreamAnalyzer(budget)
{
    private static readonly Dictionary<string, Dictionary<int, string>> Identifiers = new(StringComparer.Ordinal)
    {
        ["PID"] = new()
        {
            [2] = "external patient ID", [3] = "patient identifier", [4] = "alternate patient ID", [5] = "patient name",
            [6] = "mother's maiden name", [7] = "date of birth", [8] = "sex", [11] = "address", [13] = "home phone",
            [14] = "business phone", [18] = "account number", [19] = "social security number", [20] = "driver's licence",
        },
        ["NK1"] = new() { [2] = "next of kin name", [4] = "next of kin address", [5] = "next of kin phone" },
        ["IN1"] = new()
        {
            [2] = "insurance plan", [3] = "insurance company ID", [4] = "insurance company name", [16] = "insured's name",
            [18] = "insured's date of birth", [19] = "insured's address", [36] = "policy number",
        },
        ["IN2"] = new() { [2] = "insured's social security number", [8] = "insured's employer ID" },
        ["GT1"] = new() { [3] = "guarantor name", [5] = "guarantor address", [6] = "guarantor phone", [8] = "guarantor date of birth", [12] = "guarantor social security number" },
        ["MRG"] = new() { [1] = "prior patient identifier", [3] = "prior patient ID", [7] = "prior patient name" },
    };

    private bool _discardUntilEnd;

    public override string Protocol => "hl7";

    /// <summary>True when the bytes start an MLLP frame holding an HL7 message or batch.</summary>
    public static bool LooksLikeMllp(ReadOnlySpan<byte> d) =>
        d.Length >= 5 && d[0] == 0x0B && (StartsWith(d[1..], "MSH") || StartsWith(d[1..], "FHS") || StartsWith(d[1..], "BHS"))
        && d[4] is not ((byte)'\r' or (byte)'\n' or (byte)' ') && d[4] < 0x7F;

    public override int Parse(bool fromClient, ReadOnlySpan<byte> data, ref long skip)
    {
        if (_discardUntilEnd)
        {
            var fs = data.IndexOf((byte)0x1C);
            if (fs < 0)
            {
                return data.Length;
            }

            _discardUntilEnd = false;
            return fs + 1;
        }

        var start = data.IndexOf((byte)0x0B);
        if (start < 0)
        {
            return data.Length;
        }

        if (start > 0)
        {
            return start;
        }

        var end = data.IndexOf((byte)0x1C);
        if (end < 0)
        {
            if (data.Length >= TcpStream.Cap / 2)
            {
                // A very long message: read what is here (segments come first), skip to its end.
                Message(data[1..], fromClient);
                _discardUntilEnd = true;
                return data.Length;
            }

            return 0;
        }

        Message(data[1..end], fromClient);
        var consumed = end + 1;
        if (consumed < data.Length && data[consumed] == 0x0D)
        {
            consumed++;
        }

        return consumed;
    }

    public override void OnGap(bool fromClient)
    {
        base.OnGap(fromClient);
        _discardUntilEnd = false;
    }

    private void Message(ReadOnlySpan<byte> raw, bool fromClient)
    {
        var text = Encoding.Latin1.GetString(raw);
        var mshAt = text.StartsWith("MSH", StringComparison.Ordinal) ? 0 : text.IndexOf("\rMSH", StringComparison.Ordinal) + 1;
        if (mshAt < 0 || text.Length < mshAt + 8)
        {
            Notes.Count("malformedMessages");
            return;
        }

        var fieldSep = text[mshAt + 3];
        var componentSep = text[mshAt + 4];
        if (char.IsLetterOrDigit(fieldSep) || fieldSep is '\r' or '\n' || char.IsLetterOrDigit(componentSep))
        {
            Notes.Count("malformedMessages");
            return;
        }

        Notes.Count("hl7Messages");
        Notes.Add("separators", $"field '{fieldSep}', component '{componentSep}'");
        var anyPhi = false;
        foreach (var segment in text[mshAt..].Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment.Length < 3)
            {
                continue;
            }

            var name = segment[..3];
            var fields = segment.Split(fieldSep);
            if (name == "MSH")
            {
                // MSH-1 is the separator itself, so MSH-n is fields[n - 1].
                if (fields.Length > 8 && fields[8].Length > 0)
                {
                    Notes.Add(fromClient ? "messageTypes" : "replyTypes", Clean(fields[8].Replace(componentSep, '^')));
                }

                if (fields.Length > 11 && fields[11].Length > 0)
                {
                    Notes.Add("hl7Versions", Clean(fields[11].Split(componentSep)[0]));
                }

                continue;
            }

            if (!Identifiers.TryGetValue(name, out var known))
            {
                continue;
            }

            for (var i = 1; i < fields.Length; i++)
            {
                if (fields[i].Trim(componentSep, ' ').Length == 0 || fields[i] == "\"\"" || !known.TryGetValue(i, out var label))
                {
                    continue;
                }

                anyPhi = true;
                Notes.Add("phi", $"{name}-{i} {label}");
                Notes.Count($"phi:{name}-{i}");
                if (name == "PID" && i == 5 && !Notes.Has("phiMasked"))
                {
                    Notes.Add("phiMasked", "PID-5 " + PhiMask.Mask(fields[i].Split(text[mshAt + 5] == fieldSep ? '~' : text[mshAt + 5])[0], componentSep));
                }
            }
        }

        if (anyPhi)
        {
            Notes.Count("phiMessages");
        }
    }

    private static string Clean(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s.Take(24))
        {
            sb.Append(char.IsLetterOrDigit(c) || c is '^' or '_' or '.' or '-' ? c : '?');
        }

        return sb.ToString();
    }
}
