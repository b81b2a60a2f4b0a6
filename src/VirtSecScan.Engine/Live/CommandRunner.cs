using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace VirtSecScan.Engine.Live;

/// <summary>How one external command ended.</summary>
public sealed record CommandResult(int? ExitCode, string StdOut, string StdErr, bool TimedOut, bool NotInstalled)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut && !NotInstalled;
}

/// <summary>
/// Runs one read-only command (argument list, no shell) with a timeout; a command that overruns is killed with
/// its children. Never throws for a failing or missing program.
/// </summary>
public static class CommandRunner
{
    /// <summary>Largest output read from one command (16 MiB); more is cut off.</summary>
    public const int MaxOutputChars = 16 * 1024 * 1024;

    public static CommandResult Run(string program, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancel = default)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        // virsh must never prompt (for an auth password, a pager ...): no terminal, closed stdin, C messages.
        start.Environment["LC_ALL"] = "C";
        start.Environment["LANG"] = "C";
        start.Environment.Remove("VIRSH_DEFAULT_CONNECT_URI");
        start.Environment.Remove("LIBVIRT_DEFAULT_URI");

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception("not started");
        }
        catch (Win32Exception)
        {
            return new CommandResult(null, "", $"{program} is not installed or cannot be run", false, true);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = ReadLimited(process.StandardOutput);
            var stderr = ReadLimited(process.StandardError);
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timer.CancelAfter(timeout);
            var timedOut = false;
            try
            {
                process.WaitForExitAsync(timer.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // already gone
                }

                process.WaitForExit(5000);
            }

            var output = stdout.Wait(5000) ? stdout.Result : "";
            var error = stderr.Wait(5000) ? stderr.Result : "";
            return new CommandResult(timedOut ? null : process.ExitCode, output, error, timedOut, false);
        }
    }

    private static Task<string> ReadLimited(StreamReader reader) => Task.Run(async () =>
    {
        var sb = new StringBuilder();
        var buffer = new char[8192];
        int n;
        while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            if (sb.Length < MaxOutputChars)
            {
                sb.Append(buffer, 0, Math.Min(n, MaxOutputChars - sb.Length));
            }
        }

        return sb.ToString();
    });
}
