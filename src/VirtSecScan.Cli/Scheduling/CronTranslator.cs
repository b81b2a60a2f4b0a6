using System.Globalization;
using System.Text;

namespace VirtSecScan.Cli.Scheduling;

/// <summary>
/// Translates a five-field cron expression (minute hour day-of-month month day-of-week) into a systemd
/// <c>OnCalendar=</c> value. Only what both can express is accepted; anything else is a clear error.
/// </summary>
public static class CronTranslator
{
    private static readonly string[] Days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    private static readonly string[] MonthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    public static string ToOnCalendar(string cron)
    {
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"'{cron}' is not a five-field cron expression (minute hour day-of-month month day-of-week)");
        }

        var (minute, hour, dom, month, dow) = (fields[0], fields[1], fields[2], fields[3], fields[4]);
        if (dom != "*" && dow != "*")
        {
            throw new FormatException("cron runs when EITHER day-of-month or day-of-week matches, systemd when BOTH do; restrict only one of them");
        }

        var sb = new StringBuilder();
        if (dow != "*")
        {
            sb.Append(Field(dow, 0, 7, "day-of-week", DayNames, v => Days[v])).Append(' ');
        }

        sb.Append("*-")
            .Append(Field(month, 1, 12, "month", MonthNames, v => v.ToString("00", CultureInfo.InvariantCulture), offset: 1))
            .Append('-')
            .Append(Field(dom, 1, 31, "day-of-month", null, v => v.ToString("00", CultureInfo.InvariantCulture)))
            .Append(' ')
            .Append(Field(hour, 0, 23, "hour", null, v => v.ToString("00", CultureInfo.InvariantCulture)))
            .Append(':')
            .Append(Field(minute, 0, 59, "minute", null, v => v.ToString("00", CultureInfo.InvariantCulture)))
            .Append(":00");
        return sb.ToString();
    }

    private static string Field(string text, int min, int max, string what, string[]? names, Func<int, string> render, int offset = 0)
    {
        if (text == "*")
        {
            return "*";
        }

        var parts = new List<string>();
        foreach (var item in text.Split(','))
        {
            if (item.StartsWith("*/", StringComparison.Ordinal))
            {
                parts.Add(render(min) + "/" + Number(item[2..], 1, max, what, null, 0).ToString(CultureInfo.InvariantCulture));
            }
            else if (item.Contains('/', StringComparison.Ordinal))
            {
                throw new FormatException($"{what}: '{item}' (a range with a step) has no systemd equivalent; list the values instead");
            }
            else if (item.Split('-') is [var a, var b])
            {
                parts.Add(render(Number(a, min, max, what, names, offset)) + ".." + render(Number(b, min, max, what, names, offset)));
            }
            else
            {
                parts.Add(render(Number(item, min, max, what, names, offset)));
            }
        }

        return string.Join(',', parts);
    }

    private static int Number(string text, int min, int max, string what, string[]? names, int offset)
    {
        if (names is not null && Array.IndexOf(names, text.ToLowerInvariant()) is var i and >= 0)
        {
            return i + offset;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
        {
            throw new FormatException($"{what}: '{text}' is not a number from {min} to {max}");
        }

        return n;
    }
}
