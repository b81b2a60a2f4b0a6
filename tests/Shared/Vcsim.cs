using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VirtSecScan.Testing;

/// <summary>
/// What the vCenter/ESXi simulator (tests/tools/vcsimlite) is started with. A null number or version
/// keeps the launcher's default (vCenter: 1 standalone host, 1 cluster of 3 hosts, 2 VMs per resource pool;
/// ESXi 6.5.0 build-5969303, vCenter 6.5.0 build-5973321, API 6.5).
/// </summary>
internal sealed record VcsimOptions
{
    /// <summary>A standalone ESXi host (<c>ha-host</c>, datacenter <c>ha-datacenter</c>) instead of vCenter.</summary>
    public bool Esx { get; init; }

    /// <summary>Hosts per cluster (<c>-host</c>).</summary>
    public int? Hosts { get; init; }

    /// <summary>Standalone hosts per datacenter (<c>-standalone-host</c>).</summary>
    public int? StandaloneHosts { get; init; }

    /// <summary>Clusters per datacenter (<c>-cluster</c>).</summary>
    public int? Clusters { get; init; }

    /// <summary>VMs per resource pool (<c>-vm</c>): each standalone host and each cluster gets this many.</summary>
    public int? Vms { get; init; }

    public string? HostVersion { get; init; }

    public string? HostBuild { get; init; }

    public string? VcVersion { get; init; }

    public string? VcBuild { get; init; }

    public string? ApiVersion { get; init; }

    /// <summary>
    /// The seed file: a raw JSON string, or any object serialized with System.Text.Json as is (so use the
    /// seed's property names: <c>hosts</c>, <c>vms</c>, <c>version</c>, <c>build</c>, <c>servicesRunning</c>,
    /// <c>lockdownMode</c>, <c>advancedOptions</c>, <c>extraConfig</c>, <c>firmware</c>, <c>secureBoot</c>,
    /// <c>hardwareVersion</c>). Hosts and VMs are matched by name or MoRef value.
    /// </summary>
    public object? Seed { get; init; }

    /// <summary>With a password: Login accepts only this pair. Both null: any non-empty pair is accepted.</summary>
    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>https with a self-signed certificate (default); false serves plain http.</summary>
    public bool Tls { get; init; } = true;

    /// <summary>How long to wait for the ready line (not counting the build).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// A running vcsimlite process: a real vSphere SOAP endpoint (govmomi's simulator as packaged by Debian) on
/// 127.0.0.1 and a free port, started by <see cref="Start"/> and stopped by <see cref="Dispose"/> (SIGTERM,
/// then kill). The launcher is built on first use by tests/tools/vcsimlite/build.sh into
/// <c>$VIRTSECSCAN_VCSIM_DIR</c> (default /tmp/virtsecscan-vcsim); the first build takes about a minute,
/// later ones reuse it. Needs the Debian packages golang-go and golang-github-vmware-govmomi-dev (.ci/run
/// installs them); without them <see cref="Start"/> throws with that message, it never skips.
/// </summary>
internal sealed partial class Vcsim : IDisposable
{
    private static readonly Lazy<string> Binary = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Process _process;
    private readonly StringBuilder _stderr;
    private readonly Lazy<X509Certificate2> _certificate;
    private bool _disposed;

    private Vcsim(Process process, Uri url, VcsimOptions options, StringBuilder stderr)
    {
        _process = process;
        _stderr = stderr;
        Url = url;
        Options = options;
        Username = options.Username;
        Password = options.Password;
        _certificate = new Lazy<X509Certificate2>(FetchCertificate);
    }

    /// <summary>The SDK URL, <c>https://127.0.0.1:PORT/sdk</c> (no user info).</summary>
    public Uri Url { get; }

    /// <summary>The required user name, or null when any credentials are accepted.</summary>
    public string? Username { get; }

    /// <summary>The required password, or null when any credentials are accepted.</summary>
    public string? Password { get; }

    public VcsimOptions Options { get; }

    public int ProcessId => _process.Id;

    /// <summary>The server's certificate, read with a TLS handshake (so a test can pin its thumbprint).</summary>
    public X509Certificate2 Certificate => Options.Tls
        ? _certificate.Value
        : throw new InvalidOperationException("the simulator was started with Tls = false: there is no certificate");

    /// <summary>SHA-1 of the certificate as vSphere shows it: upper-case hex pairs joined by colons.</summary>
    public string Sha1Thumbprint => Colons(SHA1.HashData(Certificate.RawData));

    /// <summary>SHA-256 of the certificate: upper-case hex pairs joined by colons.</summary>
    public string Sha256Thumbprint => Colons(SHA256.HashData(Certificate.RawData));

    /// <summary>What the launcher wrote on stderr so far (warnings such as an unknown seed name).</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Builds the launcher if needed and returns its path (also used by benchmarks and manual runs).</summary>
    public static string EnsureBuilt() => Binary.Value;

