using System.Collections.Immutable;
using System.Text.RegularExpressions;
using VirtSecScan.Engine.Rulesets;
using YamlDotNet.RepresentationModel;

namespace VirtSecScan.Engine.Live;

/// <summary>
/// One named target of a targets file. Only the fields of its kind are set. Credentials are never held here:
/// only the names of the environment variables or files that hold them.
/// </summary>
public sealed record TargetSpec
{
    public required string Name { get; init; }
    /// <summary><c>libvirt</c>, <c>ssh</c>, <c>files</c> or <c>vsphere</c>.</summary>
    public required string Kind { get; init; }
    public required string Source { get; init; }
    public required int Line { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    // libvirt
    public string? Uri { get; init; }

    // ssh
    public string? Host { get; init; }
    public int Port { get; init; } = 22;
    public string? User { get; init; }
    public string? KeyFile { get; init; }
    public string? HostKeyFingerprint { get; init; }
    public string? Platform { get; init; }

    // files
    public string? Path { get; init; }

    // vsphere
    public string? Url { get; init; }
    public string? UsernameEnv { get; init; }
    public string? PasswordEnv { get; init; }
    public string? PasswordFile { get; init; }
    public string? Thumbprint { get; init; }
}

/// <summary>A loaded targets file: its targets in file order and how many are collected at once.</summary>
public sealed record TargetsFile(string Source, ImmutableArray<TargetSpec> Targets, int MaxParallel);

/// <summary>
/// Loads <c>targets.yaml</c> strictly: unknown keys, missing fields, a key of another kind, a bad port or
/// fingerprint are errors naming file and line. Relative paths are resolved against the file's folder.
/// </summary>
public static partial class TargetsFileLoader
{
    public static readonly ImmutableArray<string> Kinds = ["libvirt", "ssh", "files", "vsphere"];
    public static readonly ImmutableArray<string> SshPlatforms = ["esxi", "proxmox", "libvirt"];

    private static readonly string[] Common = ["name", "kind", "timeoutSeconds", "commandTimeoutSeconds"];
    private static readonly Dictionary<string, string[]> KindKeys = new(StringComparer.Ordinal)
    {
        ["libvirt"] = ["uri"],
        ["ssh"] = ["host", "port", "user", "keyFile", "hostKeyFingerprint", "platform"],
        ["files"] = ["path"],
        ["vsphere"] = ["url", "usernameEnv", "passwordEnv", "passwordFile", "thumbprint"],
    };

    public static TargetsFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException ex)
        {
            throw new DataFileException(path.Replace('\\', '/'), null, $"cannot read the targets file: {ex.Message}");
        }
        catch (UnauthorizedAccessException)
        {
            throw new DataFileException(path.Replace('\\', '/'), null, "cannot read the targets file: permission denied");
        }

