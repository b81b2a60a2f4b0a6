using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace VirtSecScan.Reporting.Tickets;

/// <summary>A tracker answered with an error the exporter does not retry (or retried too often). Never contains the token.</summary>
public sealed class TicketHttpException(int status, string method, string path, string detail)
    : Exception($"{method} {path} answered {status.ToString(CultureInfo.InvariantCulture)}: {detail}")
{
    public int Status { get; } = status;
}

/// <summary>
/// Sends tracker requests: JSON in and out, the token in the Authorization header only, a 429 waits for its
/// Retry-After (seconds or an HTTP date, at most <see cref="MaxWait"/>), a 5xx is retried with backoff (only for
/// requests that are safe to repeat; creates are retried by the tracker after a new lookup).
/// </summary>
public sealed class TicketHttp(HttpClient client, Uri baseUri, AuthenticationHeaderValue authorization, Func<TimeSpan, CancellationToken, Task>? delay = null)
{
    public const int MaxAttempts = 4;
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    private readonly Func<TimeSpan, CancellationToken, Task> _delay = delay ?? Task.Delay;

    /// <summary>Every wait the client made (for the log and for tests).</summary>
    public List<TimeSpan> Waits { get; } = [];

    public int Requests { get; private set; }

    public Uri BaseUri => baseUri;

    public Task WaitAsync(TimeSpan span, CancellationToken ct)
    {
        Waits.Add(span);
        return _delay(span, ct);
    }

    public async Task<JsonNode?> SendAsync(string method, string path, JsonNode? body, CancellationToken ct, bool retryServerErrors = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(baseUri.AbsoluteUri.TrimEnd('/') + path));
            request.Headers.Authorization = authorization;
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("VirtSecScan", JsonReportWriter.ToolVersion));
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            }

            Requests++;
            using var response = await client.SendAsync(request, ct).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
            }

            // 429 everywhere; GitHub signals its rate limits with 403 plus Retry-After or x-ratelimit-remaining: 0.
            var rateLimited = response.StatusCode == HttpStatusCode.TooManyRequests
                || (response.StatusCode == HttpStatusCode.Forbidden
                    && (response.Headers.RetryAfter is not null || (response.Headers.TryGetValues("x-ratelimit-remaining", out var left) && left.FirstOrDefault() == "0")));
            if (attempt < MaxAttempts && rateLimited)
            {
                await WaitAsync(RetryAfter(response) ?? Backoff(attempt), ct).ConfigureAwait(false);
                continue;
            }

            if (attempt < MaxAttempts && status >= 500 && retryServerErrors)
            {
                await WaitAsync(RetryAfter(response) ?? Backoff(attempt), ct).ConfigureAwait(false);
                continue;
            }

            throw new TicketHttpException(status, method, path, text.Length > 300 ? text[..300] + "…" : text);
        }
    }

    public static TimeSpan Backoff(int attempt) => TimeSpan.FromSeconds(Math.Pow(2, attempt - 1));

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        TimeSpan? wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (wait is null && response.Headers.TryGetValues("x-ratelimit-reset", out var reset)
            && long.TryParse(reset.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch))
        {
            wait = DateTimeOffset.FromUnixTimeSeconds(epoch) - DateTimeOffset.UtcNow;
        }

        if (wait is null)
        {
            return null;
        }

        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait;
    }
}