    /// <summary>Starts a simulator on 127.0.0.1 and a free port and waits until it serves.</summary>
    public static Vcsim Start(VcsimOptions? options = null)
    {
        options ??= new VcsimOptions();
        if ((options.Username is null) != (options.Password is null))
        {
            throw new ArgumentException("give both Username and Password, or neither", nameof(options));
        }

        var binary = EnsureBuilt();
        string? seedFile = null;
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The launcher also exits when our end of its stdin closes, so a crashed test run leaves nothing behind.
        foreach (var a in Arguments(options))
        {
            start.ArgumentList.Add(a);
        }

        if (options.Seed is not null)
        {
            seedFile = Path.Combine(Path.GetTempPath(), "virtsecscan-vcsim-seed-" + Guid.NewGuid().ToString("N") + ".json");
            File.WriteAllText(seedFile, options.Seed as string ?? JsonSerializer.Serialize(options.Seed, options.Seed.GetType()));
            start.ArgumentList.Add("-seed");
            start.ArgumentList.Add(seedFile);
        }

        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new StringBuilder();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException("vcsimlite closed stdout before it was ready"));
            }
            else if (e.Data.StartsWith("VCSIM_URL=", StringComparison.Ordinal))
            {
                ready.TrySetResult(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };

        try
        {
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            string line;
            try
            {
                if (!ready.Task.Wait(options.StartTimeout))
                {
                    throw new TimeoutException($"vcsimlite did not print its ready line within {options.StartTimeout.TotalSeconds:0} s");
                }

                line = ready.Task.Result;
            }
            catch (Exception e) when (e is TimeoutException or AggregateException)
            {
                var message = (e as AggregateException)?.InnerException?.Message ?? e.Message;
                Stop(process);
                if (process.HasExited)
                {
                    process.WaitForExit(); // let the stderr reader finish
                }

                string err;
                lock (stderr)
                {
                    err = stderr.ToString().Trim();
                }

                throw new InvalidOperationException(
                    $"{message} ({binary} {string.Join(' ', start.ArgumentList)}; exit code {(process.HasExited ? process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")}). stderr: {(err.Length == 0 ? "(empty)" : err)}");
            }

            var m = ReadyLine().Match(line);
            if (!m.Success)
            {
                Stop(process);
                throw new InvalidOperationException($"vcsimlite printed an unexpected ready line: {line}");
            }

            var url = new UriBuilder(m.Groups["url"].Value) { UserName = string.Empty, Password = string.Empty }.Uri;
            return new Vcsim(process, url, options, stderr);
        }
        catch
        {
            process.Dispose();
            throw;
        }
        finally
        {
            if (seedFile is not null)
            {
                File.Delete(seedFile); // read before the ready line
            }
        }
    }

    /// <summary>SIGTERM (the launcher closes its server and removes its temporary datastore folders), then kill.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Stop(_process);
        _process.Dispose();
        if (_certificate.IsValueCreated)
        {
            _certificate.Value.Dispose();
        }
    }

    public override string ToString() => $"vcsimlite pid {ProcessId} at {Url}";

    private static IEnumerable<string> Arguments(VcsimOptions o)
    {
        yield return "-l";
        yield return "127.0.0.1:0";
        yield return "-exit-on-stdin-eof";
        if (o.Esx)
        {
            yield return "-esx";
        }

        foreach (var (flag, value) in new (string, int?)[] { ("-host", o.Hosts), ("-standalone-host", o.StandaloneHosts), ("-cluster", o.Clusters), ("-vm", o.Vms) })
        {
            if (value is { } v)
            {
                yield return flag;
                yield return v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        foreach (var (flag, value) in new[] { ("-host-version", o.HostVersion), ("-host-build", o.HostBuild), ("-vc-version", o.VcVersion), ("-vc-build", o.VcBuild), ("-api-version", o.ApiVersion), ("-username", o.Username), ("-password", o.Password) })
        {
            if (value is not null)
            {
                yield return flag;
                yield return value;
            }
        }

        yield return "-tls=" + (o.Tls ? "true" : "false");
    }

    private static void Stop(Process process)
    {
        try
        {
            if (process.HasExited)
            {
                return;
            }

            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            {
                _ = SendSignal(process.Id, 15); // SIGTERM
            }
            else
            {
                process.StandardInput.Close(); // the launcher also stops at end of stdin
            }

            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // never started, or already gone
        }
    }

    private static string Build()
    {
        var script = RepoPaths.Combine("tests/tools/vcsimlite/build.sh");
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run bash for {script}: {e.Message}", e);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            // The first build (empty Go cache) takes about a minute on 2 cores; build.sh serializes concurrent builds.
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{script} did not finish within 10 minutes");
            }

            var path = stdout.Result.Trim().Split('\n').LastOrDefault()?.Trim() ?? string.Empty;
            if (process.ExitCode != 0 || !File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"building the vCenter simulator failed (exit code {process.ExitCode}); the live vSphere tests need the Debian packages golang-go and golang-github-vmware-govmomi-dev (.ci/run installs them). {stderr.Result.Trim()}");
            }

            return path;
        }
    }

    private X509Certificate2 FetchCertificate()
    {
        X509Certificate2? seen = null;
        using var tcp = new TcpClient();
        tcp.Connect(Url.Host, Url.Port);
        using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            if (certificate is not null)
            {
                seen = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            }

            return true;
        });
        ssl.AuthenticateAsClient(new SslClientAuthenticationOptions { TargetHost = Url.Host });
        return seen ?? throw new InvalidOperationException($"{Url} presented no certificate");
    }

    private static string Colons(byte[] hash) => string.Join(':', hash.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    [GeneratedRegex(@"^VCSIM_URL=(?<url>\S+) PID=(?<pid>\d+)$")]
    private static partial Regex ReadyLine();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
