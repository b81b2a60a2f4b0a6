namespace VirtSecScan.Core.Findings;

/// <summary>
/// The outcome of one rule on one resource. "Could not check" (<see cref="NotEvaluated"/>,
/// <see cref="Error"/>) is never counted as passing.
/// </summary>
public enum FindingStatus
{
    Fail,
    Pass,
    NotEvaluated,
    Error,

    /// <summary>A failing finding covered by a valid waiver (risk formally accepted until an expiry date).</summary>
    Waived,

    /// <summary>
    /// A failing outcome covered by a documented exception in the site file (for example a USB smart-card
    /// reader on a desktop VM). Never counted as a failure, never counted as a plain pass.
    /// </summary>
    PassedWithException,
}

public static class FindingStatusNames
{
    public static string ToName(this FindingStatus status) => status switch
    {
        FindingStatus.Fail => "fail",
        FindingStatus.Pass => "pass",
        FindingStatus.NotEvaluated => "not-evaluated",
        FindingStatus.Error => "error",
        FindingStatus.Waived => "waived",
        FindingStatus.PassedWithException => "passed-with-exception",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}
