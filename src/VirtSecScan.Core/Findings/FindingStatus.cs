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
}

public static class FindingStatusNames
{
    public static string ToName(this FindingStatus status) => status switch
    {
        FindingStatus.Fail => "fail",
        FindingStatus.Pass => "pass",
        FindingStatus.NotEvaluated => "not-evaluated",
        FindingStatus.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };
}
