using System.Text.RegularExpressions;

namespace VirtSecScan.Core;

/// <summary>
/// Setting keys whose values are secrets (VNC passwords, shared secrets, cloud-init passwords, keys).
/// Their values are never printed, logged or written to reports: only whether they are set.
/// </summary>
public static partial class SecretKeys
{
    [GeneratedRegex(@"(passw(or)?d|passwd|secret|cipassword|credential|private[._-]?key|(^|[._])key$|token|passphrase|community)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretPattern();

    /// <summary>Password policy settings (ESXi <c>Security.PasswordHistory</c> ...): they name passwords but hold no secret.</summary>
    [GeneratedRegex(@"^/?Security[./]Password(QualityControl|History|MaxDays|MinDays)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PolicyPattern();

    /// <summary>
    /// True when the key's value is a secret. Password policy keys hold no secret, and a key ending in <c>.present</c>
    /// (for example <c>graphics[0].passwd.present</c>) holds only whether a secret is set (true/false), which reports may show.
    /// </summary>
    public static bool IsSecret(string key) =>
        SecretPattern().IsMatch(key) && !PolicyPattern().IsMatch(key) && !key.EndsWith(".present", StringComparison.OrdinalIgnoreCase);
}
