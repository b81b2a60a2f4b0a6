using Cronos;
using Serilog;

namespace VirtSecScan.Cli.Scheduling;

/// <summary>
/// Runs a scan at every occurrence of a cron expression, in the foreground, until cancelled. Scans never
/// overlap: an occurrence that falls while a scan is still running is skipped (and logged), never queued.
/// Time comes from a <see cref="TimeProvider"/> so tests can drive the clock.
/// </summary>
public sealed class ScanScheduler(CronExpression cron, TimeZoneInfo zone, TimeProvider time, Func<DateTimeOffset, Task> runScan, ILogger log)
{
    private int _running;

    /// <summary>Scans started so far.</summary>
    public int Runs { get; private set; }

    /// <summary>Occurrences skipped because the previous scan was still running.</summary>
    public int Skipped { get; private set; }

    /// <summary>The occurrence the scheduler is waiting for (null while a scan runs).</summary>
    public DateTimeOffset? Waiting { get; private set; }

    /// <summary>The most scans that were ever running at once (1 unless something is wrong).</summary>
    public int MaxConcurrent { get; private set; }

    /// <summary>Runs until <paramref name="stop"/> is cancelled. A scan in progress is finished, not abandoned.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var from = time.GetUtcNow();
        while (!stop.IsCancellationRequested)
        {
            var next = cron.GetNextOccurrence(from, zone);
            if (next is null)
            {
                log.Warning("The cron expression has no further occurrence; the scheduler stops");
                return;
            }

            log.Information("Next scan at {Next:yyyy-MM-dd HH:mm:ss zzz}", next.Value);
            Waiting = next.Value;
            var delay = next.Value - time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            Waiting = null;
            await RunOnce(next.Value).ConfigureAwait(false);
            var finished = time.GetUtcNow();
            var missed = cron.GetOccurrences(next.Value, finished, zone, fromInclusive: false, toInclusive: true).Count();
            if (missed > 0)
            {
                Skipped += missed;
                log.Warning("{Missed} scheduled occurrence(s) fell while the scan was running and were skipped", missed);
            }

            from = finished > next.Value ? finished : next.Value;
        }

        log.Information("Scheduler stopped after {Runs} scan(s)", Runs);
    }

    private async Task RunOnce(DateTimeOffset occurrence)
    {
        var now = Interlocked.Increment(ref _running);
        MaxConcurrent = Math.Max(MaxConcurrent, now);
        Runs++;
        var started = time.GetTimestamp();
        try
        {
            log.Information("Scan {Run} started for the occurrence at {Occurrence:yyyy-MM-dd HH:mm}", Runs, occurrence);
            await runScan(occurrence).ConfigureAwait(false);
            log.Information("Scan {Run} finished in {Seconds:0.0} s", Runs, time.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One failed scan must not stop the schedule; it is logged with its reason and the next occurrence runs.
            log.Error("Scan {Run} failed: {Error}", Runs, ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
