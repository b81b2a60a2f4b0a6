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
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}