        return Parse(text, path.Replace('\\', '/'), System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".");
    }

    public static TargetsFile Parse(string text, string file, string baseDirectory)
    {
        var y = new YamlReader(file);
        var root = y.Mapping(y.LoadDocument(text), "targets file", "targets", "maxParallel", "description");
        var maxParallel = YamlReader.Child(root, "maxParallel") is { } mp ? (int)Math.Clamp(y.Integer(mp, "maxParallel"), 1, 64) : 4;
        var result = ImmutableArray.CreateBuilder<TargetSpec>();
        foreach (var node in y.Sequence(y.Required(root, "targets", "targets file"), "targets"))
        {
            var first = y.Mapping(node, "target");
            var kind = y.RequiredString(first, "kind", "target");
            if (!KindKeys.TryGetValue(kind, out var kindKeys))
            {
                throw y.Error(first, $"target: unknown kind '{kind}' (known: {string.Join(", ", Kinds)})");
            }

            var map = y.Mapping(node, $"{kind} target", [.. Common, .. kindKeys]);
            var name = y.RequiredString(map, "name", "target");
            if (!NameRegex().IsMatch(name))
            {
                throw y.Error(map, $"target '{name}': a name is letters, digits, '.', '_' and '-'");
            }

            var what = $"target {name}";
            if (result.Any(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw y.Error(map, $"{what} is defined twice");
            }

            var spec = new TargetSpec
            {
                Name = name,
                Kind = kind,
                Source = file,
                Line = YamlReader.LineOf(map),
                Timeout = Seconds(y, map, "timeoutSeconds", what, 120),
                CommandTimeout = Seconds(y, map, "commandTimeoutSeconds", what, 30),
            };
            spec = kind switch
            {
                "libvirt" => spec with { Uri = y.RequiredString(map, "uri", what) },
                "files" => spec with { Path = Resolve(baseDirectory, y.RequiredString(map, "path", what)) },
                "ssh" => Ssh(y, map, spec, what, baseDirectory),
                _ => Vsphere(y, map, spec, what, baseDirectory),
            };
            result.Add(spec);
        }

        return new TargetsFile(file, result.ToImmutable(), maxParallel);
    }

    private static TargetSpec Ssh(YamlReader y, YamlMappingNode map, TargetSpec spec, string what, string baseDirectory)
    {
        var port = YamlReader.Child(map, "port") is { } p ? y.Integer(p, $"{what}: port") : 22;
        if (port is < 1 or > 65535)
        {
            throw y.Error(map, $"{what}: port {port} is not between 1 and 65535");
        }

        var fingerprint = y.RequiredString(map, "hostKeyFingerprint", what);
        if (!FingerprintRegex().IsMatch(fingerprint))
        {
            throw y.Error(YamlReader.Child(map, "hostKeyFingerprint")!, $"{what}: hostKeyFingerprint must be 'SHA256:' followed by the base64 host key hash (as ssh-keygen -lf prints it)");
        }

        var platform = y.RequiredString(map, "platform", what);
        if (!SshPlatforms.Contains(platform, StringComparer.Ordinal))
        {
            throw y.Error(YamlReader.Child(map, "platform")!, $"{what}: unknown platform '{platform}' (known: {string.Join(", ", SshPlatforms)})");
        }

        return spec with
        {
            Host = y.RequiredString(map, "host", what),
            Port = (int)port,
            User = y.RequiredString(map, "user", what),
            KeyFile = Resolve(baseDirectory, y.RequiredString(map, "keyFile", what)),
            HostKeyFingerprint = fingerprint,
            Platform = platform,
        };
    }

    private static TargetSpec Vsphere(YamlReader y, YamlMappingNode map, TargetSpec spec, string what, string baseDirectory)
    {
        var url = y.RequiredString(map, "url", what);
        if (!System.Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            throw y.Error(YamlReader.Child(map, "url")!, $"{what}: url must be an http(s) address");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            // Never echo the value: it may hold a password.
            throw y.Error(YamlReader.Child(map, "url")!, $"{what}: url must not carry user or password; use usernameEnv and passwordEnv or passwordFile");
        }

        var passwordEnv = y.OptionalString(map, "passwordEnv", what);
        var passwordFile = y.OptionalString(map, "passwordFile", what);
        if (passwordEnv is null == passwordFile is null)
        {
            throw y.Error(map, $"{what}: give either passwordEnv (an environment variable name) or passwordFile, not both or neither");
        }

        return spec with
        {
            Url = url,
            UsernameEnv = y.RequiredString(map, "usernameEnv", what),
            PasswordEnv = passwordEnv,
            PasswordFile = passwordFile is null ? null : Resolve(baseDirectory, passwordFile),
            Thumbprint = Thumbprint(y, map, what),
        };
    }

    /// <summary>A certificate thumbprint: SHA-256 (64 hex digits) or SHA-1 (40), with or without colons.</summary>
    private static string? Thumbprint(YamlReader y, YamlMappingNode map, string what)
    {
        var text = y.OptionalString(map, "thumbprint", what);
        if (text is null)
        {
            return null;
        }

        var hex = new string(text.Where(c => c != ':' && c != ' ').ToArray());
        return hex.All(Uri.IsHexDigit) && hex.Length is 40 or 64
            ? text
            : throw y.Error(YamlReader.Child(map, "thumbprint")!, $"{what}: thumbprint must be the certificate's SHA-256 (64 hex digits) or SHA-1 (40) fingerprint, colons allowed");
    }

    private static TimeSpan Seconds(YamlReader y, YamlMappingNode map, string key, string what, int fallback)
    {
        if (YamlReader.Child(map, key) is not { } node)
        {
            return TimeSpan.FromSeconds(fallback);
        }

        var n = y.Integer(node, $"{what}: {key}");
        return n is < 1 or > 3600 ? throw y.Error(node, $"{what}: {key} must be between 1 and 3600") : TimeSpan.FromSeconds(n);
    }

    private static string Resolve(string baseDirectory, string path) =>
        System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDirectory, path));

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex NameRegex();

    [GeneratedRegex("^SHA256:[A-Za-z0-9+/]{43}=?$")]
    private static partial Regex FingerprintRegex();
}
