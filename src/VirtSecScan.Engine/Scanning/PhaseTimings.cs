using System.Diagnostics;
using System.Globalization;

namespace VirtSecScan.Engine.Scanning;

/// <summary>
/// Wall time per scan phase, for profiling (bench/README.md). Off unless the environment variable
/// <c>VIRTSECSCAN_TIMINGS</c> is set (to anything but empty or 0); then each <see cref="Mark"/> writes
/// <c>timing: PHASE</c> with the wall time, CPU time and GC pause time since the previous mark to standard error. Costs nothing when off.
/// </summary>
public static class PhaseTimings
{
    public const string Variable = "VIRTSECSCAN_TIMINGS";

    private static readonly bool Enabled = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v && v != "0";
    private static readonly Stopwatch Watch = Stopwatch.StartNew();
    private static long _last;
    private static TimeSpan _lastCpu;
    private static TimeSpan _lastGc;
    private static bool _startupReported;

    /// <summary>Ends a phase: reports its wall time (since the previous mark, or since the process started for the first).</summary>
    public static void Mark(string phase)
    {
        if (!Enabled)
        {
            return;
        }

        var now = Watch.ElapsedTicks;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var gc = GC.GetTotalPauseDuration();
        lock (Watch)
        {
            if (!_startupReported)
            {
                _startupReported = true;
                // The runtime's own start-up (before this class was first used) counts as a phase of its own.
                var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime - Watch.Elapsed;
                Write("runtime-start", sinceStart.TotalMilliseconds, cpu.TotalMilliseconds, gc.TotalMilliseconds);
                _lastCpu = cpu;
                _lastGc = gc;
            }

            Write(phase, (now - _last) * 1000.0 / Stopwatch.Frequency, (cpu - _lastCpu).TotalMilliseconds, (gc - _lastGc).TotalMilliseconds);
            _last = now;
            _lastCpu = cpu;
            _lastGc = gc;
        }
    }

    private static void Write(string phase, double ms, double cpuMs, double gcMs) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"timing: {phase,-16} {ms,8:0} ms wall {cpuMs,8:0} ms CPU {gcMs,8:0} ms GC pause (gen0/1/2 so far: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)})"));
}
